// Stream and hostile-input laws:
//
//   * split-point grind: a stream of encoded packets cut into arbitrary chunks and fed to the
//     framer (next_frame) as a receiver would yields exactly the packets, in order; also fed one
//     byte at a time (after Boost.Beast's parser grind tests);
//   * arbitrary bytes, and mutations of valid encodings, decoded at every level and under every
//     option flag, never read outside the input: the input ends flush against a PROT_NONE page
//     (the check does not depend on ASan), and a decoded size never exceeds the input;
//   * when such bytes decode, re-encoding the packet and decoding again gives the same packet
//     (non-canonical inputs re-encode shorter, so packets are compared, not bytes).

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "codec_generators.hpp"
#include "rc_check.hpp"

namespace {

using namespace mqttwire;
using mqttwire::gen::owned_packet;

// Feeds `stream` to a receiver in chunks of the given sizes (cycled; 0 means 1) and returns the
// packets it frames and decodes. Fails the property on anything but success / incomplete.
std::vector<std::vector<std::byte>> receive(const std::vector<std::byte>& stream,
                                            const std::vector<std::size_t>& chunks) {
    std::vector<std::vector<std::byte>> frames;
    std::vector<std::byte> buffered;
    std::size_t pos = 0;
    std::size_t k = 0;
    while (pos < stream.size()) {
        std::size_t c = chunks.empty() ? 1 : chunks[k++ % chunks.size()];
        if (c == 0) c = 1;
        c = std::min(c, stream.size() - pos);
        buffered.insert(buffered.end(), stream.begin() + static_cast<std::ptrdiff_t>(pos),
                        stream.begin() + static_cast<std::ptrdiff_t>(pos + c));
        pos += c;
        while (true) {
            const auto f = next_frame(buffered);
            if (f.status == errc::incomplete) {
                // Once the fixed header is readable the framer knows the whole size.
                if (f.size != 0) RC_CHECK(f.size > buffered.size());
                break;
            }
            RC_CHECK(f.status == errc::success);
            RC_CHECK(f.size <= buffered.size());
            frames.emplace_back(buffered.begin(), buffered.begin() + static_cast<std::ptrdiff_t>(f.size));
            buffered.erase(buffered.begin(), buffered.begin() + static_cast<std::ptrdiff_t>(f.size));
        }
    }
    RC_CHECK(buffered.empty());
    return frames;
}

struct stream_case {
    std::vector<owned_packet> packets;
    std::vector<std::byte> bytes;
};

stream_case make_stream(protocol_version v) {
    stream_case s;
    s.packets = *rc::gen::container<std::vector<owned_packet>>(gen::gen_packet_at(v));
    for (const auto& p : s.packets) {
        const auto b = gen::encode_vec(p.view(), p.version());
        RC_ASSERT(!b.empty());
        s.bytes.insert(s.bytes.end(), b.begin(), b.end());
    }
    return s;
}

// Drops packets from the end of `s` until its bytes fit in `limit` (one packet is always kept):
// feeding a stream in tiny pieces costs framer calls per byte, and the whole-stream checks
// already cover the long streams.
stream_case first_packets(stream_case s, std::size_t limit) {
    while (s.packets.size() > 1 && s.bytes.size() > limit) {
        const auto& last = s.packets.back();
        s.bytes.resize(s.bytes.size() - *encoded_size(last.view(), last.version()));
        s.packets.pop_back();
    }
    return s;
}

void check_frames(const stream_case& s, const std::vector<std::vector<std::byte>>& frames,
                  protocol_version v) {
    RC_CHECK(frames.size() == s.packets.size());
    for (std::size_t i = 0; i < frames.size(); ++i) {
        decode_options o;
        o.version = v;
        const auto d = decode_packet(std::span<const std::byte>(frames[i]), o);
        RC_CHECK(d.has_value());
        RC_CHECK(d->size == frames[i].size());
        RC_CHECK(d->packet == s.packets[i].view());
    }
}

// Decodes `in` (already placed against the guard page) under `o`; when it decodes, checks the
// size and the re-encode law.
void decode_and_reencode(std::span<const std::byte> in, const decode_options& o) {
    const auto d = decode_packet(in, o);
    if (!d) {
        RC_CHECK(d.error() != errc::success);
        return;
    }
    RC_CHECK(d->size <= in.size());
    RC_CHECK(d->size >= 2);
    const auto* c = std::get_if<connect_view>(&d->packet);
    const auto v = c != nullptr ? c->version : o.version;
    const auto bytes = gen::encode_vec(d->packet, v);
    RC_CHECK(!bytes.empty());
    RC_CHECK(bytes.size() <= d->size); // canonical or shorter, never longer
    decode_options o2 = o;
    o2.version = v;
    o2.max_packet_size = max_packet_size_limit;
    const auto d2 = decode_packet(std::span<const std::byte>(bytes), o2);
    RC_CHECK(d2.has_value());
    RC_CHECK(d2->size == bytes.size());
    RC_CHECK(d2->packet == d->packet);
}

// Every level and every option flag combination that changes what decodes.
std::vector<decode_options> all_options() {
    std::vector<decode_options> out;
    for (const auto v : {protocol_version::v3_1, protocol_version::v3_1_1, protocol_version::v5})
        for (const auto sender : {peer_role::unknown, peer_role::client, peer_role::server})
            for (int flags = 0; flags < 4; ++flags) {
                decode_options o;
                o.version = v;
                o.sender = sender;
                o.utf8 = utf8_rules{(flags & 1) != 0, (flags & 1) != 0};
                o.validate_payload_format = (flags & 2) != 0;
                out.push_back(o);
            }
    return out;
}

void decode_everywhere(std::span<const std::byte> input) {
    static const auto options = all_options();
    gen::guard_page_buffer page(input.size());
    const auto in = page.place(input);
    for (const auto& o : options) decode_and_reencode(in, o);
    // A limit just below the packet's size is refused, not read past.
    decode_options small;
    small.max_packet_size = static_cast<std::uint32_t>(input.size() / 2);
    decode_and_reencode(in, small);
}

} // namespace

// Section 4.2 / 2.1.4 (5.0): a packet is framed by its Remaining Length, however the bytes
// arrive.
RC_GTEST_PROP(codec_stream_properties, framer_split_point_grind_MQTT5_1_5_5_1, ()) {
    const auto v = *gen::gen_version();
    const auto s = make_stream(v);
    const auto chunks = *rc::gen::container<std::vector<std::size_t>>(
        rc::gen::weightedOneOf<std::size_t>({{4, rc::gen::inRange<std::size_t>(0, 8)},
                                             {2, rc::gen::inRange<std::size_t>(8, 300)},
                                             {1, rc::gen::inRange<std::size_t>(300, 70000)}}));
    const auto head = first_packets(s, 128 * 1024);
    check_frames(head, receive(head.bytes, chunks), v);
    // The whole stream at once.
    check_frames(s, receive(s.bytes, {s.bytes.size() + 1}), v);
}

RC_GTEST_PROP(codec_stream_properties, framer_byte_by_byte, ()) {
    const auto v = *gen::gen_version();
    const auto s = first_packets(make_stream(v), 32 * 1024);
    RC_PRE(s.bytes.size() < 200000); // O(n) framer calls per byte is fine, O(n^2) copies not
    check_frames(s, receive(s.bytes, {1}), v);
}

// Arbitrary bytes: mostly a plausible first byte and Remaining Length, then anything.
RC_GTEST_PROP(codec_stream_properties, arbitrary_bytes_stay_in_bounds_and_reencode, ()) {
    auto bytes = *rc::gen::container<std::vector<std::uint8_t>>(rc::gen::arbitrary<std::uint8_t>());
    if (*rc::gen::arbitrary<bool>() && bytes.size() >= 1) {
        // Make the Remaining Length agree with the input, so the body parsers are reached.
        std::vector<std::uint8_t> framed{bytes[0]};
        auto rl = static_cast<std::uint32_t>(bytes.size() - 1);
        do {
            std::uint8_t b = rl % 128;
            rl /= 128;
            if (rl > 0) b |= 0x80;
            framed.push_back(b);
        } while (rl > 0);
        framed.insert(framed.end(), bytes.begin() + 1, bytes.end());
        bytes = framed;
    }
    std::vector<std::byte> in(bytes.size());
    for (std::size_t i = 0; i < bytes.size(); ++i) in[i] = static_cast<std::byte>(bytes[i]);
    decode_everywhere(in);
}

// Mutations of valid encodings reach deep into every body parser: flip, overwrite, insert and
// delete bytes, then decode every prefix at every level.
RC_GTEST_PROP(codec_stream_properties, mutated_packets_stay_in_bounds_and_reencode, ()) {
    const auto g = *gen::gen_any_packet();
    auto bytes = gen::encode_vec(g.view(), g.version());
    RC_PRE(bytes.size() < 4096);
    const auto edits = *rc::gen::container<std::vector<std::tuple<int, std::size_t, std::uint8_t>>>(
        rc::gen::tuple(rc::gen::inRange(0, 4), rc::gen::arbitrary<std::size_t>(),
                       rc::gen::arbitrary<std::uint8_t>()));
    for (const auto& [kind, at, value] : edits) {
        if (bytes.empty()) break;
        const auto i = static_cast<std::ptrdiff_t>(at % bytes.size());
        switch (kind) {
        case 0: bytes[static_cast<std::size_t>(i)] ^= static_cast<std::byte>(1u << (value % 8)); break;
        case 1: bytes[static_cast<std::size_t>(i)] = static_cast<std::byte>(value); break;
        case 2: bytes.insert(bytes.begin() + i, static_cast<std::byte>(value)); break;
        default: bytes.erase(bytes.begin() + i); break;
        }
    }
    decode_everywhere(bytes);
    for (std::size_t len = 0; len < bytes.size(); len += 1 + bytes.size() / 64) {
        gen::guard_page_buffer page(len);
        decode_options o;
        o.version = g.version();
        decode_and_reencode(page.place(std::span<const std::byte>(bytes).first(len)), o);
    }
}
