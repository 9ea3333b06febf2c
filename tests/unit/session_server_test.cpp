// The server role of the session layer (include/mqttwire/session/server.hpp): annotated packets
// from a client in, events and bytes out. Statement ids name the rule each test checks.

#include <gtest/gtest.h>

#include <array>
#include <string>
#include <vector>

#include "session_support.hpp"

namespace mqttwire::test {
namespace {

using storage = dynamic_storage<>;

constexpr std::string_view connect_311_resume = "10 0e 00 04 4d 51 54 54 04 00 00 3c 00 02 70 63";
// CONNACK 5.0 with the limits of `limits()` announced: Receive Maximum 4, Maximum Packet Size
// 1024, Topic Alias Maximum 4.
constexpr std::string_view connack_5 = "20 0e 00 00 0b 21 00 04 27 00 00 04 00 22 00 04";

session_limits limits() {
    return {.inflight = 4, .requests = 0, .inbound_qos2 = 4, .input_bytes = 1024,
            .output_bytes = 1024, .resend_bytes = 0, .aliases_in = 4, .alias_bytes_in = 256};
}

struct server_test : ::testing::Test {
    storage st{limits()};
    session_state<storage> state{st};
    server_options options{};
    std::optional<server<storage>> s;

    server<storage>& make(server_options o = {}) {
        options = o;
        s.emplace(0ms, options, st);
        return *s;
    }
    // CONNECT in, accepted.
    void connect(std::string_view connect_bytes, accept_options a = {}) {
        if (!s) make();
        in(*s, connect_bytes);
        ASSERT_EQ(event1(*s, 0ms), "connect_request");
        ASSERT_EQ(s->accept(state, a), errc::success);
        (void)out(*s);
    }
    result<std::uint16_t> pub(qos q, std::string_view topic = "a/b", std::string_view payload = "hi") {
        return publish_text(*s, q, topic, payload);
    }
};

// ---------------------------------------------------------------------------------------------
// CONNECT

// A connection keeps its options packed; `options()` gives back what it was given.
TEST_F(server_test, options_read_back_as_given) {
    server_options o;
    o.receive_maximum = 7;
    o.maximum_qos = qos::at_least_once;
    o.retain_available = false;
    o.maximum_packet_size = 5000;
    o.topic_alias_maximum = 3;
    o.topic_aliases_out = {.maximum = 2, .min_topic_length = 5, .replace = false};
    o.wildcard_subscriptions = false;
    o.subscription_identifiers = false;
    o.shared_subscriptions = false;
    o.max_keep_alive = 30;
    o.connect_timeout = 1234ms;
    o.pre_connect_packet_size = 777;
    o.bridge_levels = true;
    const server_options back = make(o).options();
    EXPECT_EQ(back.receive_maximum, 7);
    EXPECT_EQ(back.maximum_qos, qos::at_least_once);
    EXPECT_FALSE(back.retain_available);
    EXPECT_EQ(back.maximum_packet_size, 5000u);
    EXPECT_EQ(back.topic_alias_maximum, 3);
    EXPECT_EQ(back.topic_aliases_out, o.topic_aliases_out);
    EXPECT_FALSE(back.wildcard_subscriptions);
    EXPECT_FALSE(back.subscription_identifiers);
    EXPECT_FALSE(back.shared_subscriptions);
    EXPECT_EQ(back.max_keep_alive, 30);
    EXPECT_EQ(back.connect_timeout, 1234ms);
    EXPECT_EQ(back.pre_connect_packet_size, 777u);
    EXPECT_TRUE(back.bridge_levels);
    const server_options defaults = make().options();
    EXPECT_EQ(defaults.connect_timeout, server_options{}.connect_timeout);
    EXPECT_TRUE(defaults.retain_available);
    EXPECT_EQ(defaults.topic_aliases_out, topic_alias_policy{});
    // The connect timeout is kept in 32 bits of milliseconds.
    o.connect_timeout = std::chrono::hours(24 * 365);
    EXPECT_EQ(make(o).options().connect_timeout, std::chrono::milliseconds(0xFFFFFFFFu));
    o.connect_timeout = -5ms;
    EXPECT_EQ(make(o).options().connect_timeout, 0ms);
}

TEST_F(server_test, MQTT_3_1_0_1_the_first_packet_must_be_connect) {
    auto& srv = make();
    in(srv, "c0 00 # PINGREQ");
    const auto ev = srv.next(0ms);
    EXPECT_EQ(describe(ev), "closed local 0x82");
    EXPECT_FALSE(ev.publish_will);
    EXPECT_EQ(out(srv), "") << "no CONNACK";
    EXPECT_EQ(srv.status(), connection_status::closed);
}

TEST_F(server_test, MQTT_3_2_2_1_accept_clean_session) {
    auto& srv = make();
    in(srv, connect_311);
    const auto ev = srv.next(0ms);
    ASSERT_EQ(describe(ev), "connect_request");
    ASSERT_NE(ev.get<connect_view>(), nullptr);
    EXPECT_EQ(str(ev.get<connect_view>()->client_id), "pc");
    ASSERT_EQ(srv.accept(state), errc::success);
    EXPECT_EQ(out(srv), "20 02 00 00");
    EXPECT_EQ(srv.status(), connection_status::connected);
    EXPECT_EQ(srv.peer().keep_alive, 60);
}

TEST_F(server_test, MQTT5_3_2_2_2_accept_announces_the_storage_limits) {
    auto& srv = make();
    in(srv, plain_connect_5);
    ASSERT_EQ(event1(srv, 0ms), "connect_request");
    ASSERT_EQ(srv.accept(state), errc::success);
    EXPECT_EQ(out(srv), bytes_of(connack_5));
}

TEST_F(server_test, MQTT_3_2_2_2_accept_with_session_present) {
    auto& srv = make();
    in(srv, connect_311_resume);
    ASSERT_EQ(event1(srv, 0ms), "connect_request");
    ASSERT_EQ(srv.accept(state, {.session_present = true}), errc::success);
    EXPECT_EQ(out(srv), "20 02 01 00");
}

TEST_F(server_test, MQTT5_3_2_2_16_connack_announces_limits_and_assigned_identifier) {
    auto& srv = make();
    in(srv, "10 0d 00 04 4d 51 54 54 05 02 00 3c 00 00 00 # empty Client Identifier");
    ASSERT_EQ(event1(srv, 0ms), "connect_request");
    ASSERT_EQ(srv.accept(state, {.assigned_client_id = "gen-1"}), errc::success);
    EXPECT_EQ(out(srv), bytes_of("20 16 00 00 13 21 00 04 27 00 00 04 00"
                                 " 12 00 05 67 65 6e 2d 31 22 00 04"));
}

TEST_F(server_test, MQTT5_3_2_2_9_connack_announces_what_is_not_available) {
    auto& srv = make({.maximum_qos = qos::at_least_once, .retain_available = false,
                      .topic_alias_maximum = 0, .wildcard_subscriptions = false,
                      .subscription_identifiers = false, .shared_subscriptions = false});
    in(srv, plain_connect_5);
    ASSERT_EQ(event1(srv, 0ms), "connect_request");
    ASSERT_EQ(srv.accept(state), errc::success);
    EXPECT_EQ(out(srv), bytes_of("20 15 00 00 12 21 00 04 24 01 25 00 27 00 00 04 00"
                                 " 28 00 29 00 2a 00"));
}

TEST_F(server_test, MQTT_3_2_2_4_refusal_without_session_present_then_close) {
    auto& srv = make();
    in(srv, connect_311);
    ASSERT_EQ(event1(srv, 0ms), "connect_request");
    ASSERT_EQ(srv.refuse(reason_code::not_authorized), errc::success);
    EXPECT_EQ(out(srv), "20 02 00 05") << "3.1.1 return code 5";
    const auto ev = srv.next(0ms);
    EXPECT_EQ(describe(ev), "closed local 0x87"); // MQTT-3.2.2-5
    EXPECT_FALSE(ev.publish_will) << "a refused connection has no will";
}

TEST_F(server_test, MQTT5_3_2_2_7_refusal_with_reason_code_then_close) {
    auto& srv = make();
    in(srv, plain_connect_5);
    ASSERT_EQ(event1(srv, 0ms), "connect_request");
    EXPECT_EQ(srv.refuse(reason_code::success), errc::invalid_argument);
    ASSERT_EQ(srv.refuse(reason_code::bad_user_name_or_password), errc::success);
    EXPECT_EQ(out(srv), "20 03 00 86 00");
    EXPECT_EQ(event1(srv, 0ms), "closed local 0x86");
}

TEST_F(server_test, MQTT_3_1_4_5_nothing_after_a_refused_connect_is_processed) {
    auto& srv = make();
    in(srv, std::string(connect_311) + " 82 08 00 05 00 03 61 2f 62 01 # SUBSCRIBE");
    ASSERT_EQ(event1(srv, 0ms), "connect_request");
    ASSERT_EQ(srv.refuse(reason_code::not_authorized), errc::success);
    EXPECT_EQ(event1(srv, 0ms), "closed local 0x87");
    EXPECT_EQ(event1(srv, 0ms), "none");
    EXPECT_EQ(out(srv), "20 02 00 05") << "no SUBACK";
}

TEST_F(server_test, an_unanswered_connect_is_refused_at_the_next_call) {
    auto& srv = make();
    in(srv, connect_311);
    ASSERT_EQ(event1(srv, 0ms), "connect_request");
    EXPECT_EQ(event1(srv, 0ms), "closed local 0x80");
    EXPECT_EQ(out(srv), "20 02 00 03") << "server unavailable";
}

TEST_F(server_test, MQTT_3_1_2_2_unsupported_protocol_level_gets_return_code_1) {
    auto& srv = make();
    in(srv, "10 0e 00 04 4d 51 54 54 06 02 00 3c 00 02 70 63 # level 6");
    EXPECT_EQ(event1(srv, 0ms), "closed local 0x84");
    EXPECT_EQ(out(srv), "20 02 00 01");
}

TEST_F(server_test, MQTT5_3_1_4_1_malformed_v5_connect_gets_connack_0x81) {
    auto& srv = make();
    in(srv, "10 0f 00 04 4d 51 54 54 05 03 00 3c 00 00 02 70 63 # reserved flag set");
    EXPECT_EQ(event1(srv, 0ms), "closed local 0x81");
    EXPECT_EQ(out(srv), "20 03 00 81 00");
}

TEST_F(server_test, MQTT_3_1_2_1_not_mqtt_closes_without_connack) {
    auto& srv = make();
    in(srv, "10 0e 00 04 4d 51 54 58 04 02 00 3c 00 02 70 63 # protocol name MQTX");
    EXPECT_EQ(event1(srv, 0ms), "closed local 0x84");
    EXPECT_EQ(out(srv), "");
}

TEST_F(server_test, MQTT_3_1_3_8_empty_client_id_with_clean_session_0_is_rejected) {
    auto& srv = make();
    in(srv, "10 0c 00 04 4d 51 54 54 04 00 00 3c 00 00");
    EXPECT_EQ(event1(srv, 0ms), "closed local 0x85");
    EXPECT_EQ(out(srv), "20 02 00 02");
}

TEST_F(server_test, mqtt_3_1_client_identifier_of_more_than_23_characters_is_rejected) {
    auto& srv = make();
    // MQIsdp level 3, client id of 24 'x'.
    std::string pkt = "10 26 00 06 4d 51 49 73 64 70 03 02 00 3c 00 18";
    for (int i = 0; i < 24; ++i) pkt += " 78";
    in(srv, pkt);
    EXPECT_EQ(event1(srv, 0ms), "closed local 0x85");
    EXPECT_EQ(out(srv), "20 02 00 02");
}

TEST_F(server_test, MQTT_3_1_0_2_a_second_connect_is_a_protocol_violation) {
    connect(plain_connect_5);
    in(*s, plain_connect_5);
    EXPECT_EQ(event1(*s, 0ms), "closed local 0x82");
    EXPECT_EQ(out(*s), violation_disconnect(0x82, "protocol_error"));
}

TEST_F(server_test, MQTT5_3_2_2_13_retained_will_without_retain_support) {
    auto& srv = make({.retain_available = false});
    in(srv, "10 16 00 04 4d 51 54 54 05 26 00 3c 00 00 02 70 63 00 00 01 77 00 01 78");
    EXPECT_EQ(event1(srv, 0ms), "closed local 0x9a");
    EXPECT_EQ(out(srv), "20 03 00 9a 00");
}

TEST_F(server_test, MQTT5_3_2_2_12_will_qos_above_maximum_qos) {
    auto& srv = make({.maximum_qos = qos::at_least_once});
    in(srv, "10 16 00 04 4d 51 54 54 05 16 00 3c 00 00 02 70 63 00 00 01 77 00 01 78");
    EXPECT_EQ(event1(srv, 0ms), "closed local 0x9b");
    EXPECT_EQ(out(srv), "20 03 00 9b 00");
}

TEST_F(server_test, a_large_packet_before_connect_is_refused_from_its_header) {
    auto& srv = make({.pre_connect_packet_size = 100});
    in(srv, "10 80 01 # CONNECT of 131 bytes announced");
    EXPECT_EQ(event1(srv, 0ms), "closed local 0x95");
}

TEST_F(server_test, no_connect_in_time_closes) {
    auto& srv = make({.connect_timeout = 5000ms});
    EXPECT_EQ(srv.deadline(), ms(5000));
    EXPECT_EQ(event1(srv, 4999ms), "none");
    EXPECT_EQ(event1(srv, 5000ms), "closed local 0xa0");
}

// ---------------------------------------------------------------------------------------------
// Keep alive, PINGREQ

TEST_F(server_test, MQTT_3_12_4_1_pingreq_gets_pingresp) {
    connect(connect_311);
    in(*s, "c0 00");
    EXPECT_EQ(event1(*s, 0ms), "none");
    EXPECT_EQ(out(*s), "d0 00");
}

TEST_F(server_test, MQTT_3_1_2_24_one_and_a_half_keep_alive_without_a_packet_closes) {
    connect(connect_311);
    EXPECT_EQ(s->deadline(), ms(90'000));
    in(*s, "c0 00");
    EXPECT_EQ(event1(*s, 50'000ms), "none") << "a packet restarts the timer";
    EXPECT_EQ(s->deadline(), ms(140'000));
    EXPECT_EQ(event1(*s, 139'999ms), "none");
    const auto ev = s->next(140'000ms);
    EXPECT_EQ(describe(ev), "closed local 0x8d");
    EXPECT_TRUE(ev.publish_will) << "as if the network had failed";
}

TEST_F(server_test, MQTT5_3_1_2_22_keep_alive_timeout_sends_disconnect_0x8d) {
    connect(plain_connect_5);
    EXPECT_EQ(event1(*s, 90'000ms), "closed local 0x8d");
    EXPECT_EQ(out(*s), "e0 01 8d");
}

TEST_F(server_test, MQTT5_3_2_2_21_server_keep_alive_caps_the_clients) {
    make({.max_keep_alive = 30});
    connect(plain_connect_5);
    EXPECT_EQ(s->peer().keep_alive, 30);
    EXPECT_EQ(s->deadline(), ms(45'000));
}

// ---------------------------------------------------------------------------------------------
// SUBSCRIBE / UNSUBSCRIBE

TEST_F(server_test, MQTT_3_8_4_1_subscribe_answered_with_suback) {
    connect(connect_311);
    in(*s, "82 08 00 05 00 03 61 2f 62 01");
    const auto ev = s->next(0ms);
    ASSERT_EQ(describe(ev), "subscribe_request 5");
    ASSERT_NE(ev.get<subscribe_view>(), nullptr);
    EXPECT_EQ(str(ev.get<subscribe_view>()->subscriptions[0].filter), "a/b");
    const reason_code two[] = {reason_code::granted_qos_1, reason_code::granted_qos_1};
    EXPECT_EQ(s->answer_subscribe(two), errc::invalid_argument) << "MQTT-3.8.4-5: one per filter";
    const reason_code one[] = {reason_code::granted_qos_1};
    ASSERT_EQ(s->answer_subscribe(one), errc::success);
    EXPECT_EQ(out(*s), "90 03 00 05 01"); // MQTT-3.8.4-2: the SUBSCRIBE's identifier
}

TEST_F(server_test, an_unanswered_subscribe_fails_every_filter) {
    connect(plain_connect_5);
    in(*s, "82 0d 00 05 00 00 03 61 2f 62 01 00 01 63 00");
    EXPECT_EQ(event1(*s, 0ms), "subscribe_request 5");
    EXPECT_EQ(event1(*s, 0ms), "none");
    EXPECT_EQ(out(*s), "90 05 00 05 00 80 80");
}

TEST_F(server_test, MQTT_3_10_4_5_unsuback_before_5_0_has_no_codes) {
    connect(connect_311);
    in(*s, "a2 05 00 06 00 01 61");
    EXPECT_EQ(event1(*s, 0ms), "unsubscribe_request 6");
    ASSERT_EQ(s->answer_unsubscribe(), errc::success);
    EXPECT_EQ(out(*s), "b0 02 00 06");
}

TEST_F(server_test, MQTT5_3_10_4_5_unsuback_with_a_code_per_filter) {
    connect(plain_connect_5);
    in(*s, "a2 06 00 06 00 00 01 61");
    EXPECT_EQ(event1(*s, 0ms), "unsubscribe_request 6");
    EXPECT_EQ(s->answer_unsubscribe(), errc::invalid_argument);
    const reason_code rc[] = {reason_code::no_subscription_existed};
    ASSERT_EQ(s->answer_unsubscribe(rc), errc::success);
    EXPECT_EQ(out(*s), "b0 04 00 06 00 11");
}

// ---------------------------------------------------------------------------------------------
// DISCONNECT and wills

TEST_F(server_test, MQTT_3_14_4_3_disconnect_discards_the_will) {
    connect(connect_311);
    in(*s, "e0 00");
    const auto ev = s->next(0ms);
    EXPECT_EQ(describe(ev), "closed peer 0x00");
    EXPECT_FALSE(ev.publish_will);
}

TEST_F(server_test, MQTT5_3_14_4_3_disconnect_with_will_message_keeps_it_due) {
    connect(plain_connect_5);
    in(*s, "e0 01 04");
    const auto ev = s->next(0ms);
    EXPECT_EQ(describe(ev), "closed peer 0x04");
    EXPECT_TRUE(ev.publish_will);
}

TEST_F(server_test, MQTT_3_1_2_8_lost_connection_makes_the_will_due) {
    connect(connect_311);
    s->transport_closed(5ms);
    const auto ev = s->next(5ms);
    EXPECT_EQ(describe(ev), "closed transport 0x80");
    EXPECT_TRUE(ev.publish_will);
}

TEST_F(server_test, disconnect_carries_the_new_session_expiry) {
    connect("10 14 00 04 4d 51 54 54 05 02 00 3c 05 11 00 00 00 0a 00 02 70 63 # expiry 10");
    in(*s, "e0 07 00 05 11 00 00 00 3c # expiry 60");
    const auto ev = s->next(0ms);
    EXPECT_EQ(describe(ev), "closed peer 0x00");
    EXPECT_EQ(ev.session_expiry, 60u);
}

TEST_F(server_test, a_session_that_ends_with_the_connection_cannot_be_extended) {
    connect(plain_connect_5);
    in(*s, "e0 07 00 05 11 00 00 00 3c");
    EXPECT_EQ(event1(*s, 0ms), "closed local 0x82");
    EXPECT_EQ(out(*s), violation_disconnect(0x82, "protocol_error"));
}

TEST_F(server_test, MQTT5_3_1_4_3_takeover_sends_disconnect_0x8e) {
    connect(plain_connect_5);
    ASSERT_EQ(s->disconnect(reason_code::session_taken_over), errc::success);
    EXPECT_EQ(out(*s), "e0 01 8e");
    EXPECT_EQ(event1(*s, 0ms), "closed local 0x8e");
}

TEST_F(server_test, MQTT5_3_14_0_1_no_disconnect_before_connack) {
    auto& srv = make();
    in(srv, plain_connect_5);
    ASSERT_EQ(event1(srv, 0ms), "connect_request");
    ASSERT_EQ(srv.refuse(reason_code::server_busy), errc::success);
    (void)out(srv);
    EXPECT_EQ(srv.disconnect(reason_code::server_shutting_down), errc::not_connected);
    EXPECT_EQ(out(srv), "");
}

// ---------------------------------------------------------------------------------------------
// PUBLISH from the client

TEST_F(server_test, MQTT_3_3_5_2_acknowledge_what_is_not_routed) {
    connect(connect_311);
    in(*s, "32 09 00 03 61 2f 62 00 01 68 69");
    EXPECT_EQ(event1(*s, 0ms), "message 1 a/b=hi");
    s->acknowledge(reason_code::not_authorized); // no reason codes before 5.0
    EXPECT_EQ(out(*s), "40 02 00 01");
}

TEST_F(server_test, MQTT5_3_3_4_1_puback_with_the_routing_outcome) {
    connect(plain_connect_5);
    in(*s, "32 0a 00 03 61 2f 62 00 01 00 68 69");
    EXPECT_EQ(event1(*s, 0ms), "message 1 a/b=hi");
    s->acknowledge(reason_code::no_matching_subscribers);
    EXPECT_EQ(out(*s), "40 03 00 01 10");
}

TEST_F(server_test, MQTT5_3_2_2_11_publish_above_maximum_qos_is_disconnected) {
    make({.maximum_qos = qos::at_least_once});
    connect(plain_connect_5);
    in(*s, "34 0a 00 03 61 2f 62 00 01 00 68 69 # QoS 2");
    EXPECT_EQ(event1(*s, 0ms), "closed local 0x9b");
    EXPECT_EQ(out(*s), violation_disconnect(0x9B, "qos_not_supported"));
}

TEST_F(server_test, MQTT5_3_2_2_14_retained_publish_without_retain_support) {
    make({.retain_available = false});
    connect(plain_connect_5);
    in(*s, "31 08 00 03 61 2f 62 00 68 69 # RETAIN");
    EXPECT_EQ(event1(*s, 0ms), "closed local 0x9a");
}

TEST_F(server_test, MQTT5_3_3_4_9_receive_maximum_exceeded_by_the_client) {
    connect(plain_connect_5);
    // Receive Maximum 4 announced; four QoS 2 without PUBREL, then a fifth.
    for (int id = 1; id <= 4; ++id) {
        std::vector<std::byte> p = hex("34 0a 00 03 61 2f 62 00 00 00 68 69");
        p[8] = static_cast<std::byte>(id);
        ASSERT_EQ(s->feed(p), p.size());
        ASSERT_EQ(s->next(0ms).kind, event_kind::message) << id;
    }
    EXPECT_EQ(event1(*s, 0ms), "none");
    EXPECT_EQ(out(*s), "50 02 00 01 50 02 00 02 50 02 00 03 50 02 00 04");
    in(*s, "34 0a 00 03 61 2f 62 00 05 00 68 69");
    EXPECT_EQ(event1(*s, 0ms), "closed local 0x93");
    EXPECT_EQ(out(*s), violation_disconnect(0x93, "receive_maximum_exceeded"));
}

TEST_F(server_test, MQTT5_3_3_2_12_inbound_alias_over_the_announced_maximum) {
    connect(plain_connect_5);
    in(*s, "30 0a 00 03 61 2f 62 03 23 00 04 31");
    EXPECT_EQ(event1(*s, 0ms), "message 0 a/b=1");
    in(*s, "30 07 00 00 03 23 00 04 32");
    EXPECT_EQ(event1(*s, 0ms), "message 0 a/b=2");
    in(*s, "30 07 00 00 03 23 00 05 32");
    EXPECT_EQ(event1(*s, 0ms), "closed local 0x94");
}

TEST_F(server_test, a_client_that_does_not_read_stops_being_read) {
    // issue 15: a PINGREQ flood from a client that never reads its PINGRESPs.
    storage tight{session_limits{.input_bytes = 64, .output_bytes = 32, .resend_bytes = 0}};
    session_state<storage> st2{tight};
    server<storage> srv(0ms, {}, tight);
    in(srv, connect_311);
    ASSERT_EQ(event1(srv, 0ms), "connect_request");
    ASSERT_EQ(srv.accept(st2), errc::success);
    const auto ping = hex("c0 00");
    for (int i = 0; i < 1000; ++i) {
        (void)srv.feed(ping);
        (void)srv.next(0ms);
    }
    EXPECT_LE(srv.output().size(), 32u) << "output bounded";
    EXPECT_EQ(srv.input_space().size(), 0u) << "input full: the transport stops reading";
}

// ---------------------------------------------------------------------------------------------
// PUBLISH to the client

TEST_F(server_test, MQTT5_3_3_4_9_the_clients_receive_maximum_caps_what_is_in_flight) {
    connect("10 12 00 04 4d 51 54 54 05 02 00 3c 03 21 00 02 00 02 70 63 # Receive Maximum 2");
    EXPECT_EQ(s->peer().receive_maximum, 2);
    ASSERT_TRUE(pub(qos::at_least_once));
    ASSERT_TRUE(pub(qos::at_least_once));
    EXPECT_EQ(pub(qos::at_least_once).error(), errc::would_block);
    EXPECT_TRUE(pub(qos::at_most_once)); // MQTT5-3.3.4-10
    in(*s, "40 02 00 01");
    EXPECT_EQ(event1(*s, 0ms), "published 1 0x00");
    EXPECT_TRUE(pub(qos::at_least_once));
}

TEST_F(server_test, inflight_limit_caps_a_client_without_receive_maximum) {
    // issue 15: max_inflight_messages caps 5.0 clients below their Receive Maximum (65535 here).
    connect(plain_connect_5);
    for (int i = 0; i < 4; ++i) ASSERT_TRUE(pub(qos::at_least_once));
    EXPECT_EQ(pub(qos::at_least_once).error(), errc::would_block);
}

TEST_F(server_test, MQTT5_3_1_2_24_nothing_larger_than_the_clients_maximum_packet_size) {
    connect("10 14 00 04 4d 51 54 54 05 02 00 3c 05 27 00 00 00 10 00 02 70 63 # max 16");
    EXPECT_TRUE(pub(qos::at_most_once, "a/b", "12345678"));
    EXPECT_EQ(pub(qos::at_most_once, "a/b", "123456789").error(), errc::packet_too_large);
}

TEST_F(server_test, MQTT5_3_1_2_27_no_topic_aliases_without_outbound_alias_storage) {
    connect("10 12 00 04 4d 51 54 54 05 02 00 3c 03 22 00 0a 00 02 70 63 # client allows 10");
    ASSERT_TRUE(pub(qos::at_most_once, "a/b", "1"));
    ASSERT_TRUE(pub(qos::at_most_once, "a/b", "2"));
    EXPECT_EQ(out(*s), "30 07 00 03 61 2f 62 00 31 30 07 00 03 61 2f 62 00 32");
}

TEST_F(server_test, publish_encoded_patches_the_identifier_and_matches_publish) {
    connect(plain_connect_5);
    storage st2{limits()};
    session_state<storage> other_state{st2};
    server<storage> other(0ms, {}, st2);
    in(other, plain_connect_5);
    ASSERT_EQ(event1(other, 0ms), "connect_request");
    ASSERT_EQ(other.accept(other_state), errc::success);
    (void)out(other);
    // One encoding for both subscribers (the fan-out case).
    publish_view p;
    p.qos = qos::at_least_once;
    p.topic = "a/b";
    p.packet_id = 1;
    p.payload = "hi";
    std::array<std::byte, 64> buf{};
    const auto n = encode(p, protocol_version::v5, buf);
    ASSERT_TRUE(n);
    const auto bytes = std::span<const std::byte>(buf.data(), *n);
    ASSERT_TRUE(pub(qos::at_least_once)); // id 1 on s
    const auto a = s->publish_encoded(bytes, 0ms);
    ASSERT_TRUE(a);
    EXPECT_EQ(*a, 2);
    EXPECT_EQ(out(*s), "32 0a 00 03 61 2f 62 00 01 00 68 69 32 0a 00 03 61 2f 62 00 02 00 68 69");
    const auto b = other.publish_encoded(bytes, 0ms);
    ASSERT_TRUE(b);
    EXPECT_EQ(*b, 1);
    EXPECT_EQ(out(other), "32 0a 00 03 61 2f 62 00 01 00 68 69");
    EXPECT_EQ(s->publish_encoded(bytes.first(5), 0ms).error(), errc::invalid_argument);
}

TEST_F(server_test, MQTT5_4_4_0_1_resume_resends_with_dup_from_the_embedder) {
    // State from an earlier connection: QoS 1 id 3 in flight, PUBREL 7 in flight.
    ASSERT_EQ(state.restore_outbound(3, outbound_state::publish_qos1), errc::success);
    EXPECT_EQ(state.restore_outbound(7, outbound_state::pubrel), errc::invalid_argument)
        << "beyond session_limits::inflight";
    ASSERT_EQ(state.restore_outbound(4, outbound_state::pubrel), errc::success);
    EXPECT_EQ(state.restore_outbound(4, outbound_state::pubrel), errc::invalid_argument)
        << "in use";
    make();
    static const auto msg = hex("32 0a 00 03 61 2f 62 00 00 00 68 69");
    s->set_resend_source(
        [](void*, std::uint16_t) noexcept { return std::span<const std::byte>(msg); }, nullptr);
    in(*s, "10 0f 00 04 4d 51 54 54 05 00 00 3c 00 00 02 70 63 # Clean Start 0");
    ASSERT_EQ(event1(*s, 0ms), "connect_request");
    ASSERT_EQ(s->accept(state, {.session_present = true}), errc::success);
    EXPECT_EQ(out(*s), bytes_of("20 0e 01 00 0b 21 00 04 27 00 00 04 00 22 00 04 # present\n"
                                "3a 0a 00 03 61 2f 62 00 03 00 68 69 # PUBLISH 3, DUP\n"
                                "62 02 00 04 # PUBREL 4"));
}

// A storage that keeps no copies (a broker that re-encodes from its own queues): the copy ring
// takes no space in the session state, a resend_bytes limit is ignored, and the resend after a
// reconnect comes from the embedder as with resend_bytes 0.
TEST_F(server_test, MQTT5_4_4_0_1_storage_without_copies_resends_from_the_embedder) {
    using no_copies = dynamic_storage<std::allocator<std::byte>, false>;
    static_assert(sizeof(session_state<no_copies>) < sizeof(session_state<storage>));
    session_limits l = limits();
    l.resend_bytes = 4096; // asked for, not kept
    const no_copies nc{l};
    EXPECT_EQ(nc.limits().resend_bytes, 0u);
    session_state<no_copies> kept{nc};
    EXPECT_FALSE(kept.keeps_copies());
    ASSERT_EQ(kept.restore_outbound(3, outbound_state::publish_qos1), errc::success);
    server<no_copies> srv(0ms, options, nc);
    static const auto msg = hex("32 0a 00 03 61 2f 62 00 00 00 68 69");
    srv.set_resend_source(
        [](void*, std::uint16_t) noexcept { return std::span<const std::byte>(msg); }, nullptr);
    in(srv, "10 0f 00 04 4d 51 54 54 05 00 00 3c 00 00 02 70 63 # Clean Start 0");
    ASSERT_EQ(event1(srv, 0ms), "connect_request");
    ASSERT_EQ(srv.accept(kept, {.session_present = true}), errc::success);
    EXPECT_EQ(out(srv), bytes_of("20 0e 01 00 0b 21 00 04 27 00 00 04 00 22 00 04 # present\n"
                                 "3a 0a 00 03 61 2f 62 00 03 00 68 69 # PUBLISH 3, DUP"));
}

// A client may come back with another protocol level and keep its session (MQTT-3.1.2-4 /
// MQTT5-3.1.2-23): the copies kept for resending were encoded for the old level, and PUBLISH
// differs across 5.0 (the property block), so they go out encoded for the new one.
TEST_F(server_test, MQTT_4_4_0_1_resume_at_5_0_resends_3_1_1_copies_as_5_0) {
    storage copies{session_limits{.inflight = 4, .requests = 0, .inbound_qos2 = 4,
                                  .input_bytes = 1024, .output_bytes = 1024,
                                  .resend_bytes = 256}};
    session_state<storage> kept{copies};
    s.emplace(0ms, options, copies);
    in(*s, connect_311_resume);
    ASSERT_EQ(event1(*s, 0ms), "connect_request");
    ASSERT_EQ(s->accept(kept, {.session_present = false}), errc::success);
    (void)out(*s);
    ASSERT_TRUE(publish_text(*s, qos::at_least_once, "a/b", "hi"));
    EXPECT_EQ(out(*s), bytes_of("32 09 00 03 61 2f 62 00 01 68 69 # 3.1.1 PUBLISH 1: 2+3 topic, id, 2 payload"));
    s->transport_closed(0ms);
    while (s->next(0ms)) {
    }

    s.emplace(0ms, options, copies);
    in(*s, "10 0f 00 04 4d 51 54 54 05 00 00 3c 00 00 02 70 63 # 5.0, Clean Start 0");
    ASSERT_EQ(event1(*s, 0ms), "connect_request");
    ASSERT_EQ(s->accept(kept, {.session_present = true}), errc::success);
    const auto o = out(*s);
    EXPECT_EQ(o.substr(o.find("3a")), bytes_of("3a 0a 00 03 61 2f 62 00 01 00 68 69 # DUP, "
                                               "property length 0"));

    // And back: a 5.0 copy with a property resent to a 3.1.1 connection loses the property.
    s->transport_closed(0ms);
    while (s->next(0ms)) {
    }
    kept.clear();
    s.emplace(0ms, options, copies);
    in(*s, "10 0f 00 04 4d 51 54 54 05 00 00 3c 00 00 02 70 63 # 5.0, Clean Start 0");
    ASSERT_EQ(event1(*s, 0ms), "connect_request");
    ASSERT_EQ(s->accept(kept, {.session_present = false}), errc::success);
    (void)out(*s);
    const property expiry[] = {property(property_id::message_expiry_interval, 60u)};
    publish_view p;
    p.qos = qos::at_least_once;
    p.topic = "a/b";
    p.payload = "hi";
    p.properties = expiry;
    ASSERT_TRUE(s->publish(p, 0ms));
    EXPECT_EQ(out(*s), bytes_of("32 0f 00 03 61 2f 62 00 01 05 02 00 00 00 3c 68 69 # 5.0, "
                                "Message Expiry Interval 60"));
    s->transport_closed(0ms);
    while (s->next(0ms)) {
    }
    s.emplace(0ms, options, copies);
    in(*s, connect_311_resume);
    ASSERT_EQ(event1(*s, 0ms), "connect_request");
    ASSERT_EQ(s->accept(kept, {.session_present = true}), errc::success);
    EXPECT_EQ(out(*s), bytes_of("20 02 01 00 # CONNACK, session present\n"
                                "3a 09 00 03 61 2f 62 00 01 68 69 # DUP, no properties"));
}

TEST_F(server_test, accept_without_session_present_clears_the_state) {
    ASSERT_EQ(state.restore_outbound(3, outbound_state::publish_qos1), errc::success);
    ASSERT_EQ(state.restore_inbound_qos2(9), errc::success);
    connect(plain_connect_5);
    EXPECT_TRUE(state.empty());
}

// What a store that keeps sessions across restarts needs to hear about a QoS 2 exchange: when
// its own message need no longer be resent as a PUBLISH, and when an inbound identifier is free.
TEST_F(server_test, MQTT_4_3_3_1_MQTT_4_3_3_2_qos2_steps_are_reported_both_ways) {
    connect(connect_311);
    ASSERT_EQ(*pub(qos::exactly_once), 1);
    EXPECT_EQ(out(*s), "34 09 00 03 61 2f 62 00 01 68 69");
    in(*s, "50 02 00 01 # PUBREC 1");
    EXPECT_EQ(event1(*s, 0ms), "released 1");
    EXPECT_EQ(state.state_of(1), outbound_state::pubrel);
    EXPECT_EQ(out(*s), "62 02 00 01") << "PUBREL";
    in(*s, "70 02 00 01 # PUBCOMP 1");
    EXPECT_EQ(event1(*s, 0ms), "published 1 0x00");

    in(*s, "34 09 00 03 61 2f 62 00 05 68 69 # PUBLISH QoS 2, id 5");
    ASSERT_EQ(event1(*s, 0ms), "message 5 a/b=hi");
    s->acknowledge();
    EXPECT_EQ(events(*s, 0ms), list({}));
    EXPECT_EQ(out(*s), "50 02 00 05") << "PUBREC";
    in(*s, "62 02 00 05 # PUBREL 5\n"
           "62 02 00 06 # PUBREL 6: nothing awaits it");
    EXPECT_EQ(events(*s, 0ms), list({"peer_released 5"})) << "none for an unknown identifier";
    EXPECT_EQ(out(*s), "70 02 00 05 70 02 00 06");
    EXPECT_EQ(state.inbound_qos2(), 0u);
}

TEST_F(server_test, MQTT5_3_14_2_3_the_reason_string_is_left_out_when_the_client_cannot_take_it) {
    make();
    // CONNECT 5.0 with Maximum Packet Size 16: a DISCONNECT with a Reason String is too large.
    in(*s, "10 14 00 04 4d 51 54 54 05 02 00 3c 05 27 00 00 00 10 00 02 70 63");
    ASSERT_EQ(event1(*s, 0ms), "connect_request");
    ASSERT_EQ(s->accept(state), errc::success);
    (void)out(*s);
    in(*s, "30 07 00 03 61 2f 2b 00 68 # PUBLISH to a/+ : a wildcard in a topic name");
    const auto ev = s->next(0ms);
    EXPECT_EQ(describe(ev), "closed local 0x90");
    EXPECT_EQ(ev.error, errc::topic_name_invalid) << "the error behind the close";
    EXPECT_EQ(out(*s), "e0 01 90") << "the reason code alone fits 16 bytes";
}

TEST_F(server_test, MQTT_4_8_0_1_the_closed_event_names_the_error_a_3_1_1_client_made) {
    connect(connect_311);
    in(*s, "62 02 00 01 # PUBREL with flags 0010: fine\n"
           "60 02 00 02 # PUBREL with flags 0000: malformed (MQTT-3.6.1-1)");
    const auto ev = s->next(0ms);
    EXPECT_EQ(describe(ev), "closed local 0x81");
    EXPECT_NE(ev.error, errc::success);
    EXPECT_EQ(out(*s), "70 02 00 01") << "PUBCOMP; no DISCONNECT from a 3.1.1 server";
}

// mosquitto's bridges connect with the top bit of the level set (0x83 / 0x84); a server that
// bridges with mosquitto takes them (server_options::bridge_levels), others refuse the level.
TEST_F(server_test, MQTT_3_1_2_2_bridge_levels_only_when_asked_for) {
    constexpr std::string_view bridge_connect =
        "10 0e 00 04 4d 51 54 54 84 02 00 3c 00 02 70 63 # CONNECT, level 0x84";
    auto& strict = make();
    in(strict, bridge_connect);
    EXPECT_EQ(event1(strict, 0ms), "closed local 0x84");
    EXPECT_EQ(out(strict), "20 02 00 01") << "unacceptable protocol level";

    auto& bridging = make({.bridge_levels = true});
    in(bridging, bridge_connect);
    const auto ev = bridging.next(0ms);
    ASSERT_EQ(describe(ev), "connect_request");
    ASSERT_NE(ev.get<connect_view>(), nullptr);
    EXPECT_TRUE(ev.get<connect_view>()->bridge);
    EXPECT_EQ(ev.get<connect_view>()->version, protocol_version::v3_1_1);
    ASSERT_EQ(bridging.accept(state), errc::success);
    EXPECT_EQ(out(bridging), "20 02 00 00");
}

// A connection's share of a turn: PINGREQs produce no event, so without a bound one call of
// next() answers every one buffered (MQTT-3.12.4-1); with a bound the rest waits for the next call.
TEST_F(server_test, MQTT_3_12_4_1_packets_per_call_bound_the_work_of_one_call) {
    connect(connect_311);
    std::string pings;
    for (int i = 0; i < 10; ++i) pings += "c0 00 # PINGREQ\n";
    pings += "30 07 00 03 61 2f 62 68 69 # PUBLISH QoS 0";
    in(*s, pings);
    s->set_packets_per_call(4);
    EXPECT_EQ(event1(*s, 0ms), "none");
    EXPECT_EQ(out(*s), "d0 00 d0 00 d0 00 d0 00") << "four PINGRESPs";
    EXPECT_TRUE(s->input_backlog());
    EXPECT_EQ(event1(*s, 0ms), "none");
    EXPECT_EQ(out(*s), "d0 00 d0 00 d0 00 d0 00");
    EXPECT_EQ(event1(*s, 0ms), "message 0 a/b=hi") << "the budget of a call ends at an event";
    EXPECT_EQ(out(*s), "d0 00 d0 00");
    EXPECT_FALSE(s->input_backlog());

    s->set_packets_per_call(0);
    in(*s, pings);
    EXPECT_EQ(event1(*s, 0ms), "message 0 a/b=hi") << "unbounded: one call";
    EXPECT_EQ(out(*s), "d0 00 d0 00 d0 00 d0 00 d0 00 d0 00 d0 00 d0 00 d0 00 d0 00");
    in(*s, "c0");
    EXPECT_FALSE(s->input_backlog()) << "half a packet is not a backlog";
}

TEST_F(server_test, MQTT_3_1_4_1_the_closed_event_names_what_was_wrong_with_the_connect) {
    auto& first = make();
    in(first, "c0 00 # PINGREQ first");
    EXPECT_EQ(first.next(0ms).error, errc::protocol_error);

    auto& bad = make();
    in(bad, "10 0e 00 04 4d 51 54 54 04 03 00 3c 00 02 70 63 # CONNECT, reserved flag set");
    const auto ev = bad.next(0ms);
    EXPECT_EQ(describe(ev), "closed local 0x81");
    EXPECT_NE(ev.error, errc::success) << "the codec's finer error";
    EXPECT_EQ(out(bad), "") << "3.1.1: closed without CONNACK (MQTT-3.1.4-1)";
}

} // namespace
} // namespace mqttwire::test
