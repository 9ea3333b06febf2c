// The client role of the session layer (include/mqttwire/session/client.hpp): annotated packets
// from the server in, events and bytes out. Statement ids name the rule each test checks.

#include <gtest/gtest.h>

#include <array>
#include <set>
#include <string>
#include <vector>

#include "session_support.hpp"

namespace mqttwire::test {
namespace {

// 5.0, with the limits of small_storage announced.
constexpr std::string_view connect_5 = "10 1a 00 04 4d 51 54 54 05 02 00 3c"
                                       " 0b 21 00 04 27 00 00 02 00 22 00 04"
                                       " 00 02 70 63";

// Connects `t` (3.1.1, client id "pc") and feeds the CONNACK `connack`.
template <class S>
void connect_with(client<S>& t, std::string_view connack, bool clean = true, ms now = 0ms) {
    ASSERT_EQ(t.connect({.version = protocol_version::v3_1_1, .client_id = "pc",
                         .clean_start = clean},
                        now),
              errc::success);
    (void)out(t);
    in(t, connack);
    ASSERT_EQ(t.next(now).kind, event_kind::connected);
}

struct client_test : ::testing::Test {
    session_state<small_storage> state;
    client<small_storage> c{state};

    // CONNECT "pc", keep alive 60, answered by `connack`.
    void connect(protocol_version v, std::string_view connack, bool clean = true,
                 std::uint32_t expiry = 0) {
        ASSERT_EQ(c.connect({.version = v, .client_id = "pc", .clean_start = clean,
                             .keep_alive = 60, .session_expiry = expiry},
                            0ms),
                  errc::success);
        (void)out(c);
        in(c, connack);
        const auto ev = c.next(0ms);
        ASSERT_EQ(ev.kind, event_kind::connected) << describe(ev);
    }
    result<std::uint16_t> pub(qos q, std::string_view topic = "a/b", std::string_view payload = "hi",
                              ms now = 0ms) {
        publish_view p;
        p.qos = q;
        p.topic = topic;
        p.payload = payload;
        return c.publish(p, now);
    }
};

// ---------------------------------------------------------------------------------------------
// CONNECT / CONNACK

TEST_F(client_test, connect_v311_bytes) {
    ASSERT_EQ(c.connect({.version = v311, .client_id = "pc", .keep_alive = 60}, 0ms),
              errc::success);
    EXPECT_EQ(out(c), bytes_of(connect_311));
    EXPECT_EQ(c.status(), connection_status::connecting);
}

TEST_F(client_test, connect_v5_announces_the_storage_limits) {
    // 5.0 sections 3.1.2.11.3-5: Receive Maximum 4 (inbound_qos2), Maximum Packet Size 512
    // (input_bytes), Topic Alias Maximum 4 (aliases_in).
    ASSERT_EQ(c.connect({.version = v5, .client_id = "pc", .keep_alive = 60}, 0ms), errc::success);
    EXPECT_EQ(out(c), bytes_of(connect_5));
}

TEST_F(client_test, connect_refuses_properties_the_session_sets) {
    const property p[] = {{property_id::receive_maximum, 10}};
    EXPECT_EQ(c.connect({.version = v5, .client_id = "pc", .properties = p}, 0ms),
              errc::invalid_argument);
    EXPECT_EQ(c.output().size(), 0u);
}

TEST_F(client_test, MQTT_3_1_3_7_empty_client_id_needs_clean_session) {
    EXPECT_EQ(c.connect({.version = v311, .clean_start = false}, 0ms),
              errc::client_identifier_not_valid);
    EXPECT_EQ(c.connect({.version = v311, .clean_start = true}, 0ms), errc::success);
}

TEST_F(client_test, connack_accepts) {
    connect(v311, "20 02 00 00");
    EXPECT_EQ(c.status(), connection_status::connected);
}

TEST_F(client_test, MQTT_3_2_2_5_refusing_connack_closes) {
    ASSERT_EQ(c.connect({.version = v311, .client_id = "pc"}, 0ms), errc::success);
    (void)out(c);
    in(c, "20 02 00 05 # return code 5: not authorized");
    EXPECT_EQ(event1(c, 0ms), "closed peer 0x87");
    EXPECT_EQ(c.status(), connection_status::idle);
}

TEST_F(client_test, MQTT5_3_2_2_7_refusing_connack_closes) {
    ASSERT_EQ(c.connect({.version = v5, .client_id = "pc"}, 0ms), errc::success);
    (void)out(c);
    in(c, "20 03 00 86 00 # Bad User Name or Password");
    EXPECT_EQ(event1(c, 0ms), "closed peer 0x86");
}

TEST_F(client_test, MQTT_3_2_0_1_a_packet_before_connack_is_a_protocol_violation) {
    ASSERT_EQ(c.connect({.version = v311, .client_id = "pc"}, 0ms), errc::success);
    (void)out(c);
    in(c, "40 02 00 01 # PUBACK before CONNACK");
    EXPECT_EQ(event1(c, 0ms), "closed local 0x82");
}

TEST_F(client_test, MQTT5_3_2_0_2_a_second_connack_is_a_protocol_error) {
    connect(v5, "20 03 00 00 00");
    in(c, "20 03 00 00 00");
    EXPECT_EQ(event1(c, 0ms), "closed local 0x82");
    EXPECT_EQ(out(c), "e0 01 82") << "DISCONNECT Protocol Error";
}

TEST_F(client_test, MQTT5_3_2_2_4_session_present_after_clean_start_closes) {
    ASSERT_EQ(c.connect({.version = v5, .client_id = "pc", .clean_start = true}, 0ms),
              errc::success);
    (void)out(c);
    in(c, "20 03 01 00 00 # Session Present 1");
    EXPECT_EQ(event1(c, 0ms), "closed local 0x82");
}

TEST_F(client_test, MQTT5_3_2_2_5_session_present_0_discards_the_session_state) {
    connect(v5, "20 03 00 00 00", false, 3600);
    ASSERT_TRUE(pub(qos::at_least_once));
    ASSERT_TRUE(pub(qos::exactly_once));
    c.transport_closed(1ms);
    EXPECT_EQ(event1(c, 1ms), "closed transport 0x80");
    EXPECT_EQ(state.inflight(), 2u) << "a session with an expiry outlives the connection";
    ASSERT_EQ(c.connect({.version = v5, .client_id = "pc", .clean_start = false,
                         .session_expiry = 3600},
                        2ms),
              errc::success);
    (void)out(c);
    in(c, "20 03 00 00 00 # Session Present 0");
    EXPECT_EQ(event1(c, 2ms), "connected new discarded 2");
    EXPECT_EQ(state.inflight(), 0u);
    EXPECT_EQ(out(c), "") << "nothing is resent";
}

TEST_F(client_test, MQTT_3_1_2_6_clean_session_state_ends_with_the_connection) {
    connect(v311, "20 02 00 00");
    ASSERT_TRUE(pub(qos::at_least_once));
    c.transport_closed(1ms);
    (void)c.next(1ms);
    EXPECT_EQ(state.inflight(), 0u);
}

TEST_F(client_test, connack_timeout_closes) {
    ASSERT_EQ(c.connect({.version = v311, .client_id = "pc", .connack_timeout = 5000ms}, 0ms),
              errc::success);
    EXPECT_EQ(c.deadline(), ms(5000));
    EXPECT_EQ(event1(c, 4999ms), "none");
    EXPECT_EQ(event1(c, 5000ms), "closed local 0x80");
}

TEST_F(client_test, assigned_client_identifier_is_kept) {
    ASSERT_EQ(c.connect({.version = v5}, 0ms), errc::success);
    (void)out(c);
    in(c, "20 0b 00 00 08 12 00 05 61 75 74 6f 31 # Assigned Client Identifier 'auto1'");
    EXPECT_EQ(event1(c, 0ms), "connected new");
    EXPECT_EQ(str(c.assigned_client_id()), "auto1");
}

// ---------------------------------------------------------------------------------------------
// Packet identifiers

TEST_F(client_test, MQTT_2_3_1_2_identifiers_in_use_are_never_handed_out) {
    connect(v311, "20 02 00 00");
    std::set<std::uint16_t> in_flight;
    for (int i = 0; i < 4; ++i) {
        const auto id = pub(qos::at_least_once);
        ASSERT_TRUE(id) << i;
        EXPECT_NE(*id, 0);
        EXPECT_TRUE(in_flight.insert(*id).second) << "id " << *id << " handed out twice";
    }
    // MQTT-2.3.1-3: free again only after the acknowledgement.
    in(c, "40 02 00 02 # PUBACK 2");
    EXPECT_EQ(event1(c, 0ms), "published 2 0x00");
    in_flight.erase(2);
    for (int round = 0; round < 50; ++round) {
        const auto id = pub(qos::exactly_once);
        ASSERT_TRUE(id);
        EXPECT_TRUE(in_flight.insert(*id).second) << "id " << *id << " is in flight";
        // Acknowledge the oldest one, keep the rest in flight.
        const std::uint16_t oldest = *in_flight.begin();
        std::vector<std::byte> ack{std::byte{0x50}, std::byte{0x02},
                                   static_cast<std::byte>(oldest >> 8),
                                   static_cast<std::byte>(oldest & 0xFF)};
        if (state.state_of(oldest) == outbound_state::publish_qos1) ack[0] = std::byte{0x40};
        (void)out(c);
        ASSERT_EQ(c.feed(ack), 4u);
        if (ack[0] == std::byte{0x50}) {
            EXPECT_EQ(c.next(0ms).kind, event_kind::released); // PUBREL goes out
            ack[0] = std::byte{0x70};
            ASSERT_EQ(c.feed(ack), 4u);
        }
        EXPECT_EQ(c.next(0ms).kind, event_kind::published);
        in_flight.erase(oldest);
    }
}

TEST_F(client_test, inflight_limit_is_a_would_block) {
    connect(v311, "20 02 00 00");
    for (int i = 0; i < 4; ++i) ASSERT_TRUE(pub(qos::at_least_once));
    EXPECT_EQ(pub(qos::at_least_once).error(), errc::would_block) << "session_limits::inflight 4";
    EXPECT_TRUE(pub(qos::at_most_once)) << "QoS 0 takes no identifier";
    EXPECT_EQ(c.send_quota(), 0);
}

// ---------------------------------------------------------------------------------------------
// QoS 1 and 2, outbound

TEST_F(client_test, MQTT_4_3_2_1_qos1_publish_and_puback) {
    connect(v311, "20 02 00 00");
    const auto id = pub(qos::at_least_once);
    ASSERT_TRUE(id);
    EXPECT_EQ(*id, 1);
    EXPECT_EQ(out(c), bytes_of("32 09 00 03 61 2f 62 00 01 68 69 # QoS 1, DUP 0, id 1, 'hi'"));
    EXPECT_EQ(state.state_of(1), outbound_state::publish_qos1);
    in(c, "40 02 00 01");
    EXPECT_EQ(event1(c, 0ms), "published 1 0x00");
    EXPECT_EQ(state.inflight(), 0u);
}

TEST_F(client_test, MQTT_4_3_3_1_qos2_publish_pubrec_pubrel_pubcomp) {
    connect(v311, "20 02 00 00");
    ASSERT_TRUE(pub(qos::exactly_once));
    EXPECT_EQ(out(c), bytes_of("34 09 00 03 61 2f 62 00 01 68 69"));
    in(c, "50 02 00 01 # PUBREC");
    EXPECT_EQ(event1(c, 0ms), "released 1") << "for a store: only the PUBREL is resent now";
    EXPECT_EQ(out(c), "62 02 00 01") << "PUBREL";
    EXPECT_EQ(state.state_of(1), outbound_state::pubrel);
    in(c, "70 02 00 01 # PUBCOMP");
    EXPECT_EQ(event1(c, 0ms), "published 1 0x00");
    EXPECT_EQ(state.state_of(1), outbound_state::free);
}

TEST_F(client_test, MQTT5_4_4_0_2_error_pubrec_ends_the_exchange) {
    connect(v5, "20 03 00 00 00");
    ASSERT_TRUE(pub(qos::exactly_once));
    (void)out(c);
    in(c, "50 03 00 01 87 # PUBREC Not authorized");
    EXPECT_EQ(event1(c, 0ms), "published 1 0x87");
    EXPECT_EQ(out(c), "") << "no PUBREL";
    EXPECT_EQ(state.inflight(), 0u);
}

TEST_F(client_test, pubrec_for_an_unknown_identifier_gets_pubrel_0x92) {
    connect(v5, "20 03 00 00 00");
    in(c, "50 02 00 09");
    EXPECT_EQ(event1(c, 0ms), "none");
    EXPECT_EQ(out(c), "62 03 00 09 92");
}

TEST_F(client_test, puback_for_a_qos2_identifier_is_a_protocol_error) {
    connect(v5, "20 03 00 00 00");
    ASSERT_TRUE(pub(qos::exactly_once));
    (void)out(c);
    in(c, "40 02 00 01");
    EXPECT_EQ(event1(c, 0ms), "closed local 0x82");
}

// ---------------------------------------------------------------------------------------------
// QoS 1 and 2, inbound

TEST_F(client_test, MQTT_4_3_2_2_qos1_message_then_puback) {
    connect(v311, "20 02 00 00");
    in(c, "32 09 00 03 61 2f 62 00 07 68 69");
    EXPECT_EQ(event1(c, 0ms), "message 7 a/b=hi");
    EXPECT_EQ(event1(c, 0ms), "none");
    EXPECT_EQ(out(c), "40 02 00 07");
}

TEST_F(client_test, MQTT5_4_3_2_4_acknowledge_chooses_the_reason_code) {
    connect(v5, "20 03 00 00 00");
    in(c, "32 0a 00 03 61 2f 62 00 07 00 68 69");
    EXPECT_EQ(event1(c, 0ms), "message 7 a/b=hi");
    c.acknowledge(reason_code::no_matching_subscribers);
    EXPECT_EQ(out(c), "40 03 00 07 10");
}

TEST_F(client_test, MQTT_4_6_0_2_pubacks_in_the_order_of_the_publishes) {
    connect(v311, "20 02 00 00");
    in(c, "32 09 00 03 61 2f 62 00 05 68 69  32 09 00 03 61 2f 62 00 03 68 69");
    EXPECT_EQ(events(c, 0ms), list({"message 5 a/b=hi", "message 3 a/b=hi"}));
    EXPECT_EQ(out(c), "40 02 00 05 40 02 00 03");
}

TEST_F(client_test, MQTT_4_3_3_2_qos2_delivered_once_until_pubrel) {
    connect(v311, "20 02 00 00");
    in(c, "34 09 00 03 61 2f 62 00 07 68 69");
    EXPECT_EQ(event1(c, 0ms), "message 7 a/b=hi");
    EXPECT_EQ(event1(c, 0ms), "none");
    EXPECT_EQ(out(c), "50 02 00 07") << "PUBREC";
    EXPECT_EQ(state.inbound_qos2(), 1u);
    // MQTT5-4.3.3-10: the same identifier again (DUP 1) is answered, not delivered.
    in(c, "3c 09 00 03 61 2f 62 00 07 68 69");
    EXPECT_EQ(event1(c, 0ms), "none");
    EXPECT_EQ(out(c), "50 02 00 07");
    in(c, "62 02 00 07 # PUBREL");
    EXPECT_EQ(event1(c, 0ms), "peer_released 7") << "for a store: the identifier is free";
    EXPECT_EQ(out(c), "70 02 00 07") << "PUBCOMP";
    EXPECT_EQ(state.inbound_qos2(), 0u);
    // MQTT5-4.3.3-12: after PUBCOMP the identifier means a new message.
    in(c, "34 09 00 03 61 2f 62 00 07 68 69");
    EXPECT_EQ(event1(c, 0ms), "message 7 a/b=hi");
}

TEST_F(client_test, MQTT5_4_3_3_9_error_pubrec_forgets_the_identifier) {
    connect(v5, "20 03 00 00 00");
    in(c, "34 0a 00 03 61 2f 62 00 07 00 68 69");
    EXPECT_EQ(event1(c, 0ms), "message 7 a/b=hi");
    c.acknowledge(reason_code::quota_exceeded);
    EXPECT_EQ(out(c), "50 03 00 07 97");
    EXPECT_EQ(state.inbound_qos2(), 0u);
    in(c, "34 0a 00 03 61 2f 62 00 07 00 68 69");
    EXPECT_EQ(event1(c, 0ms), "message 7 a/b=hi") << "a new message";
}

TEST_F(client_test, pubrel_for_an_unknown_identifier_gets_pubcomp_0x92) {
    connect(v5, "20 03 00 00 00");
    in(c, "62 02 00 04");
    EXPECT_EQ(event1(c, 0ms), "none");
    EXPECT_EQ(out(c), "70 03 00 04 92");
}

TEST_F(client_test, qos2_identifiers_survive_a_reconnect) {
    connect(v311, "20 02 00 00", false);
    in(c, "34 09 00 03 61 2f 62 00 07 68 69");
    EXPECT_EQ(event1(c, 0ms), "message 7 a/b=hi");
    EXPECT_EQ(event1(c, 0ms), "none");
    c.transport_closed(1ms);
    EXPECT_EQ(event1(c, 1ms), "closed transport 0x80");
    connect(v311, "20 02 01 00", false);
    // The server resends the PUBLISH it never saw PUBREC for: not a second delivery.
    in(c, "3c 09 00 03 61 2f 62 00 07 68 69");
    EXPECT_EQ(event1(c, 2ms), "none");
    EXPECT_EQ(out(c), "50 02 00 07");
}

// ---------------------------------------------------------------------------------------------
// Resend after reconnect

TEST_F(client_test, MQTT_4_4_0_1_resend_publish_with_dup_and_pubrel_in_order) {
    connect(v311, "20 02 00 00", false);
    ASSERT_TRUE(pub(qos::at_least_once, "a/b", "1"));  // id 1
    ASSERT_TRUE(pub(qos::exactly_once, "a/b", "2"));   // id 2
    ASSERT_TRUE(pub(qos::exactly_once, "a/b", "3"));   // id 3
    ASSERT_TRUE(pub(qos::at_most_once, "a/b", "4"));   // not resent
    (void)out(c);
    in(c, "50 02 00 02 # PUBREC 2: PUBREL 2 is now in flight");
    EXPECT_EQ(event1(c, 0ms), "released 2");
    EXPECT_EQ(out(c), "62 02 00 02");
    c.transport_closed(1ms);
    EXPECT_EQ(event1(c, 1ms), "closed transport 0x80");
    ASSERT_EQ(c.connect({.version = v311, .client_id = "pc", .clean_start = false}, 2ms),
              errc::success);
    (void)out(c);
    in(c, "20 02 01 00 # Session Present");
    EXPECT_EQ(event1(c, 2ms), "connected present");
    // MQTT-3.3.1-1: DUP 1; MQTT-4.6.0-1: in the original order; PUBREL kept its place after the
    // PUBLISHes older than its PUBREC (MQTT-4.6.0-4).
    EXPECT_EQ(out(c), bytes_of("3a 08 00 03 61 2f 62 00 01 31 # PUBLISH 1, DUP, QoS 1\n"
                               "3c 08 00 03 61 2f 62 00 03 33 # PUBLISH 3, DUP, QoS 2\n"
                               "62 02 00 02                   # PUBREL 2"));
}

TEST_F(client_test, MQTT_4_6_0_1_new_publishes_wait_for_the_resend) {
    // An output buffer too small for every resend at once: the rest goes as it drains, and a
    // new QoS 1 PUBLISH waits until all of it is out.
    using tiny = fixed_storage<session_limits{.inflight = 4, .input_bytes = 256,
                                              .output_bytes = 32, .resend_bytes = 256}>;
    session_state<tiny> st;
    client<tiny> t{st};
    connect_with(t, "20 02 00 00", false);
    for (const char* p : {"0123456789", "abcdefghij", "ABCDEFGHIJ"}) {
        publish_view v;
        v.qos = qos::at_least_once;
        v.topic = "t";
        v.payload = p;
        ASSERT_TRUE(t.publish(v, 0ms));
        (void)out(t);
    }
    t.transport_closed(1ms);
    (void)t.next(1ms);
    connect_with(t, "20 02 01 00", false, 2ms);
    EXPECT_TRUE(t.resending());
    publish_view fresh;
    fresh.qos = qos::at_least_once;
    fresh.topic = "t";
    fresh.payload = "new";
    EXPECT_EQ(t.publish(fresh, 2ms).error(), errc::would_block);
    std::string all = out(t);
    for (int i = 0; i < 5 && t.resending(); ++i) {
        (void)t.next(2ms);
        all += " " + out(t);
    }
    EXPECT_FALSE(t.resending());
    EXPECT_EQ(all, bytes_of("3a 0f 00 01 74 00 01 30 31 32 33 34 35 36 37 38 39"
                            "3a 0f 00 01 74 00 02 61 62 63 64 65 66 67 68 69 6a"
                            "3a 0f 00 01 74 00 03 41 42 43 44 45 46 47 48 49 4a"));
    EXPECT_TRUE(t.publish(fresh, 2ms));
}

TEST_F(client_test, resend_from_the_embedder_when_no_copies_are_kept) {
    using nocopy = fixed_storage<session_limits{.inflight = 4, .input_bytes = 256,
                                                .output_bytes = 256, .resend_bytes = 0}>;
    session_state<nocopy> st;
    client<nocopy> t{st};
    ASSERT_FALSE(st.keeps_copies());
    connect_with(t, "20 02 00 00", false);
    publish_view v;
    v.qos = qos::at_least_once;
    v.topic = "t";
    v.payload = "x";
    ASSERT_EQ(*t.publish(v, 0ms), 1);
    t.transport_closed(1ms);
    (void)t.next(1ms);
    // The embedder keeps its messages and encodes them again (any identifier: it is patched).
    static const auto stored = hex("32 06 00 01 74 ff ff 78");
    t.set_resend_source(
        [](void*, std::uint16_t id) noexcept -> std::span<const std::byte> {
            return id == 1 ? std::span<const std::byte>(stored) : std::span<const std::byte>();
        },
        nullptr);
    connect_with(t, "20 02 01 00", false, 2ms);
    EXPECT_EQ(out(t), "3a 06 00 01 74 00 01 78");
}

// ---------------------------------------------------------------------------------------------
// Keep alive

TEST_F(client_test, MQTT_3_1_2_23_pingreq_when_nothing_was_sent_for_a_keep_alive) {
    connect(v311, "20 02 00 00");
    EXPECT_EQ(c.deadline(), ms(60'000));
    EXPECT_EQ(event1(c, 59'999ms), "none");
    EXPECT_EQ(out(c), "");
    EXPECT_EQ(event1(c, 60'000ms), "none");
    EXPECT_EQ(out(c), "c0 00") << "PINGREQ";
    in(c, "d0 00 # PINGRESP");
    EXPECT_EQ(event1(c, 60'010ms), "none");
    EXPECT_EQ(c.deadline(), ms(120'000));
}

TEST_F(client_test, MQTT5_3_1_2_20_sending_anything_postpones_the_pingreq) {
    connect(v5, "20 03 00 00 00");
    ASSERT_TRUE(pub(qos::at_most_once, "a/b", "hi", 30'000ms));
    (void)out(c);
    EXPECT_EQ(event1(c, 60'000ms), "none");
    EXPECT_EQ(out(c), "");
    EXPECT_EQ(c.deadline(), ms(90'000));
}

TEST_F(client_test, no_answer_to_pingreq_closes) {
    connect(v311, "20 02 00 00");
    (void)c.next(60'000ms);
    EXPECT_EQ(out(c), "c0 00");
    EXPECT_EQ(c.deadline(), ms(120'000)) << "one keep-alive period to answer";
    EXPECT_EQ(event1(c, 119'999ms), "none");
    EXPECT_EQ(event1(c, 120'000ms), "closed local 0x8d");
}

TEST_F(client_test, MQTT5_3_2_2_21_server_keep_alive_replaces_the_clients) {
    connect(v5, "20 06 00 00 03 13 00 05 # Server Keep Alive 5");
    EXPECT_EQ(c.peer().keep_alive, 5);
    EXPECT_EQ(c.deadline(), ms(5'000));
    (void)c.next(5'000ms);
    EXPECT_EQ(out(c), "c0 00");
}

TEST_F(client_test, a_clock_that_steps_back_changes_nothing) {
    connect(v311, "20 02 00 00");
    EXPECT_EQ(event1(c, 10'000ms), "none");
    EXPECT_EQ(event1(c, 5ms), "none");
    EXPECT_EQ(out(c), "");
    EXPECT_EQ(c.deadline(), ms(60'000));
}

// ---------------------------------------------------------------------------------------------
// Limits the server sets

TEST_F(client_test, MQTT5_3_3_4_7_receive_maximum_caps_qos1_and_qos2_in_flight) {
    connect(v5, "20 06 00 00 03 21 00 02 # Receive Maximum 2");
    EXPECT_EQ(c.send_quota(), 2);
    ASSERT_TRUE(pub(qos::at_least_once));
    ASSERT_TRUE(pub(qos::exactly_once));
    EXPECT_EQ(pub(qos::at_least_once).error(), errc::would_block); // MQTT5-4.9.0-2
    EXPECT_TRUE(pub(qos::at_most_once)) << "QoS 0 is not counted";
    // MQTT5-3.3.4-8: the quota never holds back other packets.
    EXPECT_TRUE(c.subscribe("x", qos::at_most_once, 0ms));
    (void)out(c);
    in(c, "40 02 00 01");
    EXPECT_EQ(event1(c, 0ms), "published 1 0x00");
    EXPECT_EQ(c.send_quota(), 1);
    EXPECT_TRUE(pub(qos::at_least_once));
}

TEST_F(client_test, MQTT5_3_2_2_11_no_publish_above_maximum_qos) {
    connect(v5, "20 05 00 00 02 24 01 # Maximum QoS 1");
    EXPECT_EQ(c.peer().maximum_qos, qos::at_least_once);
    EXPECT_EQ(pub(qos::exactly_once).error(), errc::qos_not_supported);
    EXPECT_TRUE(pub(qos::at_least_once));
}

TEST_F(client_test, MQTT5_3_2_2_14_no_retain_when_unavailable) {
    connect(v5, "20 05 00 00 02 25 00 # Retain Available 0");
    publish_view p;
    p.topic = "a";
    p.retain = true;
    EXPECT_EQ(c.publish(p, 0ms).error(), errc::retain_not_supported);
    p.retain = false;
    EXPECT_TRUE(c.publish(p, 0ms));
}

TEST_F(client_test, MQTT5_3_2_2_15_nothing_larger_than_the_servers_maximum_packet_size) {
    connect(v5, "20 08 00 00 05 27 00 00 00 10 # Maximum Packet Size 16");
    // 30 0e 00 03 'a/b' 00 <payload>: 16 bytes with an 8-byte payload.
    EXPECT_TRUE(pub(qos::at_most_once, "a/b", "12345678"));
    (void)out(c);
    EXPECT_EQ(pub(qos::at_most_once, "a/b", "123456789").error(), errc::packet_too_large);
    EXPECT_EQ(pub(qos::at_least_once, "a/b", "1234567").error(), errc::packet_too_large)
        << "the packet identifier counts too";
    EXPECT_EQ(state.inflight(), 0u) << "nothing allocated for a refused PUBLISH";
}

TEST_F(client_test, inbound_packet_over_the_announced_maximum_is_refused_from_its_header) {
    connect(v5, "20 03 00 00 00");
    in(c, "30 fe 03 # PUBLISH of 513 bytes announced; Maximum Packet Size 512");
    EXPECT_EQ(event1(c, 0ms), "closed local 0x95");
    EXPECT_EQ(out(c), "e0 01 95");
}

TEST_F(client_test, wildcard_shared_and_identifier_subscriptions_the_server_ruled_out) {
    connect(v5, "20 0c 00 00 09 28 00 2a 00 29 00 21 00 0a # none of the three, Receive Max 10");
    EXPECT_EQ(c.subscribe("a/+", qos::at_most_once, 0ms).error(),
              errc::wildcard_subscriptions_not_supported);
    EXPECT_EQ(c.subscribe("a/#", qos::at_most_once, 0ms).error(),
              errc::wildcard_subscriptions_not_supported);
    EXPECT_EQ(c.subscribe("$share/g/a", qos::at_most_once, 0ms).error(),
              errc::shared_subscriptions_not_supported);
    const subscription s[] = {{"a/b", {}}};
    const property id[] = {{property_id::subscription_identifier, 3}};
    EXPECT_EQ(c.subscribe(s, 0ms, id).error(), errc::subscription_identifiers_not_supported);
    EXPECT_TRUE(c.subscribe("a/b", qos::at_most_once, 0ms));
}

// ---------------------------------------------------------------------------------------------
// Topic aliases

TEST_F(client_test, MQTT5_3_2_2_17_outbound_aliases_up_to_the_servers_maximum) {
    connect(v5, "20 06 00 00 03 22 00 01 # Topic Alias Maximum 1");
    ASSERT_TRUE(pub(qos::at_most_once, "a/b", "1"));
    EXPECT_EQ(out(c), bytes_of("30 0a 00 03 61 2f 62 03 23 00 01 31 # topic + alias 1"));
    ASSERT_TRUE(pub(qos::at_most_once, "a/b", "2"));
    EXPECT_EQ(out(c), bytes_of("30 07 00 00 03 23 00 01 32 # alias 1 alone"));
    ASSERT_TRUE(pub(qos::at_most_once, "c/d", "3"));
    EXPECT_EQ(out(c), bytes_of("30 0a 00 03 63 2f 64 03 23 00 01 33 # alias 1 remapped"));
    ASSERT_TRUE(pub(qos::at_most_once, "a/b", "4"));
    EXPECT_EQ(out(c), bytes_of("30 0a 00 03 61 2f 62 03 23 00 01 34"));
}

TEST_F(client_test, MQTT5_3_2_2_18_no_aliases_when_the_server_allows_none) {
    connect(v5, "20 03 00 00 00");
    ASSERT_TRUE(pub(qos::at_most_once, "a/b", "1"));
    ASSERT_TRUE(pub(qos::at_most_once, "a/b", "2"));
    EXPECT_EQ(out(c), bytes_of("30 07 00 03 61 2f 62 00 31  30 07 00 03 61 2f 62 00 32"));
}

TEST_F(client_test, MQTT5_3_3_2_7_aliases_end_with_the_connection_and_resend_uses_the_topic) {
    connect(v5, "20 06 00 00 03 22 00 02", false, 60);
    ASSERT_TRUE(pub(qos::at_least_once, "a/b", "1"));
    EXPECT_EQ(out(c), bytes_of("32 0c 00 03 61 2f 62 00 01 03 23 00 01 31"));
    c.transport_closed(1ms);
    (void)c.next(1ms);
    ASSERT_EQ(c.connect({.version = v5, .client_id = "pc", .clean_start = false,
                         .session_expiry = 60},
                        2ms),
              errc::success);
    (void)out(c);
    in(c, "20 06 01 00 03 22 00 02");
    EXPECT_EQ(event1(c, 2ms), "connected present");
    EXPECT_EQ(out(c), bytes_of("3a 09 00 03 61 2f 62 00 01 00 31 # resent without the alias"));
    ASSERT_TRUE(pub(qos::at_most_once, "a/b", "2"));
    EXPECT_EQ(out(c), bytes_of("30 0a 00 03 61 2f 62 03 23 00 01 32 # alias set up again"));
}

TEST_F(client_test, MQTT5_3_3_2_10_inbound_aliases_up_to_the_announced_maximum) {
    connect(v5, "20 03 00 00 00");
    in(c, "30 0a 00 03 61 2f 62 03 23 00 04 31 # alias 4 = a/b");
    EXPECT_EQ(event1(c, 0ms), "message 0 a/b=1");
    in(c, "30 07 00 00 03 23 00 04 32 # alias 4 alone");
    EXPECT_EQ(event1(c, 0ms), "message 0 a/b=2");
    in(c, "30 0a 00 03 61 2f 62 03 23 00 05 33 # alias 5: over the maximum of 4");
    EXPECT_EQ(event1(c, 0ms), "closed local 0x94");
    EXPECT_EQ(out(c), "e0 01 94");
}

TEST_F(client_test, an_alias_never_set_is_a_protocol_error) {
    connect(v5, "20 03 00 00 00");
    in(c, "30 07 00 00 03 23 00 02 32");
    EXPECT_EQ(event1(c, 0ms), "closed local 0x82");
}

TEST_F(client_test, an_alias_topic_longer_than_its_slot_is_quota_exceeded) {
    connect(v5, "20 03 00 00 00");
    // small_storage: 256 bytes for 4 aliases, 64 per topic.
    std::string topic(65, 't');
    std::string pkt = "30 ";
    const std::size_t rl = 2 + topic.size() + 4 + 1;
    pkt += to_hex(std::vector<std::byte>{static_cast<std::byte>(rl)}) + " 00 41 ";
    for (char ch : topic) pkt += to_hex(std::vector<std::byte>{static_cast<std::byte>(ch)}) + " ";
    pkt += "03 23 00 01 31";
    in(c, pkt);
    EXPECT_EQ(event1(c, 0ms), "closed local 0x97");
}

// ---------------------------------------------------------------------------------------------
// SUBSCRIBE / UNSUBSCRIBE

TEST_F(client_test, MQTT_3_8_4_2_suback_is_matched_to_its_subscribe) {
    connect(v311, "20 02 00 00");
    const subscription s[] = {{"a/#", {.max_qos = qos::at_least_once}}, {"b", {}}};
    const auto id = c.subscribe(s, 0ms);
    ASSERT_TRUE(id);
    EXPECT_EQ(out(c), bytes_of("82 0c 00 01 00 03 61 2f 23 01 00 01 62 00"));
    in(c, "90 04 00 01 01 80 # granted QoS 1, failure");
    const auto ev = c.next(0ms);
    EXPECT_EQ(describe(ev), "subscribed 1");
    ASSERT_NE(ev.get<suback_view>(), nullptr);
    EXPECT_EQ(ev.get<suback_view>()->reasons[1], reason_code::unspecified_error);
}

TEST_F(client_test, MQTT_3_9_3_1_a_suback_with_the_wrong_count_is_a_violation) {
    connect(v311, "20 02 00 00");
    ASSERT_TRUE(c.subscribe("a", qos::at_most_once, 0ms));
    in(c, "90 04 00 01 00 00 # two codes for one filter");
    EXPECT_EQ(event1(c, 0ms), "closed local 0x82");
}

TEST_F(client_test, MQTT_2_3_1_7_a_suback_for_no_request_is_a_violation) {
    connect(v311, "20 02 00 00");
    in(c, "90 03 00 09 00");
    EXPECT_EQ(event1(c, 0ms), "closed local 0x82");
}

TEST_F(client_test, MQTT5_3_11_3_1_unsuback_matched_with_one_code_per_filter) {
    connect(v5, "20 03 00 00 00");
    const utf8_view f[] = {"a", "b"};
    ASSERT_TRUE(c.unsubscribe(f, 0ms));
    EXPECT_EQ(out(c), bytes_of("a2 09 00 01 00 00 01 61 00 01 62"));
    in(c, "b0 05 00 01 00 00 11");
    EXPECT_EQ(event1(c, 0ms), "unsubscribed 1");
}

TEST_F(client_test, pending_request_limit_is_a_would_block) {
    connect(v311, "20 02 00 00");
    ASSERT_TRUE(c.subscribe("a", qos::at_most_once, 0ms));
    ASSERT_TRUE(c.subscribe("b", qos::at_most_once, 0ms));
    EXPECT_EQ(c.subscribe("c", qos::at_most_once, 0ms).error(), errc::would_block)
        << "session_limits::requests 2";
    EXPECT_TRUE(pub(qos::at_least_once)) << "requests and PUBLISH have separate budgets";
}

TEST_F(client_test, invalid_filters_are_refused_before_sending) {
    connect(v311, "20 02 00 00");
    EXPECT_EQ(c.subscribe("a/#/b", qos::at_most_once, 0ms).error(), errc::topic_filter_invalid);
    EXPECT_EQ(c.unsubscribe("a+", 0ms).error(), errc::topic_filter_invalid);
    EXPECT_EQ(out(c), "");
}

// ---------------------------------------------------------------------------------------------
// DISCONNECT, violations, flow control

TEST_F(client_test, MQTT_3_14_4_2_nothing_after_disconnect) {
    connect(v311, "20 02 00 00");
    ASSERT_EQ(c.disconnect(), errc::success);
    EXPECT_EQ(out(c), "e0 00");
    EXPECT_EQ(pub(qos::at_most_once).error(), errc::not_connected);
    EXPECT_EQ(event1(c, 0ms), "closed local 0x00");
    EXPECT_EQ(out(c), "");
}

TEST_F(client_test, MQTT5_3_14_4_1_disconnect_with_a_reason_then_nothing) {
    connect(v5, "20 03 00 00 00", false, 60);
    const property p[] = {{property_id::session_expiry_interval, 0}};
    ASSERT_EQ(c.disconnect(reason_code::disconnect_with_will_message, p), errc::success);
    EXPECT_EQ(out(c), "e0 07 04 05 11 00 00 00 00");
    EXPECT_EQ(event1(c, 0ms), "closed local 0x04");
}

TEST_F(client_test, MQTT_4_5_0_2_a_message_is_acknowledged_before_disconnect) {
    connect(v311, "20 02 00 00");
    in(c, "32 09 00 03 61 2f 62 00 07 68 69");
    EXPECT_EQ(event1(c, 0ms), "message 7 a/b=hi");
    ASSERT_EQ(c.disconnect(), errc::success);
    EXPECT_EQ(out(c), "40 02 00 07 e0 00") << "PUBACK, then DISCONNECT";
}

TEST_F(client_test, a_session_that_ends_with_the_connection_cannot_be_extended) {
    connect(v5, "20 03 00 00 00");
    const property p[] = {{property_id::session_expiry_interval, 60}};
    EXPECT_EQ(c.disconnect(reason_code::success, p), errc::protocol_error);
}

TEST_F(client_test, server_disconnect_closes) {
    connect(v5, "20 03 00 00 00");
    in(c, "e0 01 8b # Server shutting down");
    EXPECT_EQ(event1(c, 0ms), "closed peer 0x8b");
}

TEST_F(client_test, MQTT5_4_13_1_1_malformed_packet_gets_disconnect_0x81) {
    connect(v5, "20 03 00 00 00");
    in(c, "40 01 00 # PUBACK too short for its packet identifier");
    EXPECT_EQ(event1(c, 0ms), "closed local 0x81");
    EXPECT_EQ(out(c), "e0 01 81");
}

TEST_F(client_test, MQTT_4_8_0_1_violation_before_5_0_closes_without_disconnect) {
    connect(v311, "20 02 00 00");
    in(c, "e0 00 # a server never sends DISCONNECT in 3.1.1");
    EXPECT_EQ(event1(c, 0ms), "closed local 0x82");
    EXPECT_EQ(out(c), "");
}

TEST_F(client_test, MQTT5_4_12_0_6_auth_without_a_method_is_a_protocol_error) {
    connect(v5, "20 03 00 00 00");
    in(c, "f0 00");
    EXPECT_EQ(event1(c, 0ms), "closed local 0x82");
}

TEST_F(client_test, a_server_that_does_not_read_stops_being_read) {
    // 64 bytes of output room: PUBACKs pile up until the transport writes them; then inbound
    // PUBLISHes stay in the input buffer instead of producing more output.
    using tight = fixed_storage<session_limits{.inflight = 4, .input_bytes = 128,
                                               .output_bytes = 64, .resend_bytes = 128}>;
    session_state<tight> st;
    client<tight> t{st};
    connect_with(t, "20 02 00 00");
    const auto one = hex("32 06 00 01 74 00 01 78");
    std::size_t delivered = 0;
    for (int i = 0; i < 100; ++i) {
        (void)t.feed(one);
        while (t.next(0ms).kind == event_kind::message) ++delivered;
    }
    EXPECT_LE(t.output().size(), 64u);
    EXPECT_EQ(t.output().size(), 4 * delivered) << "one PUBACK per delivered message";
    EXPECT_LT(delivered, 20u);
    EXPECT_EQ(t.input_space().size(), 0u) << "input full: the transport stops reading";
    // Writing the output lets everything through.
    for (int i = 0; i < 100; ++i) {
        t.output_written(t.output().size());
        (void)t.feed(one);
        while (t.next(0ms).kind == event_kind::message) ++delivered;
    }
    EXPECT_GT(delivered, 20u);
}

TEST_F(client_test, connect_again_only_after_the_closed_event) {
    connect(v311, "20 02 00 00");
    EXPECT_EQ(c.connect({.version = v311, .client_id = "pc"}, 0ms), errc::invalid_argument);
    c.transport_closed(0ms);
    EXPECT_EQ(c.connect({.version = v311, .client_id = "pc"}, 0ms), errc::invalid_argument);
    EXPECT_EQ(event1(c, 0ms), "closed transport 0x80");
    EXPECT_EQ(c.connect({.version = v311, .client_id = "pc"}, 0ms), errc::success);
}

// ---------------------------------------------------------------------------------------------
// Allocator-backed storage behaves the same

TEST(client_dynamic, qos_flows_and_buffers_released_when_idle) {
    dynamic_storage<> storage(session_limits{.inflight = 100, .resend_bytes = 1 << 16});
    session_state<dynamic_storage<>> st(storage);
    client<dynamic_storage<>> c(st, storage);
    ASSERT_EQ(c.connect({.version = v5, .client_id = "pc"}, 0ms), errc::success);
    (void)out(c);
    in(c, "20 03 00 00 00");
    ASSERT_EQ(c.next(0ms).kind, event_kind::connected);
    for (int i = 0; i < 100; ++i) {
        publish_view p;
        p.qos = qos::exactly_once;
        p.topic = "a";
        p.payload = "x";
        ASSERT_TRUE(c.publish(p, 0ms)) << i;
    }
    publish_view p;
    p.qos = qos::at_least_once;
    p.topic = "a";
    EXPECT_EQ(c.publish(p, 0ms).error(), errc::would_block) << "inflight 100";
    (void)out(c);
    EXPECT_EQ(st.inflight(), 100u);
}

} // namespace
} // namespace mqttwire::test
