// Per-client bounds of the broker core, sans I/O: each test tries to exceed one bound and checks
// that the offender pays for it (dropped, paused, refused or disconnected, counted and logged
// once) while the others lose nothing. The same rows are run against the real broker process in
// tests/bounds_test.cpp.

#include <algorithm>
#include <numeric>
#include <set>

#include "broker_harness.hpp"

namespace {

std::string repeat_levels(std::size_t levels) {
    std::string t = "a";
    for (std::size_t i = 1; i < levels; ++i) t += "/a";
    return t;
}

std::size_t count_lines(const std::vector<std::string>& log, std::string_view needle) {
    return static_cast<std::size_t>(std::count_if(log.begin(), log.end(), [&](const auto& l) {
        return l.find(needle) != std::string::npos;
    }));
}

std::vector<publish_view> publishes(const std::vector<received>& got) {
    std::vector<publish_view> out;
    for (const auto& r : got)
        if (const auto* p = std::get_if<publish_view>(&r.packet)) out.push_back(*p);
    return out;
}

// Acknowledges every QoS 1 PUBLISH in `got` and returns how many there were.
std::size_t ack_all(harness& h, const client& c, const std::vector<received>& got) {
    std::size_t n = 0;
    for (const auto& p : publishes(got)) {
        if (p.qos != qos::at_least_once) continue;
        puback_view a;
        a.packet_id = p.packet_id;
        h.send(c, a);
        ++n;
    }
    return n;
}

std::size_t count_type(const std::vector<received>& got, packet_type t) {
    return static_cast<std::size_t>(std::count_if(
        got.begin(), got.end(), [t](const received& r) { return type_of(r.packet) == t; }));
}

client subscriber(harness& h, const std::string& id, const char* filter, qos q,
                  protocol_version v = protocol_version::v3_1_1, bool clean = true,
                  std::span<const property> props = {}) {
    const auto c = h.connect(id, v, clean, 0, props);
    (void)h.read(c);
    std::vector<subscription> st;
    h.send(c, subscribe_one(1, filter, q, st));
    (void)h.read(c);
    return c;
}

const std::string kilobyte(1000, 'x');

// A subscriber to "t" over its output bound (max_output_buffer `bound`, slow_consumer_timeout
// 2 s) that reads `per_step` bytes every half second while ten 1 KiB messages are published
// for it; returns the step at which it was disconnected, or `steps` when it never was.
struct reader_run {
    int closed_at;
    std::size_t disconnected; // the broker's slow_consumers_disconnected
    bool publisher_closed;
};
reader_run read_while_flooded(std::size_t bound, std::size_t per_step, int steps) {
    settings s;
    s.max_output_buffer = bound;
    s.slow_consumer_timeout = 2s;
    harness h(s);
    const auto reader = subscriber(h, "reader", "t", qos::at_most_once);
    const auto pub = h.connect("pub");
    (void)h.read(pub);
    int step = 0;
    for (; step < steps && !h.closing(reader); ++step) {
        for (int i = 0; i < 10; ++i) h.send(pub, make_publish("t", kilobyte.c_str()));
        h.read_bytes(reader, per_step);
        h.advance(500ms);
    }
    EXPECT_GT(h.core().stats().dropped_total(), 0u); // it was over its bound
    return {h.closing(reader) ? step : steps, h.core().stats().slow_consumers_disconnected,
            h.closing(pub)};
}

// `n` PINGREQs back to back (MQTT-3.12.1: 0xC0 0x00).
std::vector<std::byte> pingreqs(int n) {
    std::vector<std::byte> out;
    for (int i = 0; i < n; ++i) {
        out.push_back(std::byte{0xC0});
        out.push_back(std::byte{0x00});
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
// Output buffer and slow consumers

TEST(broker_limits, qos0_beyond_the_output_bound_is_dropped_for_that_client_only) {
    settings s;
    s.max_output_buffer = 4096;
    harness h(s);
    const auto stuck = subscriber(h, "stuck", "t/#", qos::at_most_once);
    const auto fine = subscriber(h, "fine", "t/#", qos::at_most_once);
    const auto pub = h.connect("pub");
    (void)h.read(pub);
    std::size_t fine_got = 0;
    for (int i = 0; i < 100; ++i) {
        h.send(pub, make_publish("t/x", kilobyte.c_str()));
        fine_got += publishes(h.read(fine)).size();
    }
    EXPECT_EQ(fine_got, 100u); // the bystander reads and loses nothing
    EXPECT_LE(h.unread(stuck), 4096u + 1100u); // at most one message beyond the bound
    const auto stuck_got = publishes(h.read(stuck)).size();
    EXPECT_EQ(h.core().stats().dropped[static_cast<std::size_t>(drop_reason::output_full)],
              100u - stuck_got);
    EXPECT_GE(stuck_got, 4u);
    EXPECT_EQ(count_lines(h.log_, "dropping QoS 0"), 1u); // one line per episode, not per message
    EXPECT_FALSE(h.closing(stuck));
    EXPECT_EQ(h.core().check_bounds(0), "");
}

TEST(broker_limits, consumer_stuck_over_its_bound_is_disconnected_with_0x97) {
    settings s;
    s.max_output_buffer = 4096;
    s.slow_consumer_timeout = 2s;
    harness h(s);
    const auto stuck = subscriber(h, "stuck", "t", qos::at_most_once, protocol_version::v5);
    const auto pub = h.connect("pub");
    (void)h.read(pub);
    for (int i = 0; i < 10; ++i) h.send(pub, make_publish("t", kilobyte.c_str()));
    h.advance(1500ms);
    EXPECT_FALSE(h.closing(stuck));
    h.advance(600ms);
    ASSERT_TRUE(h.closing(stuck));
    const auto got = h.read(stuck);
    ASSERT_FALSE(got.empty());
    const auto* d = std::get_if<disconnect_view>(&got.back().packet);
    ASSERT_NE(d, nullptr);
    EXPECT_EQ(d->reason, reason_code::quota_exceeded); // MQTT5-4.13.1-1 style: reason first
    EXPECT_EQ(h.core().stats().slow_consumers_disconnected, 1u);
    EXPECT_EQ(count_lines(h.log_, "no progress for 2000 ms"), 1u);
    EXPECT_FALSE(h.closing(pub));
}

TEST(broker_limits, slow_reader_making_progress_is_not_disconnected) {
    // 2000 bytes every half second: far slower than it is sent, but never stuck.
    const auto r = read_while_flooded(4096, 2000, 40);
    EXPECT_EQ(r.closed_at, 40);
    EXPECT_EQ(r.disconnected, 0u);
}

TEST(broker_limits, trickle_reader_over_its_bound_is_disconnected) {
    // A few bytes taken now and then (a client reading 100 bytes every half second, or the
    // kernel's buffers taking a little more from one that does not read at all) is not
    // progress: it would hold max_output_buffer for as long as it likes. Progress is taking
    // half the bound (at most 64 KiB) or all of it within slow_consumer_timeout.
    const auto r = read_while_flooded(8192, 100, 20);
    EXPECT_LE(r.closed_at, 6); // 2 s after it first went over its bound, at a half-second step
    EXPECT_EQ(r.disconnected, 1u);
    EXPECT_FALSE(r.publisher_closed);
}

TEST(broker_limits, reader_taking_one_gulp_then_nothing_is_disconnected) {
    // The kernel's buffers can take a few hundred KiB at once from a client that never reads:
    // progress once, which brings its output under the bound. It stays watched (its clock starts
    // again) until its output is down to half the bound, so it is still disconnected, and a
    // subscriber beside it loses nothing.
    settings s;
    s.max_output_buffer = 8192;
    s.slow_consumer_timeout = 2s;
    harness h(s);
    const auto gulp = subscriber(h, "gulp", "t", qos::at_most_once);
    const auto fine = subscriber(h, "fine", "t", qos::at_most_once);
    const auto pub = h.connect("pub");
    (void)h.read(pub);
    std::size_t fine_got = 0;
    for (int i = 0; i < 12; ++i) {
        h.send(pub, make_publish("t", kilobyte.c_str()));
        fine_got += publishes(h.read(fine)).size();
    }
    ASSERT_GE(h.unread(gulp), 8192u); // over its bound
    h.advance(500ms);
    h.read_bytes(gulp, 4200);         // at least stall_progress (half the bound): progress
    EXPECT_LT(h.unread(gulp), 8192u); // under the bound, above half of it
    EXPECT_GT(h.unread(gulp), 4096u);
    h.advance(1500ms); // 2 s after it went over, but under 2 s since its progress
    EXPECT_FALSE(h.closing(gulp));
    h.advance(600ms);
    EXPECT_TRUE(h.closing(gulp));
    EXPECT_EQ(h.core().stats().slow_consumers_disconnected, 1u);
    EXPECT_EQ(count_lines(h.log_, "no progress for 2000 ms"), 1u);
    EXPECT_EQ(fine_got, 12u);
    EXPECT_FALSE(h.closing(fine));
    EXPECT_FALSE(h.closing(pub));
}

TEST(broker_limits, reader_draining_to_half_its_bound_is_no_longer_watched) {
    // The other side of the rule above: once its output is down to half the bound, the stall is
    // over, and a client that then reads nothing more is not disconnected.
    settings s;
    s.max_output_buffer = 8192;
    s.slow_consumer_timeout = 2s;
    harness h(s);
    const auto reader = subscriber(h, "reader", "t", qos::at_most_once);
    const auto pub = h.connect("pub");
    (void)h.read(pub);
    for (int i = 0; i < 12; ++i) h.send(pub, make_publish("t", kilobyte.c_str()));
    ASSERT_GE(h.unread(reader), 8192u);
    h.read_bytes(reader, h.unread(reader) - 4000); // 4000 bytes left: under half the bound
    h.advance(5s);
    EXPECT_FALSE(h.closing(reader));
    EXPECT_EQ(h.core().stats().slow_consumers_disconnected, 0u);
}

TEST(broker_limits, pingreq_flood_without_reading_pauses_only_that_client) {
    // MQTT-3.12.4-1: every PINGREQ is answered, but not faster than the client reads.
    settings s;
    s.max_output_buffer = 4096;
    harness h(s);
    const auto flood = h.connect("flood");
    (void)h.read(flood);
    const auto other = h.connect("other");
    (void)h.read(other);
    const auto pings = pingreqs(10000);
    h.send_bytes(flood, pings);
    h.settle();
    EXPECT_FALSE(h.reading(flood));                 // the loop stops reading it
    EXPECT_LE(h.unread(flood), 4096u + 2u);         // PINGRESPs up to the bound
    EXPECT_LE(h.core().buffered_bytes(), 4096u + 20000u + 2u);
    h.send(other, pingreq_view{});                  // others are answered at once
    EXPECT_EQ(h.read(other).size(), 1u);
    std::size_t answered = 0;
    for (int round = 0; round < 20 && answered < 10000; ++round) {
        answered += count_type(h.read(flood), packet_type::pingresp);
        h.settle(); // it read: its held PINGREQs are processed
    }
    EXPECT_EQ(answered, 10000u);
    EXPECT_TRUE(h.reading(flood));
}

TEST(broker_limits, retained_resubscribe_without_reading_is_bounded) {
    // 100 retained 64 KiB messages, re-subscribed 10 times by a client that never reads.
    settings s;
    s.max_output_buffer = 1u << 20;
    harness h(s);
    const auto pub = h.connect("pub");
    (void)h.read(pub);
    const std::string big(64 * 1024, 'r');
    for (int i = 0; i < 100; ++i) {
        const std::string topic = "r/" + std::to_string(i);
        h.send(pub, make_publish(topic.c_str(), big.c_str(), qos::at_most_once, 0, true));
    }
    ASSERT_EQ(h.core().retained_count(), 100u);
    const auto c = h.connect("greedy");
    (void)h.read(c);
    std::vector<subscription> st;
    for (std::uint16_t i = 1; i <= 10; ++i) h.send(c, subscribe_one(i, "r/#", qos::at_most_once, st));
    EXPECT_LE(h.unread(c), (1u << 20) + 2 * 66000u);
    EXPECT_GT(h.core().stats().dropped[static_cast<std::size_t>(drop_reason::output_full)], 0u);
    EXPECT_FALSE(h.reading(c)); // its later SUBSCRIBEs wait until it reads
    EXPECT_EQ(h.core().check_bounds(0), "");
}

// ---------------------------------------------------------------------------------------------
// In flight and packet identifiers

TEST(broker_limits, v5_client_without_receive_maximum_gets_max_inflight_messages) {
    // MQTT5-3.3.4-9 (never above the client's Receive Maximum, 65,535 when absent) and
    // max_inflight_messages below it.
    harness h; // max_inflight_messages 20
    const auto sub = subscriber(h, "sub", "t", qos::at_least_once, protocol_version::v5);
    const auto pub = h.connect("pub");
    (void)h.read(pub);
    for (std::uint16_t i = 1; i <= 50; ++i)
        h.send(pub, make_publish("t", "m", qos::at_least_once, i));
    const auto got = h.read(sub);
    EXPECT_EQ(publishes(got).size(), 20u);
    EXPECT_EQ(ack_all(h, sub, got), 20u);
    EXPECT_EQ(publishes(h.read(sub)).size(), 20u); // the next window, from the queue
}

TEST(broker_limits, receive_maximum_below_max_inflight_wins) {
    harness h;
    const property rm[] = {{property_id::receive_maximum, 5}};
    const auto sub = subscriber(h, "sub", "t", qos::at_least_once, protocol_version::v5, true, rm);
    const auto pub = h.connect("pub");
    (void)h.read(pub);
    for (std::uint16_t i = 1; i <= 10; ++i)
        h.send(pub, make_publish("t", "m", qos::at_least_once, i));
    EXPECT_EQ(publishes(h.read(sub)).size(), 5u);
}

TEST(broker_limits, max_inflight_bytes_holds_large_messages_back) {
    settings s;
    s.max_inflight_bytes = 1500; // one 1000-byte message at a time (mosquitto semantics)
    harness h(s);
    const auto sub = subscriber(h, "sub", "t", qos::at_least_once);
    const auto pub = h.connect("pub");
    (void)h.read(pub);
    for (std::uint16_t i = 1; i <= 3; ++i)
        h.send(pub, make_publish("t", kilobyte.c_str(), qos::at_least_once, i));
    for (int i = 0; i < 3; ++i) {
        const auto got = h.read(sub);
        ASSERT_EQ(publishes(got).size(), 1u) << i;
        ack_all(h, sub, got);
    }
}

TEST(broker_limits, packet_identifiers_in_o1_when_only_the_newest_is_acknowledged) {
    // MQTT-2.3.1-1 / MQTT5-2.2.1-3: identifiers unique among those in flight. With every
    // identifier in use but one, the next PUBLISH gets exactly that one.
    settings s;
    s.max_inflight_messages = 0; // the client's Receive Maximum: 65,535
    s.max_queued_messages = 0;
    harness h(s);
    const auto sub = subscriber(h, "sub", "t", qos::at_least_once, protocol_version::v5);
    const auto pub = h.connect("pub");
    (void)h.read(pub);
    // The publisher's own packet identifier can be the same each time: every PUBLISH is
    // acknowledged before the next is processed.
    const auto one = make_publish("t", "m", qos::at_least_once, 1);
    std::vector<std::byte> wire(encoded_size(one, protocol_version::v3_1_1).value());
    ASSERT_TRUE(encode(one, protocol_version::v3_1_1, wire).has_value());
    const auto publish_one = [&] {
        h.send_bytes(pub, wire);
        (void)h.read(pub);
    };
    std::vector<std::byte> burst;
    for (int i = 0; i < 65535; ++i) burst.insert(burst.end(), wire.begin(), wire.end());
    h.send_bytes(pub, burst);
    h.settle(); // 256 packets per turn
    (void)h.read(pub);
    std::set<std::uint16_t> in_flight;
    for (const auto& p : publishes(h.read(sub))) EXPECT_TRUE(in_flight.insert(p.packet_id).second);
    ASSERT_EQ(in_flight.size(), 65535u);
    for (int round = 0; round < 200; ++round) {
        const std::uint16_t newest = static_cast<std::uint16_t>(1 + (round * 7919) % 65535);
        puback_view a;
        a.packet_id = newest;
        h.send(sub, a);
        publish_one();
        const auto got = publishes(h.read(sub));
        ASSERT_EQ(got.size(), 1u);
        EXPECT_EQ(got[0].packet_id, newest);
    }
}

// ---------------------------------------------------------------------------------------------
// Topics, subscriptions, CONNECT

TEST(broker_limits, subscription_deeper_than_max_topic_levels_is_refused) {
    // MQTT5-3.8.4-7: a failure code per refused filter (0x8F: correctly formed, not allowed);
    // MQTT-3.8.4-5: 3.1.1 has one failure code, 0x80.
    harness h; // max_topic_levels 200
    for (const auto v : {protocol_version::v5, protocol_version::v3_1_1}) {
        const auto c = h.connect(v == protocol_version::v5 ? "five" : "three", v);
        (void)h.read(c);
        const std::string ok = repeat_levels(200), deep = repeat_levels(201),
                          huge = repeat_levels(32768);
        const subscription entries[] = {{std::string_view(ok), {qos::at_most_once}},
                                        {std::string_view(deep), {qos::at_most_once}},
                                        {std::string_view(huge), {qos::at_most_once}}};
        subscribe_view sv;
        sv.packet_id = 1;
        sv.subscriptions = entries;
        h.send(c, sv);
        const auto a = h.only<suback_view>(c);
        const std::vector<reason_code> codes(a.reasons.begin(), a.reasons.end());
        const auto refused = v == protocol_version::v5 ? reason_code::topic_filter_invalid
                                                       : reason_code::unspecified_error;
        EXPECT_EQ(codes, (std::vector<reason_code>{reason_code::success, refused, refused}));
    }
    EXPECT_EQ(h.core().stats().subscriptions, 2u);
}

TEST(broker_limits, publish_deeper_than_max_topic_levels_is_refused) {
    harness h;
    const std::string deep = repeat_levels(201);
    const auto five = h.connect("five", protocol_version::v5);
    (void)h.read(five);
    h.send(five, make_publish(deep.c_str(), "x", qos::at_least_once, 1));
    EXPECT_EQ(h.only<puback_view>(five).reason, reason_code::topic_name_invalid); // 0x90
    h.send(five, make_publish(deep.c_str(), "x"));
    EXPECT_EQ(h.only<disconnect_view>(five).reason, reason_code::topic_name_invalid);
    EXPECT_TRUE(h.closing(five));
    const auto three = h.connect("three");
    (void)h.read(three);
    h.send(three, make_publish(deep.c_str(), "x", qos::at_least_once, 1));
    EXPECT_TRUE(h.closing(three)); // 3.1.1 cannot refuse a PUBLISH: the connection closes
    EXPECT_TRUE(h.read(three).empty());
}

TEST(broker_limits, subscriptions_per_client_are_bounded_in_count_and_bytes) {
    settings s;
    s.max_subscriptions = 3;
    s.max_subscription_bytes = 100;
    harness h(s);
    const auto c = h.connect("c", protocol_version::v5);
    (void)h.read(c);
    std::vector<subscription> st;
    std::vector<reason_code> codes;
    const auto sub = [&](const std::string& f) {
        static std::deque<std::string> keep;
        h.send(c, subscribe_one(1, keep.emplace_back(f).c_str(), qos::at_most_once, st));
        codes.push_back(h.only<suback_view>(c).reasons[0]);
    };
    sub("a");
    sub("b");
    sub("c");
    sub("d");                       // a fourth filter: 0x97 Quota exceeded
    sub("a");                       // the same filter again replaces: allowed at the cap
    EXPECT_EQ(codes, (std::vector<reason_code>{reason_code::success, reason_code::success,
                                               reason_code::success, reason_code::quota_exceeded,
                                               reason_code::success}));
    const auto d = h.connect("d", protocol_version::v5);
    (void)h.read(d);
    h.send(d, subscribe_one(1, std::string(90, 'x').c_str(), qos::at_most_once, st));
    EXPECT_EQ(h.only<suback_view>(d).reasons[0], reason_code::success);
    h.send(d, subscribe_one(2, std::string(20, 'y').c_str(), qos::at_most_once, st));
    EXPECT_EQ(h.only<suback_view>(d).reasons[0], reason_code::quota_exceeded); // 110 > 100 bytes
}

TEST(broker_limits, memory_before_connect_is_bounded_by_max_connect_size) {
    settings s;
    s.max_connect_size = 1024;
    harness h(s);
    // A fixed header announcing a 1 MB CONNECT is refused before its body is buffered.
    const auto c = h.open(protocol_version::v3_1_1);
    h.send_bytes(c, {std::byte{0x10}, std::byte{0x80}, std::byte{0x80}, std::byte{0x40}});
    EXPECT_TRUE(h.closing(c));
    EXPECT_LE(h.core().buffered_bytes(), 4u);
    // A CONNECT carrying a 2000-byte will is over the bound too; a small one is fine.
    const auto big = h.open(protocol_version::v3_1_1);
    connect_view p;
    p.client_id = "big";
    will_view w;
    w.topic = "lwt";
    const std::string payload(2000, 'w');
    w.payload = std::string_view(payload);
    p.will = w;
    h.send(big, p);
    EXPECT_TRUE(h.closing(big));
    const auto small = h.connect("small");
    EXPECT_EQ(h.only<connack_view>(small).reason, reason_code::success);
}

TEST(broker_limits, message_size_limit_completes_the_flow_without_forwarding) {
    settings s;
    s.message_size_limit = 100;
    harness h(s);
    const auto sub = subscriber(h, "sub", "t", qos::at_least_once);
    const auto five = h.connect("five", protocol_version::v5);
    (void)h.read(five);
    h.send(five, make_publish("t", std::string(200, 'x').c_str(), qos::at_least_once, 1));
    EXPECT_EQ(h.only<puback_view>(five).reason, reason_code::implementation_specific_error);
    const auto three = h.connect("three");
    (void)h.read(three);
    h.send(three, make_publish("t", std::string(200, 'x').c_str(), qos::at_least_once, 1));
    EXPECT_EQ(h.only<puback_view>(three).packet_id, 1);
    EXPECT_TRUE(h.read(sub).empty());
    h.send(three, make_publish("t", "small", qos::at_least_once, 2));
    (void)h.read(three);
    EXPECT_EQ(publishes(h.read(sub)).size(), 1u);
    EXPECT_EQ(h.core().stats().dropped[static_cast<std::size_t>(drop_reason::size_limit)], 2u);
}

// ---------------------------------------------------------------------------------------------
// Queues: offline drops, online flow control

TEST(broker_limits, offline_queue_over_its_bound_drops_with_one_log_line) {
    settings s;
    s.max_queued_messages = 100;
    harness h(s);
    auto sub = subscriber(h, "away", "t", qos::at_least_once, protocol_version::v3_1_1, false);
    h.lose(sub);
    const auto pub = h.connect("pub");
    (void)h.read(pub);
    for (int i = 0; i < 5000; ++i) {
        h.send(pub, make_publish("t", "m", qos::at_least_once, static_cast<std::uint16_t>(i % 65535 + 1)));
        if (i % 100 == 99) (void)h.read(pub);
    }
    EXPECT_EQ(h.core().stats().dropped[static_cast<std::size_t>(drop_reason::offline_queue_full)],
              4900u);
    EXPECT_EQ(count_lines(h.log_, "away: queue full"), 1u);
    sub = h.connect("away", protocol_version::v3_1_1, false);
    std::size_t got = 0;
    for (int round = 0; round < 20; ++round) {
        const auto r = h.read(sub);
        got += ack_all(h, sub, r);
    }
    EXPECT_EQ(got, 100u);
    EXPECT_EQ(h.core().check_bounds(0), "");
}

namespace {

// A QoS 1 publisher sends `total` messages at once to a subscriber whose queue holds 10 and
// window 2; returns the number of PUBACKs the publisher has after that burst.
struct flow_setup {
    harness h;
    client sub, pub;
    explicit flow_setup(settings s) : h(s) {
        sub = subscriber(h, "sub", "t", qos::at_least_once);
        pub = h.connect("pub");
        (void)h.read(pub);
    }
    void burst(int total) {
        std::vector<std::byte> all;
        for (int i = 1; i <= total; ++i) {
            const std::string body = "m" + std::to_string(i);
            const auto p = make_publish("t", body.c_str(), qos::at_least_once,
                                        static_cast<std::uint16_t>(i));
            std::vector<std::byte> buf(encoded_size(p, protocol_version::v3_1_1).value());
            (void)encode(p, protocol_version::v3_1_1, buf);
            all.insert(all.end(), buf.begin(), buf.end());
        }
        h.send_bytes(pub, all);
    }
};

settings flow_settings() {
    settings s;
    s.max_queued_messages = 10;
    s.max_inflight_messages = 2;
    s.slow_consumer_timeout = 2s;
    return s;
}

} // namespace

TEST(broker_limits, full_queue_holds_the_publisher_back_and_loses_nothing) {
    // No acknowledged QoS 1 message is lost for an online subscriber: the publisher's PUBACKs
    // come later instead (MQTT-4.3.2-2: PUBACK after ownership is taken).
    flow_setup f(flow_settings());
    f.burst(30);
    EXPECT_EQ(count_type(f.h.read(f.pub), packet_type::puback), 12u); // 2 in flight + 10 queued
    EXPECT_FALSE(f.h.reading(f.pub));
    EXPECT_EQ(f.h.core().stats().publishers_paused, 1u);
    std::vector<std::string> delivered;
    std::size_t acks = 12;
    for (int round = 0; round < 100 && delivered.size() < 30; ++round) {
        const auto got = f.h.read(f.sub);
        for (const auto& p : publishes(got)) delivered.push_back(payload_of(p));
        ack_all(f.h, f.sub, got);
        f.h.tick();
        acks += count_type(f.h.read(f.pub), packet_type::puback);
    }
    ASSERT_EQ(delivered.size(), 30u);
    for (int i = 0; i < 30; ++i) EXPECT_EQ(delivered[static_cast<std::size_t>(i)], "m" + std::to_string(i + 1));
    EXPECT_EQ(acks, 30u);
    EXPECT_EQ(f.h.core().stats().dropped_total(), 0u);
    EXPECT_TRUE(f.h.reading(f.pub));
}

TEST(broker_limits, queue_overflow_drop_acknowledges_at_once_and_counts) {
    settings s = flow_settings();
    s.overflow = queue_overflow::drop;
    flow_setup f(s);
    f.burst(30);
    EXPECT_EQ(count_type(f.h.read(f.pub), packet_type::puback), 30u);
    EXPECT_EQ(publishes(f.h.read(f.sub)).size(), 2u);
    EXPECT_EQ(f.h.core().stats().dropped[static_cast<std::size_t>(drop_reason::queue_full)], 18u);
    EXPECT_EQ(count_lines(f.h.log_, "sub: queue full"), 1u);
}

TEST(broker_limits, stuck_subscriber_holding_publishers_is_disconnected_in_time) {
    flow_setup f(flow_settings());
    f.burst(30);
    (void)f.h.read(f.pub);
    (void)f.h.read(f.sub); // reads, never acknowledges
    f.h.advance(1500ms);
    EXPECT_FALSE(f.h.reading(f.pub));
    EXPECT_FALSE(f.h.closing(f.sub));
    f.h.advance(600ms);
    EXPECT_TRUE(f.h.closing(f.sub));
    f.h.tick();
    EXPECT_TRUE(f.h.reading(f.pub)); // held no longer than the slow-consumer timeout
    EXPECT_EQ(count_type(f.h.read(f.pub), packet_type::puback), 18u);
}

// ---------------------------------------------------------------------------------------------
// Timers

TEST(broker_limits, idle_sessions_have_no_timers) {
    harness h;
    for (int i = 0; i < 1000; ++i) {
        const auto c = h.connect("idle-" + std::to_string(i), protocol_version::v3_1_1, false);
        (void)h.read(c);
        h.lose(c); // kept forever (no persistent_client_expiration): nothing to wake up for
    }
    h.advance(11s); // the CONNECT timeouts of the connections that came and went have passed
    EXPECT_EQ(h.core().session_count(), 1000u);
    EXPECT_LE(h.core().timer_count(), 1u); // broker housekeeping only
    const auto next = h.core().next_deadline();
    ASSERT_TRUE(next.has_value());
    EXPECT_GE(*next - h.now, 8s);
}

TEST(broker_limits, tiny_packets_get_a_bounded_share_of_each_turn) {
    // 10,000 PINGREQs in one read: 256 are answered this turn, the rest in later turns, and
    // meanwhile the loop does not read more from that client.
    harness h;
    const auto c = h.connect("pinger");
    (void)h.read(c);
    const auto pings = pingreqs(10000);
    h.send_bytes(c, pings);
    EXPECT_EQ(count_type(h.read(c), packet_type::pingresp), 256u);
    EXPECT_FALSE(h.reading(c));
    h.settle();
    EXPECT_EQ(count_type(h.read(c), packet_type::pingresp), 10000u - 256u);
    EXPECT_TRUE(h.reading(c));
}

TEST(broker_limits, keep_alive_traffic_does_not_grow_the_timer_heap) {
    harness h;
    std::vector<client> cs;
    for (int i = 0; i < 100; ++i) {
        cs.push_back(h.connect("ka-" + std::to_string(i), protocol_version::v3_1_1, true, 10));
        (void)h.read(cs.back());
    }
    for (int round = 0; round < 100; ++round) {
        for (const auto& c : cs) h.send(c, pingreq_view{});
        h.advance(1s);
        for (const auto& c : cs) (void)h.read(c);
    }
    EXPECT_LE(h.core().timer_count(), 2 * cs.size() + 2);
    for (const auto& c : cs) EXPECT_FALSE(h.closing(c));
}

} // namespace
