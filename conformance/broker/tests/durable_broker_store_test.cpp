// The broker's persistent store (store/durable_broker_store.hpp) under the sans-I/O broker:
// what it writes for persistent sessions (each message body once, whatever the number of
// sessions holding it), what it removes when messages are acknowledged and sessions end, what
// a restarted broker gets back, and what it does with records it cannot use.

#include <unistd.h>

#include <cstdlib>

#include "broker_harness.hpp"
#include "session/session.hpp"
#include "store/durable_broker_store.hpp"

namespace {

// A store file in a directory of its own, removed afterwards.
class store_dir {
  public:
    store_dir() {
        char t[] = "/tmp/mqttwire-dbs.XXXXXX";
        const char* d = ::mkdtemp(t);
        EXPECT_NE(d, nullptr);
        dir_ = d != nullptr ? d : "/tmp";
    }
    ~store_dir() { (void)std::system(("rm -rf '" + dir_ + "'").c_str()); }
    [[nodiscard]] std::string path() const { return dir_ + "/test.store"; }

    // The harness runs on simulated time from this point.
    std::unique_ptr<durable_broker_store> open(std::vector<std::string>* log = nullptr) {
        durable_broker_store::options o;
        o.now = [] { return clock::time_point{} + 1000h; };
        if (log != nullptr) o.log = [log](std::string_view l) { log->emplace_back(l); };
        auto r = durable_broker_store::open(path(), o);
        EXPECT_TRUE(r.has_value()) << r.status().message();
        return r ? std::move(r.value()) : nullptr;
    }

  private:
    std::string dir_;
};

TEST(durable_broker_store, a_message_for_many_sessions_is_stored_once) {
    store_dir dir;
    auto st = dir.open();
    ASSERT_TRUE(st);
    harness h(settings{}, *st);
    std::vector<subscription> subs;
    std::vector<client> readers;
    for (int i = 0; i < 10; ++i) {
        const auto c = h.connect("reader-" + std::to_string(i), protocol_version::v3_1_1, false);
        (void)h.read(c);
        h.send(c, subscribe_one(1, "sensor/#", qos::at_least_once, subs));
        (void)h.read(c);
        h.lose(c); // offline: the message waits in each session's queue
    }
    const auto pub = h.connect("pub");
    (void)h.read(pub);
    h.send(pub, make_publish("sensor/t", "21.5", qos::at_least_once, 1));
    EXPECT_EQ(h.only<puback_view>(pub).packet_id, 1);
    ASSERT_TRUE(st->commit().ok());
    EXPECT_EQ(st->session_count(), 10u);
    EXPECT_EQ(st->body_count(), 1u);
    // 10 sessions, 1 body, 10 queue entries.
    EXPECT_EQ(st->engine_stats().live_records, 21u);

    for (int i = 0; i < 10; ++i) {
        const auto c = h.connect("reader-" + std::to_string(i), protocol_version::v3_1_1, false);
        const auto got = h.read(c);
        const auto pubs = publishes_of(got);
        ASSERT_EQ(pubs.size(), 1u);
        puback_view a;
        a.packet_id = pubs[0].packet_id;
        h.send(c, a);
        if (i < 9) {
            EXPECT_EQ(st->body_count(), 1u) << "still held by " << 9 - i << " sessions";
        }
    }
    ASSERT_TRUE(st->commit().ok());
    EXPECT_EQ(st->body_count(), 0u);
    EXPECT_EQ(st->engine_stats().live_records, 10u); // the sessions only
}

TEST(durable_broker_store, an_ended_session_leaves_nothing_behind) {
    // MQTT-3.1.2-6: a clean session discards the previous one, with its queue and QoS 2 state.
    store_dir dir;
    auto st = dir.open();
    ASSERT_TRUE(st);
    harness h(settings{}, *st);
    std::vector<subscription> subs;
    auto c = h.connect("gone", protocol_version::v3_1_1, false);
    (void)h.read(c);
    h.send(c, subscribe_one(1, "t", qos::exactly_once, subs));
    (void)h.read(c);
    h.send(c, make_publish("in", "x", qos::exactly_once, 5));
    EXPECT_EQ(h.only<pubrec_view>(c).packet_id, 5);
    h.lose(c);
    const auto pub = h.connect("pub");
    (void)h.read(pub);
    h.send(pub, make_publish("t", "a", qos::exactly_once, 1));
    h.send(pub, make_publish("t", "b", qos::at_least_once, 2));
    (void)h.read(pub);
    ASSERT_TRUE(st->commit().ok());
    // session, pubrel, two bodies, two queue entries
    EXPECT_EQ(st->engine_stats().live_records, 6u);
    c = h.connect("gone", protocol_version::v3_1_1, true);
    (void)h.read(c);
    ASSERT_TRUE(st->commit().ok());
    EXPECT_EQ(st->engine_stats().live_records, 0u);
    EXPECT_EQ(st->body_count(), 0u);
    EXPECT_EQ(st->session_count(), 0u);
}

TEST(durable_broker_store, a_restarted_broker_gets_the_sessions_back) {
    // MQTT-3.1.2-4, MQTT-4.4.0-1 (resent with DUP and the same identifier, PUBREL resent),
    // MQTT-4.3.3-2 (the inbound QoS 2 identifier is still known).
    store_dir dir;
    settings s;
    s.max_inflight_messages = 2;
    std::uint16_t released_id = 0, sent_id = 0;
    {
        auto st = dir.open();
        ASSERT_TRUE(st);
        harness h(s, *st);
        std::vector<subscription> subs;
        const auto keep = h.connect("keep", protocol_version::v3_1_1, false);
        (void)h.read(keep);
        h.send(keep, subscribe_one(1, "q/#", qos::exactly_once, subs));
        (void)h.read(keep);
        const auto pub = h.connect("pub");
        (void)h.read(pub);
        for (std::uint16_t i = 1; i <= 4; ++i) {
            const std::string body = "m" + std::to_string(i);
            h.send(pub, make_publish("q/x", body.c_str(), qos::exactly_once, i));
        }
        const auto got = h.read(keep);
        const auto pubs = publishes_of(got);
        ASSERT_EQ(pubs.size(), 2u); // two in flight, two queued
        released_id = pubs[0].packet_id;
        sent_id = pubs[1].packet_id;
        pubrec_view rec;
        rec.packet_id = released_id;
        h.send(keep, rec);
        EXPECT_EQ(h.only<pubrel_view>(keep).packet_id, released_id);
        h.send(keep, make_publish("in/x", "exactly-once", qos::exactly_once, 9));
        EXPECT_EQ(h.only<pubrec_view>(keep).packet_id, 9);
        ASSERT_TRUE(st->commit().ok());
        // No commit for what follows: lost as in a crash, so the store must not have it.
        h.send(pub, make_publish("q/x", "uncommitted", qos::exactly_once, 7));
    }
    auto st = dir.open();
    ASSERT_TRUE(st);
    EXPECT_EQ(st->session_count(), 1u); // "pub" is a clean session
    harness h(s, *st);
    h.core().restore(h.now);
    const auto keep = h.connect("keep", protocol_version::v3_1_1, false);
    const auto got = h.read(keep);
    ASSERT_GE(got.size(), 3u);
    EXPECT_TRUE(std::get<connack_view>(got[0].packet).session_present);
    // In sending order: the PUBREL of the first, then the second again with DUP.
    const auto* rel = std::get_if<pubrel_view>(&got[1].packet);
    ASSERT_NE(rel, nullptr);
    EXPECT_EQ(rel->packet_id, released_id);
    const auto* again = std::get_if<publish_view>(&got[2].packet);
    ASSERT_NE(again, nullptr);
    EXPECT_TRUE(again->dup);
    EXPECT_EQ(again->packet_id, sent_id);
    EXPECT_EQ(payload_of(*again), "m2");
    // Completing both lets the queued two out, in order; "uncommitted" never arrives.
    std::vector<std::string> rest;
    const auto collect = [&] {
        const auto bytes = h.read(keep);
        for (const auto& p : publishes_of(bytes)) rest.push_back(payload_of(p));
    };
    pubcomp_view comp;
    comp.packet_id = released_id;
    h.send(keep, comp);
    collect();
    pubrec_view rec;
    rec.packet_id = sent_id;
    h.send(keep, rec);
    collect();
    comp.packet_id = sent_id;
    h.send(keep, comp);
    collect();
    EXPECT_EQ(rest, (std::vector<std::string>{"m3", "m4"}));
    pubrel_view in_rel;
    in_rel.packet_id = 9;
    h.send(keep, in_rel);
    EXPECT_EQ(h.only<pubcomp_view>(keep).packet_id, 9);
}

TEST(durable_broker_store, subscription_identifiers_and_the_packet_identifier_come_back) {
    // MQTT5-3.3.4-3: the Subscription Identifier goes with the message, also when it is resent
    // after a restart (MQTT5-4.4.0-1: with DUP and the same Packet Identifier).
    store_dir dir;
    const property keep[] = {{property_id::session_expiry_interval, std::uint32_t{3600}}};
    std::uint16_t sent_id = 0;
    {
        auto st = dir.open();
        ASSERT_TRUE(st);
        harness h(settings{}, *st);
        const auto sub = h.connect("tagged", protocol_version::v5, false, 0, keep);
        (void)h.read(sub);
        const subscription one[] = {{"a/#", {qos::at_least_once}}};
        const property id[] = {{property_id::subscription_identifier, 300}};
        subscribe_view sv;
        sv.packet_id = 1;
        sv.subscriptions = one;
        sv.properties = id;
        h.send(sub, sv);
        (void)h.read(sub);
        const auto pub = h.connect("pub");
        (void)h.read(pub);
        h.send(pub, make_publish("a/b", "x", qos::at_least_once, 1));
        const auto m = h.only<publish_view>(sub);
        sent_id = m.packet_id;
        h.lose(sub);
        ASSERT_TRUE(st->commit().ok());
    }
    auto st = dir.open();
    ASSERT_TRUE(st);
    harness h(settings{}, *st);
    h.core().restore(h.now);
    const auto sub = h.connect("tagged", protocol_version::v5, false, 0, keep);
    const auto got = h.read(sub);
    const auto pubs = publishes_of(got);
    ASSERT_EQ(pubs.size(), 1u);
    EXPECT_TRUE(pubs[0].dup);
    EXPECT_EQ(pubs[0].packet_id, sent_id);
    std::vector<std::uint32_t> ids;
    for (const auto& p : pubs[0].properties)
        if (p.id == property_id::subscription_identifier) ids.push_back(p.integer);
    EXPECT_EQ(ids, (std::vector<std::uint32_t>{300}));
}

TEST(durable_broker_store, a_delayed_will_keeps_its_deadline_and_properties_across_it) {
    // MQTT5-3.1.2-8 / MQTT5-3.1.3-9: the will goes out after the Will Delay Interval, counted
    // from the disconnection, not from the restart; MQTT5-3.1.3-10: its User Properties too.
    store_dir dir;
    const property keep[] = {{property_id::session_expiry_interval, std::uint32_t{3600}}};
    const property will_props[] = {{property_id::will_delay_interval, std::uint32_t{30}},
                                   user_property("room", "salon")};
    {
        auto st = dir.open();
        ASSERT_TRUE(st);
        harness h(settings{}, *st);
        std::vector<subscription> subs;
        const auto w = h.connect("watcher", protocol_version::v5, false, 0, keep);
        (void)h.read(w);
        h.send(w, subscribe_one(1, "lwt", qos::at_most_once, subs));
        (void)h.read(w);
        client dev = h.open(protocol_version::v5);
        connect_view c;
        c.client_id = "dev";
        c.clean_start = false;
        c.properties = keep;
        will_view will;
        will.topic = "lwt";
        will.payload = "gone";
        will.properties = will_props;
        c.will = will;
        h.send(dev, c);
        (void)h.read(dev);
        h.lose(dev);
        h.lose(w);
        ASSERT_TRUE(st->commit().ok());
    }
    // A restart, with the watcher back online.
    const auto after_restart = [&](const auto& check) {
        auto st = dir.open();
        ASSERT_TRUE(st);
        harness h(settings{}, *st);
        h.core().restore(h.now);
        const auto w = h.connect("watcher", protocol_version::v5, false, 0, keep);
        (void)h.read(w);
        check(h, w);
        ASSERT_TRUE(st->commit().ok());
    };
    after_restart([](harness& h, const client& w) {
        h.advance(29s);
        EXPECT_TRUE(h.read(w).empty()) << "published before its delay";
        h.advance(2s);
        const auto got = h.only<publish_view>(w);
        EXPECT_EQ(payload_of(got), "gone");
        std::vector<property> props(got.properties.begin(), got.properties.end());
        ASSERT_EQ(props.size(), 1u);
        EXPECT_TRUE(props[0] == user_property("room", "salon"));
    });
    // Published once: after another restart it does not come again.
    after_restart([](harness& h, const client& w) {
        h.advance(60s);
        EXPECT_TRUE(h.read(w).empty());
    });
}

TEST(durable_broker_store, records_it_cannot_use_are_removed_and_reported) {
    store_dir dir;
    {
        auto raw = durable_store::open(dir.path(), {}, [](const durable_record&) {});
        ASSERT_TRUE(raw.has_value());
        auto& e = raw.value().store;
        const std::byte junk[] = {std::byte{1}, std::byte{2}};
        const std::byte queue_key[12] = {std::byte{0}, std::byte{0}, std::byte{0}, std::byte{42}};
        std::vector<std::byte> entry(13, std::byte{0});
        entry[7] = std::byte{1};  // message number 1
        entry[8] = std::byte{1};  // QoS 1
        ASSERT_TRUE(e.put('S', as_durable_bytes("broken"), junk).ok());  // too short
        ASSERT_TRUE(e.put('Q', queue_key, entry).ok());                   // session 42: none
        ASSERT_TRUE(e.put('X', as_durable_bytes("?"), junk).ok());        // unknown kind
        ASSERT_TRUE(e.put('M', as_durable_bytes("12345678"), junk).ok()); // no holder
        ASSERT_TRUE(e.commit().ok());
    }
    std::vector<std::string> log;
    auto st = dir.open(&log);
    ASSERT_TRUE(st);
    EXPECT_EQ(st->discarded_records(), 3u); // the body is removed silently: nobody holds it
    EXPECT_EQ(log.size(), 3u);
    EXPECT_EQ(st->engine_stats().live_records, 0u);
    EXPECT_EQ(st->session_count(), 0u);
}

} // namespace
