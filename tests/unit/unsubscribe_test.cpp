// UNSUBSCRIBE and UNSUBACK (MQTT 3.1.1 sections 3.10-3.11, MQTT 5.0 sections 3.10-3.11).
//
// The generic harness (vectors_test.cpp) runs every vector of unsubscribe.vec. Here: the FIELDS
// of every valid vector, encoding from values against hand-written bytes, the encoder's refusals
// and the Maximum Packet Size trimming of UNSUBACK.

#include <gtest/gtest.h>

#include <array>
#include <cstddef>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "test_support.hpp"

namespace mqttwire::test::unsubscribe_tests {
namespace {

using namespace std::string_view_literals;

// The name of the error encode gives ("success" when it encodes); encoded_size agrees and
// nothing is written.
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

std::vector<std::string> filters(const unsubscribe_view& u) {
    std::vector<std::string> out;
    for (const auto& f : u.filters) out.push_back(str(f));
    EXPECT_EQ(out.size(), u.filters.size());
    return out;
}

std::vector<unsigned> codes(const reason_code_list& l) {
    std::vector<unsigned> out;
    for (const auto rc : l) out.push_back(static_cast<unsigned>(rc));
    EXPECT_EQ(out.size(), l.size());
    return out;
}

using strings = std::vector<std::string>;
using pairs = std::vector<std::pair<std::string, std::string>>;

pairs user_properties(const properties_view& p) {
    pairs out;
    for (const auto& x : p)
        if (x.id == property_id::user_property) out.emplace_back(str(x.string), str(x.value));
    return out;
}

// =============================================================================================
// UNSUBSCRIBE: fields of the valid vectors
// =============================================================================================

// MQTT-3.10.3-1: filters packed back to back, in order.
TEST(unsubscribe_fields, v311_one_filter_MQTT_3_10_3_1) {
    const auto u = decode_as<unsubscribe_view>(vec("unsubscribe_v311_one_filter"));
    EXPECT_EQ(u.packet_id, 10);
    EXPECT_TRUE(u.properties.empty());
    EXPECT_EQ(filters(u), (strings{"a"}));
}

TEST(unsubscribe_fields, v311_three_filters_MQTT_3_10_3_1) {
    const auto u = decode_as<unsubscribe_view>(vec("unsubscribe_v311_three_filters"));
    EXPECT_EQ(u.packet_id, 11);
    EXPECT_EQ(filters(u), (strings{"a/b", "c/+", "#"}));
    EXPECT_EQ(str(u.filters[1]), "c/+");
    EXPECT_EQ(str(u.filters[2]), "#");
}

TEST(unsubscribe_fields, v311_filter_syntax_invalid_is_valid_packet_MQTT_3_10_3_1) {
    const auto u =
        decode_as<unsubscribe_view>(vec("unsubscribe_v311_filter_syntax_invalid_is_valid_packet"));
    EXPECT_EQ(u.packet_id, 14);
    EXPECT_EQ(filters(u), (strings{"a/#/b"}));
}

TEST(unsubscribe_fields, v31_one_filter) {
    const auto u = decode_as<unsubscribe_view>(vec("unsubscribe_v31_one_filter"));
    EXPECT_EQ(u.packet_id, 3);
    EXPECT_EQ(filters(u), (strings{"x/y"}));
}

// MQTT5-3.10.3-1.
TEST(unsubscribe_fields, v5_two_filters_MQTT5_3_10_3_1) {
    const auto u = decode_as<unsubscribe_view>(vec("unsubscribe_v5_two_filters"));
    EXPECT_EQ(u.packet_id, 12);
    EXPECT_TRUE(u.properties.empty());
    EXPECT_EQ(filters(u), (strings{"a/b", "$share/g/c/#"}));
}

// 5.0 section 3.10.2.1.2: User Property.
TEST(unsubscribe_fields, v5_user_property) {
    const auto u = decode_as<unsubscribe_view>(vec("unsubscribe_v5_user_property"));
    EXPECT_EQ(u.packet_id, 13);
    EXPECT_EQ(u.properties.size(), 1u);
    EXPECT_EQ(user_properties(u.properties), (pairs{{"k", "v"}}));
    EXPECT_EQ(filters(u), (strings{"a"}));
}

// MQTT 3.1 section 2.1: DUP may be set on a resent UNSUBSCRIBE (0xAA); reserved in 3.1.1.
TEST(unsubscribe_fields, v31_dup_flag_accepted) {
    const auto bytes = hex("aa 05 00 0a 00 01 61");
    const auto r = decode_packet(bytes, {.version = v31});
    ASSERT_TRUE(r.has_value()) << errc_name(r.error());
    const auto* u = std::get_if<unsubscribe_view>(&r->packet);
    ASSERT_NE(u, nullptr);
    EXPECT_EQ(u->packet_id, 10);
    EXPECT_EQ(filters(*u), (strings{"a"}));
    EXPECT_EQ(errc_name(decode_packet(bytes, {.version = v311}).error()), "malformed_packet"sv);
}

// =============================================================================================
// UNSUBSCRIBE: encoding from values and refusals
// =============================================================================================

TEST(unsubscribe_encode, v311_from_values_MQTT_3_10_3_1) {
    utf8_view fs[] = {"a/b", "c/+", "#"};
    unsubscribe_view u{};
    u.packet_id = 11;
    u.filters = fs;
    EXPECT_EQ(encoded(u, v311), bytes_of("a2 0f 00 0b"
                                         "00 03 61 2f 62"
                                         "00 03 63 2f 2b"
                                         "00 01 23"));
    EXPECT_EQ(encoded(u, v311), to_hex(vec("unsubscribe_v311_three_filters").bytes));
    EXPECT_EQ(encoded(u, v31), bytes_of("a2 0f 00 0b 00 03 61 2f 62 00 03 63 2f 2b 00 01 23"));
}

TEST(unsubscribe_encode, v5_from_values_MQTT5_3_10_3_1) {
    utf8_view fs[] = {"a/b", "$share/g/c/#"};
    unsubscribe_view u{};
    u.packet_id = 12;
    u.filters = fs;
    EXPECT_EQ(encoded(u, v5), to_hex(vec("unsubscribe_v5_two_filters").bytes));
}

TEST(unsubscribe_encode, v5_user_property_from_values) {
    utf8_view fs[] = {"a"};
    const property props[] = {user_property("k", "v")};
    unsubscribe_view u{};
    u.packet_id = 13;
    u.properties = std::span<const property>(props);
    u.filters = fs;
    EXPECT_EQ(encoded(u, v5), bytes_of("a2 0d 00 0d"
                                       "07 26 00 01 6b 00 01 76"
                                       "00 01 61"));
}

// MQTT-3.10.3-2 / MQTT5-3.10.3-2.
TEST(unsubscribe_encode, refuses_empty_list_MQTT_3_10_3_2_MQTT5_3_10_3_2) {
    unsubscribe_view u{};
    u.packet_id = 10;
    EXPECT_EQ(encode_error(u, v311), "protocol_error"sv);
    EXPECT_EQ(encode_error(u, v5), "protocol_error"sv);
}

// MQTT-2.3.1-1 / MQTT5-2.2.1-3.
TEST(unsubscribe_encode, refuses_packet_id_0_MQTT_2_3_1_1_MQTT5_2_2_1_3) {
    utf8_view fs[] = {"a"};
    unsubscribe_view u{};
    u.filters = fs;
    EXPECT_EQ(encode_error(u, v311), "protocol_error"sv);
    EXPECT_EQ(encode_error(u, v5), "protocol_error"sv);
}

// MQTT-3.10.3-1 / MQTT5-3.10.3-1 with MQTT-1.5.3-1, MQTT-1.5.3-2.
TEST(unsubscribe_encode, refuses_ill_formed_utf8_MQTT_3_10_3_1_MQTT5_3_10_3_1) {
    for (const std::string_view bad : {std::string_view("a\x80", 2), std::string_view("\0", 1),
                                       std::string_view("\xed\xbf\xbf", 3)}) {
        utf8_view fs[] = {"ok", bad};
        unsubscribe_view u{};
        u.packet_id = 10;
        u.filters = fs;
        EXPECT_EQ(encode_error(u, v311), "malformed_packet"sv) << bad.size() << " bytes";
        EXPECT_EQ(encode_error(u, v5), "malformed_packet"sv) << bad.size() << " bytes";
    }
}

// MQTT-4.7.3-3 / MQTT5-4.7.3-3.
TEST(unsubscribe_encode, refuses_filter_longer_than_65535_MQTT_4_7_3_3_MQTT5_4_7_3_3) {
    const std::string too_long(65536, 'a');
    utf8_view fs[] = {std::string_view(too_long)};
    unsubscribe_view u{};
    u.packet_id = 10;
    u.filters = fs;
    EXPECT_EQ(encode_error(u, v311), "malformed_packet"sv);
}

// 5.0 section 3.10.2.1: only User Property; any other identifier is a Malformed Packet
// (section 2.2.2.2).
TEST(unsubscribe_encode, v5_refuses_subscription_identifier) {
    utf8_view fs[] = {"a"};
    const property props[] = {{property_id::subscription_identifier, 1}};
    unsubscribe_view u{};
    u.packet_id = 10;
    u.properties = std::span<const property>(props);
    u.filters = fs;
    EXPECT_EQ(encode_error(u, v5), "malformed_packet"sv);
}

// =============================================================================================
// UNSUBACK: fields of the valid vectors
// =============================================================================================

// 3.1.1 section 3.11: the packet identifier and nothing else; MQTT-2.3.1-7.
TEST(unsuback_fields, v311_MQTT_2_3_1_7) {
    const auto a = decode_as<unsuback_view>(vec("unsuback_v311"));
    EXPECT_EQ(a.packet_id, 10);
    EXPECT_TRUE(a.properties.empty());
    EXPECT_TRUE(a.reasons.empty());
}

TEST(unsuback_fields, v31) {
    const auto a = decode_as<unsuback_view>(vec("unsuback_v31"));
    EXPECT_EQ(a.packet_id, 0xFFFF);
    EXPECT_TRUE(a.reasons.empty());
}

// MQTT5-3.11.3-1: one code per filter, in the order of the UNSUBSCRIBE's filters.
TEST(unsuback_fields, v5_codes_in_order_MQTT5_3_11_3_1) {
    const auto a = decode_as<unsuback_view>(vec("unsuback_v5_codes_in_order"));
    EXPECT_EQ(a.packet_id, 10);
    EXPECT_TRUE(a.properties.empty());
    EXPECT_EQ(codes(a.reasons), (std::vector<unsigned>{0x00, 0x11, 0x87}));
    EXPECT_EQ(a.reasons[0], reason_code::success);
    EXPECT_EQ(a.reasons[1], reason_code::no_subscription_existed);
    EXPECT_EQ(a.reasons[2], reason_code::not_authorized);
}

// MQTT5-3.11.3-2: every Unsubscribe Reason Code.
TEST(unsuback_fields, v5_every_reason_code_MQTT5_3_11_3_2) {
    const auto a = decode_as<unsuback_view>(vec("unsuback_v5_every_reason_code"));
    EXPECT_EQ(a.packet_id, 11);
    EXPECT_EQ(codes(a.reasons), (std::vector<unsigned>{0x00, 0x11, 0x80, 0x83, 0x87, 0x8F, 0x91}));
}

TEST(unsuback_fields, v5_reason_string_user_property) {
    const auto a = decode_as<unsuback_view>(vec("unsuback_v5_reason_string_user_property"));
    EXPECT_EQ(a.packet_id, 10);
    EXPECT_EQ(a.properties.size(), 2u);
    const auto rs = a.properties.find(property_id::reason_string);
    ASSERT_TRUE(rs.has_value());
    EXPECT_EQ(str(rs->string), "bad");
    EXPECT_EQ(user_properties(a.properties), (pairs{{"k", "v"}}));
    EXPECT_EQ(codes(a.reasons), (std::vector<unsigned>{0x11}));
}

// =============================================================================================
// UNSUBACK: encoding from values and refusals
// =============================================================================================

TEST(unsuback_encode, v311_from_values) {
    unsuback_view a{};
    a.packet_id = 10;
    EXPECT_EQ(encoded(a, v311), bytes_of("b0 02 00 0a"));
    EXPECT_EQ(encoded(a, v31), bytes_of("b0 02 00 0a"));
}

// 3.1.1 section 3.11.3: "The UNSUBACK Packet has no payload", so 5.0 codes are not written.
TEST(unsuback_encode, v311_has_no_payload) {
    reason_code rcs[] = {reason_code::success};
    unsuback_view a{};
    a.packet_id = 10;
    a.reasons = rcs;
    EXPECT_EQ(encoded(a, v311), bytes_of("b0 02 00 0a"));
}

TEST(unsuback_encode, v5_from_values_MQTT5_3_11_3_1) {
    reason_code rcs[] = {reason_code::success, reason_code::no_subscription_existed,
                         reason_code::not_authorized};
    unsuback_view a{};
    a.packet_id = 10;
    a.reasons = rcs;
    EXPECT_EQ(encoded(a, v5), bytes_of("b0 06 00 0a 00 00 11 87"));
}

TEST(unsuback_encode, v5_properties_from_values) {
    reason_code rcs[] = {reason_code::no_subscription_existed};
    const property props[] = {{property_id::reason_string, "bad"}, user_property("k", "v")};
    unsuback_view a{};
    a.packet_id = 10;
    a.properties = std::span<const property>(props);
    a.reasons = rcs;
    EXPECT_EQ(encoded(a, v5), to_hex(vec("unsuback_v5_reason_string_user_property").bytes));
}

// MQTT5-3.11.3-1: one code per filter; an UNSUBSCRIBE has at least one (MQTT5-3.10.3-2).
TEST(unsuback_encode, v5_refuses_empty_list_MQTT5_3_11_3_1) {
    unsuback_view a{};
    a.packet_id = 10;
    EXPECT_EQ(encode_error(a, v5), "protocol_error"sv);
}

TEST(unsuback_encode, refuses_packet_id_0_MQTT_2_3_1_7_MQTT5_2_2_1_6) {
    reason_code rcs[] = {reason_code::success};
    unsuback_view a{};
    a.reasons = rcs;
    EXPECT_EQ(encode_error(a, v311), "protocol_error"sv);
    EXPECT_EQ(encode_error(a, v5), "protocol_error"sv);
}

// MQTT5-3.11.3-2 (decoder: protocol_error).
TEST(unsuback_encode, v5_refuses_other_codes_MQTT5_3_11_3_2) {
    for (const auto bad : {reason_code::granted_qos_1, reason_code::quota_exceeded,
                           reason_code::no_matching_subscribers, static_cast<reason_code>(0x03)}) {
        reason_code rcs[] = {reason_code::success, bad};
        unsuback_view a{};
        a.packet_id = 10;
        a.reasons = rcs;
        EXPECT_EQ(encode_error(a, v5), "protocol_error"sv) << static_cast<unsigned>(bad);
    }
}

// 5.0 section 3.11.2.1: only Reason String (once, section 3.11.2.1.2) and User Property; any
// other identifier is a Malformed Packet (section 2.2.2.2).
TEST(unsuback_encode, v5_refuses_bad_properties) {
    reason_code rcs[] = {reason_code::success};
    unsuback_view a{};
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
// UNSUBACK: Maximum Packet Size (MQTT5-3.11.2-1, MQTT5-3.11.2-2)
// =============================================================================================

// UNSUBACK 10 with Reason String "gone" and User Property "k"="v", codes 0x11 0x00:
//   full:                    b0 13 00 0a 0e <RS 7 bytes> <UP 7 bytes> 11 00   21 bytes
//   without Reason String:   b0 0c 00 0a 07 <UP 7 bytes> 11 00                14 bytes
//   without both:            b0 05 00 0a 00 11 00                               7 bytes
class unsuback_max_packet_size : public ::testing::Test {
  protected:
    reason_code rcs[2] = {reason_code::no_subscription_existed, reason_code::success};
    property props[2] = {{property_id::reason_string, "gone"}, user_property("k", "v")};
    unsuback_view a{};

    void SetUp() override {
        a.packet_id = 10;
        a.properties = std::span<const property>(props);
        a.reasons = rcs;
    }
};

const std::string unsuback_full = "b0 13 00 0a 0e"
                                  "1f 00 04 67 6f 6e 65" // Reason String "gone"
                                  "26 00 01 6b 00 01 76" // User Property "k" = "v"
                                  "11 00";
const std::string unsuback_no_reason = "b0 0c 00 0a 07"
                                       "26 00 01 6b 00 01 76"
                                       "11 00";
const std::string unsuback_bare = "b0 05 00 0a 00 11 00";

TEST_F(unsuback_max_packet_size, fits_unchanged) {
    EXPECT_EQ(encoded_within(a, v5, max_packet_size_limit), bytes_of(unsuback_full));
    EXPECT_EQ(encoded_within(a, v5, 21), bytes_of(unsuback_full));
}

// MQTT5-3.11.2-1: the Reason String goes first.
TEST_F(unsuback_max_packet_size, drops_reason_string_first_MQTT5_3_11_2_1) {
    EXPECT_EQ(encoded_within(a, v5, 20), bytes_of(unsuback_no_reason));
    EXPECT_EQ(encoded_within(a, v5, 14), bytes_of(unsuback_no_reason));
}

// MQTT5-3.11.2-2: then the User Properties.
TEST_F(unsuback_max_packet_size, then_drops_user_properties_MQTT5_3_11_2_2) {
    EXPECT_EQ(encoded_within(a, v5, 13), bytes_of(unsuback_bare));
    EXPECT_EQ(encoded_within(a, v5, 7), bytes_of(unsuback_bare));
}

// Nothing else may go: below 7 bytes the UNSUBACK cannot be sent (MQTT5-3.1.2-24).
TEST_F(unsuback_max_packet_size, too_large_without_optional_properties_MQTT5_3_1_2_24) {
    EXPECT_EQ(encoded_within(a, v5, 6), failed(errc::packet_too_large));
}

// Several User Properties go together.
TEST(unsuback_encode, drops_every_user_property_MQTT5_3_11_2_2) {
    reason_code rcs[] = {reason_code::success};
    const property props[] = {user_property("a", "1"), user_property("b", "2")};
    unsuback_view a{};
    a.packet_id = 10;
    a.properties = std::span<const property>(props);
    a.reasons = rcs;
    // Full: b0 12 00 0a 0e <2 x 7 bytes> 00 = 20 bytes; without them: b0 04 00 0a 00 00.
    std::array<std::byte, 64> out{};
    const auto full = encode(a, v5, out, encode_options{.max_packet_size = 20});
    ASSERT_TRUE(full.has_value());
    EXPECT_EQ(to_hex(std::span<const std::byte>(out.data(), *full)),
              bytes_of("b0 12 00 0a 0e 26 00 01 61 00 01 31 26 00 01 62 00 01 32 00"));
    const auto bare = encode(a, v5, out, encode_options{.max_packet_size = 19});
    ASSERT_TRUE(bare.has_value()) << errc_name(bare.error());
    EXPECT_EQ(to_hex(std::span<const std::byte>(out.data(), *bare)), bytes_of("b0 04 00 0a 00 00"));
}

} // namespace
} // namespace mqttwire::test::unsubscribe_tests
