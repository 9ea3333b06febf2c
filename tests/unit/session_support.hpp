#pragma once
// Helpers for the session-layer tests: annotated bytes into a connection, its output as hex,
// events as short text.

#include <gtest/gtest.h>

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <mqttwire/session.hpp>

#include "test_support.hpp"

namespace mqttwire::test {

using namespace std::chrono_literals;
using ms = std::chrono::milliseconds;

// Small limits, so that tests can reach every one of them.
using small_storage = fixed_storage<session_limits{.inflight = 4,
                                                   .requests = 2,
                                                   .inbound_qos2 = 4,
                                                   .input_bytes = 512,
                                                   .output_bytes = 512,
                                                   .resend_bytes = 1024,
                                                   .aliases_in = 4,
                                                   .alias_bytes_in = 256,
                                                   .aliases_out = 2,
                                                   .alias_bytes_out = 128}>;

// Feeds annotated hex ("30 05 # PUBLISH QoS 0 ...") to `c`; all of it must fit.
template <class C> void in(C& c, std::string_view annotated_hex) {
    const auto bytes = annotated(annotated_hex);
    EXPECT_EQ(c.feed(bytes), bytes.size()) << "input buffer full";
}

// The output written so far, as canonical hex, marked written.
template <class C> std::string out(C& c) {
    const auto o = c.output();
    auto s = to_hex(o);
    c.output_written(o.size());
    return s;
}

// An application message with `topic` and `payload` sent by `c` at time 0.
template <class C>
result<std::uint16_t> publish_text(C& c, qos q, std::string_view topic, std::string_view payload) {
    publish_view p;
    p.qos = q;
    p.topic = topic;
    p.payload = payload;
    return c.publish(p, 0ms);
}

// A client's 3.1.1 CONNECT: clean session, keep-alive 60 s, client id "pc".
inline constexpr std::string_view connect_311 = "10 0e 00 04 4d 51 54 54 04 02 00 3c 00 02 70 63";
// The same at 5.0, without properties.
inline constexpr std::string_view plain_connect_5 =
    "10 0f 00 04 4d 51 54 54 05 02 00 3c 00 00 02 70 63";

inline std::string kind_name(event_kind k) {
    switch (k) {
    case event_kind::none: return "none";
    case event_kind::connected: return "connected";
    case event_kind::connect_request: return "connect_request";
    case event_kind::message: return "message";
    case event_kind::published: return "published";
    case event_kind::released: return "released";
    case event_kind::peer_released: return "peer_released";
    case event_kind::subscribed: return "subscribed";
    case event_kind::unsubscribed: return "unsubscribed";
    case event_kind::subscribe_request: return "subscribe_request";
    case event_kind::unsubscribe_request: return "unsubscribe_request";
    case event_kind::auth: return "auth";
    case event_kind::closed: return "closed";
    }
    return "?";
}

// An event as text: "message 7 a/b=hello", "published 3 0x00", "closed local 0x82".
inline std::string describe(const session_event& ev) {
    std::string s = kind_name(ev.kind);
    const auto hex2 = [](unsigned v) {
        static constexpr char d[] = "0123456789abcdef";
        return std::string("0x") + d[(v >> 4) & 15] + d[v & 15];
    };
    switch (ev.kind) {
    case event_kind::message:
        s += " " + std::to_string(ev.packet_id) + " " + str(ev.message->topic) + "=" +
             str(ev.message->payload);
        break;
    case event_kind::published:
        s += " " + std::to_string(ev.packet_id) + " " + hex2(static_cast<unsigned>(ev.reason));
        break;
    case event_kind::released:
    case event_kind::peer_released:
    case event_kind::subscribed:
    case event_kind::unsubscribed:
    case event_kind::subscribe_request:
    case event_kind::unsubscribe_request: s += " " + std::to_string(ev.packet_id); break;
    case event_kind::connected:
        s += ev.session_present ? " present" : " new";
        if (ev.discarded != 0) s += " discarded " + std::to_string(ev.discarded);
        break;
    case event_kind::closed:
        s += ev.initiator == close_initiator::local   ? " local"
             : ev.initiator == close_initiator::peer  ? " peer"
                                                      : " transport";
        s += " " + hex2(static_cast<unsigned>(ev.reason));
        break;
    default: break;
    }
    return s;
}

// Every event until `none`, as text.
template <class C> std::vector<std::string> events(C& c, ms now) {
    std::vector<std::string> v;
    for (int i = 0; i < 100; ++i) {
        const auto ev = c.next(now);
        if (!ev) break;
        v.push_back(describe(ev));
    }
    return v;
}
template <class C> std::string event1(C& c, ms now) { return describe(c.next(now)); }

inline std::vector<std::string> list(std::initializer_list<std::string> v) { return v; }

// The DISCONNECT a 5.0 server sends after a client's violation, as hex: reason code `rc` and a
// Reason String (property 0x1F) `why`; both short enough for one-byte lengths.
inline std::string violation_disconnect(unsigned rc, std::string_view why) {
    std::vector<std::byte> b{std::byte{0xE0}, static_cast<std::byte>(5 + why.size()),
                             static_cast<std::byte>(rc), static_cast<std::byte>(3 + why.size()),
                             std::byte{0x1F}, std::byte{0},
                             static_cast<std::byte>(why.size())};
    for (const char ch : why) b.push_back(static_cast<std::byte>(ch));
    return to_hex(b);
}

} // namespace mqttwire::test
