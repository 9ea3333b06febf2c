// Session-layer tests of the reference broker: raw packets in, packets and close requests out,
// no sockets. Each test cites the statements it checks.

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

} // namespace
