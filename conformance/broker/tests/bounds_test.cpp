// One client must never hurt the others: the hostile and careless clients of the resource-bound
// table, each run against a real mqttwire-broker process with default settings (unless a row
// needs a setting to exist at all), with a bystander QoS 1 subscriber that must lose nothing
// and see no delivery delayed by more than 100 ms, and the broker's peak RSS (VmHWM, from
// /proc/PID/status) under a stated bound. A probe's delay counts what the broker made it wait,
// not the time the broker or the probe thread spent waiting for a CPU on a busy machine (both
// measured, see process_support.hpp). Sizes are scaled down from the table (2 GiB floods
// become hundreds of MiB) so the suite stays within CI time; the bounds do not scale with them.

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "process_support.hpp"

using namespace bounds_support;

namespace {

#if defined(MQTTWIRE_BROKER_SANITIZED)
// AddressSanitizer's shadow memory, redzones and allocator caches are resident too.
constexpr long rss_scale = 3;
constexpr long rss_slack_mb = 160;
#else
constexpr long rss_scale = 1;
constexpr long rss_slack_mb = 0;
#endif

/// The stated bound on the broker's peak RSS for a row, in MB (scaled for sanitizer builds).
long rss_bound_mb(long mb) { return mb * rss_scale + rss_slack_mb; }

void expect_bystander_unharmed(bystander& by) {
    const auto r = by.finish();
    EXPECT_GT(r.sent, 50u);
    EXPECT_EQ(r.lost(), 0u) << r.sent << " probes sent, " << r.received << " received";
    EXPECT_EQ(r.duplicates, 0u);
    EXPECT_LE(r.max_delay_ms, 100.0)
        << "slowest probe delivery attributed to the broker (" << r.max_raw_delay_ms
        << " ms as measured)";
}

void expect_peak_rss_below(const broker_process& b, long mb) {
    const long peak = b.peak_rss_kb();
    EXPECT_GT(peak, 0);
    EXPECT_LE(peak, rss_bound_mb(mb) * 1024)
        << "peak RSS " << peak / 1024 << " MB (started at " << b.baseline_rss_kb() / 1024
        << " MB)";
}

std::vector<std::byte> bytes(std::size_t n, char c = 'x') {
    return std::vector<std::byte>(n, static_cast<std::byte>(c));
}

std::string levels(std::size_t n) {
    std::string t = "a";
    for (std::size_t i = 1; i < n; ++i) t += "/a";
    return t;
}

// Sends `wire` again and again for up to `seconds` or `total` bytes; returns bytes sent.
std::size_t flood(client& c, const std::vector<std::byte>& wire, std::chrono::seconds seconds,
                  std::size_t total) {
    const auto end = steady::now() + seconds;
    std::size_t sent = 0;
    while (sent < total && steady::now() < end && c.send_all(wire)) sent += wire.size();
    return sent;
}

// ---------------------------------------------------------------------------------------------

TEST(broker_bounds, subscriber_to_everything_never_reading_during_a_qos0_flood) {
    // Row 1: subscribed to `#`, never read, while a large QoS 0 volume was published. QoS 0
    // beyond its output buffer is dropped for it alone (one log line), and once it has made no
    // progress for slow_consumer_timeout it is disconnected (one log line).
    broker_process b({"slow_consumer_timeout 3"});
    bystander by(b.port(), b.pid());
    client stuck(b.port(), protocol_version::v5, 4096);
    (void)stuck.connect("stuck");
    (void)stuck.subscribe("#", qos::at_most_once);
    client pub(b.port());
    (void)pub.connect("flooder");
    publish_view p;
    p.topic = "flood/data";
    const auto payload = bytes(64 * 1024);
    p.payload = binary_view(std::span<const std::byte>(payload));
    const auto wire = pub.encode_packet(p);
    const auto sent = flood(pub, wire, 8s, std::size_t{512} << 20);
    EXPECT_GE(sent, std::size_t{64} << 20);
    // Past the slow-consumer timeout. The stall began during the flood, which can end well
    // within those 3 s, and the timer's line can come late on a loaded machine: wait for it.
    std::this_thread::sleep_for(3500ms);
    const auto log = log_once_it_has(b, "stuck: no progress", 10s);
    expect_bystander_unharmed(by);
    expect_peak_rss_below(b, 64);
    EXPECT_EQ(count_lines(log, "stuck: output buffer full"), 1u) << log;
    EXPECT_EQ(count_lines(log, "stuck: no progress"), 1u) << log;
}

TEST(broker_bounds, resubscribing_to_large_retained_messages_without_reading) {
    // Row 2: re-SUBSCRIBEs to 100 retained 64 KiB messages, never reads.
    broker_process b({});
    client pub(b.port());
    (void)pub.connect("retainer");
    const auto payload = bytes(64 * 1024, 'r');
    for (int i = 0; i < 100; ++i) {
        const std::string topic = "retained/" + std::to_string(i);
        ASSERT_TRUE(pub.publish(topic, payload, qos::at_most_once, 0, true));
    }
    pub.send(pingreq_view{});
    ASSERT_TRUE(pub.expect(packet_type::pingresp)); // all 100 stored
    bystander by(b.port(), b.pid());
    client greedy(b.port(), protocol_version::v3_1_1, 4096);
    (void)greedy.connect("greedy");
    std::vector<std::byte> subs;
    for (std::uint16_t i = 1; i <= 1000; ++i) {
        const subscription s{utf8_view("retained/#"), {qos::at_most_once}};
        subscribe_view sv;
        sv.packet_id = i;
        sv.subscriptions = std::span<const subscription>(&s, 1);
        const auto one = greedy.encode_packet(sv);
        subs.insert(subs.end(), one.begin(), one.end());
    }
    // Its later SUBSCRIBEs wait in its socket: sent without blocking the test on them.
    ::fcntl(greedy.fd(), F_SETFL, O_NONBLOCK);
    std::size_t off = 0;
    const auto end = steady::now() + 3s;
    while (off < subs.size() && steady::now() < end) {
        const ssize_t n = ::send(greedy.fd(), subs.data() + off, subs.size() - off, MSG_NOSIGNAL);
        if (n > 0) off += static_cast<std::size_t>(n);
        else std::this_thread::sleep_for(10ms);
    }
    std::this_thread::sleep_for(1s);
    expect_bystander_unharmed(by);
    expect_peak_rss_below(b, 48);
}

TEST(broker_bounds, pingreq_flood_never_reading) {
    // Row 3: PINGREQ flood for seconds without reading a PINGRESP. Its requests wait in its own
    // socket once its output is at the bound.
    broker_process b({});
    bystander by(b.port(), b.pid());
    client c(b.port(), protocol_version::v3_1_1, 4096);
    (void)c.connect("pinger");
    ::fcntl(c.fd(), F_SETFL, O_NONBLOCK);
    std::vector<std::byte> wire;
    for (int i = 0; i < 32 * 1024; ++i) {
        wire.push_back(std::byte{0xC0});
        wire.push_back(std::byte{0x00});
    }
    std::size_t sent = 0;
    const auto end = steady::now() + 5s;
    while (steady::now() < end) {
        const ssize_t n = ::send(c.fd(), wire.data(), wire.size(), MSG_NOSIGNAL);
        if (n > 0) sent += static_cast<std::size_t>(n);
        else std::this_thread::sleep_for(5ms);
    }
    EXPECT_GT(sent, 1u << 20);
    expect_bystander_unharmed(by);
    expect_peak_rss_below(b, 32);
}

TEST(broker_bounds, reader_at_95_percent_of_the_publish_rate) {
    // Row 4: RSS follows the backlog (bounded by the output buffer), not the total sent.
    broker_process b({});
    bystander by(b.port(), b.pid());
    client sub(b.port());
    (void)sub.connect("slow-reader");
    (void)sub.subscribe("stream", qos::at_most_once);
    client pub(b.port());
    (void)pub.connect("streamer");
    const auto payload = bytes(64 * 1024);
    constexpr double rate = 40e6; // bytes per second published
    timeval tv{0, 200000};
    ::setsockopt(sub.fd(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::thread reader([&] {
        std::vector<std::byte> buf(64 * 1024);
        const auto start = steady::now();
        std::size_t taken = 0;
        while (steady::now() - start < 6500ms) {
            const double allowed =
                0.95 * rate * std::chrono::duration<double>(steady::now() - start).count();
            if (static_cast<double>(taken) >= allowed) {
                std::this_thread::sleep_for(2ms);
                continue;
            }
            const auto want = std::min(buf.size(), static_cast<std::size_t>(allowed) - taken);
            const ssize_t n = ::recv(sub.fd(), buf.data(), want, 0);
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) break;
            if (n < 0) continue;
            taken += static_cast<std::size_t>(n);
        }
    });
    const auto start = steady::now();
    std::size_t sent = 0;
    while (steady::now() - start < 6s) {
        const double due = rate * std::chrono::duration<double>(steady::now() - start).count();
        if (static_cast<double>(sent) >= due) {
            std::this_thread::sleep_for(1ms);
            continue;
        }
        ASSERT_TRUE(pub.publish("stream", payload));
        sent += payload.size();
    }
    reader.join();
    EXPECT_GE(sent, std::size_t{100} << 20); // far more than the output bound
    expect_bystander_unharmed(by);
    expect_peak_rss_below(b, 48);
    EXPECT_EQ(count_lines(b.log(), "slow-reader: no progress"), 0u); // it reads: kept
}

TEST(broker_bounds, v5_client_without_receive_maximum_gets_max_inflight_messages) {
    // Row 5: a 5.0 client with no Receive Maximum (65,535) still has at most
    // max_inflight_messages (20) in flight.
    broker_process b({});
    bystander by(b.port(), b.pid());
    client sub(b.port(), protocol_version::v5);
    (void)sub.connect("no-receive-maximum");
    (void)sub.subscribe("big", qos::at_least_once);
    client pub(b.port());
    (void)pub.connect("big-publisher");
    const auto payload = bytes(64 * 1024);
    for (std::uint16_t i = 1; i <= 200; ++i) {
        ASSERT_TRUE(pub.publish("big", payload, qos::at_least_once, i));
        ASSERT_TRUE(pub.expect(packet_type::puback));
    }
    std::size_t delivered = 0;
    while (auto p = sub.read(500ms))
        if (p->type() == packet_type::publish) ++delivered;
    EXPECT_EQ(delivered, 20u);
    expect_bystander_unharmed(by);
    expect_peak_rss_below(b, 48);
}

TEST(broker_bounds, v5_client_acknowledging_only_the_newest_packet_identifier) {
    // Row 6: with 65,534 identifiers in flight, each new PUBLISH needs the one just freed; the
    // broker finds it in O(1), so the bystander never waits.
    broker_process b({"max_inflight_messages 0", "max_queued_messages 0"});
    client sub(b.port(), protocol_version::v5);
    (void)sub.connect("newest-only");
    (void)sub.subscribe("ids", qos::at_least_once);
    client pub(b.port());
    (void)pub.connect("id-publisher");
    publish_view p;
    p.topic = "ids";
    p.payload = "m";
    p.qos = qos::at_least_once;
    p.packet_id = 1;
    const auto one = pub.encode_packet(p);
    std::vector<std::byte> many;
    for (int i = 0; i < 65534; ++i) many.insert(many.end(), one.begin(), one.end());
    std::thread acks([&] { // the publisher's PUBACKs, read so its socket never fills
        while (auto a = pub.read(3000ms)) {
        }
    });
    ASSERT_TRUE(pub.send_all(many));
    std::uint16_t newest = 0;
    std::set<std::uint16_t> in_flight;
    for (std::size_t got = 0; got < 65534;) {
        auto q = sub.read(5000ms);
        ASSERT_TRUE(q.has_value()) << got << " received";
        if (const auto* pv = std::get_if<publish_view>(&q->view)) {
            newest = pv->packet_id;
            in_flight.insert(newest);
            ++got;
        }
    }
    ASSERT_EQ(in_flight.size(), 65534u);
    bystander by(b.port(), b.pid());
    int rounds = 0;
    const auto end = steady::now() + 3s;
    while (steady::now() < end) {
        puback_view a;
        a.packet_id = newest;
        ASSERT_TRUE(sub.send(a));
        ASSERT_TRUE(pub.send_all(one));
        in_flight.erase(newest);
        const auto q = sub.expect(packet_type::publish, 2000ms);
        ASSERT_TRUE(q.has_value()) << "round " << rounds;
        newest = std::get<publish_view>(q->view).packet_id;
        // MQTT-2.3.1-1 / MQTT5-2.2.1-3: one of the two identifiers not in use.
        EXPECT_TRUE(in_flight.insert(newest).second) << newest << " was in use";
        ++rounds;
    }
    ::shutdown(pub.fd(), SHUT_RD); // the PUBACK reader stops
    acks.join();
    EXPECT_GE(rounds, 300) << "each round is one acknowledgement and one new PUBLISH";
    expect_bystander_unharmed(by);
    expect_peak_rss_below(b, 96);
}

TEST(broker_bounds, idle_clients_after_large_messages_give_their_buffers_back) {
    // Row 7: 8 clients each send one large message and stay connected, idle. Input buffers do
    // not keep their peak.
    broker_process b({});
    bystander by(b.port(), b.pid());
    std::vector<std::unique_ptr<client>> idle;
    const auto payload = bytes(24u << 20);
    for (int i = 0; i < 8; ++i) {
        idle.push_back(std::make_unique<client>(b.port()));
        (void)idle.back()->connect("large-" + std::to_string(i));
        ASSERT_TRUE(idle.back()->publish("large/nobody", payload));
        idle.back()->send(pingreq_view{});
        ASSERT_TRUE(idle.back()->expect(packet_type::pingresp, 10000ms));
    }
    std::this_thread::sleep_for(500ms);
    const long idle_rss = b.rss_kb();
    EXPECT_LE(idle_rss, b.baseline_rss_kb() + rss_bound_mb(16) * 1024)
        << "RSS with the 8 clients idle: " << idle_rss / 1024 << " MB";
    idle.clear();
    expect_bystander_unharmed(by);
    expect_peak_rss_below(b, 96);
}

TEST(broker_bounds, subscriptions_with_32768_levels_are_refused) {
    // Row 8: filters deeper than max_topic_levels (200) are refused per entry (SUBACK 0x80 in
    // 3.1.1, MQTT-3.8.4-5; 0x8F in 5.0, MQTT5-3.8.4-7), so they build nothing.
    broker_process b({});
    bystander by(b.port(), b.pid());
    client c(b.port(), protocol_version::v5);
    (void)c.connect("deep");
    const std::string deep = levels(32768);
    for (std::uint16_t i = 1; i <= 200; ++i) {
        const auto codes = c.subscribe(deep, qos::at_most_once, i);
        ASSERT_EQ(codes, std::vector<reason_code>{reason_code::topic_filter_invalid});
    }
    client three(b.port());
    (void)three.connect("deep-3");
    EXPECT_EQ(three.subscribe(deep, qos::at_most_once),
              std::vector<reason_code>{reason_code::unspecified_error});
    EXPECT_EQ(c.subscribe(levels(200), qos::at_most_once, 999),
              std::vector<reason_code>{reason_code::success});
    expect_bystander_unharmed(by);
    expect_peak_rss_below(b, 32);
}

TEST(broker_bounds, more_connections_than_the_descriptor_limit) {
    // Row 9: with RLIMIT_NOFILE 64, 300 connections: the excess is closed, one log line, no
    // busy loop, and accepting works again once descriptors are free.
    broker_process b({}, 64);
    bystander by(b.port(), b.pid());
    std::vector<int> fds;
    for (int i = 0; i < 300; ++i) {
        const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(b.port());
        ::inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
        ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
        fds.push_back(fd);
    }
    std::this_thread::sleep_for(500ms);
    const double cpu0 = b.cpu_seconds();
    std::this_thread::sleep_for(2s);
    const double cpu = b.cpu_seconds() - cpu0;
    EXPECT_LT(cpu, 0.2) << "broker CPU over 2 s with descriptors exhausted";
    for (const int fd : fds) ::close(fd);
    std::this_thread::sleep_for(300ms);
    client late(b.port());
    EXPECT_EQ(late.connect("late").reason, reason_code::success);
    expect_bystander_unharmed(by);
    expect_peak_rss_below(b, 32);
    const auto log = b.log();
    EXPECT_EQ(count_lines(log, "out of file descriptors"), 1u) << log;
    EXPECT_EQ(count_lines(log, "accepting connections again"), 1u) << log;
}

TEST(broker_bounds, qos1_to_an_offline_session_over_its_limit_logs_once) {
    // Row 10: 50,000 QoS 1 messages to an offline session whose queue holds 1,000: the rest are
    // dropped, counted, and logged in one line.
    broker_process b({});
    {
        client away(b.port());
        (void)away.connect("away", false);
        (void)away.subscribe("to-away", qos::at_least_once);
    }
    bystander by(b.port(), b.pid());
    client pub(b.port());
    (void)pub.connect("to-away-publisher");
    std::thread acks([&] {
        std::size_t n = 0;
        while (n < 50000)
            if (auto a = pub.read(3000ms); a && a->type() == packet_type::puback) ++n;
            else if (!a) break;
        EXPECT_EQ(n, 50000u);
    });
    for (int i = 0; i < 50000; ++i)
        ASSERT_TRUE(pub.publish("to-away", bytes(64), qos::at_least_once,
                                static_cast<std::uint16_t>(i % 65535 + 1)));
    acks.join();
    expect_bystander_unharmed(by);
    expect_peak_rss_below(b, 32);
    b.stop();
    const auto log = b.log();
    EXPECT_EQ(count_lines(log, "away: queue full"), 1u) << log;
    EXPECT_NE(log.find("offline queue full 49000"), std::string::npos) << log;
}

TEST(broker_bounds, idle_offline_sessions_cost_no_cpu) {
    // Row 11: 20,000 offline persistent sessions, idle: no timer walks them.
    broker_process b({});
    // 200 at a time: CONNECT and DISCONNECT in one write each, then wait until the broker
    // closes them (it closes first, so no client port is left in TIME_WAIT).
    for (int batch = 0; batch < 100; ++batch) {
        std::vector<std::unique_ptr<client>> cs;
        for (int i = 0; i < 200; ++i) {
            cs.push_back(std::make_unique<client>(b.port()));
            connect_view cv;
            const std::string id = "offline-" + std::to_string(batch * 200 + i);
            cv.client_id = utf8_view(std::string_view(id));
            cv.clean_start = false;
            auto wire = cs.back()->encode_packet(cv);
            const auto bye = cs.back()->encode_packet(disconnect_view{});
            wire.insert(wire.end(), bye.begin(), bye.end());
            ASSERT_TRUE(cs.back()->send_all(wire));
        }
        for (auto& c : cs) ASSERT_TRUE(c->wait_closed(5000ms));
    }
    std::this_thread::sleep_for(1s);
    const double cpu0 = b.cpu_seconds();
    std::this_thread::sleep_for(3s);
    const double cpu = b.cpu_seconds() - cpu0;
    EXPECT_LE(cpu, 0.02) << "broker CPU over 3 s with 20,000 idle offline sessions";
    bystander by(b.port(), b.pid());
    std::this_thread::sleep_for(1s);
    expect_bystander_unharmed(by);
    expect_peak_rss_below(b, 64);
}

TEST(broker_bounds, qos1_fan_in_with_default_settings_loses_nothing) {
    // A fast QoS 1 fan-in (4 publishers, 20 unacknowledged each, as paho) into one subscriber
    // that reads more slowly: with default settings nothing the broker acknowledged is lost
    // (publishers are slowed instead, MQTT-4.3.2-2 PUBACK after ownership).
    broker_process b({});
    bystander by(b.port(), b.pid());
    client sub(b.port());
    (void)sub.connect("fan-in-sub");
    (void)sub.subscribe("fan/#", qos::at_least_once);
    constexpr int publishers = 4;
    constexpr std::uint32_t per_publisher = 10000;
    std::vector<std::thread> pubs;
    for (int p = 0; p < publishers; ++p)
        pubs.emplace_back([&, p] {
            client c(b.port());
            (void)c.connect("fan-in-pub-" + std::to_string(p));
            const std::string topic = "fan/" + std::to_string(p);
            std::uint32_t unacked = 0;
            for (std::uint32_t seq = 0; seq < per_publisher; ++seq) {
                std::byte body[8];
                std::memcpy(body, &seq, 4);
                std::memcpy(body + 4, &p, 4);
                if (!c.publish(topic, body, qos::at_least_once,
                               static_cast<std::uint16_t>(seq % 60000 + 1)))
                    return;
                ++unacked;
                while (unacked >= 20)
                    if (auto a = c.read(10000ms); a && a->type() == packet_type::puback) --unacked;
                    else if (!a) return;
            }
            while (unacked > 0)
                if (auto a = c.read(10000ms); a && a->type() == packet_type::puback) --unacked;
                else if (!a) return;
        });
    std::vector<std::uint32_t> next(publishers, 0);
    std::uint64_t received = 0, out_of_order = 0;
    const auto deadline = steady::now() + 60s;
    while (received < publishers * per_publisher && steady::now() < deadline) {
        auto q = sub.read(2000ms);
        if (!q) continue;
        const auto* pv = std::get_if<publish_view>(&q->view);
        if (pv == nullptr) continue;
        std::uint32_t seq = 0;
        int p = 0;
        std::memcpy(&seq, pv->payload.bytes().data(), 4);
        std::memcpy(&p, pv->payload.bytes().data() + 4, 4);
        if (seq != next[static_cast<std::size_t>(p)]) ++out_of_order;
        next[static_cast<std::size_t>(p)] = seq + 1;
        ++received;
        (void)sub.ack(*pv);
        if (received % 50 == 0) std::this_thread::sleep_for(1ms); // slower than they publish
    }
    for (auto& t : pubs) t.join();
    EXPECT_EQ(received, std::uint64_t{publishers} * per_publisher);
    EXPECT_EQ(out_of_order, 0u);
    expect_bystander_unharmed(by);
    expect_peak_rss_below(b, 32);
    b.stop();
    EXPECT_NE(b.log().find("dropped 0 "), std::string::npos) << b.log();
}

} // namespace
