// WebSocket laws (RFC 6455 section 5; MQTT 3.1.1 and 5.0 section 6):
//
//   * round trip: a stream of encoded frames (random messages cut into random fragments, with
//     pings and pongs between fragments, masked with random keys by a client, maybe a Close at
//     the end) deframes to exactly the payload bytes and control events that went in, for
//     either role, whole, in random chunks, byte by byte, in place or through a small output;
//   * split-point grind on hostile input: for arbitrary and mutated frame streams, under every
//     option flag, random chunking and byte-by-byte feeding give the same stream and events as
//     the whole input, which equal a reference deframer written the plain way;
//   * bounds: such input, ending flush against a PROT_NONE page and deframed in place, never
//     makes the deframer touch a byte past its end;
//   * MQTT-6.0.0-2 / MQTT5-6.0.0-2: MQTT packets carried in random frame splits reassemble
//     exactly: the framer finds every packet in the deframed stream and each decodes to the
//     packet that was sent;
//   * the handshake parser gives the same answer however the head is split, and never reads
//     past the bytes it is given.

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "../unit/websocket_trace.hpp"
#include "codec_generators.hpp"

namespace {

using namespace mqttwire;
using test::ws_deframe;
using test::ws_event;
using test::ws_feed;
using test::ws_reference_deframe;
using test::ws_trace;

// Bytes from a seed: payloads of up to ~100 KB without generating every byte through
// rapidcheck.
std::vector<std::byte> filler(std::size_t n, std::uint32_t seed) {
    std::vector<std::byte> out(n);
    std::uint32_t x = seed | 1u;
    for (auto& b : out) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        b = static_cast<std::byte>(x >> 24);
    }
    return out;
}

ws::masking_key gen_key() {
    const auto k = *rc::gen::arbitrary<std::uint32_t>();
    return {static_cast<std::byte>(k), static_cast<std::byte>(k >> 8),
            static_cast<std::byte>(k >> 16), static_cast<std::byte>(k >> 24)};
}

void append_frame(std::vector<std::byte>& wire, ws::role sender, ws::opcode op,
                  std::span<const std::byte> payload, bool fin) {
    const auto h = ws::make_header(sender, op, payload.size(), gen_key(), fin);
    const auto size = ws::frame_size(h);
    RC_ASSERT(size.has_value());
    const auto at = wire.size();
    wire.resize(at + *size);
    const auto n = ws::encode_frame(h, payload, std::span<std::byte>(wire).subspan(at));
    RC_ASSERT(n.has_value() && *n == *size);
}

std::size_t gen_size() {
    return *rc::gen::weightedOneOf<std::size_t>({{6, rc::gen::inRange<std::size_t>(0, 126)},
                                                 {3, rc::gen::inRange<std::size_t>(126, 2000)},
                                                 {1, rc::gen::inRange<std::size_t>(65530, 70000)}});
}

// A stream of frames `sender` sends, and what a receiver must make of it.
struct frame_stream {
    std::vector<std::byte> wire;
    ws_trace expected;
};

frame_stream gen_stream(ws::role sender) {
    frame_stream s;
    const auto messages = *rc::gen::inRange(0, 6);
    for (int m = 0; m < messages; ++m) {
        const auto payload = filler(gen_size(), *rc::gen::arbitrary<std::uint32_t>());
        s.expected.data.insert(s.expected.data.end(), payload.begin(), payload.end());
        // Cut points inside the message: its fragments, possibly empty.
        auto cuts = *rc::gen::container<std::vector<std::size_t>>(
            rc::gen::inRange<std::size_t>(0, payload.size() + 1));
        if (cuts.size() > 8) cuts.resize(8);
        cuts.push_back(0);
        cuts.push_back(payload.size());
        std::sort(cuts.begin(), cuts.end());
        for (std::size_t c = 0; c + 1 < cuts.size(); ++c) {
            const bool last = c + 2 == cuts.size();
            append_frame(s.wire, sender, c == 0 ? ws::opcode::binary : ws::opcode::continuation,
                         std::span<const std::byte>(payload).subspan(cuts[c], cuts[c + 1] - cuts[c]),
                         last);
            // Control frames may come between fragments (section 5.4).
            if (*rc::gen::inRange(0, 4) == 0) {
                const bool ping = *rc::gen::arbitrary<bool>();
                const auto body = filler(*rc::gen::inRange<std::size_t>(0, 126),
                                         *rc::gen::arbitrary<std::uint32_t>());
                append_frame(s.wire, sender, ping ? ws::opcode::ping : ws::opcode::pong, body, true);
                s.expected.events.push_back(
                    {ping ? ws::deframe_event::ping : ws::deframe_event::pong, ws::close_code::none,
                     body});
            }
        }
    }
    if (*rc::gen::arbitrary<bool>()) {
        const auto code = *rc::gen::elementOf(
            std::vector<std::uint16_t>{1000, 1001, 1003, 1011, 1014, 3000, 4999});
        const std::string reason(*rc::gen::inRange<std::size_t>(0, 124), 'r');
        const auto size = ws::close_frame_size(sender, static_cast<ws::close_code>(code), reason);
        RC_ASSERT(size.has_value());
        const auto at = s.wire.size();
        s.wire.resize(at + *size);
        RC_ASSERT(ws::encode_close_frame(sender, static_cast<ws::close_code>(code), reason,
                                         std::span<std::byte>(s.wire).subspan(at), gen_key())
                      .has_value());
        const auto reason_bytes = std::as_bytes(std::span<const char>(reason));
        s.expected.events.push_back({ws::deframe_event::close, static_cast<ws::close_code>(code),
                                     {reason_bytes.begin(), reason_bytes.end()}});
        s.expected.ended = true;
        // Anything after the Close is discarded.
        append_frame(s.wire, sender, ws::opcode::binary, filler(10, 7), true);
    }
    return s;
}

std::vector<std::size_t> gen_chunks() {
    return *rc::gen::container<std::vector<std::size_t>>(
        rc::gen::weightedOneOf<std::size_t>({{4, rc::gen::inRange<std::size_t>(0, 16)},
                                             {2, rc::gen::inRange<std::size_t>(16, 300)},
                                             {1, rc::gen::inRange<std::size_t>(300, 80000)}}));
}

ws::deframer_options receiver_of(ws::role sender) {
    ws::deframer_options o;
    o.local = sender == ws::role::client ? ws::role::server : ws::role::client;
    return o;
}

// Options that change what deframes: role, every leniency, a small message limit.
ws::deframer_options gen_options() {
    ws::deframer_options o;
    o.local = *rc::gen::arbitrary<bool>() ? ws::role::server : ws::role::client;
    o.accept_wrong_masking = *rc::gen::arbitrary<bool>();
    o.accept_text_frames = *rc::gen::arbitrary<bool>();
    o.accept_non_minimal_length = *rc::gen::arbitrary<bool>();
    if (*rc::gen::arbitrary<bool>()) o.max_message_size = *rc::gen::inRange<std::uint64_t>(0, 300);
    return o;
}

// Arbitrary bytes, or a valid stream of either role mutated by flips, overwrites, insertions
// and deletions (which reach every rule of the deframer).
std::vector<std::byte> gen_hostile() {
    if (*rc::gen::arbitrary<bool>()) {
        const auto raw = *rc::gen::container<std::vector<std::uint8_t>>(rc::gen::arbitrary<std::uint8_t>());
        std::vector<std::byte> out(raw.size());
        for (std::size_t i = 0; i < raw.size(); ++i) out[i] = static_cast<std::byte>(raw[i]);
        return out;
    }
    auto bytes = gen_stream(*rc::gen::arbitrary<bool>() ? ws::role::client : ws::role::server).wire;
    if (bytes.size() > 5000) bytes.resize(5000);
    const auto edits = *rc::gen::container<std::vector<std::tuple<int, std::size_t, std::uint8_t>>>(
        rc::gen::tuple(rc::gen::inRange(0, 4), rc::gen::arbitrary<std::size_t>(),
                       rc::gen::arbitrary<std::uint8_t>()));
    for (const auto& [kind, at, value] : edits) {
        if (bytes.empty()) break;
        const auto i = at % bytes.size();
        const auto it = bytes.begin() + static_cast<std::ptrdiff_t>(i);
        switch (kind) {
        case 0: bytes[i] ^= static_cast<std::byte>(1u << (value % 8)); break;
        case 1: bytes[i] = static_cast<std::byte>(value); break;
        case 2: bytes.insert(it, static_cast<std::byte>(value)); break;
        default: bytes.erase(it); break;
        }
    }
    return bytes;
}

} // namespace

// Encoded frames deframe to exactly what was encoded, however they arrive.
RC_GTEST_PROP(websocket_properties, encoded_frames_round_trip, ()) {
    const auto sender = *rc::gen::arbitrary<bool>() ? ws::role::client : ws::role::server;
    const auto s = gen_stream(sender);
    const auto o = receiver_of(sender);
    RC_ASSERT(ws_deframe(o, s.wire) == s.expected);
    const auto chunks = gen_chunks();
    RC_ASSERT(ws_deframe(o, s.wire, chunks) == s.expected);
    const auto capacity = *rc::gen::inRange<std::size_t>(1, 5000);
    RC_ASSERT(ws_deframe(o, s.wire, chunks, ws_feed::separate, capacity) == s.expected);
    RC_ASSERT(ws_reference_deframe(o, s.wire) == s.expected);
}

RC_GTEST_PROP(websocket_properties, byte_by_byte_equals_whole, ()) {
    const auto sender = *rc::gen::arbitrary<bool>() ? ws::role::client : ws::role::server;
    const auto s = gen_stream(sender);
    RC_PRE(s.wire.size() < 40000); // byte by byte is slow under the sanitizers
    const std::size_t one[] = {1};
    RC_ASSERT(ws_deframe(receiver_of(sender), s.wire, one) == s.expected);
}

// Hostile input: chunking never changes the outcome, which is the reference's, and no call
// stalls.
RC_GTEST_PROP(websocket_properties, split_point_grind_on_hostile_input, ()) {
    const auto wire = gen_hostile();
    const auto o = gen_options();
    const auto whole = ws_deframe(o, wire);
    RC_ASSERT(!whole.stalled);
    RC_ASSERT(whole == ws_reference_deframe(o, wire));
    RC_ASSERT(ws_deframe(o, wire, gen_chunks()) == whole);
    const std::size_t one[] = {1};
    RC_ASSERT(ws_deframe(o, wire, one) == whole);
    RC_ASSERT(ws_deframe(o, wire, gen_chunks(), ws_feed::separate,
                         *rc::gen::inRange<std::size_t>(1, 40)) == whole);
    // Nothing is reported after the first Close or failure.
    for (std::size_t i = 0; i + 1 < whole.events.size(); ++i) {
        RC_ASSERT(whole.events[i].kind != ws::deframe_event::close);
        RC_ASSERT(whole.events[i].kind != ws::deframe_event::fail);
    }
}

// In place, against a guard page: every prefix of hostile input, at every option set.
RC_GTEST_PROP(websocket_properties, hostile_input_stays_in_bounds, ()) {
    const auto wire = gen_hostile();
    const auto o = gen_options();
    for (std::size_t len = 0; len <= wire.size(); len += 1 + wire.size() / 16) {
        gen::guard_page_buffer page(len);
        const auto placed = page.place(std::span<const std::byte>(wire).first(len));
        // The page is writable up to the guard; the deframer writes its output over its input.
        const std::span<std::byte> buf(const_cast<std::byte*>(placed.data()), placed.size());
        ws::deframer d(o);
        std::size_t in_at = 0;
        std::size_t out_at = 0;
        while (in_at < buf.size()) {
            const auto r = d.decode(buf.subspan(in_at), buf.subspan(out_at));
            RC_ASSERT(r.consumed > 0);
            RC_ASSERT(r.produced <= r.consumed);
            in_at += r.consumed;
            out_at += r.produced;
            RC_ASSERT(in_at <= buf.size());
        }
        const auto expected = ws_reference_deframe(o, std::span<const std::byte>(wire).first(len));
        RC_ASSERT(out_at == expected.data.size());
        RC_ASSERT(std::equal(expected.data.begin(), expected.data.end(), buf.begin()));
    }
}

// MQTT-6.0.0-2 / MQTT5-6.0.0-2: packets are found in the stream whatever the frame boundaries.
RC_GTEST_PROP(websocket_properties, mqtt_packets_reassemble_across_random_frames_MQTT_6_0_0_2_MQTT5_6_0_0_2,
              ()) {
    const auto v = *gen::gen_version();
    // A few packets per stream: generating packets dominates the run time, and the frame cuts
    // are what this law varies.
    const auto packets = *rc::gen::container<std::vector<gen::owned_packet>>(
        *rc::gen::inRange<std::size_t>(1, 8), gen::gen_packet_at(v));
    std::vector<std::byte> stream;
    for (const auto& p : packets) {
        const auto b = gen::encode_vec(p.view(), p.version());
        stream.insert(stream.end(), b.begin(), b.end());
    }
    // Cut the stream into frames at random points; messages of random fragment counts.
    const auto sender = *rc::gen::arbitrary<bool>() ? ws::role::client : ws::role::server;
    // Frame sizes and FIN bits are drawn once and cycled (drawing per frame is slow).
    auto sizes = gen_chunks();
    if (sizes.empty()) sizes.push_back(stream.size());
    const auto fins = *rc::gen::nonEmpty(rc::gen::container<std::vector<bool>>(rc::gen::arbitrary<bool>()));
    std::vector<std::byte> wire;
    std::size_t at = 0;
    std::size_t k = 0;
    bool in_message = false;
    while (at < stream.size()) {
        const auto n = std::min(stream.size() - at, std::max<std::size_t>(sizes[k % sizes.size()], 1));
        const bool fin = at + n == stream.size() || fins[k % fins.size()];
        ++k;
        append_frame(wire, sender, in_message ? ws::opcode::continuation : ws::opcode::binary,
                     std::span<const std::byte>(stream).subspan(at, n), fin);
        in_message = !fin;
        at += n;
    }
    const auto t = ws_deframe(receiver_of(sender), wire, gen_chunks());
    RC_ASSERT(t.events.empty());
    RC_ASSERT(t.data == stream);
    std::span<const std::byte> rest(t.data);
    for (const auto& p : packets) {
        const auto f = next_frame(rest);
        RC_ASSERT(f.status == errc::success);
        decode_options o;
        o.version = v;
        const auto d = decode_packet(rest.first(f.size), o);
        RC_ASSERT(d.has_value());
        RC_ASSERT(d->packet == p.view());
        rest = rest.subspan(f.size);
    }
    RC_ASSERT(rest.empty());
}

namespace {

// A valid request with random field order, name case, optional fields and filler fields.
std::string gen_request() {
    std::vector<std::string> fields = {"Host: broker.local:9001", "Upgrade: websocket",
                                       "Connection: keep-alive, Upgrade",
                                       "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
                                       "Sec-WebSocket-Version: 13",
                                       "Sec-WebSocket-Protocol: mqttv3.1, mqtt"};
    const auto extra = *rc::gen::inRange(0, 20);
    for (int i = 0; i < extra; ++i)
        fields.push_back("X-Filler-" + std::to_string(i) + ": " +
                         std::string(*rc::gen::inRange<std::size_t>(0, 200), 'v'));
    for (std::size_t i = fields.size(); i > 1; --i)
        std::swap(fields[i - 1], fields[*rc::gen::inRange<std::size_t>(0, i)]);
    std::string head = "GET /" + std::string(*rc::gen::inRange<std::size_t>(0, 30), 'p') +
                       " HTTP/1.1\r\n";
    for (auto& f : fields) {
        // Field names compare case-insensitively: flip the case of some letters.
        for (std::size_t i = 0; i < f.find(':'); ++i) {
            const char c = f[i];
            if (*rc::gen::inRange(0, 4) != 0) continue;
            if (c >= 'a' && c <= 'z') f[i] = static_cast<char>(c - 'a' + 'A');
            else if (c >= 'A' && c <= 'Z') f[i] = static_cast<char>(c - 'A' + 'a');
        }
        head += f + "\r\n";
    }
    return head + "\r\n";
}

} // namespace

RC_GTEST_PROP(websocket_properties, handshake_split_points_agree, ()) {
    const auto head = gen_request();
    std::string buffered = head + "\x82\x80\x00\x00\x00\x00"; // a frame may follow at once
    ws::upgrade_request_parser whole;
    RC_ASSERT(whole.parse(buffered) == ws::handshake_errc::success);
    RC_ASSERT(whole.request().head_size == head.size());
    RC_ASSERT(whole.request().subprotocol == "mqtt");
    ws::upgrade_request_parser split;
    std::size_t have = 0;
    ws::handshake_errc e = ws::handshake_errc::incomplete;
    for (const auto c : gen_chunks()) {
        have = std::min(buffered.size(), have + std::max<std::size_t>(c, 1));
        e = split.parse(std::string_view(buffered).substr(0, have));
        if (have < head.size()) RC_ASSERT(e == ws::handshake_errc::incomplete);
        if (have == buffered.size()) break;
    }
    if (have < buffered.size()) e = split.parse(buffered);
    RC_ASSERT(e == ws::handshake_errc::success);
    RC_ASSERT(split.request().head_size == head.size());
    RC_ASSERT(split.request().key == whole.request().key);
}

// Arbitrary and mutated heads against a guard page: the parser never reads past them, and a
// split never changes its answer.
RC_GTEST_PROP(websocket_properties, hostile_heads_stay_in_bounds, ()) {
    std::string head = gen_request();
    const auto edits = *rc::gen::container<std::vector<std::pair<std::size_t, char>>>(
        rc::gen::pair(rc::gen::arbitrary<std::size_t>(), rc::gen::arbitrary<char>()));
    for (const auto& [at, c] : edits) head[at % head.size()] = c;
    const ws::handshake_options o{.max_head_size = *rc::gen::inRange<std::size_t>(16, 4000),
                                  .max_header_count = *rc::gen::inRange<std::size_t>(0, 30)};
    for (std::size_t len = 0; len <= head.size(); len += 1 + head.size() / 8) {
        gen::guard_page_buffer page(len);
        const auto placed = page.place(std::as_bytes(std::span<const char>(head)).first(len));
        ws::upgrade_request_parser p(o);
        const auto e = p.parse(placed);
        ws::upgrade_request_parser q(o);
        (void)q.parse(placed.first(len / 2));
        RC_ASSERT(q.parse(placed) == e);
        if (e == ws::handshake_errc::success) RC_ASSERT(p.request().head_size <= len);
    }
}
