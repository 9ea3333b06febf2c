#pragma once
// Encoding packets into a connection's output buffer: acknowledgements and control packets,
// PUBLISHes of owned messages, and copies of a PUBLISH the router encoded once for many
// subscribers.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

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
    failed,    ///< could not be encoded
};

class packet_writer {
  public:
    packet_writer(connection_table& conns, statistics& stats, const logger& log)
        : conns_(conns), stats_(stats), log_(log) {}

    /// Any packet but an application PUBLISH. Responses to a client's own requests are always
    /// written: its input stops being read while its output is over the bound, which bounds them.
    template <class P> void send(connection& c, const P& p) {
        encode_options eo;
        eo.sender = peer_role::server;
        if (c.client_max_packet != 0) eo.max_packet_size = c.client_max_packet;
        const auto size = encoded_size(p, c.version, eo);
        if (!size) {
            log_.info("internal: cannot encode a " + std::string(packet_type_name(P::type)) +
                      ": " + std::string(errc_name(size.error())));
            return;
        }
        const auto dst = c.out.extend(*size);
        if (!encode(p, c.version, dst, eo)) {
            c.out.drop_back(*size);
            return;
        }
        ++stats_.packets_sent;
        conns_.mark_dirty(c);
    }

    /// A PUBLISH of an owned message. A DUP resend of an expired message still goes out: its
    /// packet identifier is in use and the client may already hold it.
    write_result publish(connection& c, const message& m, mqttwire::qos q, bool retain, bool dup,
                         std::uint16_t packet_id, std::span<const std::uint32_t> sub_ids,
                         clock::time_point now);

    /// A PUBLISH of a decoded message that was not copied (QoS 0), with its per-hop
    /// properties replaced.
    write_result publish_view_of(connection& c, const publish_view& live, std::string_view topic,
                                 bool retain, std::span<const std::uint32_t> sub_ids);

    /// A PUBLISH encoded by the router; `id_at` is where its packet identifier goes (QoS > 0).
    /// 5.0 clients that allow Topic Aliases get it rewritten with one (encoded once still).
    void copy(connection& c, std::span<const std::byte> encoded, std::size_t id_at,
              std::uint16_t packet_id);

  private:
    write_result finish(connection& c, publish_view p);
    // The encode-once copy with a Topic Alias, when the client's aliases choose one; id_at is
    // moved to where the packet identifier is in the aliased form.
    bool copy_aliased(connection& c, std::span<const std::byte> encoded, std::size_t& id_at);

    connection_table& conns_;
    statistics& stats_;
    const logger& log_;
    std::vector<property> props_; // scratch, reused so writing does not allocate once warm
};

} // namespace mqttwire::broker
