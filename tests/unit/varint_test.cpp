// Variable Byte Integers (MQTT 3.1.1 section 2.2.3, MQTT 5.0 section 1.5.5) and the fixed
// header (3.1.1 section 2.2, 5.0 section 2.1): decode_varint / varint_size at every boundary of
// table 1-1, truncation, the four-byte limit, the minimal-encoding rule, the Remaining Length on
// the encode side, check_first_byte against the flag tables and read_fixed_header.

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "test_support.hpp"

namespace mqttwire::test {
namespace {

varint_result dv(std::string_view text) {
    const auto bytes = hex(text);
    return decode_varint(bytes);
}

// The encoding algorithm of 5.0 section 1.5.5 (non-normative comment), written out here.
std::vector<std::byte> reference_encode(std::uint32_t x) {
    std::vector<std::byte> out;
    do {
        auto b = static_cast<std::uint8_t>(x % 128);
        x /= 128;
        if (x > 0) b = static_cast<std::uint8_t>(b | 128u);
        out.push_back(std::byte{b});
    } while (x > 0);
    return out;
}

// ---------------------------------------------------------------------------------------------
// decode_varint and varint_size
// ---------------------------------------------------------------------------------------------

struct boundary {
    std::uint32_t value;
    const char* bytes;
    std::size_t size;
};

// 5.0 table 1-1 / 3.1.1 table 2.4 "Size of Remaining Length field".
constexpr boundary boundaries[] = {
    {0, "00", 1},
    {127, "7f", 1},
    {128, "80 01", 2},
    {16'383, "ff 7f", 2},
    {16'384, "80 80 01", 3},
    {2'097'151, "ff ff 7f", 3},
    {2'097'152, "80 80 80 01", 4},
    {268'435'455, "ff ff ff 7f", 4},
};

TEST(varint, table_1_1_boundaries_decode) {
    for (const auto& b : boundaries) {
        SCOPED_TRACE(b.bytes);
        const auto r = dv(b.bytes);
        EXPECT_EQ(r.status, errc::success);
        EXPECT_EQ(r.value, b.value);
        EXPECT_EQ(r.size, b.size);
    }
}

TEST(varint, table_1_1_boundaries_size) {
    for (const auto& b : boundaries) EXPECT_EQ(varint_size(b.value), b.size) << b.value;
    EXPECT_EQ(varint_max, 268'435'455u);
}

TEST(varint, reference_encoder_matches_table_1_1) {
    for (const auto& b : boundaries)
        EXPECT_EQ(to_hex(reference_encode(b.value)), to_hex(hex(b.bytes))) << b.value;
}

TEST(varint, bytes_after_the_last_one_are_not_read) {
    const auto r = dv("7f ff ff");
    EXPECT_EQ(r.status, errc::success);
    EXPECT_EQ(r.value, 127u);
    EXPECT_EQ(r.size, 1u);
    const auto s = dv("80 01 80");
    EXPECT_EQ(s.value, 128u);
    EXPECT_EQ(s.size, 2u);
}

TEST(varint, truncated_is_incomplete) {
    for (const char* t : {"", "80", "ff", "80 80", "ff ff", "80 80 80", "ff ff ff"}) {
        EXPECT_EQ(dv(t).status, errc::incomplete) << "'" << t << "'";
    }
}

TEST(varint, more_than_four_bytes_is_malformed) {
    // 5.0 section 1.5.5: "The maximum number of bytes in the Variable Byte Integer field is
    // four." A fourth byte with the continuation bit is malformed as soon as it is seen.
    EXPECT_EQ(dv("ff ff ff ff 7f").status, errc::malformed_packet);
    EXPECT_EQ(dv("80 80 80 80 01").status, errc::malformed_packet);
    EXPECT_EQ(dv("80 80 80 80").status, errc::malformed_packet);
    EXPECT_EQ(dv("ff ff ff 80").status, errc::malformed_packet);
}

TEST(varint, non_minimal_is_malformed) {
    // MQTT5-1.5.5-1: the fewest bytes able to hold the value.
    for (const char* t : {"80 00", "ff 00", "81 00", "80 80 00", "ff ff 00", "80 80 80 00",
                          "ff ff ff 00", "81 80 00", "81 80 80 00"}) {
        EXPECT_EQ(dv(t).status, errc::malformed_packet) << t;
    }
}

TEST(varint, every_two_and_three_byte_form) {
    // A multi-byte form is minimal exactly when its last byte is not zero (MQTT5-1.5.5-1).
    for (unsigned a = 0x80; a < 0x100; ++a) {
        for (unsigned b = 0; b < 0x80; ++b) {
            const std::vector<std::byte> two{static_cast<std::byte>(a), static_cast<std::byte>(b)};
            const auto r = decode_varint(two);
            if (b == 0) {
                EXPECT_EQ(r.status, errc::malformed_packet);
            } else {
                ASSERT_EQ(r.status, errc::success);
                EXPECT_EQ(r.value, (a & 0x7Fu) + 128u * b);
                EXPECT_EQ(r.size, 2u);
            }
            const std::vector<std::byte> three{static_cast<std::byte>(a), std::byte{0x80},
                                               static_cast<std::byte>(b)};
            const auto t = decode_varint(three);
            EXPECT_EQ(t.status, b == 0 ? errc::malformed_packet : errc::success);
        }
    }
}

TEST(varint, round_trip_with_the_reference_encoder) {
    std::vector<std::uint32_t> values;
    for (std::uint32_t v = 0; v < 40'000; ++v) values.push_back(v);
    for (std::uint32_t v = 40'000; v < varint_max - 1000; v += 9'973) values.push_back(v);
    for (std::uint32_t v = varint_max - 1000; v <= varint_max; ++v) values.push_back(v);
    for (const auto& b : boundaries)
        for (std::uint32_t d = 0; d < 3; ++d) {
            if (b.value >= d) values.push_back(b.value - d);
            if (b.value + d <= varint_max) values.push_back(b.value + d);
        }
    std::size_t wrong = 0;
    for (auto v : values) {
        const auto bytes = reference_encode(v);
        const auto r = decode_varint(bytes);
        const bool good = r.status == errc::success && r.value == v && r.size == bytes.size() &&
                          varint_size(v) == bytes.size();
        if (!good && ++wrong < 10) ADD_FAILURE() << v;
    }
    EXPECT_EQ(wrong, 0u);
}

TEST(varint, usable_in_constant_expressions) {
    static constexpr std::byte two[] = {std::byte{0x80}, std::byte{0x01}};
    static_assert(decode_varint(two).value == 128);
    static_assert(decode_varint(two).size == 2);
    static_assert(varint_size(16'384) == 3);
    SUCCEED();
}

// ---------------------------------------------------------------------------------------------
// Variable Byte Integers inside packets: the Remaining Length written by the encoder, and a
// Subscription Identifier at each boundary
// ---------------------------------------------------------------------------------------------

TEST(varint_in_packets, remaining_length_boundaries_on_encode) {
    // PUBLISH at 3.1.1, topic "t" (3 bytes), payload of RL - 3 bytes.
    for (const auto& b : boundaries) {
        if (b.value < 3 || b.value > 2'097'152) continue; // keep memory modest
        const std::string payload(b.value - 3, 'p');
        publish_view p;
        p.topic = "t";
        p.payload = std::string_view(payload);
        std::vector<std::byte> out(b.value + 8);
        const auto n = encode(p, v311, std::span<std::byte>(out));
        ASSERT_TRUE(n.has_value()) << b.value;
        EXPECT_EQ(*n, 1 + b.size + b.value);
        EXPECT_EQ(to_hex(std::span<const std::byte>(out.data() + 1, b.size)), to_hex(hex(b.bytes)))
            << b.value;
        const auto back =
            decode_packet(std::span<const std::byte>(out.data(), *n), {.version = v311});
        ASSERT_TRUE(back.has_value());
        EXPECT_EQ(std::get<publish_view>(back->packet).payload.size(), b.value - 3);
    }
}

TEST(varint_in_packets, subscription_identifier_boundaries) {
    for (const auto& b : boundaries) {
        if (b.value == 0) continue; // 0 is a Protocol Error (5.0 section 3.3.2.3.8)
        publish_view p;
        p.topic = "t";
        const property props[] = {{property_id::subscription_identifier, b.value}};
        p.properties = properties_view(props);
        std::vector<std::byte> out(32);
        const auto n = encode(p, v5, std::span<std::byte>(out));
        ASSERT_TRUE(n.has_value()) << b.value;
        // 30 <RL = 3 + 1 + 1 + size> 00 01 74 <PL = 1 + size> 0b <varint>
        std::vector<std::byte> want{
            std::byte{0x30}, static_cast<std::byte>(5 + b.size), std::byte{0x00}, std::byte{0x01},
            std::byte{0x74}, static_cast<std::byte>(1 + b.size), std::byte{0x0b}};
        const auto id = hex(b.bytes);
        want.insert(want.end(), id.begin(), id.end());
        EXPECT_EQ(to_hex(std::span<const std::byte>(out.data(), *n)), to_hex(want)) << b.value;
        const auto back =
            decode_packet(std::span<const std::byte>(out.data(), *n), {.version = v5});
        ASSERT_TRUE(back.has_value());
        EXPECT_EQ(std::get<publish_view>(back->packet)
                      .properties.integer_or(property_id::subscription_identifier, 0),
                  b.value);
    }
}

// ---------------------------------------------------------------------------------------------
// Fixed header: type and flags (3.1.1 table 2.2 / 5.0 table 2-2)
// ---------------------------------------------------------------------------------------------

// Whether first byte `b` is valid at 3.1.1 and 5.0, from the flag tables.
bool first_byte_valid(unsigned b, protocol_version v) {
    const unsigned type = b >> 4;
    const unsigned flags = b & 0x0Fu;
    switch (type) {
    case 0: return false; // Reserved
    case 3: {
        // PUBLISH: DUP, QoS, RETAIN; QoS 3 is malformed (MQTT-3.3.1-4 / MQTT5-3.3.1-4) and DUP is
        // 0 for QoS 0 (MQTT-3.3.1-2 / MQTT5-3.3.1-2).
        const unsigned q = (flags >> 1) & 3u;
        return q != 3 && !((flags & 8u) != 0 && q == 0);
    }
    case 6:  // PUBREL      0010 (MQTT-3.6.1-1 / MQTT5-3.6.1-1)
    case 8:  // SUBSCRIBE   0010
    case 10: // UNSUBSCRIBE 0010
        return flags == 0x2;
    case 15: // AUTH: 5.0 only, 0000; Reserved in 3.1.1
        return v == protocol_version::v5 && flags == 0;
    default: return flags == 0; // every other type: 0000 (MQTT-2.2.2-1 / MQTT5-2.1.3-1)
    }
}

TEST(fixed_header, check_first_byte_against_the_flag_tables) {
    // MQTT-2.2.2-1, MQTT-2.2.2-2 (3.1.1) and MQTT5-2.1.3-1 (5.0).
    std::string wrong;
    for (auto v : {v311, v5}) {
        for (unsigned b = 0; b < 256; ++b) {
            const auto want = first_byte_valid(b, v) ? errc::success : errc::malformed_packet;
            const auto got = check_first_byte(static_cast<std::uint8_t>(b), v);
            if (got != want) wrong += " " + std::to_string(b) + (v == v5 ? "@5" : "@311");
        }
    }
    EXPECT_TRUE(wrong.empty()) << "first bytes judged wrongly:" << wrong;
}

TEST(fixed_header, v31_pubrel_may_carry_dup) {
    // MQTT 3.1: DUP is set on a re-delivered PUBREL (QoS 1), so 6A is a valid first byte there.
    EXPECT_EQ(check_first_byte(0x62, v31), errc::success);
    EXPECT_EQ(check_first_byte(0x6A, v31), errc::success);
    EXPECT_EQ(check_first_byte(0x6A, v311), errc::malformed_packet); // MQTT-3.6.1-1
    EXPECT_EQ(check_first_byte(0x6A, v5), errc::malformed_packet);   // MQTT5-3.6.1-1
    EXPECT_EQ(check_first_byte(0xF0, v31), errc::malformed_packet);  // 15 reserved in 3.1
    EXPECT_EQ(check_first_byte(0x00, v31), errc::malformed_packet);
}

TEST(fixed_header, flags_are_refused_from_the_first_byte) {
    // A stream is refused as soon as the first byte shows bad flags, before the length arrives.
    const auto one = hex("60");
    EXPECT_EQ(decode_packet(one, {.version = v311}).error(), errc::malformed_packet);
    const auto two = hex("36");
    EXPECT_EQ(decode_packet(two, {.version = v5}).error(), errc::malformed_packet);
    const auto ok_so_far = hex("62");
    EXPECT_EQ(decode_packet(ok_so_far, {.version = v5}).error(), errc::incomplete);
}

// ---------------------------------------------------------------------------------------------
// Fixed header: the Remaining Length
// ---------------------------------------------------------------------------------------------

TEST(fixed_header, read_fixed_header_sizes) {
    for (const auto& b : boundaries) {
        auto bytes = hex(std::string("30 ") + b.bytes);
        const auto h = read_fixed_header(bytes, max_packet_size_limit);
        ASSERT_TRUE(h.has_value()) << b.bytes;
        EXPECT_EQ(h->type, packet_type::publish);
        EXPECT_EQ(h->flags, 0);
        EXPECT_EQ(h->remaining_length, b.value);
        EXPECT_EQ(h->header_size, 1 + b.size);
        EXPECT_EQ(h->packet_size(), 1 + b.size + b.value);
    }
    // The largest packet: 1 + 4 + 268435455 bytes.
    EXPECT_EQ(max_packet_size_limit, 268'435'460u);
    const auto biggest = hex("30 ff ff ff 7f");
    EXPECT_EQ(read_fixed_header(biggest, max_packet_size_limit)->packet_size(), 268'435'460u);
}

TEST(fixed_header, read_fixed_header_incomplete_and_malformed) {
    EXPECT_EQ(read_fixed_header(hex(""), max_packet_size_limit).error(), errc::incomplete);
    EXPECT_EQ(read_fixed_header(hex("30"), max_packet_size_limit).error(), errc::incomplete);
    EXPECT_EQ(read_fixed_header(hex("30 80"), max_packet_size_limit).error(), errc::incomplete);
    EXPECT_EQ(read_fixed_header(hex("30 ff ff ff"), max_packet_size_limit).error(),
              errc::incomplete);
    EXPECT_EQ(read_fixed_header(hex("30 ff ff ff ff"), max_packet_size_limit).error(),
              errc::malformed_packet);
    EXPECT_EQ(read_fixed_header(hex("30 80 00"), max_packet_size_limit).error(),
              errc::malformed_packet); // MQTT5-1.5.5-1
}

TEST(fixed_header, maximum_packet_size_counts_the_whole_packet) {
    // 5.0 section 3.1.2.11.4 / 3.2.2.3.6: the limit is on the total packet size, fixed header
    // included; it is known from the header alone.
    const auto bytes = hex("30 ff 7f"); // 1 + 2 + 16383 = 16386 bytes
    EXPECT_TRUE(read_fixed_header(bytes, 16'386).has_value());
    EXPECT_EQ(read_fixed_header(bytes, 16'385).error(), errc::packet_too_large);
    EXPECT_EQ(decode_packet(bytes, {.version = v5, .max_packet_size = 16'385}).error(),
              errc::packet_too_large);
    EXPECT_EQ(decode_packet(bytes, {.version = v5, .max_packet_size = 16'386}).error(),
              errc::incomplete);
}

TEST(fixed_header, max_packet_size_vectors) {
    const auto& exact = vec("fixed_max_packet_size_exact");
    EXPECT_EQ(exact.options.max_packet_size, 10u);
    EXPECT_EQ(exact.bytes.size(), 10u);
    const auto p = decode_as<publish_view>(exact);
    EXPECT_EQ(str(p.topic), "a/b");
    EXPECT_EQ(str(p.payload), "hi");
    const auto& over = vec("fixed_max_packet_size_one_over");
    EXPECT_EQ(to_hex(over.bytes), to_hex(exact.bytes)); // same packet, limit one lower
    EXPECT_EQ(decode_error(over), errc::packet_too_large);
}

TEST(fixed_header, remaining_length_bounds_the_packet) {
    // The decoder reads the body only through the Remaining Length: a packet followed by another
    // reports its own size, and a shorter input is incomplete.
    const auto bytes = hex("40 02 00 01 40 02 00 02");
    const auto r = decode_packet(bytes, {.version = v311});
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->size, 4u);
    EXPECT_EQ(std::get<puback_view>(r->packet).packet_id, 1);
    const auto rest = std::span<const std::byte>(bytes).subspan(r->size);
    const auto s = decode_packet(rest, {.version = v311});
    ASSERT_TRUE(s.has_value());
    EXPECT_EQ(std::get<puback_view>(s->packet).packet_id, 2);
    EXPECT_EQ(decode_packet(std::span<const std::byte>(bytes).first(3), {.version = v311}).error(),
              errc::incomplete);
}

TEST(fixed_header, unknown_protocol_version_is_an_argument_error) {
    const auto bytes = hex("40 02 00 01");
    EXPECT_EQ(decode_packet(bytes, {.version = static_cast<protocol_version>(6)}).error(),
              errc::invalid_argument);
}

} // namespace
} // namespace mqttwire::test
