// Session-layer tests of the reference broker, 5.0 features (topic aliases both ways, Receive
// Maximum, Message Expiry, Maximum Packet Size) and malformed input: raw packets in, packets
// and close requests out, no sockets. Each test cites the statements it checks.

#include <map>

#include "broker_harness.hpp"

namespace {

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
