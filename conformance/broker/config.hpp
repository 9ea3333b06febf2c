#pragma once
/// @file
/// @brief The reference broker's configuration file: a subset of mosquitto.conf(5).
///
/// One directive per line, its arguments separated by spaces or tabs; lines whose first
/// non-blank character is `#` and blank lines are ignored; trailing whitespace (and a CR before
/// the LF) is tolerated. Supported directives:
///
/// | directive | arguments | notes |
/// | --- | --- | --- |
/// | `listener` | `PORT [ADDRESS]` | PORT 1..65535; ADDRESS defaults to 127.0.0.1; repeatable |
/// | `allow_anonymous` | `true\|false` | see below for the default |
/// | `password_file` | `PATH` | rest of the line (may contain spaces); at most once |
/// | `acl_file` | `PATH` | rest of the line (may contain spaces); at most once |
/// | `max_packet_size` | `N` | 0 (no limit) or 20..268435460 (mosquitto forbids < 20) |
/// | `max_inflight_messages` | `N` | 0..65535, 0 = no limit |
/// | `max_queued_messages` | `N` | 0..2147483647, 0 = no limit |
/// | `max_keepalive` | `N` | 0..65535 |
/// | `retain_available` | `true\|false` | |
/// | `persistent_client_expiration` | `DURATION` | N > 0, then h, d, w, m (30 d) or y (365 d) |
/// | `max_connections` | `N` | -1 (unlimited) or 0..2147483647 |
/// | `max_inflight_bytes` | `N` | bytes, 0 = no limit |
/// | `max_queued_bytes` | `N` | bytes, 0 = no limit |
/// | `message_size_limit` | `N` | payload bytes, 0 (no limit) .. 268435455 |
/// | `max_output_buffer` | `N` | bytes, 1024 .. 2^40 (our own directive) |
/// | `slow_consumer_timeout` | `SECONDS` | 1 .. 86400 (our own) |
/// | `queue_overflow` | `block\|drop` | (our own) |
/// | `handshake_timeout` | `SECONDS` | TLS handshake and WebSocket upgrade, 1 .. 3600 (our own) |
/// | `max_topic_levels` | `N` | 0 = no limit (our own) |
/// | `max_subscriptions` | `N` | per client, 0 = no limit (our own) |
/// | `max_subscription_bytes` | `N` | per client, 0 = no limit (our own) |
/// | `max_connect_size` | `N` | bytes before CONNECT is accepted, 128 .. 268435460 (our own) |
/// | `max_topic_alias_out` | `N` | topic aliases to a 5.0 client, 0 (none) .. 65535 (our own) |
/// | `topic_alias_out_min_length` | `N` | shorter topics go by name, 0 .. 65535 (our own) |
/// | `topic_alias_out_replace` | `true\|false` | all aliases taken: least recently used reassigned (our own) |
/// | `per_listener_settings` | `true\|false` | before allow_anonymous, password_file, acl_file |
/// | `include_dir` | `DIR` | the `*.conf` files of DIR in byte order; main file only |
/// | `pid_file` | `PATH` | written at start-up (see main.cpp), removed at exit |
/// | `user` | `NAME` | started as root: run as NAME once listeners and logs are open |
/// | `log_dest` | `stdout\|stderr\|syslog\|topic\|none\|file PATH` | repeatable; default stderr |
/// | `log_type` | `TYPE` | repeatable; the names of logging/log_type.hpp, `all`, `none` |
/// | `log_timestamp` | `true\|false` | default true |
/// | `log_timestamp_format` | `FORMAT` | strftime(3), rest of the line; default: seconds since 1970 |
/// | `connection_messages` | `true\|false` | default true |
/// | `sys_interval` | `SECONDS` | 0..65535, 0 = no `$SYS` topics; default 10 |
/// | `set_tcp_nodelay` | `true\|false` | default false |
/// | `check_retain_source` | `true\|false` | default false |
/// | `allow_zero_length_clientid` | `true\|false` | default true |
/// | `auto_id_prefix` | `PREFIX` | default `auto-` |
/// | `persistence` | `true\|false` | keep retained messages and persistent sessions on disk |
/// | `persistence_location` | `DIR` | rest of the line; default: the working directory |
/// | `persistence_file` | `NAME` | file name in persistence_location, default `mqttwire.store` |
/// | `autosave_interval` | `SECONDS` | 0 .. 2^31-1; accepted, see below |
/// | `autosave_on_changes` | `true\|false` | accepted, see below |
/// | `persistence_sync` | `true\|false` | fdatasync before acknowledging (our own) |
///
/// mosquitto directives this broker knows but does not implement (plugins, `auth_plugin` and
/// `auth_opt_*`, dynamic security, PSK, ...) stop start-up with a
/// message naming them rather than "unknown directive", so a user sees what to remove.
///
/// **Persistence.** mosquitto saves a snapshot every `autosave_interval` seconds (or changes);
/// this broker appends every event-loop turn's changes to its store before it acknowledges them
/// (store/durable_broker_store.hpp), so neither autosave directive decides when anything is
/// saved: they are accepted (range-checked) so that mosquitto configurations start unchanged.
/// The default file name is our own, not mosquitto's `mosquitto.db`: a configuration taken over
/// from mosquitto keeps its `persistence_location`, and our store must neither overwrite nor be
/// confused with mosquitto's file there. A `persistence_file` that names a mosquitto database
/// stops start-up with a message saying so. A relative `persistence_location` is resolved
/// against the configuration file's directory, like the other paths.
///
/// Per-listener directives apply to the `listener` line above them; before any `listener` line
/// they fail (mosquitto would configure its implicit default listener, which this broker does
/// not have):
///
/// | directive | arguments | notes |
/// | --- | --- | --- |
/// | `protocol` | `mqtt\|websockets` | default mqtt |
/// | `certfile` | `PATH` | PEM server certificate, then its intermediates (full chain) |
/// | `keyfile` | `PATH` | PEM private key of certfile, unencrypted |
/// | `cafile` | `PATH` | PEM CA certificates trusted for client certificates |
/// | `capath` | `PATH` | directory of CA certificates, hashed by `openssl rehash` |
/// | `crlfile` | `PATH` | PEM revocation list checked against client certificates |
/// | `require_certificate` | `true\|false` | clients must present a trusted certificate |
/// | `use_identity_as_username` | `true\|false` | the client certificate's CN is the user name |
/// | `use_subject_as_username` | `true\|false` | its subject (RFC 2253) is the user name |
/// | `tls_version` | `tlsv1.2\|tlsv1.3` | the minimum version (default tlsv1.2) |
/// | `ciphers` | `LIST` | OpenSSL cipher list for TLS 1.2 |
/// | `ciphers_tls1.3` | `LIST` | OpenSSL ciphersuites for TLS 1.3 |
///
/// Bridge blocks: a `connection NAME` line starts one, like `listener` starts a listener block;
/// the bridge directives after it configure that bridge (bridge/README.md lists them):
///
/// | directive | arguments | notes |
/// | --- | --- | --- |
/// | `connection` | `NAME` | starts a bridge block; names are unique |
/// | `address` | `HOST[:PORT] ...` | port 1883 by default; several: the next after a failure |
/// | `topic` | `PATTERN [in\|out\|both [QOS [LOCAL_PREFIX REMOTE_PREFIX]]]` | repeatable; `""` is empty |
/// | `remote_username`, `remote_password` | `VALUE` | CONNECT's user name and password |
/// | `remote_clientid`, `local_clientid` | `ID` | default `<host name>.<NAME>`, `local.<remote id>` |
/// | `cleansession` | `true\|false` | default false |
/// | `bridge_protocol_version` | `mqttv31\|mqttv311\|mqttv50` | default mqttv311 |
/// | `try_private` | `true\|false` | default true: CONNECT level 0x83 / 0x84 before 5.0 |
/// | `notifications` | `true\|false` | default true; `notification_topic TOPIC` |
/// | `restart_timeout` | `BASE [CAP]` | seconds; backoff from BASE to CAP (default 5 30), or constant |
/// | `keepalive_interval` | `SECONDS` | 5..65535, default 60 |
/// | `bridge_cafile`, `bridge_capath` | `PATH` | TLS to the remote broker, checked against these CAs |
/// | `bridge_certfile`, `bridge_keyfile` | `PATH` | client certificate; only with a CA directive |
/// | `bridge_insecure` | `true\|false` | no host name check; only with a CA directive |
///
/// Other mosquitto bridge directives stop start-up naming the directive.
///
/// With `per_listener_settings true`, `allow_anonymous`, `password_file` and `acl_file` are
/// per-listener directives too (mosquitto.conf(5)); otherwise they apply to every listener.
/// Path directives take the rest of the line and may be given once per listener. A listener's
/// TLS settings must be consistent: certfile and keyfile together; every other TLS directive
/// only with them; require_certificate needs cafile or capath; use_identity_as_username and
/// use_subject_as_username need require_certificate (without it no client certificate is ever
/// requested, so every client would be refused). mosquitto ignores such settings silently and
/// serves plain MQTT; a configuration that asks for TLS and would not get it stops start-up here,
/// at the line of its `listener`. Certificate and key files are not opened by the parser: the
/// broker opens them when it builds each listener's TLS context at start-up, and a missing or
/// unreadable file stops it there (see net/tls_context.hpp).
///
/// Anything else (unknown directives, missing, extra or malformed arguments, out-of-range
/// numbers, a second password_file/acl_file) fails with the 1-based line number and a message
/// naming the directive. A scalar directive given twice keeps the last value, as in mosquitto.
///
/// **allow_anonymous default.** mosquitto 2.0 (mosquitto.conf(5), "allow_anonymous"): when a
/// configuration file is used and does not set it, it "defaults to false, unless no listeners
/// are defined in the configuration file, in which case it is set to true, but connections are
/// only allowed from the local machine" (checked against mosquitto 2.0.11: a file with only
/// `listener 18884 127.0.0.1` refuses anonymous clients with CONNACK 5; a file without a
/// listener accepts them on the local-only default listener). parse_config mirrors exactly that:
/// `allow_anonymous` = (file says so) ? value : listeners.empty(). With no configuration file at
/// all the broker keeps the struct default (true) and listens on 127.0.0.1 only.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "logging/log_type.hpp"
#include "bridge/bridge_config.hpp"

namespace mqttwire::broker {

/// The minimum TLS protocol version of a listener (`tls_version`).
enum class tls_version : std::uint8_t { tls1_2, tls1_3 };

/// Certificate-based TLS settings of one listener, with mosquitto's directive names.
struct tls_settings {
    std::string cafile;   ///< empty: none
    std::string capath;   ///< empty: none
    std::string certfile; ///< empty: TLS off
    std::string keyfile;  ///< empty: TLS off
    std::string crlfile;  ///< empty: no revocation check
    bool require_certificate = false;
    bool use_identity_as_username = false;
    bool use_subject_as_username = false;
    tls_version min_version = tls_version::tls1_2;
    std::string ciphers;       ///< TLS 1.2 cipher list; empty: OpenSSL's default
    std::string ciphers_tls13; ///< TLS 1.3 ciphersuites; empty: OpenSSL's default

    /// @brief TLS is on: both certfile and keyfile are set (as in mosquitto).
    [[nodiscard]] bool enabled() const noexcept { return !certfile.empty() && !keyfile.empty(); }
};

/// What a listener speaks above TCP (or TLS): `protocol mqtt|websockets`.
enum class listener_protocol : std::uint8_t { mqtt, websockets };

/// One `listener PORT [ADDRESS]` line and the per-listener directives that follow it.
struct listener_config {
    /// A plain MQTT listener; `{port, address}` keeps meaning what it did before the
    /// per-listener settings existed.
    listener_config(std::uint16_t p = 1883, std::string a = "127.0.0.1")
        : port(p), address(std::move(a)) {}

    std::uint16_t port = 1883;
    std::string address = "127.0.0.1";
    listener_protocol protocol = listener_protocol::mqtt;
    tls_settings tls;
    /// The next three are used only with `per_listener_settings true` (see listener_security).
    bool allow_anonymous = false;
    std::string password_file; ///< empty: none
    std::string acl_file;      ///< empty: none
};

/// Where log lines go (`log_dest`), a bit each.
inline constexpr std::uint32_t log_dest_stdout = 1u << 0;
inline constexpr std::uint32_t log_dest_stderr = 1u << 1;
inline constexpr std::uint32_t log_dest_file = 1u << 2;
inline constexpr std::uint32_t log_dest_syslog = 1u << 3;
inline constexpr std::uint32_t log_dest_topic = 1u << 4;

/// The parsed configuration. Defaults are mosquitto 2.0's.
struct config {
    std::vector<listener_config> listeners;   ///< empty: the command line's -p PORT on 127.0.0.1
    bool allow_anonymous = true;              ///< see the file comment for the default
    std::string password_file;                ///< empty: none
    std::string acl_file;                     ///< empty: none
    std::uint32_t max_packet_size = 0;        ///< 0: the protocol maximum
    std::uint16_t max_inflight_messages = 20; ///< 0: no limit (mosquitto semantics)
    std::size_t max_queued_messages = 1000;   ///< 0: no limit (mosquitto semantics)
    std::uint16_t max_keepalive = 65535;
    bool retain_available = true;
    std::optional<std::chrono::seconds> persistent_client_expiration; ///< none: never expire
    std::int64_t max_connections = -1;                                ///< -1: unlimited

    // Resource bounds (core/settings.hpp explains each; defaults are the broker's).
    std::size_t max_inflight_bytes = 0;
    std::size_t max_queued_bytes = 64u << 20;
    std::uint32_t message_size_limit = 0;
    std::size_t max_output_buffer = 8u << 20;
    std::chrono::seconds slow_consumer_timeout{30};
    /// From accept until the TLS handshake and the WebSocket upgrade are done.
    std::chrono::seconds handshake_timeout{10};
    bool queue_overflow_drop = false; ///< queue_overflow drop (default: block)
    std::size_t max_topic_levels = 200;
    std::size_t max_subscriptions = 10000;
    std::size_t max_subscription_bytes = 1u << 20;
    std::uint32_t max_connect_size = 256 * 1024;
    std::uint16_t max_topic_alias_out = 64;
    std::uint16_t topic_alias_out_min_length = 8;
    bool topic_alias_out_replace = false;
    /// true: allow_anonymous, password_file and acl_file are per listener.
    bool per_listener_settings = false;

    // Start-up, logging and $SYS (mosquitto.conf(5) meanings and defaults).
    std::string pid_file; ///< empty: none
    std::string user;     ///< empty: keep the user the broker was started as
    std::uint32_t log_dests = log_dest_stderr; ///< log_dest_* bits; 0: log nowhere
    std::string log_file;                      ///< `log_dest file PATH`
    std::uint32_t log_types = default_log_types; ///< log_type bits (logging/log_type.hpp)
    bool log_timestamp = true;
    std::string log_timestamp_format; ///< empty: seconds since 1970, as mosquitto
    bool connection_messages = true;
    std::chrono::seconds sys_interval{10}; ///< 0: no $SYS topics
    bool set_tcp_nodelay = false;
    bool check_retain_source = false;
    bool allow_zero_length_clientid = true;
    std::string auto_id_prefix = "auto-";

    /// Lines that were accepted but do nothing (printed at start-up).
    std::vector<std::string> warnings;

    // Persistence (see the table above).
    bool persistence = false;
    std::string persistence_location; ///< empty: the working directory
    std::string persistence_file = "mqttwire.store";
    std::chrono::seconds autosave_interval{1800};
    bool autosave_on_changes = false;
    bool persistence_sync = false;
    /// @brief persistence_location joined with persistence_file.
    [[nodiscard]] std::string persistence_path() const {
        if (persistence_location.empty()) return persistence_file;
        return persistence_location.back() == '/' ? persistence_location + persistence_file
                                                  : persistence_location + "/" + persistence_file;
    }
    /// `connection` blocks: outgoing bridges.
    std::vector<bridge_config> bridges;
};

/// The authentication and access settings that apply to one listener.
struct security_settings {
    bool allow_anonymous = true;
    std::string password_file; ///< empty: none
    std::string acl_file;      ///< empty: none
};

/// @brief The settings in force on `listener`: its own with `per_listener_settings true`, the
/// global ones otherwise. A listener added from the command line (-p) is not in the file; with
/// per-listener settings it gets mosquitto's per-listener defaults (allow_anonymous false when
/// the file defines listeners, no password or ACL file).
[[nodiscard]] security_settings listener_security(const config& cfg,
                                                  const listener_config& listener);

/// Why a configuration was refused. `line` is 1-based; 0 means the file as a whole (e.g. it
/// cannot be opened).
struct config_error {
    std::string file; ///< an included file (include_dir); empty: the file given to the broker
    std::size_t line = 0;
    std::string message;
};

/// @brief Parses configuration text into `out` (which is reset to the defaults first).
/// @return true on success; false with `err` set (and `out` unspecified) otherwise.
/// Relative paths (password_file, acl_file and the TLS files) are kept as written.
[[nodiscard]] bool parse_config(std::string_view text, config& out, config_error& err);

/// @brief Reads and parses the file at `path`.
///
/// Relative paths (`password_file`, `acl_file`, the TLS files, `include_dir`, `pid_file`, the log
/// file, `persistence_location`) are resolved against the directory holding the configuration
/// file. mosquitto resolves them against its working
/// directory instead; we deliberately differ because the broker is started from many places (a
/// service manager, a test harness in a build tree, a user's shell) and a configuration that
/// works from one directory and silently points elsewhere from another is a trap. Absolute
/// paths, which is what mosquitto's documentation recommends, behave identically in both.
/// @return false with `err.line == 0` when the file cannot be read.
[[nodiscard]] bool load_config(const std::string& path, config& out, config_error& err);

} // namespace mqttwire::broker
