// The client set shared by client_v311.cpp and client_v5.cpp: encode CONNECT, SUBSCRIBE and
// PUBLISH; frame and decode CONNACK, SUBACK, PUBLISH and PUBACK. At 5.0 the client also sends a
// Session Expiry Interval and a Message Expiry Interval and reads the CONNACK limits and the
// reason codes, which coremqtt/client_v5.c does too. Every field comes from the opaque input and
// every result reaches the volatile sink.
//
// The program is written as a device would write it: its codec_profile says which levels it
// speaks and that it is a client (so nothing of the server side or of the other level is
// instantiated), the framer finds each packet and `decode<P>` decodes the four types it handles.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <variant>

#include <mqttwire/framer.hpp>
#include <mqttwire/packet.hpp>

#include "footprint.h"

namespace footprint {

using namespace mqttwire;

inline std::span<const std::byte> input() { return std::as_bytes(std::span(footprint_input)); }

// Up to 63 input bytes at an input-chosen offset: a topic, a client identifier, a payload.
inline std::span<const std::byte> bytes(unsigned at) {
    return input().subspan(footprint_byte(at) % 128u, footprint_byte(at + 1) % 64u);
}
inline utf8_view text(unsigned at) { return utf8_view(bytes(at)); }
inline binary_view data(unsigned at) { return binary_view(bytes(at)); }
inline qos qos_at(unsigned at) { return static_cast<qos>(footprint_byte(at) % 3u); }
inline std::uint16_t id_at(unsigned at) {
    return static_cast<std::uint16_t>(footprint_byte(at) + 1u);
}

inline void sent(result<std::size_t> n, std::span<const std::byte> out) {
    footprint_use(n ? *n + static_cast<unsigned>(out[0]) : static_cast<unsigned>(n.error()));
}

template <protocol_version V>
inline constexpr codec_profile profile =
    V == protocol_version::v5 ? client_v5_profile : client_v3_profile;

template <protocol_version V> void send_all() {
    constexpr bool v5 = V == protocol_version::v5;
    std::array<std::byte, 256> out{};

    connect_view c;
    c.clean_start = (footprint_byte(0) & 1u) != 0;
    c.keep_alive = static_cast<std::uint16_t>(footprint_byte(1));
    c.client_id = text(2);
    if ((footprint_byte(0) & 2u) != 0) {
        c.user_name = text(4);
        c.password = data(6);
    }
    if ((footprint_byte(0) & 4u) != 0)
        c.will = will_view{qos_at(8), (footprint_byte(0) & 8u) != 0, text(10), data(12), {}};
    const property session[] = {{property_id::session_expiry_interval, footprint_byte(24)}};
    if constexpr (v5) c.properties = session;
    sent(encode<profile<V>>(c, V, out), out);

    const subscription subs[] = {{text(14), {qos_at(16)}}};
    subscribe_view s;
    s.packet_id = id_at(17);
    s.subscriptions = subs;
    sent(encode<profile<V>>(s, V, out), out);

    publish_view p;
    p.qos = qos_at(18);
    p.retain = (footprint_byte(18) & 4u) != 0;
    p.topic = text(19);
    p.packet_id = p.qos == qos::at_most_once ? 0 : id_at(21);
    p.payload = data(22);
    const property expiry[] = {{property_id::message_expiry_interval, footprint_byte(25)}};
    if constexpr (v5) p.properties = expiry;
    sent(encode<profile<V>>(p, V, out), out);
}

// Decodes the frame `f` at the start of `in` as a `P` and hands it to `use`; false on an error.
template <class P, codec_profile Profile, class F>
bool take(std::span<const std::byte> in, const frame& f, const decode_options& opts, F use) {
    const auto r = decode<P, Profile>(in, f, opts);
    if (!r) {
        footprint_use(static_cast<unsigned>(r.error()));
        return false;
    }
    use(*r);
    return true;
}

template <protocol_version V> void receive_all() {
    constexpr bool v5 = V == protocol_version::v5;
    constexpr codec_profile pr = profile<V>;
    const decode_options opts{
        .version = V, .max_packet_size = FOOTPRINT_INPUT_SIZE, .sender = peer_role::server};
    auto rest = input();
    for (;;) {
        const auto f = next_frame(rest, opts);
        if (f.status != errc::success) return footprint_use(static_cast<unsigned>(f.status));
        bool ok = false;
        switch (f.type) {
        case packet_type::connack:
            ok = take<connack_view, pr>(rest, f, opts, [](const connack_view& a) {
                footprint_use(static_cast<unsigned>(a.reason) + (a.session_present ? 256u : 0u));
                if constexpr (v5) {
                    footprint_use(a.properties.integer_or(property_id::receive_maximum, 65535));
                    footprint_use(a.properties.integer_or(property_id::maximum_packet_size, 0));
                    footprint_use(a.properties.integer_or(property_id::topic_alias_maximum, 0));
                }
            });
            break;
        case packet_type::suback:
            ok = take<suback_view, pr>(rest, f, opts, [](const suback_view& s) {
                footprint_use(s.packet_id);
                for (const auto code : s.reasons) footprint_use(static_cast<unsigned>(code));
            });
            break;
        case packet_type::publish:
            ok = take<publish_view, pr>(rest, f, opts, [](const publish_view& p) {
                footprint_use(p.packet_id + static_cast<unsigned>(p.qos) + (p.retain ? 4u : 0u));
                footprint_use(p.topic.size() + p.payload.size());
                if (!p.payload.empty()) footprint_use(static_cast<unsigned>(p.payload.bytes()[0]));
            });
            break;
        case packet_type::puback:
            ok = take<puback_view, pr>(rest, f, opts, [](const puback_view& k) {
                footprint_use(k.packet_id + (v5 ? static_cast<unsigned>(k.reason) << 16 : 0u));
            });
            break;
        default: footprint_use(static_cast<unsigned>(f.type)); // not part of this client set
        }
        if (!ok) return;
        rest = rest.subspan(f.size);
    }
}

} // namespace footprint
