#include "protocol/output.hpp"

#include <algorithm>
#include <chrono>

namespace mqttwire::broker {

write_result packet_writer::finish(connection& c, publish_view p) {
    // props_ holds p's properties (both publish paths build them there), so a Topic Alias is
    // one more entry.
    const auto topic = p.topic.bytes();
    topic_alias_choice alias{};
    if (c.aliases_out) alias = c.aliases_out->choose(topic);
    const auto by_name = [&] {
        if (alias.alias == 0) return;
        c.aliases_out->not_sent(topic);
        alias = {};
        props_.pop_back();
        p.topic = utf8_view(topic);
        p.properties = std::span<const property>(props_);
    };
    if (alias.alias != 0) {
        props_.push_back({property_id::topic_alias, alias.alias}); // MQTT5-3.3.2-12
        p.properties = std::span<const property>(props_);
        if (!alias.with_topic) p.topic = {};
    }
    auto size = encoded_size(p, c.version);
    if (alias.alias != 0 && (!size || (c.client_max_packet != 0 && *size > c.client_max_packet))) {
        by_name(); // setting the alias made it too large: by name, if that fits
        size = encoded_size(p, c.version);
    }
    if (!size) return write_result::failed;
    if (c.client_max_packet != 0 && *size > c.client_max_packet)
        return write_result::too_large; // MQTT5-3.1.2-24, MQTT5-3.1.2-25
    const auto dst = c.out.extend(*size);
    if (!encode(p, c.version, dst)) {
        c.out.drop_back(*size);
        by_name();
        return write_result::failed;
    }
    ++stats_.packets_sent;
    ++stats_.publish_sent;
    conns_.mark_dirty(c);
    return write_result::written;
}

write_result packet_writer::publish(connection& c, const message& m, mqttwire::qos q, bool retain,
                                    bool dup, std::uint16_t packet_id,
                                    std::span<const std::uint32_t> sub_ids,
                                    clock::time_point now) {
    props_.clear();
    for (const auto& prop : m.forwarded_properties()) props_.push_back(prop);
    if (m.expires) {
        // MQTT5-3.3.2-6: the forwarded Message Expiry Interval is what remains.
        const auto left = std::chrono::ceil<std::chrono::seconds>(*m.expires - now).count();
        if (left <= 0 && !dup) return write_result::expired;
        props_.push_back({property_id::message_expiry_interval,
                          static_cast<std::uint32_t>(std::max<long long>(left, 1))});
    }
    for (auto id : sub_ids) props_.push_back({property_id::subscription_identifier, id});
    publish_view p;
    p.dup = dup;
    p.qos = q;
    p.retain = retain;
    p.topic = utf8_view(m.topic);
    p.packet_id = packet_id;
    p.payload = binary_view(std::span<const std::byte>(m.payload));
    p.properties = std::span<const property>(props_);
    return finish(c, p);
}

write_result packet_writer::publish_view_of(connection& c, const publish_view& live,
                                            std::string_view topic, bool retain,
                                            std::span<const std::uint32_t> sub_ids) {
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
    return finish(c, out);
}

void packet_writer::copy(connection& c, std::span<const std::byte> encoded, std::size_t id_at,
                         std::uint16_t packet_id) {
    const auto at = c.out.size();
    if (!c.aliases_out || !copy_aliased(c, encoded, id_at)) c.out.append(encoded);
    if (packet_id != 0) {
        const auto dst = c.out.mutable_tail(at + id_at);
        dst[0] = static_cast<std::byte>(packet_id >> 8);
        dst[1] = static_cast<std::byte>(packet_id & 0xFF);
    }
    ++stats_.packets_sent;
    ++stats_.publish_sent;
    conns_.mark_dirty(c);
}

bool packet_writer::copy_aliased(connection& c, std::span<const std::byte> encoded,
                                 std::size_t& id_at) {
    const auto layout = read_publish_layout(encoded);
    if (!layout) return false;
    const auto topic = encoded.subspan(layout->topic_at, layout->topic_size);
    const auto alias = c.aliases_out->choose(topic);
    if (alias.alias == 0) return false;
    const auto size = aliased_publish_size(encoded, *layout, alias);
    if (!size || (c.client_max_packet != 0 && size->size > c.client_max_packet)) {
        c.aliases_out->not_sent(topic); // by name: the router checked that size
        return false;
    }
    const auto dst = c.out.extend(size->size);
    if (!write_aliased_publish(encoded, *layout, alias, dst)) { // unreachable: measured above
        c.out.drop_back(size->size);
        c.aliases_out->not_sent(topic);
        return false;
    }
    id_at = size->id_at;
    return true;
}

} // namespace mqttwire::broker
