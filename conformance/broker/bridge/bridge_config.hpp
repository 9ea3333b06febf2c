#pragma once
// The bridge blocks of the configuration file: mosquitto's bridge directives (mosquitto.conf(5),
// "Configuring Bridges"). A `connection NAME` line starts a block; the directives after it, up
// to the next `connection` line, configure that bridge. bridge/README.md lists them.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mqttwire::broker {

/// Which way a `topic` line carries messages.
enum class bridge_direction : std::uint8_t {
    out, ///< local subscribers' messages go to the remote broker (mosquitto's default)
    in,  ///< the remote broker's messages are published locally
    both,
};

/// One `topic PATTERN [in|out|both [QOS [LOCAL_PREFIX REMOTE_PREFIX]]]` line. The filter on
/// the local side is local_prefix + pattern, on the remote side remote_prefix + pattern; a
/// message crossing the bridge has the one prefix replaced by the other.
struct bridge_topic {
    std::string pattern; ///< may be empty (`""`) when a prefix names the topic
    bridge_direction direction = bridge_direction::out;
    std::uint8_t qos = 0;
    std::string local_prefix;
    std::string remote_prefix;

    [[nodiscard]] std::string local_filter() const { return local_prefix + pattern; }
    [[nodiscard]] std::string remote_filter() const { return remote_prefix + pattern; }
    [[nodiscard]] bool carries_in() const noexcept { return direction != bridge_direction::out; }
    [[nodiscard]] bool carries_out() const noexcept { return direction != bridge_direction::in; }
};

/// One `address` entry: host name or IPv4 address, and port (default 1883).
struct bridge_address {
    std::string host;
    std::uint16_t port = 1883;
};

enum class bridge_protocol : std::uint8_t { mqttv31, mqttv311, mqttv50 };

/// One `connection` block. Defaults are mosquitto 2.0's.
struct bridge_config {
    std::string name;
    std::size_t line = 0; ///< of the `connection` line, for messages
    /// Tried in order; the next one after a failure (round robin).
    std::vector<bridge_address> addresses;
    std::vector<bridge_topic> topics;
    std::optional<std::string> remote_username;
    std::optional<std::string> remote_password;
    std::string remote_clientid; ///< empty: "<host name>.<connection name>"
    std::string local_clientid;  ///< empty: "local.<remote client id>"
    bool cleansession = false;
    bridge_protocol protocol = bridge_protocol::mqttv311;
    /// Before 5.0, CONNECT says "bridge" (levels 0x83 / 0x84) so the remote broker does not
    /// send back what the bridge published (and keeps RETAIN as published).
    bool try_private = true;
    /// `$SYS/broker/connection/<remote client id>/state`: "1" while connected, "0" otherwise,
    /// retained, on both brokers (the remote one gets "0" through the bridge's will).
    bool notifications = true;
    std::string notification_topic; ///< empty: the default above
    /// Reconnection delay: exponential backoff with jitter from `restart_base` up to
    /// `restart_cap` (`restart_timeout BASE CAP`), or a constant delay (`restart_timeout N`).
    std::chrono::seconds restart_base{5};
    std::chrono::seconds restart_cap{30};
    bool restart_constant = false;
    std::uint16_t keepalive_interval = 60;
    // TLS to the remote broker: on with bridge_cafile or bridge_capath (as in mosquitto);
    // bridge_certfile and bridge_keyfile add a client certificate; bridge_insecure skips the
    // host name check (the chain is still verified).
    std::string cafile;
    std::string capath;
    std::string certfile;
    std::string keyfile;
    bool insecure = false;

    /// Some TLS directive was given.
    [[nodiscard]] bool wants_tls() const noexcept {
        return tls_enabled() || !certfile.empty() || !keyfile.empty() || insecure;
    }
    /// TLS is on: the CAs for the remote broker's certificate are named.
    [[nodiscard]] bool tls_enabled() const noexcept { return !cafile.empty() || !capath.empty(); }
};

/// @brief Parses one line of a bridge block. `bridges` gets a new entry for `connection`; the
/// other directives apply to its last entry.
/// @return nullopt when `directive` is not a bridge directive; otherwise an empty string when
/// the line was taken, or the message to fail with.
[[nodiscard]] std::optional<std::string>
parse_bridge_directive(std::string_view directive, std::string_view args, std::size_t line,
                       std::vector<bridge_config>& bridges);

/// @brief The checks that need the whole block (an address and a topic at least, consistent
/// TLS settings, client id lengths for MQTT 3.1). Empty when it holds; otherwise the message.
[[nodiscard]] std::string check_bridge(const bridge_config& b);

} // namespace mqttwire::broker
