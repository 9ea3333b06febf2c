// The broker core's side of bridges, sans I/O: a broker bridging in with mosquitto's bridge
// flag (CONNECT level 0x84) and the trusted connection an outgoing bridge uses locally. The
// bridges themselves, against real mosquitto instances, are in bridge_test.py.

#include "broker_harness.hpp"

namespace {

// CONNECT with the bridge flag, as mosquitto sends it with try_private true.
client connect_bridge(harness& h, const std::string& id) {
    client c = h.open(protocol_version::v3_1_1);
    connect_view p;
    p.client_id = std::string_view(id);
    p.bridge = true; // level byte 0x84
    h.send(c, p);
    return c;
}

std::vector<publish_view> publishes(harness& h, const client& c, std::vector<received>& keep) {
    keep = h.read(c);
    std::vector<publish_view> out;
    for (const auto& r : keep)
        if (const auto* p = std::get_if<publish_view>(&r.packet)) out.push_back(*p);
    return out;
}

TEST(broker_bridge_in, bridge_level_is_accepted) {
    harness h;
    const std::string id = "remote.bridge";
    const auto b = connect_bridge(h, id);
    EXPECT_EQ(h.only<connack_view>(b).return_code(), connect_return_code::accepted);
    EXPECT_FALSE(h.closing(b));
}

// mosquitto's rule for a bridge before 5.0: its subscriptions are No Local, so what it
// publishes is not sent back to it (no loop between the two brokers), while a plain 3.1.1
// client gets its own messages (3.1.1 has no No Local).
TEST(broker_bridge_in, bridge_does_not_get_its_own_messages_back) {
    harness h;
    const std::string id = "remote.bridge";
    const auto b = connect_bridge(h, id);
    const auto plain = h.connect("plain");
    h.read(b);
    h.read(plain);
    std::vector<subscription> st;
    h.send(b, subscribe_one(1, "#", qos::at_least_once, st));
    h.send(plain, subscribe_one(1, "#", qos::at_least_once, st));
    h.read(b);
    h.read(plain);

    h.send(b, make_publish("from/bridge", "x", qos::at_least_once, 7));
    std::vector<received> keep;
    auto to_bridge = publishes(h, b, keep);
    EXPECT_TRUE(to_bridge.empty()) << "the bridge got its own message back";
    std::vector<received> keep2;
    auto to_plain = publishes(h, plain, keep2);
    ASSERT_EQ(to_plain.size(), 1u);
    EXPECT_EQ(payload_of(to_plain[0]), "x");

    // The control: a plain client's own message does come back to it, and to the bridge.
    h.send(plain, make_publish("from/plain", "y", qos::at_least_once, 8));
    std::vector<received> keep3;
    auto back = publishes(h, plain, keep3);
    ASSERT_EQ(back.size(), 1u);
    EXPECT_EQ(payload_of(back[0]), "y");
    std::vector<received> keep4;
    auto crossed = publishes(h, b, keep4);
    ASSERT_EQ(crossed.size(), 1u);
    EXPECT_EQ(payload_of(crossed[0]), "y");
}

// Retain As Published for a bridge: a retained PUBLISH reaches it with RETAIN 1, while a
// plain 3.1.1 subscriber gets RETAIN 0 on a live message (MQTT-3.3.1-9).
TEST(broker_bridge_in, bridge_gets_retain_as_published) {
    harness h;
    const std::string id = "remote.bridge";
    const auto b = connect_bridge(h, id);
    const auto plain = h.connect("plain");
    const auto pub = h.connect("pub");
    h.read(b);
    h.read(plain);
    h.read(pub);
    std::vector<subscription> st;
    h.send(b, subscribe_one(1, "state/#", qos::at_most_once, st));
    h.send(plain, subscribe_one(1, "state/#", qos::at_most_once, st));
    h.read(b);
    h.read(plain);
    h.send(pub, make_publish("state/lamp", "ON", qos::at_most_once, 0, true));
    std::vector<received> k1, k2;
    const auto to_bridge = publishes(h, b, k1);
    const auto to_plain = publishes(h, plain, k2);
    ASSERT_EQ(to_bridge.size(), 1u);
    ASSERT_EQ(to_plain.size(), 1u);
    EXPECT_TRUE(to_bridge[0].retain);
    EXPECT_FALSE(to_plain[0].retain);
}

// The local side of an outgoing bridge is not authenticated (and passes the ACL), as mosquitto
// treats its bridges; the same CONNECT on an ordinary connection is refused.
TEST(broker_bridge_out, trusted_connection_skips_authentication) {
    settings s;
    s.allow_anonymous = false;
    harness h(s);
    const auto plain = h.connect("local.x", protocol_version::v5);
    EXPECT_EQ(h.only<connack_view>(plain).reason, reason_code::not_authorized);

    client t{h.core().accept_trusted(h.now), protocol_version::v5};
    connect_view p;
    p.client_id = "local.x";
    h.send(t, p);
    EXPECT_EQ(h.only<connack_view>(t).reason, reason_code::success);
}

} // namespace
