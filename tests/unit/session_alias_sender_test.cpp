// Outbound Topic Aliases (include/mqttwire/session/alias_sender.hpp): the policy, the rewriting
// of an encoded PUBLISH, and the server role using both. Statement ids name the rule each test
// checks (MQTT 5.0 section 3.3.2.3.4).

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "session_support.hpp"

namespace mqttwire::test {
namespace {

using storage = dynamic_storage<>;

std::span<const std::byte> bytes(std::string_view s) {
    return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

// "zigbee2mqtt/hall", QoS 0, no properties, payload "ON".
constexpr std::string_view hall = "30 15 00 10 7a 69 67 62 65 65 32 6d 71 74 74 2f 68 61 6c 6c"
                                  " 00 # no properties\n 4f 4e # ON";

std::string aliased(std::string_view annotated_packet, topic_alias_choice c) {
    const auto packet = annotated(annotated_packet);
    const auto size = aliased_publish_size(packet, c);
    if (!size) return failed(size.error());
    std::vector<std::byte> out(size->size);
    const auto w = write_aliased_publish(packet, c, out);
    if (!w) return failed(w.error());
    EXPECT_EQ(w->size, size->size) << "measure and write agree";
    EXPECT_EQ(w->id_at, size->id_at);
    return to_hex(out);
}

// ---------------------------------------------------------------------------------------------
// Rewriting an encoded PUBLISH

TEST(aliased_publish, MQTT5_3_3_2_12_sets_an_alias_with_the_topic) {
    EXPECT_EQ(aliased(hall, {1, true}),
              bytes_of("30 18 00 10 7a 69 67 62 65 65 32 6d 71 74 74 2f 68 61 6c 6c"
                       " 03 23 00 01 # Topic Alias 1\n 4f 4e"));
}

TEST(aliased_publish, MQTT5_3_3_2_12_uses_an_alias_alone_with_an_empty_topic) {
    EXPECT_EQ(aliased(hall, {1, false}), bytes_of("30 08 00 00 03 23 00 01 4f 4e"));
}

TEST(aliased_publish, qos1_keeps_identifier_and_properties_and_reports_where_the_id_is) {
    // QoS 1, topic a/b, id 7, Content Type "t" (03 00 01 74), payload "x".
    const auto packet = annotated("32 0d 00 03 61 2f 62 00 07 04 03 00 01 74 78");
    std::vector<std::byte> out(32);
    const auto w = write_aliased_publish(packet, {0x0102, false}, out);
    ASSERT_TRUE(w);
    out.resize(w->size);
    EXPECT_EQ(to_hex(out), bytes_of("32 0d 00 00 00 07 07 23 01 02 03 00 01 74 78"));
    EXPECT_EQ(w->id_at, 4u);
    decode_options o;
    o.version = protocol_version::v5;
    o.sender = peer_role::server;
    const auto d = decode_packet(out, o);
    ASSERT_TRUE(d) << errc_name(d.error());
    const auto& p = std::get<publish_view>(d->packet);
    EXPECT_EQ(p.packet_id, 7);
    EXPECT_TRUE(p.topic.empty());
    EXPECT_EQ(p.properties.integer_or(property_id::topic_alias, 0), 0x0102u);
    EXPECT_TRUE(p.properties.contains(property_id::content_type));
    EXPECT_EQ(str(p.payload), "x");
}

TEST(aliased_publish, a_longer_property_length_grows_the_remaining_length_field) {
    // 125 bytes of properties: Property Length 7d (one byte) becomes 80 01 (two).
    std::string props = "26 00 3c"; // User Property, name of 60 'k'
    for (int i = 0; i < 60; ++i) props += " 6b";
    props += " 00 3c";
    for (int i = 0; i < 60; ++i) props += " 76";
    ASSERT_EQ(annotated(props).size(), 125u);
    const auto packet = annotated("30 82 01 00 01 74 7d " + props + " 78");
    const auto w = aliased_publish_size(packet, {1, true});
    ASSERT_TRUE(w);
    EXPECT_EQ(w->size, packet.size() + 3 + 1);
    std::vector<std::byte> out(w->size);
    ASSERT_TRUE(write_aliased_publish(packet, {1, true}, out));
    decode_options o;
    o.version = protocol_version::v5;
    o.sender = peer_role::server;
    const auto d = decode_packet(out, o);
    ASSERT_TRUE(d) << errc_name(d.error());
    EXPECT_EQ(str(std::get<publish_view>(d->packet).topic), "t");
}

TEST(aliased_publish, refuses_what_it_cannot_rewrite) {
    EXPECT_EQ(aliased(hall, {0, true}), failed(errc::invalid_argument)) << "alias 0 (MQTT5-3.3.2-8)";
    EXPECT_EQ(aliased("c0 00 # PINGREQ", {1, true}), failed(errc::invalid_argument));
    EXPECT_EQ(aliased("30 05 00 03 61 2f 62 # no room for the Property Length", {1, true}),
              failed(errc::malformed_packet));
    EXPECT_EQ(aliased("30 06 00 03 61 2f 62 05 # Property Length past the end", {1, true}),
              failed(errc::malformed_packet));
    EXPECT_EQ(aliased("30 06 00 09 61 2f 62 00 # topic length past the end", {1, true}),
              failed(errc::malformed_packet));
    const auto packet = annotated(hall);
    std::vector<std::byte> small(9);
    EXPECT_EQ(write_aliased_publish(packet, {1, false}, small).error(), errc::buffer_too_small);
    EXPECT_EQ(write_aliased_publish(std::span<const std::byte>(packet).first(10), {1, false}, small).error(),
              errc::invalid_argument)
        << "not one whole packet";
}

TEST(aliased_publish, a_layout_read_once_serves_many_rewrites) {
    const auto packet = annotated(hall);
    const auto layout = read_publish_layout(packet);
    ASSERT_TRUE(layout);
    EXPECT_EQ(layout->topic_at, 4u);
    EXPECT_EQ(layout->topic_size, 16u);
    EXPECT_EQ(layout->payload_at, 21u);
    for (const topic_alias_choice c : {topic_alias_choice{1, true}, topic_alias_choice{9, false}}) {
        const auto size = aliased_publish_size(packet, *layout, c);
        ASSERT_TRUE(size);
        std::vector<std::byte> a(size->size), b(size->size);
        ASSERT_TRUE(write_aliased_publish(packet, *layout, c, a));
        ASSERT_TRUE(write_aliased_publish(packet, c, b));
        EXPECT_EQ(to_hex(a), to_hex(b));
    }
    EXPECT_EQ(aliased_publish_size(packet, *layout, {0, true}).error(), errc::invalid_argument);
}

constexpr bool rewrites_at_compile_time() {
    const std::byte p[] = {std::byte{0x30}, std::byte{0x06}, std::byte{0x00}, std::byte{0x02},
                           std::byte{'a'},  std::byte{'b'},  std::byte{0x00}, std::byte{'x'}};
    std::byte out[16]{};
    const auto w = write_aliased_publish(p, {5, false}, out);
    return w && w->size == 9 && out[1] == std::byte{0x07} && out[3] == std::byte{0} &&
           out[4] == std::byte{3} && out[5] == std::byte{0x23} && out[7] == std::byte{5};
}
static_assert(rewrites_at_compile_time());

// ---------------------------------------------------------------------------------------------
// The policy

session_limits alias_limits(std::uint16_t n) {
    return {.aliases_out = n, .alias_bytes_out = static_cast<std::uint32_t>(n) * 32u};
}

TEST(topic_alias_sender, MQTT5_3_1_2_27_none_when_the_peer_allows_none) {
    const storage st{alias_limits(4)};
    topic_alias_sender<storage> a(st);
    a.start(0);
    EXPECT_EQ(a.usable(), 0);
    EXPECT_EQ(a.choose(bytes("a/b")).alias, 0);
}

TEST(topic_alias_sender, MQTT5_3_1_2_26_never_above_the_peers_maximum_then_least_recent_replaced) {
    const storage st{alias_limits(8)};
    topic_alias_sender<storage> a(st);
    a.start(2);
    EXPECT_EQ(a.usable(), 2);
    const auto x = a.choose(bytes("t/x"));
    const auto y = a.choose(bytes("t/y"));
    EXPECT_EQ(x.alias, 1);
    EXPECT_TRUE(x.with_topic);
    EXPECT_EQ(y.alias, 2);
    const auto x2 = a.choose(bytes("t/x")); // x is now the most recent
    EXPECT_EQ(x2.alias, 1);
    EXPECT_FALSE(x2.with_topic);
    const auto z = a.choose(bytes("t/z"));
    EXPECT_EQ(z.alias, 2) << "y was least recently used";
    EXPECT_TRUE(z.with_topic);
    EXPECT_TRUE(a.choose(bytes("t/y")).with_topic) << "y lost its alias";
}

TEST(topic_alias_sender, capped_by_policy_and_storage) {
    const storage st{alias_limits(3)};
    topic_alias_sender<storage> by_storage(st);
    by_storage.start(100);
    EXPECT_EQ(by_storage.usable(), 3);
    topic_alias_sender<storage> by_policy(st, {.maximum = 1});
    by_policy.start(100);
    EXPECT_EQ(by_policy.usable(), 1);
    topic_alias_sender<storage> none(storage{});
    none.start(100);
    EXPECT_EQ(none.usable(), 0) << "no aliases_out in the storage";
}

TEST(topic_alias_sender, short_topics_go_by_name) {
    const storage st{alias_limits(4)};
    topic_alias_sender<storage> a(st, {.min_topic_length = 8});
    a.start(4);
    EXPECT_EQ(a.choose(bytes("a/b/c/d")).alias, 0) << "7 bytes";
    EXPECT_EQ(a.choose(bytes("a/b/c/de")).alias, 1) << "8 bytes";
}

TEST(topic_alias_sender, without_replacement_the_first_topics_keep_their_aliases) {
    const storage st{alias_limits(4)};
    topic_alias_sender<storage> a(st, {.replace = false});
    a.start(2);
    EXPECT_EQ(a.choose(bytes("t/1")).alias, 1);
    EXPECT_EQ(a.choose(bytes("t/2")).alias, 2);
    EXPECT_EQ(a.choose(bytes("t/3")).alias, 0) << "by name: no alias is taken from t/1 or t/2";
    EXPECT_EQ(a.choose(bytes("t/1")).alias, 1);
    EXPECT_FALSE(a.choose(bytes("t/2")).with_topic);
}

TEST(topic_alias_sender, topics_longer_than_a_slot_go_by_name) {
    const storage st{alias_limits(2)}; // 32 bytes a slot
    topic_alias_sender<storage> a(st);
    a.start(2);
    EXPECT_EQ(a.choose(bytes(std::string(33, 'x'))).alias, 0);
    EXPECT_EQ(a.choose(bytes(std::string(32, 'x'))).alias, 1);
}

TEST(topic_alias_sender, MQTT5_3_3_2_7_a_new_connection_and_an_unsent_mapping_start_over) {
    const storage st{alias_limits(4)};
    topic_alias_sender<storage> a(st);
    a.start(4);
    EXPECT_TRUE(a.choose(bytes("t/1")).with_topic);
    EXPECT_FALSE(a.choose(bytes("t/1")).with_topic);
    a.start(4);
    EXPECT_TRUE(a.choose(bytes("t/1")).with_topic) << "the new connection learns it again";
    a.not_sent(bytes("t/1"));
    EXPECT_TRUE(a.choose(bytes("t/1")).with_topic) << "the peer never received the mapping";
}

// ---------------------------------------------------------------------------------------------
// The server role

// CONNECT 5.0, Client Identifier "pc", Topic Alias Maximum 2.
constexpr std::string_view connect_tam2 =
    "10 12 00 04 4d 51 54 54 05 02 00 3c 03 22 00 02 00 02 70 63";

struct server_alias_test : ::testing::Test {
    storage st{session_limits{.inflight = 4, .requests = 0, .inbound_qos2 = 4, .input_bytes = 1024,
                              .output_bytes = 1024, .resend_bytes = 1024, .aliases_out = 4,
                              .alias_bytes_out = 128}};
    session_state<storage> state{st};
    std::optional<server<storage>> s;

    void connect(std::string_view connect_bytes, server_options o = {}) {
        s.emplace(0ms, o, st);
        in(*s, connect_bytes);
        ASSERT_EQ(describe(s->next(0ms)), "connect_request");
        ASSERT_EQ(s->accept(state), errc::success);
        (void)out(*s);
    }
    result<std::uint16_t> pub(qos q, std::string_view topic, std::string_view payload) {
        return publish_text(*s, q, topic, payload);
    }
};

TEST_F(server_alias_test, MQTT5_3_3_2_12_publish_sets_then_uses_an_alias) {
    connect(connect_tam2);
    ASSERT_TRUE(pub(qos::at_most_once, "a/b", "1"));
    ASSERT_TRUE(pub(qos::at_most_once, "a/b", "2"));
    EXPECT_EQ(out(*s), bytes_of("30 0a 00 03 61 2f 62 03 23 00 01 31 # a/b = alias 1\n"
                                "30 07 00 00 03 23 00 01 32 # alias 1 alone"));
}

TEST_F(server_alias_test, MQTT5_3_1_2_26_publish_encoded_is_rewritten_within_the_maximum) {
    connect(connect_tam2);
    const auto encoded = [](std::string_view topic) {
        publish_view p;
        p.qos = qos::at_least_once;
        p.packet_id = 1;
        p.topic = topic;
        p.payload = "x";
        std::vector<std::byte> b(encoded_size(p, protocol_version::v5).value());
        EXPECT_TRUE(encode(p, protocol_version::v5, b));
        return b;
    };
    const auto a = encoded("a/a"), b = encoded("a/b"), c = encoded("a/c");
    EXPECT_EQ(s->publish_encoded(a, 0ms).value(), 1);
    EXPECT_EQ(s->publish_encoded(b, 0ms).value(), 2);
    EXPECT_EQ(s->publish_encoded(a, 0ms).value(), 3);
    EXPECT_EQ(s->publish_encoded(c, 0ms).value(), 4);
    EXPECT_EQ(out(*s), bytes_of("32 0c 00 03 61 2f 61 00 01 03 23 00 01 78 # a/a = 1, id 1\n"
                                "32 0c 00 03 61 2f 62 00 02 03 23 00 02 78 # a/b = 2, id 2\n"
                                "32 09 00 00 00 03 03 23 00 01 78 # alias 1, id 3\n"
                                "32 0c 00 03 61 2f 63 00 04 03 23 00 02 78 # a/c replaces a/b"));
}

TEST_F(server_alias_test, MQTT5_3_1_2_27_no_alias_for_a_client_that_allows_none) {
    connect("10 0f 00 04 4d 51 54 54 05 02 00 3c 00 00 02 70 63");
    ASSERT_TRUE(pub(qos::at_most_once, "a/b", "1"));
    ASSERT_TRUE(pub(qos::at_most_once, "a/b", "2"));
    EXPECT_EQ(out(*s), "30 07 00 03 61 2f 62 00 31 30 07 00 03 61 2f 62 00 32");
}

TEST_F(server_alias_test, no_alias_before_5_0_or_when_the_policy_says_none) {
    connect("10 0e 00 04 4d 51 54 54 04 02 00 3c 00 02 70 63");
    ASSERT_TRUE(pub(qos::at_most_once, "a/b", "1"));
    EXPECT_EQ(out(*s), "30 06 00 03 61 2f 62 31");
    connect(connect_tam2, {.topic_aliases_out = {.maximum = 0}});
    ASSERT_TRUE(pub(qos::at_most_once, "a/b", "1"));
    EXPECT_EQ(out(*s), "30 07 00 03 61 2f 62 00 31");
    connect(connect_tam2, {.topic_aliases_out = {.min_topic_length = 4}});
    ASSERT_TRUE(pub(qos::at_most_once, "a/b", "1"));
    EXPECT_EQ(out(*s), "30 07 00 03 61 2f 62 00 31") << "3 bytes, below the minimum length";
}

TEST_F(server_alias_test, MQTT5_3_3_2_7_resent_after_reconnect_by_name) {
    connect(connect_tam2);
    ASSERT_EQ(pub(qos::at_least_once, "a/b", "1").value(), 1);
    EXPECT_EQ(out(*s), bytes_of("32 0c 00 03 61 2f 62 00 01 03 23 00 01 31"));
    s->transport_closed(0ms);
    EXPECT_EQ(s->next(0ms).kind, event_kind::closed);
    // CONNECT again, Clean Start 0: the PUBLISH goes again with DUP, its topic, no alias.
    s.emplace(0ms, server_options{}, st);
    in(*s, "10 12 00 04 4d 51 54 54 05 00 00 3c 03 22 00 02 00 02 70 63");
    ASSERT_EQ(describe(s->next(0ms)), "connect_request");
    ASSERT_EQ(s->accept(state, {.session_present = true}), errc::success);
    EXPECT_EQ(out(*s), bytes_of("20 0b 01 00 08 21 00 04 27 00 00 04 00 # CONNACK, present\n"
                                "3a 09 00 03 61 2f 62 00 01 00 31 # DUP, by name"));
}

TEST_F(server_alias_test, MQTT5_3_1_2_24_a_publish_that_setting_an_alias_makes_too_large_goes_by_name) {
    // Maximum Packet Size 13, Topic Alias Maximum 2.
    connect("10 17 00 04 4d 51 54 54 05 02 00 3c 08 27 00 00 00 0d 22 00 02 00 02 70 63");
    ASSERT_TRUE(pub(qos::at_most_once, "a/b", "12345")); // 13 bytes by name, 16 with the alias
    EXPECT_EQ(out(*s), "30 0b 00 03 61 2f 62 00 31 32 33 34 35");
    const auto encoded = annotated("30 0b 00 03 61 2f 62 00 31 32 33 34 35");
    ASSERT_TRUE(s->publish_encoded(encoded, 0ms));
    EXPECT_EQ(out(*s), "30 0b 00 03 61 2f 62 00 31 32 33 34 35") << "encoded: likewise";
}

} // namespace
} // namespace mqttwire::test
