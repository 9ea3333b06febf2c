// Persistence against the real mqttwire-broker process, the kill -9 soak.

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>

#include "persist_support.hpp"

using namespace bounds_support;
using namespace persist_support;

namespace {

// ---------------------------------------------------------------------------------------------
// The kill -9 soak: a QoS 1 and a QoS 2 publisher (persistent sessions) stream numbered
// messages into a persistent subscriber while the broker is killed at random points 20 times
// and restarted. Every message a publisher saw acknowledged (PUBACK; PUBREC for QoS 2) is
// delivered afterwards: QoS 1 at least once, QoS 2 exactly once (the subscriber applies the
// QoS 2 receiver rules, MQTT-4.3.3-2, as a client library would), first deliveries in order.
// ---------------------------------------------------------------------------------------------

struct soak_publisher {
    std::string id;
    qos q;
    std::unique_ptr<client> c;
    std::uint64_t next = 0;                     // next message number to publish
    std::set<std::uint64_t> sent; // numbers not yet acknowledged
    std::set<std::uint64_t> recd; // QoS 2: PUBREC seen, PUBCOMP not yet
    std::set<std::uint64_t> acked;

    static std::uint16_t packet_id_of(std::uint64_t n) {
        return static_cast<std::uint16_t>(n % 60000 + 1);
    }
    void publish(std::uint64_t n, bool dup) {
        publish_view p;
        p.topic = utf8_view(id);
        const std::string body = std::to_string(n);
        const auto b = text(body);
        p.payload = binary_view(b);
        p.qos = q;
        p.packet_id = packet_id_of(n);
        p.dup = dup;
        (void)c->send(p);
    }
    void release(std::uint16_t pid) {
        pubrel_view r;
        r.packet_id = pid;
        (void)c->send(r);
    }
    // MQTT-4.4.0-1: on reconnect with a session, unacknowledged PUBLISH and PUBREL again.
    void resend() {
        for (const auto n : sent) publish(n, true); // in the order first sent
        for (const auto n : recd) release(packet_id_of(n));
    }
    void pump(std::size_t window) {
        while (sent.size() + recd.size() < window) {
            const auto n = next++;
            sent.insert(n);
            publish(n, false);
        }
    }
    // The window is small: identifiers are found by a scan.
    static std::optional<std::uint64_t> find(const std::set<std::uint64_t>& in, std::uint16_t pid) {
        for (const auto n : in)
            if (packet_id_of(n) == pid) return n;
        return std::nullopt;
    }
    void handle(const bounds_support::packet& p) {
        if (const auto* a = std::get_if<puback_view>(&p.view)) {
            if (const auto n = find(sent, a->packet_id)) {
                acked.insert(*n);
                sent.erase(*n);
            }
        } else if (const auto* r = std::get_if<pubrec_view>(&p.view)) {
            if (const auto n = find(sent, r->packet_id)) {
                acked.insert(*n);
                recd.insert(*n);
                sent.erase(*n);
            }
            if (find(recd, r->packet_id)) release(r->packet_id);
        } else if (const auto* c2 = std::get_if<pubcomp_view>(&p.view)) {
            if (const auto n = find(recd, c2->packet_id)) recd.erase(*n);
        }
    }
};

struct soak_subscriber {
    std::unique_ptr<client> c;
    std::map<std::string, std::map<std::uint64_t, int>> copies; // topic → number → deliveries
    std::map<std::string, std::vector<std::uint64_t>> first_order;
    std::set<std::uint16_t> awaiting_pubrel; // QoS 2 received, PUBREL not yet (kept across)

    void deliver(const std::string& topic, std::uint64_t n) {
        if (copies[topic][n]++ == 0) first_order[topic].push_back(n);
    }
    void handle(const bounds_support::packet& p) {
        if (const auto* pv = std::get_if<publish_view>(&p.view)) {
            const std::string topic(pv->topic.as_string_view());
            const auto n = std::stoull(text_of(pv->payload.bytes()));
            if (pv->qos == qos::at_least_once) {
                deliver(topic, n);
                (void)c->ack(*pv);
            } else if (pv->qos == qos::exactly_once) {
                if (awaiting_pubrel.insert(pv->packet_id).second) deliver(topic, n);
                pubrec_view r;
                r.packet_id = pv->packet_id;
                (void)c->send(r);
            }
        } else if (const auto* rel = std::get_if<pubrel_view>(&p.view)) {
            awaiting_pubrel.erase(rel->packet_id);
            pubcomp_view comp;
            comp.packet_id = rel->packet_id;
            (void)c->send(comp);
        }
    }
};

TEST(persist, soak_kill9_at_random_points_loses_nothing_acknowledged) {
    constexpr int kills = 20;
    constexpr std::size_t window = 16;
    // The subscriber's queue must hold everything the publishers can get ahead by.
    persistent_broker b({"max_queued_messages 0", "max_inflight_messages 20"});
    ASSERT_TRUE(b.start()) << b.log();
    const auto test_deadline = steady::now() + 75s;
    std::mt19937 rng(std::random_device{}());
    std::uniform_int_distribution<int> run_ms(20, 250);

    soak_subscriber sub;
    soak_publisher pubs[2] = {{"soak/q1", qos::at_least_once, {}, 0, {}, {}, {}},
                              {"soak/q2", qos::exactly_once, {}, 0, {}, {}, {}}};
    const auto connect_clients = [&](bool first) {
        sub.c.reset();
        for (auto& p : pubs) p.c.reset();
        sub.c = std::make_unique<client>(b.port());
        const auto a = sub.c->connect("soak-sub", false);
        if (!first) {
            EXPECT_TRUE(a.session_present);
        }
        if (first) {
            (void)sub.c->subscribe("soak/q1", qos::at_least_once, 1);
            (void)sub.c->subscribe("soak/q2", qos::exactly_once, 2);
        }
        for (auto& p : pubs) {
            p.c = std::make_unique<client>(b.port());
            const auto pa = p.c->connect(p.id, false);
            if (!first) {
                EXPECT_TRUE(pa.session_present);
            }
            p.resend();
        }
    };
    // False when the broker died meanwhile (a crash point reached while connecting).
    const auto connect_all = [&](bool first) {
        try {
            connect_clients(first);
            return true;
        } catch (const std::exception&) {
            return false;
        }
    };
    const auto reconnect = [&](long crash_at) {
        ASSERT_TRUE(b.start(crash_at)) << b.log();
        while (!connect_all(false)) {
            b.kill9();
            ASSERT_TRUE(b.start()) << b.log();
        }
    };
    // Runs the clients until `until` or until a connection closes (the broker died).
    const auto run = [&](steady::time_point until, bool publish) {
        while (steady::now() < until) {
            bool any = false;
            for (auto& p : pubs) {
                if (publish) p.pump(window);
                while (auto pk = p.c->read(0ms)) {
                    p.handle(*pk);
                    any = true;
                }
                if (p.c->closed()) return;
            }
            while (auto pk = sub.c->read(0ms)) {
                sub.handle(*pk);
                any = true;
            }
            if (sub.c->closed()) return;
            if (!any) {
                pollfd fds[3] = {{sub.c->fd(), POLLIN, 0},
                                 {pubs[0].c->fd(), POLLIN, 0},
                                 {pubs[1].c->fd(), POLLIN, 0}};
                (void)::poll(fds, 3, 2);
            }
        }
    };

    // Half of the kills come at a random time (SIGKILL from here), half at a random write()
    // to the store, before its bytes are written (the broker kills itself there): the point
    // where an acknowledgement sent too early would be lost.
    std::uniform_int_distribution<long> store_write(2, 120);
    ASSERT_TRUE(connect_all(true));
    for (int k = 0; k < kills && steady::now() < test_deadline; ++k) {
        run(steady::now() + std::chrono::milliseconds(run_ms(rng)), true);
        b.kill9();
        reconnect(k % 2 == 0 ? store_write(rng) : 0);
        if (HasFatalFailure()) return;
    }
    run(steady::now() + 300ms, true); // the last crash point may still be ahead
    b.kill9();
    reconnect(0);
    if (HasFatalFailure()) return;
    // Drain: no new messages; resends and deliveries finish.
    const auto drained = [&] {
        for (const auto& p : pubs) {
            if (!p.sent.empty() || !p.recd.empty()) return false;
            const auto& got = sub.copies[p.id];
            for (const auto n : p.acked)
                if (got.count(n) == 0) return false;
        }
        return true;
    };
    const auto drain_deadline = std::min(test_deadline, steady::now() + 15s);
    while (!drained() && steady::now() < drain_deadline) run(steady::now() + 100ms, false);
    EXPECT_EQ(b.term(), 0);

    std::size_t total = 0;
    for (const auto& p : pubs) {
        SCOPED_TRACE(p.id);
        const auto& got = sub.copies[p.id];
        std::size_t missing = 0, duplicated = 0;
        for (const auto n : p.acked) {
            const auto it = got.find(n);
            if (it == got.end()) {
                ++missing;
            } else if (it->second > 1) {
                ++duplicated;
            }
        }
        total += p.acked.size();
        EXPECT_GT(p.acked.size(), 40u) << "too few messages acknowledged to mean anything";
        EXPECT_EQ(missing, 0u) << "acknowledged but never delivered, of " << p.acked.size();
        if (p.q == qos::exactly_once) {
            EXPECT_EQ(duplicated, 0u) << "QoS 2 delivered twice";
        }
        const auto& order = sub.first_order[p.id];
        EXPECT_TRUE(std::is_sorted(order.begin(), order.end())) << "first deliveries out of order";
        // Everything delivered was published (no invented or corrupted numbers).
        for (const auto& [n, count] : got) EXPECT_LT(n, p.next);
    }
    std::printf("soak: %d kills, %zu messages acknowledged\n", kills, total);
}

} // namespace
