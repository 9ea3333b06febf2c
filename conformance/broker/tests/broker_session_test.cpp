// Session-layer tests of the reference broker, sessions and subscriptions (persistence, clean
// sessions, expiry, Receive Maximum, invalid filters, UNSUBSCRIBE, shared subscriptions): raw
// packets in, packets and close requests out, no sockets. Each test cites the statements it
// checks.

#include "broker_harness.hpp"

namespace {

// ---------------------------------------------------------------------------------------------

TEST(broker_session, persistent_session_queues_and_redelivers) {
    // MQTT-3.1.2-4, MQTT-3.1.2-5, MQTT-3.2.2-2 (Session Present 1), MQTT-4.4.0-1 / MQTT5-4.4.0-1
    // (unacknowledged PUBLISH resent with DUP=1: MQTT-3.3.1-1 / MQTT5-3.3.1-1), MQTT-4.6.0-5
    // (order kept).
    harness h;
    std::vector<subscription> st;
    auto sub = h.connect("keep", protocol_version::v3_1_1, false);
    EXPECT_FALSE(h.only<connack_view>(sub).session_present); // MQTT-3.2.2-3
    h.send(sub, subscribe_one(1, "q/#", qos::at_least_once, st));
    (void)h.read(sub);
    const auto pub = h.connect("pub");
    (void)h.read(pub);
    h.send(pub, make_publish("q/1", "first", qos::at_least_once, 1));
    const auto inflight = h.only<publish_view>(sub); // not acknowledged
    h.lose(sub);
    h.send(pub, make_publish("q/2", "second", qos::at_least_once, 2));
    h.send(pub, make_publish("q/3", "third", qos::at_least_once, 3));
    h.send(pub, make_publish("q/0", "dropped-qos0"));
    (void)h.read(pub);

    sub = h.connect("keep", protocol_version::v3_1_1, false);
    const auto got = h.read(sub);
    ASSERT_EQ(got.size(), 4u);
    EXPECT_TRUE(std::get<connack_view>(got[0].packet).session_present);
    const auto& again = std::get<publish_view>(got[1].packet);
    EXPECT_TRUE(again.dup);
    EXPECT_EQ(again.packet_id, inflight.packet_id);
    EXPECT_EQ(payload_of(again), "first");
    EXPECT_EQ(payload_of(std::get<publish_view>(got[2].packet)), "second");
    EXPECT_FALSE(std::get<publish_view>(got[2].packet).dup); // MQTT-3.3.1-3
    EXPECT_EQ(payload_of(std::get<publish_view>(got[3].packet)), "third");
}

TEST(broker_session, clean_session_discards_state) {
    // MQTT-3.1.2-6 / MQTT5-3.1.2-4, MQTT-3.2.2-1 / MQTT5-3.2.2-2.
    harness h;
    std::vector<subscription> st;
    auto c = h.connect("x", protocol_version::v3_1_1, false);
    (void)h.read(c);
    h.send(c, subscribe_one(1, "t", qos::at_least_once, st));
    (void)h.read(c);
    h.lose(c);
    c = h.connect("x", protocol_version::v3_1_1, true);
    EXPECT_FALSE(h.only<connack_view>(c).session_present);
    const auto pub = h.connect("pub");
    (void)h.read(pub);
    h.send(pub, make_publish("t", "x"));
    EXPECT_TRUE(h.read(c).empty());
}

TEST(broker_session, session_expiry_interval_ends_the_session) {
    // MQTT5-3.1.2-23, MQTT5-4.1.0-2.
    harness h;
    const property exp[] = {{property_id::session_expiry_interval, 30}};
    auto c = h.connect("e", protocol_version::v5, false, 0, exp);
    (void)h.read(c);
    h.lose(c);
    EXPECT_EQ(h.core().session_count(), 1u);
    h.advance(31s);
    EXPECT_EQ(h.core().session_count(), 0u);
}

TEST(broker_session, receive_maximum_limits_inflight_to_the_client) {
    // MQTT5-3.3.4-9, MQTT5-4.9.0-2 (no QoS>0 PUBLISH at zero quota), MQTT5-4.9.0-3 (other
    // packets still answered).
    harness h;
    std::vector<subscription> st;
    const property rm[] = {{property_id::receive_maximum, 2}};
    const auto sub = h.connect("sub", protocol_version::v5, true, 0, rm);
    (void)h.read(sub);
    h.send(sub, subscribe_one(1, "t", qos::at_least_once, st));
    (void)h.read(sub);
    const auto pub = h.connect("pub");
    (void)h.read(pub);
    for (std::uint16_t i = 1; i <= 4; ++i) h.send(pub, make_publish("t", "m", qos::at_least_once, i));
    auto got = h.read(sub);
    ASSERT_EQ(got.size(), 2u);
    h.send(sub, pingreq_view{});
    EXPECT_NE(std::get_if<pingresp_view>(&h.read(sub).at(0).packet), nullptr);
    puback_view ack;
    ack.packet_id = std::get<publish_view>(got[0].packet).packet_id;
    h.send(sub, ack);
    EXPECT_EQ(h.read(sub).size(), 1u); // one more goes out
}

TEST(broker_subscribe, invalid_filter_fails_only_that_entry) {
    // MQTT-3.8.4-4 / MQTT5-3.8.4-5, MQTT-3.8.4-5 / MQTT5-3.8.4-7, MQTT-4.7.1-2.
    harness h;
    const auto c = h.connect("c");
    (void)h.read(c);
    const subscription entries[] = {{"ok/+", {qos::at_least_once}}, {"bad/#/x", {qos::at_most_once}},
                                    {"fine", {qos::exactly_once}}};
    subscribe_view s;
    s.packet_id = 3;
    s.subscriptions = entries;
    h.send(c, s);
    const auto a = h.only<suback_view>(c);
    std::vector<reason_code> codes(a.reasons.begin(), a.reasons.end());
    ASSERT_EQ(codes.size(), 3u);
    EXPECT_EQ(codes[0], reason_code::granted_qos_1);
    EXPECT_EQ(static_cast<std::uint8_t>(codes[1]), 0x80);
    EXPECT_EQ(codes[2], reason_code::granted_qos_2);
}

TEST(broker_subscribe, unsubscribe_stops_delivery_and_is_always_answered) {
    // MQTT-3.10.4-1, MQTT-3.10.4-2, MQTT-3.10.4-4, MQTT-3.10.4-5, MQTT5-3.10.4-5 (0x11);
    // MQTT-3.10.4-6 / MQTT5-3.10.4-6: two filters, one UNSUBACK with a code for each.
    harness h;
    std::vector<subscription> st;
    const auto c = h.connect("c", protocol_version::v5);
    (void)h.read(c);
    h.send(c, subscribe_one(1, "a/+", qos::at_most_once, st));
    (void)h.read(c);
    const utf8_view filters[] = {"a/+", "never"};
    unsubscribe_view u;
    u.packet_id = 4;
    u.filters = filters;
    h.send(c, u);
    const auto a = h.only<unsuback_view>(c);
    EXPECT_EQ(a.packet_id, 4);
    std::vector<reason_code> codes(a.reasons.begin(), a.reasons.end());
    ASSERT_EQ(codes.size(), 2u);
    EXPECT_EQ(codes[0], reason_code::success);
    EXPECT_EQ(codes[1], reason_code::no_subscription_existed);
    const auto pub = h.connect("pub");
    (void)h.read(pub);
    h.send(pub, make_publish("a/b", "x"));
    EXPECT_TRUE(h.read(c).empty());
}

TEST(broker_subscribe, shared_subscription_round_robin) {
    // MQTT5-4.8.2-3 (each member gets the QoS it was granted); one member per message.
    harness h;
    std::vector<subscription> st;
    const auto a = h.connect("a", protocol_version::v5);
    const auto b = h.connect("b", protocol_version::v5);
    for (const auto& c : {a, b}) {
        (void)h.read(c);
        h.send(c, subscribe_one(1, "$share/g/jobs/#", qos::at_most_once, st));
        (void)h.read(c);
    }
    const auto pub = h.connect("pub");
    (void)h.read(pub);
    for (int i = 0; i < 4; ++i) h.send(pub, make_publish("jobs/x", "j"));
    EXPECT_EQ(h.read(a).size(), 2u);
    EXPECT_EQ(h.read(b).size(), 2u);
}

TEST(broker_subscribe, shared_member_lost_mid_qos2_finishes_with_that_member) {
    // MQTT5-4.8.2-4: the interrupted QoS 2 delivery completes with the same member when it
    // reconnects; MQTT5-4.8.2-5: if its session ends first, no other member gets the message.
    harness h;
    std::vector<subscription> st;
    const property keep[] = {{property_id::session_expiry_interval, 60}};
    auto a = h.connect("a", protocol_version::v5, false, 0, keep);
    const auto b = h.connect("b", protocol_version::v5);
    for (const auto& c : {a, b}) {
        (void)h.read(c);
        h.send(c, subscribe_one(1, "$share/g/work", qos::exactly_once, st));
        (void)h.read(c);
    }
    const auto pub = h.connect("pub");
    (void)h.read(pub);
    h.send(pub, make_publish("work", "job", qos::exactly_once, 1));
    (void)h.read(pub);
    const auto first = h.read(a);
    ASSERT_EQ(first.size(), 1u) << "round robin starts with the first member";
    EXPECT_TRUE(h.read(b).empty());
    const auto id = std::get<publish_view>(first[0].packet).packet_id;
    h.lose(a);
    a = h.connect("a", protocol_version::v5, false, 0, keep);
    const auto again = h.read(a);
    ASSERT_EQ(again.size(), 2u);
    const auto& redelivered = std::get<publish_view>(again[1].packet);
    EXPECT_TRUE(redelivered.dup);
    EXPECT_EQ(redelivered.packet_id, id);
    EXPECT_TRUE(h.read(b).empty());
    // Now let the session end while the delivery is outstanding: b never receives it.
    h.lose(a);
    h.advance(61s);
    EXPECT_EQ(h.core().session_count(), 2u); // b and pub remain
    EXPECT_TRUE(h.read(b).empty());
}

} // namespace
