// A server's use of the codec: frame and decode every packet a server receives (CONNECT,
// PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP, SUBSCRIBE, UNSUBSCRIBE, PINGREQ, DISCONNECT, AUTH) at
// every protocol level (3.1, 3.1.1, 5.0, chosen by the input), reading every field, entry and
// property. The server profile leaves out the decoders of what only a client receives. coreMQTT is
// a client library and decodes none of CONNECT, SUBSCRIBE, UNSUBSCRIBE or AUTH as a server, so this
// program has no coreMQTT counterpart.
#include <cstddef>
#include <cstdint>
#include <span>
#include <variant>

#include <mqttwire/framer.hpp>
#include <mqttwire/packet.hpp>

#include "footprint.h"

namespace {

using namespace mqttwire;

void use(const utf8_view& t) { footprint_use(t.size()); }
void use(const binary_view& b) { footprint_use(b.size()); }
void use(const properties_view& props) {
    for (const auto& p : props)
        footprint_use(static_cast<unsigned>(p.id) + p.integer + p.string.size());
}
template <class Ack> void use_ack(const Ack& a) {
    footprint_use(a.packet_id + (static_cast<unsigned>(a.reason) << 16));
    use(a.properties);
}

void use(const packet_view& packet) {
    if (const auto* c = std::get_if<connect_view>(&packet)) {
        footprint_use(static_cast<unsigned>(c->version) + (c->clean_start ? 8u : 0u) +
                      c->keep_alive);
        use(c->client_id);
        if (c->will) {
            footprint_use(static_cast<unsigned>(c->will->qos) + (c->will->retain ? 4u : 0u));
            use(c->will->topic);
            use(c->will->payload);
            use(c->will->properties);
        }
        if (c->user_name) use(*c->user_name);
        if (c->password) use(*c->password);
        use(c->properties);
    } else if (const auto* p = std::get_if<publish_view>(&packet)) {
        footprint_use(p->packet_id + static_cast<unsigned>(p->qos) + (p->retain ? 4u : 0u) +
                      (p->dup ? 8u : 0u));
        use(p->topic);
        use(p->payload);
        use(p->properties);
    } else if (const auto* a = std::get_if<puback_view>(&packet)) {
        use_ack(*a);
    } else if (const auto* r = std::get_if<pubrec_view>(&packet)) {
        use_ack(*r);
    } else if (const auto* l = std::get_if<pubrel_view>(&packet)) {
        use_ack(*l);
    } else if (const auto* m = std::get_if<pubcomp_view>(&packet)) {
        use_ack(*m);
    } else if (const auto* s = std::get_if<subscribe_view>(&packet)) {
        footprint_use(s->packet_id);
        for (const auto& e : s->subscriptions) {
            use(e.filter);
            footprint_use(e.options.to_byte());
        }
        use(s->properties);
    } else if (const auto* u = std::get_if<unsubscribe_view>(&packet)) {
        footprint_use(u->packet_id);
        for (const auto& f : u->filters) use(f);
        use(u->properties);
    } else if (std::get_if<pingreq_view>(&packet) != nullptr) {
        footprint_use(12);
    } else if (const auto* d = std::get_if<disconnect_view>(&packet)) {
        footprint_use(static_cast<unsigned>(d->reason));
        use(d->properties);
    } else if (const auto* x = std::get_if<auth_view>(&packet)) {
        footprint_use(static_cast<unsigned>(x->reason));
        use(x->properties);
    }
}

} // namespace

int main() {
    footprint_fill();
    const decode_options opts{.version = static_cast<protocol_version>(3u + footprint_byte(0) % 3u),
                              .max_packet_size = FOOTPRINT_INPUT_SIZE,
                              .sender = peer_role::client};
    std::span<const std::byte> rest = std::as_bytes(std::span(footprint_input));
    for (;;) {
        const auto f = next_frame(rest, opts);
        if (f.status != errc::success) break;
        const auto r = decode_frame<server_profile>(rest, f, opts);
        if (!r) break;
        use(*r);
        rest = rest.subspan(f.size);
    }
    return 0;
}
