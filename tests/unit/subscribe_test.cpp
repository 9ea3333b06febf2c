// SUBSCRIBE and SUBACK (MQTT 3.1.1 sections 3.8-3.9, MQTT 5.0 sections 3.8-3.9).
//
// The generic harness (vectors_test.cpp) already decodes every vector of subscribe.vec, checks
// its outcome and round-trips the valid ones. Here: the FIELDS of every valid vector, encoding
// from values against hand-written bytes, the encoder's refusals (it never emits what the
// decoder refuses) and the Maximum Packet Size trimming of SUBACK.

#include <gtest/gtest.h>

#include <array>
#include <cstddef>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "test_support.hpp"

namespace mqttwire::test::subscribe_tests {
namespace {

using namespace std::string_view_literals;

// Hex text in the canonical form of to_hex ("82 06 00 0a ...").

// The name of the error encode gives for `p` ("success" when it encodes); encoded_size must give
// the same one (one code path) and nothing may be written.
template <class P> std::string_view encode_error(const P& p, protocol_version v) {
    std::array<std::byte, 512> out{};
    out.fill(std::byte{0x5A});
    const auto n = encode(p, v, out);
    const auto s = encoded_size(p, v);
    EXPECT_EQ(errc_name(s.error()), errc_name(n.error())) << "encoded_size and encode disagree";
    for (auto b : out)
        if (b != std::byte{0x5A}) {
            ADD_FAILURE() << "a refused encode wrote bytes";
            break;
        }
    return errc_name(n.error());
}

std::vector<subscription> entries(const subscribe_view& s) {
    std::vector<subscription> out;
    for (const auto& e : s.subscriptions) out.push_back(e);
    EXPECT_EQ(out.size(), s.subscriptions.size());
    return out;
}

std::vector<unsigned> codes(const reason_code_list& l) {
    std::vector<unsigned> out;
    for (const auto rc : l) out.push_back(static_cast<unsigned>(rc));
    EXPECT_EQ(out.size(), l.size());
    return out;
}

std::vector<std::pair<std::string, std::string>> user_properties(const properties_view& p) {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& x : p)
        if (x.id == property_id::user_property) out.emplace_back(str(x.string), str(x.value));
    return out;
}

void expect_entry(const subscription& s, std::string_view filter, qos max_qos, bool no_local,
                  bool retain_as_published, retain_handling rh) {
    EXPECT_EQ(str(s.filter), filter);
    EXPECT_EQ(s.options.max_qos, max_qos) << filter;
    EXPECT_EQ(s.options.no_local, no_local) << filter;
    EXPECT_EQ(s.options.retain_as_published, retain_as_published) << filter;
    EXPECT_EQ(s.options.retain_handling, rh) << filter;
}

// The 3.1.1 options byte has only the requested QoS.
void expect_entry(const subscription& s, std::string_view filter, qos max_qos) {
    expect_entry(s, filter, max_qos, false, false, retain_handling::send_on_subscribe);
}

using rh = retain_handling;

// =============================================================================================
// SUBSCRIBE: fields of the valid vectors
// =============================================================================================

// MQTT-3.8.3-1, MQTT-2.3.1-1
TEST(subscribe_fields, v311_one_filter_qos0_MQTT_3_8_3_1) {
    const auto s = decode_as<subscribe_view>(vec("subscribe_v311_one_filter_qos0"));
    EXPECT_EQ(s.packet_id, 10);
    EXPECT_TRUE(s.properties.empty());
    const auto e = entries(s);
    ASSERT_EQ(e.size(), 1u);
    expect_entry(e[0], "a", qos::at_most_once);
}

// MQTT-3.8.3-1, MQTT-3.8.3-4: every requested QoS, entries in wire order.
TEST(subscribe_fields, v311_three_filters_qos012_MQTT_3_8_3_4) {
    const auto s = decode_as<subscribe_view>(vec("subscribe_v311_three_filters_qos012"));
    EXPECT_EQ(s.packet_id, 1);
    const auto e = entries(s);
    ASSERT_EQ(e.size(), 3u);
    expect_entry(e[0], "a/b", qos::at_most_once);
    expect_entry(e[1], "c/+", qos::at_least_once);
    expect_entry(e[2], "#", qos::exactly_once);
    // Indexed access agrees with iteration.
    EXPECT_EQ(str(s.subscriptions[1].filter), "c/+");
    EXPECT_EQ(s.subscriptions[2].options.max_qos, qos::exactly_once);
}

// MQTT-3.8.3-1: invalid filter syntax is the broker's (SUBACK 0x80), the packet is valid.
TEST(subscribe_fields, v311_filter_syntax_invalid_is_valid_packet_MQTT_3_8_3_1) {
    const auto s =
        decode_as<subscribe_view>(vec("subscribe_v311_filter_syntax_invalid_is_valid_packet"));
    EXPECT_EQ(s.packet_id, 11);
    const auto e = entries(s);
    ASSERT_EQ(e.size(), 2u);
    expect_entry(e[0], "a/#/b", qos::at_most_once);
    expect_entry(e[1], "a+", qos::at_least_once);
    EXPECT_EQ(validate_topic_filter(str(e[0].filter)), errc::topic_filter_invalid);
    EXPECT_EQ(validate_topic_filter(str(e[1].filter)), errc::topic_filter_invalid);
}

TEST(subscribe_fields, v31_two_filters) {
    const auto s = decode_as<subscribe_view>(vec("subscribe_v31_two_filters"));
    EXPECT_EQ(s.packet_id, 2);
    const auto e = entries(s);
    ASSERT_EQ(e.size(), 2u);
    expect_entry(e[0], "s/t1", qos::at_least_once);
    expect_entry(e[1], "x/#", qos::exactly_once);
}

TEST(subscribe_fields, v31_one_filter_qos0) {
    const auto s = decode_as<subscribe_view>(vec("subscribe_v31_one_filter_qos0"));
    EXPECT_EQ(s.packet_id, 3);
    const auto e = entries(s);
    ASSERT_EQ(e.size(), 1u);
    expect_entry(e[0], "+", qos::at_most_once);
}

// MQTT 3.1 section 2.1: a resent SUBSCRIBE may carry DUP (first byte 0x8A). 3.1.1 reserves the
// bit (vector subscribe_v311_flags_dup_set); the encoder writes the 3.1.1 form 0x82.
TEST(subscribe_fields, v31_dup_flag_accepted) {
    const auto bytes = hex("8a 06 00 0a 00 01 61 01");
    const auto r = decode_packet(bytes, {.version = v31});
    ASSERT_TRUE(r.has_value()) << errc_name(r.error());
    const auto* s = std::get_if<subscribe_view>(&r->packet);
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->packet_id, 10);
    const auto e = entries(*s);
    ASSERT_EQ(e.size(), 1u);
    expect_entry(e[0], "a", qos::at_least_once);
    EXPECT_EQ(encoded(*s, v31), bytes_of("82 06 00 0a 00 01 61 01"));
    EXPECT_EQ(decode_packet(bytes, {.version = v311}).error(), errc::malformed_packet);
}

// MQTT5-3.8.3-5 (bits 7-6 zero) and 5.0 section 3.8.3.1: every option bit decodes to its field.
TEST(subscribe_fields, v5_every_option_MQTT5_3_8_3_5) {
    const auto s = decode_as<subscribe_view>(vec("subscribe_v5_every_option"));
    EXPECT_EQ(s.packet_id, 10);
    EXPECT_TRUE(s.properties.empty());
    const auto e = entries(s);
    ASSERT_EQ(e.size(), 8u);
    expect_entry(e[0], "a", qos::at_most_once, false, false, rh::send_on_subscribe);
    expect_entry(e[1], "b", qos::at_least_once, false, false, rh::send_on_subscribe);
    expect_entry(e[2], "c", qos::exactly_once, false, false, rh::send_on_subscribe);
    expect_entry(e[3], "d", qos::at_most_once, true, false, rh::send_on_subscribe);
    expect_entry(e[4], "e", qos::at_most_once, false, true, rh::send_on_subscribe);
    expect_entry(e[5], "f", qos::at_most_once, false, false, rh::send_if_new_subscription);
    expect_entry(e[6], "g", qos::at_most_once, false, false, rh::do_not_send);
    expect_entry(e[7], "h", qos::exactly_once, true, true, rh::do_not_send);
}

TEST(subscribe_fields, v5_all_options_rh1_qos1) {
    const auto s = decode_as<subscribe_view>(vec("subscribe_v5_all_options_rh1_qos1"));
    EXPECT_EQ(s.packet_id, 1);
    const auto e = entries(s);
    ASSERT_EQ(e.size(), 1u);
    expect_entry(e[0], "z", qos::at_least_once, true, true, rh::send_if_new_subscription);
    EXPECT_EQ(e[0].options.to_byte(), 0x1D);
}

// 5.0 section 3.8.2.1.2: Subscription Identifier, a Variable Byte Integer 1..268,435,455.
TEST(subscribe_fields, v5_subscription_identifier_1) {
    const auto s = decode_as<subscribe_view>(vec("subscribe_v5_subscription_identifier_1"));
    EXPECT_EQ(s.packet_id, 5);
    EXPECT_EQ(s.properties.size(), 1u);
    ASSERT_TRUE(s.properties.contains(property_id::subscription_identifier));
    EXPECT_EQ(s.properties.find(property_id::subscription_identifier)->integer, 1u);
    const auto e = entries(s);
    ASSERT_EQ(e.size(), 1u);
    expect_entry(e[0], "a", qos::at_least_once, false, false, rh::send_on_subscribe);
}

TEST(subscribe_fields, v5_subscription_identifier_max) {
    const auto s = decode_as<subscribe_view>(vec("subscribe_v5_subscription_identifier_max"));
    EXPECT_EQ(s.packet_id, 6);
    EXPECT_EQ(s.properties.integer_or(property_id::subscription_identifier, 0), 268'435'455u);
    const auto e = entries(s);
    ASSERT_EQ(e.size(), 1u);
    expect_entry(e[0], "a", qos::at_most_once, false, false, rh::send_on_subscribe);
}

TEST(subscribe_fields, v5_subscription_identifier_128) {
    const auto s = decode_as<subscribe_view>(vec("subscribe_v5_subscription_identifier_128"));
    EXPECT_EQ(s.packet_id, 7);
    EXPECT_EQ(s.properties.integer_or(property_id::subscription_identifier, 0), 128u);
    const auto e = entries(s);
    ASSERT_EQ(e.size(), 1u);
    expect_entry(e[0], "a", qos::exactly_once, false, false, rh::send_on_subscribe);
}

// 5.0 section 3.8.2.1.3: User Properties may repeat, even with the same name; order is kept.
TEST(subscribe_fields, v5_user_properties) {
    const auto s = decode_as<subscribe_view>(vec("subscribe_v5_user_properties"));
    EXPECT_EQ(s.packet_id, 7);
    EXPECT_EQ(s.properties.size(), 3u);
    EXPECT_EQ(s.properties.integer_or(property_id::subscription_identifier, 0), 2u);
    EXPECT_EQ(s.properties.count(property_id::user_property), 2u);
    const std::vector<std::pair<std::string, std::string>> want{{"k", "v"}, {"k", "w"}};
    EXPECT_EQ(user_properties(s.properties), want);
    const auto e = entries(s);
    ASSERT_EQ(e.size(), 1u);
    expect_entry(e[0], "a/b", qos::at_least_once, false, false, rh::send_on_subscribe);
}

TEST(subscribe_fields, v5_wildcard_filters_MQTT5_3_8_3_1) {
    const auto s = decode_as<subscribe_view>(vec("subscribe_v5_wildcard_filters"));
    EXPECT_EQ(s.packet_id, 12);
    const auto e = entries(s);
    ASSERT_EQ(e.size(), 3u);
    expect_entry(e[0], "sport/+/player1", qos::at_least_once, false, false, rh::send_on_subscribe);
    expect_entry(e[1], "sport/#", qos::exactly_once, false, false, rh::send_on_subscribe);
    expect_entry(e[2], "+", qos::at_most_once, false, false, rh::send_on_subscribe);
}

// MQTT5-3.8.3-1: the Server answers 0x8F for this entry; the packet is valid.
TEST(subscribe_fields, v5_filter_syntax_invalid_is_valid_packet_MQTT5_3_8_3_1) {
    const auto s =
        decode_as<subscribe_view>(vec("subscribe_v5_filter_syntax_invalid_is_valid_packet"));
    EXPECT_EQ(s.packet_id, 13);
    const auto e = entries(s);
    ASSERT_EQ(e.size(), 1u);
    expect_entry(e[0], "a/#/b", qos::at_least_once, false, false, rh::send_on_subscribe);
}

// MQTT5-3.8.3-4 only forbids No Local on shared subscriptions; other options are fine there.
TEST(subscribe_fields, v5_shared_without_no_local_MQTT5_3_8_3_4) {
    const auto s = decode_as<subscribe_view>(vec("subscribe_v5_shared_without_no_local"));
    EXPECT_EQ(s.packet_id, 13);
    const auto e = entries(s);
    ASSERT_EQ(e.size(), 1u);
    expect_entry(e[0], "$share/g/a/b", qos::at_least_once, false, true,
                 rh::send_if_new_subscription);
    const std::string filter = str(e[0].filter);
    shared_subscription sh;
    ASSERT_EQ(parse_shared_subscription(filter, sh), errc::success);
    EXPECT_EQ(sh.share_name, "g");
    EXPECT_EQ(sh.filter, "a/b");
}

TEST(subscribe_fields, v5_no_local_on_non_shared_dollar_filter_MQTT5_3_8_3_4) {
    const auto s =
        decode_as<subscribe_view>(vec("subscribe_v5_no_local_on_non_shared_dollar_filter"));
    EXPECT_EQ(s.packet_id, 14);
    const auto e = entries(s);
    ASSERT_EQ(e.size(), 1u);
    expect_entry(e[0], "$SHARE/g/a", qos::at_most_once, true, false, rh::send_on_subscribe);
}

// =============================================================================================
// SUBSCRIBE: encoding from values
// =============================================================================================

// 5.0 options byte: 0000 0101 = No Local, QoS 1.
TEST(subscribe_encode, v5_no_local_from_values) {
    subscription subs[] = {{"a/+", {.max_qos = qos::at_least_once, .no_local = true}}};
    subscribe_view s{};
    s.packet_id = 10;
    s.subscriptions = subs;
    EXPECT_EQ(encoded(s, v5), bytes_of("82 09"          // SUBSCRIBE, remaining length 9
                                       "00 0a"          // packet identifier 10
                                       "00"             // property length 0
                                       "00 03 61 2f 2b" // "a/+"
                                       "05"));          // No Local, QoS 1
}

// MQTT-3.8.3-4: bits 7-2 are reserved in 3.1.1, so No Local, Retain As Published and Retain
// Handling cannot be expressed there; the encoder refuses like the decoder would.
TEST(subscribe_encode, v311_refuses_v5_only_options_MQTT_3_8_3_4) {
    subscription nl[] = {{"a/+", {.max_qos = qos::at_least_once, .no_local = true}}};
    subscription rap[] = {{"a", {.retain_as_published = true}}};
    subscription rh1[] = {{"a", {.retain_handling = rh::send_if_new_subscription}}};
    subscription rh2[] = {{"a", {.retain_handling = rh::do_not_send}}};
    subscribe_view s{};
    s.packet_id = 10;
    for (const auto list : {subscription_list(nl), subscription_list(rap), subscription_list(rh1),
                            subscription_list(rh2)}) {
        s.subscriptions = list;
        EXPECT_EQ(encode_error(s, v311), "malformed_packet"sv);
        EXPECT_TRUE(encoded_size(s, v5).has_value()) << "valid at 5.0";
    }
}

TEST(subscribe_encode, v311_from_values) {
    subscription subs[] = {{"a/b", {.max_qos = qos::exactly_once}}, {"c", {}}};
    subscribe_view s{};
    s.packet_id = 0x1234;
    s.subscriptions = subs;
    const auto want = bytes_of("82 0c"             // remaining length 12 = 2 + 6 + 4
                               "12 34"             // packet identifier 0x1234
                               "00 03 61 2f 62 02" // "a/b", QoS 2
                               "00 01 63 00");     // "c", QoS 0
    EXPECT_EQ(encoded(s, v311), want);
    EXPECT_EQ(encoded(s, v31), want) << "3.1 has the same layout";
}

TEST(subscribe_encode, v5_every_option_from_values) {
    subscription subs[] = {
        {"a", {}},
        {"b", {.max_qos = qos::at_least_once}},
        {"c", {.max_qos = qos::exactly_once}},
        {"d", {.no_local = true}},
        {"e", {.retain_as_published = true}},
        {"f", {.retain_handling = rh::send_if_new_subscription}},
        {"g", {.retain_handling = rh::do_not_send}},
        {"h",
         {.max_qos = qos::exactly_once,
          .no_local = true,
          .retain_as_published = true,
          .retain_handling = rh::do_not_send}},
    };
    subscribe_view s{};
    s.packet_id = 10;
    s.subscriptions = subs;
    EXPECT_EQ(encoded(s, v5), to_hex(vec("subscribe_v5_every_option").bytes));
}

TEST(subscribe_encode, v5_subscription_identifier_from_values) {
    subscription subs[] = {{"a", {}}};
    const property props[] = {{property_id::subscription_identifier, 268'435'455u}};
    subscribe_view s{};
    s.packet_id = 6;
    s.properties = std::span<const property>(props);
    s.subscriptions = subs;
    EXPECT_EQ(encoded(s, v5), bytes_of("82 0c 00 06"
                                       "05 0b ff ff ff 7f" // Subscription Identifier 268435455
                                       "00 01 61 00"));
    EXPECT_EQ(encoded(s, v5), to_hex(vec("subscribe_v5_subscription_identifier_max").bytes));
}

TEST(subscribe_encode, v5_user_properties_from_values) {
    subscription subs[] = {{"a/b", {.max_qos = qos::at_least_once}}};
    const property props[] = {{property_id::subscription_identifier, 2},
                              user_property("k", "v"),
                              user_property("k", "w")};
    subscribe_view s{};
    s.packet_id = 7;
    s.properties = std::span<const property>(props);
    s.subscriptions = subs;
    EXPECT_EQ(encoded(s, v5), to_hex(vec("subscribe_v5_user_properties").bytes));
}

// A decoded 3.1.1 SUBSCRIBE re-encoded for 5.0 gains the Property Length (MQTT5-2.2.2-1).
TEST(subscribe_encode, v311_packet_encoded_for_v5_MQTT5_2_2_2_1) {
    const auto s = decode_as<subscribe_view>(vec("subscribe_v311_three_filters_qos012"));
    EXPECT_EQ(encoded(s, v5), bytes_of("82 13 00 01" // remaining length 19
                                       "00"          // property length 0
                                       "00 03 61 2f 62 00"
                                       "00 03 63 2f 2b 01"
                                       "00 01 23 02"));
}

// =============================================================================================
// SUBSCRIBE: encoder refusals
// =============================================================================================

// MQTT-3.8.3-3 / MQTT5-3.8.3-2: at least one entry.
TEST(subscribe_encode, refuses_empty_list_MQTT_3_8_3_3_MQTT5_3_8_3_2) {
    subscribe_view s{};
    s.packet_id = 10;
    EXPECT_EQ(encode_error(s, v311), "protocol_error"sv);
    EXPECT_EQ(encode_error(s, v5), "protocol_error"sv);
    EXPECT_EQ(encode_error(s, v31), "protocol_error"sv);
}

// MQTT-2.3.1-1 / MQTT5-2.2.1-3: non-zero packet identifier.
TEST(subscribe_encode, refuses_packet_id_0_MQTT_2_3_1_1_MQTT5_2_2_1_3) {
    subscription subs[] = {{"a", {}}};
    subscribe_view s{};
    s.subscriptions = subs;
    EXPECT_EQ(encode_error(s, v311), "protocol_error"sv);
    EXPECT_EQ(encode_error(s, v5), "protocol_error"sv);
}

// MQTT-3.8.3-4: QoS 3 is malformed in 3.1.1. 5.0 section 3.8.3.1: "It is a Protocol Error if
// the Maximum QoS field has the value 3."
TEST(subscribe_encode, refuses_qos3_MQTT_3_8_3_4) {
    subscription subs[] = {{"a", {.max_qos = static_cast<qos>(3)}}};
    subscribe_view s{};
    s.packet_id = 10;
    s.subscriptions = subs;
    EXPECT_EQ(encode_error(s, v311), "malformed_packet"sv);
    EXPECT_EQ(encode_error(s, v5), "protocol_error"sv);
}

// 5.0 section 3.8.3.1: Retain Handling 3 is a Protocol Error.
TEST(subscribe_encode, v5_refuses_retain_handling_3) {
    subscription subs[] = {{"a", {.retain_handling = static_cast<retain_handling>(3)}}};
    subscribe_view s{};
    s.packet_id = 10;
    s.subscriptions = subs;
    EXPECT_EQ(encode_error(s, v5), "protocol_error"sv);
}

// MQTT5-3.8.3-4: No Local on a Shared Subscription.
TEST(subscribe_encode, v5_refuses_no_local_on_shared_MQTT5_3_8_3_4) {
    subscription subs[] = {{"a", {}}, {"$share/g/a", {.no_local = true}}};
    subscribe_view s{};
    s.packet_id = 10;
    s.subscriptions = subs;
    EXPECT_EQ(encode_error(s, v5), "protocol_error"sv);
}

// MQTT-3.8.3-1 / MQTT5-3.8.3-1 with MQTT-1.5.3-1, MQTT-1.5.3-2: filters are UTF-8 strings.
TEST(subscribe_encode, refuses_ill_formed_utf8_filter_MQTT_3_8_3_1_MQTT5_3_8_3_1) {
    for (const std::string_view bad :
         {std::string_view("a\xff", 2), std::string_view("a\0b", 3),
          std::string_view("\xed\xa0\x80", 3), std::string_view("\xc0\xaf", 2)}) {
        subscription subs[] = {{bad, {}}};
        subscribe_view s{};
        s.packet_id = 10;
        s.subscriptions = subs;
        EXPECT_EQ(encode_error(s, v311), "malformed_packet"sv)
            << "filter of " << bad.size() << " bytes";
        EXPECT_EQ(encode_error(s, v5), "malformed_packet"sv);
    }
}

// MQTT-4.7.3-3 / MQTT5-4.7.3-3: a filter is at most 65535 bytes (its length is two bytes).
TEST(subscribe_encode, refuses_filter_longer_than_65535_MQTT_4_7_3_3_MQTT5_4_7_3_3) {
    const std::string longest(65535, 'a');
    const std::string too_long(65536, 'a');
    subscription ok[] = {{std::string_view(longest), {}}};
    subscription bad[] = {{std::string_view(too_long), {}}};
    subscribe_view s{};
    s.packet_id = 10;
    s.subscriptions = ok;
    const auto size = encoded_size(s, v311);
    ASSERT_TRUE(size.has_value());
    EXPECT_EQ(*size, 1u + 3u + 2u + 2u + 65535u + 1u); // 82, 3-byte length, id, len, text, QoS
    s.subscriptions = bad;
    EXPECT_EQ(encode_error(s, v311), "malformed_packet"sv);
}

// 5.0 section 3.8.2.1: SUBSCRIBE properties are Subscription Identifier (once, 1..268435455,
// section 3.8.2.1.2: 0 or twice is a Protocol Error) and User Property.
TEST(subscribe_encode, v5_refuses_bad_properties) {
    subscription subs[] = {{"a", {}}};
    subscribe_view s{};
    s.packet_id = 10;
    s.subscriptions = subs;

    const property zero[] = {{property_id::subscription_identifier, 0}};
    s.properties = std::span<const property>(zero);
    EXPECT_EQ(encode_error(s, v5), "protocol_error"sv) << "Subscription Identifier 0";

    const property twice[] = {{property_id::subscription_identifier, 1},
                              {property_id::subscription_identifier, 2}};
    s.properties = std::span<const property>(twice);
    EXPECT_EQ(encode_error(s, v5), "protocol_error"sv) << "two Subscription Identifiers";

    // 5.0 section 2.2.2.2: an Identifier not valid for the packet type is a Malformed Packet.
    const property reason[] = {{property_id::reason_string, "x"}};
    s.properties = std::span<const property>(reason);
    EXPECT_EQ(encode_error(s, v5), "malformed_packet"sv) << "Reason String in SUBSCRIBE";

    const property too_big[] = {{property_id::subscription_identifier, 268'435'456u}};
    s.properties = std::span<const property>(too_big);
    EXPECT_FALSE(encoded_size(s, v5).has_value()) << "268435456 has no Variable Byte Integer";
}

// SUBSCRIBE has no optional property the spec lets a Client drop: past the Server's Maximum
// Packet Size it cannot be sent at all (MQTT5-3.2.2-15).
TEST(subscribe_encode, v5_not_trimmed_to_max_packet_size_MQTT5_3_2_2_15) {
    subscription subs[] = {{"a", {}}};
    const property props[] = {user_property("k", "v")};
    subscribe_view s{};
    s.packet_id = 10;
    s.properties = std::span<const property>(props);
    s.subscriptions = subs;
    // 82 0e 00 0a 07 26 00 01 6b 00 01 76 00 01 61 00: 16 bytes.
    std::array<std::byte, 64> out{};
    const auto fits = encode(s, v5, out, encode_options{.max_packet_size = 16});
    ASSERT_TRUE(fits.has_value()) << errc_name(fits.error());
    EXPECT_EQ(*fits, 16u);
    EXPECT_EQ(encode(s, v5, out, encode_options{.max_packet_size = 15}).error(),
              errc::packet_too_large);
    EXPECT_EQ(encoded_size(s, v5, encode_options{.max_packet_size = 15}).error(),
              errc::packet_too_large);
}

// =============================================================================================
// SUBACK: fields of the valid vectors
// =============================================================================================

// MQTT-3.9.3-2: 0x00, 0x01, 0x02 and 0x80 are the 3.1.1 return codes.
TEST(suback_fields, v311_every_return_code_MQTT_3_9_3_2) {
    const auto a = decode_as<suback_view>(vec("suback_v311_every_return_code"));
    EXPECT_EQ(a.packet_id, 10);
    EXPECT_TRUE(a.properties.empty());
    EXPECT_EQ(codes(a.reasons), (std::vector<unsigned>{0x00, 0x01, 0x02, 0x80}));
    EXPECT_EQ(a.reasons[3], static_cast<reason_code>(suback_return_code::failure));
}

// MQTT-3.9.3-1: the codes come out in wire order (the order of the SUBSCRIBE's filters).
TEST(suback_fields, v311_order_MQTT_3_9_3_1) {
    const auto a = decode_as<suback_view>(vec("suback_v311_order"));
    EXPECT_EQ(a.packet_id, 0x1234);
    EXPECT_EQ(codes(a.reasons), (std::vector<unsigned>{0x02, 0x80, 0x00, 0x01, 0x02}));
    EXPECT_EQ(a.reasons.size(), 5u);
    EXPECT_EQ(a.reasons[0], reason_code::granted_qos_2);
    EXPECT_EQ(a.reasons[1], reason_code::unspecified_error);
    EXPECT_EQ(a.reasons[2], reason_code::success);
    EXPECT_EQ(a.reasons[3], reason_code::granted_qos_1);
    EXPECT_EQ(a.reasons[4], reason_code::granted_qos_2);
}

TEST(suback_fields, v31_granted_qos) {
    const auto a = decode_as<suback_view>(vec("suback_v31_granted_qos"));
    EXPECT_EQ(a.packet_id, 2);
    EXPECT_EQ(codes(a.reasons), (std::vector<unsigned>{0x01, 0x02}));
}

// MQTT5-3.9.3-2: every Subscribe Reason Code; MQTT5-3.9.3-1: in order.
TEST(suback_fields, v5_every_reason_code_MQTT5_3_9_3_1_MQTT5_3_9_3_2) {
    const auto a = decode_as<suback_view>(vec("suback_v5_every_reason_code"));
    EXPECT_EQ(a.packet_id, 10);
    EXPECT_TRUE(a.properties.empty());
    EXPECT_EQ(codes(a.reasons), (std::vector<unsigned>{0x00, 0x01, 0x02, 0x80, 0x83, 0x87, 0x8F,
                                                       0x91, 0x97, 0x9E, 0xA1, 0xA2}));
    EXPECT_EQ(a.reasons[11], reason_code::wildcard_subscriptions_not_supported);
}

TEST(suback_fields, v5_reason_string_user_property) {
    const auto a = decode_as<suback_view>(vec("suback_v5_reason_string_user_property"));
    EXPECT_EQ(a.packet_id, 10);
    EXPECT_EQ(a.properties.size(), 2u);
    const auto rs = a.properties.find(property_id::reason_string);
    ASSERT_TRUE(rs.has_value());
    EXPECT_EQ(str(rs->string), "ok");
    EXPECT_EQ(user_properties(a.properties),
              (std::vector<std::pair<std::string, std::string>>{{"a", "b"}}));
    EXPECT_EQ(codes(a.reasons), (std::vector<unsigned>{0x00, 0x87}));
}

// =============================================================================================
// SUBACK: encoding from values and refusals
// =============================================================================================

TEST(suback_encode, v311_from_values_MQTT_3_9_3_2) {
    reason_code rcs[] = {reason_code::success, reason_code::granted_qos_1,
                         reason_code::granted_qos_2, reason_code::unspecified_error};
    suback_view a;
    a.packet_id = 10;
    a.reasons = rcs;
    EXPECT_EQ(encoded(a, v311), bytes_of("90 06 00 0a 00 01 02 80"));
    EXPECT_EQ(encoded(a, v31), bytes_of("90 06 00 0a 00 01 02 80"));
}

TEST(suback_encode, v5_from_values_MQTT5_3_9_3_1) {
    reason_code rcs[] = {reason_code::granted_qos_1, reason_code::not_authorized,
                         reason_code::topic_filter_invalid};
    suback_view a;
    a.packet_id = 10;
    a.reasons = rcs;
    EXPECT_EQ(encoded(a, v5), bytes_of("90 06"       // remaining length 6 = 2 + 1 + 3
                                       "00 0a 00"    // packet identifier 10, no properties
                                       "01 87 8f")); // codes in the given order
}

TEST(suback_encode, v5_properties_from_values) {
    reason_code rcs[] = {reason_code::success, reason_code::not_authorized};
    const property props[] = {{property_id::reason_string, "ok"}, user_property("a", "b")};
    suback_view a;
    a.packet_id = 10;
    a.properties = std::span<const property>(props);
    a.reasons = rcs;
    EXPECT_EQ(encoded(a, v5), to_hex(vec("suback_v5_reason_string_user_property").bytes));
}

// MQTT-3.8.4-5 / MQTT5-3.8.4-6: one code per filter, and a SUBSCRIBE has at least one.
TEST(suback_encode, refuses_empty_list_MQTT_3_8_4_5_MQTT5_3_8_4_6) {
    suback_view a;
    a.packet_id = 10;
    EXPECT_EQ(encode_error(a, v311), "protocol_error"sv);
    EXPECT_EQ(encode_error(a, v5), "protocol_error"sv);
}

// MQTT-2.3.1-7 / MQTT5-2.2.1-6: the SUBSCRIBE's identifier, which is never 0.
TEST(suback_encode, refuses_packet_id_0_MQTT_2_3_1_7_MQTT5_2_2_1_6) {
    reason_code rcs[] = {reason_code::success};
    suback_view a;
    a.reasons = rcs;
    EXPECT_EQ(encode_error(a, v311), "protocol_error"sv);
    EXPECT_EQ(encode_error(a, v5), "protocol_error"sv);
}

// MQTT-3.9.3-2: only 0x00, 0x01, 0x02, 0x80 in 3.1.1 (decoder: malformed_packet).
TEST(suback_encode, v311_refuses_other_codes_MQTT_3_9_3_2) {
    for (const auto bad : {reason_code::not_authorized, static_cast<reason_code>(0x03),
                           reason_code::topic_filter_invalid}) {
        reason_code rcs[] = {reason_code::success, bad};
        suback_view a;
        a.packet_id = 10;
        a.reasons = rcs;
        EXPECT_EQ(encode_error(a, v311), "malformed_packet"sv) << static_cast<unsigned>(bad);
    }
}

// MQTT5-3.9.3-2: only the Subscribe Reason Codes (decoder: protocol_error).
TEST(suback_encode, v5_refuses_other_codes_MQTT5_3_9_3_2) {
    for (const auto bad : {reason_code::no_matching_subscribers, static_cast<reason_code>(0x03),
                           reason_code::malformed_packet, reason_code::no_subscription_existed}) {
        reason_code rcs[] = {bad};
        suback_view a;
        a.packet_id = 10;
        a.reasons = rcs;
        EXPECT_EQ(encode_error(a, v5), "protocol_error"sv) << static_cast<unsigned>(bad);
    }
}

// 5.0 section 3.9.2.1: only Reason String (once, section 3.9.2.1.2) and User Property; any
// other identifier is a Malformed Packet (section 2.2.2.2).
TEST(suback_encode, v5_refuses_bad_properties) {
    reason_code rcs[] = {reason_code::success};
    suback_view a;
    a.packet_id = 10;
    a.reasons = rcs;
    const property sub_id[] = {{property_id::subscription_identifier, 1}};
    a.properties = std::span<const property>(sub_id);
    EXPECT_EQ(encode_error(a, v5), "malformed_packet"sv);
    const property two[] = {{property_id::reason_string, "a"}, {property_id::reason_string, "b"}};
    a.properties = std::span<const property>(two);
    EXPECT_EQ(encode_error(a, v5), "protocol_error"sv);
}

// =============================================================================================
// SUBACK: Maximum Packet Size (MQTT5-3.9.2-1, MQTT5-3.9.2-2)
// =============================================================================================

// SUBACK 10 with Reason String "denied" and User Property "k"="v", codes 0x00 0x87:
//   full:                     90 15 00 0a 10 <RS 9 bytes> <UP 7 bytes> 00 87   23 bytes
//   without Reason String:    90 0c 00 0a 07 <UP 7 bytes> 00 87                14 bytes
//   without both:             90 05 00 0a 00 00 87                               7 bytes
class suback_max_packet_size : public ::testing::Test {
  protected:
    reason_code rcs[2] = {reason_code::success, reason_code::not_authorized};
    property props[2] = {{property_id::reason_string, "denied"}, user_property("k", "v")};
    suback_view a{};

    void SetUp() override {
        a.packet_id = 10;
        a.properties = std::span<const property>(props);
        a.reasons = rcs;
    }
};

const std::string suback_full = "90 15 00 0a 10"
                                "1f 00 06 64 65 6e 69 65 64" // Reason String "denied"
                                "26 00 01 6b 00 01 76"       // User Property "k" = "v"
                                "00 87";
const std::string suback_no_reason = "90 0c 00 0a 07"
                                     "26 00 01 6b 00 01 76"
                                     "00 87";
const std::string suback_bare = "90 05 00 0a 00 00 87";

TEST_F(suback_max_packet_size, fits_unchanged) {
    EXPECT_EQ(encoded_within(a, v5, max_packet_size_limit), bytes_of(suback_full));
    EXPECT_EQ(encoded_within(a, v5, 23), bytes_of(suback_full));
}

// MQTT5-3.9.2-1: the Reason String goes first.
TEST_F(suback_max_packet_size, drops_reason_string_first_MQTT5_3_9_2_1) {
    EXPECT_EQ(encoded_within(a, v5, 22), bytes_of(suback_no_reason));
    EXPECT_EQ(encoded_within(a, v5, 14), bytes_of(suback_no_reason));
}

// MQTT5-3.9.2-2: then the User Properties.
TEST_F(suback_max_packet_size, then_drops_user_properties_MQTT5_3_9_2_2) {
    EXPECT_EQ(encoded_within(a, v5, 13), bytes_of(suback_bare));
    EXPECT_EQ(encoded_within(a, v5, 7), bytes_of(suback_bare));
}

// The codes cannot be dropped: below 7 bytes the SUBACK cannot be sent (MQTT5-3.1.2-24).
TEST_F(suback_max_packet_size, too_large_without_optional_properties_MQTT5_3_1_2_24) {
    EXPECT_EQ(encoded_within(a, v5, 6), failed(errc::packet_too_large));
    EXPECT_EQ(encoded_within(a, v5, 1), failed(errc::packet_too_large));
}

TEST(suback_encode, v311_max_packet_size) {
    reason_code rcs[] = {reason_code::success};
    suback_view a;
    a.packet_id = 10;
    a.reasons = rcs;
    std::array<std::byte, 16> out{};
    const auto ok = encode(a, v311, out, encode_options{.max_packet_size = 5});
    ASSERT_TRUE(ok.has_value());
    EXPECT_EQ(to_hex(std::span<const std::byte>(out.data(), *ok)), bytes_of("90 03 00 0a 00"));
    EXPECT_EQ(encode(a, v311, out, encode_options{.max_packet_size = 4}).error(),
              errc::packet_too_large);
}

} // namespace
} // namespace mqttwire::test::subscribe_tests
