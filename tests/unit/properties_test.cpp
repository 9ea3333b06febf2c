// MQTT 5.0 properties (section 2.2.2): every property's identifier, name and wire type, where
// each may appear (table 2-4, written out by hand below), duplicates, value rules, the seven wire
// types on both paths, and the look-up/iteration interface of properties_view.

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "test_support.hpp"

namespace mqttwire::test {
namespace {

using pc = property_context;
using pt = property_type;

// ---------------------------------------------------------------------------------------------
// MQTT 5.0 table 2-4, by hand
// ---------------------------------------------------------------------------------------------

constexpr pc all_contexts[] = {pc::will,       pc::connect, pc::connack,     pc::publish,
                               pc::puback,     pc::pubrec,  pc::pubrel,      pc::pubcomp,
                               pc::subscribe,  pc::suback,  pc::unsubscribe, pc::unsuback,
                               pc::disconnect, pc::auth};

const char* context_name(pc c) {
    switch (c) {
    case pc::will: return "Will Properties";
    case pc::connect: return "CONNECT";
    case pc::connack: return "CONNACK";
    case pc::publish: return "PUBLISH";
    case pc::puback: return "PUBACK";
    case pc::pubrec: return "PUBREC";
    case pc::pubrel: return "PUBREL";
    case pc::pubcomp: return "PUBCOMP";
    case pc::subscribe: return "SUBSCRIBE";
    case pc::suback: return "SUBACK";
    case pc::unsubscribe: return "UNSUBSCRIBE";
    case pc::unsuback: return "UNSUBACK";
    case pc::disconnect: return "DISCONNECT";
    case pc::auth: return "AUTH";
    }
    return "?";
}

struct row {
    std::uint8_t id;
    const char* name;
    pt type;
    std::vector<pc> packets;
};

const std::vector<row>& table_2_4() {
    static const std::vector<row> t = {
        {0x01, "Payload Format Indicator", pt::byte, {pc::publish, pc::will}},
        {0x02, "Message Expiry Interval", pt::four_byte_integer, {pc::publish, pc::will}},
        {0x03, "Content Type", pt::utf8_string, {pc::publish, pc::will}},
        {0x08, "Response Topic", pt::utf8_string, {pc::publish, pc::will}},
        {0x09, "Correlation Data", pt::binary_data, {pc::publish, pc::will}},
        {0x0B, "Subscription Identifier", pt::variable_byte_integer, {pc::publish, pc::subscribe}},
        {0x11,
         "Session Expiry Interval",
         pt::four_byte_integer,
         {pc::connect, pc::connack, pc::disconnect}},
        {0x12, "Assigned Client Identifier", pt::utf8_string, {pc::connack}},
        {0x13, "Server Keep Alive", pt::two_byte_integer, {pc::connack}},
        {0x15, "Authentication Method", pt::utf8_string, {pc::connect, pc::connack, pc::auth}},
        {0x16, "Authentication Data", pt::binary_data, {pc::connect, pc::connack, pc::auth}},
        {0x17, "Request Problem Information", pt::byte, {pc::connect}},
        {0x18, "Will Delay Interval", pt::four_byte_integer, {pc::will}},
        {0x19, "Request Response Information", pt::byte, {pc::connect}},
        {0x1A, "Response Information", pt::utf8_string, {pc::connack}},
        {0x1C, "Server Reference", pt::utf8_string, {pc::connack, pc::disconnect}},
        {0x1F,
         "Reason String",
         pt::utf8_string,
         {pc::connack, pc::puback, pc::pubrec, pc::pubrel, pc::pubcomp, pc::suback, pc::unsuback,
          pc::disconnect, pc::auth}},
        {0x21, "Receive Maximum", pt::two_byte_integer, {pc::connect, pc::connack}},
        {0x22, "Topic Alias Maximum", pt::two_byte_integer, {pc::connect, pc::connack}},
        {0x23, "Topic Alias", pt::two_byte_integer, {pc::publish}},
        {0x24, "Maximum QoS", pt::byte, {pc::connack}},
        {0x25, "Retain Available", pt::byte, {pc::connack}},
        {0x26,
         "User Property",
         pt::string_pair,
         {pc::connect, pc::connack, pc::publish, pc::will, pc::puback, pc::pubrec, pc::pubrel,
          pc::pubcomp, pc::subscribe, pc::suback, pc::unsubscribe, pc::unsuback, pc::disconnect,
          pc::auth}},
        {0x27, "Maximum Packet Size", pt::four_byte_integer, {pc::connect, pc::connack}},
        {0x28, "Wildcard Subscription Available", pt::byte, {pc::connack}},
        {0x29, "Subscription Identifier Available", pt::byte, {pc::connack}},
        {0x2A, "Shared Subscription Available", pt::byte, {pc::connack}},
    };
    return t;
}

bool listed(const row& r, pc c) {
    for (auto x : r.packets)
        if (x == c) return true;
    return false;
}

// Repeatable: User Property everywhere (sections 3.x "allowed to appear multiple times");
// Subscription Identifier in PUBLISH (3.3.2.3.8, one per matching subscription) but not in
// SUBSCRIBE (3.8.2.1.2: "a Protocol Error to include the Subscription Identifier more than once").
bool repeatable(const row& r, pc c) {
    if (r.id == 0x26) return true;
    return r.id == 0x0B && c == pc::publish;
}

// A valid value of the row's wire type, as wire bytes (after the identifier).
std::vector<std::byte> sample_value(const row& r) {
    switch (r.type) {
    case pt::byte: return hex("01");
    case pt::two_byte_integer: return hex("00 01");
    case pt::four_byte_integer: return hex("00 00 00 01");
    case pt::variable_byte_integer: return hex("01");
    case pt::utf8_string: return hex("00 01 61"); // "a" (also a valid Response Topic)
    case pt::binary_data: return hex("00 01 ff");
    case pt::string_pair: return hex("00 01 6b 00 01 76");
    }
    return {};
}

// Runs the decoder's property-block reader over Property Length + `entries`.
errc decode_block(std::span<const std::byte> entries, pc ctx, properties_view* out = nullptr,
                  decode_options opts = {}) {
    // A decoded view points into its input: keep every input alive for the whole test run.
    static std::deque<std::vector<std::byte>> inputs;
    auto& block = inputs.emplace_back();
    // Property Length as a Variable Byte Integer (the blocks here stay below 16384 bytes).
    if (entries.size() < 128) {
        block.push_back(static_cast<std::byte>(entries.size()));
    } else {
        block.push_back(static_cast<std::byte>((entries.size() & 0x7Fu) | 0x80u));
        block.push_back(static_cast<std::byte>(entries.size() >> 7));
    }
    block.insert(block.end(), entries.begin(), entries.end());
    detail::reader r(block);
    properties_view props;
    const auto e = detail::decode_properties(r, ctx, opts, props);
    if (e == errc::success) {
        EXPECT_TRUE(r.empty()) << "the block reader stopped early";
        if (out != nullptr) *out = props;
    }
    return e;
}

std::vector<std::byte> entry(std::uint8_t id, const std::vector<std::byte>& value) {
    std::vector<std::byte> e{std::byte{id}};
    e.insert(e.end(), value.begin(), value.end());
    return e;
}

std::vector<std::byte> concat(std::vector<std::byte> a, const std::vector<std::byte>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

// ---------------------------------------------------------------------------------------------
// The static table
// ---------------------------------------------------------------------------------------------

TEST(properties_table, twenty_seven_identifiers_and_no_others) {
    ASSERT_EQ(table_2_4().size(), 27u);
    std::vector<bool> assigned(64, false);
    for (const auto& r : table_2_4()) assigned[r.id] = true;
    for (std::uint32_t id = 0; id < 64; ++id) {
        const auto* info = find_property_info(id);
        EXPECT_EQ(info != nullptr, assigned[id]) << "identifier " << id;
        if (info != nullptr) {
            EXPECT_EQ(static_cast<std::uint32_t>(info->id), id);
        }
    }
    // Identifiers are Variable Byte Integers: larger values exist on the wire, none is assigned.
    for (std::uint32_t id : {128u, 255u, 256u, 16383u, 268'435'455u, 0xFFFF'FFFFu})
        EXPECT_EQ(find_property_info(id), nullptr) << id;
}

TEST(properties_table, names_and_wire_types) {
    for (const auto& r : table_2_4()) {
        SCOPED_TRACE(r.name);
        const auto* info = find_property_info(r.id);
        ASSERT_NE(info, nullptr);
        const auto id = static_cast<property_id>(r.id);
        EXPECT_EQ(&property_info_of(id), info);
        EXPECT_EQ(info->id, id);
        EXPECT_EQ(info->type, r.type);
        EXPECT_EQ(info->name, std::string_view(r.name));
        EXPECT_EQ(property(id, 0).type(), r.type);
    }
}

TEST(properties_table, allowed_packets) {
    std::string wrong;
    for (const auto& r : table_2_4()) {
        for (auto c : all_contexts) {
            const bool want = listed(r, c);
            if (is_allowed_in(static_cast<property_id>(r.id), c) != want)
                wrong += std::string(" ") + r.name + "/" + context_name(c);
            const bool bit =
                (find_property_info(r.id)->allowed & (1u << static_cast<unsigned>(c))) != 0;
            if (bit != want) wrong += std::string(" bit:") + r.name + "/" + context_name(c);
        }
    }
    EXPECT_TRUE(wrong.empty()) << "differs from table 2-4:" << wrong;
}

TEST(properties_table, repeatable_only_user_property_and_subscription_identifier_in_publish) {
    std::string wrong;
    for (const auto& r : table_2_4()) {
        for (auto c : all_contexts) {
            if (!listed(r, c)) continue;
            const bool bit =
                (find_property_info(r.id)->repeatable & (1u << static_cast<unsigned>(c))) != 0;
            if (bit != repeatable(r, c)) wrong += std::string(" ") + r.name + "/" + context_name(c);
        }
    }
    EXPECT_TRUE(wrong.empty()) << wrong;
}

// ---------------------------------------------------------------------------------------------
// The block reader against the table: once, twice, and in the wrong packet
// ---------------------------------------------------------------------------------------------

TEST(properties_decode, every_property_once_where_allowed) {
    std::string wrong;
    for (const auto& r : table_2_4()) {
        for (auto c : all_contexts) {
            if (!listed(r, c)) continue;
            properties_view props;
            const auto e = decode_block(entry(r.id, sample_value(r)), c, &props);
            if (e != errc::success) {
                wrong += std::string(" ") + r.name + "/" + context_name(c) + ":" +
                         std::string(errc_name(e));
                continue;
            }
            EXPECT_EQ(props.size(), 1u);
            EXPECT_TRUE(props.contains(static_cast<property_id>(r.id)));
        }
    }
    EXPECT_TRUE(wrong.empty()) << wrong;
}

TEST(properties_decode, identifier_not_valid_for_the_packet_is_malformed) {
    // 5.0 section 2.2.2.2: "A Control Packet which contains an Identifier which is not valid for
    // its packet type ... is a Malformed Packet."
    std::string wrong;
    for (const auto& r : table_2_4()) {
        for (auto c : all_contexts) {
            if (listed(r, c)) continue;
            const auto e = decode_block(entry(r.id, sample_value(r)), c);
            if (e != errc::malformed_packet)
                wrong += std::string(" ") + r.name + "/" + context_name(c) + ":" +
                         std::string(errc_name(e));
        }
    }
    EXPECT_TRUE(wrong.empty()) << wrong;
}

TEST(properties_decode, duplicates_are_a_protocol_error_except_the_repeatable_ones) {
    // Sections 3.1.2.11 ff., 3.2.2.3 ff., 3.3.2.3 ff., ...: "It is a Protocol Error to include
    // <property> more than once"; User Property may repeat; Subscription Identifier repeats in
    // PUBLISH only.
    std::string wrong;
    for (const auto& r : table_2_4()) {
        const auto one = entry(r.id, sample_value(r));
        const auto two = concat(one, one);
        for (auto c : all_contexts) {
            if (!listed(r, c)) continue;
            properties_view props;
            const auto e = decode_block(two, c, &props);
            const auto want = repeatable(r, c) ? errc::success : errc::protocol_error;
            if (e != want) {
                wrong += std::string(" ") + r.name + "/" + context_name(c) + ":" +
                         std::string(errc_name(e));
                continue;
            }
            if (e == errc::success) {
                EXPECT_EQ(props.count(static_cast<property_id>(r.id)), 2u);
            }
        }
    }
    EXPECT_TRUE(wrong.empty()) << wrong;
}

TEST(properties_decode, user_property_repeats_in_every_packet) {
    const auto up = hex("26 00 01 6b 00 01 76");
    const auto many = concat(concat(up, up), concat(up, up));
    for (auto c : all_contexts) {
        properties_view props;
        ASSERT_EQ(decode_block(many, c, &props), errc::success) << context_name(c);
        EXPECT_EQ(props.count(property_id::user_property), 4u);
    }
}

TEST(properties_decode, subscription_identifier_repeats_in_publish_only) {
    const auto ids = hex("0b 01 0b 02");
    EXPECT_EQ(decode_block(ids, pc::publish), errc::success);
    EXPECT_EQ(decode_block(ids, pc::subscribe), errc::protocol_error); // 5.0 section 3.8.2.1.2
}

TEST(properties_decode, unknown_identifiers_are_malformed) {
    // 5.0 section 2.2.2.2
    for (unsigned id : {0x00u, 0x04u, 0x05u, 0x06u, 0x07u, 0x0Au, 0x0Cu, 0x10u, 0x14u, 0x1Bu, 0x1Du,
                        0x1Eu, 0x20u, 0x2Bu, 0x7Fu})
        EXPECT_EQ(decode_block(entry(static_cast<std::uint8_t>(id), hex("00")), pc::publish),
                  errc::malformed_packet)
            << id;
    EXPECT_EQ(decode_block(hex("80 01 00"), pc::publish), errc::malformed_packet); // id 128
}

TEST(properties_decode, identifier_must_be_a_minimal_varint) {
    // MQTT5-1.5.5-1: the identifier is a Variable Byte Integer, so 81 00 (1 in two bytes) is
    // malformed although identifier 1 exists.
    EXPECT_EQ(decode_block(hex("81 00 01"), pc::publish), errc::malformed_packet);
    EXPECT_EQ(decode_block(hex("01 01"), pc::publish), errc::success);
}

TEST(properties_decode, property_length_must_be_a_minimal_varint) {
    // MQTT5-1.5.5-1
    const auto bytes = hex("80 00");
    detail::reader r(bytes);
    properties_view props;
    EXPECT_EQ(detail::decode_properties(r, pc::publish, {}, props), errc::malformed_packet);
}

TEST(properties_decode, values_are_bounded_by_the_property_length) {
    // Each value must fit inside the block, whatever follows the block.
    const auto tail = hex("ff ff ff ff ff ff"); // would complete any value if read
    for (const auto& r : table_2_4()) {
        const auto c = r.packets.front();
        const auto whole = entry(r.id, sample_value(r));
        // The block ends one byte before the value does.
        std::vector<std::byte> block;
        block.push_back(static_cast<std::byte>(whole.size() - 1));
        block.insert(block.end(), whole.begin(), whole.end() - 1);
        block.push_back(whole.back());
        block.insert(block.end(), tail.begin(), tail.end());
        detail::reader rd(block);
        properties_view props;
        EXPECT_EQ(detail::decode_properties(rd, c, {}, props), errc::malformed_packet) << r.name;
    }
}

TEST(properties_decode, string_values_follow_the_utf8_rules) {
    // MQTT5-1.5.4-1, MQTT5-1.5.4-2 for every UTF-8 string property; MQTT5-1.5.7-1 for both
    // halves of a User Property.
    for (const auto& r : table_2_4()) {
        if (r.type != pt::utf8_string) continue;
        const auto c = r.packets.front();
        EXPECT_EQ(decode_block(entry(r.id, hex("00 01 ff")), c), errc::malformed_packet) << r.name;
        EXPECT_EQ(decode_block(entry(r.id, hex("00 01 00")), c), errc::malformed_packet) << r.name;
        EXPECT_EQ(decode_block(entry(r.id, hex("00 03 ed a0 80")), c), errc::malformed_packet)
            << r.name;
    }
    EXPECT_EQ(decode_block(hex("26 00 01 ff 00 01 76"), pc::publish), errc::malformed_packet);
    EXPECT_EQ(decode_block(hex("26 00 01 6b 00 01 ff"), pc::publish), errc::malformed_packet);
    EXPECT_EQ(decode_block(hex("26 00 02 c0 80 00 00"), pc::puback), errc::malformed_packet);
    EXPECT_EQ(decode_block(hex("26 00 00 00 02 ed bf"), pc::pubrel), errc::malformed_packet);
    // Binary Data is not UTF-8 and may hold anything.
    EXPECT_EQ(decode_block(hex("09 00 03 00 ff c0"), pc::publish), errc::success);
}

TEST(properties_decode, utf8_rules_of_the_options_apply_to_properties) {
    decode_options strict;
    strict.utf8.reject_control_characters = true;
    const auto ct = hex("03 00 01 07"); // content type U+0007
    EXPECT_EQ(decode_block(ct, pc::publish), errc::success);
    EXPECT_EQ(decode_block(ct, pc::publish, nullptr, strict), errc::malformed_packet);
}

// ---------------------------------------------------------------------------------------------
// Value rules
// ---------------------------------------------------------------------------------------------

TEST(properties_values, zero_or_one_bytes) {
    // 3.3.2.3.2 (Payload Format Indicator: 0 or 1), 3.1.2.11.6 and 3.1.2.11.7 (Request Response /
    // Problem Information), 3.2.2.3.4 (Maximum QoS), 3.2.2.3.5 (Retain Available), 3.2.2.3.11-13
    // (Wildcard / Subscription Identifier / Shared Subscription Available): other values are a
    // Protocol Error.
    struct c {
        std::uint8_t id;
        pc ctx;
    };
    for (auto [id, ctx] : {c{0x01, pc::publish}, c{0x01, pc::will}, c{0x17, pc::connect},
                           c{0x19, pc::connect}, c{0x24, pc::connack}, c{0x25, pc::connack},
                           c{0x28, pc::connack}, c{0x29, pc::connack}, c{0x2A, pc::connack}}) {
        EXPECT_EQ(decode_block(entry(id, hex("00")), ctx), errc::success) << int{id};
        EXPECT_EQ(decode_block(entry(id, hex("01")), ctx), errc::success) << int{id};
        EXPECT_EQ(decode_block(entry(id, hex("02")), ctx), errc::protocol_error) << int{id};
        EXPECT_EQ(decode_block(entry(id, hex("ff")), ctx), errc::protocol_error) << int{id};
    }
}

TEST(properties_values, zero_is_a_protocol_error_for_some_integers) {
    // 3.1.2.11.3 / 3.2.2.3.3 Receive Maximum, 3.1.2.11.4 / 3.2.2.3.6 Maximum Packet Size,
    // 3.3.2.3.8 / 3.8.2.1.2 Subscription Identifier.
    EXPECT_EQ(decode_block(hex("21 00 00"), pc::connect), errc::protocol_error);
    EXPECT_EQ(decode_block(hex("21 00 00"), pc::connack), errc::protocol_error);
    EXPECT_EQ(decode_block(hex("27 00 00 00 00"), pc::connect), errc::protocol_error);
    EXPECT_EQ(decode_block(hex("27 00 00 00 00"), pc::connack), errc::protocol_error);
    EXPECT_EQ(decode_block(hex("0b 00"), pc::publish), errc::protocol_error);
    EXPECT_EQ(decode_block(hex("0b 00"), pc::subscribe), errc::protocol_error);
    // Topic Alias 0: 5.0 section 3.3.4 answers 0x94 Topic Alias invalid (MQTT5-3.3.2-8).
    EXPECT_EQ(decode_block(hex("23 00 00"), pc::publish), errc::topic_alias_invalid);
    // Zero is fine for the others.
    EXPECT_EQ(decode_block(hex("22 00 00"), pc::connect), errc::success); // Topic Alias Maximum
    EXPECT_EQ(decode_block(hex("11 00 00 00 00"), pc::connect), errc::success);
    EXPECT_EQ(decode_block(hex("13 00 00"), pc::connack), errc::success);
    EXPECT_EQ(decode_block(hex("02 00 00 00 00"), pc::publish), errc::success);
    EXPECT_EQ(decode_block(hex("18 00 00 00 00"), pc::will), errc::success);
}

TEST(properties_values, integer_extremes) {
    properties_view props;
    ASSERT_EQ(decode_block(hex("0b ff ff ff 7f 02 ff ff ff ff 23 ff ff"), pc::publish, &props),
              errc::success);
    EXPECT_EQ(props.integer_or(property_id::subscription_identifier, 0), 268'435'455u);
    EXPECT_EQ(props.integer_or(property_id::message_expiry_interval, 0), 0xFFFF'FFFFu);
    EXPECT_EQ(props.integer_or(property_id::topic_alias, 0), 65535u);
    // A Variable Byte Integer has at most four bytes (5.0 section 1.5.5).
    EXPECT_EQ(decode_block(hex("0b ff ff ff ff 01"), pc::publish), errc::malformed_packet);
}

TEST(properties_values, response_topic_is_a_topic_name) {
    // MQTT5-3.3.2-13 (UTF-8) and MQTT5-3.3.2-14 (no wildcard characters).
    EXPECT_EQ(decode_block(hex("08 00 05 61 2f 72 73 70"), pc::publish), errc::success);
    EXPECT_EQ(decode_block(hex("08 00 03 61 2f 2b"), pc::publish), errc::protocol_error);
    EXPECT_EQ(decode_block(hex("08 00 01 23"), pc::will), errc::protocol_error);
}

// ---------------------------------------------------------------------------------------------
// Fields of the valid vectors in properties.vec
// ---------------------------------------------------------------------------------------------

TEST(properties_fields, order_is_kept_and_not_significant) {
    // 5.0 section 2.2.2.2: order carries no meaning, but iteration follows the wire.
    const auto p = decode_as<publish_view>(vec("prop_v5_order_not_significant"));
    std::vector<property_id> order;
    for (const auto& prop : p.properties) order.push_back(prop.id);
    EXPECT_EQ(order, (std::vector<property_id>{property_id::topic_alias,
                                               property_id::payload_format_indicator}));
    EXPECT_EQ(p.properties.integer_or(property_id::topic_alias, 0), 1u);
    EXPECT_EQ(p.properties.integer_or(property_id::payload_format_indicator, 0), 1u);
}

TEST(properties_fields, empty_values) {
    const auto ct = decode_as<publish_view>(vec("prop_v5_empty_content_type"));
    ASSERT_TRUE(ct.properties.find(property_id::content_type).has_value());
    EXPECT_TRUE(ct.properties.find(property_id::content_type)->string.empty());
    const auto cd = decode_as<publish_view>(vec("prop_v5_empty_correlation_data"));
    ASSERT_TRUE(cd.properties.find(property_id::correlation_data).has_value());
    EXPECT_TRUE(cd.properties.find(property_id::correlation_data)->binary.empty());
    const auto up = decode_as<publish_view>(vec("prop_v5_empty_user_property"));
    ASSERT_EQ(up.properties.count(property_id::user_property), 1u);
    EXPECT_TRUE(up.properties.find(property_id::user_property)->pair().name.empty());
    EXPECT_TRUE(up.properties.find(property_id::user_property)->pair().value.empty());
}

TEST(properties_fields, integer_extremes) {
    const auto p = decode_as<publish_view>(vec("prop_v5_maximum_integer_values"));
    EXPECT_EQ(p.properties.integer_or(property_id::message_expiry_interval, 0), 4'294'967'295u);
    EXPECT_EQ(p.properties.integer_or(property_id::topic_alias, 0), 65535u);
    const auto z = decode_as<publish_view>(vec("prop_v5_message_expiry_0"));
    ASSERT_TRUE(z.properties.contains(property_id::message_expiry_interval));
    EXPECT_EQ(z.properties.integer_or(property_id::message_expiry_interval, 99), 0u);
}

TEST(properties_fields, bom_in_user_property_is_kept) {
    // MQTT5-1.5.4-3, MQTT5-1.5.7-1
    const auto p = decode_as<publish_view>(vec("prop_v5_user_property_bom_kept"));
    const auto up = p.properties.find(property_id::user_property);
    ASSERT_TRUE(up.has_value());
    EXPECT_EQ(to_hex(up->string.bytes()), "ef bb bf");
    EXPECT_TRUE(up->value.empty());
}

// ---------------------------------------------------------------------------------------------
// properties_view: look-up and iteration, wire-backed and value-backed alike
// ---------------------------------------------------------------------------------------------

TEST(properties_view_api, find_count_contains_iterate) {
    const auto wire = hex("26 00 01 61 00 01 31"   // user "a"="1"
                          "1f 00 02 72 73"         // reason string "rs"
                          "26 00 01 62 00 01 32"); // user "b"="2"
    properties_view decoded;
    ASSERT_EQ(decode_block(wire, pc::puback, &decoded), errc::success);
    property values[] = {
        user_property("a", "1"), {property_id::reason_string, "rs"}, user_property("b", "2")};
    const properties_view built(values);
    for (const properties_view* v :
         std::initializer_list<const properties_view*>{&decoded, &built}) {
        SCOPED_TRACE(v->is_wire() ? "wire" : "values");
        EXPECT_EQ(v->size(), 3u);
        EXPECT_FALSE(v->empty());
        EXPECT_TRUE(v->contains(property_id::user_property));
        EXPECT_TRUE(v->contains(property_id::reason_string));
        EXPECT_FALSE(v->contains(property_id::content_type));
        EXPECT_EQ(v->count(property_id::user_property), 2u);
        EXPECT_EQ(v->count(property_id::reason_string), 1u);
        EXPECT_EQ(v->count(property_id::topic_alias), 0u);
        EXPECT_EQ(str(v->find(property_id::user_property)->value), "1"); // the first one
        EXPECT_EQ(str(v->find(property_id::reason_string)->string), "rs");
        EXPECT_FALSE(v->find(property_id::session_expiry_interval).has_value());
        EXPECT_EQ(v->integer_or(property_id::session_expiry_interval, 42), 42u);
        std::string seen;
        for (const auto& p : *v) {
            if (p.id == property_id::user_property)
                seen += str(p.pair().name) + "=" + str(p.pair().value) + ";";
            else
                seen += "rs:" + str(p.string) + ";";
        }
        EXPECT_EQ(seen, "a=1;rs:rs;b=2;");
    }
    EXPECT_TRUE(decoded == built);
}

TEST(properties_view_api, empty_view) {
    const properties_view none;
    EXPECT_TRUE(none.empty());
    EXPECT_EQ(none.size(), 0u);
    EXPECT_TRUE(none.begin() == none.end());
    EXPECT_FALSE(none.find(property_id::user_property).has_value());
    EXPECT_EQ(none.count(property_id::user_property), 0u);
}

// ---------------------------------------------------------------------------------------------
// The encoder applies the same table (through a PUBLISH / PUBACK, and the shared checker)
// ---------------------------------------------------------------------------------------------

errc check_values(std::span<const property> props, pc ctx) {
    return detail::check_properties(properties_view(props), ctx);
}

property sample_property(const row& r) {
    const auto id = static_cast<property_id>(r.id);
    switch (r.type) {
    case pt::utf8_string: return {id, "a"};
    case pt::binary_data: return {id, binary_view("x")};
    case pt::string_pair: return user_property("k", "v");
    default: return {id, 1};
    }
}

TEST(properties_encode, same_table_as_the_decoder) {
    std::string wrong;
    for (const auto& r : table_2_4()) {
        const property one[] = {sample_property(r)};
        const property two[] = {sample_property(r), sample_property(r)};
        for (auto c : all_contexts) {
            const auto e1 = check_values(one, c);
            const auto want1 = listed(r, c) ? errc::success : errc::malformed_packet;
            if (e1 != want1)
                wrong += std::string(" once:") + r.name + "/" + context_name(c) + ":" +
                         std::string(errc_name(e1));
            if (!listed(r, c)) continue;
            const auto e2 = check_values(two, c);
            const auto want2 = repeatable(r, c) ? errc::success : errc::protocol_error;
            if (e2 != want2)
                wrong += std::string(" twice:") + r.name + "/" + context_name(c) + ":" +
                         std::string(errc_name(e2));
        }
    }
    EXPECT_TRUE(wrong.empty()) << wrong;
}

TEST(properties_encode, values_must_fit_the_wire_type) {
    const property byte_256[] = {{property_id::payload_format_indicator, 256}};
    EXPECT_EQ(check_values(byte_256, pc::publish), errc::malformed_packet);
    const property byte_max_ok[] = {{property_id::maximum_qos, 1}};
    EXPECT_EQ(check_values(byte_max_ok, pc::connack), errc::success);
    const property two_65536[] = {{property_id::receive_maximum, 65536}};
    EXPECT_EQ(check_values(two_65536, pc::connect), errc::malformed_packet);
    const property two_65535[] = {{property_id::receive_maximum, 65535}};
    EXPECT_EQ(check_values(two_65535, pc::connect), errc::success);
    const property vbi_over[] = {{property_id::subscription_identifier, 268'435'456}};
    EXPECT_EQ(check_values(vbi_over, pc::publish), errc::malformed_packet);
    const property four_max[] = {{property_id::session_expiry_interval, 0xFFFF'FFFFu}};
    EXPECT_EQ(check_values(four_max, pc::disconnect), errc::success);
}

TEST(properties_encode, unknown_identifier_is_refused) {
    property bogus;
    bogus.id = static_cast<property_id>(0x04);
    bogus.integer = 1;
    const property list[] = {bogus};
    EXPECT_EQ(check_values(list, pc::publish), errc::malformed_packet); // 5.0 section 2.2.2.2
}

TEST(properties_encode, value_rules_match_the_decoder) {
    const property pfi2[] = {{property_id::payload_format_indicator, 2}};
    EXPECT_EQ(check_values(pfi2, pc::publish), errc::protocol_error);
    const property rm0[] = {{property_id::receive_maximum, 0}};
    EXPECT_EQ(check_values(rm0, pc::connect), errc::protocol_error);
    const property mps0[] = {{property_id::maximum_packet_size, 0}};
    EXPECT_EQ(check_values(mps0, pc::connack), errc::protocol_error);
    const property sid0[] = {{property_id::subscription_identifier, 0}};
    EXPECT_EQ(check_values(sid0, pc::subscribe), errc::protocol_error);
    const property ta0[] = {{property_id::topic_alias, 0}};
    EXPECT_EQ(check_values(ta0, pc::publish), errc::topic_alias_invalid); // MQTT5-3.3.2-8
    const property rt[] = {{property_id::response_topic, "a/#"}};
    EXPECT_EQ(check_values(rt, pc::will), errc::protocol_error); // MQTT5-3.3.2-14
}

TEST(properties_encode, every_wire_type_round_trips) {
    // One PUBLISH carries all seven wire types (byte, two/four byte, varint, string, binary,
    // pair); PUBACK carries a Reason String.
    publish_view p;
    p.topic = "t";
    const property props[] = {
        {property_id::payload_format_indicator, 1},
        {property_id::topic_alias, 0x0203},
        {property_id::message_expiry_interval, 0x04050607},
        {property_id::subscription_identifier, 2'097'152},
        {property_id::content_type, "c"},
        {property_id::correlation_data, std::string_view("\x00\xff", 2)},
        user_property("n", "v"),
    };
    p.properties = properties_view(props);
    std::vector<std::byte> out(128);
    const auto n = encode(p, protocol_version::v5, std::span<std::byte>(out));
    ASSERT_TRUE(n.has_value()) << errc_name(n.error());
    // 2 + 3 + 5 + 5 + 4 + 5 + 7 = 31 bytes of properties; RL = 3 + 1 + 31 = 35.
    EXPECT_EQ(to_hex(std::span<const std::byte>(out.data(), *n)),
              to_hex(hex("30 23 00 01 74 1f"
                         "01 01"
                         "23 02 03"
                         "02 04 05 06 07"
                         "0b 80 80 80 01"
                         "03 00 01 63"
                         "09 00 02 00 ff"
                         "26 00 01 6e 00 01 76")));
    const auto back = decode_packet(std::span<const std::byte>(out.data(), *n),
                                    {.version = protocol_version::v5});
    ASSERT_TRUE(back.has_value());
    const auto& q = std::get<publish_view>(back->packet);
    EXPECT_TRUE(q.properties == p.properties);
    EXPECT_EQ(q.properties.integer_or(property_id::subscription_identifier, 0), 2'097'152u);
}

} // namespace
} // namespace mqttwire::test
