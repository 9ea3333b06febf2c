// CONNACK (MQTT 3.1, MQTT 3.1.1 section 3.2, MQTT 5.0 section 3.2).
//
// The generic harness (vectors_test.cpp) decodes every vector of connack.vec, checks its outcome
// and round-trips the valid ones. Here: the FIELDS of the valid vectors, every reason code byte
// against the spec's tables, encoding from values, the encoder's refusals and the Maximum Packet
// Size trimming of the Reason String and User Properties.

#include <gtest/gtest.h>

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

errc decode_bytes(std::string_view text, protocol_version v) {
    const auto bytes = hex(text);
    return decode_packet(bytes, decode_options{.version = v}).error();
}

// MQTT 5.0 table 3-1, Connect Reason Code values.
constexpr named_code connect_reason_codes[] = {
    {0x00, "Success"},
    {0x80, "Unspecified error"},
    {0x81, "Malformed Packet"},
    {0x82, "Protocol Error"},
    {0x83, "Implementation specific error"},
    {0x84, "Unsupported Protocol Version"},
    {0x85, "Client Identifier not valid"},
    {0x86, "Bad User Name or Password"},
    {0x87, "Not authorized"},
    {0x88, "Server unavailable"},
    {0x89, "Server busy"},
    {0x8A, "Banned"},
    {0x8C, "Bad authentication method"},
    {0x90, "Topic Name invalid"},
    {0x95, "Packet too large"},
    {0x97, "Quota exceeded"},
    {0x99, "Payload format invalid"},
    {0x9A, "Retain not supported"},
    {0x9B, "QoS not supported"},
    {0x9C, "Use another server"},
    {0x9D, "Server moved"},
    {0x9F, "Connection rate exceeded"},
};

bool is_connect_reason_code(unsigned code) {
    for (const auto& c : connect_reason_codes)
        if (c.code == code) return true;
    return false;
}

connack_view connack(std::uint8_t code, bool session_present = false) {
    connack_view c;
    c.reason = static_cast<reason_code>(code);
    c.session_present = session_present;
    return c;
}

// ================================================================================================
// Decoding 3.1 / 3.1.1
// ================================================================================================

TEST(connack_decode, v311_every_return_code) {
    struct expected {
        const char* name;
        connect_return_code code;
    };
    for (const auto& e :
         {expected{"connack_v311_accepted", connect_return_code::accepted},
          expected{"connack_v311_unacceptable_protocol_version",
                   connect_return_code::unacceptable_protocol_version},
          expected{"connack_v311_identifier_rejected", connect_return_code::identifier_rejected},
          expected{"connack_v311_server_unavailable", connect_return_code::server_unavailable},
          expected{"connack_v311_bad_user_name_or_password",
                   connect_return_code::bad_user_name_or_password},
          expected{"connack_v311_not_authorized", connect_return_code::not_authorized}}) {
        SCOPED_TRACE(e.name);
        const auto c = decode_as<connack_view>(vec(e.name));
        EXPECT_EQ(c.return_code(), e.code);
        EXPECT_FALSE(c.session_present);
        EXPECT_TRUE(c.properties.empty());
    }
}

TEST(connack_decode, v311_session_present) {
    const auto c = decode_as<connack_view>(vec("connack_v311_accepted_session_present"));
    EXPECT_TRUE(c.session_present);
    EXPECT_EQ(c.return_code(), connect_return_code::accepted);
}

TEST(connack_decode, v31_return_codes) {
    const auto a = decode_as<connack_view>(vec("connack_v31_accepted"));
    EXPECT_EQ(a.return_code(), connect_return_code::accepted);
    const auto b = decode_as<connack_view>(vec("connack_v31_identifier_rejected"));
    EXPECT_EQ(b.return_code(), connect_return_code::identifier_rejected);
    EXPECT_FALSE(b.session_present);
}

// 3.1.1 section 3.2.2.3: 0-5 are defined, 6-255 reserved.
TEST(connack_decode, v311_every_return_code_byte) {
    for (unsigned code = 0; code < 256; ++code) {
        SCOPED_TRACE(code);
        const auto bytes = std::vector<std::byte>{std::byte{0x20}, std::byte{0x02}, std::byte{0x00},
                                                  static_cast<std::byte>(code)};
        const auto r = decode_packet(bytes, decode_options{.version = v311});
        if (code <= 5) {
            ASSERT_TRUE(r.has_value()) << errc_name(r.error());
            EXPECT_EQ(static_cast<unsigned>(std::get<connack_view>(r->packet).return_code()), code);
        } else {
            EXPECT_EQ(r.error(), errc::malformed_packet);
        }
    }
}

TEST(connack_decode, MQTT_3_2_2_4_session_present_only_with_return_code_0) {
    for (unsigned code = 1; code <= 5; ++code) {
        SCOPED_TRACE(code);
        const auto bytes = std::vector<std::byte>{std::byte{0x20}, std::byte{0x02}, std::byte{0x01},
                                                  static_cast<std::byte>(code)};
        // MQTT-3.2.2-4: a non-zero return code comes with Session Present 0.
        EXPECT_EQ(decode_packet(bytes, decode_options{.version = v311}).error(),
                  errc::protocol_error);
    }
}

TEST(connack_decode, v311_reserved_acknowledge_flags) {
    // 3.1.1 section 3.2.2.1: bits 7-1 are reserved and 0.
    for (unsigned bit = 1; bit < 8; ++bit) {
        SCOPED_TRACE(bit);
        const auto bytes = std::vector<std::byte>{std::byte{0x20}, std::byte{0x02},
                                                  static_cast<std::byte>(1u << bit), std::byte{0}};
        EXPECT_EQ(decode_packet(bytes, decode_options{.version = v311}).error(),
                  errc::malformed_packet);
    }
}

// ================================================================================================
// Decoding 5.0
// ================================================================================================

TEST(connack_decode, v5_success_and_session_present) {
    const auto a = decode_as<connack_view>(vec("connack_v5_success"));
    EXPECT_EQ(a.reason, reason_code::success);
    EXPECT_FALSE(a.session_present);
    EXPECT_TRUE(a.properties.empty());
    const auto b = decode_as<connack_view>(vec("connack_v5_success_session_present"));
    EXPECT_EQ(b.reason, reason_code::success);
    EXPECT_TRUE(b.session_present);
}

TEST(connack_decode, MQTT5_3_2_2_8_reason_code_vectors_carry_their_code_and_name) {
    for (const auto& v : all_vectors()) {
        if (v.name.rfind("connack_v5_reason_", 0) != 0 || !v.valid()) continue;
        SCOPED_TRACE(v.name);
        const auto c = decode_as<connack_view>(v);
        const auto code = static_cast<unsigned>(c.reason);
        ASSERT_TRUE(is_connect_reason_code(code)); // MQTT5-3.2.2-8
        EXPECT_EQ(v.name.substr(18, 2),
                  (std::string{"0123456789abcdef"[code >> 4], "0123456789abcdef"[code & 15]}));
        for (const auto& e : connect_reason_codes) {
            if (e.code == code) {
                EXPECT_EQ(reason_code_name(c.reason, reason_context::connack), e.name);
            }
        }
    }
}

// MQTT5-3.2.2-8: exactly the codes of table 3-1 are accepted; any other byte is a Protocol Error.
TEST(connack_decode, MQTT5_3_2_2_8_every_reason_code_byte) {
    for (unsigned code = 0; code < 256; ++code) {
        SCOPED_TRACE(code);
        const auto bytes = std::vector<std::byte>{std::byte{0x20}, std::byte{0x03}, std::byte{0x00},
                                                  static_cast<std::byte>(code), std::byte{0x00}};
        const auto r = decode_packet(bytes, decode_options{.version = v5});
        if (is_connect_reason_code(code)) {
            ASSERT_TRUE(r.has_value()) << errc_name(r.error());
            EXPECT_EQ(static_cast<unsigned>(std::get<connack_view>(r->packet).reason), code);
        } else {
            EXPECT_EQ(r.error(), errc::protocol_error); // MQTT5-3.2.2-8
        }
    }
}

TEST(connack_decode, MQTT5_3_2_2_6_session_present_only_with_success) {
    for (const auto& e : connect_reason_codes) {
        if (e.code == 0) continue;
        SCOPED_TRACE(e.name);
        const auto bytes = std::vector<std::byte>{std::byte{0x20}, std::byte{0x03}, std::byte{0x01},
                                                  static_cast<std::byte>(e.code), std::byte{0x00}};
        EXPECT_EQ(decode_packet(bytes, decode_options{.version = v5}).error(),
                  errc::protocol_error); // MQTT5-3.2.2-6
    }
}

TEST(connack_decode, MQTT5_3_2_2_1_reserved_acknowledge_flags) {
    for (unsigned bit = 1; bit < 8; ++bit) {
        SCOPED_TRACE(bit);
        const auto bytes =
            std::vector<std::byte>{std::byte{0x20}, std::byte{0x03},
                                   static_cast<std::byte>(1u << bit), std::byte{0}, std::byte{0}};
        EXPECT_EQ(decode_packet(bytes, decode_options{.version = v5}).error(),
                  errc::malformed_packet); // MQTT5-3.2.2-1
    }
}

TEST(connack_decode, every_connack_property) {
    const auto c = decode_as<connack_view>(vec("connack_v5_all_properties"));
    EXPECT_EQ(c.reason, reason_code::success);
    EXPECT_FALSE(c.session_present);
    const auto& p = c.properties;
    EXPECT_EQ(p.size(), 16u);
    EXPECT_EQ(p.integer_or(property_id::session_expiry_interval, 0), 120u);
    EXPECT_EQ(p.integer_or(property_id::receive_maximum, 0), 20u);
    EXPECT_EQ(p.integer_or(property_id::maximum_qos, 9), 1u);
    EXPECT_TRUE(p.contains(property_id::retain_available));
    EXPECT_EQ(p.integer_or(property_id::retain_available, 9), 0u);
    EXPECT_EQ(p.integer_or(property_id::maximum_packet_size, 0), 65535u);
    const auto aci = p.find(property_id::assigned_client_identifier);
    ASSERT_TRUE(aci.has_value());
    EXPECT_EQ(str(aci->string), "auto");
    EXPECT_EQ(p.integer_or(property_id::topic_alias_maximum, 0), 10u);
    const auto rs = p.find(property_id::reason_string);
    ASSERT_TRUE(rs.has_value());
    EXPECT_EQ(str(rs->string), "ok");
    const auto up = p.find(property_id::user_property);
    ASSERT_TRUE(up.has_value());
    EXPECT_EQ(str(up->string), "k");
    EXPECT_EQ(str(up->value), "v");
    EXPECT_EQ(p.integer_or(property_id::wildcard_subscription_available, 9), 0u);
    EXPECT_EQ(p.integer_or(property_id::subscription_identifier_available, 9), 1u);
    EXPECT_EQ(p.integer_or(property_id::shared_subscription_available, 9), 0u);
    EXPECT_EQ(p.integer_or(property_id::server_keep_alive, 0), 30u);
    const auto ri = p.find(property_id::response_information);
    ASSERT_TRUE(ri.has_value());
    EXPECT_EQ(str(ri->string), "resp");
    const auto am = p.find(property_id::authentication_method);
    ASSERT_TRUE(am.has_value());
    EXPECT_EQ(str(am->string), "SCRAM");
    const auto ad = p.find(property_id::authentication_data);
    ASSERT_TRUE(ad.has_value());
    EXPECT_EQ(str(ad->binary), "\xAA\xBB");
    EXPECT_FALSE(p.contains(property_id::server_reference));
}

TEST(connack_decode, user_property_twice_in_order) {
    const auto c = decode_as<connack_view>(vec("connack_v5_user_property_twice"));
    EXPECT_EQ(c.properties.count(property_id::user_property), 2u);
    std::vector<std::string> values;
    for (const auto& p : c.properties) values.push_back(str(p.string) + "=" + str(p.value));
    EXPECT_EQ(values, (std::vector<std::string>{"k=1", "k=2"}));
}

TEST(connack_decode, server_reference_with_use_another_server_and_server_moved) {
    const auto a = decode_as<connack_view>(vec("connack_v5_use_another_server"));
    EXPECT_EQ(a.reason, reason_code::use_another_server);
    const auto ref = a.properties.find(property_id::server_reference);
    ASSERT_TRUE(ref.has_value());
    EXPECT_EQ(str(ref->string), "srv2");

    const auto b = decode_as<connack_view>(vec("connack_v5_server_moved_with_reason_string"));
    EXPECT_EQ(b.reason, reason_code::server_moved);
    const auto ref2 = b.properties.find(property_id::server_reference);
    ASSERT_TRUE(ref2.has_value());
    EXPECT_EQ(str(ref2->string), "srv2");
    const auto rs = b.properties.find(property_id::reason_string);
    ASSERT_TRUE(rs.has_value());
    EXPECT_EQ(str(rs->string), "moved");
}

TEST(connack_decode, v5_needs_its_property_length) {
    // MQTT5-2.2.2-1: even an empty property block is written as a Property Length of 0.
    EXPECT_EQ(decode_bytes("20 02 00 00", v5), errc::malformed_packet);
    // The same bytes are a complete 3.1.1 CONNACK.
    EXPECT_EQ(decode_bytes("20 02 00 00", v311), errc::success);
}

// ================================================================================================
// Encoding
// ================================================================================================

TEST(connack_encode, v311_return_codes_and_session_present) {
    EXPECT_EQ(encoded(connack(0x00), v311), bytes_of(vec("connack_v311_accepted")));
    EXPECT_EQ(encoded(connack(0x00, true), v311),
              bytes_of(vec("connack_v311_accepted_session_present")));
    EXPECT_EQ(encoded(connack(0x05), v311), bytes_of("20 02 00 05"));
    EXPECT_EQ(encoded(connack(0x02), v31), bytes_of(vec("connack_v31_identifier_rejected")));
}

TEST(connack_encode, v311_refuses_what_the_decoder_refuses) {
    EXPECT_EQ(encoded(connack(0x06), v311), failed(errc::malformed_packet)); // 3.1.1 §3.2.2.3
    EXPECT_EQ(encoded(connack(0x80), v311), failed(errc::malformed_packet));
    EXPECT_EQ(encoded(connack(0x05, true), v311), failed(errc::protocol_error)); // MQTT-3.2.2-4
}

TEST(connack_encode, v311_writes_no_properties) {
    const property props[] = {{property_id::session_expiry_interval, 10}};
    auto c = connack(0x00);
    c.properties = props;
    EXPECT_EQ(encoded(c, v311), bytes_of("20 02 00 00"));
}

TEST(connack_encode, v5_success_and_session_present) {
    EXPECT_EQ(encoded(connack(0x00), v5), bytes_of(vec("connack_v5_success")));
    EXPECT_EQ(encoded(connack(0x00, true), v5),
              bytes_of(vec("connack_v5_success_session_present")));
    EXPECT_EQ(encoded(connack(0x87), v5), bytes_of("20 03   # CONNACK; remaining length 3\n"
                                                   "00      # session present 0\n"
                                                   "87      # 0x87 Not authorized\n"
                                                   "00      # property length 0"));
}

TEST(connack_encode, MQTT5_3_2_2_8_only_connect_reason_codes) {
    for (unsigned code = 0; code < 256; ++code) {
        SCOPED_TRACE(code);
        const auto c = connack(static_cast<std::uint8_t>(code));
        if (is_connect_reason_code(code)) {
            EXPECT_EQ(encoded(c, v5), to_hex(std::vector<std::byte>{
                                          std::byte{0x20}, std::byte{0x03}, std::byte{0x00},
                                          static_cast<std::byte>(code), std::byte{0x00}}));
        } else {
            EXPECT_EQ(encoded(c, v5), failed(errc::protocol_error)); // MQTT5-3.2.2-8
        }
    }
}

TEST(connack_encode, MQTT5_3_2_2_6_no_session_present_with_a_failure) {
    EXPECT_EQ(encoded(connack(0x80, true), v5), failed(errc::protocol_error)); // MQTT5-3.2.2-6
}

TEST(connack_encode, every_connack_property) {
    const property props[] = {
        {property_id::session_expiry_interval, 120},
        {property_id::receive_maximum, 20},
        {property_id::maximum_qos, 1},
        {property_id::retain_available, 0},
        {property_id::maximum_packet_size, 65535},
        {property_id::assigned_client_identifier, "auto"},
        {property_id::topic_alias_maximum, 10},
        {property_id::reason_string, "ok"},
        user_property("k", "v"),
        {property_id::wildcard_subscription_available, 0},
        {property_id::subscription_identifier_available, 1},
        {property_id::shared_subscription_available, 0},
        {property_id::server_keep_alive, 30},
        {property_id::response_information, "resp"},
        {property_id::authentication_method, "SCRAM"},
        {property_id::authentication_data, "\xAA\xBB"},
    };
    auto c = connack(0x00);
    c.properties = props;
    EXPECT_EQ(encoded(c, v5), bytes_of(vec("connack_v5_all_properties")));
}

TEST(connack_encode, server_reference_with_use_another_server) {
    const property props[] = {{property_id::server_reference, "srv2"}};
    auto c = connack(0x9C);
    c.properties = props;
    EXPECT_EQ(encoded(c, v5), bytes_of(vec("connack_v5_use_another_server")));
}

TEST(connack_encode, property_rules) {
    auto c = connack(0x00);
    // 5.0 section 2.2.2.2: a CONNECT-only property in CONNACK makes a Malformed Packet.
    const property not_here[] = {{property_id::request_problem_information, 1}};
    c.properties = not_here;
    EXPECT_EQ(encoded(c, v5), failed(errc::malformed_packet));
    // 5.0 section 3.2.2.3.4: Maximum QoS is 0 or 1.
    const property max_qos_2[] = {{property_id::maximum_qos, 2}};
    c.properties = max_qos_2;
    EXPECT_EQ(encoded(c, v5), failed(errc::protocol_error));
    // 5.0 section 3.2.2.3.14: Server Keep Alive at most once.
    const property twice[] = {{property_id::server_keep_alive, 1},
                              {property_id::server_keep_alive, 2}};
    c.properties = twice;
    EXPECT_EQ(encoded(c, v5), failed(errc::protocol_error));
}

// 3.1.1 section 2.2.1 / 5.0 section 2.1.2: CONNACK flows from server to client only. The decoder
// refuses one from a client (vector connack_v5_sent_by_client); the encoder must not write one.
TEST(connack_encode, only_a_server_sends_connack) {
    const encode_options server{.sender = peer_role::server};
    const encode_options client{.sender = peer_role::client};
    EXPECT_EQ(encoded(connack(0x00), v5, &server), bytes_of(vec("connack_v5_success")));
    EXPECT_EQ(encoded(connack(0x00), v5, &client), failed(errc::protocol_error));
    EXPECT_EQ(encoded(connack(0x00), v311, &client), failed(errc::protocol_error));
}

// ================================================================================================
// Maximum Packet Size: MQTT5-3.2.2-19 (Reason String) and MQTT5-3.2.2-20 (User Properties)
// ================================================================================================

// Session Expiry Interval (5 bytes) must stay; Reason String "0123456789" (13 bytes) goes first,
// then the User Property "k" = "v" (7 bytes).
class connack_trimming : public ::testing::Test {
  protected:
    const property props_[3] = {
        {property_id::session_expiry_interval, 10},
        {property_id::reason_string, "0123456789"},
        user_property("k", "v"),
    };
    connack_view packet() const {
        auto c = connack(0x00);
        c.properties = props_;
        return c;
    }
    const std::string full_ = bytes_of("20 1c                # CONNACK; remaining length 28\n"
                                       "00 00                # session present 0, Success\n"
                                       "19                   # property length 25\n"
                                       "11 00 00 00 0a       # session expiry interval 10\n"
                                       "1f 00 0a 30 31 32 33 34 35 36 37 38 39 # reason string\n"
                                       "26 00 01 6b 00 01 76 # user property k = v");
    const std::string without_reason_string_ =
        bytes_of("20 0f                # CONNACK; remaining length 15\n"
                 "00 00                # session present 0, Success\n"
                 "0c                   # property length 12\n"
                 "11 00 00 00 0a       # session expiry interval 10\n"
                 "26 00 01 6b 00 01 76 # user property k = v");
    const std::string without_both_ = bytes_of("20 08                # remaining length 8\n"
                                               "00 00                # session present 0\n"
                                               "05                   # property length 5\n"
                                               "11 00 00 00 0a       # session expiry interval");
};

TEST_F(connack_trimming, whole_packet_when_it_fits) {
    EXPECT_EQ(encoded(packet(), v5), full_);
    EXPECT_EQ(encoded_within(packet(), v5, 30), full_); // exactly 30 bytes
}

TEST_F(connack_trimming, MQTT5_3_2_2_19_reason_string_dropped_first) {
    EXPECT_EQ(encoded_within(packet(), v5, 29), without_reason_string_); // MQTT5-3.2.2-19
    EXPECT_EQ(encoded_within(packet(), v5, 17), without_reason_string_); // exactly 17 bytes
}

TEST_F(connack_trimming, MQTT5_3_2_2_20_then_user_properties) {
    EXPECT_EQ(encoded_within(packet(), v5, 16), without_both_); // MQTT5-3.2.2-20
    EXPECT_EQ(encoded_within(packet(), v5, 10), without_both_); // exactly 10 bytes
}

TEST_F(connack_trimming, packet_too_large_when_even_that_does_not_fit) {
    EXPECT_EQ(encoded_within(packet(), v5, 9), failed(errc::packet_too_large));
}

// Below 5.0 nothing may be dropped: a CONNACK that does not fit the limit is refused whole.
TEST(connack_encode, v311_maximum_packet_size_refuses_without_dropping) {
    EXPECT_EQ(encoded_within(connack(0x00), v311, 4), bytes_of("20 02 00 00"));
    EXPECT_EQ(encoded_within(connack(0x00), v311, 3), failed(errc::packet_too_large));
}

} // namespace
