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

void keep_property(message& m, const property& prop) {
    const property one[1] = {prop};
    const auto n = property_block_size(one, property_context::publish);
    if (!n) return;
    const auto at = m.properties.size();
    m.properties.resize(at + *n);
    (void)encode_property_block(one, property_context::publish,
                                std::span<std::byte>(m.properties).subspan(at));
    const auto v = decode_property_block(m.properties, property_context::publish);
    m.property_view = v ? *v : properties_view{};
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
        m->property_view = props;
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
