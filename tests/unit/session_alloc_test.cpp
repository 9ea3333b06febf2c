// A client on fixed storage never allocates: every allocation of this test program is counted
// (allocation_count(): vectors_test.cpp replaces the global operator new), and a whole
// session's life runs between two readings of the counter: connect, subscribe, QoS 0/1/2 both ways, keep-alive, a lost
// connection, resend after reconnect, aliases both ways, DISCONNECT.

#include <gtest/gtest.h>

#include <array>
#include <memory>
#include <vector>

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


// An allocator that counts the blocks and bytes it holds, for what an idle connection keeps.
struct held {
    std::size_t blocks = 0;
    std::size_t bytes = 0;
    std::size_t allocations = 0; ///< ever made
};
template <class T> struct counting_allocator {
    using value_type = T;
    held* h;
    explicit counting_allocator(held* to) noexcept : h(to) {}
    template <class U> counting_allocator(const counting_allocator<U>& o) noexcept : h(o.h) {}
    T* allocate(std::size_t n) {
        ++h->blocks;
        ++h->allocations;
        h->bytes += n * sizeof(T);
        return std::allocator<T>().allocate(n);
    }
    void deallocate(T* p, std::size_t n) noexcept {
        --h->blocks;
        h->bytes -= n * sizeof(T);
        std::allocator<T>().deallocate(p, n);
    }
    template <class U> bool operator==(const counting_allocator<U>& o) const noexcept {
        return h == o.h;
    }
};

// What an accepted connection keeps while idle: its input buffer and the decoded packet (views
// into that input) go as soon as the input drains, the alias tables are not allocated until an
// alias is used, and the output buffer goes once written: nothing at all. The packets here come
// seconds apart (a connection whose packets come less than a second apart keeps its buffers
// until it is quiet: a_frequent_sender_keeps_its_buffers_until_it_is_quiet).
TEST(session_alloc, idle_server_connection_keeps_nothing_allocated) {
    held h;
    using counted = dynamic_storage<counting_allocator<std::byte>>;
    const counted st(session_limits{.inbound_qos2 = 20,
                                    .resend_bytes = 0,
                                    .aliases_in = 10,
                                    .alias_bytes_in = 640,
                                    .aliases_out = 10,
                                    .alias_bytes_out = 640},
                     counting_allocator<std::byte>(&h));
    held state_held; // the session state's tables are counted apart
    const counted state_st(st.limits(), counting_allocator<std::byte>(&state_held));
    session_state<counted> state(state_st);
    server<counted> s(0ms, {}, st);
    // CONNECT 5.0 "pc", keep alive 60, Topic Alias Maximum 10.
    const auto connect = hex("10 12 00 04 4d 51 54 54 05 00 00 3c 03 22 00 0a 00 02 70 63");
    ASSERT_EQ(s.feed(connect), connect.size());
    EXPECT_EQ(h.blocks, 1u); // the input
    const auto ev = s.next(0ms);
    ASSERT_EQ(ev.kind, event_kind::connect_request);
    EXPECT_EQ(h.blocks, 3u); // and the decoded CONNECT accept() reads, and room for CONNACK
    ASSERT_EQ(s.accept(state), errc::success);
    EXPECT_EQ(s.next(0ms).kind, event_kind::none); // the input drained: both released
    s.output_written(s.output().size());
    EXPECT_EQ(h.blocks, 0u);
    EXPECT_EQ(h.bytes, 0u);

    // A QoS 1 message, seconds later: held while its event is current, released once the input
    // drains again.
    const auto pub = hex("32 0a 00 03 61 2f 62 00 01 00 68 69");
    ASSERT_EQ(s.feed(pub), pub.size());
    const auto m = s.next(2000ms);
    ASSERT_EQ(m.kind, event_kind::message);
    EXPECT_EQ(m.message->topic.as_string_view(), "a/b");
    EXPECT_EQ(s.next(2000ms).kind, event_kind::none);
    s.output_written(s.output().size());
    EXPECT_EQ(h.blocks, 0u);

    // Held (a broker pausing its publisher) and taken again: the replay counts as traffic, so the
    // buffers stay until no packet came for a second, then go back.
    ASSERT_EQ(s.feed(pub), pub.size());
    ASSERT_EQ(s.next(4000ms).kind, event_kind::message);
    EXPECT_EQ(s.hold_input(), errc::success); // reads the decoded packet
    s.resume_input();
    ASSERT_EQ(s.next(4000ms).kind, event_kind::message); // the same message again
    EXPECT_EQ(s.next(4000ms).kind, event_kind::none);
    s.output_written(s.output().size());
    ASSERT_TRUE(s.deadline().has_value());
    EXPECT_EQ(*s.deadline(), 5000ms);
    EXPECT_EQ(s.next(5000ms).kind, event_kind::none);
    EXPECT_EQ(h.blocks, 0u);

    // An inbound alias allocates the alias table; it goes with the connection.
    const auto aliased = hex("30 0a 00 03 61 2f 62 03 23 00 01 31");
    ASSERT_EQ(s.feed(aliased), aliased.size());
    ASSERT_EQ(s.next(7000ms).kind, event_kind::message);
    EXPECT_EQ(s.next(7000ms).kind, event_kind::none);
    EXPECT_GT(h.blocks, 0u);
    (void)s.disconnect(reason_code::success);
    EXPECT_EQ(s.next(7000ms).kind, event_kind::closed);
    s.output_written(s.output().size());
    EXPECT_EQ(h.blocks, 0u);
}

// A server on allocator-backed storage whose every allocation is counted in `h`.
struct counted_server {
    using counted = dynamic_storage<counting_allocator<std::byte>>;
    held h;
    const counted st{session_limits{.inbound_qos2 = 20, .resend_bytes = 0},
                     counting_allocator<std::byte>(&h)};
    session_state<counted> state{st};
    server<counted> s{0ms, {}, st};
};

// Accepts the 3.1.1 CONNECT of client "pcpc" and writes the CONNACK.
template <class Server, class State> void accept_connect(Server& s, State& state) {
    const auto connect = hex("10 10 00 04 4d 51 54 54 04 02 00 3c 00 04 70 63 70 63"); // 3.1.1
    ASSERT_EQ(s.feed(connect), connect.size());
    ASSERT_EQ(s.next(0ms).kind, event_kind::connect_request);
    ASSERT_EQ(s.accept(state), errc::success);
    EXPECT_EQ(s.next(0ms).kind, event_kind::none);
    s.output_written(s.output().size());
}

// Appends `p` encoded for 3.1.1, as a client sends it.
void append_publish(std::vector<std::byte>& to, const publish_view& p) {
    const auto size = encoded_size(p, protocol_version::v3_1_1);
    ASSERT_TRUE(size.has_value());
    const std::size_t at = to.size();
    to.resize(at + *size);
    ASSERT_TRUE(encode(p, protocol_version::v3_1_1, std::span<std::byte>(to).subspan(at)).has_value());
}

// `n` quiet rounds a keep-alive period (60 s) apart: a PINGREQ in, its PINGRESP out and
// written (MQTT-3.12.4-1).
template <class Server> void keep_alive_exchanges(Server& s, int n) {
    const auto pingreq = hex("c0 00");
    for (int i = 0; i < n; ++i) {
        ASSERT_EQ(s.feed(pingreq), pingreq.size());
        EXPECT_EQ(s.next(std::chrono::minutes(i + 1)).kind, event_kind::none);
        EXPECT_EQ(s.output().size(), 2u) << "PINGRESP";
        s.output_written(2);
    }
}

// A busy connection keeps its output buffer between batches (drained after 1 KiB or more, up to
// 256 KiB kept), so it does not allocate and grow it again for every batch; small exchanges (a
// PINGREQ and its PINGRESP) after it give the buffer back, so a connection that goes quiet
// keeps nothing.
TEST(session_alloc, output_buffer_is_kept_between_batches_and_given_back_when_quiet) {
    counted_server c;
    auto& h = c.h;
    auto& s = c.s;
    accept_connect(s, c.state);
    ASSERT_EQ(h.blocks, 0u) << "a CONNACK alone: nothing kept";

    publish_view p;
    p.topic = "sensors/kitchen/temperature";
    p.payload = "21.5 degrees, humidity 40 percent";
    const auto batch = [&] {
        for (int i = 0; i < 30; ++i) ASSERT_TRUE(s.publish(p, 1ms).has_value()); // 64 bytes each
        ASSERT_GE(s.output().size(), 1024u);
        s.output_written(s.output().size());
    };
    batch();
    EXPECT_EQ(h.blocks, 1u) << "the output buffer, kept after a batch of 1,920 bytes";
    const std::size_t allocations = h.allocations;
    batch();
    batch();
    EXPECT_EQ(h.allocations, allocations) << "later batches reuse it";

    // Quiet: three small exchanges (keep-alive) after the last large batch, and nothing is kept.
    keep_alive_exchanges(s, 3);
    EXPECT_EQ(h.blocks, 0u) << "drained after small exchanges: given back";
}

// The small side of a one-way flow: a publisher's batches of QoS 1 PUBLISHes are large, the
// PUBACKs that answer them small. The output buffer is kept while the input is busy, so the
// acknowledgements of each batch do not allocate it again; quiet exchanges give both back.
TEST(session_alloc, acknowledgements_of_a_busy_publisher_reuse_the_output_buffer) {
    counted_server c;
    auto& h = c.h;
    auto& s = c.s;
    accept_connect(s, c.state);
    ASSERT_EQ(h.blocks, 0u);

    // 32 PUBLISHes of 40 bytes each (QoS 1), fed as one batch of 1,280 bytes.
    std::vector<std::byte> batch_bytes;
    std::uint16_t id = 1;
    const auto make_batch = [&] {
        batch_bytes.clear();
        for (int i = 0; i < 32; ++i, ++id) {
            publish_view p;
            p.qos = qos::at_least_once;
            p.packet_id = id;
            p.topic = "sensors/hall/motion";
            p.payload = "on, lux 120";
            append_publish(batch_bytes, p);
        }
        ASSERT_GE(batch_bytes.size(), 1024u);
    };
    const auto run_batch = [&] {
        make_batch();
        ASSERT_EQ(s.feed(batch_bytes), batch_bytes.size());
        std::size_t messages = 0;
        for (auto ev = s.next(1ms); ev; ev = s.next(1ms))
            if (ev.kind == event_kind::message) ++messages;
        EXPECT_EQ(messages, 32u);
        EXPECT_EQ(s.output().size(), 32u * 4u) << "one PUBACK per PUBLISH (MQTT-4.3.2-2)";
        s.output_written(s.output().size());
    };
    run_batch();
    run_batch();
    const std::size_t allocations = h.allocations;
    run_batch();
    run_batch();
    // The buffers are not allocated again (nor, the batches being a millisecond apart, the
    // decoded packet's slot: a_frequent_sender_keeps_its_buffers_until_it_is_quiet).
    EXPECT_LE(h.allocations - allocations, 2u) << "busy: later batches reuse the buffers";

    keep_alive_exchanges(s, 3);
    EXPECT_EQ(h.blocks, 0u) << "three small exchanges both ways: nothing kept";
}

// A sensor publishing small QoS 1 messages a few milliseconds apart, each in a read of its own:
// no batch reaches 1 KiB, but its packets come less than a second apart, so the input buffer,
// the decoded-packet slot and the output buffer (its PUBACKs) are kept from one message to the
// next instead of being allocated three times per message. A second after its last packet,
// the deadline it reports, everything goes back.
TEST(session_alloc, a_frequent_sender_keeps_its_buffers_until_it_is_quiet) {
    counted_server c;
    auto& h = c.h;
    auto& s = c.s;
    accept_connect(s, c.state);
    ASSERT_EQ(h.blocks, 0u);

    std::chrono::milliseconds t = 5000ms;
    const auto one = [&](std::uint16_t id) {
        publish_view p;
        p.qos = qos::at_least_once;
        p.packet_id = id;
        p.topic = "sensors/hall/power";
        p.payload = "412.5";
        std::vector<std::byte> bytes;
        append_publish(bytes, p);
        ASSERT_EQ(s.feed(bytes), bytes.size());
        ASSERT_EQ(s.next(t).kind, event_kind::message);
        EXPECT_EQ(s.next(t).kind, event_kind::none);
        EXPECT_EQ(s.output().size(), 4u) << "PUBACK (MQTT-4.3.2-2)";
        s.output_written(s.output().size());
        t += 5ms;
    };
    one(1); // 5 s after the CONNECT: not frequent yet, given back as before
    EXPECT_EQ(h.blocks, 0u);
    one(2);
    const std::size_t allocations = h.allocations;
    for (std::uint16_t id = 3; id < 103; ++id) one(id);
    EXPECT_EQ(h.allocations, allocations) << "100 messages 5 ms apart: no allocation";
    EXPECT_EQ(h.blocks, 3u) << "input, decoded-packet slot, output";

    const auto last = t - 5ms;
    ASSERT_TRUE(s.deadline().has_value());
    EXPECT_EQ(*s.deadline(), last + 1000ms) << "before the keep-alive's " << (last + 90s).count();
    EXPECT_EQ(s.next(last + 999ms).kind, event_kind::none);
    EXPECT_EQ(h.blocks, 3u);
    EXPECT_EQ(s.next(last + 1000ms).kind, event_kind::none);
    EXPECT_EQ(h.blocks, 0u) << "quiet for a second: nothing kept";
    EXPECT_EQ(h.bytes, 0u);
    EXPECT_EQ(*s.deadline(), last + 90s) << "only the keep-alive (1.5 x 60 s) is left";
}

// A client without keep-alive that sends a burst of large batches and then nothing: the buffers
// its busy turns kept (up to 256 KiB each way, here the storage's 4 KiB input limit) go back a second after its last packet, not at
// its next exchanges, which may never come (Keep Alive 0 turns keep-alive off: no PINGREQ,
// MQTT 3.1.1 section 3.1.2.10).
TEST(session_alloc, a_burst_then_silence_gives_everything_back_without_keep_alive) {
    counted_server c;
    auto& h = c.h;
    auto& s = c.s;
    // CONNECT 3.1.1 "pcpc", Clean Session, Keep Alive 0.
    const auto connect = hex("10 10 00 04 4d 51 54 54 04 02 00 00 00 04 70 63 70 63");
    ASSERT_EQ(s.feed(connect), connect.size());
    ASSERT_EQ(s.next(0ms).kind, event_kind::connect_request);
    ASSERT_EQ(s.accept(c.state), errc::success);
    EXPECT_EQ(s.next(0ms).kind, event_kind::none);
    s.output_written(s.output().size());
    EXPECT_FALSE(s.deadline().has_value()) << "no keep-alive: no timer";

    // Three batches of 64 QoS 0 PUBLISHes of 1 KiB each, 10 ms apart.
    const std::string payload(1024, 'x');
    std::vector<std::byte> batch;
    for (int i = 0; i < 64; ++i) {
        publish_view p;
        p.topic = "camera/frames";
        p.payload = binary_view(std::as_bytes(std::span<const char>(payload)));
        append_publish(batch, p);
    }
    std::chrono::milliseconds t = 3000ms;
    for (int b = 0; b < 3; ++b, t += 10ms) {
        std::size_t messages = 0;
        // Fed as the input buffer's limit allows, as a transport's reads would bring it.
        for (auto rest = std::span<const std::byte>(batch); !rest.empty();) {
            const std::size_t n = s.feed(rest);
            ASSERT_GT(n, 0u);
            rest = rest.subspan(n);
            for (auto ev = s.next(t); ev; ev = s.next(t))
                if (ev.kind == event_kind::message) ++messages;
        }
        EXPECT_EQ(messages, 64u);
    }
    EXPECT_GE(h.bytes, 4096u) << "busy: the input buffer (this storage's limit) is kept";
    const auto last = t - 10ms;
    ASSERT_TRUE(s.deadline().has_value()) << "the kept buffers have a deadline";
    EXPECT_EQ(*s.deadline(), last + 1000ms);
    EXPECT_EQ(s.next(last + 1000ms).kind, event_kind::none);
    EXPECT_EQ(h.blocks, 0u);
    EXPECT_EQ(h.bytes, 0u);
    EXPECT_FALSE(s.deadline().has_value()) << "nothing kept: no timer again";
}

// Deferred acknowledgements: their table is allocated with the first `defer()` and freed when
// the last deferred acknowledgement is sent, so a connection that defers nothing keeps nothing.
TEST(session_alloc, deferred_acknowledgements_are_allocated_while_deferred) {
    held h;
    using counted = dynamic_storage<counting_allocator<std::byte>>;
    const counted st(session_limits{.inbound_qos2 = 20, .deferred_acks = 4, .resend_bytes = 0},
                     counting_allocator<std::byte>(&h));
    held state_held;
    const counted state_st(st.limits(), counting_allocator<std::byte>(&state_held));
    session_state<counted> state(state_st);
    server<counted> s(0ms, {}, st);
    const auto connect = hex("10 0e 00 04 4d 51 54 54 04 02 00 3c 00 02 70 63"); // 3.1.1 "pc"
    ASSERT_EQ(s.feed(connect), connect.size());
    ASSERT_EQ(s.next(0ms).kind, event_kind::connect_request);
    ASSERT_EQ(s.accept(state), errc::success);
    EXPECT_EQ(s.next(0ms).kind, event_kind::none);
    s.output_written(s.output().size());
    ASSERT_EQ(h.blocks, 0u);

    const auto pub = hex("32 09 00 03 61 2f 62 00 07 68 69"); // QoS 1, id 7
    ASSERT_EQ(s.feed(pub), pub.size());
    ASSERT_EQ(s.next(2000ms).kind, event_kind::message); // seconds after the CONNECT
    const auto id = s.defer();
    ASSERT_TRUE(id.has_value());
    EXPECT_EQ(*id, 7u);
    EXPECT_EQ(s.next(2000ms).kind, event_kind::none);
    EXPECT_EQ(s.deferred(), 1u);
    EXPECT_TRUE(s.output().empty());
    s.output_written(0); // gives back the output buffer the answer was to go to
    EXPECT_EQ(h.blocks, 2u); // the table and its slots
    ASSERT_EQ(s.acknowledge(7), errc::success);
    EXPECT_EQ(s.deferred(), 0u);
    s.output_written(s.output().size());
    EXPECT_EQ(h.blocks, 0u);
    EXPECT_EQ(h.bytes, 0u);
}

// The per-connection object a broker keeps for every network connection stays small (an idle
// connection holds no decoded packet, no alias table and no buffer inline). A ceiling about 10%
// above the figures measured on x86-64 (232 and 72 bytes; bench/session_bench.cpp,
// `server_idle_connection`).
static_assert(sizeof(void*) != 8 || sizeof(server<dynamic_storage<>>) <= 256);
static_assert(sizeof(void*) != 8 || sizeof(session_state<dynamic_storage<>>) <= 80);

} // namespace
} // namespace mqttwire::test
