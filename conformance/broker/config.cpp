#include "config.hpp"
#include "text.hpp"

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <algorithm>
#include <limits>
#include <optional>
#include <system_error>
#include <utility>
#include <vector>

namespace mqttwire::broker {

namespace {

using namespace text;

// Decimal digits only (no sign, no spaces, no hex); false when empty, not all digits or > max.
// `overflow` tells "too large" apart from "not a number".
bool parse_unsigned(std::string_view s, std::uint64_t max, std::uint64_t& out, bool& overflow) {
    overflow = false;
    if (s.empty()) return false;
    for (const char c : s)
        if (c < '0' || c > '9') return false;
    std::uint64_t v = 0;
    const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec == std::errc::result_out_of_range || (ec == std::errc{} && v > max)) {
        overflow = true;
        return false;
    }
    if (ec != std::errc{} || ptr != s.data() + s.size()) return false;
    out = v;
    return true;
}

constexpr std::size_t max_included_files = 1000;
constexpr std::size_t max_included_bytes = 16u << 20;

// The whole file at `path`, at most `max_bytes`; false with `error` naming the file otherwise.
bool read_text(const std::string& path, std::size_t max_bytes, std::string& text,
               std::string& error) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (f == nullptr) {
        error = "cannot open " + text::quoted(path) + ": " + std::strerror(errno);
        return false;
    }
    char chunk[4096];
    std::size_t n = 0;
    while ((n = std::fread(chunk, 1, sizeof chunk, f)) > 0 && text.size() <= max_bytes)
        text.append(chunk, n);
    const bool read_error = std::ferror(f) != 0;
    const int read_errno = errno;
    std::fclose(f);
    if (read_error) {
        error = "cannot read " + text::quoted(path) + ": " + std::strerror(read_errno);
        return false;
    }
    if (text.size() > max_bytes) {
        error = text::quoted(path) + " is larger than " + std::to_string(max_bytes) + " bytes";
        return false;
    }
    return true;
}

class parser {
    // What the parser remembers about each listener block besides its listener_config.
    struct listener_block {
        std::size_t line = 0;            // of the `listener` line
        std::string first_tls_directive; // the first directive that asks for TLS
    };

    static constexpr std::string_view listener_directives[] = {"protocol",
                                                               "certfile",
                                                               "keyfile",
                                                               "cafile",
                                                               "capath",
                                                               "crlfile",
                                                               "ciphers",
                                                               "ciphers_tls1.3",
                                                               "tls_version",
                                                               "require_certificate",
                                                               "use_identity_as_username",
                                                               "use_subject_as_username"};

  public:
    parser(config& out, config_error& err) : out_(out), err_(err) {}

    /// `base_dir`: where a relative include_dir is looked up ("." or ending in '/').
    bool run(std::string_view text, std::string base_dir = ".") {
        out_ = config{};
        base_dir_ = std::move(base_dir);
        if (!lines(text)) return false;
        // mosquitto 2.0: false unless the file sets it, except in local-only mode (no listener).
        if (!anonymous_set_) out_.allow_anonymous = out_.listeners.empty();
        for (std::size_t i = 0; i < out_.listeners.size(); ++i)
            if (!check_listener(out_.listeners[i], blocks_[i])) return false;
        for (const auto& b : out_.bridges) {
            line_ = b.line;
            if (auto e = check_bridge(b); !e.empty()) return fail(std::move(e));
        }
        return true;
    }

  private:
    bool lines(std::string_view text) {
        std::size_t line_no = 0;
        while (!text.empty()) {
            ++line_no;
            const auto nl = text.find('\n');
            const auto raw = text.substr(0, nl);
            text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
            line_ = line_no;
            auto rest = trim(raw);
            if (rest.empty() || rest.front() == '#') continue;
            if (rest.find('\0') != std::string_view::npos) return fail("line contains a NUL byte");
            const auto directive = next_token(rest);
            if (!directive_line(directive, rest)) return false;
        }
        return true;
    }

    bool fail(std::string message) {
        err_.file = file_;
        err_.line = line_;
        err_.message = std::move(message);
        return false;
    }

    bool directive_line(std::string_view d, std::string_view args) {
        if (d == "listener") return listener(args);
        if (d == "per_listener_settings") return per_listener_settings(args);
        if (d == "allow_anonymous" || d == "password_file" || d == "acl_file")
            return security(d, args);
        if (is_listener_directive(d)) return listener_directive(d, args);
        if (d == "retain_available") return boolean(d, args, out_.retain_available);
        if (d == "topic_alias_out_replace") return boolean(d, args, out_.topic_alias_out_replace);
        if (d == "max_packet_size") {
            std::uint64_t v = 0;
            if (!number(d, args, 268'435'460u, v)) return false;
            // mosquitto.conf(5): "Setting below 20 bytes is forbidden". 0 keeps "no limit".
            if (v != 0 && v < 20)
                return fail("max_packet_size: " + std::to_string(v) +
                            " is below the minimum of 20 bytes (use 0 for no limit)");
            out_.max_packet_size = static_cast<std::uint32_t>(v);
            return true;
        }
        if (d == "max_inflight_messages") {
            std::uint64_t v = 0;
            if (!number(d, args, 65535u, v)) return false;
            out_.max_inflight_messages = static_cast<std::uint16_t>(v);
            return true;
        }
        if (d == "max_queued_messages") {
            std::uint64_t v = 0;
            if (!number(d, args,
                        static_cast<std::uint64_t>(std::numeric_limits<std::int32_t>::max()), v))
                return false;
            out_.max_queued_messages = static_cast<std::size_t>(v);
            return true;
        }
        if (d == "max_keepalive") {
            std::uint64_t v = 0;
            if (!number(d, args, 65535u, v)) return false;
            out_.max_keepalive = static_cast<std::uint16_t>(v);
            return true;
        }
        if (d == "max_connections") return max_connections(args);
        if (const auto parsed = bounds(d, args)) return *parsed;
        if (d == "persistent_client_expiration") return expiration(args);
        if (const auto e = parse_bridge_directive(d, args, line_, out_.bridges))
            return e->empty() || fail(*e);
        if (const auto parsed = dropin(d, args)) return *parsed;
        if (const auto parsed = persistence(d, args)) return *parsed;
        if (const auto why = unsupported(d); !why.empty())
            return fail(std::string(d) + ": not supported by mqttwire-broker (" +
                        std::string(why) + "); remove this line");
        return fail("unknown directive " + quoted(d));
    }

    // Exactly one blank-free argument.
    bool single(std::string_view d, std::string_view args, std::string_view what,
                std::string_view& value) {
        value = next_token(args);
        if (value.empty()) return fail(std::string(d) + ": missing " + std::string(what));
        if (!args.empty())
            return fail(std::string(d) + ": unexpected extra argument " + quoted(args));
        return true;
    }

    bool boolean(std::string_view d, std::string_view args, bool& out) {
        std::string_view v;
        if (!single(d, args, "value (true or false)", v)) return false;
        if (v == "true") {
            out = true;
        } else if (v == "false") {
            out = false;
        } else {
            return fail(std::string(d) + ": expected true or false, got " + quoted(v));
        }
        return true;
    }

    bool number(std::string_view d, std::string_view args, std::uint64_t max, std::uint64_t& out) {
        std::string_view v;
        if (!single(d, args, "number", v)) return false;
        bool overflow = false;
        if (parse_unsigned(v, max, out, overflow)) return true;
        if (overflow)
            return fail(std::string(d) + ": " + std::string(v) + " is out of range (0.." +
                        std::to_string(max) + ")");
        return fail(std::string(d) + ": expected a non-negative decimal number, got " + quoted(v));
    }

    // The rest of the line, as mosquitto's conf__parse_string takes it: paths may hold spaces.
    bool rest_of_line(std::string_view d, std::string_view args, std::string_view what,
                      std::string& out) {
        if (args.empty()) return fail(std::string(d) + ": missing " + std::string(what));
        if (!out.empty())
            return fail(std::string(d) + ": given more than once (first value " + text::quoted(out) +
                        ")");
        out.assign(args);
        return true;
    }

    bool path(std::string_view d, std::string_view args, std::string& out) {
        return rest_of_line(d, args, "path", out);
    }

    bool per_listener_settings(std::string_view args) {
        bool v = false;
        if (!boolean("per_listener_settings", args, v)) return false;
        // mosquitto refuses the same order ("must be set before any other security settings"):
        // the earlier lines would otherwise have gone to the wrong place.
        if (v && security_seen_)
            return fail("per_listener_settings: must come before any allow_anonymous, "
                        "password_file or acl_file line");
        out_.per_listener_settings = v;
        return true;
    }

    // allow_anonymous, password_file, acl_file: global, or per listener with
    // per_listener_settings true.
    bool security(std::string_view d, std::string_view args) {
        security_seen_ = true;
        bool* anonymous = &out_.allow_anonymous;
        std::string* password_file = &out_.password_file;
        std::string* acl_file = &out_.acl_file;
        if (out_.per_listener_settings) {
            if (out_.listeners.empty())
                return fail(std::string(d) +
                            ": with per_listener_settings true it must follow a 'listener' line");
            auto& l = out_.listeners.back();
            // Unset, it stays false: mosquitto's default once the file defines listeners.
            anonymous = &l.allow_anonymous;
            password_file = &l.password_file;
            acl_file = &l.acl_file;
        }
        if (d == "allow_anonymous") {
            if (!out_.per_listener_settings) anonymous_set_ = true;
            return boolean(d, args, *anonymous);
        }
        return path(d, args, d == "password_file" ? *password_file : *acl_file);
    }

    static bool is_listener_directive(std::string_view d) {
        for (const auto name : listener_directives)
            if (d == name) return true;
        return false;
    }

    bool listener_directive(std::string_view d, std::string_view args) {
        if (out_.listeners.empty())
            return fail(std::string(d) +
                        ": must follow a 'listener' line (this broker has no implicit default "
                        "listener to apply it to)");
        auto& l = out_.listeners.back();
        auto& block = blocks_.back();
        auto& tls = l.tls;
        bool asks_for_tls = true;
        bool ok = true;
        if (d == "protocol") {
            asks_for_tls = false;
            std::string_view v;
            if (!single(d, args, "value (mqtt or websockets)", v)) return false;
            if (v == "mqtt") {
                l.protocol = listener_protocol::mqtt;
            } else if (v == "websockets") {
                l.protocol = listener_protocol::websockets;
            } else {
                return fail("protocol: expected mqtt or websockets, got " + quoted(v));
            }
        } else if (d == "certfile" || d == "keyfile") {
            asks_for_tls = false;
            ok = path(d, args, d == "certfile" ? tls.certfile : tls.keyfile);
        } else if (d == "cafile") {
            ok = path(d, args, tls.cafile);
        } else if (d == "capath") {
            ok = path(d, args, tls.capath);
        } else if (d == "crlfile") {
            ok = path(d, args, tls.crlfile);
        } else if (d == "ciphers") {
            ok = rest_of_line(d, args, "cipher list", tls.ciphers);
        } else if (d == "ciphers_tls1.3") {
            ok = rest_of_line(d, args, "ciphersuite list", tls.ciphers_tls13);
        } else if (d == "tls_version") {
            ok = tls_version_value(args, tls.min_version);
        } else {
            bool& flag = d == "require_certificate"        ? tls.require_certificate
                         : d == "use_identity_as_username" ? tls.use_identity_as_username
                                                           : tls.use_subject_as_username;
            ok = boolean(d, args, flag);
            asks_for_tls = flag;
        }
        if (ok && asks_for_tls && block.first_tls_directive.empty())
            block.first_tls_directive.assign(d);
        return ok;
    }

    bool tls_version_value(std::string_view args, tls_version& out) {
        std::string_view v;
        if (!single("tls_version", args, "version (tlsv1.2 or tlsv1.3)", v)) return false;
        if (v == "tlsv1.2") {
            out = tls_version::tls1_2;
        } else if (v == "tlsv1.3") {
            out = tls_version::tls1_3;
        } else if (v == "tlsv1.1" || v == "tlsv1") {
            // mosquitto still accepts tlsv1.1; OpenSSL 3 refuses it at its default security
            // level, and no supported client needs it.
            return fail("tls_version: " + quoted(v) +
                        " is not supported (the minimum is tlsv1.2; use tlsv1.2 or tlsv1.3)");
        } else {
            return fail("tls_version: expected tlsv1.2 or tlsv1.3, got " + quoted(v));
        }
        return true;
    }

    // Settings that ask for TLS must get it (see config.hpp); reported at the listener's line.
    bool check_listener(const listener_config& l, const listener_block& block) {
        line_ = block.line;
        const auto name = "listener " + std::to_string(l.port) + ": ";
        const auto& tls = l.tls;
        if (!tls.certfile.empty() && tls.keyfile.empty())
            return fail(name + "certfile is set but keyfile is not (TLS needs both)");
        if (tls.certfile.empty() && !tls.keyfile.empty())
            return fail(name + "keyfile is set but certfile is not (TLS needs both)");
        if (!tls.enabled() && !block.first_tls_directive.empty())
            return fail(name + block.first_tls_directive +
                        " needs certfile and keyfile (TLS is off on this listener)");
        if (tls.require_certificate && tls.cafile.empty() && tls.capath.empty())
            return fail(name + "require_certificate true needs cafile or capath (the CAs that "
                               "issue client certificates)");
        const char* needs_certificate = !tls.crlfile.empty()           ? "crlfile"
                                        : tls.use_identity_as_username ? "use_identity_as_username"
                                        : tls.use_subject_as_username  ? "use_subject_as_username"
                                                                       : nullptr;
        if (needs_certificate != nullptr && !tls.require_certificate)
            return fail(name + needs_certificate +
                        " needs require_certificate true (otherwise no client certificate is "
                        "requested)");
        return true;
    }

    bool listener(std::string_view args) {
        const auto port_s = next_token(args);
        if (port_s.empty()) return fail("listener: missing port");
        const auto address = next_token(args);
        if (!args.empty()) return fail("listener: unexpected extra argument " + quoted(args));
        std::uint64_t port = 0;
        bool overflow = false;
        if (!parse_unsigned(port_s, 65535u, port, overflow) || port == 0)
            return fail("listener: port must be a number from 1 to 65535, got " + quoted(port_s));
        listener_config l;
        l.port = static_cast<std::uint16_t>(port);
        if (!address.empty()) l.address.assign(address);
        for (const auto& other : out_.listeners)
            if (other.port == l.port && other.address == l.address)
                return fail("listener: " + l.address + ":" + std::to_string(l.port) +
                            " is already defined");
        out_.listeners.push_back(std::move(l));
        blocks_.push_back({line_, {}});
        return true;
    }

    bool max_connections(std::string_view args) {
        std::string_view v;
        if (!single("max_connections", args, "number", v)) return false;
        if (v == "-1") {
            out_.max_connections = -1;
            return true;
        }
        std::uint64_t n = 0;
        bool overflow = false;
        const auto max = static_cast<std::uint64_t>(std::numeric_limits<std::int32_t>::max());
        if (!parse_unsigned(v, max, n, overflow)) {
            if (overflow)
                return fail("max_connections: " + std::string(v) + " is out of range (-1.." +
                            std::to_string(max) + ")");
            return fail("max_connections: expected -1 (unlimited) or a non-negative number, got " +
                        quoted(v));
        }
        out_.max_connections = static_cast<std::int64_t>(n);
        return true;
    }

    // The resource-bound directives: nullopt when `d` is not one of them, otherwise whether it
    // parsed.
    std::optional<bool> bounds(std::string_view d, std::string_view args) {
        const auto value = [&](std::uint64_t min, std::uint64_t max, std::uint64_t& v) {
            if (!number(d, args, max, v)) return false;
            if (v < min)
                return fail(std::string(d) + ": " + std::to_string(v) +
                            " is below the minimum of " + std::to_string(min));
            return true;
        };
        struct size_directive {
            std::string_view name;
            std::uint64_t min, max;
            std::size_t config::*field;
        };
        static constexpr std::uint64_t any = std::uint64_t{1} << 40;
        static constexpr size_directive sizes[] = {
            {"max_inflight_bytes", 0, any, &config::max_inflight_bytes},
            {"max_queued_bytes", 0, any, &config::max_queued_bytes},
            {"max_output_buffer", 1024, any, &config::max_output_buffer},
            {"max_topic_levels", 0, 65535, &config::max_topic_levels},
            {"max_subscriptions", 0, 2147483647, &config::max_subscriptions},
            {"max_subscription_bytes", 0, any, &config::max_subscription_bytes},
        };
        std::uint64_t v = 0;
        for (const auto& sd : sizes) {
            if (d != sd.name) continue;
            if (!value(sd.min, sd.max, v)) return false;
            out_.*sd.field = static_cast<std::size_t>(v);
            return true;
        }
        if (d == "message_size_limit") {
            if (!value(0, 268'435'455u, v)) return false;
            out_.message_size_limit = static_cast<std::uint32_t>(v);
            return true;
        }
        if (d == "max_connect_size") {
            if (!value(128, 268'435'460u, v)) return false;
            out_.max_connect_size = static_cast<std::uint32_t>(v);
            return true;
        }
        if (d == "max_topic_alias_out" || d == "topic_alias_out_min_length") {
            if (!value(0, 65535, v)) return false;
            (d == "max_topic_alias_out" ? out_.max_topic_alias_out
                                        : out_.topic_alias_out_min_length) =
                static_cast<std::uint16_t>(v);
            return true;
        }
        if (d == "slow_consumer_timeout") {
            if (!value(1, 86400, v)) return false;
            out_.slow_consumer_timeout = std::chrono::seconds(static_cast<std::int64_t>(v));
            return true;
        }
        if (d == "handshake_timeout") {
            if (!value(1, 3600, v)) return false;
            out_.handshake_timeout = std::chrono::seconds(static_cast<std::int64_t>(v));
            return true;
        }
        if (d == "queue_overflow") {
            std::string_view w;
            if (!single(d, args, "value (block or drop)", w)) return false;
            if (w != "block" && w != "drop")
                return fail("queue_overflow: expected block or drop, got " + quoted(w));
            out_.queue_overflow_drop = w == "drop";
            return true;
        }
        return std::nullopt;
    }

    // persistence, persistence_location, persistence_file, autosave_interval,
    // autosave_on_changes, persistence_sync: nullopt when `d` is none of them.
    std::optional<bool> persistence(std::string_view d, std::string_view args) {
        if (d == "persistence") return boolean(d, args, out_.persistence);
        if (d == "autosave_on_changes") return boolean(d, args, out_.autosave_on_changes);
        if (d == "persistence_sync") return boolean(d, args, out_.persistence_sync);
        if (d == "persistence_location") {
            if (args.empty()) return fail("persistence_location: missing directory");
            out_.persistence_location.assign(args);
            return true;
        }
        if (d == "persistence_file") {
            if (args.empty()) return fail("persistence_file: missing file name");
            if (args.find('/') != std::string_view::npos)
                return fail("persistence_file: " + quoted(args) +
                            " is a path; give a file name and the directory with "
                            "persistence_location");
            out_.persistence_file.assign(args);
            return true;
        }
        if (d == "autosave_interval") {
            std::uint64_t v = 0;
            if (!number(d, args, 2147483647u, v)) return false;
            out_.autosave_interval = std::chrono::seconds(static_cast<std::int64_t>(v));
            return true;
        }
        return std::nullopt;
    }

    // mosquitto's format (conf.c, "persistent_client_expiration"): an integer immediately followed
    // by h (hour), d (day), w (7 days), m (30 days) or y (365 days); the result must be > 0.
    bool expiration(std::string_view args) {
        constexpr std::string_view d = "persistent_client_expiration";
        std::string_view v;
        if (!single(d, args, "duration (e.g. 14d)", v)) return false;
        std::uint64_t unit = 0;
        switch (v.back()) {
        case 'h': unit = 3600; break;
        case 'd': unit = 86400; break;
        case 'w': unit = 86400ull * 7; break;
        case 'm': unit = 86400ull * 30; break;
        case 'y': unit = 86400ull * 365; break;
        default:
            return fail(std::string(d) + ": " + quoted(v) +
                        " must be a number followed by h, d, w, m or y (e.g. 14d)");
        }
        const auto digits = v.substr(0, v.size() - 1);
        std::uint64_t n = 0;
        bool overflow = false;
        // Bound so that n * unit fits comfortably in std::chrono::seconds' int64 range.
        constexpr std::uint64_t max_n = 1'000'000'000ull;
        if (!parse_unsigned(digits, max_n, n, overflow)) {
            if (overflow) return fail(std::string(d) + ": " + quoted(v) + " is too long");
            return fail(std::string(d) + ": " + quoted(v) +
                        " must be a number followed by h, d, w, m or y (e.g. 14d)");
        }
        if (n == 0) return fail(std::string(d) + ": the duration must be greater than zero");
        out_.persistent_client_expiration =
            std::chrono::seconds(static_cast<std::int64_t>(n * unit));
        return true;
    }

    // The directives of a mosquitto.conf that a drop-in replacement must take (start-up, logging,
    // $SYS, client identifiers): nullopt when `d` is not one of them.
    std::optional<bool> dropin(std::string_view d, std::string_view args) {
        if (d == "include_dir") return include_dir(args);
        if (d == "pid_file") return replace_path(d, args, out_.pid_file);
        if (d == "user") {
            std::string_view v;
            if (!single(d, args, "user name", v)) return false;
            out_.user.assign(v);
            return true;
        }
        if (d == "log_dest") return log_dest(args);
        if (d == "log_type") {
            std::string_view v;
            if (!single(d, args, "type", v)) return false;
            const auto bits = log_type_bits(v);
            if (bits == 0 && v != "none")
                return fail("log_type: expected error, warning, notice, information, subscribe, "
                            "unsubscribe, websockets, debug, all or none, got " +
                            quoted(v));
            // The first log_type line replaces the default set; later ones add to it.
            if (!log_type_set_) out_.log_types = 0;
            log_type_set_ = true;
            out_.log_types |= bits;
            return true;
        }
        if (d == "log_timestamp") return boolean(d, args, out_.log_timestamp);
        if (d == "log_timestamp_format") {
            if (args.empty()) return fail("log_timestamp_format: missing format");
            out_.log_timestamp_format.assign(args);
            return true;
        }
        if (d == "connection_messages") return boolean(d, args, out_.connection_messages);
        if (d == "sys_interval") return seconds(d, args, 65535u, out_.sys_interval);
        if (d == "set_tcp_nodelay") return boolean(d, args, out_.set_tcp_nodelay);
        if (d == "check_retain_source") return boolean(d, args, out_.check_retain_source);
        if (d == "allow_zero_length_clientid")
            return boolean(d, args, out_.allow_zero_length_clientid);
        if (d == "auto_id_prefix") {
            std::string_view v;
            if (!single(d, args, "prefix", v)) return false;
            // A client identifier is at most 65535 bytes with the generated part after it.
            if (v.size() > 1024) return fail("auto_id_prefix: longer than 1024 bytes");
            out_.auto_id_prefix.assign(v);
            return true;
        }
        if (d == "allow_duplicate_messages" || d == "retry_interval" ||
            d == "store_clean_interval") {
            // Accepted and ignored by mosquitto 2.0 as well ("no longer used").
            out_.warnings.push_back(std::string(d) + " has no effect (as in mosquitto 2.0)");
            return true;
        }
        return std::nullopt;
    }

    bool seconds(std::string_view d, std::string_view args, std::uint64_t max,
                 std::chrono::seconds& out) {
        std::uint64_t v = 0;
        if (!number(d, args, max, v)) return false;
        out = std::chrono::seconds(static_cast<std::int64_t>(v));
        return true;
    }

    // A path that a later line replaces (as mosquitto does for these).
    bool replace_path(std::string_view d, std::string_view args, std::string& out) {
        if (args.empty()) return fail(std::string(d) + ": missing path");
        out.assign(args);
        return true;
    }

    bool log_dest(std::string_view args) {
        const auto kind = next_token(args);
        std::uint32_t bits = 0;
        if (kind == "file") {
            if (args.empty()) return fail("log_dest file: missing path");
            out_.log_file.assign(args);
            bits = log_dest_file;
        } else {
            if (!args.empty())
                return fail("log_dest: unexpected extra argument " + quoted(args));
            if (kind == "stdout") bits = log_dest_stdout;
            else if (kind == "stderr") bits = log_dest_stderr;
            else if (kind == "syslog") bits = log_dest_syslog;
            else if (kind == "topic") bits = log_dest_topic;
            else if (kind == "none") bits = 0;
            else if (kind.empty()) return fail("log_dest: missing destination");
            else
                return fail("log_dest: expected stdout, stderr, file PATH, syslog, topic or "
                            "none, got " + quoted(kind));
        }
        // The first log_dest line replaces the default (stderr); `none` clears what came before.
        if (!log_dest_set_ || kind == "none") out_.log_dests = 0;
        log_dest_set_ = true;
        out_.log_dests |= bits;
        return true;
    }

    // mosquitto's order: case-insensitive first, then case (so "b.conf" < "C.conf" < "c.conf").
    static bool include_order(const std::string& a, const std::string& b) {
        const auto upper = [](unsigned char c) { return c >= 'a' && c <= 'z' ? c - 32 : c; };
        const std::size_t n = std::min(a.size(), b.size());
        for (std::size_t i = 0; i < n; ++i) {
            const auto ca = static_cast<unsigned char>(a[i]);
            const auto cb = static_cast<unsigned char>(b[i]);
            if (upper(ca) != upper(cb)) return upper(ca) < upper(cb);
            if (ca != cb) return ca < cb;
        }
        return a.size() < b.size();
    }

    bool include_dir(std::string_view args) {
        if (args.empty()) return fail("include_dir: missing directory");
        if (!file_.empty())
            return fail("include_dir: only allowed in the main configuration file");
        std::string dir(args);
        if (dir.front() != '/' && base_dir_ != ".") dir = base_dir_ + dir;
        std::error_code ec;
        std::vector<std::string> names;
        for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end;
             it.increment(ec)) {
            const auto name = it->path().filename().string();
            if (name.size() <= 5 || !name.ends_with(".conf")) continue;
            // Not a directory, a FIFO that would block start-up, ...: a mistake worth stopping for.
            if (std::error_code type_ec; !it->is_regular_file(type_ec))
                return fail("include_dir: " + text::quoted(it->path().string()) +
                            " is not a regular file");
            names.push_back(name);
            if (names.size() > max_included_files)
                return fail("include_dir: more than " + std::to_string(max_included_files) +
                            " .conf files in " + text::quoted(dir));
        }
        if (ec) return fail("include_dir: cannot read " + text::quoted(dir) + ": " + ec.message());
        std::sort(names.begin(), names.end(), include_order);
        const std::size_t include_line = line_;
        for (const auto& name : names) {
            const std::string path = dir + (dir.back() == '/' ? "" : "/") + name;
            std::string text;
            std::string error;
            if (!read_text(path, max_included_bytes, text, error))
                return fail("include_dir: " + error);
            file_ = path;
            const bool ok = lines(text);
            if (!ok) return false; // err_ names the included file and its line
            file_.clear();
            line_ = include_line;
        }
        return true;
    }

    // What mosquitto accepts and this broker does not do: refused by name, with why.
    static std::string_view unsupported(std::string_view d) {
        constexpr std::string_view plugin = "plugins cannot be loaded; use password_file and acl_file";
        struct entry {
            std::string_view name;
            bool prefix;
            std::string_view why;
        };
        static constexpr entry known[] = {
            {"plugin", false, plugin},
            {"plugin_opt_", true, plugin},
            {"global_plugin", false, plugin},
            {"plugin_load", false, plugin},
            {"plugin_use", false, plugin},
            {"auth_plugin", false, plugin},
            {"auth_plugin_deny_special_chars", false, plugin},
            {"auth_opt_", true, plugin},
            {"psk_file", false, "TLS-PSK is not implemented"},
            {"psk_hint", false, "TLS-PSK is not implemented"},
            {"http_dir", false, "the WebSocket listener serves no files"},
            {"websockets_log_level", false, "no libwebsockets inside"},
            {"websockets_headers_size", false, "no libwebsockets inside"},
            {"mount_point", false, "not implemented"},
            {"bind_interface", false, "not implemented"},
            {"socket_domain", false, "not implemented"},
            {"bind_address", false, "use 'listener PORT ADDRESS'"},
            {"port", false, "use 'listener PORT'"},
            {"use_username_as_clientid", false, "not implemented"},
            {"clientid_prefixes", false, "not implemented"},
            {"max_qos", false, "not implemented"},
            {"max_topic_alias", false, "not implemented"},
            {"queue_qos0_messages", false, "not implemented"},
            {"upgrade_outgoing_qos", false, "not implemented"},
            {"memory_limit", false, "not implemented"},
            {"log_facility", false, "not implemented"},
            {"accept_protocol_versions", false, "not implemented"},
            {"tls_engine", false, "not implemented"},
            {"tls_keyform", false, "not implemented"},
            {"tls_engine_kpass_sha1", false, "not implemented"},
            {"dhparamfile", false, "not implemented"},
            {"connection", false, "this bridge directive is not implemented"},
            {"address", false, "this bridge directive is not implemented"},
            {"addresses", false, "this bridge directive is not implemented"},
            {"bridge_", true, "this bridge directive is not implemented"},
            {"remote_", true, "this bridge directive is not implemented"},
            {"local_", true, "this bridge directive is not implemented"},
            {"notification", true, "this bridge directive is not implemented"},
            {"try_private", false, "this bridge directive is not implemented"},
            {"cleansession", false, "this bridge directive is not implemented"},
            {"restart_timeout", false, "this bridge directive is not implemented"},
            {"keepalive_interval", false, "this bridge directive is not implemented"},
            {"start_type", false, "this bridge directive is not implemented"},
            {"round_robin", false, "this bridge directive is not implemented"},
            {"idle_timeout", false, "this bridge directive is not implemented"},
            {"threshold", false, "this bridge directive is not implemented"},
            {"topic", false, "this bridge directive is not implemented"},
        };
        for (const auto& e : known)
            if (e.prefix ? d.starts_with(e.name) : d == e.name) return e.why;
        return {};
    }

    config& out_;
    config_error& err_;
    std::size_t line_ = 0;
    std::string base_dir_ = ".";
    std::string file_; // the included file being read; empty: the main one
    bool log_type_set_ = false;
    bool log_dest_set_ = false;
    bool anonymous_set_ = false; // the global allow_anonymous was given
    bool security_seen_ = false;
    std::vector<listener_block> blocks_; // parallel to out_.listeners
};

// `base_dir` is "." or ends with '/'.
std::string resolve_relative(const std::string& base_dir, const std::string& p) {
    if (p.empty() || p.front() == '/') return p;
    if (base_dir == ".") return p;
    return base_dir + p;
}

} // namespace

bool parse_config(std::string_view text, config& out, config_error& err) {
    parser p(out, err);
    return p.run(text);
}

bool load_config(const std::string& path, config& out, config_error& err) {
    std::string text;
    std::string error;
    if (!read_text(path, std::numeric_limits<std::size_t>::max() / 2, text, error)) {
        err.file.clear();
        err.line = 0;
        err.message = error;
        return false;
    }
    const auto slash = path.rfind('/');
    const std::string dir =
        slash == std::string::npos ? std::string(".") : path.substr(0, slash + 1);
    parser reader(out, err);
    if (!reader.run(text, dir)) return false;
    out.password_file = resolve_relative(dir, out.password_file);
    out.acl_file = resolve_relative(dir, out.acl_file);
    for (auto* f : {&out.pid_file, &out.log_file, &out.persistence_location})
        *f = resolve_relative(dir, *f);
    for (auto& l : out.listeners) {
        for (auto* p : {&l.password_file, &l.acl_file, &l.tls.cafile, &l.tls.capath,
                        &l.tls.certfile, &l.tls.keyfile, &l.tls.crlfile})
            *p = resolve_relative(dir, *p);
    }
    for (auto& b : out.bridges)
        for (auto* p : {&b.cafile, &b.capath, &b.certfile, &b.keyfile}) *p = resolve_relative(dir, *p);
    return true;
}

security_settings listener_security(const config& cfg, const listener_config& listener) {
    // Without listeners in the file (local-only mode) nothing can be per listener.
    if (!cfg.per_listener_settings || cfg.listeners.empty())
        return {cfg.allow_anonymous, cfg.password_file, cfg.acl_file};
    return {listener.allow_anonymous, listener.password_file, listener.acl_file};
}

} // namespace mqttwire::broker
