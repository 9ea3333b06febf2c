// PUBLISH (MQTT 3.1, MQTT 3.1.1 section 3.3, MQTT 5.0 section 3.3): the fields of every valid
// vector in tests/vectors/publish.vec, encoding from values against hand-written bytes, and the
// encoder refusing what the decoder refuses.

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

using namespace std::string_literals;

// Hex of the bytes, normalised ("32 0a ...").
std::string norm(std::string_view text) { return to_hex(hex(text)); }

std::string view_hex(const binary_view& b) { return to_hex(b.bytes()); }
std::string view_hex(const utf8_view& s) { return to_hex(s.bytes()); }

// ---------------------------------------------------------------------------------------------
// Fields of the valid vectors: MQTT 3.1.1
// ---------------------------------------------------------------------------------------------

TEST(publish_fields, v311_qos0) {
    const auto p = decode_as<publish_view>(vec("publish_v311_qos0"));
    EXPECT_EQ(str(p.topic), "salon/luz/cmd"); // MQTT-3.3.2-1: the topic comes first
    EXPECT_EQ(p.qos, qos::at_most_once);
    EXPECT_FALSE(p.dup);
    EXPECT_FALSE(p.retain);
    EXPECT_EQ(p.packet_id, 0); // MQTT-2.3.1-5: no packet identifier at QoS 0
    EXPECT_EQ(str(p.payload), "ON");
    EXPECT_TRUE(p.properties.empty());
}

TEST(publish_fields, v311_qos1) {
    const auto p = decode_as<publish_view>(vec("publish_v311_qos1"));
    EXPECT_EQ(str(p.topic), "a/b");
    EXPECT_EQ(p.qos, qos::at_least_once);
    EXPECT_FALSE(p.dup);
    EXPECT_FALSE(p.retain);
    EXPECT_EQ(p.packet_id, 10);
    EXPECT_EQ(str(p.payload), "hi");
}

TEST(publish_fields, v311_qos2) {
    const auto p = decode_as<publish_view>(vec("publish_v311_qos2"));
    EXPECT_EQ(p.qos, qos::exactly_once);
    EXPECT_EQ(p.packet_id, 0x1234); // big-endian: MSB first
    EXPECT_EQ(str(p.payload), "hi");
}

TEST(publish_fields, v311_qos0_retain) {
    const auto p = decode_as<publish_view>(vec("publish_v311_qos0_retain"));
    EXPECT_EQ(p.qos, qos::at_most_once);
    EXPECT_TRUE(p.retain);
    EXPECT_FALSE(p.dup);
    EXPECT_EQ(str(p.payload), "hi");
}

TEST(publish_fields, v311_dup_qos1) {
    const auto p = decode_as<publish_view>(vec("publish_v311_dup_qos1"));
    EXPECT_TRUE(p.dup);
    EXPECT_EQ(p.qos, qos::at_least_once);
    EXPECT_FALSE(p.retain);
    EXPECT_EQ(p.packet_id, 1);
}

TEST(publish_fields, v311_dup_qos2_retain) {
    const auto p = decode_as<publish_view>(vec("publish_v311_dup_qos2_retain"));
    EXPECT_TRUE(p.dup);
    EXPECT_EQ(p.qos, qos::exactly_once);
    EXPECT_TRUE(p.retain);
    EXPECT_EQ(p.packet_id, 65535);
}

TEST(publish_fields, v311_empty_payloads) {
    const auto q1 = decode_as<publish_view>(vec("publish_v311_qos1_empty_payload"));
    EXPECT_EQ(q1.packet_id, 1);
    EXPECT_TRUE(q1.payload.empty());
    const auto r = decode_as<publish_view>(vec("publish_v311_retain_empty_payload"));
    EXPECT_TRUE(r.retain);
    EXPECT_EQ(str(r.topic), "a/b");
    EXPECT_TRUE(r.payload.empty());
}

TEST(publish_fields, v311_binary_payload_is_not_checked_as_utf8) {
    const auto p = decode_as<publish_view>(vec("publish_v311_binary_payload"));
    EXPECT_EQ(str(p.topic), "t");
    EXPECT_EQ(view_hex(p.payload), norm("00 ff 80 c0 ff fe"));
}

TEST(publish_fields, v311_multibyte_utf8_topic) {
    const auto p = decode_as<publish_view>(vec("publish_v311_multibyte_utf8_topic"));
    // MQTT-3.3.2-1: U+00FC "/" U+20AC "/" U+1D11E, 11 bytes.
    EXPECT_EQ(str(p.topic), "\xc3\xbc/\xe2\x82\xac/\xf0\x9d\x84\x9e");
    EXPECT_EQ(p.topic.size(), 11u);
    EXPECT_EQ(str(p.payload), "x");
}

TEST(publish_fields, v311_topics_with_empty_levels) {
    EXPECT_EQ(str(decode_as<publish_view>(vec("publish_v311_topic_single_slash")).topic), "/");
    EXPECT_EQ(str(decode_as<publish_view>(vec("publish_v311_topic_empty_level")).topic), "a//b");
}

TEST(publish_fields, v311_bom_in_topic_is_kept) {
    // MQTT-1.5.3-3: EF BB BF is U+FEFF and is neither skipped nor stripped.
    const auto p = decode_as<publish_view>(vec("publish_v311_topic_bom_kept"));
    EXPECT_EQ(p.topic.size(), 4u);
    EXPECT_EQ(view_hex(p.topic), norm("ef bb bf 61"));
}

TEST(publish_fields, v311_qos0_bytes_after_topic_are_payload) {
    // MQTT-2.3.1-5: a QoS 0 PUBLISH has no packet identifier, so 00 01 belongs to the payload.
    const auto p = decode_as<publish_view>(vec("publish_v311_qos0_no_packet_id"));
    EXPECT_EQ(p.packet_id, 0);
    EXPECT_EQ(p.payload.size(), 4u);
    EXPECT_EQ(view_hex(p.payload), norm("00 01 68 69"));
}

TEST(publish_fields, v311_two_byte_remaining_length) {
    const auto& v = vec("publish_v311_two_byte_remaining_length");
    const auto p = decode_as<publish_view>(v);
    EXPECT_EQ(str(p.topic), "t");
    ASSERT_EQ(p.payload.size(), 125u);
    for (std::size_t i = 0; i < p.payload.size(); ++i)
        EXPECT_EQ(static_cast<std::size_t>(p.payload[i]), i);
    EXPECT_EQ(decode_packet(v.bytes, v.options)->size, 131u); // 1 + 2 + 128
}

// ---------------------------------------------------------------------------------------------
// Fields: MQTT 3.1
// ---------------------------------------------------------------------------------------------

TEST(publish_fields, v31) {
    const auto p = decode_as<publish_view>(vec("publish_v31_qos1"));
    EXPECT_EQ(str(p.topic), "a/b");
    EXPECT_EQ(p.qos, qos::at_least_once);
    EXPECT_EQ(p.packet_id, 1);
    EXPECT_EQ(str(p.payload), "hi");
    const auto r = decode_as<publish_view>(vec("publish_v31_qos0_retain"));
    EXPECT_TRUE(r.retain);
    EXPECT_EQ(r.packet_id, 0);
    EXPECT_EQ(str(r.payload), "hi");
}

// ---------------------------------------------------------------------------------------------
// Fields: MQTT 5.0
// ---------------------------------------------------------------------------------------------

TEST(publish_fields, v5_zero_property_length) {
    // MQTT5-2.2.2-1: the Property Length 0 is present and read; the payload follows it.
    const auto p = decode_as<publish_view>(vec("publish_v5_qos0_zero_property_length"));
    EXPECT_EQ(str(p.topic), "a/b");
    EXPECT_EQ(p.packet_id, 0);
    EXPECT_TRUE(p.properties.empty());
    EXPECT_EQ(p.properties.size(), 0u);
    EXPECT_EQ(str(p.payload), "hi");
}

TEST(publish_fields, v5_qos1) {
    const auto p = decode_as<publish_view>(vec("publish_v5_qos1"));
    EXPECT_EQ(p.qos, qos::at_least_once);
    EXPECT_EQ(p.packet_id, 10);
    EXPECT_TRUE(p.properties.empty());
    EXPECT_EQ(str(p.payload), "hi");
}

TEST(publish_fields, v5_qos2_retain_dup) {
    const auto p = decode_as<publish_view>(vec("publish_v5_qos2_retain_dup"));
    EXPECT_TRUE(p.dup);
    EXPECT_TRUE(p.retain);
    EXPECT_EQ(p.qos, qos::exactly_once);
    EXPECT_EQ(p.packet_id, 2);
}

TEST(publish_fields, v5_empty_payload) {
    const auto p = decode_as<publish_view>(vec("publish_v5_empty_payload"));
    EXPECT_TRUE(p.retain);
    EXPECT_TRUE(p.properties.empty());
    EXPECT_TRUE(p.payload.empty());
}

TEST(publish_fields, v5_qos0_bytes_after_properties_are_payload) {
    // MQTT5-2.2.1-2: no packet identifier at QoS 0; 00 is the Property Length, 00 01 the payload.
    const auto p = decode_as<publish_view>(vec("publish_v5_qos0_no_packet_id"));
    EXPECT_EQ(p.packet_id, 0);
    EXPECT_TRUE(p.properties.empty());
    EXPECT_EQ(view_hex(p.payload), norm("00 01"));
}

TEST(publish_fields, v5_bom_in_topic_is_kept) {
    // MQTT5-1.5.4-3
    const auto p = decode_as<publish_view>(vec("publish_v5_topic_bom_kept"));
    EXPECT_EQ(view_hex(p.topic), norm("ef bb bf 61"));
}

TEST(publish_fields, v5_payload_format_indicator) {
    const auto p0 = decode_as<publish_view>(vec("publish_v5_payload_format_0"));
    ASSERT_TRUE(p0.properties.find(property_id::payload_format_indicator).has_value());
    EXPECT_EQ(p0.properties.find(property_id::payload_format_indicator)->integer, 0u);
    EXPECT_EQ(p0.properties.size(), 1u);
    const auto p1 = decode_as<publish_view>(vec("publish_v5_payload_format_1"));
    EXPECT_EQ(p1.properties.integer_or(property_id::payload_format_indicator, 7), 1u);
    EXPECT_EQ(str(p1.payload), "hi");
}

TEST(publish_fields, v5_message_expiry) {
    const auto p = decode_as<publish_view>(vec("publish_v5_message_expiry"));
    const auto e = p.properties.find(property_id::message_expiry_interval);
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->integer, 3600u);
    EXPECT_EQ(e->type(), property_type::four_byte_integer);
}

TEST(publish_fields, v5_content_type) {
    // MQTT5-3.3.2-19: a UTF-8 Encoded String.
    const auto p = decode_as<publish_view>(vec("publish_v5_content_type"));
    const auto ct = p.properties.find(property_id::content_type);
    ASSERT_TRUE(ct.has_value());
    EXPECT_EQ(str(ct->string), "text/plain");
    EXPECT_EQ(str(p.payload), "hi");
}

TEST(publish_fields, v5_response_topic) {
    // MQTT5-3.3.2-13
    const auto p = decode_as<publish_view>(vec("publish_v5_response_topic"));
    const auto rt = p.properties.find(property_id::response_topic);
    ASSERT_TRUE(rt.has_value());
    EXPECT_EQ(str(rt->string), "a/rsp");
}

TEST(publish_fields, v5_correlation_data) {
    const auto p = decode_as<publish_view>(vec("publish_v5_correlation_data"));
    const auto cd = p.properties.find(property_id::correlation_data);
    ASSERT_TRUE(cd.has_value());
    EXPECT_EQ(view_hex(cd->binary), norm("00 ff 10 20"));
}

TEST(publish_fields, v5_subscription_identifier) {
    const auto p = decode_as<publish_view>(vec("publish_v5_subscription_identifier_from_server"));
    EXPECT_EQ(p.properties.count(property_id::subscription_identifier), 1u);
    EXPECT_EQ(p.properties.integer_or(property_id::subscription_identifier, 0), 1u);
}

TEST(publish_fields, v5_subscription_identifiers_repeated_in_wire_order) {
    const auto p = decode_as<publish_view>(vec("publish_v5_subscription_identifiers_repeated"));
    EXPECT_EQ(p.properties.count(property_id::subscription_identifier), 4u);
    std::vector<std::uint32_t> ids;
    for (const auto& prop : p.properties) {
        EXPECT_EQ(prop.id, property_id::subscription_identifier);
        ids.push_back(prop.integer);
    }
    EXPECT_EQ(ids, (std::vector<std::uint32_t>{1, 128, 16384, 268'435'455}));
    // find gives the first one.
    EXPECT_EQ(p.properties.find(property_id::subscription_identifier)->integer, 1u);
}

TEST(publish_fields, v5_same_subscription_identifier_twice) {
    const auto p = decode_as<publish_view>(vec("publish_v5_subscription_identifier_same_twice"));
    EXPECT_EQ(p.properties.count(property_id::subscription_identifier), 2u);
    for (const auto& prop : p.properties) EXPECT_EQ(prop.integer, 7u);
}

TEST(publish_fields, v5_subscription_identifier_direction_rule) {
    // MQTT5-3.3.4-6: the very same bytes are refused from a client and accepted from a server
    // (and when the sender is not known).
    const auto& from_server = vec("publish_v5_subscription_identifier_from_server");
    const auto& from_client = vec("publish_v5_subscription_identifier_from_client");
    ASSERT_EQ(to_hex(from_server.bytes), to_hex(from_client.bytes));
    EXPECT_EQ(from_server.options.sender, peer_role::server);
    EXPECT_EQ(from_client.options.sender, peer_role::client);
    EXPECT_EQ(decode_error(from_client), errc::protocol_error);
    EXPECT_TRUE(decode_packet(from_server.bytes, from_server.options).has_value());
    decode_options unknown{.version = v5};
    EXPECT_TRUE(decode_packet(from_server.bytes, unknown).has_value());
}

TEST(publish_fields, v5_topic_alias_with_topic) {
    const auto p = decode_as<publish_view>(vec("publish_v5_topic_alias_with_topic"));
    EXPECT_EQ(str(p.topic), "a/b");
    EXPECT_EQ(p.properties.integer_or(property_id::topic_alias, 0), 5u);
}

TEST(publish_fields, v5_topic_alias_with_empty_topic) {
    const auto p = decode_as<publish_view>(vec("publish_v5_topic_alias_empty_topic"));
    EXPECT_TRUE(p.topic.empty());
    EXPECT_TRUE(p.properties.contains(property_id::topic_alias));
    EXPECT_EQ(p.properties.integer_or(property_id::topic_alias, 0), 5u);
    EXPECT_EQ(str(p.payload), "hi");
}

TEST(publish_fields, v5_user_properties_repeated_in_order) {
    const auto p = decode_as<publish_view>(vec("publish_v5_user_properties_repeated"));
    ASSERT_EQ(p.properties.count(property_id::user_property), 3u);
    std::vector<std::string> pairs;
    for (const auto& prop : p.properties) {
        EXPECT_EQ(prop.id, property_id::user_property);
        pairs.push_back(str(prop.pair().name) + "=" + str(prop.pair().value));
    }
    EXPECT_EQ(pairs, (std::vector<std::string>{"k=v", "k=w", "k2="}));
    EXPECT_EQ(str(p.properties.find(property_id::user_property)->value), "v");
}

TEST(publish_fields, v5_request_all_properties) {
    const auto p = decode_as<publish_view>(vec("publish_v5_request_all_properties"));
    EXPECT_EQ(p.qos, qos::at_least_once);
    EXPECT_EQ(p.packet_id, 7);
    EXPECT_EQ(p.properties.size(), 7u);
    EXPECT_EQ(p.properties.integer_or(property_id::payload_format_indicator, 9), 1u);
    EXPECT_EQ(p.properties.integer_or(property_id::message_expiry_interval, 0), 60u);
    EXPECT_EQ(str(p.properties.find(property_id::content_type)->string), "json");
    EXPECT_EQ(str(p.properties.find(property_id::response_topic)->string), "a/rsp");
    EXPECT_EQ(view_hex(p.properties.find(property_id::correlation_data)->binary), norm("ab cd"));
    EXPECT_EQ(str(p.properties.find(property_id::user_property)->string), "k");
    EXPECT_EQ(p.properties.integer_or(property_id::topic_alias, 0), 1u);
    EXPECT_FALSE(p.properties.contains(property_id::subscription_identifier));
    EXPECT_FALSE(p.properties.find(property_id::subscription_identifier).has_value());
    // Wire order.
    std::vector<property_id> order;
    for (const auto& prop : p.properties) order.push_back(prop.id);
    EXPECT_EQ(order, (std::vector<property_id>{
                         property_id::payload_format_indicator,
                         property_id::message_expiry_interval, property_id::content_type,
                         property_id::response_topic, property_id::correlation_data,
                         property_id::user_property, property_id::topic_alias}));
    EXPECT_EQ(str(p.payload), "{}");
}

TEST(publish_fields, v5_two_byte_property_length) {
    const auto p = decode_as<publish_view>(vec("publish_v5_two_byte_property_length"));
    const auto ct = p.properties.find(property_id::content_type);
    ASSERT_TRUE(ct.has_value());
    EXPECT_EQ(str(ct->string), std::string(125, 'x'));
    EXPECT_EQ(str(p.payload), "!");
}

// ---------------------------------------------------------------------------------------------
// Decoding rules checked beyond the vectors
// ---------------------------------------------------------------------------------------------

TEST(publish_decode, qos3_is_malformed_whatever_the_other_flags) {
    // MQTT-3.3.1-4 / MQTT5-3.3.1-4: both QoS bits set is malformed, for every DUP/RETAIN mix.
    for (unsigned flags : {0x6u, 0x7u, 0xEu, 0xFu}) {
        for (auto v : {v311, v5}) {
            auto bytes = hex("30 0a 00 03 61 2f 62 00 01 00 68 69");
            bytes[0] = static_cast<std::byte>(0x30u | flags);
            EXPECT_EQ(decode_packet(bytes, {.version = v}).error(), errc::malformed_packet)
                << "flags " << flags;
        }
    }
}

TEST(publish_decode, dup_with_qos0_is_malformed) {
    // MQTT-3.3.1-2 / MQTT5-3.3.1-2
    for (auto v : {v311, v5}) {
        for (unsigned first : {0x38u, 0x39u}) {
            auto bytes = hex("38 08 00 03 61 2f 62 00 68 69");
            bytes[0] = static_cast<std::byte>(first);
            EXPECT_EQ(decode_packet(bytes, {.version = v}).error(), errc::malformed_packet);
        }
    }
}

TEST(publish_decode, every_valid_flag_combination) {
    // DUP only with QoS > 0; RETAIN with any QoS (MQTT-3.3.1-2, MQTT-3.3.1-4).
    for (unsigned flags = 0; flags < 16; ++flags) {
        const unsigned q = (flags >> 1) & 3u;
        const bool dup = (flags & 8u) != 0;
        const bool valid = q != 3 && !(dup && q == 0);
        std::vector<std::byte> bytes =
            q == 0 ? hex("30 07 00 03 61 2f 62 68 69") : hex("30 09 00 03 61 2f 62 00 05 68 69");
        bytes[0] = static_cast<std::byte>(0x30u | flags);
        const auto r = decode_packet(bytes, {.version = v311});
        ASSERT_EQ(r.has_value(), valid) << "flags " << flags;
        if (!valid) continue;
        const auto& p = std::get<publish_view>(r->packet);
        EXPECT_EQ(static_cast<unsigned>(p.qos), q);
        EXPECT_EQ(p.dup, dup);
        EXPECT_EQ(p.retain, (flags & 1u) != 0);
        EXPECT_EQ(p.packet_id, q == 0 ? 0 : 5);
        EXPECT_EQ(str(p.payload), "hi");
    }
}

TEST(publish_decode, longest_topic_65535_bytes_v311) {
    // MQTT-4.7.3-3: a topic name may take up to 65535 bytes.
    const std::size_t n = 65535;
    std::vector<std::byte> bytes = hex("30 81 80 04 ff ff"); // RL 65537 = 2 + 65535
    bytes.insert(bytes.end(), n, std::byte{'a'});
    ASSERT_EQ(bytes.size(), 4u + 65537u);
    const auto r = decode_packet(bytes, {.version = v311});
    ASSERT_TRUE(r.has_value()) << errc_name(r.error());
    const auto& p = std::get<publish_view>(r->packet);
    EXPECT_EQ(p.topic.size(), n);
    EXPECT_TRUE(p.payload.empty());
    EXPECT_EQ(encoded(p, v311), to_hex(bytes));
}

TEST(publish_decode, longest_topic_65535_bytes_v5) {
    // MQTT5-4.7.3-3
    const std::size_t n = 65535;
    std::vector<std::byte> bytes = hex("30 82 80 04 ff ff"); // RL 65538 = 2 + 65535 + 1
    bytes.insert(bytes.end(), n, std::byte{'b'});
    bytes.push_back(std::byte{0x00}); // property length 0
    ASSERT_EQ(bytes.size(), 4u + 65538u);
    const auto r = decode_packet(bytes, {.version = v5});
    ASSERT_TRUE(r.has_value()) << errc_name(r.error());
    const auto& p = std::get<publish_view>(r->packet);
    EXPECT_EQ(p.topic.size(), n);
    EXPECT_EQ(encoded(p, v5), to_hex(bytes));
}

TEST(publish_decode, control_characters_rejected_only_when_asked) {
    // MQTT5 1.5.4: U+0001..U+001F SHOULD NOT appear; a receiver MAY treat them as malformed.
    const auto bytes = hex("30 08 00 03 61 01 62 00 68 69"); // topic "a" U+0001 "b"
    EXPECT_TRUE(decode_packet(bytes, {.version = v5}).has_value());
    decode_options strict{.version = v5};
    strict.utf8.reject_control_characters = true;
    EXPECT_EQ(decode_packet(bytes, strict).error(), errc::malformed_packet);
}

TEST(publish_decode, payload_format_validation_is_opt_in) {
    // 5.0 section 3.3.2.3.2: the receiver MAY check a payload marked UTF-8, and answers 0x99.
    const auto marked_bad = hex("30 0a 00 03 61 2f 62 02 01 01 ff fe");   // PFI 1, payload ff fe
    const auto marked_good = hex("30 0a 00 03 61 2f 62 02 01 01 68 69");  // PFI 1, "hi"
    const auto unmarked_bad = hex("30 0a 00 03 61 2f 62 02 01 00 ff fe"); // PFI 0, ff fe
    EXPECT_TRUE(decode_packet(marked_bad, {.version = v5}).has_value());
    decode_options check{.version = v5, .validate_payload_format = true};
    EXPECT_EQ(decode_packet(marked_bad, check).error(), errc::payload_format_invalid);
    EXPECT_TRUE(decode_packet(marked_good, check).has_value());
    EXPECT_TRUE(decode_packet(unmarked_bad, check).has_value());
}

TEST(publish_decode, views_point_into_the_input) {
    const auto& v = vec("publish_v5_content_type");
    const auto p = decode_as<publish_view>(v);
    const auto* begin = v.bytes.data();
    const auto* end = begin + v.bytes.size();
    EXPECT_EQ(p.topic.bytes().data(), begin + 4); // after 30 15 00 03
    EXPECT_GE(p.payload.bytes().data(), begin);
    EXPECT_EQ(p.payload.bytes().data() + p.payload.size(), end);
}

TEST(publish_decode, trailing_bytes_belong_to_the_next_packet) {
    auto bytes = hex("32 09 00 03 61 2f 62 00 01 68 69");
    const auto one = bytes.size();
    const auto more = hex("c0 00"); // a PINGREQ after it
    bytes.insert(bytes.end(), more.begin(), more.end());
    const auto r = decode_packet(bytes, {.version = v311});
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->size, one);
    EXPECT_EQ(str(std::get<publish_view>(r->packet).payload), "hi");
}

// ---------------------------------------------------------------------------------------------
// Encoding from values
// ---------------------------------------------------------------------------------------------

TEST(publish_encode, v5_qos1_with_properties) {
    publish_view p;
    p.topic = "a/b";
    p.qos = qos::at_least_once;
    p.packet_id = 1;
    property props[] = {{property_id::payload_format_indicator, 1},
                        {property_id::content_type, "json"}};
    p.properties = properties_view(props);
    p.payload = "hi";
    EXPECT_EQ(encoded(p, v5), norm("32 13"                // PUBLISH QoS 1, RL 19
                               "00 03 61 2f 62"       // topic "a/b"
                               "00 01"                // packet identifier 1
                               "09"                   // property length 9
                               "01 01"                //   payload format indicator 1
                               "03 00 04 6a 73 6f 6e" //   content type "json"
                               "68 69"));             // payload "hi"
}

TEST(publish_encode, v5_without_properties_writes_property_length_0) {
    // MQTT5-2.2.2-1
    publish_view p;
    p.topic = "a/b";
    p.payload = "hi";
    EXPECT_EQ(encoded(p, v5), norm("30 08 00 03 61 2f 62 00 68 69"));
}

TEST(publish_encode, v311_ignores_properties) {
    publish_view p;
    p.topic = "a/b";
    p.qos = qos::at_least_once;
    p.packet_id = 1;
    // Properties do not exist before 5.0, so none is written, whatever they are.
    property props[] = {{property_id::content_type, "json"},
                        {property_id::session_expiry_interval, 10}};
    p.properties = properties_view(props);
    p.payload = "hi";
    EXPECT_EQ(encoded(p, v311), norm("32 09 00 03 61 2f 62 00 01 68 69"));
    EXPECT_EQ(encoded(p, v31), norm("32 09 00 03 61 2f 62 00 01 68 69"));
}

TEST(publish_encode, qos0_writes_no_packet_identifier) {
    // MQTT-2.3.1-5 / MQTT5-2.2.1-2
    publish_view p;
    p.topic = "a/b";
    p.payload = "hi";
    EXPECT_EQ(encoded(p, v311), norm("30 07 00 03 61 2f 62 68 69"));
    p.packet_id = 7; // meaningless at QoS 0
    EXPECT_EQ(encoded(p, v311), norm("30 07 00 03 61 2f 62 68 69"));
}

TEST(publish_encode, flags_byte) {
    publish_view p;
    p.topic = "t";
    p.qos = qos::exactly_once;
    p.packet_id = 0x0102;
    p.dup = true;
    p.retain = true;
    EXPECT_EQ(encoded(p, v311), norm("3d 05 00 01 74 01 02"));
    p.dup = false;
    EXPECT_EQ(encoded(p, v311), norm("35 05 00 01 74 01 02"));
    p.qos = qos::at_least_once;
    p.retain = false;
    EXPECT_EQ(encoded(p, v311), norm("32 05 00 01 74 01 02"));
}

TEST(publish_encode, subscription_identifiers_multi_byte) {
    publish_view p;
    p.topic = "a/b";
    property props[] = {{property_id::subscription_identifier, 1},
                        {property_id::subscription_identifier, 128},
                        {property_id::subscription_identifier, 268'435'455}};
    p.properties = properties_view(props);
    EXPECT_EQ(encoded(p, v5), norm("30 10 00 03 61 2f 62"
                               "0a"                // property length 10
                               "0b 01"             //   1
                               "0b 80 01"          //   128
                               "0b ff ff ff 7f")); //   268435455
}

TEST(publish_encode, topic_alias_with_empty_topic) {
    publish_view p;
    property props[] = {{property_id::topic_alias, 5}};
    p.properties = properties_view(props);
    EXPECT_EQ(encoded(p, v5), norm("30 06 00 00 03 23 00 05"));
}

TEST(publish_encode, user_properties_keep_their_order) {
    publish_view p;
    p.topic = "a/b";
    property props[] = {user_property("b", "2"), user_property("a", "1")};
    p.properties = properties_view(props);
    EXPECT_EQ(encoded(p, v5), norm("30 14 00 03 61 2f 62 0e"
                               "26 00 01 62 00 01 32"
                               "26 00 01 61 00 01 31"));
}

TEST(publish_encode, every_publish_property_wire_type) {
    publish_view p;
    p.topic = "a/b";
    p.qos = qos::exactly_once;
    p.packet_id = 0x1234;
    property props[] = {
        {property_id::payload_format_indicator, 0},                     // Byte
        {property_id::message_expiry_interval, 3600},                   // Four Byte Integer
        {property_id::content_type, "a"},                               // UTF-8 string
        {property_id::response_topic, "r"},                             // UTF-8 string
        {property_id::correlation_data, std::string_view("\0\x01", 2)}, // Binary Data
        {property_id::subscription_identifier, 16384},                  // Variable Byte Integer
        {property_id::topic_alias, 0x0102},                             // Two Byte Integer
        user_property("n", "v"),                                        // UTF-8 String Pair
    };
    p.properties = properties_view(props);
    p.payload = binary_view(std::string_view("\0", 1));
    EXPECT_EQ(encoded(p, v5), norm("34 2b"                // QoS 2, RL 43 = 5 + 2 + 1 + 34 + 1
                               "00 03 61 2f 62"       // topic
                               "12 34"                // packet identifier
                               "22"                   // property length 34
                               "01 00"                //   2
                               "02 00 00 0e 10"       //   5
                               "03 00 01 61"          //   4
                               "08 00 01 72"          //   4
                               "09 00 02 00 01"       //   5
                               "0b 80 80 01"          //   4
                               "23 01 02"             //   3
                               "26 00 01 6e 00 01 76" //   7
                               "00"));                // payload 00
}

TEST(publish_encode, two_byte_remaining_length) {
    publish_view p;
    p.topic = "t";
    const std::string payload(200, 'z');
    p.payload = std::string_view(payload);
    const auto h = encoded(p, v311);
    // RL 203 = 3 + 200: CB 01.
    EXPECT_EQ(h.substr(0, norm("30 cb 01 00 01 74").size()), norm("30 cb 01 00 01 74"));
}

TEST(publish_encode, decoded_packet_re_encodes_at_other_levels) {
    // Fields that exist at both levels survive; properties are dropped for 3.1.1.
    const auto p = decode_as<publish_view>(vec("publish_v5_request_all_properties"));
    EXPECT_EQ(encoded(p, v311), norm("32 09 00 03 61 2f 62 00 07 7b 7d"));
}

// ---------------------------------------------------------------------------------------------
// The encoder refuses what the decoder refuses
// ---------------------------------------------------------------------------------------------

publish_view basic(std::string_view topic = "a/b") {
    publish_view p;
    p.topic = topic;
    p.payload = "hi";
    return p;
}

TEST(publish_encode_refuses, wildcard_topic) {
    // MQTT-3.3.2-2 / MQTT5-3.3.2-2
    for (auto v : {v311, v5}) {
        EXPECT_EQ(encoded(basic("a/+"), v), failed(errc::topic_name_invalid));
        EXPECT_EQ(encoded(basic("#"), v), failed(errc::topic_name_invalid));
        EXPECT_EQ(encoded(basic("a/b#"), v), failed(errc::topic_name_invalid));
    }
}

TEST(publish_encode_refuses, empty_topic) {
    EXPECT_EQ(encoded(basic(""), v311), failed(errc::topic_name_invalid)); // MQTT-4.7.3-1
    // 5.0 section 3.3.2.1: a zero-length topic needs a Topic Alias.
    EXPECT_EQ(encoded(basic(""), v5), failed(errc::protocol_error));
    // 3.1.1 has no Topic Alias: the property does not rescue an empty topic there.
    auto p = basic("");
    property props[] = {{property_id::topic_alias, 1}};
    p.properties = properties_view(props);
    EXPECT_EQ(encoded(p, v311), failed(errc::topic_name_invalid));
    EXPECT_NE(encoded(p, v5).substr(0, 5), "error");
}

TEST(publish_encode_refuses, ill_formed_utf8_topic) {
    // MQTT-1.5.3-1, MQTT-1.5.3-2, MQTT5-1.5.4-1, MQTT5-1.5.4-2: whatever the code, no bytes.
    for (auto v : {v311, v5}) {
        EXPECT_EQ(encoded(basic("a\xff"), v).substr(0, 6), "error:");
        EXPECT_EQ(encoded(basic(std::string_view("a\0b", 3)), v).substr(0, 6), "error:");
        EXPECT_EQ(encoded(basic("\xed\xa0\x80"), v).substr(0, 6), "error:");
        EXPECT_EQ(encoded(basic("\xc0\x80"), v).substr(0, 6), "error:");
        EXPECT_EQ(encoded(basic("\xf4\x90\x80\x80"), v).substr(0, 6), "error:");
    }
}

TEST(publish_encode_refuses, packet_id_0_with_qos_above_0) {
    // MQTT-2.3.1-1 / MQTT5-2.2.1-3
    for (auto v : {v311, v5}) {
        for (auto q : {qos::at_least_once, qos::exactly_once}) {
            auto p = basic();
            p.qos = q;
            p.packet_id = 0;
            EXPECT_EQ(encoded(p, v), failed(errc::protocol_error));
        }
    }
}

TEST(publish_encode_refuses, dup_with_qos0) {
    // MQTT-3.3.1-2 / MQTT5-3.3.1-2
    auto p = basic();
    p.dup = true;
    EXPECT_EQ(encoded(p, v311), failed(errc::malformed_packet));
    EXPECT_EQ(encoded(p, v5), failed(errc::malformed_packet));
}

TEST(publish_encode_refuses, qos3) {
    // MQTT-3.3.1-4 / MQTT5-3.3.1-4
    auto p = basic();
    p.qos = static_cast<qos>(3);
    p.packet_id = 1;
    EXPECT_EQ(encoded(p, v311), failed(errc::malformed_packet));
    EXPECT_EQ(encoded(p, v5), failed(errc::malformed_packet));
}

TEST(publish_encode_refuses, topic_alias_0) {
    // MQTT5-3.3.2-8: a sender never uses Topic Alias 0.
    auto p = basic();
    property props[] = {{property_id::topic_alias, 0}};
    p.properties = properties_view(props);
    EXPECT_EQ(encoded(p, v5), failed(errc::topic_alias_invalid));
}

TEST(publish_encode_refuses, property_not_allowed_in_publish) {
    // 5.0 section 2.2.2.2: an Identifier not valid for the packet type makes the packet
    // malformed, so the encoder does not produce one.
    auto p = basic();
    property props[] = {{property_id::session_expiry_interval, 10}};
    p.properties = properties_view(props);
    EXPECT_EQ(encoded(p, v5), failed(errc::malformed_packet));
    property reason[] = {{property_id::reason_string, "x"}};
    p.properties = properties_view(reason);
    EXPECT_EQ(encoded(p, v5), failed(errc::malformed_packet));
}

TEST(publish_encode_refuses, duplicate_property) {
    // 5.0 sections 3.3.2.3.2 ff.: "It is a Protocol Error to include ... more than once".
    auto p = basic();
    property props[] = {{property_id::content_type, "a"}, {property_id::content_type, "b"}};
    p.properties = properties_view(props);
    EXPECT_EQ(encoded(p, v5), failed(errc::protocol_error));
    property alias[] = {{property_id::topic_alias, 1}, {property_id::topic_alias, 1}};
    p.properties = properties_view(alias);
    EXPECT_EQ(encoded(p, v5), failed(errc::protocol_error));
}

TEST(publish_encode_refuses, values_that_do_not_fit_their_wire_type) {
    auto p = basic();
    property byte_256[] = {{property_id::payload_format_indicator, 256}};
    p.properties = properties_view(byte_256);
    EXPECT_EQ(encoded(p, v5), failed(errc::malformed_packet));
    property two_byte[] = {{property_id::topic_alias, 65536}};
    p.properties = properties_view(two_byte);
    EXPECT_EQ(encoded(p, v5), failed(errc::malformed_packet));
    property varint[] = {{property_id::subscription_identifier, 268'435'456}};
    p.properties = properties_view(varint);
    EXPECT_EQ(encoded(p, v5), failed(errc::malformed_packet));
}

TEST(publish_encode_refuses, property_value_rules) {
    auto p = basic();
    property pfi2[] = {{property_id::payload_format_indicator, 2}};
    p.properties = properties_view(pfi2);
    EXPECT_EQ(encoded(p, v5), failed(errc::protocol_error)); // 5.0 section 3.3.2.3.2: 0 or 1
    property subid0[] = {{property_id::subscription_identifier, 0}};
    p.properties = properties_view(subid0);
    EXPECT_EQ(encoded(p, v5), failed(errc::protocol_error)); // 5.0 section 3.3.2.3.8
    property rt_wild[] = {{property_id::response_topic, "a/+"}};
    p.properties = properties_view(rt_wild);
    EXPECT_EQ(encoded(p, v5), failed(errc::protocol_error)); // MQTT5-3.3.2-14
    property ct_bad[] = {{property_id::content_type, "\xc3"}};
    p.properties = properties_view(ct_bad);
    EXPECT_EQ(encoded(p, v5), failed(errc::malformed_packet)); // MQTT5-3.3.2-19
    property rt_bad[] = {{property_id::response_topic, "\xed\xa0\x80"}};
    p.properties = properties_view(rt_bad);
    EXPECT_EQ(encoded(p, v5).substr(0, 6), "error:"); // MQTT5-3.3.2-13
    property up_bad[] = {user_property("k", "\xff")};
    p.properties = properties_view(up_bad);
    EXPECT_EQ(encoded(p, v5), failed(errc::malformed_packet)); // MQTT5-1.5.7-1
    property up_nul[] = {user_property(std::string_view("\0", 1), "v")};
    p.properties = properties_view(up_nul);
    EXPECT_EQ(encoded(p, v5), failed(errc::malformed_packet)); // MQTT5-1.5.7-1, MQTT5-1.5.4-2
}

TEST(publish_encode_refuses, subscription_identifier_from_a_client) {
    // MQTT5-3.3.4-6
    auto p = basic();
    property props[] = {{property_id::subscription_identifier, 1}};
    p.properties = properties_view(props);
    EXPECT_EQ(encoded(p, v5, encode_options{.sender = peer_role::client}), failed(errc::protocol_error));
    EXPECT_EQ(encoded(p, v5, encode_options{.sender = peer_role::server}),
              norm("30 0a 00 03 61 2f 62 02 0b 01 68 69"));
    EXPECT_EQ(encoded(p, v5), norm("30 0a 00 03 61 2f 62 02 0b 01 68 69"));
}

TEST(publish_encode_refuses, topic_longer_than_65535_bytes) {
    // MQTT-4.7.3-3 / MQTT5-4.7.3-3
    const std::string longest(65535, 'a');
    const std::string too_long(65536, 'a');
    EXPECT_EQ(validate_topic_name(longest), errc::success);
    EXPECT_EQ(validate_topic_name(too_long), errc::topic_name_invalid);
    for (auto v : {v311, v5}) {
        EXPECT_NE(encoded(basic(longest), v).substr(0, 6), "error:");
        EXPECT_EQ(encoded(basic(too_long), v).substr(0, 6), "error:");
    }
}

TEST(publish_encode_refuses, unknown_protocol_version) {
    EXPECT_EQ(encoded(basic(), static_cast<protocol_version>(6)), failed(errc::invalid_argument));
}

// ---------------------------------------------------------------------------------------------
// Maximum Packet Size: a PUBLISH is never trimmed
// ---------------------------------------------------------------------------------------------

TEST(publish_max_packet_size, never_trimmed) {
    // Only acknowledgements (and CONNACK, DISCONNECT, AUTH, SUBACK, UNSUBACK) may drop their
    // Reason String / User Properties; User Properties of a PUBLISH are application data
    // forwarded unaltered (5.0 section 3.3.2.3.7), so a PUBLISH that does not fit is refused whole.
    auto p = basic();
    property props[] = {user_property("k", "v")};
    p.properties = properties_view(props);
    const auto full = norm("30 0f 00 03 61 2f 62 07 26 00 01 6b 00 01 76 68 69"); // 17 bytes
    EXPECT_EQ(encoded(p, v5), full);
    EXPECT_EQ(encoded(p, v5, encode_options{.max_packet_size = 17}), full);
    EXPECT_EQ(encoded(p, v5, encode_options{.max_packet_size = 16}), failed(errc::packet_too_large));
    EXPECT_EQ(encoded_size(p, v5, encode_options{.max_packet_size = 16}).error(),
              errc::packet_too_large);
    EXPECT_EQ(encoded(basic(), v311, encode_options{.max_packet_size = 8}),
              failed(errc::packet_too_large)); // 9 bytes
}

} // namespace
} // namespace mqttwire::test
