#pragma once
// PUBLISHes to a client, through its session (mqttwire::server): owned messages, decoded ones
// forwarded as they are (QoS 0), and copies of a PUBLISH the router encoded once for many
// subscribers. The session allocates the packet identifiers of QoS 1/2 PUBLISHes, replaces
// topics by aliases where the client allows them (MQTT5-3.3.2-12) and keeps its Maximum Packet
// Size and Receive Maximum.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include <mqttwire.hpp>

#include "core/connection_table.hpp"
#include "core/log.hpp"
#include "core/message.hpp"
#include "stats/statistics.hpp"

namespace mqttwire::broker {

enum class write_result : std::uint8_t {
    written,
    too_large, ///< over the client's Maximum Packet Size: discarded as if delivered (MQTT5-3.1.2-25)
    expired,   ///< its Message Expiry Interval passed (MQTT5-3.3.2-5)
    no_room,   ///< not now: the output buffer, the send quota or a resend in progress
    failed,    ///< could not be encoded
};

/// What a write did, and the packet identifier the session gave a QoS 1/2 PUBLISH.
struct write_outcome {
    write_result result = write_result::failed;
    std::uint16_t packet_id = 0;
};

/// The PUBLISH of an owned message as it goes to one subscriber: its forwarded properties, what
/// remains of its Message Expiry Interval (MQTT5-3.3.2-6) and the Subscription Identifiers.
/// `props` holds the properties. Null when the message expired (a DUP resend still goes out:
/// its packet identifier is in use and the client may already hold it).
[[nodiscard]] const publish_view* publish_of(const message& m, mqttwire::qos q, bool retain,
                                             bool dup, std::span<const std::uint32_t> sub_ids,
                                             clock::time_point now, std::vector<property>& props,
                                             publish_view& out);

class packet_writer {
  public:
    packet_writer(connection_table& conns, statistics& stats, const logger& log)
        : conns_(conns), stats_(stats), log_(log) {}

    /// A PUBLISH of an owned message; QoS 1/2 get a packet identifier from the session.
    write_outcome publish(connection& c, const message& m, mqttwire::qos q, bool retain,
                          std::span<const std::uint32_t> sub_ids, clock::time_point now);

    /// A QoS 0 PUBLISH of a decoded message that was not copied, with its per-hop properties
    /// replaced.
    write_result publish_view_of(connection& c, const publish_view& live, std::string_view topic,
                                 bool retain, std::span<const std::uint32_t> sub_ids,
                                 clock::time_point now);

    /// A PUBLISH encoded by the router (without Topic Alias, DUP 0).
    write_outcome copy(connection& c, std::span<const std::byte> encoded, clock::time_point now);

  private:
    write_outcome finish(connection& c, const result<std::uint16_t>& r);

    connection_table& conns_;
    statistics& stats_;
    const logger& log_;
    std::vector<property> props_; // scratch, reused so writing does not allocate once warm
};

} // namespace mqttwire::broker
