// A client on fixed storage never allocates: every allocation of this test program is counted
// (allocation_count(): vectors_test.cpp replaces the global operator new), and a whole
// session's life runs between two readings of the counter: connect, subscribe, QoS 0/1/2 both ways, keep-alive, a lost
// connection, resend after reconnect, aliases both ways, DISCONNECT.

#include <gtest/gtest.h>

#include "session_support.hpp"

namespace mqttwire::test {
namespace {

// Feeds bytes and drains events without any allocating helper.
template <class C> std::size_t feed_all(C& c, std::span<const std::byte> b, ms now,
                                         std::size_t& messages) {
    std::size_t events = 0;
    while (!b.empty()) {
        const auto n = c.feed(b);
        b = b.subspan(n);
        for (auto ev = c.next(now); ev; ev = c.next(now)) {
            ++events;
            if (ev.kind == event_kind::message) ++messages;
        }
        c.output_written(c.output().size());
    }
    return events;
}

TEST(session_alloc, fixed_storage_client_never_allocates) {
    // Everything this test needs from the heap is prepared first.
    const auto connack5 = hex("20 06 00 00 03 22 00 02");
    const auto connack5_present = hex("20 06 01 00 03 22 00 02");
    const auto inbound = hex("30 0a 00 03 61 2f 62 03 23 00 01 31"  // alias 1 = a/b, QoS 0
                             "32 09 00 00 00 05 03 23 00 01 32"     // QoS 1 by alias
                             "34 09 00 00 00 06 03 23 00 01 33"     // QoS 2 by alias
                             "62 02 00 06"                          // PUBREL
                             "90 04 00 01 00 01"                    // SUBACK
                             "40 02 00 02 50 02 00 03 70 02 00 03"  // acks of our QoS 1 and 2
                             "d0 00");                              // PINGRESP
    const auto after_resume = hex("40 02 00 04");
    ASSERT_FALSE(connack5.empty());

    const std::size_t before = allocation_count();
    std::size_t messages = 0;
    std::size_t events = 0;
    {
        session_state<small_storage> state;
        client<small_storage> c(state);
        bool ok = c.connect({.version = protocol_version::v5, .client_id = "pc",
                             .clean_start = false, .keep_alive = 10, .session_expiry = 60},
                            0ms) == errc::success;
        c.output_written(c.output().size());
        events += feed_all(c, connack5, 0ms, messages);
        ok = ok && c.subscribe("a/#", qos::exactly_once, 0ms).has_value();
        publish_view p;
        p.topic = "x/y";
        p.payload = "z";
        p.qos = qos::at_least_once;
        ok = ok && c.publish(p, 0ms).has_value(); // id 2
        p.qos = qos::exactly_once;
        ok = ok && c.publish(p, 0ms).has_value(); // id 3, aliased
        events += feed_all(c, inbound, 1ms, messages);
        (void)c.next(10'001ms); // PINGREQ
        p.qos = qos::at_least_once;
        ok = ok && c.publish(p, 10'001ms).has_value(); // id 4, then the connection drops
        c.transport_closed(10'001ms);
        events += c.next(10'001ms) ? 1 : 0;
        ok = ok && c.connect({.version = protocol_version::v5, .client_id = "pc",
                              .clean_start = false, .keep_alive = 10, .session_expiry = 60},
                             10'002ms) == errc::success;
        c.output_written(c.output().size());
        events += feed_all(c, connack5_present, 10'002ms, messages); // resend of id 4
        events += feed_all(c, after_resume, 10'003ms, messages);
        ok = ok && c.disconnect() == errc::success;
        events += c.next(10'004ms) ? 1 : 0;
        ASSERT_TRUE(ok);
    }
    const std::size_t after = allocation_count();
    EXPECT_EQ(after - before, 0u) << "allocations during a fixed-storage client's life";
    EXPECT_EQ(messages, 3u);
    EXPECT_GE(events, 10u);
}

TEST(session_alloc, the_counter_sees_allocations) {
    // The test above could pass with a counter that counts nothing.
    const std::size_t before = allocation_count();
    dynamic_storage<> st(session_limits{});
    session_state<dynamic_storage<>> state(st);
    client<dynamic_storage<>> c(state, st);
    (void)c.connect({.version = protocol_version::v3_1_1, .client_id = "pc"}, 0ms);
    EXPECT_GT(allocation_count(), before) << "dynamic storage allocates its output buffer";
}

} // namespace
} // namespace mqttwire::test
