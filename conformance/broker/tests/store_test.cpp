// The store interface (store/store.hpp) as a durable engine sees it: an engine that records the
// events of persistent sessions can give a restarted broker back everything a client left:
// subscriptions, queued messages, messages in flight (resent with DUP and their packet
// identifier), the PUBREL stage of QoS 2 both ways. Clean sessions cost it nothing.

#include <map>
#include <set>
#include <utility>

#include "broker_harness.hpp"
#include "session/session.hpp"
#include "store/memory_store.hpp"

namespace {

// What a durable engine would write to disk, kept in maps; retained messages are delegated to
// the memory store.
class recording_store final : public store {
  public:
    void retain(const message_ptr& m) override { retained_.retain(m); }
    bool forget_retained(std::string_view topic) override { return retained_.forget_retained(topic); }
    void match_retained(std::string_view filter,
                        const std::function<void(const message_ptr&)>& f) const override {
        retained_.match_retained(filter, f);
    }
    std::size_t retained_count() const override { return retained_.retained_count(); }

    void session_saved(const session& s) override { sessions[s.client_id] = record_of(s); }
    void session_ended(std::string_view id) override {
        sessions.erase(std::string(id));
        std::erase_if(messages, [&](const auto& kv) { return kv.first.first == id; });
        std::erase_if(pubrels, [&](const auto& p) { return p.first == id; });
    }
    void message_added(const session& s, const delivery& d) override {
        messages[{s.client_id, d.seq}] = {s.client_id, d.seq, d.msg, d.qos, d.retain, d.sub_ids, 0, false};
        ++events;
    }
    void message_sent(const session& s, std::uint64_t seq, std::uint16_t id) override {
        messages.at({s.client_id, seq}).packet_id = id;
    }
    void message_released(const session& s, std::uint64_t seq) override {
        messages.at({s.client_id, seq}).released = true;
    }
    void message_done(const session& s, std::uint64_t seq) override {
        messages.erase({s.client_id, seq});
    }
    void pubrel_awaited(const session& s, std::uint16_t id, bool awaited) override {
        if (awaited) pubrels.insert({s.client_id, id});
        else pubrels.erase({s.client_id, id});
    }
    void restore(restore_sink& sink) override {
        for (const auto& [id, r] : sessions) {
            sink.session(r);
            for (const auto& [key, d] : messages)
                if (key.first == id) sink.delivery(d);
        }
        for (const auto& [id, pid] : pubrels) sink.awaiting_pubrel(id, pid);
    }

    std::map<std::string, session_record> sessions;
    std::map<std::pair<std::string, std::uint64_t>, stored_delivery> messages;
    std::set<std::pair<std::string, std::uint16_t>> pubrels;
    std::size_t events = 0;

  private:
    memory_store retained_;
};

TEST(broker_store, a_persistent_session_survives_a_restart_through_the_store) {
    // MQTT-3.1.2-4 / MQTT5-4.1.0-1 (session state kept), MQTT-4.4.0-1 / MQTT5-4.4.0-1 (resent
    // with DUP=1 and the same identifier), MQTT-4.3.3-2 (exactly once inbound across it).
    recording_store st;
    settings s;
    s.max_inflight_messages = 1;
    std::uint16_t first_id = 0;
    {
        harness h(s, st);
        std::vector<subscription> subs;
        const auto keep = h.connect("keep", protocol_version::v3_1_1, false);
        (void)h.read(keep);
        h.send(keep, subscribe_one(1, "q/#", qos::at_least_once, subs));
        (void)h.read(keep);
        const auto pub = h.connect("pub");
        (void)h.read(pub);
        for (std::uint16_t i = 1; i <= 3; ++i) {
            const std::string body = "m" + std::to_string(i);
            h.send(pub, make_publish("q/x", body.c_str(), qos::at_least_once, i));
        }
        const auto got = publishes_of(h.read(keep));
        ASSERT_EQ(got.size(), 1u); // one in flight, two queued
        first_id = got[0].packet_id;
        h.send(keep, make_publish("in/x", "exactly-once", qos::exactly_once, 9));
        EXPECT_EQ(h.only<pubrec_view>(keep).packet_id, 9);
        h.lose(keep); // no PUBACK, no PUBREL
        EXPECT_EQ(st.sessions.size(), 1u);       // "pub" is a clean session: not stored
        EXPECT_EQ(st.messages.size(), 3u);
        EXPECT_EQ(st.pubrels.size(), 1u);
    }
    harness h(s, st); // the restarted broker
    h.core().restore(h.now);
    EXPECT_EQ(h.core().session_count(), 1u);
    const auto keep = h.connect("keep", protocol_version::v3_1_1, false);
    auto got = h.read(keep);
    ASSERT_GE(got.size(), 2u);
    EXPECT_TRUE(std::get<connack_view>(got[0].packet).session_present);
    auto pubs = publishes_of(got);
    ASSERT_EQ(pubs.size(), 1u);
    EXPECT_TRUE(pubs[0].dup);
    EXPECT_EQ(pubs[0].packet_id, first_id);
    EXPECT_EQ(payload_of(pubs[0]), "m1");
    std::vector<std::string> rest;
    std::uint16_t last = pubs[0].packet_id;
    for (int i = 0; i < 3; ++i) {
        puback_view a;
        a.packet_id = last;
        h.send(keep, a);
        const auto next = h.read(keep); // owns the bytes the views point into
        const auto more = publishes_of(next);
        if (more.empty()) break;
        for (const auto& p : more) rest.push_back(payload_of(p));
        last = more.back().packet_id;
    }
    EXPECT_EQ(rest, (std::vector<std::string>{"m2", "m3"}));
    // The inbound QoS 2 exchange completes: its identifier is known (PUBCOMP 0, not 0x92).
    pubrel_view rel;
    rel.packet_id = 9;
    h.send(keep, rel);
    EXPECT_EQ(h.only<pubcomp_view>(keep).packet_id, 9);
    // The subscription came back too.
    const auto pub = h.connect("pub2");
    (void)h.read(pub);
    h.send(pub, make_publish("q/y", "after", qos::at_least_once, 1));
    const auto after_bytes = h.read(keep);
    const auto after = publishes_of(after_bytes);
    ASSERT_EQ(after.size(), 1u);
    EXPECT_EQ(payload_of(after[0]), "after");
}

TEST(broker_store, clean_sessions_cost_the_store_nothing) {
    recording_store st;
    harness h(settings{}, st);
    std::vector<subscription> subs;
    const auto sub = h.connect("clean-sub");
    (void)h.read(sub);
    h.send(sub, subscribe_one(1, "t", qos::at_least_once, subs));
    (void)h.read(sub);
    const auto pub = h.connect("clean-pub");
    (void)h.read(pub);
    for (std::uint16_t i = 1; i <= 10; ++i) h.send(pub, make_publish("t", "m", qos::at_least_once, i));
    EXPECT_EQ(publishes_of(h.read(sub)).size(), 10u);
    EXPECT_TRUE(st.sessions.empty());
    EXPECT_EQ(st.events, 0u);
}

} // namespace
