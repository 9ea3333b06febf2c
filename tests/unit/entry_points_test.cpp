// The codec's entry points agree with each other, and their options do what they say:
//
//   * decode_frame and decode<P>, given the frame next_frame found, decode every vector exactly as
//     decode_packet does (same packet, same error);
//   * a codec_profile removes packets and levels, never checks: inside the profile the result is
//     decode_packet's, outside it is the documented error;
//   * buffers of char, unsigned char and std::uint8_t work wherever std::byte buffers do;
//   * the maximum packet size is given once (framer built from decode_options);
//   * typed property construction, CONNACK acceptance at every level, errc <-> reason_code.

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <vector>

#include "test_support.hpp"

namespace mqttwire::test {
namespace {

// decode<P> for the P that `f.type` names, wrapped like decode_frame's result.
result<packet_view> decode_typed(std::span<const std::byte> in, const frame& f,
                                 const decode_options& o) {
    const auto wrap = [](const auto& r) -> result<packet_view> {
        if (!r) return r.error();
        return packet_view{*r};
    };
    using enum packet_type;
    switch (f.type) {
    case connect: return wrap(decode<connect_view>(in, f, o));
    case connack: return wrap(decode<connack_view>(in, f, o));
    case publish: return wrap(decode<publish_view>(in, f, o));
    case puback: return wrap(decode<puback_view>(in, f, o));
    case pubrec: return wrap(decode<pubrec_view>(in, f, o));
    case pubrel: return wrap(decode<pubrel_view>(in, f, o));
    case pubcomp: return wrap(decode<pubcomp_view>(in, f, o));
    case subscribe: return wrap(decode<subscribe_view>(in, f, o));
    case suback: return wrap(decode<suback_view>(in, f, o));
    case unsubscribe: return wrap(decode<unsubscribe_view>(in, f, o));
    case unsuback: return wrap(decode<unsuback_view>(in, f, o));
    case pingreq: return wrap(decode<pingreq_view>(in, f, o));
    case pingresp: return wrap(decode<pingresp_view>(in, f, o));
    case disconnect: return wrap(decode<disconnect_view>(in, f, o));
    case auth: return wrap(decode<auth_view>(in, f, o));
    }
    return errc::malformed_packet;
}

TEST(entry_points, decode_frame_and_typed_decode_agree_with_decode_packet_on_every_vector) {
    std::size_t framed = 0;
    for (const auto& v : all_vectors()) {
        SCOPED_TRACE(v.where() + " " + v.name);
        const std::span<const std::byte> in(v.bytes);
        const auto whole = decode_packet(in, v.options);
        const frame f = next_frame(in, v.options);
        if (f.status != errc::success) {
            // The framer refuses what decode_packet refuses from the fixed header alone.
            EXPECT_EQ(errc_name(f.status), errc_name(whole.error()));
            continue;
        }
        ++framed;
        EXPECT_EQ(f.type, static_cast<packet_type>(static_cast<unsigned>(v.bytes[0]) >> 4));
        EXPECT_EQ(f.flags, static_cast<unsigned>(v.bytes[0]) & 0x0Fu);
        EXPECT_EQ(f.remaining_length(), f.size - f.header_size);
        for (const auto& r : {decode_frame(in, f, v.options), decode_typed(in, f, v.options)}) {
            ASSERT_EQ(errc_name(r.error()), errc_name(whole.error()));
            if (r) {
                EXPECT_TRUE(*r == whole->packet);
            }
        }
    }
    EXPECT_GT(framed, 400u) << "most vectors have a complete fixed header";
}

TEST(entry_points, typed_decode_refuses_a_frame_of_another_type) {
    const auto in = annotated("40 02 00 07"); // PUBACK 7
    const decode_options o{.version = protocol_version::v3_1_1};
    const auto f = next_frame(in, o);
    ASSERT_EQ(f.status, errc::success);
    EXPECT_EQ(decode<puback_view>(in, f, o)->packet_id, 7);
    EXPECT_EQ(decode<pubrec_view>(in, f, o).error(), errc::invalid_argument);
    EXPECT_EQ(decode<publish_view>(in, f, o).error(), errc::invalid_argument);
}

TEST(entry_points, a_frame_that_does_not_fit_the_bytes_reads_nothing_outside_them) {
    const auto in = annotated("40 02 00 07");
    const decode_options o{.version = protocol_version::v3_1_1};
    frame f = next_frame(in, o);
    // The frame of a longer buffer, handed the first three bytes only: incomplete, not a read
    // past the span.
    const std::span<const std::byte> short_in = std::span<const std::byte>(in).first(3);
    EXPECT_EQ(decode_frame(short_in, f, o).error(), errc::incomplete);
    EXPECT_EQ(decode<puback_view>(short_in, f, o).error(), errc::incomplete);
    // A frame still waiting for bytes is reported as such.
    f.status = errc::incomplete;
    EXPECT_EQ(decode_frame(in, f, o).error(), errc::incomplete);
    // A header size beyond the size is refused.
    f = next_frame(in, o);
    f.header_size = f.size + 1;
    EXPECT_EQ(decode_frame(in, f, o).error(), errc::incomplete);
}

TEST(entry_points, frame_flags_are_checked_from_the_first_byte_MQTT_2_2_2_2_MQTT5_2_1_3_1) {
    // PUBACK with a reserved flag set: refused by the framer given the options, after one byte.
    const auto one = annotated("41");
    EXPECT_EQ(next_frame(one, decode_options{}).status, errc::malformed_packet);
    // The plain framer only frames; decode_frame then refuses the flags.
    const auto in = annotated("41 02 00 07");
    const auto f = next_frame(std::span<const std::byte>(in), max_packet_size_limit);
    ASSERT_EQ(f.status, errc::success);
    EXPECT_EQ(decode_frame(in, f, decode_options{}).error(), errc::malformed_packet);
    EXPECT_EQ(decode<puback_view>(in, f, decode_options{}).error(), errc::malformed_packet);
}

TEST(entry_points, typed_decode_checks_every_first_byte_as_decode_frame_does_MQTT_2_2_2_2) {
    // Every type, every flag value, at every level, with an empty body: decode<P> (whose flag
    // check is a constant of the type in size-optimised builds) refuses exactly the first bytes
    // check_first_byte refuses, and otherwise agrees with decode_frame. MQTT 3.1 also allows 1010
    // on PUBREL, SUBSCRIBE and UNSUBSCRIBE; AUTH has no valid first byte before 5.0.
    std::size_t refused = 0;
    for (const auto v : {protocol_version::v3_1, protocol_version::v3_1_1, protocol_version::v5}) {
        const decode_options o{.version = v};
        for (unsigned t = 1; t < 16; ++t) {
            for (unsigned flags = 0; flags < 16; ++flags) {
                const std::array<std::byte, 2> in{static_cast<std::byte>(t << 4 | flags),
                                                  std::byte{0}};
                SCOPED_TRACE(testing::Message() << "level " << static_cast<unsigned>(v)
                                                << " first byte " << (t << 4 | flags));
                const auto f = next_frame(std::span<const std::byte>(in), max_packet_size_limit);
                ASSERT_EQ(f.status, errc::success);
                const auto expected =
                    check_first_byte(static_cast<std::uint8_t>(t << 4 | flags), v);
                const auto typed = decode_typed(in, f, o);
                const auto framed = decode_frame(in, f, o);
                EXPECT_EQ(errc_name(typed.error()), errc_name(framed.error()));
                if (expected != errc::success) {
                    EXPECT_EQ(typed.error(), errc::malformed_packet);
                    ++refused;
                }
            }
        }
    }
    EXPECT_GT(refused, 500u);
}

TEST(entry_points, the_maximum_packet_size_is_given_once) {
    const decode_options o{.version = protocol_version::v3_1_1, .max_packet_size = 10};
    const framer fr(o);
    EXPECT_EQ(fr.max_packet_size(), 10u);
    // 11 bytes: 30 09 + 9 body bytes.
    const auto big = annotated("30 09 00 01 61 62 63 64 65 66 67");
    EXPECT_EQ(fr.next(big).status, errc::packet_too_large);
    EXPECT_EQ(next_frame(big, o).status, errc::packet_too_large);
    EXPECT_EQ(decode_packet(big, o).error(), errc::packet_too_large);
}

// ---------------------------------------------------------------------------------------------
// Profiles

constexpr codec_profile v3_server{.v3 = true, .v5 = false, .from_client = true,
                                  .from_server = false};

TEST(entry_points, a_profile_gives_decode_packets_result_inside_it_and_its_error_outside) {
    std::size_t inside = 0;
    std::size_t outside = 0;
    for (const auto& v : all_vectors()) {
        SCOPED_TRACE(v.where() + " " + v.name);
        const std::span<const std::byte> in(v.bytes);
        const auto full = decode_packet(in, v.options);
        const auto narrow = decode_packet<client_v3_profile>(in, v.options);
        const bool level_ok = client_v3_profile.has(v.options.version);
        const auto type = static_cast<packet_type>(static_cast<unsigned>(v.bytes[0]) >> 4);
        const frame f = next_frame(in, v.options);
        if (!level_ok) {
            EXPECT_EQ(narrow.error(), f.status == errc::success ? errc::invalid_argument
                                                                : f.status);
            ++outside;
        } else if (f.status == errc::success && !client_v3_profile.receives(type)) {
            // A client is never sent CONNECT, SUBSCRIBE, UNSUBSCRIBE, PINGREQ (or AUTH or, before
            // 5.0, DISCONNECT): the direction rules' Protocol Error.
            EXPECT_EQ(narrow.error(), errc::protocol_error);
            ++outside;
        } else {
            ASSERT_EQ(errc_name(narrow.error()), errc_name(full.error()));
            if (narrow) {
                EXPECT_TRUE(narrow->packet == full->packet);
            }
            ++inside;
        }
    }
    EXPECT_GT(inside, 100u);
    EXPECT_GT(outside, 100u);
}

TEST(entry_points, a_level_left_out_of_the_profile_is_an_unsupported_version_in_connect) {
    const auto v5_connect = annotated(R"(
        10 0e                  # CONNECT, remaining length 14
        00 04 4d 51 54 54 05   # "MQTT", level 5
        02 00 3c 00            # clean start, keep alive 60, no properties
        00 01 63               # client id "c"
    )");
    const auto v4_connect = annotated(R"(
        10 0d                  # CONNECT, remaining length 13
        00 04 4d 51 54 54 04   # "MQTT", level 4
        02 00 3c               # clean session, keep alive 60
        00 01 63               # client id "c"
    )");
    const decode_options o{.version = protocol_version::v3_1_1};
    ASSERT_TRUE(decode_packet(v5_connect, o));
    EXPECT_EQ(decode_packet<v3_server>(v5_connect, o).error(), errc::unsupported_protocol_version);
    EXPECT_TRUE(decode_packet<v3_server>(v4_connect, o));
    constexpr codec_profile v5_server{.v3 = false, .v5 = true, .from_client = true,
                                      .from_server = false};
    EXPECT_EQ(decode_packet<v5_server>(v4_connect, decode_options{}).error(),
              errc::unsupported_protocol_version);
    EXPECT_TRUE(decode_packet<v5_server>(v5_connect, decode_options{}));
}

TEST(entry_points, encoding_outside_the_profile_is_refused_and_writes_nothing) {
    publish_view p;
    p.topic = "a/b";
    p.payload = "x";
    std::array<std::byte, 32> out{};
    out.fill(std::byte{0x5A});
    EXPECT_EQ(encode<client_v3_profile>(p, protocol_version::v5, out).error(),
              errc::invalid_argument);
    EXPECT_EQ(encoded_size<client_v3_profile>(p, protocol_version::v5).error(),
              errc::invalid_argument);
    for (auto b : out) ASSERT_EQ(b, std::byte{0x5A});
    const auto n = encode<client_v3_profile>(p, protocol_version::v3_1_1, out);
    ASSERT_TRUE(n);
    const auto full = encode(p, protocol_version::v3_1_1, out);
    EXPECT_EQ(*n, *full);
}

// ---------------------------------------------------------------------------------------------
// Byte-like buffers

TEST(entry_points, buffers_of_char_unsigned_char_and_uint8_t_encode_and_decode) {
    publish_view p;
    p.topic = "salon/luz/stat";
    p.qos = qos::at_least_once;
    p.packet_id = 9;
    p.payload = "ON";
    const decode_options o{.version = protocol_version::v3_1_1};

    std::uint8_t u8[64];
    const auto n = encode(p, protocol_version::v3_1_1, u8);
    ASSERT_TRUE(n);
    char c[64];
    ASSERT_EQ(*encode(p, protocol_version::v3_1_1, c), *n);
    std::vector<unsigned char> uc(*n);
    ASSERT_EQ(*encode(p, protocol_version::v3_1_1, uc), *n);
    std::array<std::byte, 64> b{};
    ASSERT_EQ(*encode(p, protocol_version::v3_1_1, b), *n);
    EXPECT_EQ(0, std::memcmp(u8, c, *n));
    EXPECT_EQ(0, std::memcmp(u8, uc.data(), *n));
    EXPECT_EQ(0, std::memcmp(u8, b.data(), *n));

    const std::span<const std::uint8_t> in(u8, *n);
    const auto r = decode_packet(in, o);
    ASSERT_TRUE(r) << errc_name(r.error());
    EXPECT_TRUE(r->packet == packet_view{p});
    const auto f = next_frame(uc, o);
    ASSERT_EQ(f.status, errc::success);
    EXPECT_EQ(decode<publish_view>(uc, f, o)->topic, "salon/luz/stat");
    EXPECT_EQ(decode_frame(std::span<const char>(c, *n), f, o).error(), errc::success);
    // A buffer one byte short is refused, whatever its element type.
    std::uint8_t small[4];
    EXPECT_EQ(encode(p, protocol_version::v3_1_1, small).error(), errc::buffer_too_small);
}

// ---------------------------------------------------------------------------------------------
// Properties built the wrong way

TEST(entry_points, a_property_value_of_the_wrong_wire_type_is_refused_at_encode) {
    publish_view p;
    p.topic = "t";
    std::array<std::byte, 64> out{};
    // An integer for Content Type (a UTF-8 string): not an empty Content Type.
    const property wrong[] = {{property_id::content_type, 5}};
    p.properties = wrong;
    EXPECT_EQ(encode(p, protocol_version::v5, out).error(), errc::invalid_argument);
    // A string for Message Expiry Interval (a Four Byte Integer).
    const property wrong2[] = {{property_id::message_expiry_interval, utf8_view("60")}};
    p.properties = wrong2;
    EXPECT_EQ(encode(p, protocol_version::v5, out).error(), errc::invalid_argument);
    // The typed factories cannot get it wrong.
    const property right[] = {property::content_type("json"),
                              property::message_expiry_interval(60),
                              property::user_property("k", "v")};
    p.properties = right;
    const auto n = encode(p, protocol_version::v5, out);
    ASSERT_TRUE(n) << errc_name(n.error());
    const auto r = decode_packet(std::span<const std::byte>(out).first(*n), decode_options{});
    ASSERT_TRUE(r);
    const auto& got = std::get<publish_view>(r->packet).properties;
    EXPECT_EQ(got.find(property_id::content_type)->string, "json");
    EXPECT_EQ(got.integer_or(property_id::message_expiry_interval, 0), 60u);
    // Decoded properties know their kind too, so they re-encode.
    for (const auto& prop : got) EXPECT_NE(prop.kind, property_value_kind::none);
}

// ---------------------------------------------------------------------------------------------
// CONNACK acceptance and reason codes

TEST(entry_points, connack_accepted_reads_every_level_right_MQTT_3_2_2_3_MQTT5_3_2_2_7) {
    const auto connack = [](std::string_view text, protocol_version v) {
        const auto bytes = annotated(text);
        const auto r = decode_packet(bytes, decode_options{.version = v});
        EXPECT_TRUE(r) << text;
        return r ? std::get<connack_view>(r->packet).accepted() : false;
    };
    // 3.1.1 return code 5 (not authorized) is a refusal, although it is below 0x80.
    EXPECT_FALSE(connack("20 02 00 05", protocol_version::v3_1_1));
    EXPECT_TRUE(connack("20 02 01 00", protocol_version::v3_1_1));
    EXPECT_TRUE(connack("20 03 00 00 00", protocol_version::v5));
    EXPECT_FALSE(connack("20 03 00 87 00", protocol_version::v5));
}

TEST(entry_points, errc_and_reason_code_convert_both_ways) {
    EXPECT_EQ(to_reason_code(errc::success), reason_code::success);
    EXPECT_EQ(to_reason_code(errc::malformed_packet), reason_code::malformed_packet);
    EXPECT_EQ(to_reason_code(errc::packet_too_large), reason_code::packet_too_large);
    EXPECT_EQ(to_reason_code(errc::incomplete), reason_code::unspecified_error);
    EXPECT_EQ(to_reason_code(errc::buffer_too_small), reason_code::unspecified_error);
    // Topic Alias invalid is no CONNACK code: the CONNACK gets Unspecified error.
    EXPECT_EQ(to_reason_code(errc::topic_alias_invalid, reason_context::connack),
              reason_code::unspecified_error);
    EXPECT_EQ(to_reason_code(errc::topic_alias_invalid, reason_context::disconnect),
              reason_code::topic_alias_invalid);
    EXPECT_EQ(to_errc(reason_code::granted_qos_1), errc::success);
    EXPECT_EQ(to_errc(reason_code::protocol_error), errc::protocol_error);
    // Every errc at or above 0x80 is its reason code and back.
    for (unsigned i = 0x80; i < 0x100; ++i) {
        const auto e = static_cast<errc>(i);
        if (errc_name(e) == "unknown") continue;
        EXPECT_EQ(to_errc(to_reason_code(e)), e) << i;
        EXPECT_TRUE(is_defined(to_reason_code(e))) << i;
    }
}

#if !defined(NDEBUG)
TEST(entry_points, value_of_an_error_traps_in_debug_builds) {
    const result<int> r(errc::malformed_packet);
    EXPECT_DEATH({ [[maybe_unused]] const int v = r.value(); }, "");
}
#endif

// Views stay two words (a pointer and a length) and the largest decode result small: what the
// 32-bit table in bench/README.md reports for a Cortex-M4 holds on this target too.
static_assert(sizeof(utf8_view) == 2 * sizeof(void*));
static_assert(sizeof(binary_view) == 2 * sizeof(void*));
static_assert(sizeof(optional_view<utf8_view>) == 2 * sizeof(void*));
static_assert(sizeof(properties_view) <= 2 * sizeof(void*) + 8);

} // namespace
} // namespace mqttwire::test
