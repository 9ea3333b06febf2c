// PUBACK, PUBREC, PUBREL, PUBCOMP (MQTT 3.1; MQTT 3.1.1 sections 3.4-3.7; MQTT 5.0 sections
// 3.4-3.7): fields of every valid vector in tests/vectors/pubacks.vec, the reason-code sets, the
// short forms, encoding from values and Maximum Packet Size trimming.

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "test_support.hpp"

namespace mqttwire::test {
namespace {

std::string norm(std::string_view text) { return to_hex(hex(text)); }

std::vector<std::string> user_pairs(const properties_view& props) {
    std::vector<std::string> out;
    for (const auto& p : props)
        if (p.id == property_id::user_property)
            out.push_back(str(p.pair().name) + "=" + str(p.pair().value));
    return out;
}

// ---------------------------------------------------------------------------------------------
// Fields of the valid vectors
// ---------------------------------------------------------------------------------------------

TEST(puback_fields, v311) {
    EXPECT_EQ(decode_as<puback_view>(vec("puback_v311")).packet_id, 1);
    EXPECT_EQ(decode_as<pubrec_view>(vec("pubrec_v311")).packet_id, 0x1234);
    EXPECT_EQ(decode_as<pubrel_view>(vec("pubrel_v311")).packet_id, 65535); // MQTT-3.6.1-1
    EXPECT_EQ(decode_as<pubcomp_view>(vec("pubcomp_v311")).packet_id, 10);
    // 3.1.1 has no reason code or properties.
    const auto a = decode_as<puback_view>(vec("puback_v311"));
    EXPECT_EQ(a.reason, reason_code::success);
    EXPECT_TRUE(a.properties.empty());
}

TEST(puback_fields, v31) {
    EXPECT_EQ(decode_as<puback_view>(vec("puback_v31")).packet_id, 5);
    EXPECT_EQ(decode_as<pubrel_view>(vec("pubrel_v31")).packet_id, 5);
}

TEST(puback_fields, v5_length_2_means_success_without_properties) {
    // 5.0 sections 3.4.2.1, 3.5.2.1, 3.6.2.1, 3.7.2.1: Remaining Length 2 means 0x00 Success.
    const auto a = decode_as<puback_view>(vec("puback_v5_length_2"));
    EXPECT_EQ(a.packet_id, 1);
    EXPECT_EQ(a.reason, reason_code::success);
    EXPECT_TRUE(a.properties.empty());
    const auto b = decode_as<pubrec_view>(vec("pubrec_v5_length_2"));
    EXPECT_EQ(b.packet_id, 2);
    EXPECT_EQ(b.reason, reason_code::success);
    const auto c = decode_as<pubrel_view>(vec("pubrel_v5_length_2"));
    EXPECT_EQ(c.packet_id, 3);
    EXPECT_EQ(c.reason, reason_code::success);
    const auto d = decode_as<pubcomp_view>(vec("pubcomp_v5_length_2"));
    EXPECT_EQ(d.packet_id, 4);
    EXPECT_EQ(d.reason, reason_code::success);
    EXPECT_TRUE(d.properties.empty());
}

TEST(puback_fields, v5_length_3_has_reason_code_and_no_properties) {
    // "If the Remaining Length is less than 4 there is no Property Length and the value of 0 is
    // used" (5.0 sections 3.4.2.2.1 ff.).
    const auto a = decode_as<puback_view>(vec("puback_v5_reason_only"));
    EXPECT_EQ(a.packet_id, 1);
    EXPECT_EQ(a.reason, reason_code::no_matching_subscribers);
    EXPECT_TRUE(a.properties.empty());
    const auto b = decode_as<pubrec_view>(vec("pubrec_v5_reason_only"));
    EXPECT_EQ(b.reason, reason_code::unspecified_error);
    const auto c = decode_as<pubrel_view>(vec("pubrel_v5_reason_only"));
    EXPECT_EQ(c.reason, reason_code::packet_identifier_not_found);
    const auto d = decode_as<pubcomp_view>(vec("pubcomp_v5_reason_only"));
    EXPECT_EQ(d.reason, reason_code::packet_identifier_not_found);
    EXPECT_TRUE(d.properties.empty());
}

TEST(puback_fields, v5_non_canonical_forms_decode_to_the_short_form) {
    const auto a = decode_as<puback_view>(vec("puback_v5_success_reason_byte"));
    EXPECT_EQ(a.reason, reason_code::success);
    EXPECT_TRUE(a.properties.empty());
    EXPECT_EQ(encoded(a, v5), norm("40 02 00 01"));
    const auto b = decode_as<puback_view>(vec("puback_v5_zero_property_length"));
    EXPECT_EQ(b.reason, reason_code::success);
    EXPECT_TRUE(b.properties.empty());
    EXPECT_EQ(encoded(b, v5), norm("40 02 00 01"));
    const auto c = decode_as<puback_view>(vec("puback_v5_reason_zero_property_length"));
    EXPECT_EQ(c.reason, reason_code::no_matching_subscribers);
    EXPECT_TRUE(c.properties.empty());
    EXPECT_EQ(encoded(c, v5), norm("40 03 00 01 10"));
    const auto d = decode_as<pubcomp_view>(vec("pubcomp_v5_zero_property_length"));
    EXPECT_EQ(d.packet_id, 4);
    EXPECT_EQ(encoded(d, v5), norm("70 02 00 04"));
}

TEST(puback_fields, v5_reason_string) {
    // 5.0 section 3.4.2.2.2: the Reason String is read back as sent.
    const auto a = decode_as<puback_view>(vec("puback_v5_reason_string"));
    EXPECT_EQ(a.reason, reason_code::quota_exceeded);
    EXPECT_EQ(a.properties.size(), 1u);
    ASSERT_TRUE(a.properties.find(property_id::reason_string).has_value());
    EXPECT_EQ(str(a.properties.find(property_id::reason_string)->string), "quota");
}

TEST(puback_fields, v5_user_properties) {
    const auto a = decode_as<puback_view>(vec("puback_v5_user_properties"));
    EXPECT_EQ(a.reason, reason_code::success);
    EXPECT_EQ(a.properties.count(property_id::user_property), 2u);
    EXPECT_EQ(user_pairs(a.properties), (std::vector<std::string>{"a=b", "a=c"}));
    EXPECT_FALSE(a.properties.contains(property_id::reason_string));
}

TEST(puback_fields, v5_pubrec_reason_string_and_user_property) {
    const auto r = decode_as<pubrec_view>(vec("pubrec_v5_reason_string_and_user_property"));
    EXPECT_EQ(r.packet_id, 2);
    EXPECT_EQ(r.reason, reason_code::payload_format_invalid);
    EXPECT_EQ(str(r.properties.find(property_id::reason_string)->string), "bad");
    EXPECT_EQ(user_pairs(r.properties), (std::vector<std::string>{"k=v"}));
}

TEST(puback_fields, v5_pubrel_reason_string_and_user_property) {
    const auto r = decode_as<pubrel_view>(vec("pubrel_v5_reason_string_and_user_property"));
    EXPECT_EQ(r.packet_id, 3);
    EXPECT_EQ(r.reason, reason_code::success);
    EXPECT_EQ(str(r.properties.find(property_id::reason_string)->string), "ok");
    EXPECT_EQ(user_pairs(r.properties), (std::vector<std::string>{"k="}));
}

TEST(puback_fields, v5_pubcomp_reason_string_and_user_property) {
    const auto r = decode_as<pubcomp_view>(vec("pubcomp_v5_reason_string_and_user_property"));
    EXPECT_EQ(r.packet_id, 4);
    EXPECT_EQ(r.reason, reason_code::packet_identifier_not_found);
    EXPECT_EQ(str(r.properties.find(property_id::reason_string)->string), "unknown");
    EXPECT_EQ(user_pairs(r.properties), (std::vector<std::string>{"x=y"}));
    std::vector<property_id> order;
    for (const auto& p : r.properties) order.push_back(p.id);
    EXPECT_EQ(order,
              (std::vector<property_id>{property_id::reason_string, property_id::user_property}));
}

// ---------------------------------------------------------------------------------------------
// MQTT 3.1: the DUP bit on a retransmitted PUBREL
// ---------------------------------------------------------------------------------------------

TEST(pubrel_v31, dup_flag_accepted_only_at_level_3) {
    // MQTT 3.1 (fixed header, DUP flag): "set when the client or server attempts to re-deliver
    // a PUBLISH, PUBREL, SUBSCRIBE or UNSUBSCRIBE message"; the 3.1 PUBREL uses QoS 1, so a
    // retransmitted PUBREL starts 6A. MQTT-3.6.1-1 / MQTT5-3.6.1-1 reserve those bits as 0010.
    const auto bytes = hex("6a 02 00 01");
    const auto r = decode_packet(bytes, {.version = v31});
    ASSERT_TRUE(r.has_value()) << errc_name(r.error());
    ASSERT_TRUE(std::holds_alternative<pubrel_view>(r->packet));
    EXPECT_EQ(std::get<pubrel_view>(r->packet).packet_id, 1);
    EXPECT_EQ(r->size, 4u);
    // Re-encoded as a first transmission (the view has no DUP), still a valid 3.1 PUBREL.
    EXPECT_EQ(encoded(std::get<pubrel_view>(r->packet), v31), norm("62 02 00 01"));
    EXPECT_EQ(decode_packet(bytes, {.version = v311}).error(), errc::malformed_packet);
    EXPECT_EQ(decode_packet(bytes, {.version = v5}).error(), errc::malformed_packet);
}

// ---------------------------------------------------------------------------------------------
// Reason-code sets (tables 3-4 to 3-7)
// ---------------------------------------------------------------------------------------------

// Decodes a length-3 ack of type `first` with reason `code`.
errc decode_reason(std::uint8_t first, unsigned code) {
    std::vector<std::byte> bytes{std::byte{first}, std::byte{0x03}, std::byte{0x00},
                                 std::byte{0x01}, static_cast<std::byte>(code)};
    return decode_packet(bytes, {.version = v5}).error();
}

void check_reason_set(std::uint8_t first, const std::set<unsigned>& allowed, const char* what) {
    std::string wrong;
    for (unsigned code = 0; code < 256; ++code) {
        const auto got = decode_reason(first, code);
        const auto want = allowed.count(code) != 0 ? errc::success : errc::protocol_error;
        if (got != want) wrong += " " + std::to_string(code) + ":" + std::string(errc_name(got));
    }
    EXPECT_TRUE(wrong.empty()) << what << " reason codes decoded wrongly:" << wrong;
}

const std::set<unsigned> puback_codes{0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99};
const std::set<unsigned> pubrel_codes{0x00, 0x92};

TEST(puback_reason_codes, puback_table_3_4) {
    check_reason_set(0x40, puback_codes, "PUBACK"); // MQTT5-3.4.2-1
}
TEST(puback_reason_codes, pubrec_table_3_5) {
    check_reason_set(0x50, puback_codes, "PUBREC"); // MQTT5-3.5.2-1
}
TEST(puback_reason_codes, pubrel_table_3_6) {
    check_reason_set(0x62, pubrel_codes, "PUBREL"); // MQTT5-3.6.2-1
}
TEST(puback_reason_codes, pubcomp_table_3_7) {
    check_reason_set(0x70, pubrel_codes, "PUBCOMP"); // MQTT5-3.7.2-1
}

TEST(puback_reason_codes, is_allowed_matches_the_tables) {
    for (unsigned code = 0; code < 256; ++code) {
        const auto rc = static_cast<reason_code>(code);
        EXPECT_EQ(is_allowed(rc, reason_context::puback), puback_codes.count(code) != 0) << code;
        EXPECT_EQ(is_allowed(rc, reason_context::pubrec), puback_codes.count(code) != 0) << code;
        EXPECT_EQ(is_allowed(rc, reason_context::pubrel), pubrel_codes.count(code) != 0) << code;
        EXPECT_EQ(is_allowed(rc, reason_context::pubcomp), pubrel_codes.count(code) != 0) << code;
    }
}

TEST(puback_reason_codes, names) {
    EXPECT_EQ(reason_code_name(reason_code::success, reason_context::puback), "Success");
    EXPECT_EQ(reason_code_name(reason_code::no_matching_subscribers, reason_context::puback),
              "No matching subscribers");
    EXPECT_EQ(reason_code_name(reason_code::packet_identifier_not_found, reason_context::pubrel),
              "Packet Identifier not found");
    EXPECT_EQ(reason_code_name(reason_code::payload_format_invalid, reason_context::pubrec),
              "Payload format invalid");
}

TEST(puback_reason_codes, encoder_refuses_a_code_outside_the_set) {
    // MQTT5-3.4.2-1, MQTT5-3.5.2-1, MQTT5-3.6.2-1, MQTT5-3.7.2-1: the sender uses one of them.
    puback_view a{.packet_id = 1, .reason = reason_code::packet_identifier_not_found};
    EXPECT_EQ(encoded(a, v5), failed(errc::protocol_error));
    pubrec_view b{.packet_id = 1, .reason = reason_code::granted_qos_1};
    EXPECT_EQ(encoded(b, v5), failed(errc::protocol_error));
    pubrel_view c{.packet_id = 1, .reason = reason_code::no_matching_subscribers};
    EXPECT_EQ(encoded(c, v5), failed(errc::protocol_error));
    pubcomp_view d{.packet_id = 1, .reason = reason_code::unspecified_error};
    EXPECT_EQ(encoded(d, v5), failed(errc::protocol_error));
}

// ---------------------------------------------------------------------------------------------
// Encoding from values
// ---------------------------------------------------------------------------------------------

TEST(puback_encode, v311_two_bytes_of_packet_identifier) {
    EXPECT_EQ(encoded(puback_view{.packet_id = 1}, v311), norm("40 02 00 01"));
    EXPECT_EQ(encoded(pubrec_view{.packet_id = 0x1234}, v311), norm("50 02 12 34"));
    EXPECT_EQ(encoded(pubrel_view{.packet_id = 0xffff}, v311), norm("62 02 ff ff")); // MQTT-3.6.1-1
    EXPECT_EQ(encoded(pubcomp_view{.packet_id = 10}, v311), norm("70 02 00 0a"));
}

TEST(puback_encode, v311_ignores_reason_and_properties) {
    property props[] = {{property_id::reason_string, "r"}};
    puback_view a{.packet_id = 1,
                  .reason = reason_code::no_matching_subscribers,
                  .properties = properties_view(props)};
    EXPECT_EQ(encoded(a, v311), norm("40 02 00 01"));
    EXPECT_EQ(encoded(a, v31), norm("40 02 00 01"));
}

TEST(puback_encode, v5_shortest_forms) {
    // Success and no properties: Remaining Length 2 (5.0 section 3.4.2.1).
    EXPECT_EQ(encoded(puback_view{.packet_id = 1}, v5), norm("40 02 00 01"));
    EXPECT_EQ(encoded(pubrel_view{.packet_id = 3}, v5), norm("62 02 00 03"));
    // Another reason and no properties: Remaining Length 3 (5.0 section 3.4.2.2.1).
    EXPECT_EQ(encoded(puback_view{.packet_id = 1, .reason = reason_code::no_matching_subscribers}, v5),
              norm("40 03 00 01 10"));
    EXPECT_EQ(
        encoded(pubcomp_view{.packet_id = 4, .reason = reason_code::packet_identifier_not_found}, v5),
        norm("70 03 00 04 92"));
}

TEST(puback_encode, v5_success_with_properties_writes_the_reason_code) {
    property props[] = {user_property("a", "b")};
    EXPECT_EQ(encoded(puback_view{.packet_id = 1, .properties = properties_view(props)}, v5),
              norm("40 0b 00 01 00 07 26 00 01 61 00 01 62"));
}

TEST(puback_encode, v5_each_ack_with_reason_string_and_user_property) {
    property props[] = {{property_id::reason_string, "bad"}, user_property("k", "v")};
    // RL 17 = 2 + 1 + 1 + 13; properties: 1f 00 03 "bad" (6) + 26 "k" "v" (7).
    const std::string tail = "00 02 99 0d 1f 00 03 62 61 64 26 00 01 6b 00 01 76";
    EXPECT_EQ(encoded(puback_view{.packet_id = 2,
                              .reason = reason_code::payload_format_invalid,
                              .properties = properties_view(props)},
                  v5),
              norm("40 11 " + tail));
    EXPECT_EQ(encoded(pubrec_view{.packet_id = 2,
                              .reason = reason_code::payload_format_invalid,
                              .properties = properties_view(props)},
                  v5),
              norm("50 11 " + tail));
    const std::string tail92 = "00 02 92 0d 1f 00 03 62 61 64 26 00 01 6b 00 01 76";
    EXPECT_EQ(encoded(pubrel_view{.packet_id = 2,
                              .reason = reason_code::packet_identifier_not_found,
                              .properties = properties_view(props)},
                  v5),
              norm("62 11 " + tail92));
    EXPECT_EQ(encoded(pubcomp_view{.packet_id = 2,
                               .reason = reason_code::packet_identifier_not_found,
                               .properties = properties_view(props)},
                  v5),
              norm("70 11 " + tail92));
}

TEST(puback_encode, refuses_packet_id_0) {
    // MQTT-2.3.1-6 / MQTT5-2.2.1-5: an ack carries the (non-zero) identifier of its PUBLISH.
    for (auto v : {v311, v5}) {
        EXPECT_EQ(encoded(puback_view{}, v), failed(errc::protocol_error));
        EXPECT_EQ(encoded(pubrec_view{}, v), failed(errc::protocol_error));
        EXPECT_EQ(encoded(pubrel_view{}, v), failed(errc::protocol_error));
        EXPECT_EQ(encoded(pubcomp_view{}, v), failed(errc::protocol_error));
    }
}

TEST(puback_encode, refuses_properties_not_allowed_or_duplicated) {
    // 5.0 section 2.2.2.2 (wrong packet type: malformed); 3.4.2.2.2 (Reason String twice).
    property alias[] = {{property_id::topic_alias, 1}};
    EXPECT_EQ(encoded(puback_view{.packet_id = 1, .properties = properties_view(alias)}, v5),
              failed(errc::malformed_packet));
    property twice[] = {{property_id::reason_string, "a"}, {property_id::reason_string, "b"}};
    EXPECT_EQ(encoded(pubrel_view{.packet_id = 1, .properties = properties_view(twice)}, v5),
              failed(errc::protocol_error));
    property bad_pair[] = {user_property("k", "\xc0\xaf")};
    EXPECT_EQ(encoded(pubcomp_view{.packet_id = 1, .properties = properties_view(bad_pair)}, v5),
              failed(errc::malformed_packet)); // MQTT5-1.5.7-1
}

// ---------------------------------------------------------------------------------------------
// Maximum Packet Size: Reason String first, then User Properties
// (MQTT5-3.4.2-2, MQTT5-3.4.2-3, MQTT5-3.5.2-2, MQTT5-3.5.2-3, MQTT5-3.6.2-2, MQTT5-3.6.2-3,
// MQTT5-3.7.2-2, MQTT5-3.7.2-3)
// ---------------------------------------------------------------------------------------------

// Sizes for reason `rc` with properties reason string "too big" (1f 00 07 ..., 10 bytes) and
// user property "k"="v" (26 00 01 6b 00 01 76, 7 bytes):
//   full:        RL 21 = 2 + 1 + 1 + 17   -> 23 bytes
//   no reason:   RL 11 = 2 + 1 + 1 + 7    -> 13 bytes
//   neither:     RL 3  = 2 + 1            ->  5 bytes
template <class P> void check_trimming(std::uint8_t first, reason_code rc) {
    property props[] = {{property_id::reason_string, "too big"}, user_property("k", "v")};
    const P p{.packet_id = 1, .reason = rc, .properties = properties_view(props)};
    const std::string type = to_hex(std::vector<std::byte>{std::byte{first}});
    const std::string code = to_hex(std::vector<std::byte>{static_cast<std::byte>(rc)});
    const auto full =
        norm(type + " 15 00 01 " + code + " 11 1f 00 07 74 6f 6f 20 62 69 67 26 00 01 6b 00 01 76");
    const auto without_reason_string =
        norm(type + " 0b 00 01 " + code + " 07 26 00 01 6b 00 01 76");
    const auto bare = norm(type + " 03 00 01 " + code);

    EXPECT_EQ(encoded(p, v5), full);
    EXPECT_EQ(encoded(p, v5, encode_options{.max_packet_size = 23}), full);
    // The Reason String alone goes first; the User Property stays.
    EXPECT_EQ(encoded(p, v5, encode_options{.max_packet_size = 22}), without_reason_string);
    EXPECT_EQ(encoded(p, v5, encode_options{.max_packet_size = 13}), without_reason_string);
    // Then the User Properties.
    EXPECT_EQ(encoded(p, v5, encode_options{.max_packet_size = 12}), bare);
    EXPECT_EQ(encoded(p, v5, encode_options{.max_packet_size = 5}), bare);
    // Nothing more can go: the packet does not fit at all.
    EXPECT_EQ(encoded(p, v5, encode_options{.max_packet_size = 4}), failed(errc::packet_too_large));

    // With Success the bare form is the two-byte one.
    const P s{.packet_id = 1, .properties = properties_view(props)};
    EXPECT_EQ(encoded(s, v5, encode_options{.max_packet_size = 12}), norm(type + " 02 00 01"));
    EXPECT_EQ(encoded(s, v5, encode_options{.max_packet_size = 3}), failed(errc::packet_too_large));
}

TEST(puback_max_packet_size, puback) {
    check_trimming<puback_view>(0x40, reason_code::quota_exceeded); // MQTT5-3.4.2-2 MQTT5-3.4.2-3
}
TEST(puback_max_packet_size, pubrec) {
    check_trimming<pubrec_view>(0x50, reason_code::not_authorized); // MQTT5-3.5.2-2 MQTT5-3.5.2-3
}
TEST(puback_max_packet_size, pubrel) {
    // MQTT5-3.6.2-2 MQTT5-3.6.2-3
    check_trimming<pubrel_view>(0x62, reason_code::packet_identifier_not_found);
}
TEST(puback_max_packet_size, pubcomp) {
    // MQTT5-3.7.2-2 MQTT5-3.7.2-3
    check_trimming<pubcomp_view>(0x70, reason_code::packet_identifier_not_found);
}

TEST(puback_max_packet_size, every_user_property_counts) {
    // MQTT5-3.4.2-3: with several User Properties the packet still ends up within the limit.
    property props[] = {user_property("a", "1"), user_property("b", "2"), user_property("c", "3")};
    const puback_view p{.packet_id = 1, .properties = properties_view(props)};
    // Full: RL 2 + 1 + 1 + 21 = 25, 27 bytes.
    EXPECT_EQ(encoded(p, v5, encode_options{.max_packet_size = 27}),
              norm("40 19 00 01 00 15 26 00 01 61 00 01 31 26 00 01 62 00 01 32"
                   "26 00 01 63 00 01 33"));
    for (std::uint32_t limit = 4; limit < 27; ++limit) {
        std::vector<std::byte> out(64);
        const auto n =
            encode(p, v5, std::span<std::byte>(out), encode_options{.max_packet_size = limit});
        ASSERT_TRUE(n.has_value()) << limit;
        EXPECT_LE(*n, limit);
        const auto back =
            decode_packet(std::span<const std::byte>(out.data(), *n), {.version = v5});
        ASSERT_TRUE(back.has_value());
        EXPECT_EQ(std::get<puback_view>(back->packet).packet_id, 1);
    }
}

TEST(puback_max_packet_size, decoded_ack_is_trimmed_too) {
    // A decoded (wire-backed) property block is filtered the same way.
    const auto r = decode_as<pubcomp_view>(vec("pubcomp_v5_reason_string_and_user_property"));
    EXPECT_EQ(encoded(r, v5, encode_options{.max_packet_size = 22}),
              norm("70 0b 00 04 92 07 26 00 01 78 00 01 79"));
    EXPECT_EQ(encoded(r, v5, encode_options{.max_packet_size = 12}), norm("70 03 00 04 92"));
}

} // namespace
} // namespace mqttwire::test
