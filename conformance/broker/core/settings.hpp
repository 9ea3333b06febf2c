#pragma once
// What the broker is allowed to spend and accept: every per-client resource has a bound here,
// in bytes as well as in items, with a default that is safe for an anonymous client
// (configuration directives in config.hpp, documented in the README's configuration table).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "logging/log_type.hpp"

namespace mqttwire::broker {

class password_file;
class acl_file;

using clock = std::chrono::steady_clock;
using conn_id = std::uint64_t;

/// Log lines go through this (the server prints them to stderr).
using log_sink = std::function<void(std::string_view)>;
/// Log lines with their type (logging/log_type.hpp), for configured destinations.
using typed_log_sink = std::function<void(log_type, std::string_view)>;

/// What happens to a QoS 1/2 message for an online subscriber whose queue is full.
enum class queue_overflow : std::uint8_t {
    /// Stop reading the publishers feeding it until the queue has room again; the subscriber is
    /// disconnected when it makes no progress for slow_consumer_timeout. Nothing acknowledged
    /// to a publisher is lost for an online subscriber.
    block,
    /// Drop the message for that subscriber (counted, logged once per episode).
    drop,
};

/// @brief The authentication and access rules of one listener (`per_listener_settings true`):
/// connections accepted on it are checked against these instead of the broker-wide ones in
/// `settings`. Owned by the caller, and must outlive the broker.
struct listener_policy {
    bool allow_anonymous = true;
    const password_file* passwords = nullptr; ///< null: no password file
    const acl_file* acl = nullptr;            ///< null: everything allowed
};

struct settings {
    // Policy.
    bool allow_anonymous = true;
    const password_file* passwords = nullptr; ///< null: no password file
    const acl_file* acl = nullptr;            ///< null: everything allowed
    bool retain_available = true;

    // Packets in. The input buffer of a connection holds at most one packet plus one read, so
    // max_packet_size is also its bound.
    std::uint32_t max_packet_size = 0;          ///< 0: the protocol maximum
    std::uint32_t message_size_limit = 0;       ///< PUBLISH payload bytes; 0: no limit
    std::uint32_t max_connect_size = 256 * 1024; ///< any packet before CONNECT is accepted
    std::chrono::seconds connect_timeout{10};   ///< a connection that sends no CONNECT is dropped
    std::uint16_t topic_alias_maximum = 10;     ///< what the broker accepts from 5.0 clients
    std::uint16_t receive_maximum = 65535;      ///< QoS 2 PUBLISHes a 5.0 client may leave open
    /// Topic aliases the broker uses in PUBLISHes to a 5.0 client that allows them (at most its
    /// Topic Alias Maximum; 0: none), for topics of at least topic_alias_out_min_length bytes
    /// and at most topic_alias_out_slot_bytes. Once all are taken, new topics go by name, or
    /// with topic_alias_out_replace take the least recently used alias (which costs bytes when
    /// more topics than aliases are cycled: each PUBLISH then sets an alias). Memory per such
    /// client: up to max_topic_alias_out * (slot bytes + 12).
    std::uint16_t max_topic_alias_out = 64;
    std::uint16_t topic_alias_out_min_length = 8;
    std::uint16_t topic_alias_out_slot_bytes = 128;
    bool topic_alias_out_replace = false;
    std::uint16_t max_keepalive = 65535;

    // Topics and subscriptions, per client.
    std::size_t max_topic_levels = 200;              ///< topic names and filters; 0: no limit
    std::size_t max_subscriptions = 10000;           ///< filters per client; 0: no limit
    std::size_t max_subscription_bytes = 1u << 20;   ///< sum of filter lengths; 0: no limit

    // Messages out, per client. A message goes queue -> in flight -> output buffer -> socket.
    std::uint16_t max_inflight_messages = 20; ///< 0: the client's Receive Maximum (or 65535)
    std::size_t max_inflight_bytes = 0;       ///< 0: no byte limit (one message always fits)
    std::size_t max_queued_messages = 1000;   ///< QoS 1/2 beyond those in flight; 0: no limit
    std::size_t max_queued_bytes = 64u << 20; ///< 0: no byte limit
    queue_overflow overflow = queue_overflow::block;
    /// Bytes encoded for a client and not yet taken by its socket. QoS 0 messages beyond it are
    /// dropped for that client; QoS 1/2 wait in the queue; its own requests stop being read.
    std::size_t max_output_buffer = 8u << 20;
    /// A client over its output or queue bound that makes no progress for this long is
    /// disconnected (5.0: DISCONNECT 0x97 Quota exceeded, when it can still be written). It stays
    /// watched until it has read its output down to half of max_output_buffer.
    std::chrono::milliseconds slow_consumer_timeout{30000};

    std::optional<std::chrono::seconds> persistent_client_expiration;
    bool verbose = false;

    // Logging, $SYS and client identifiers (mosquitto.conf(5) meanings).
    /// When set, every log line goes here with its type instead of the broker's log_sink (which
    /// then only gets -v's lines); `log_types` says which types are built at all.
    typed_log_sink typed_log;
    std::uint32_t log_types = default_log_types;
    /// "New client connected from ..." and "Client ... disconnected." lines (notice).
    bool connection_messages = true;
    /// `$SYS/broker/...` topics are published (retained) this often; 0: never.
    std::chrono::seconds sys_interval{0};
    bool allow_zero_length_clientid = true;
    std::string auto_id_prefix = "mqttwire-"; ///< before the number of an assigned identifier
};

} // namespace mqttwire::broker
