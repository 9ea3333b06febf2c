#include "protocol/output.hpp"

#include <algorithm>
#include <chrono>
#include <string>

namespace mqttwire::broker {

const publish_view* publish_of(const message& m, mqttwire::qos q, bool retain, bool dup,
                               std::span<const std::uint32_t> sub_ids, clock::time_point now,
                               std::vector<property>& props, publish_view& out) {
    props.clear();
    for (const auto& prop : m.forwarded_properties()) props.push_back(prop);
    if (m.expires) {
        // MQTT5-3.3.2-6: the forwarded Message Expiry Interval is what remains.
        const auto left = std::chrono::ceil<std::chrono::seconds>(*m.expires - now).count();
        if (left <= 0 && !dup) return nullptr;
        props.push_back({property_id::message_expiry_interval,
                         static_cast<std::uint32_t>(std::max<long long>(left, 1))});
    }
    for (auto id : sub_ids) props.push_back({property_id::subscription_identifier, id});
    out = publish_view{};
    out.dup = dup;
    out.qos = q;
    out.retain = retain;
    out.topic = utf8_view(m.topic);
    out.packet_id = q == mqttwire::qos::at_most_once ? 0 : 1;
    out.payload = binary_view(std::span<const std::byte>(m.payload));
    out.properties = std::span<const property>(props);
    return &out;
}

write_outcome packet_writer::finish(connection& c, const result<std::uint16_t>& r) {
    if (!r) {
        switch (r.error()) {
        case errc::would_block: return {write_result::no_room, 0};
        case errc::packet_too_large: return {write_result::too_large, 0}; // MQTT5-3.1.2-25
        default:
            log_.info("internal: cannot send a PUBLISH: " + std::string(errc_name(r.error())));
            return {write_result::failed, 0};
        }
    }
    ++stats_.publish_sent;
    const auto n = c.proto.take_packet_counts();
    stats_.packets_sent += n.sent;
    stats_.packets_received += n.received;
    conns_.mark_dirty(c);
    return {write_result::written, *r};
}

write_outcome packet_writer::publish(connection& c, const message& m, mqttwire::qos q,
                                     bool retain, std::span<const std::uint32_t> sub_ids,
                                     clock::time_point now) {
    publish_view p;
    if (publish_of(m, q, retain, false, sub_ids, now, props_, p) == nullptr)
        return {write_result::expired, 0};
    return finish(c, c.proto.publish(p, session_time(now)));
}

write_result packet_writer::publish_view_of(connection& c, const publish_view& live,
                                            std::string_view topic, bool retain,
                                            std::span<const std::uint32_t> sub_ids,
                                            clock::time_point now) {
    props_.clear();
    for (const auto& prop : live.properties)
        if (prop.id != property_id::topic_alias && prop.id != property_id::subscription_identifier)
            props_.push_back(prop);
    for (auto id : sub_ids) props_.push_back({property_id::subscription_identifier, id});
    publish_view out = live;
    out.dup = false; // MQTT-3.3.1-3 / MQTT5-3.3.1-3
    out.qos = mqttwire::qos::at_most_once;
    out.retain = retain;
    out.packet_id = 0;
    out.topic = utf8_view(topic); // the alias, if any, resolved
    out.properties = std::span<const property>(props_);
    return finish(c, c.proto.publish(out, session_time(now))).result;
}

write_outcome packet_writer::copy(connection& c, std::span<const std::byte> encoded,
                                  clock::time_point now) {
    return finish(c, c.proto.publish_encoded(encoded, session_time(now)));
}

} // namespace mqttwire::broker
