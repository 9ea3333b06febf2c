// Codec laws over generated valid packets of every type at every protocol level
// (codec_generators.hpp):
//
//   * decode(encode(p)) == p, and the decoded packet re-encodes to the same bytes (DESIGN 2:
//     "encoding a decoded canonical packet gives back the same bytes");
//   * encoded_size(p) equals the bytes encode writes (DESIGN 3.2: one code path);
//   * encode into every shorter buffer gives buffer_too_small and writes nothing, neither inside
//     the buffer nor past it (guard bytes);
//   * every strict prefix of an encoding, placed flush against a PROT_NONE page, decodes as
//     incomplete (incomplete is not invalid, DESIGN 3.3) without reading past the input.
//
// One property per packet type, each drawing the protocol level, so that every type gets its
// full share of cases at every level.

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "codec_generators.hpp"

namespace {

using namespace mqttwire;
using mqttwire::gen::owned_packet;

constexpr std::byte guard{0xA5};

decode_options options_for(protocol_version v) {
    decode_options o;
    o.version = v;
    return o;
}

// The lengths below n that the shorter-buffer law tries: all of them for packets up to 2 KiB,
// otherwise the first and last 32 and a stride through the middle (every length would be
// quadratic on the 300 KiB payloads and 64 KiB strings).
std::vector<std::size_t> shorter_lengths(std::size_t n) {
    std::vector<std::size_t> out;
    if (n <= 2048) {
        for (std::size_t i = 0; i < n; ++i) out.push_back(i);
        return out;
    }
    for (std::size_t i = 0; i < 32; ++i) out.push_back(i);
    for (std::size_t i = 32; i + 32 < n; i += n / 17 + 1) out.push_back(i);
    for (std::size_t i = n - 32; i < n; ++i) out.push_back(i);
    return out;
}

void check_laws(const owned_packet& g) {
    const auto v = g.version();
    const auto& p = g.view();
    RC_TAG(packet_type_name(type_of(p)), static_cast<int>(v));

    // encoded_size == bytes written, into a buffer with guard bytes after it.
    const auto size = encoded_size(p, v);
    RC_ASSERT(size.has_value());
    const std::size_t n = *size;
    std::vector<std::byte> buf(n + 16, guard);
    const auto written = encode(p, v, std::span<std::byte>(buf.data(), n));
    RC_ASSERT(written.has_value());
    RC_ASSERT(*written == n);
    for (std::size_t i = n; i < buf.size(); ++i) RC_ASSERT(buf[i] == guard);
    const std::span<const std::byte> bytes(buf.data(), n);

    // decode(encode(p)) == p, occupying exactly n bytes, followed bytes ignored.
    const auto d = decode_packet(std::span<const std::byte>(buf), options_for(v));
    RC_ASSERT(d.has_value());
    RC_ASSERT(d->size == n);
    RC_ASSERT(d->packet == p);

    // The decoded (wire-backed) packet re-encodes to the same bytes: canonical form.
    const auto again = gen::encode_vec(d->packet, v);
    RC_ASSERT(again.size() == n);
    RC_ASSERT(std::equal(again.begin(), again.end(), bytes.begin()));

    // The two loops below compare with memcmp and fail with RC_FAIL: an RC_ASSERT per byte or
    // per length builds its message strings even when it holds, which made these laws take
    // minutes in Debug and under the sanitizers.
    const auto at = [n](const char* what, std::size_t len) {
        return std::string(what) + " at " + std::to_string(len) + " of " + std::to_string(n) +
               " bytes";
    };

    // Every shorter buffer: buffer_too_small, nothing written inside or past it.
    const std::vector<std::byte> guards(n + 16, guard);
    std::vector<std::byte> small(n + 16);
    for (const auto len : shorter_lengths(n)) {
        std::memcpy(small.data(), guards.data(), small.size());
        const auto r = encode(p, v, std::span<std::byte>(small.data(), len));
        if (r.has_value() || r.error() != errc::buffer_too_small)
            RC_FAIL(at("encode into a shorter buffer did not give buffer_too_small", len));
        if (std::memcmp(small.data(), guards.data(), small.size()) != 0)
            RC_FAIL(at("encode into a shorter buffer wrote bytes", len));
    }

    // Every strict prefix is incomplete, read flush against an inaccessible page.
    gen::guard_page_buffer page(n);
    for (const auto len : shorter_lengths(n)) {
        const auto in = page.place(bytes.first(len));
        const auto r = decode_packet(in, options_for(v));
        if (r.has_value() || r.error() != errc::incomplete)
            RC_FAIL(at("a strict prefix did not decode as incomplete", len));
    }
    const auto whole = decode_packet(page.place(bytes), options_for(v));
    RC_ASSERT(whole.has_value());
    RC_ASSERT(whole->packet == p);
}

void check_type(packet_type t) {
    const auto v = t == packet_type::auth ? protocol_version::v5 : *gen::gen_version();
    check_laws(*gen::gen_packet(t, v));
}

} // namespace

// Statement ids: MQTT-1.5.3-1/MQTT5-1.5.4-1 (strings), MQTT5-1.5.5-1 (minimal varints), section
// 2.2.2 (properties) and each packet's own section apply to every case below.
RC_GTEST_PROP(codec_properties, connect_laws_MQTT_3_1_3_1, ()) { check_type(packet_type::connect); }
RC_GTEST_PROP(codec_properties, connack_laws_MQTT5_3_2_2_8, ()) { check_type(packet_type::connack); }
RC_GTEST_PROP(codec_properties, publish_laws_MQTT_3_3_2_1, ()) { check_type(packet_type::publish); }
RC_GTEST_PROP(codec_properties, puback_laws_MQTT5_3_4_2_1, ()) { check_type(packet_type::puback); }
RC_GTEST_PROP(codec_properties, pubrec_laws_MQTT5_3_5_2_1, ()) { check_type(packet_type::pubrec); }
RC_GTEST_PROP(codec_properties, pubrel_laws_MQTT5_3_6_2_1, ()) { check_type(packet_type::pubrel); }
RC_GTEST_PROP(codec_properties, pubcomp_laws_MQTT5_3_7_2_1, ()) { check_type(packet_type::pubcomp); }
RC_GTEST_PROP(codec_properties, subscribe_laws_MQTT_3_8_3_1, ()) { check_type(packet_type::subscribe); }
RC_GTEST_PROP(codec_properties, suback_laws_MQTT_3_9_3_2, ()) { check_type(packet_type::suback); }
RC_GTEST_PROP(codec_properties, unsubscribe_laws_MQTT_3_10_3_1, ()) { check_type(packet_type::unsubscribe); }
RC_GTEST_PROP(codec_properties, unsuback_laws_MQTT5_3_11_3_2, ()) { check_type(packet_type::unsuback); }
RC_GTEST_PROP(codec_properties, pingreq_laws, ()) { check_type(packet_type::pingreq); }
RC_GTEST_PROP(codec_properties, pingresp_laws, ()) { check_type(packet_type::pingresp); }
RC_GTEST_PROP(codec_properties, disconnect_laws_MQTT5_3_14_2_1, ()) { check_type(packet_type::disconnect); }
RC_GTEST_PROP(codec_properties, auth_laws_MQTT5_3_15_2_1, ()) { check_type(packet_type::auth); }

// Copying a holder rebuilds its views over the copy's own storage: the copy stays valid after
// the original is gone (the generators rely on this while rapidcheck shrinks).
RC_GTEST_PROP(codec_properties, generated_packets_survive_copies, ()) {
    auto* original = new owned_packet(*gen::gen_any_packet());
    const auto bytes = gen::encode_vec(original->view(), original->version());
    owned_packet copy = *original;
    owned_packet moved = std::move(*original);
    delete original;
    RC_ASSERT(gen::encode_vec(copy.view(), copy.version()) == bytes);
    RC_ASSERT(gen::encode_vec(moved.view(), moved.version()) == bytes);
}
