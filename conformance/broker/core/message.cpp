#include "core/message.hpp"

#include <chrono>

namespace mqttwire::broker {

namespace {

constexpr std::uint64_t bit(property_id id) { return std::uint64_t{1} << static_cast<unsigned>(id); }

// Properties of a PUBLISH that are about the hop, not the message: never forwarded as received.
constexpr std::uint64_t per_hop = bit(property_id::topic_alias) |
                                  bit(property_id::subscription_identifier) |
                                  bit(property_id::message_expiry_interval);

} // namespace

// The codec has no public call that encodes a single property, so this is the one place outside
// include/ that uses its internal writer; it becomes a call to the public property encoder
// once the codec offers one.
void keep_property(message& m, const property& prop) {
    detail::counting_sink cs;
    detail::writer<detail::counting_sink> cw(cs);
    (void)detail::write_property(cw, prop);
    const auto at = m.properties.size();
    m.properties.resize(at + cs.count);
    detail::span_sink ss{std::span<std::byte>(m.properties).subspan(at)};
    detail::writer<detail::span_sink> sw(ss);
    (void)detail::write_property(sw, prop);
    ++m.property_count;
    m.property_mask |= bit(prop.id);
}

message_ptr own_message(const publish_view& p, std::string_view topic, clock::time_point now) {
    auto m = std::make_shared<message>();
    m->topic.assign(topic);
    const auto pb = p.payload.bytes();
    m->payload.assign(pb.begin(), pb.end());
    m->qos = p.qos;
    m->retain = p.retain;
    const auto& props = p.properties;
    if (props.is_wire() && !props.contains(property_id::topic_alias) &&
        !props.contains(property_id::subscription_identifier) &&
        !props.contains(property_id::message_expiry_interval)) {
        // Nothing per hop in it: the validated block is forwarded as it came.
        const auto w = props.wire();
        m->properties.assign(w.begin(), w.end());
        m->property_count = props.size();
        for (const auto& prop : props) m->property_mask |= bit(prop.id);
        return m;
    }
    for (const auto& prop : props) {
        if ((bit(prop.id) & per_hop) == 0) {
            keep_property(*m, prop);
        } else if (prop.id == property_id::message_expiry_interval) {
            m->expires = now + std::chrono::seconds(prop.integer);
        }
    }
    return m;
}

} // namespace mqttwire::broker
