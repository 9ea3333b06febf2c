// CONNECT (MQTT 3.1, MQTT 3.1.1 section 3.1, MQTT 5.0 section 3.1).
//
// The generic harness (vectors_test.cpp) decodes every vector of connect.vec, checks its outcome
// and round-trips the valid ones. Here: the FIELDS of the valid vectors, encoding from values
// against hand-written bytes, the encoder's refusals (it never emits what the decoder refuses)
// and the 65535-byte string limit, which is too long to write as a vector.

#include <gtest/gtest.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "test_support.hpp"

using namespace mqttwire;
using namespace mqttwire::test;

namespace {

// The bytes of a binary or string value, to compare with text that may hold NULs.
std::string raw(std::string_view s) { return std::string(s); }

connect_view minimal_connect() {
    connect_view c;
    c.clean_start = true;
    c.keep_alive = 60;
    c.client_id = "c1";
    return c;
}

// ================================================================================================
// Decoding: the fields of the valid vectors
// ================================================================================================

TEST(connect_decode, v311_minimal_fields) {
    const auto c = decode_as<connect_view>(vec("connect_v311_minimal"));
    EXPECT_EQ(c.version, v311);
    EXPECT_TRUE(c.clean_start);
    EXPECT_EQ(c.keep_alive, 60);
    EXPECT_EQ(str(c.client_id), "c1");
    EXPECT_FALSE(c.will.has_value());
    EXPECT_FALSE(c.user_name.has_value()); // MQTT-3.1.2-18: user name flag 0, no user name
    EXPECT_FALSE(c.password.has_value());  // MQTT-3.1.2-20: password flag 0, no password
    EXPECT_TRUE(c.properties.empty());
}

TEST(connect_decode, v31_minimal_is_level_3_mqisdp) {
    const auto c = decode_as<connect_view>(vec("connect_v31_minimal"));
    EXPECT_EQ(c.version, v31);
    EXPECT_TRUE(c.clean_start);
    EXPECT_EQ(c.keep_alive, 60);
    EXPECT_EQ(str(c.client_id), "c1");
    EXPECT_FALSE(c.will.has_value());
}

TEST(connect_decode, v5_minimal_fields) {
    const auto c = decode_as<connect_view>(vec("connect_v5_minimal"));
    EXPECT_EQ(c.version, v5);
    EXPECT_TRUE(c.clean_start);
    EXPECT_EQ(c.keep_alive, 60);
    EXPECT_EQ(str(c.client_id), "c1");
    EXPECT_TRUE(c.properties.empty());
    EXPECT_FALSE(c.will.has_value());
    EXPECT_FALSE(c.user_name.has_value()); // MQTT5-3.1.2-16
    EXPECT_FALSE(c.password.has_value());  // MQTT5-3.1.2-18
}

// decode_options::version is the connection's level; a CONNECT names its own.
TEST(connect_decode, carries_its_own_level_whatever_the_options_say) {
    const auto& v311_bytes = vec("connect_v311_minimal").bytes;
    const auto a = decode_packet(v311_bytes, decode_options{.version = v5});
    ASSERT_TRUE(a.has_value()) << errc_name(a.error());
    EXPECT_EQ(std::get<connect_view>(a->packet).version, v311);

    const auto& v5_bytes = vec("connect_v5_minimal").bytes;
    const auto b = decode_packet(v5_bytes, decode_options{.version = v311});
    ASSERT_TRUE(b.has_value()) << errc_name(b.error());
    EXPECT_EQ(std::get<connect_view>(b->packet).version, v5);

    const auto& v31_bytes = vec("connect_v31_minimal").bytes;
    const auto d = decode_packet(v31_bytes, decode_options{.version = v5});
    ASSERT_TRUE(d.has_value()) << errc_name(d.error());
    EXPECT_EQ(std::get<connect_view>(d->packet).version, v31);
}

TEST(connect_decode, clean_session_0_and_keep_alive_0) {
    const auto c = decode_as<connect_view>(vec("connect_v311_clean_session_0_keep_alive_0"));
    EXPECT_FALSE(c.clean_start);
    EXPECT_EQ(c.keep_alive, 0);
}

TEST(connect_decode, clean_start_0_and_keep_alive_65535) {
    const auto c = decode_as<connect_view>(vec("connect_v5_clean_start_0_keep_alive_max"));
    EXPECT_FALSE(c.clean_start);
    EXPECT_EQ(c.keep_alive, 65535);
}

TEST(connect_decode, keep_alive_is_most_significant_byte_first) {
    const auto c = decode_as<connect_view>(vec("connect_v311_keep_alive_msb_first"));
    EXPECT_EQ(c.keep_alive, 300); // 01 2c
}

TEST(connect_decode, zero_length_client_id) {
    const auto a = decode_as<connect_view>(vec("connect_v311_empty_client_id"));
    EXPECT_TRUE(a.client_id.empty());
    EXPECT_TRUE(a.clean_start);
    const auto b = decode_as<connect_view>(vec("connect_v5_empty_client_id"));
    EXPECT_TRUE(b.client_id.empty());
    // With clean session 0 the packet is still well formed: the server answers CONNACK 0x02.
    const auto c = decode_as<connect_view>(vec("connect_v311_empty_client_id_clean_session_0"));
    EXPECT_TRUE(c.client_id.empty());
    EXPECT_FALSE(c.clean_start);
}

TEST(connect_decode, MQTT_1_5_3_3_bom_inside_client_id_is_kept) {
    // MQTT-1.5.3-3: EF BB BF is U+FEFF and must not be skipped or stripped.
    const auto c = decode_as<connect_view>(vec("connect_v311_client_id_bom_kept"));
    EXPECT_EQ(c.client_id.size(), 5u);
    EXPECT_EQ(str(c.client_id), "a\xEF\xBB\xBF"
                                "b"); // MQTT-1.5.3-3
}

TEST(connect_decode, MQTT5_1_5_4_3_leading_bom_in_client_id_is_kept) {
    const auto c = decode_as<connect_view>(vec("connect_v5_client_id_leading_bom_kept"));
    EXPECT_EQ(c.client_id.size(), 4u);
    EXPECT_EQ(str(c.client_id), "\xEF\xBB\xBF"
                                "a"); // MQTT5-1.5.4-3
}

TEST(connect_decode, multibyte_client_id) {
    const auto c = decode_as<connect_view>(vec("connect_v311_client_id_multibyte"));
    EXPECT_EQ(str(c.client_id), "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80");
}

// MQTT-3.1.2-9: with the will flag the will topic and message are present; MQTT-3.1.2-14: will
// QoS 0, 1 and 2 are the valid values.
TEST(connect_decode, MQTT_3_1_2_9_will_qos_0_1_2_and_retain) {
    struct expected {
        const char* name;
        qos q;
        bool retain;
        const char* payload;
    };
    for (const auto& e :
         {expected{"connect_v311_will_qos0", qos::at_most_once, false, "bye"},
          expected{"connect_v311_will_qos1", qos::at_least_once, false, "bye"},
          expected{"connect_v311_will_qos2_retain", qos::exactly_once, true, "bye"},
          expected{"connect_v311_will_empty_message_retain", qos::at_most_once, true, ""}}) {
        SCOPED_TRACE(e.name);
        const auto c = decode_as<connect_view>(vec(e.name));
        ASSERT_TRUE(c.will.has_value()); // MQTT-3.1.2-9
        EXPECT_EQ(c.will->qos, e.q);     // MQTT-3.1.2-14
        EXPECT_EQ(c.will->retain, e.retain);
        EXPECT_EQ(str(c.will->topic), "w/t");
        EXPECT_EQ(str(c.will->payload), e.payload);
        EXPECT_TRUE(c.will->properties.empty());
        EXPECT_FALSE(c.user_name.has_value());
    }
}

TEST(connect_decode, MQTT5_3_1_2_9_will_qos_0_and_2) {
    const auto a = decode_as<connect_view>(vec("connect_v5_will_qos0"));
    ASSERT_TRUE(a.will.has_value()); // MQTT5-3.1.2-9
    EXPECT_EQ(a.will->qos, qos::at_most_once);
    EXPECT_FALSE(a.will->retain);
    EXPECT_EQ(str(a.will->topic), "w/t");
    EXPECT_EQ(str(a.will->payload), "bye");
    EXPECT_TRUE(a.will->properties.empty());

    const auto b = decode_as<connect_view>(vec("connect_v5_will_qos2"));
    ASSERT_TRUE(b.will.has_value());
    EXPECT_EQ(b.will->qos, qos::exactly_once); // MQTT5-3.1.2-12: 0, 1 or 2
    EXPECT_FALSE(b.will->retain);
}

// MQTT-3.1.3-1: client id, will topic, will message, user name, password, in that order.
TEST(connect_decode, MQTT_3_1_3_1_all_payload_fields_in_order) {
    const auto c = decode_as<connect_view>(vec("connect_v311_will_user_name_password"));
    EXPECT_EQ(str(c.client_id), "c1");
    ASSERT_TRUE(c.will.has_value());
    EXPECT_EQ(c.will->qos, qos::exactly_once);
    EXPECT_FALSE(c.will->retain);
    EXPECT_EQ(str(c.will->topic), "w/t");
    EXPECT_EQ(str(c.will->payload), "bye");
    ASSERT_TRUE(c.user_name.has_value()); // MQTT-3.1.2-19
    EXPECT_EQ(str(*c.user_name), "u");
    ASSERT_TRUE(c.password.has_value()); // MQTT-3.1.2-21
    EXPECT_EQ(str(*c.password), "pw");
}

TEST(connect_decode, v31_will_user_name_password) {
    const auto c = decode_as<connect_view>(vec("connect_v31_will_qos1_retain_user_name_password"));
    EXPECT_EQ(c.version, v31);
    ASSERT_TRUE(c.will.has_value());
    EXPECT_EQ(c.will->qos, qos::at_least_once);
    EXPECT_TRUE(c.will->retain);
    EXPECT_EQ(str(c.will->topic), "w/t");
    EXPECT_EQ(str(c.will->payload), "bye");
    ASSERT_TRUE(c.user_name.has_value());
    EXPECT_EQ(str(*c.user_name), "u");
    ASSERT_TRUE(c.password.has_value());
    EXPECT_EQ(str(*c.password), "pw");
}

// MQTT5-3.1.3-1: client id, will properties, will topic, will payload; each will property value.
TEST(connect_decode, MQTT5_3_1_3_1_will_properties) {
    const auto c = decode_as<connect_view>(vec("connect_v5_will_all_properties"));
    EXPECT_TRUE(c.properties.empty());
    EXPECT_EQ(str(c.client_id), "c1");
    ASSERT_TRUE(c.will.has_value());
    const auto& w = *c.will;
    EXPECT_EQ(w.qos, qos::at_least_once);
    EXPECT_TRUE(w.retain);
    EXPECT_EQ(str(w.topic), "w/t");
    EXPECT_EQ(str(w.payload), "bye");
    EXPECT_EQ(w.properties.size(), 7u);
    EXPECT_EQ(w.properties.integer_or(property_id::will_delay_interval, 0), 10u);
    EXPECT_EQ(w.properties.integer_or(property_id::payload_format_indicator, 9), 1u);
    EXPECT_EQ(w.properties.integer_or(property_id::message_expiry_interval, 0), 3600u);
    const auto ct = w.properties.find(property_id::content_type);
    ASSERT_TRUE(ct.has_value());
    EXPECT_EQ(str(ct->string), "text/plain");
    const auto rt = w.properties.find(property_id::response_topic);
    ASSERT_TRUE(rt.has_value());
    EXPECT_EQ(str(rt->string), "r/t");
    const auto cd = w.properties.find(property_id::correlation_data);
    ASSERT_TRUE(cd.has_value());
    EXPECT_EQ(str(cd->binary), raw("\xC0\x01"));
    const auto up = w.properties.find(property_id::user_property);
    ASSERT_TRUE(up.has_value());
    EXPECT_EQ(str(up->string), "k");
    EXPECT_EQ(str(up->value), "v");
    EXPECT_EQ(w.properties.count(property_id::user_property), 1u);
    // The will properties come out in wire order.
    std::vector<property_id> ids;
    for (const auto& p : w.properties) ids.push_back(p.id);
    EXPECT_EQ(ids, (std::vector<property_id>{
                       property_id::will_delay_interval, property_id::payload_format_indicator,
                       property_id::message_expiry_interval, property_id::content_type,
                       property_id::response_topic, property_id::correlation_data,
                       property_id::user_property}));
}

// A Server MAY check the will payload against Payload Format Indicator 1 and answer 0x99
// (5.0 section 3.1.3.2.3); the check is an option, off by default.
TEST(connect_decode, will_payload_format_is_checked_only_on_request) {
    const auto& v = vec("connect_v5_will_payload_not_utf8_with_format_indicator");
    const auto c = decode_as<connect_view>(v);
    ASSERT_TRUE(c.will.has_value());
    EXPECT_EQ(str(c.will->payload), raw("\xFF\xFE"));
    EXPECT_EQ(c.will->properties.integer_or(property_id::payload_format_indicator, 0), 1u);

    auto opts = v.options;
    opts.validate_payload_format = true;
    EXPECT_EQ(decode_packet(v.bytes, opts).error(), errc::payload_format_invalid);
}

TEST(connect_decode, MQTT_3_1_2_19_user_name_only) {
    const auto c = decode_as<connect_view>(vec("connect_v311_user_name_only"));
    ASSERT_TRUE(c.user_name.has_value()); // MQTT-3.1.2-19
    EXPECT_EQ(str(*c.user_name), "u");
    EXPECT_FALSE(c.password.has_value()); // MQTT-3.1.2-20
}

TEST(connect_decode, MQTT_3_1_2_21_user_name_and_password) {
    const auto c = decode_as<connect_view>(vec("connect_v311_user_name_password"));
    ASSERT_TRUE(c.user_name.has_value());
    EXPECT_EQ(str(*c.user_name), "u");
    ASSERT_TRUE(c.password.has_value()); // MQTT-3.1.2-21
    EXPECT_EQ(str(*c.password), "pw");
}

TEST(connect_decode, password_is_binary_data) {
    const auto c = decode_as<connect_view>(vec("connect_v311_password_binary"));
    ASSERT_TRUE(c.password.has_value());
    EXPECT_EQ(c.password->size(), 3u);
    EXPECT_EQ(str(*c.password), raw(std::string_view("\xFF\x00\xFE", 3)));
}

// 5.0 allows a password without a user name (non-normative comment of section 3.1.2.9).
TEST(connect_decode, MQTT5_3_1_2_19_password_without_user_name) {
    const auto c = decode_as<connect_view>(vec("connect_v5_password_without_user_name"));
    EXPECT_FALSE(c.user_name.has_value()); // MQTT5-3.1.2-16
    ASSERT_TRUE(c.password.has_value());   // MQTT5-3.1.2-19
    EXPECT_EQ(str(*c.password), "pw");
}

TEST(connect_decode, MQTT5_3_1_2_17_user_name_and_password) {
    const auto c = decode_as<connect_view>(vec("connect_v5_user_name_password"));
    ASSERT_TRUE(c.user_name.has_value()); // MQTT5-3.1.2-17
    EXPECT_EQ(str(*c.user_name), "u");
    ASSERT_TRUE(c.password.has_value()); // MQTT5-3.1.2-19
    EXPECT_EQ(str(*c.password), "pw");
}

TEST(connect_decode, every_connect_property) {
    const auto c = decode_as<connect_view>(vec("connect_v5_all_properties"));
    const auto& p = c.properties;
    EXPECT_EQ(p.size(), 10u);
    EXPECT_EQ(p.integer_or(property_id::session_expiry_interval, 0), 30u);
    EXPECT_EQ(p.integer_or(property_id::receive_maximum, 0), 10u);
    EXPECT_EQ(p.integer_or(property_id::maximum_packet_size, 0), 16384u);
    EXPECT_EQ(p.integer_or(property_id::topic_alias_maximum, 0), 5u);
    EXPECT_EQ(p.integer_or(property_id::request_response_information, 9), 1u);
    EXPECT_TRUE(p.contains(property_id::request_problem_information));
    EXPECT_EQ(p.integer_or(property_id::request_problem_information, 9), 0u);
    EXPECT_EQ(p.count(property_id::user_property), 2u);
    std::vector<std::string> pairs;
    for (const auto& prop : p)
        if (prop.id == property_id::user_property)
            pairs.push_back(str(prop.string) + "=" + str(prop.value));
    EXPECT_EQ(pairs, (std::vector<std::string>{"a=1", "a=2"})); // order kept
    const auto am = p.find(property_id::authentication_method);
    ASSERT_TRUE(am.has_value());
    EXPECT_EQ(str(am->string), "SCRAM");
    const auto ad = p.find(property_id::authentication_data);
    ASSERT_TRUE(ad.has_value());
    EXPECT_EQ(str(ad->binary), raw("\x01\x02\x03"));
    EXPECT_FALSE(p.contains(property_id::will_delay_interval));
    EXPECT_FALSE(c.will.has_value());
}

TEST(connect_decode, session_expiry_0xffffffff) {
    const auto c = decode_as<connect_view>(vec("connect_v5_session_expiry_never"));
    EXPECT_EQ(c.properties.integer_or(property_id::session_expiry_interval, 0), 0xFFFFFFFFu);
    EXPECT_FALSE(c.clean_start);
}

TEST(connect_decode, authentication_method_without_data) {
    const auto c = decode_as<connect_view>(vec("connect_v5_authentication_method_without_data"));
    const auto am = c.properties.find(property_id::authentication_method);
    ASSERT_TRUE(am.has_value());
    EXPECT_EQ(str(am->string), "SCRAM");
    EXPECT_FALSE(c.properties.contains(property_id::authentication_data));
}

TEST(connect_decode, same_user_property_twice) {
    const auto c = decode_as<connect_view>(vec("connect_v5_user_property_same_pair_twice"));
    EXPECT_EQ(c.properties.count(property_id::user_property), 2u);
    for (const auto& p : c.properties) {
        EXPECT_EQ(str(p.string), "a");
        EXPECT_EQ(str(p.value), "1");
    }
}

// The invalid vectors are checked by the harness; these name the statements they enforce next to
// the error, as the spec words them.
TEST(connect_decode, flag_rules_refuse_malformed_connects) {
    // MQTT-3.1.2-3 / MQTT5-3.1.2-3: reserved flag.
    EXPECT_EQ(decode_error(vec("connect_v311_reserved_flag_set")), errc::malformed_packet);
    EXPECT_EQ(decode_error(vec("connect_v5_reserved_flag_set")), errc::malformed_packet);
    // MQTT-3.1.2-11, MQTT-3.1.2-13 / MQTT5-3.1.2-11: will QoS without will.
    EXPECT_EQ(decode_error(vec("connect_v311_will_qos1_without_will_flag")),
              errc::malformed_packet);
    EXPECT_EQ(decode_error(vec("connect_v5_will_qos1_without_will_flag")), errc::malformed_packet);
    // MQTT-3.1.2-15 / MQTT5-3.1.2-13: will retain without will.
    EXPECT_EQ(decode_error(vec("connect_v311_will_retain_without_will_flag")),
              errc::malformed_packet);
    EXPECT_EQ(decode_error(vec("connect_v5_will_retain_without_will_flag")),
              errc::malformed_packet);
    // MQTT-3.1.2-14 / MQTT5-3.1.2-12: will QoS 3.
    EXPECT_EQ(decode_error(vec("connect_v311_will_qos3")), errc::malformed_packet);
    EXPECT_EQ(decode_error(vec("connect_v5_will_qos3")), errc::malformed_packet);
    // MQTT-3.1.2-22: password without user name before 5.0.
    EXPECT_EQ(decode_error(vec("connect_v311_password_without_user_name")), errc::malformed_packet);
}

// ================================================================================================
// The longest strings: 65535 bytes (a two-byte length), built here because they are too long for
// a vector file (3.1.1 section 1.5.3, 5.0 section 1.5.4).
// ================================================================================================

std::vector<std::byte> concat(std::initializer_list<std::span<const std::byte>> parts) {
    std::vector<std::byte> out;
    for (auto p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
}

std::vector<std::byte> filled(std::size_t n, char c) {
    return std::vector<std::byte>(n, static_cast<std::byte>(c));
}

TEST(connect_decode, client_id_of_65535_bytes_decodes_and_round_trips) {
    // Remaining length 10 + 2 + 65535 = 65547 = 4 * 128^2 + 0 * 128 + 11: 8b 80 04.
    const auto head = annotated("10 8b 80 04            # CONNECT; remaining length 65547\n"
                                "00 04 4d 51 54 54 04   # \"MQTT\", level 4\n"
                                "02 00 3c               # clean session, keep alive 60\n"
                                "ff ff                  # client id length 65535");
    const auto id = filled(65535, 'a');
    const auto bytes = concat({head, id});
    ASSERT_EQ(bytes.size(), 4u + 65547u);

    const auto r = decode_packet(bytes, decode_options{.version = v311});
    ASSERT_TRUE(r.has_value()) << errc_name(r.error());
    EXPECT_EQ(r->size, bytes.size());
    const auto& c = std::get<connect_view>(r->packet);
    EXPECT_EQ(c.client_id.size(), 65535u);
    EXPECT_EQ(str(c.client_id), std::string(65535, 'a'));

    EXPECT_EQ(encoded(c, v311), to_hex(bytes));
}

TEST(connect_decode, user_name_of_65535_bytes_decodes_and_round_trips) {
    // Remaining length 11 + 4 + 2 + 65535 = 65552 = 4 * 128^2 + 0 * 128 + 16: 90 80 04.
    const auto head = annotated("10 90 80 04            # CONNECT; remaining length 65552\n"
                                "00 04 4d 51 54 54 05   # \"MQTT\", version 5\n"
                                "82 00 3c               # user name, clean start, keep alive 60\n"
                                "00                     # property length 0\n"
                                "00 02 63 31            # client id \"c1\"\n"
                                "ff ff                  # user name length 65535");
    const auto name = filled(65535, 'u');
    const auto bytes = concat({head, name});
    ASSERT_EQ(bytes.size(), 4u + 65552u);

    const auto r = decode_packet(bytes, decode_options{.version = v5});
    ASSERT_TRUE(r.has_value()) << errc_name(r.error());
    const auto& c = std::get<connect_view>(r->packet);
    ASSERT_TRUE(c.user_name.has_value());
    EXPECT_EQ(c.user_name->size(), 65535u);
    EXPECT_EQ(str(*c.user_name), std::string(65535, 'u'));

    EXPECT_EQ(encoded(c, v5), to_hex(bytes));
}

TEST(connect_encode, strings_of_65535_bytes_encode_and_65536_do_not) {
    const std::string max(65535, 'a');
    const std::string over(65536, 'a');

    auto c = minimal_connect();
    c.client_id = std::string_view(max);
    const auto ok = encoded_size(c, v311);
    ASSERT_TRUE(ok.has_value()) << errc_name(ok.error());
    EXPECT_EQ(*ok, 4u + 10u + 2u + 65535u);

    c.client_id = std::string_view(over); // no two-byte length can express it
    EXPECT_EQ(encoded(c, v311), failed(errc::malformed_packet));
    EXPECT_EQ(encoded(c, v5), failed(errc::malformed_packet));

    c = minimal_connect();
    c.user_name = utf8_view(std::string_view(over));
    EXPECT_EQ(encoded(c, v311), failed(errc::malformed_packet));

    c = minimal_connect();
    c.user_name = utf8_view("u");
    c.password = binary_view(std::string_view(over));
    EXPECT_EQ(encoded(c, v311), failed(errc::malformed_packet));

    c = minimal_connect();
    c.will = will_view{qos::at_most_once, false, "w/t", binary_view(std::string_view(over)), {}};
    EXPECT_EQ(encoded(c, v5), failed(errc::malformed_packet));
}

// ================================================================================================
// Encoding from values
// ================================================================================================

TEST(connect_encode, v311_minimal) {
    EXPECT_EQ(encoded(minimal_connect(), v311),
              bytes_of("10 0e                 # CONNECT; remaining length 14\n"
                       "00 04 4d 51 54 54     # \"MQTT\"\n"
                       "04                    # level 4\n"
                       "02                    # clean session\n"
                       "00 3c                 # keep alive 60\n"
                       "00 02 63 31           # client id \"c1\""));
    EXPECT_EQ(encoded(minimal_connect(), v311), bytes_of(vec("connect_v311_minimal")));
}

TEST(connect_encode, v31_writes_mqisdp_level_3) {
    EXPECT_EQ(encoded(minimal_connect(), v31),
              bytes_of("10 10                 # CONNECT; remaining length 16\n"
                       "00 06 4d 51 49 73 64 70   # \"MQIsdp\"\n"
                       "03                    # version 3\n"
                       "02 00 3c              # clean session, keep alive 60\n"
                       "00 02 63 31           # client id \"c1\""));
}

TEST(connect_encode, v5_minimal_writes_a_zero_property_length) {
    // MQTT5-2.2.2-1: no properties is a Property Length of 0, not an absent field.
    EXPECT_EQ(encoded(minimal_connect(), v5), bytes_of(vec("connect_v5_minimal")));
}

TEST(connect_encode, clean_start_and_keep_alive) {
    auto c = minimal_connect();
    c.clean_start = false;
    c.keep_alive = 0;
    EXPECT_EQ(encoded(c, v311), bytes_of(vec("connect_v311_clean_session_0_keep_alive_0")));
    c.keep_alive = 300;
    c.clean_start = true;
    EXPECT_EQ(encoded(c, v311), bytes_of(vec("connect_v311_keep_alive_msb_first")));
}

TEST(connect_encode, v5_session_expiry_and_will_with_delay) {
    const property props[] = {{property_id::session_expiry_interval, 30}};
    const property will_props[] = {{property_id::will_delay_interval, 10}};
    auto c = minimal_connect();
    c.properties = props;
    c.will = will_view{qos::at_least_once, true, "w/t", "bye", will_props};
    EXPECT_EQ(encoded(c, v5),
              bytes_of("10 24                 # CONNECT; remaining length 36\n"
                       "00 04 4d 51 54 54 05  # \"MQTT\", version 5\n"
                       "2e                    # will retain, will QoS 1, will, clean start\n"
                       "00 3c                 # keep alive 60\n"
                       "05 11 00 00 00 1e     # properties: session expiry interval 30\n"
                       "00 02 63 31           # client id \"c1\"\n"
                       "05 18 00 00 00 0a     # will properties: will delay interval 10\n"
                       "00 03 77 2f 74        # will topic \"w/t\"\n"
                       "00 03 62 79 65        # will payload \"bye\""));
}

TEST(connect_encode, v5_every_connect_property) {
    const property props[] = {
        {property_id::session_expiry_interval, 30},
        {property_id::receive_maximum, 10},
        {property_id::maximum_packet_size, 16384},
        {property_id::topic_alias_maximum, 5},
        {property_id::request_response_information, 1},
        {property_id::request_problem_information, 0},
        user_property("a", "1"),
        user_property("a", "2"),
        {property_id::authentication_method, "SCRAM"},
        {property_id::authentication_data, "\x01\x02\x03"},
    };
    auto c = minimal_connect();
    c.properties = props;
    EXPECT_EQ(encoded(c, v5), bytes_of(vec("connect_v5_all_properties")));
}

TEST(connect_encode, v5_every_will_property) {
    const property will_props[] = {
        {property_id::will_delay_interval, 10},
        {property_id::payload_format_indicator, 1},
        {property_id::message_expiry_interval, 3600},
        {property_id::content_type, "text/plain"},
        {property_id::response_topic, "r/t"},
        {property_id::correlation_data, std::string_view("\xC0\x01", 2)},
        user_property("k", "v"),
    };
    auto c = minimal_connect();
    c.will = will_view{qos::at_least_once, true, "w/t", "bye", will_props};
    EXPECT_EQ(encoded(c, v5), bytes_of(vec("connect_v5_will_all_properties")));
}

TEST(connect_encode, MQTT_3_1_3_1_payload_order_with_will_user_name_password) {
    auto c = minimal_connect();
    c.will = will_view{qos::exactly_once, false, "w/t", "bye", {}};
    c.user_name = utf8_view("u");
    c.password = binary_view("pw");
    // Hand-written bytes in the order of MQTT-3.1.3-1.
    EXPECT_EQ(encoded(c, v311), bytes_of(vec("connect_v311_will_user_name_password")));
}

TEST(connect_encode, v31_will_user_name_password) {
    auto c = minimal_connect();
    c.will = will_view{qos::at_least_once, true, "w/t", "bye", {}};
    c.user_name = utf8_view("u");
    c.password = binary_view("pw");
    EXPECT_EQ(encoded(c, v31), bytes_of(vec("connect_v31_will_qos1_retain_user_name_password")));
}

TEST(connect_encode, user_name_only_and_user_name_with_password) {
    auto c = minimal_connect();
    c.user_name = utf8_view("u");
    EXPECT_EQ(encoded(c, v311), bytes_of(vec("connect_v311_user_name_only")));
    c.password = binary_view("pw");
    EXPECT_EQ(encoded(c, v311), bytes_of(vec("connect_v311_user_name_password")));
    EXPECT_EQ(encoded(c, v5), bytes_of(vec("connect_v5_user_name_password")));
}

TEST(connect_encode, v5_password_without_user_name) {
    auto c = minimal_connect();
    c.password = binary_view("pw");
    EXPECT_EQ(encoded(c, v5), bytes_of(vec("connect_v5_password_without_user_name")));
}

TEST(connect_encode, MQTT_3_1_2_22_password_without_user_name_refused_before_5) {
    auto c = minimal_connect();
    c.password = binary_view("pw");
    EXPECT_EQ(encoded(c, v311), failed(errc::malformed_packet)); // MQTT-3.1.2-22
}

TEST(connect_encode, empty_client_id) {
    auto c = minimal_connect();
    c.client_id = "";
    EXPECT_EQ(encoded(c, v311), bytes_of(vec("connect_v311_empty_client_id")));
    EXPECT_EQ(encoded(c, v5), bytes_of(vec("connect_v5_empty_client_id")));
}

TEST(connect_encode, MQTT_1_5_3_3_bom_in_client_id_written_as_is) {
    auto c = minimal_connect();
    c.client_id = "a\xEF\xBB\xBF"
                  "b";
    EXPECT_EQ(encoded(c, v311), bytes_of(vec("connect_v311_client_id_bom_kept"))); // MQTT-1.5.3-3
}

TEST(connect_encode, MQTT_3_1_3_4_client_id_must_be_utf8) {
    auto c = minimal_connect();
    c.client_id = std::string_view("\xC3\x28", 2);
    EXPECT_EQ(encoded(c, v311), failed(errc::malformed_packet)); // MQTT-3.1.3-4
    c.client_id = std::string_view("a\0", 2);
    EXPECT_EQ(encoded(c, v5), failed(errc::malformed_packet)); // MQTT5-3.1.3-4
    c.client_id = std::string_view("\xED\xA0\x80", 3);         // U+D800
    EXPECT_EQ(encoded(c, v5), failed(errc::malformed_packet));
}

TEST(connect_encode, MQTT_3_1_3_10_will_topic_must_be_utf8) {
    auto c = minimal_connect();
    c.will = will_view{qos::at_most_once, false, std::string_view("w/\xFF", 3), "bye", {}};
    // Ill-formed UTF-8 makes a Malformed Packet (MQTT-1.5.3-1, MQTT5-1.5.4-1), the code the decoder
    // gives for connect_v311_will_topic_invalid_utf8 / connect_v5_will_topic_invalid_utf8.
    EXPECT_EQ(encoded(c, v311), failed(errc::malformed_packet)); // MQTT-3.1.3-10
    EXPECT_EQ(encoded(c, v5), failed(errc::malformed_packet));   // MQTT5-3.1.3-11
}

TEST(connect_encode, MQTT_3_1_3_11_user_name_must_be_utf8) {
    auto c = minimal_connect();
    c.user_name = utf8_view(std::string_view("\xFF", 1));
    EXPECT_EQ(encoded(c, v311), failed(errc::malformed_packet)); // MQTT-3.1.3-11
    EXPECT_EQ(encoded(c, v5), failed(errc::malformed_packet));   // MQTT5-3.1.3-12
}

TEST(connect_encode, will_topic_with_wildcard_or_empty_is_refused) {
    auto c = minimal_connect();
    c.will = will_view{qos::at_most_once, false, "w/+", "bye", {}};
    EXPECT_EQ(encoded(c, v311), failed(errc::topic_name_invalid)); // MQTT-4.7.1-1
    c.will->topic = "w/#";
    EXPECT_EQ(encoded(c, v5), failed(errc::topic_name_invalid)); // MQTT5-4.7.0-1
    c.will->topic = "";
    EXPECT_EQ(encoded(c, v311), failed(errc::topic_name_invalid)); // MQTT-4.7.3-1
}

TEST(connect_encode, will_qos_3_is_refused) {
    auto c = minimal_connect();
    c.will = will_view{static_cast<qos>(3), false, "w/t", "bye", {}};
    EXPECT_EQ(encoded(c, v311), failed(errc::malformed_packet)); // MQTT-3.1.2-14
    EXPECT_EQ(encoded(c, v5), failed(errc::malformed_packet));   // MQTT5-3.1.2-12
}

// 5.0 section 2.2.2.2: an identifier not valid for the packet type makes a Malformed Packet; the
// encoder refuses with the decoder's code.
TEST(connect_encode, property_not_valid_in_connect_is_refused) {
    auto c = minimal_connect();
    const property topic_alias[] = {{property_id::topic_alias, 1}};
    c.properties = topic_alias;
    EXPECT_EQ(encoded(c, v5), failed(errc::malformed_packet));

    const property will_delay[] = {{property_id::will_delay_interval, 10}};
    c.properties = will_delay; // a will property, not a CONNECT property
    EXPECT_EQ(encoded(c, v5), failed(errc::malformed_packet));

    c = minimal_connect();
    const property session_expiry[] = {{property_id::session_expiry_interval, 10}};
    c.will = will_view{qos::at_most_once, false, "w/t", "bye", session_expiry};
    EXPECT_EQ(encoded(c, v5), failed(errc::malformed_packet));
}

TEST(connect_encode, property_value_rules_are_protocol_errors) {
    auto c = minimal_connect();
    const property twice[] = {{property_id::session_expiry_interval, 10},
                              {property_id::session_expiry_interval, 20}};
    c.properties = twice; // 5.0 section 3.1.2.11.2
    EXPECT_EQ(encoded(c, v5), failed(errc::protocol_error));

    const property receive_max_0[] = {{property_id::receive_maximum, 0}};
    c.properties = receive_max_0; // 5.0 section 3.1.2.11.3
    EXPECT_EQ(encoded(c, v5), failed(errc::protocol_error));

    const property max_packet_0[] = {{property_id::maximum_packet_size, 0}};
    c.properties = max_packet_0; // 5.0 section 3.1.2.11.4
    EXPECT_EQ(encoded(c, v5), failed(errc::protocol_error));

    const property problem_2[] = {{property_id::request_problem_information, 2}};
    c.properties = problem_2; // 5.0 section 3.1.2.11.7
    EXPECT_EQ(encoded(c, v5), failed(errc::protocol_error));

    const property data_only[] = {{property_id::authentication_data, "\x01\x02"}};
    c.properties = data_only; // 5.0 section 3.1.2.11.10
    EXPECT_EQ(encoded(c, v5), failed(errc::protocol_error));
}

TEST(connect_encode, properties_are_not_written_before_5) {
    const property props[] = {{property_id::session_expiry_interval, 30}};
    auto c = minimal_connect();
    c.properties = props;
    EXPECT_EQ(encoded(c, v311), bytes_of(vec("connect_v311_minimal")));
}

// 3.1.1 section 2.2.1 / 5.0 section 2.1.2: CONNECT flows from client to server only. The decoder
// refuses a CONNECT from a server (vector connect_v5_sent_by_server); the encoder must not write
// one either.
TEST(connect_encode, only_a_client_sends_connect) {
    const auto c = minimal_connect();
    EXPECT_EQ(encoded(c, v5, encode_options{.sender = peer_role::client}),
              bytes_of(vec("connect_v5_minimal")));
    EXPECT_EQ(encoded(c, v5, encode_options{.sender = peer_role::server}),
              failed(errc::protocol_error));
    EXPECT_EQ(encoded(c, v311, encode_options{.sender = peer_role::server}),
              failed(errc::protocol_error));
}

// MQTT5-3.2.2-15: a client never sends a packet above the server's Maximum Packet Size. CONNECT
// has no property the spec lets the sender drop, so a CONNECT that does not fit is refused whole.
TEST(connect_encode, MQTT5_3_2_2_15_maximum_packet_size_refuses_without_dropping) {
    auto c = minimal_connect();
    EXPECT_EQ(encoded(c, v5, encode_options{.max_packet_size = 17}),
              bytes_of(vec("connect_v5_minimal"))); // 17 bytes: fits exactly
    EXPECT_EQ(encoded(c, v5, encode_options{.max_packet_size = 16}),
              failed(errc::packet_too_large));

    const property props[] = {user_property("k", "v")}; // 7 bytes
    c.properties = props;
    EXPECT_EQ(encoded(c, v5, encode_options{.max_packet_size = 23}),
              failed(errc::packet_too_large)); // 24 bytes needed; the user property stays
}

// ================================================================================================
// mosquitto's bridge flag (levels 0x83 / 0x84), behind decode_options::bridge_levels
// ================================================================================================

// mqtt-packet's "connect MQTT bridge 131" and "132": MQIsdp with either bridge level.
TEST(connect_bridge, mqtt_packet_vectors_report_the_flag_and_the_level) {
    const auto a = decode_as<connect_view>(vec("connect_bridge_131_mqisdp"));
    EXPECT_TRUE(a.bridge);
    EXPECT_EQ(a.version, v31);
    EXPECT_FALSE(a.clean_start);
    EXPECT_EQ(a.keep_alive, 30);
    EXPECT_EQ(str(a.client_id), "test");
    const auto b = decode_as<connect_view>(vec("connect_bridge_132_mqisdp"));
    EXPECT_TRUE(b.bridge);
    EXPECT_EQ(b.version, v311);
    EXPECT_EQ(str(b.client_id), "test");
}

TEST(connect_bridge, mosquitto_try_private_connect) {
    const auto c = decode_as<connect_view>(vec("connect_bridge_v311_mosquitto"));
    EXPECT_TRUE(c.bridge);
    EXPECT_EQ(c.version, v311);
    EXPECT_TRUE(c.clean_start);
    EXPECT_EQ(str(c.client_id), "host.bridge-in");
}

// The flag is off by default: the same bytes are an unsupported level (MQTT-3.1.2-2, which the
// broker answers with CONNACK 0x01, the answer that makes mosquitto retry without the flag).
TEST(connect_bridge, MQTT_3_1_2_2_off_by_default) {
    const auto& v = vec("connect_bridge_v311_mosquitto");
    EXPECT_FALSE(decode_options{}.bridge_levels);
    decode_options strict = v.options;
    strict.bridge_levels = false;
    EXPECT_EQ(decode_packet(v.bytes, strict).error(), errc::unsupported_protocol_version);
}

// A plain level never reports the flag, with or without the option.
TEST(connect_bridge, plain_levels_are_not_bridges) {
    for (const char* name : {"connect_v31_minimal", "connect_v311_minimal", "connect_v5_minimal"}) {
        decode_options o = vec(name).options;
        o.bridge_levels = true;
        const auto r = decode_packet(vec(name).bytes, o);
        ASSERT_TRUE(r.has_value()) << name;
        EXPECT_FALSE(std::get<connect_view>(r->packet).bridge) << name;
    }
}

TEST(connect_bridge, encode_sets_the_top_bit_of_the_level) {
    auto c = minimal_connect();
    c.bridge = true;
    EXPECT_EQ(encoded(c, v311), bytes_of("10 0e                 # CONNECT; remaining length 14\n"
                                         "00 04 4d 51 54 54     # protocol name MQTT\n"
                                         "84                    # level 4 | bridge flag 0x80\n"
                                         "02 00 3c              # clean session; keep alive 60\n"
                                         "00 02 63 31           # client id c1\n"));
    EXPECT_EQ(encoded(c, v31).substr(0, 3 * 11), "10 10 00 06 4d 51 49 73 64 70 83 ");
}

// A client profile carries no code for the flag (it never bridges): the level stays plain.
TEST(connect_bridge, client_profile_writes_the_plain_level) {
    auto c = minimal_connect();
    c.bridge = true;
    std::array<std::byte, 32> out{};
    const auto n = encode<client_profile>(c, v311, out);
    ASSERT_TRUE(n.has_value());
    EXPECT_EQ(to_hex(std::span<const std::byte>(out.data(), *n)),
              bytes_of(vec("connect_v311_minimal")));
}

} // namespace
