// DISCONNECT (MQTT 3.1, MQTT 3.1.1 section 3.14, MQTT 5.0 section 3.14) and AUTH (MQTT 5.0
// section 3.15).
//
// The generic harness (vectors_test.cpp) decodes every vector of disconnect_auth.vec, checks its
// outcome and round-trips the valid ones. Here: the FIELDS of the valid vectors, every reason code
// byte against the spec's tables, the short forms and what they re-encode to, the server-side
// Session Expiry rule, encoding from values, the encoder's refusals and the Maximum Packet Size
// trimming of the Reason String and User Properties.

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

template <class P> std::string encoded_by(const P& p, protocol_version v, peer_role sender) {
    const encode_options o{.sender = sender};
    return encoded(p, v, &o);
}

// Decodes `v` and re-encodes the packet at the vector's level.
std::string reencoded(const vector& v) {
    const auto r = decode_packet(v.bytes, v.options);
    if (!r) return failed(r.error());
    return std::visit([&](const auto& p) { return encoded(p, v.version); }, r->packet);
}

// MQTT 5.0 table 3-10, Disconnect Reason Code values.
constexpr named_code disconnect_reason_codes[] = {
    {0x00, "Normal disconnection"},
    {0x04, "Disconnect with Will Message"},
    {0x80, "Unspecified error"},
    {0x81, "Malformed Packet"},
    {0x82, "Protocol Error"},
    {0x83, "Implementation specific error"},
    {0x87, "Not authorized"},
    {0x89, "Server busy"},
    {0x8B, "Server shutting down"},
    {0x8D, "Keep Alive timeout"},
    {0x8E, "Session taken over"},
    {0x8F, "Topic Filter invalid"},
    {0x90, "Topic Name invalid"},
    {0x93, "Receive Maximum exceeded"},
    {0x94, "Topic Alias invalid"},
    {0x95, "Packet too large"},
    {0x96, "Message rate too high"},
    {0x97, "Quota exceeded"},
    {0x98, "Administrative action"},
    {0x99, "Payload format invalid"},
    {0x9A, "Retain not supported"},
    {0x9B, "QoS not supported"},
    {0x9C, "Use another server"},
    {0x9D, "Server moved"},
    {0x9E, "Shared Subscriptions not supported"},
    {0x9F, "Connection rate exceeded"},
    {0xA0, "Maximum connect time"},
    {0xA1, "Subscription Identifiers not supported"},
    {0xA2, "Wildcard Subscriptions not supported"},
};

// MQTT 5.0 table 3-11, Authenticate Reason Codes.
constexpr named_code auth_reason_codes[] = {
    {0x00, "Success"},
    {0x18, "Continue authentication"},
    {0x19, "Re-authenticate"},
};

template <std::size_t N> bool in(const named_code (&table)[N], unsigned code) {
    for (const auto& c : table)
        if (c.code == code) return true;
    return false;
}

disconnect_view disconnect(std::uint8_t code) {
    disconnect_view d;
    d.reason = static_cast<reason_code>(code);
    return d;
}

auth_view auth(std::uint8_t code) {
    auth_view a;
    a.reason = static_cast<reason_code>(code);
    return a;
}

// ================================================================================================
// DISCONNECT: decoding
// ================================================================================================

TEST(disconnect_decode, v311_and_v31_have_no_fields) {
    for (const char* name : {"disconnect_v311", "disconnect_v31"}) {
        SCOPED_TRACE(name);
        const auto d = decode_as<disconnect_view>(vec(name));
        EXPECT_EQ(d.reason, reason_code::success);
        EXPECT_TRUE(d.properties.empty());
    }
}

// 5.0 section 3.14.2.1: reason code and property length are omitted for a Normal disconnection
// without properties.
TEST(disconnect_decode, v5_remaining_length_0_is_normal_disconnection) {
    const auto d = decode_as<disconnect_view>(vec("disconnect_v5_normal_short_form"));
    EXPECT_EQ(d.reason, reason_code::success);
    EXPECT_EQ(reason_code_name(d.reason, reason_context::disconnect), "Normal disconnection");
    EXPECT_TRUE(d.properties.empty());
}

// 5.0 section 3.14.2.2.1: a remaining length below 2 means a property length of 0.
TEST(disconnect_decode, v5_remaining_length_1_is_reason_code_only) {
    const auto a = decode_as<disconnect_view>(vec("disconnect_v5_reason_code_only"));
    EXPECT_EQ(a.reason, reason_code::disconnect_with_will_message);
    EXPECT_TRUE(a.properties.empty());
    const auto b = decode_as<disconnect_view>(vec("disconnect_v5_server_shutting_down"));
    EXPECT_EQ(b.reason, reason_code::server_shutting_down);
    const auto c = decode_as<disconnect_view>(vec("disconnect_v5_normal_reason_code_written"));
    EXPECT_EQ(c.reason, reason_code::success);
    EXPECT_TRUE(c.properties.empty());
}

TEST(disconnect_decode, v5_longer_forms_of_the_short_ones_reencode_short) {
    EXPECT_EQ(reencoded(vec("disconnect_v5_normal_reason_code_written")), bytes_of("e0 00"));
    EXPECT_EQ(reencoded(vec("disconnect_v5_normal_empty_properties_written")), bytes_of("e0 00"));
    EXPECT_EQ(reencoded(vec("disconnect_v5_reason_code_with_empty_properties")),
              bytes_of("e0 01 04"));
    const auto d =
        decode_as<disconnect_view>(vec("disconnect_v5_reason_code_with_empty_properties"));
    EXPECT_EQ(d.reason, reason_code::disconnect_with_will_message);
    EXPECT_TRUE(d.properties.empty());
}

TEST(disconnect_decode, v5_client_properties) {
    const auto d = decode_as<disconnect_view>(vec("disconnect_v5_client_with_properties"));
    EXPECT_EQ(d.reason, reason_code::success);
    EXPECT_EQ(d.properties.size(), 3u);
    EXPECT_EQ(d.properties.integer_or(property_id::session_expiry_interval, 0), 3600u);
    const auto rs = d.properties.find(property_id::reason_string);
    ASSERT_TRUE(rs.has_value());
    EXPECT_EQ(str(rs->string), "bye");
    const auto up = d.properties.find(property_id::user_property);
    ASSERT_TRUE(up.has_value());
    EXPECT_EQ(str(up->string), "k");
    EXPECT_EQ(str(up->value), "v");
}

TEST(disconnect_decode, v5_server_reference_and_reason_string) {
    const auto a = decode_as<disconnect_view>(vec("disconnect_v5_server_use_another_server"));
    EXPECT_EQ(a.reason, reason_code::use_another_server);
    const auto ref = a.properties.find(property_id::server_reference);
    ASSERT_TRUE(ref.has_value());
    EXPECT_EQ(str(ref->string), "srv2");

    const auto b =
        decode_as<disconnect_view>(vec("disconnect_v5_session_taken_over_reason_string"));
    EXPECT_EQ(b.reason, reason_code::session_taken_over);
    const auto rs = b.properties.find(property_id::reason_string);
    ASSERT_TRUE(rs.has_value());
    EXPECT_EQ(str(rs->string), "new");
}

TEST(disconnect_decode, v5_user_property_twice) {
    const auto d = decode_as<disconnect_view>(vec("disconnect_v5_user_property_twice"));
    EXPECT_EQ(d.reason, reason_code::unspecified_error);
    EXPECT_EQ(d.properties.count(property_id::user_property), 2u);
    std::vector<std::string> values;
    for (const auto& p : d.properties) values.push_back(str(p.string) + "=" + str(p.value));
    EXPECT_EQ(values, (std::vector<std::string>{"k=1", "k=2"}));
}

// MQTT5-3.14.2-2: a server never sends Session Expiry Interval in DISCONNECT; a client may.
TEST(disconnect_decode, MQTT5_3_14_2_2_session_expiry_only_from_a_client) {
    const auto& v = vec("disconnect_v5_session_expiry_from_client");
    const auto d = decode_as<disconnect_view>(v);
    EXPECT_EQ(d.properties.integer_or(property_id::session_expiry_interval, 0), 60u);

    auto opts = v.options;
    opts.sender = peer_role::server;
    EXPECT_EQ(decode_packet(v.bytes, opts).error(), errc::protocol_error); // MQTT5-3.14.2-2
    opts.sender = peer_role::client;
    EXPECT_TRUE(decode_packet(v.bytes, opts).has_value());
}

// MQTT5-3.14.2-1: exactly the codes of table 3-10; any other byte is a Protocol Error.
TEST(disconnect_decode, MQTT5_3_14_2_1_every_reason_code_byte) {
    for (unsigned code = 0; code < 256; ++code) {
        SCOPED_TRACE(code);
        const auto bytes =
            std::vector<std::byte>{std::byte{0xE0}, std::byte{0x01}, static_cast<std::byte>(code)};
        const auto r = decode_packet(bytes, decode_options{.version = v5});
        if (in(disconnect_reason_codes, code)) {
            ASSERT_TRUE(r.has_value()) << errc_name(r.error());
            EXPECT_EQ(static_cast<unsigned>(std::get<disconnect_view>(r->packet).reason), code);
        } else {
            EXPECT_EQ(r.error(), errc::protocol_error); // MQTT5-3.14.2-1
        }
    }
    for (const auto& e : disconnect_reason_codes)
        EXPECT_EQ(reason_code_name(static_cast<reason_code>(e.code), reason_context::disconnect),
                  e.name);
}

TEST(disconnect_decode, reserved_flags_every_bit) {
    for (unsigned bit = 0; bit < 4; ++bit) {
        SCOPED_TRACE(bit);
        const auto bytes =
            std::vector<std::byte>{static_cast<std::byte>(0xE0u | (1u << bit)), std::byte{0x00}};
        // MQTT-3.14.1-1 / MQTT5-3.14.1-1.
        EXPECT_EQ(decode_packet(bytes, decode_options{.version = v311}).error(),
                  errc::malformed_packet);
        EXPECT_EQ(decode_packet(bytes, decode_options{.version = v5}).error(),
                  errc::malformed_packet);
    }
}

// ================================================================================================
// DISCONNECT: encoding
// ================================================================================================

TEST(disconnect_encode, v311_and_v31_are_two_bytes) {
    EXPECT_EQ(encoded(disconnect_view{}, v311), bytes_of(vec("disconnect_v311")));
    EXPECT_EQ(encoded(disconnect_view{}, v31), bytes_of(vec("disconnect_v31")));
    // Reason codes and properties do not exist before 5.0 and are not written.
    const property props[] = {{property_id::reason_string, "bye"}};
    auto d = disconnect(0x8E);
    d.properties = props;
    EXPECT_EQ(encoded(d, v311), bytes_of("e0 00"));
}

TEST(disconnect_encode, v5_shortest_forms) {
    EXPECT_EQ(encoded(disconnect(0x00), v5), bytes_of(vec("disconnect_v5_normal_short_form")));
    EXPECT_EQ(encoded(disconnect(0x04), v5), bytes_of(vec("disconnect_v5_reason_code_only")));
    EXPECT_EQ(encoded(disconnect(0x8B), v5), bytes_of(vec("disconnect_v5_server_shutting_down")));
}

TEST(disconnect_encode, v5_with_properties) {
    const property props[] = {
        {property_id::session_expiry_interval, 3600},
        {property_id::reason_string, "bye"},
        user_property("k", "v"),
    };
    auto d = disconnect(0x00);
    d.properties = props;
    EXPECT_EQ(encoded(d, v5), bytes_of(vec("disconnect_v5_client_with_properties")));
    EXPECT_EQ(encoded_by(d, v5, peer_role::client),
              bytes_of(vec("disconnect_v5_client_with_properties")));
}

TEST(disconnect_encode, v5_server_reference) {
    const property props[] = {{property_id::server_reference, "srv2"}};
    auto d = disconnect(0x9C);
    d.properties = props;
    EXPECT_EQ(encoded_by(d, v5, peer_role::server),
              bytes_of(vec("disconnect_v5_server_use_another_server")));
}

TEST(disconnect_encode, MQTT5_3_14_2_1_only_disconnect_reason_codes) {
    for (unsigned code = 0; code < 256; ++code) {
        SCOPED_TRACE(code);
        const auto d = disconnect(static_cast<std::uint8_t>(code));
        if (code == 0) {
            EXPECT_EQ(encoded(d, v5), bytes_of("e0 00"));
        } else if (in(disconnect_reason_codes, code)) {
            EXPECT_EQ(encoded(d, v5),
                      to_hex(std::vector<std::byte>{std::byte{0xE0}, std::byte{0x01},
                                                    static_cast<std::byte>(code)}));
        } else {
            EXPECT_EQ(encoded(d, v5), failed(errc::protocol_error)); // MQTT5-3.14.2-1
        }
    }
}

TEST(disconnect_encode, MQTT5_3_14_2_2_server_never_sends_session_expiry) {
    const property props[] = {{property_id::session_expiry_interval, 60}};
    auto d = disconnect(0x00);
    d.properties = props;
    EXPECT_EQ(encoded_by(d, v5, peer_role::server), failed(errc::protocol_error)); // MQTT5-3.14.2-2
    EXPECT_EQ(encoded_by(d, v5, peer_role::client),
              bytes_of(vec("disconnect_v5_session_expiry_from_client")));
}

// 3.1.1 section 2.2.1: before 5.0 DISCONNECT flows from client to server only (the decoder
// refuses one from a server: vector disconnect_v311_sent_by_server). In 5.0 both sides send it.
TEST(disconnect_encode, v311_only_a_client_sends_disconnect) {
    EXPECT_EQ(encoded_by(disconnect_view{}, v311, peer_role::client), bytes_of("e0 00"));
    EXPECT_EQ(encoded_by(disconnect_view{}, v311, peer_role::server), failed(errc::protocol_error));
    EXPECT_EQ(encoded_by(disconnect_view{}, v5, peer_role::server), bytes_of("e0 00"));
}

TEST(disconnect_encode, property_rules) {
    auto d = disconnect(0x00);
    // 5.0 section 2.2.2.2: Receive Maximum is not a DISCONNECT property.
    const property not_here[] = {{property_id::receive_maximum, 10}};
    d.properties = not_here;
    EXPECT_EQ(encoded(d, v5), failed(errc::malformed_packet));
    // 5.0 section 3.14.2.2.3: one Reason String at most.
    const property twice[] = {{property_id::reason_string, "a"}, {property_id::reason_string, "b"}};
    d.properties = twice;
    EXPECT_EQ(encoded(d, v5), failed(errc::protocol_error));
}

// ================================================================================================
// DISCONNECT: Maximum Packet Size, MQTT5-3.14.2-3 (Reason String) and MQTT5-3.14.2-4 (User
// Properties). Reason String "0123456789" is 13 bytes, User Property "k" = "v" 7 bytes.
// ================================================================================================

class disconnect_trimming : public ::testing::Test {
  protected:
    const property props_[2] = {
        {property_id::reason_string, "0123456789"},
        user_property("k", "v"),
    };
    disconnect_view packet(std::uint8_t code) const {
        auto d = disconnect(code);
        d.properties = props_;
        return d;
    }
};

TEST_F(disconnect_trimming, whole_packet_when_it_fits) {
    const auto full = bytes_of("e0 16                # DISCONNECT; remaining length 22\n"
                               "80                   # 0x80 Unspecified error\n"
                               "14                   # property length 20\n"
                               "1f 00 0a 30 31 32 33 34 35 36 37 38 39 # reason string\n"
                               "26 00 01 6b 00 01 76 # user property k = v");
    EXPECT_EQ(encoded(packet(0x80), v5), full);
    EXPECT_EQ(encoded_within(packet(0x80), v5, 24), full);
}

TEST_F(disconnect_trimming, MQTT5_3_14_2_3_reason_string_dropped_first) {
    const auto trimmed = bytes_of("e0 09                # DISCONNECT; remaining length 9\n"
                                  "80                   # 0x80 Unspecified error\n"
                                  "07                   # property length 7\n"
                                  "26 00 01 6b 00 01 76 # user property k = v");
    EXPECT_EQ(encoded_within(packet(0x80), v5, 23), trimmed); // MQTT5-3.14.2-3
    EXPECT_EQ(encoded_within(packet(0x80), v5, 11), trimmed);
}

TEST_F(disconnect_trimming, MQTT5_3_14_2_4_then_user_properties) {
    // Without properties the property length goes too: reason code only (remaining length 1).
    EXPECT_EQ(encoded_within(packet(0x80), v5, 10), bytes_of("e0 01 80")); // MQTT5-3.14.2-4
    EXPECT_EQ(encoded_within(packet(0x80), v5, 3), bytes_of("e0 01 80"));
    // A Normal disconnection left without properties takes the two-byte form.
    EXPECT_EQ(encoded_within(packet(0x00), v5, 10), bytes_of("e0 00"));
    EXPECT_EQ(encoded_within(packet(0x00), v5, 2), bytes_of("e0 00"));
}

TEST_F(disconnect_trimming, packet_too_large_when_even_that_does_not_fit) {
    EXPECT_EQ(encoded_within(packet(0x80), v5, 2), failed(errc::packet_too_large));
    EXPECT_EQ(encoded_within(packet(0x00), v5, 1), failed(errc::packet_too_large));
}

TEST(disconnect_encode, trimming_keeps_properties_that_may_not_be_dropped) {
    const property props[] = {
        {property_id::server_reference, "srv2"},    // 7 bytes
        {property_id::reason_string, "0123456789"}, // 13 bytes
    };
    auto d = disconnect(0x9D);
    d.properties = props;
    EXPECT_EQ(encoded_within(d, v5, 12),
              bytes_of("e0 09                # DISCONNECT; remaining length 9\n"
                       "9d                   # 0x9D Server moved\n"
                       "07                   # property length 7\n"
                       "1c 00 04 73 72 76 32 # server reference \"srv2\""));
    EXPECT_EQ(encoded_within(d, v5, 10), failed(errc::packet_too_large));
}

// ================================================================================================
// AUTH: decoding
// ================================================================================================

TEST(auth_decode, remaining_length_0_is_success_without_properties) {
    const auto a = decode_as<auth_view>(vec("auth_v5_success_short_form"));
    EXPECT_EQ(a.reason, reason_code::success);
    EXPECT_TRUE(a.properties.empty());
}

TEST(auth_decode, continue_authentication_with_method_and_data) {
    const auto a = decode_as<auth_view>(vec("auth_v5_continue_authentication"));
    EXPECT_EQ(a.reason, reason_code::continue_authentication);
    EXPECT_EQ(a.properties.size(), 2u);
    const auto am = a.properties.find(property_id::authentication_method);
    ASSERT_TRUE(am.has_value());
    EXPECT_EQ(str(am->string), "SCRAM");
    const auto ad = a.properties.find(property_id::authentication_data);
    ASSERT_TRUE(ad.has_value());
    EXPECT_EQ(str(ad->binary), "\x01\x02\x03");
}

TEST(auth_decode, re_authenticate) {
    const auto a = decode_as<auth_view>(vec("auth_v5_re_authenticate"));
    EXPECT_EQ(a.reason, reason_code::re_authenticate);
    const auto am = a.properties.find(property_id::authentication_method);
    ASSERT_TRUE(am.has_value());
    EXPECT_EQ(str(am->string), "SCRAM");
    EXPECT_FALSE(a.properties.contains(property_id::authentication_data));
}

TEST(auth_decode, success_with_method) {
    const auto a = decode_as<auth_view>(vec("auth_v5_success_with_method"));
    EXPECT_EQ(a.reason, reason_code::success);
    EXPECT_EQ(a.properties.size(), 1u);
    EXPECT_TRUE(a.properties.contains(property_id::authentication_method));
}

TEST(auth_decode, reason_string_and_user_property) {
    const auto a = decode_as<auth_view>(vec("auth_v5_reason_string_and_user_property"));
    EXPECT_EQ(a.reason, reason_code::continue_authentication);
    const auto rs = a.properties.find(property_id::reason_string);
    ASSERT_TRUE(rs.has_value());
    EXPECT_EQ(str(rs->string), "ok");
    const auto up = a.properties.find(property_id::user_property);
    ASSERT_TRUE(up.has_value());
    EXPECT_EQ(str(up->string), "k");
    EXPECT_EQ(str(up->value), "v");
}

// MQTT5-3.15.2-1: 0x00, 0x18 and 0x19 only; any other byte is a Protocol Error.
TEST(auth_decode, MQTT5_3_15_2_1_every_reason_code_byte) {
    for (unsigned code = 0; code < 256; ++code) {
        SCOPED_TRACE(code);
        auto bytes = annotated("f0 0a                    # AUTH; remaining length 10\n"
                               "00                       # (reason code, replaced below)\n"
                               "08                       # property length 8\n"
                               "15 00 05 53 43 52 41 4d  # authentication method \"SCRAM\"");
        bytes[2] = static_cast<std::byte>(code);
        const auto r = decode_packet(bytes, decode_options{.version = v5});
        if (in(auth_reason_codes, code)) {
            ASSERT_TRUE(r.has_value()) << errc_name(r.error());
            EXPECT_EQ(static_cast<unsigned>(std::get<auth_view>(r->packet).reason), code);
        } else {
            EXPECT_EQ(r.error(), errc::protocol_error); // MQTT5-3.15.2-1
        }
    }
    for (const auto& e : auth_reason_codes)
        EXPECT_EQ(reason_code_name(static_cast<reason_code>(e.code), reason_context::auth), e.name);
}

TEST(auth_decode, MQTT5_3_15_1_1_reserved_flags_every_bit) {
    for (unsigned bit = 0; bit < 4; ++bit) {
        SCOPED_TRACE(bit);
        const auto bytes =
            std::vector<std::byte>{static_cast<std::byte>(0xF0u | (1u << bit)), std::byte{0x00}};
        EXPECT_EQ(decode_packet(bytes, decode_options{.version = v5}).error(),
                  errc::malformed_packet); // MQTT5-3.15.1-1
    }
}

TEST(auth_decode, packet_type_15_is_reserved_before_5) {
    const auto bytes = hex("f0 00");
    EXPECT_EQ(decode_packet(bytes, decode_options{.version = v311}).error(),
              errc::malformed_packet);
    EXPECT_EQ(decode_packet(bytes, decode_options{.version = v31}).error(), errc::malformed_packet);
}

// ================================================================================================
// AUTH: encoding
// ================================================================================================

TEST(auth_encode, success_without_properties_is_the_short_form) {
    EXPECT_EQ(encoded(auth_view{}, v5), bytes_of(vec("auth_v5_success_short_form")));
}

TEST(auth_encode, continue_re_authenticate_and_success_with_method) {
    const property method_and_data[] = {
        {property_id::authentication_method, "SCRAM"},
        {property_id::authentication_data, "\x01\x02\x03"},
    };
    auto a = auth(0x18);
    a.properties = method_and_data;
    EXPECT_EQ(encoded(a, v5), bytes_of(vec("auth_v5_continue_authentication")));

    const property method[] = {{property_id::authentication_method, "SCRAM"}};
    a = auth(0x19);
    a.properties = method;
    EXPECT_EQ(encoded(a, v5), bytes_of(vec("auth_v5_re_authenticate")));
    a = auth(0x00);
    a.properties = method;
    EXPECT_EQ(encoded(a, v5), bytes_of(vec("auth_v5_success_with_method")));
}

TEST(auth_encode, MQTT5_3_15_2_1_only_authenticate_reason_codes) {
    const property method[] = {{property_id::authentication_method, "SCRAM"}};
    for (unsigned code = 0; code < 256; ++code) {
        SCOPED_TRACE(code);
        auto a = auth(static_cast<std::uint8_t>(code));
        a.properties = method;
        if (in(auth_reason_codes, code)) {
            auto expected = annotated("f0 0a 00 08 15 00 05 53 43 52 41 4d");
            expected[2] = static_cast<std::byte>(code);
            EXPECT_EQ(encoded(a, v5), to_hex(expected));
        } else {
            EXPECT_EQ(encoded(a, v5), failed(errc::protocol_error)); // MQTT5-3.15.2-1
        }
    }
}

TEST(auth_encode, properties_need_the_authentication_method) {
    // 5.0 section 3.15.2.2.2: it is a Protocol Error to omit the Authentication Method.
    const property data_only[] = {{property_id::authentication_data, "\x01\x02"}};
    auto a = auth(0x18);
    a.properties = data_only;
    EXPECT_EQ(encoded(a, v5), failed(errc::protocol_error));
    EXPECT_EQ(encoded(auth(0x18), v5), failed(errc::protocol_error));
    EXPECT_EQ(encoded(auth(0x19), v5), failed(errc::protocol_error));
}

TEST(auth_encode, property_not_valid_in_auth) {
    // 5.0 section 2.2.2.2.
    const property props[] = {{property_id::authentication_method, "SCRAM"},
                              {property_id::session_expiry_interval, 10}};
    auto a = auth(0x18);
    a.properties = props;
    EXPECT_EQ(encoded(a, v5), failed(errc::malformed_packet));
}

TEST(auth_encode, no_auth_before_5) {
    // Packet type 15 is reserved in 3.1 and 3.1.1; the decoder refuses it as malformed.
    EXPECT_EQ(encoded(auth_view{}, v311), failed(errc::malformed_packet));
    EXPECT_EQ(encoded(auth_view{}, v31), failed(errc::malformed_packet));
}

// ================================================================================================
// AUTH: Maximum Packet Size, MQTT5-3.15.2-2 (Reason String) and MQTT5-3.15.2-3 (User Properties).
// Authentication Method "SCRAM" (8 bytes) stays.
// ================================================================================================

class auth_trimming : public ::testing::Test {
  protected:
    const property props_[3] = {
        {property_id::authentication_method, "SCRAM"},
        {property_id::reason_string, "0123456789"},
        user_property("k", "v"),
    };
    auth_view packet() const {
        auto a = auth(0x18);
        a.properties = props_;
        return a;
    }
    const std::string full_ = bytes_of("f0 1e                   # AUTH; remaining length 30\n"
                                       "18                      # Continue authentication\n"
                                       "1c                      # property length 28\n"
                                       "15 00 05 53 43 52 41 4d # authentication method\n"
                                       "1f 00 0a 30 31 32 33 34 35 36 37 38 39 # reason string\n"
                                       "26 00 01 6b 00 01 76    # user property k = v");
    const std::string without_reason_string_ =
        bytes_of("f0 11                   # AUTH; remaining length 17\n"
                 "18                      # Continue authentication\n"
                 "0f                      # property length 15\n"
                 "15 00 05 53 43 52 41 4d # authentication method\n"
                 "26 00 01 6b 00 01 76    # user property k = v");
    const std::string without_both_ = bytes_of("f0 0a                   # remaining length 10\n"
                                               "18                      # Continue authentication\n"
                                               "08                      # property length 8\n"
                                               "15 00 05 53 43 52 41 4d # authentication method");
};

TEST_F(auth_trimming, whole_packet_when_it_fits) {
    EXPECT_EQ(encoded(packet(), v5), full_);
    EXPECT_EQ(encoded_within(packet(), v5, 32), full_);
}

TEST_F(auth_trimming, MQTT5_3_15_2_2_reason_string_dropped_first) {
    EXPECT_EQ(encoded_within(packet(), v5, 31), without_reason_string_); // MQTT5-3.15.2-2
    EXPECT_EQ(encoded_within(packet(), v5, 19), without_reason_string_);
}

TEST_F(auth_trimming, MQTT5_3_15_2_3_then_user_properties) {
    EXPECT_EQ(encoded_within(packet(), v5, 18), without_both_); // MQTT5-3.15.2-3
    EXPECT_EQ(encoded_within(packet(), v5, 12), without_both_);
}

TEST_F(auth_trimming, packet_too_large_when_even_that_does_not_fit) {
    EXPECT_EQ(encoded_within(packet(), v5, 11), failed(errc::packet_too_large));
}

} // namespace
