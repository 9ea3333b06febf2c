// Session-layer tests of the reference broker: raw packets in, packets and close requests out,
// no sockets. Each test cites the statements it checks.

#include <map>

#include "broker_harness.hpp"

namespace {

// ---------------------------------------------------------------------------------------------

TEST(broker_connect, accepted_connect_gets_connack_0) {
    // MQTT-3.2.0-1, MQTT-3.1.4-4, MQTT-3.2.2-1 (clean: Session Present 0).
    harness h;
    const auto c = h.connect("a");
    const auto ack = h.only<connack_view>(c);
    EXPECT_EQ(ack.reason, reason_code::success);
    EXPECT_FALSE(ack.session_present);
    EXPECT_FALSE(h.closing(c));
}

TEST(broker_connect, first_packet_not_connect_closes) {
    // MQTT-3.1.0-1 (client side of the rule: the server closes on anything else first).
    harness h;
    const auto c = h.open(protocol_version::v3_1_1);
    h.send(c, pingreq_view{});
    EXPECT_TRUE(h.closing(c));
    EXPECT_TRUE(h.read(c).empty());
}

TEST(broker_connect, second_connect_is_a_protocol_violation) {
    // MQTT-3.1.0-2 / MQTT5-3.1.0-2.
    harness h;
    const auto c = h.connect("a", protocol_version::v5);
    (void)h.read(c);
    connect_view again;
    again.client_id = "a";
    h.send(c, again);
    const auto d = h.only<disconnect_view>(c);
    EXPECT_EQ(d.reason, reason_code::protocol_error); // MQTT5-4.13.1-1
    EXPECT_TRUE(h.closing(c));
}

TEST(broker_connect, unsupported_level_gets_connack_1) {
    // MQTT-3.1.2-2: CONNACK 0x01, then close.
    harness h;
    const auto c = h.open(protocol_version::v3_1_1);
    h.send_bytes(c, {std::byte{0x10}, std::byte{0x0c}, std::byte{0x00}, std::byte{0x04},
                     std::byte{'M'}, std::byte{'Q'}, std::byte{'T'}, std::byte{'T'},
                     std::byte{0x06}, std::byte{0x02}, std::byte{0x00}, std::byte{0x3c},
                     std::byte{0x00}, std::byte{0x00}});
    const auto ack = h.only<connack_view>(c);
    EXPECT_EQ(ack.return_code(), connect_return_code::unacceptable_protocol_version);
    EXPECT_TRUE(h.closing(c)); // MQTT-3.2.2-5
}

TEST(broker_connect, v5_malformed_connect_gets_connack_with_reason) {
    // MQTT5-3.1.4-1: CONNACK 0x81 may precede the close; MQTT5-3.2.2-7 closes after >= 0x80.
    harness h;
    const auto c = h.open(protocol_version::v5);
    // CONNECT 5.0 with the reserved flag bit set (MQTT5-3.1.2-3).
    h.send_bytes(c, {std::byte{0x10}, std::byte{0x0d}, std::byte{0x00}, std::byte{0x04},
                     std::byte{'M'}, std::byte{'Q'}, std::byte{'T'}, std::byte{'T'},
                     std::byte{0x05}, std::byte{0x03}, std::byte{0x00}, std::byte{0x3c},
                     std::byte{0x00}, std::byte{0x00}, std::byte{0x00}});
    const auto ack = h.only<connack_view>(c);
    EXPECT_EQ(ack.reason, reason_code::malformed_packet);
    EXPECT_FALSE(ack.session_present); // MQTT5-3.2.2-6
    EXPECT_TRUE(h.closing(c));
}

TEST(broker_connect, empty_client_id_without_clean_session_refused) {
    // MQTT-3.1.3-8: CONNACK 0x02 and close.
    harness h;
    const auto c = h.connect("", protocol_version::v3_1_1, false);
    EXPECT_EQ(h.only<connack_view>(c).return_code(), connect_return_code::identifier_rejected);
    EXPECT_TRUE(h.closing(c));
}

TEST(broker_connect, empty_client_id_gets_an_assigned_one) {
    // MQTT-3.1.3-6 (3.1.1), MQTT5-3.1.3-6, MQTT5-3.1.3-7, MQTT5-3.2.2-16.
    harness h;
    const auto a = h.connect("", protocol_version::v3_1_1, true);
    EXPECT_EQ(h.only<connack_view>(a).reason, reason_code::success);
    const auto b = h.connect("", protocol_version::v5, true);
    const auto ack = h.only<connack_view>(b);
    EXPECT_EQ(ack.reason, reason_code::success);
    const auto assigned = ack.properties.find(property_id::assigned_client_identifier);
    ASSERT_TRUE(assigned.has_value());
    EXPECT_FALSE(assigned->string.empty());
    const auto c = h.connect("", protocol_version::v5, true);
    const auto ack2 = h.only<connack_view>(c);
    EXPECT_FALSE(ack2.properties.find(property_id::assigned_client_identifier)->string ==
                 assigned->string); // unique
}

TEST(broker_connect, mqtt31_client_id_longer_than_23_refused) {
    // MQTT 3.1 section 3.1: identifiers of 1 to 23 characters; MQTT-3.1.3-9 (reject with 0x02).
    harness h;
    const auto c = h.connect("abcdefghijklmnopqrstuvwxyz", protocol_version::v3_1);
    EXPECT_EQ(h.only<connack_view>(c).return_code(), connect_return_code::identifier_rejected);
    EXPECT_TRUE(h.closing(c));
}

TEST(broker_connect, session_takeover_closes_the_old_connection) {
    // MQTT-3.1.4-2; MQTT5-3.1.4-3: the old 5.0 connection gets DISCONNECT 0x8E.
    harness h;
    const auto a = h.connect("same", protocol_version::v5);
    (void)h.read(a);
    const auto b = h.connect("same", protocol_version::v5);
    EXPECT_EQ(h.only<disconnect_view>(a).reason, reason_code::session_taken_over);
    EXPECT_TRUE(h.closing(a));
    EXPECT_EQ(h.only<connack_view>(b).reason, reason_code::success);
    EXPECT_FALSE(h.closing(b));
}

TEST(broker_connect, authentication_method_is_refused) {
    // MQTT5-4.12.0-1: unsupported Authentication Method → CONNACK 0x8C and close.
    harness h;
    const property props[] = {{property_id::authentication_method, "SCRAM-SHA-1"}};
    const auto c = h.connect("a", protocol_version::v5, true, 0, props);
    EXPECT_EQ(h.only<connack_view>(c).reason, reason_code::bad_authentication_method);
    EXPECT_TRUE(h.closing(c));
}

TEST(broker_connect, anonymous_refused_when_not_allowed) {
    // MQTT5-3.1.4-2: failed further checks close the connection (CONNACK 0x87 / 0x05 first).
    settings s;
    s.allow_anonymous = false;
    harness h(s);
    const auto a = h.connect("a", protocol_version::v3_1_1);
    EXPECT_EQ(h.only<connack_view>(a).return_code(), connect_return_code::not_authorized);
    const auto b = h.connect("b", protocol_version::v5);
    EXPECT_EQ(h.only<connack_view>(b).reason, reason_code::not_authorized);
    EXPECT_TRUE(h.closing(a));
    EXPECT_TRUE(h.closing(b));
}

TEST(broker_connect, keep_alive_above_maximum_is_lowered_for_v5) {
    // MQTT5-3.2.2-21 (the client uses Server Keep Alive); MQTT5-3.2.2-22 when not sent.
    settings s;
    s.max_keepalive = 30;
    harness h(s);
    const auto c = h.connect("a", protocol_version::v5, true, 60);
    const auto ack = h.only<connack_view>(c);
    EXPECT_EQ(ack.properties.integer_or(property_id::server_keep_alive, 0), 30u);
    const auto d = h.connect("b", protocol_version::v5, true, 20);
    EXPECT_FALSE(h.only<connack_view>(d).properties.contains(property_id::server_keep_alive));
}

TEST(broker_keep_alive, silence_for_one_and_a_half_periods_closes) {
    // MQTT-3.1.2-24 / MQTT5-3.1.2-22; 5.0 gets DISCONNECT 0x8D.
    harness h;
    const auto a = h.connect("a", protocol_version::v3_1_1, true, 10);
    const auto b = h.connect("b", protocol_version::v5, true, 10);
    (void)h.read(a);
    (void)h.read(b);
    h.advance(14s);
    EXPECT_FALSE(h.closing(a));
    h.send(a, pingreq_view{});
    EXPECT_NE(std::get_if<pingresp_view>(&h.read(a).at(0).packet), nullptr); // MQTT-3.12.4-1
    h.advance(2s); // 16 s since b's last packet, 2 s since a's
    EXPECT_TRUE(h.closing(b));
    EXPECT_EQ(h.only<disconnect_view>(b).reason, reason_code::keep_alive_timeout);
    EXPECT_FALSE(h.closing(a));
}

TEST(broker_connect, no_connect_in_time_closes) {
    settings s;
    s.connect_timeout = 5s;
    harness h(s);
    const auto c = h.open(protocol_version::v3_1_1);
    h.advance(6s);
    EXPECT_TRUE(h.closing(c));
}

// ---------------------------------------------------------------------------------------------

TEST(broker_publish, qos0_reaches_subscribers_of_every_version) {
    // MQTT-3.3.2-3 / MQTT5-3.3.2-3: the topic matches the subscriber's filter; MQTT-4.3.1-1.
    harness h;
    std::vector<subscription> st;
    const auto s311 = h.connect("s311", protocol_version::v3_1_1);
    const auto s5 = h.connect("s5", protocol_version::v5);
    const auto s31 = h.connect("s31", protocol_version::v3_1);
    for (const auto& c : {s311, s5, s31}) {
        (void)h.read(c);
        h.send(c, subscribe_one(1, "salon/+/stat", qos::exactly_once, st));
        EXPECT_EQ(h.only<suback_view>(c).reasons[0], reason_code::granted_qos_2);
    }
    const auto pub = h.connect("pub", protocol_version::v5);
    (void)h.read(pub);
    h.send(pub, make_publish("salon/luz/stat", "ON"));
    for (const auto& c : {s311, s5, s31}) {
        const auto m = h.only<publish_view>(c);
        EXPECT_EQ(m.topic, "salon/luz/stat");
        EXPECT_EQ(payload_of(m), "ON");
        EXPECT_EQ(m.qos, qos::at_most_once); // MQTT-3.8.4-6: lower of the two
        EXPECT_FALSE(m.dup);
    }
}

TEST(broker_publish, qos1_is_acknowledged_and_downgraded) {
    // MQTT-4.3.2-2 / MQTT5-4.3.2-4: PUBACK with the same id (MQTT-2.3.1-6 / MQTT5-2.2.1-5);
    // MQTT-3.8.4-6 / MQTT5-3.8.4-8: delivered at the lower QoS.
    harness h;
    std::vector<subscription> st;
    const auto sub = h.connect("sub");
    (void)h.read(sub);
    h.send(sub, subscribe_one(7, "a/#", qos::at_most_once, st));
    EXPECT_EQ(h.only<suback_view>(sub).packet_id, 7); // MQTT-3.8.4-2
    const auto pub = h.connect("pub");
    (void)h.read(pub);
    h.send(pub, make_publish("a/b", "x", qos::at_least_once, 42));
    EXPECT_EQ(h.only<puback_view>(pub).packet_id, 42);
    EXPECT_EQ(h.only<publish_view>(sub).qos, qos::at_most_once);
}

TEST(broker_publish, qos2_exchange_and_no_duplicate_delivery) {
    // MQTT-4.3.3-2 / MQTT5-4.3.3-8, MQTT5-4.3.3-10, MQTT5-4.3.3-11.
    harness h;
    std::vector<subscription> st;
    const auto sub = h.connect("sub");
    (void)h.read(sub);
    h.send(sub, subscribe_one(1, "t", qos::exactly_once, st));
    (void)h.read(sub);
    const auto pub = h.connect("pub", protocol_version::v5);
    (void)h.read(pub);
    auto p = make_publish("t", "once", qos::exactly_once, 9);
    h.send(pub, p);
    EXPECT_EQ(h.only<pubrec_view>(pub).packet_id, 9);
    p.dup = true;
    h.send(pub, p); // resent before PUBREL: PUBREC again, no second delivery
    EXPECT_EQ(h.only<pubrec_view>(pub).packet_id, 9);
    pubrel_view rel;
    rel.packet_id = 9;
    h.send(pub, rel);
    EXPECT_EQ(h.only<pubcomp_view>(pub).packet_id, 9);
    const auto got = h.read(sub);
    ASSERT_EQ(got.size(), 1u);
    const auto& m = std::get<publish_view>(got[0].packet);
    EXPECT_EQ(m.qos, qos::exactly_once);
    EXPECT_NE(m.packet_id, 0); // MQTT-2.3.1-4 / MQTT5-2.2.1-4
    // The subscriber's side of QoS 2 (MQTT-4.3.3-1 / MQTT5-4.3.3-4, MQTT5-4.3.3-5).
    pubrec_view rec;
    rec.packet_id = m.packet_id;
    h.send(sub, rec);
    EXPECT_EQ(h.only<pubrel_view>(sub).packet_id, m.packet_id);
    pubcomp_view comp;
    comp.packet_id = m.packet_id;
    h.send(sub, comp);
    EXPECT_TRUE(h.read(sub).empty());
}

TEST(broker_publish, overlapping_subscriptions_deliver_once_at_highest_qos) {
    // MQTT-3.3.5-1 / MQTT5-3.3.4-2; MQTT5-3.3.4-3, MQTT5-3.3.4-4 (all Subscription Identifiers).
    harness h;
    const auto sub = h.connect("sub", protocol_version::v5);
    (void)h.read(sub);
    {
        const subscription one[] = {{"a/+", {qos::at_most_once}}};
        const property id1[] = {{property_id::subscription_identifier, 5}};
        subscribe_view s;
        s.packet_id = 1;
        s.subscriptions = one;
        s.properties = id1;
        h.send(sub, s);
        const subscription two[] = {{"a/#", {qos::at_least_once}}};
        const property id2[] = {{property_id::subscription_identifier, 300}};
        s.packet_id = 2;
        s.subscriptions = two;
        s.properties = id2;
        h.send(sub, s);
        (void)h.read(sub);
    }
    const auto pub = h.connect("pub");
    (void)h.read(pub);
    h.send(pub, make_publish("a/b", "x", qos::at_least_once, 1));
    const auto m = h.only<publish_view>(sub);
    EXPECT_EQ(m.qos, qos::at_least_once);
    std::vector<std::uint32_t> ids;
    for (const auto& p : m.properties)
        if (p.id == property_id::subscription_identifier) ids.push_back(p.integer);
    EXPECT_EQ(ids.size(), 2u);
}

TEST(broker_publish, no_local_suppresses_own_messages) {
    // MQTT5-3.8.3-3.
    harness h;
    const auto c = h.connect("me", protocol_version::v5);
    (void)h.read(c);
    subscription_options o;
    o.no_local = true;
    const subscription one[] = {{"t", o}};
    subscribe_view s;
    s.packet_id = 1;
    s.subscriptions = one;
    h.send(c, s);
    (void)h.read(c);
    h.send(c, make_publish("t", "x"));
    EXPECT_TRUE(h.read(c).empty());
}

TEST(broker_publish, user_properties_and_request_response_forwarded_unchanged) {
    // MQTT5-3.3.2-4, MQTT5-3.3.2-15, MQTT5-3.3.2-16, MQTT5-3.3.2-17, MQTT5-3.3.2-18,
    // MQTT5-3.3.2-20.
    harness h;
    std::vector<subscription> st;
    const auto sub = h.connect("sub", protocol_version::v5);
    (void)h.read(sub);
    h.send(sub, subscribe_one(1, "req", qos::at_most_once, st));
    (void)h.read(sub);
    const auto pub = h.connect("pub", protocol_version::v5);
    (void)h.read(pub);
    const property props[] = {
        {property_id::payload_format_indicator, 1},
        {property_id::content_type, "text/plain"},
        {property_id::response_topic, "resp/1"},
        {property_id::correlation_data, binary_view("id-7")},
        user_property("b", "2"),
        user_property("a", "1"),
    };
    auto p = make_publish("req", "hello");
    p.properties = props;
    h.send(pub, p);
    const auto m = h.only<publish_view>(sub);
    std::vector<property> got(m.properties.begin(), m.properties.end());
    ASSERT_EQ(got.size(), 6u);
    for (std::size_t i = 0; i < 6; ++i) EXPECT_TRUE(got[i] == props[i]) << i;
}

// ---------------------------------------------------------------------------------------------

TEST(broker_retain, stored_delivered_on_subscribe_and_cleared) {
    // MQTT-3.3.1-5 / MQTT5-3.3.1-5, MQTT-3.3.1-6, MQTT-3.3.1-8 (RETAIN=1 on subscribe),
    // MQTT-3.3.1-9 (RETAIN=0 to existing subscribers), MQTT-3.3.1-10 / MQTT5-3.3.1-6,
    // MQTT-3.3.1-11 / MQTT5-3.3.1-7, MQTT-3.3.1-12 / MQTT5-3.3.1-8.
    harness h;
    std::vector<subscription> st;
    const auto live = h.connect("live");
    (void)h.read(live);
    h.send(live, subscribe_one(1, "salon/#", qos::at_least_once, st));
    (void)h.read(live);
    const auto pub = h.connect("pub");
    (void)h.read(pub);
    h.send(pub, make_publish("salon/luz/stat", "ON", qos::at_most_once, 0, true));
    EXPECT_FALSE(h.only<publish_view>(live).retain);
    h.send(pub, make_publish("salon/luz/stat", "OFF-not-retained")); // does not replace
    (void)h.read(live);

    const auto late = h.connect("late");
    (void)h.read(late);
    h.send(late, subscribe_one(2, "salon/+/stat", qos::at_most_once, st));
    const auto got = h.read(late);
    ASSERT_EQ(got.size(), 2u);
    EXPECT_NE(std::get_if<suback_view>(&got[0].packet), nullptr);
    const auto& r = std::get<publish_view>(got[1].packet);
    EXPECT_TRUE(r.retain);
    EXPECT_EQ(payload_of(r), "ON");

    h.send(pub, make_publish("salon/luz/stat", "", qos::at_most_once, 0, true));
    EXPECT_EQ(payload_of(h.only<publish_view>(live)), ""); // delivered normally
    const auto later = h.connect("later");
    (void)h.read(later);
    h.send(later, subscribe_one(3, "salon/#", qos::at_most_once, st));
    EXPECT_EQ(h.read(later).size(), 1u); // only the SUBACK
    EXPECT_EQ(h.core().retained_count(), 0u);
}

TEST(broker_retain, retain_handling_and_retain_as_published) {
    // MQTT5-3.3.1-9, MQTT5-3.3.1-10, MQTT5-3.3.1-11, MQTT5-3.3.1-12, MQTT5-3.3.1-13.
    harness h;
    const auto pub = h.connect("pub");
    (void)h.read(pub);
    h.send(pub, make_publish("k", "v", qos::at_most_once, 0, true));
    const auto c = h.connect("c", protocol_version::v5);
    (void)h.read(c);
    const auto sub_with = [&](retain_handling rh, bool rap, std::uint16_t id) {
        subscription_options o;
        o.retain_handling = rh;
        o.retain_as_published = rap;
        const subscription one[] = {{"k", o}};
        subscribe_view s;
        s.packet_id = id;
        s.subscriptions = one;
        h.send(c, s);
        return h.read(c).size() - 1; // retained messages after the SUBACK
    };
    EXPECT_EQ(sub_with(retain_handling::send_if_new_subscription, false, 1), 1u); // new
    EXPECT_EQ(sub_with(retain_handling::send_if_new_subscription, false, 2), 0u); // existed
    EXPECT_EQ(sub_with(retain_handling::send_on_subscribe, false, 3), 1u);        // always
    EXPECT_EQ(sub_with(retain_handling::do_not_send, true, 4), 0u);               // never
    h.send(pub, make_publish("k", "v2", qos::at_most_once, 0, true));
    EXPECT_TRUE(h.only<publish_view>(c).retain); // Retain As Published = 1
}

// ---------------------------------------------------------------------------------------------

TEST(broker_will, published_on_abnormal_loss_not_after_disconnect) {
    // MQTT-3.1.2-8 / MQTT5-3.1.2-8, MQTT-3.1.2-10, MQTT-3.14.4-3 / MQTT5-3.14.4-3,
    // MQTT-3.1.2-17 / MQTT5-3.1.2-15 (Will Retain=1 → retained).
    harness h;
    std::vector<subscription> st;
    const auto watcher = h.connect("w");
    (void)h.read(watcher);
    h.send(watcher, subscribe_one(1, "status/#", qos::at_least_once, st));
    (void)h.read(watcher);

    const auto make = [&](const char* id, bool retain) {
        client c = h.open(protocol_version::v3_1_1);
        connect_view p;
        p.client_id = id;
        will_view w;
        w.topic = "status/dev";
        w.payload = "offline";
        w.qos = qos::at_least_once;
        w.retain = retain;
        p.will = w;
        h.send(c, p);
        (void)h.read(c);
        return c;
    };
    const auto polite = make("polite", false);
    h.send(polite, disconnect_view{});
    EXPECT_TRUE(h.closing(polite));
    h.lose(polite);
    EXPECT_TRUE(h.read(watcher).empty());

    const auto crash = make("crash", true);
    h.lose(crash);
    const auto m = h.only<publish_view>(watcher);
    EXPECT_EQ(payload_of(m), "offline");
    EXPECT_EQ(h.core().retained_count(), 1u);
}

// A 5.0 client with a will on "lwt" ends with DISCONNECT `reason`: what a watcher subscribed to
// "lwt" receives then (empty: nothing).
std::vector<received> will_after_disconnect(reason_code reason) {
    harness h;
    std::vector<subscription> st;
    const auto watcher = h.connect("w");
    (void)h.read(watcher);
    h.send(watcher, subscribe_one(1, "lwt", qos::at_most_once, st));
    (void)h.read(watcher);
    client c = h.open(protocol_version::v5);
    connect_view p;
    p.client_id = "d";
    will_view w;
    w.topic = "lwt";
    w.payload = "bye";
    p.will = w;
    h.send(c, p);
    (void)h.read(c);
    disconnect_view d;
    d.reason = reason;
    h.send(c, d);
    EXPECT_TRUE(h.closing(c));
    return h.read(watcher);
}

TEST(broker_will, v5_disconnect_with_will_message_publishes_it) {
    // MQTT5-3.14.4-3 (only 0x00 discards); reason 0x04 sends the will.
    const auto got = will_after_disconnect(reason_code::disconnect_with_will_message);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(payload_of(std::get<publish_view>(got[0].packet)), "bye");
}

TEST(broker_will, v5_disconnect_with_an_error_code_publishes_it) {
    // MQTT5-3.1.2-8 / MQTT5-3.14.4-3: only DISCONNECT 0x00 deletes the will; a client ending
    // with an error code (here 0x80 Unspecified error) has it published.
    const auto got = will_after_disconnect(reason_code::unspecified_error);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(payload_of(std::get<publish_view>(got[0].packet)), "bye");
    EXPECT_TRUE(will_after_disconnect(reason_code::success).empty()); // 0x00 deletes it
}

TEST(broker_will, will_delay_and_reconnect_cancels_it) {
    // MQTT5-3.1.2-8 (after the Will Delay Interval), MQTT5-3.1.3-9 (reconnect cancels).
    harness h;
    std::vector<subscription> st;
    const auto watcher = h.connect("w");
    (void)h.read(watcher);
    h.send(watcher, subscribe_one(1, "lwt", qos::at_most_once, st));
    (void)h.read(watcher);
    const property session[] = {{property_id::session_expiry_interval, 3600}};
    const property delay[] = {{property_id::will_delay_interval, 10}};
    const auto start = [&] {
        client c = h.open(protocol_version::v5);
        connect_view p;
        p.client_id = "dev";
        p.clean_start = false;
        p.properties = session;
        will_view w;
        w.topic = "lwt";
        w.payload = "gone";
        w.properties = delay;
        p.will = w;
        h.send(c, p);
        (void)h.read(c);
        return c;
    };
    auto c = start();
    h.lose(c);
    h.advance(5s);
    EXPECT_TRUE(h.read(watcher).empty());
    c = start(); // back within the delay: no will
    h.advance(20s);
    EXPECT_TRUE(h.read(watcher).empty());
    h.lose(c);
    h.advance(11s);
    EXPECT_EQ(payload_of(h.only<publish_view>(watcher)), "gone");
}

TEST(broker_will, will_message_expiry_counts_from_publication) {
    // MQTT5-3.3.2-5 applied to a will whose Will Properties carry a Message Expiry Interval.
    harness h;
    std::vector<subscription> st;
    const property keep[] = {{property_id::session_expiry_interval, 600}};
    auto sub = h.connect("sub", protocol_version::v5, false, 0, keep);
    (void)h.read(sub);
    h.send(sub, subscribe_one(1, "lwt/#", qos::at_least_once, st));
    (void)h.read(sub);
    h.lose(sub);
    const property expiry[] = {{property_id::message_expiry_interval, 10}};
    const auto dev = [&](const char* id, const char* topic) {
        client c = h.open(protocol_version::v5);
        connect_view p;
        p.client_id = id;
        will_view w;
        w.topic = topic;
        w.payload = "gone";
        w.qos = qos::at_least_once;
        w.properties = expiry;
        p.will = w;
        h.send(c, p);
        (void)h.read(c);
        return c;
    };
    h.lose(dev("old", "lwt/old"));
    h.advance(20s); // the first will expires in the offline queue
    h.lose(dev("new", "lwt/new"));
    h.advance(4s);
    sub = h.connect("sub", protocol_version::v5, false, 0, keep);
    const auto got = h.read(sub);
    ASSERT_EQ(got.size(), 2u); // CONNACK and the unexpired will
    const auto& m = std::get<publish_view>(got[1].packet);
    EXPECT_EQ(m.topic, "lwt/new");
    EXPECT_EQ(m.properties.integer_or(property_id::message_expiry_interval, 0), 6u);
}

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

// ---------------------------------------------------------------------------------------------

TEST(broker_v5, topic_alias_set_and_used) {
    // MQTT5-3.3.2-12 (aliases 1..maximum accepted), MQTT5-3.3.2-7 (per connection).
    harness h;
    std::vector<subscription> st;
    const auto sub = h.connect("sub");
    (void)h.read(sub);
    h.send(sub, subscribe_one(1, "long/topic/name", qos::at_most_once, st));
    (void)h.read(sub);
    const auto pub = h.connect("pub", protocol_version::v5);
    const auto ack = h.only<connack_view>(pub);
    EXPECT_EQ(ack.properties.integer_or(property_id::topic_alias_maximum, 0), 10u);
    const property alias[] = {{property_id::topic_alias, 3}};
    auto p = make_publish("long/topic/name", "1");
    p.properties = alias;
    h.send(pub, p);
    p.topic = "";
    p.payload = "2";
    h.send(pub, p);
    const auto got = h.read(sub);
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(std::get<publish_view>(got[1].packet).topic, "long/topic/name");
    EXPECT_EQ(payload_of(std::get<publish_view>(got[1].packet)), "2");
    // Another connection does not share the alias: an unknown alias is a Protocol Error.
    const auto other = h.connect("other", protocol_version::v5);
    (void)h.read(other);
    h.send(other, p);
    EXPECT_EQ(h.only<disconnect_view>(other).reason, reason_code::protocol_error);
}

TEST(broker_v5, topic_alias_above_maximum_disconnects_with_0x94) {
    harness h;
    const auto pub = h.connect("pub", protocol_version::v5);
    (void)h.read(pub);
    const property alias[] = {{property_id::topic_alias, 11}};
    auto p = make_publish("t", "1");
    p.properties = alias;
    h.send(pub, p);
    EXPECT_EQ(h.only<disconnect_view>(pub).reason, reason_code::topic_alias_invalid);
    EXPECT_TRUE(h.closing(pub));
}

TEST(broker_v5, topic_alias_for_a_topic_over_its_slot_disconnects_with_0x97) {
    // Each alias keeps its topic in a slot of 1 KiB (the table is bounded, DESIGN rule 9): a
    // longer topic cannot be aliased, and setting it is Quota exceeded (0x97); the same topic
    // without an alias goes through.
    harness h;
    std::vector<subscription> st;
    const auto sub = h.connect("sub");
    (void)h.read(sub);
    h.send(sub, subscribe_one(1, "#", qos::at_most_once, st));
    (void)h.read(sub);
    const auto pub = h.connect("pub", protocol_version::v5);
    (void)h.read(pub);
    const std::string topic(1025, 'a');
    auto plain = make_publish(topic.c_str(), "1");
    h.send(pub, plain);
    EXPECT_EQ(std::get<publish_view>(h.read(sub).at(0).packet).topic.size(), 1025u);
    const property alias[] = {{property_id::topic_alias, 1}};
    auto p = make_publish(topic.c_str(), "2");
    p.properties = alias;
    h.send(pub, p);
    EXPECT_EQ(h.only<disconnect_view>(pub).reason, reason_code::quota_exceeded);
    EXPECT_TRUE(h.closing(pub));
    EXPECT_TRUE(h.read(sub).empty());
}

TEST(broker_v5, puback_for_a_qos2_message_is_a_protocol_error) {
    // A PUBACK names an identifier the broker used for a QoS 2 PUBLISH: the flows do not mix
    // (MQTT5-4.3.3-4: a QoS 2 PUBLISH is answered by PUBREC), DISCONNECT 0x82.
    harness h;
    std::vector<subscription> st;
    const auto sub = h.connect("sub", protocol_version::v5);
    (void)h.read(sub);
    h.send(sub, subscribe_one(1, "t", qos::exactly_once, st));
    (void)h.read(sub);
    const auto pub = h.connect("pub");
    (void)h.read(pub);
    h.send(pub, make_publish("t", "x", qos::exactly_once, 7));
    const auto m = h.only<publish_view>(sub);
    ASSERT_EQ(m.qos, qos::exactly_once);
    puback_view wrong;
    wrong.packet_id = m.packet_id;
    h.send(sub, wrong);
    EXPECT_EQ(h.only<disconnect_view>(sub).reason, reason_code::protocol_error);
    EXPECT_TRUE(h.closing(sub));
}

// Topic aliases from the broker: what a 5.0 client does with them (MQTT5-3.3.2-12: an alias
// with a topic maps it, an alias alone with an empty topic is looked up), with every alias
// checked against the maximum the client announced (MQTT5-3.1.2-26).
struct alias_reader {
    explicit alias_reader(std::uint16_t max) : maximum(max) {}
    std::uint16_t maximum = 0;
    std::map<std::uint16_t, std::string> names;
    std::size_t by_alias = 0; // PUBLISHes whose topic came from an alias alone

    std::string topic(const publish_view& p) {
        const auto a = p.properties.integer_or(property_id::topic_alias, 0);
        if (a == 0) {
            EXPECT_FALSE(p.topic.empty());
            return std::string(p.topic.as_string_view());
        }
        EXPECT_GE(a, 1u);
        EXPECT_LE(a, maximum) << "MQTT5-3.1.2-26: above the client's Topic Alias Maximum";
        const auto key = static_cast<std::uint16_t>(a);
        if (!p.topic.empty()) {
            names[key] = std::string(p.topic.as_string_view());
        } else {
            ++by_alias;
            EXPECT_TRUE(names.count(key) != 0) << "alias " << a << " used before it was set";
        }
        return names[key];
    }
};

TEST(broker_v5, MQTT5_3_1_2_26_topic_aliases_to_a_client_that_allows_them) {
    for (const bool replace : {false, true}) {
        settings s;
        s.topic_alias_out_replace = replace;
        harness h(s);
        std::vector<subscription> st;
        const property tam[] = {{property_id::topic_alias_maximum, 2}};
        const auto sub = h.connect("sub", protocol_version::v5, true, 0, tam);
        (void)h.read(sub);
        h.send(sub, subscribe_one(1, "#", qos::at_least_once, st));
        (void)h.read(sub);
        const auto pub = h.connect("pub");
        (void)h.read(pub);
        const char* topics[] = {"zigbee2mqtt/living_room/motion", "zigbee2mqtt/living_room/motion",
                                "zigbee2mqtt/kitchen/light",     "zigbee2mqtt/hall/door",
                                "zigbee2mqtt/living_room/motion", "z/x"};
        std::uint16_t id = 1;
        for (const char* t : topics) {
            h.send(pub, make_publish(t, "p", qos::at_most_once));
            h.send(pub, make_publish(t, "p", qos::at_least_once, id++)); // the encode-once path
        }
        alias_reader r(2);
        std::vector<std::string> seen;
        std::size_t with_alias = 0;
        for (const auto& m : h.read(sub)) {
            const auto* p = std::get_if<publish_view>(&m.packet);
            if (p == nullptr) continue;
            if (p->properties.contains(property_id::topic_alias)) ++with_alias;
            seen.push_back(r.topic(*p));
            if (p->qos == qos::at_least_once) h.send(sub, puback_view{p->packet_id});
        }
        ASSERT_EQ(seen.size(), 12u);
        for (std::size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], topics[i / 2]);
        if (replace) {
            // Set: motion (1), light (2), door (takes motion's 1), motion (takes light's 2).
            EXPECT_EQ(with_alias, 10u) << "z/x is shorter than topic_alias_out_min_length";
            EXPECT_EQ(r.by_alias, 6u) << "the other 6 long ones go by alias alone";
        } else {
            // Set: motion (1), light (2); door finds both taken and goes by name.
            EXPECT_EQ(with_alias, 8u);
            EXPECT_EQ(r.by_alias, 6u);
        }
    }
}

TEST(broker_v5, MQTT5_3_1_2_27_no_topic_alias_without_the_clients_maximum_or_by_setting) {
    for (const bool allowed : {false, true}) {
        settings s;
        if (allowed) s.max_topic_alias_out = 0;
        harness h(s);
        std::vector<subscription> st;
        const property tam[] = {{property_id::topic_alias_maximum, 5}};
        const auto sub = h.connect("sub", protocol_version::v5, true, 0,
                                   allowed ? std::span<const property>(tam)
                                           : std::span<const property>());
        (void)h.read(sub);
        h.send(sub, subscribe_one(1, "long/topic/name", qos::at_most_once, st));
        (void)h.read(sub);
        const auto pub = h.connect("pub");
        (void)h.read(pub);
        h.send(pub, make_publish("long/topic/name", "1"));
        h.send(pub, make_publish("long/topic/name", "2"));
        const auto got = h.read(sub);
        ASSERT_EQ(got.size(), 2u);
        for (const auto& m : got) {
            const auto& p = std::get<publish_view>(m.packet);
            EXPECT_EQ(p.topic, "long/topic/name");
            EXPECT_FALSE(p.properties.contains(property_id::topic_alias));
        }
    }
}

TEST(broker_v5, MQTT5_3_3_2_7_aliases_start_over_on_a_new_connection) {
    // Retained messages (the owned-message path) and a resend after reconnect: the first
    // PUBLISH of each connection names the topic.
    harness h;
    std::vector<subscription> st;
    const auto pub = h.connect("pub");
    (void)h.read(pub);
    h.send(pub, make_publish("home/sensors/temperature", "21", qos::at_least_once, 1, true));
    (void)h.read(pub);
    const property props[] = {{property_id::topic_alias_maximum, 4},
                              {property_id::session_expiry_interval, 600}};
    auto sub = h.connect("sub", protocol_version::v5, true, 0, props);
    (void)h.read(sub);
    h.send(sub, subscribe_one(1, "home/#", qos::at_least_once, st));
    alias_reader r(4);
    std::vector<std::string> seen;
    for (const auto& m : h.read(sub))
        if (const auto* p = std::get_if<publish_view>(&m.packet)) seen.push_back(r.topic(*p));
    h.send(pub, make_publish("home/sensors/temperature", "22", qos::at_least_once, 2));
    for (const auto& m : h.read(sub))
        if (const auto* p = std::get_if<publish_view>(&m.packet)) seen.push_back(r.topic(*p));
    EXPECT_EQ(r.by_alias, 1u);
    // Unacknowledged, the connection lost: resent on the next one with its topic.
    h.lose(sub);
    sub = h.connect("sub", protocol_version::v5, false, 0, props);
    alias_reader fresh(4);
    std::size_t resent = 0;
    for (const auto& m : h.read(sub))
        if (const auto* p = std::get_if<publish_view>(&m.packet)) {
            EXPECT_TRUE(p->dup);
            if (resent++ == 0) {
                EXPECT_FALSE(p->topic.empty()) << "an alias of the old connection is unknown here";
            }
            seen.push_back(fresh.topic(*p));
        }
    EXPECT_EQ(resent, 2u);
    ASSERT_EQ(seen.size(), 4u);
    for (const auto& t : seen) EXPECT_EQ(t, "home/sensors/temperature");
}

TEST(broker_v5, exceeding_our_receive_maximum_disconnects_with_0x93) {
    // MQTT5-3.3.4-9 from the client's side: 0x93 Receive Maximum exceeded.
    settings s;
    s.receive_maximum = 2;
    harness h(s);
    const auto pub = h.connect("pub", protocol_version::v5);
    EXPECT_EQ(h.only<connack_view>(pub).properties.integer_or(property_id::receive_maximum, 0), 2u);
    for (std::uint16_t i = 1; i <= 3; ++i)
        h.send(pub, make_publish("t", "x", qos::exactly_once, i));
    const auto got = h.read(pub);
    ASSERT_EQ(got.size(), 3u);
    EXPECT_EQ(std::get<disconnect_view>(got[2].packet).reason, reason_code::receive_maximum_exceeded);
}

TEST(broker_v5, message_expiry_is_decremented_and_enforced) {
    // MQTT5-3.3.2-5, MQTT5-3.3.2-6.
    harness h;
    std::vector<subscription> st;
    const property keep[] = {{property_id::session_expiry_interval, 600}};
    auto sub = h.connect("sub", protocol_version::v5, false, 0, keep);
    (void)h.read(sub);
    h.send(sub, subscribe_one(1, "t", qos::at_least_once, st));
    (void)h.read(sub);
    h.lose(sub);
    const auto pub = h.connect("pub", protocol_version::v5);
    (void)h.read(pub);
    const property e10[] = {{property_id::message_expiry_interval, 10}};
    const property e100[] = {{property_id::message_expiry_interval, 100}};
    auto p = make_publish("t", "short", qos::at_least_once, 1);
    p.properties = e10;
    h.send(pub, p);
    p = make_publish("t", "long", qos::at_least_once, 2);
    p.properties = e100;
    h.send(pub, p);
    h.advance(30s);
    sub = h.connect("sub", protocol_version::v5, false, 0, keep);
    const auto got = h.read(sub);
    ASSERT_EQ(got.size(), 2u); // CONNACK + the unexpired message
    const auto& m = std::get<publish_view>(got[1].packet);
    EXPECT_EQ(payload_of(m), "long");
    EXPECT_EQ(m.properties.integer_or(property_id::message_expiry_interval, 0), 70u);
}

TEST(broker_v5, too_large_for_the_client_is_not_sent) {
    // MQTT5-3.1.2-24, MQTT5-3.1.2-25.
    harness h;
    std::vector<subscription> st;
    const property mps[] = {{property_id::maximum_packet_size, 32}};
    const auto sub = h.connect("sub", protocol_version::v5, true, 0, mps);
    (void)h.read(sub);
    h.send(sub, subscribe_one(1, "t", qos::at_most_once, st));
    (void)h.read(sub);
    const auto pub = h.connect("pub");
    (void)h.read(pub);
    h.send(pub, make_publish("t", "a payload that is far too long for 32 bytes"));
    h.send(pub, make_publish("t", "ok"));
    const auto m = h.only<publish_view>(sub);
    EXPECT_EQ(payload_of(m), "ok");
}

// ---------------------------------------------------------------------------------------------

TEST(broker_errors, malformed_packet_disconnects_only_the_offender) {
    // MQTT5-4.13.1-1 (DISCONNECT 0x81 then close), MQTT-4.8.0-1 (3.1.1: close).
    harness h;
    std::vector<subscription> st;
    const auto good = h.connect("good");
    (void)h.read(good);
    h.send(good, subscribe_one(1, "t", qos::at_most_once, st));
    (void)h.read(good);
    const auto bad5 = h.connect("bad5", protocol_version::v5);
    const auto bad3 = h.connect("bad3");
    (void)h.read(bad5);
    (void)h.read(bad3);
    // PUBLISH with QoS 3 (MQTT5-3.3.1-4 / MQTT-3.3.1-4).
    h.send_bytes(bad5, {std::byte{0x36}, std::byte{0x03}, std::byte{0x00}, std::byte{0x01},
                        std::byte{'t'}});
    h.send_bytes(bad3, {std::byte{0x36}, std::byte{0x03}, std::byte{0x00}, std::byte{0x01},
                        std::byte{'t'}});
    EXPECT_EQ(h.only<disconnect_view>(bad5).reason, reason_code::malformed_packet);
    EXPECT_TRUE(h.closing(bad5));
    EXPECT_TRUE(h.read(bad3).empty());
    EXPECT_TRUE(h.closing(bad3));
    const auto pub = h.connect("pub");
    (void)h.read(pub);
    h.send(pub, make_publish("t", "still here"));
    EXPECT_EQ(payload_of(h.only<publish_view>(good)), "still here");
    EXPECT_FALSE(h.closing(good));
}

TEST(broker_errors, oversized_packet_refused_from_the_header) {
    // MQTT5-4.13.1-1 with 0x95: refused from the fixed header, before the body arrives.
    settings s;
    s.max_packet_size = 1024;
    harness h(s);
    const auto c = h.connect("c", protocol_version::v5);
    EXPECT_EQ(h.only<connack_view>(c).properties.integer_or(property_id::maximum_packet_size, 0),
              1024u);
    h.send_bytes(c, {std::byte{0x30}, std::byte{0xff}, std::byte{0xff}, std::byte{0x03}});
    EXPECT_EQ(h.only<disconnect_view>(c).reason, reason_code::packet_too_large);
    EXPECT_TRUE(h.closing(c));
}

TEST(broker_errors, byte_at_a_time_connect_works) {
    harness h;
    const auto c = h.open(protocol_version::v3_1_1);
    connect_view p;
    p.client_id = "slow";
    std::vector<std::byte> buf(encoded_size(p, protocol_version::v3_1_1).value());
    ASSERT_TRUE(encode(p, protocol_version::v3_1_1, buf));
    for (auto b : buf) h.send_bytes(c, {b});
    EXPECT_EQ(h.only<connack_view>(c).reason, reason_code::success);
}

} // namespace
