// The persistent store at start-up: open() reads every record, links queue entries and QoS 2
// identifiers to their sessions and messages, and removes what cannot be decoded or lost its
// owner; restore() then hands the sessions and their stored messages to the broker.
#include "store/durable_broker_records.hpp"
#include "store/durable_broker_store.hpp"

#include <algorithm>
#include <utility>

#include "session/session.hpp"

namespace mqttwire::broker {

using namespace durable_records;

// What open() finds, before the store exists: the records are linked once all are read (load
// order is write order, so a session may come after its queue entries).
class durable_broker_store::loader {
  public:
    explicit loader(const time_base& tb) : tb_(tb) {}

    void operator()(const durable_record& r) {
        switch (r.kind) {
        case kind_retained: {
            reader in(r.value);
            auto m = read_message(in, tb_);
            if (!m || !in.done() || m->topic != text_of(r.key)) {
                bad.push_back({r.kind, {r.key.begin(), r.key.end()}});
            } else if (m->expires && *m->expires <= tb_.steady) {
                expired.push_back(m->topic); // MQTT5-3.3.2-5: expired while the broker was down
            } else {
                retained.push_back(std::move(m));
            }
            return;
        }
        case kind_session:
            if (r.value.size() < 4) {
                bad.push_back({r.kind, {r.key.begin(), r.key.end()}});
            } else {
                sessions.push_back({text_of(r.key), be32(r.value)});
            }
            return;
        case kind_body:
            if (r.key.size() != 8) {
                bad.push_back({r.kind, {r.key.begin(), r.key.end()}});
            } else {
                reader k(r.key);
                bodies.push_back(k.u64());
            }
            return;
        case kind_queue: {
            reader k(r.key);
            const auto session = k.u32();
            const auto seq = k.u64();
            const auto e = read_entry(r.value);
            if (!k.done() || !e) {
                bad.push_back({r.kind, {r.key.begin(), r.key.end()}});
            } else {
                queue.push_back({session, seq, {e->body, e->packet_id, e->flags, !e->sub_ids.empty()}});
            }
            return;
        }
        case kind_pubrel: {
            reader k(r.key);
            const auto session = k.u32();
            const auto id = k.u16();
            if (!k.done()) {
                bad.push_back({r.kind, {r.key.begin(), r.key.end()}});
            } else {
                pubrels.push_back({session, id});
            }
            return;
        }
        default:
            bad.push_back({r.kind, {r.key.begin(), r.key.end()}});
        }
    }

    struct key {
        std::uint8_t kind;
        std::vector<std::byte> bytes;
    };
    struct session_ref {
        std::string id;
        std::uint32_t number;
    };
    struct queue_ref {
        std::uint32_t session;
        std::uint64_t seq;
        stored_entry entry;
    };
    struct pubrel_ref {
        std::uint32_t session;
        std::uint16_t id;
    };
    std::vector<message_ptr> retained;
    std::vector<std::string> expired;
    std::vector<session_ref> sessions;
    std::vector<std::uint64_t> bodies;
    std::vector<queue_ref> queue;
    std::vector<pubrel_ref> pubrels;
    std::vector<key> bad;

  private:
    const time_base& tb_;
};

durable_result<std::unique_ptr<durable_broker_store>>
durable_broker_store::open(const std::string& path, options opts) {
    if (!opts.engine.on_warning && opts.log) opts.engine.on_warning = opts.log;
    const time_base tb(opts.now());
    loader found(tb);
    auto opened = durable_store::open(path, opts.engine,
                                      [&](const durable_record& r) { found(r); });
    if (!opened) return opened.status();
    auto& [engine, recovery] = opened.value();
    std::unique_ptr<durable_broker_store> self(
        new durable_broker_store(std::move(engine), std::move(opts)));
    durable_broker_store& st = *self;
    st.recovery_ = std::move(recovery);

    st.retained_.reserve(found.retained.size());
    for (auto& m : found.retained) st.retained_.retain(m);
    found.retained = {};
    for (const auto& topic : found.expired) st.erase(kind_retained, as_durable_bytes(topic));
    for (const auto& k : found.bad) st.discard(k.kind, k.bytes, "cannot be decoded");

    std::unordered_map<std::uint32_t, session_entry*> by_number;
    st.sessions_.reserve(found.sessions.size());
    by_number.reserve(found.sessions.size());
    for (auto& s : found.sessions) {
        auto& e = st.sessions_[s.id];
        e.number = s.number;
        by_number[s.number] = &e;
        st.next_session_ = std::max(st.next_session_, s.number + 1);
    }
    for (const auto n : found.bodies) {
        st.bodies_.emplace(n, body{});
        st.next_body_ = std::max(st.next_body_, n + 1);
    }
    for (const auto& q : found.queue) {
        const auto owner = by_number.find(q.session);
        const auto b = st.bodies_.find(q.entry.body);
        if (owner == by_number.end() || b == st.bodies_.end()) {
            st.discard(kind_queue, queue_key(q.session, q.seq), "has no session or message");
            continue;
        }
        owner->second->messages.emplace(q.seq, q.entry);
        ++b->second.refs;
    }
    for (const auto& p : found.pubrels) {
        const auto owner = by_number.find(p.session);
        if (owner == by_number.end()) {
            st.discard(kind_pubrel, pubrel_key(p.session, p.id), "has no session");
            continue;
        }
        owner->second->pubrels.insert(p.id);
    }
    for (auto it = st.bodies_.begin(); it != st.bodies_.end();) {
        if (it->second.refs == 0) {
            st.erase(kind_body, key64(it->first)); // its last holder went in a lost batch
            it = st.bodies_.erase(it);
        } else {
            ++it;
        }
    }
    // What was cleaned up is written now, before anything else can depend on it.
    if (auto c = st.commit(); !c) return c;
    return self;
}

void durable_broker_store::discard(std::uint8_t kind, std::span<const std::byte> key,
                                   std::string_view why) {
    ++discarded_;
    if (discarded_ <= 10 && opts_.log) {
        std::string line = "store " + engine_.path() + ": a record of kind '";
        line += static_cast<char>(kind);
        line += "' ";
        line += why;
        line += "; removed";
        opts_.log(line);
    }
    erase(kind, key);
}

void durable_broker_store::restore(restore_sink& sink) {
    const time_base tb(opts_.now());
    std::vector<std::string> broken;
    std::vector<std::pair<std::string, std::uint64_t>> skipped;
    std::vector<std::uint64_t> seqs;
    for (auto& [id, e] : sessions_) {
        const auto value = engine_.get(kind_session, as_durable_bytes(id));
        auto record = value ? read_session(*value, id, tb) : std::nullopt;
        if (!record) {
            broken.push_back(id);
            continue;
        }
        sink.session(std::move(*record));
        seqs.clear();
        for (const auto& [seq, m] : e.messages) seqs.push_back(seq);
        std::sort(seqs.begin(), seqs.end()); // arrival order
        for (const auto seq : seqs) {
            const auto b = e.messages.at(seq).body;
            const auto ev = engine_.get(kind_queue, queue_key(e.number, seq));
            auto fields = ev ? read_entry(*ev) : std::nullopt;
            body& bd = bodies_.at(b);
            if (!bd.msg) {
                const auto mv = engine_.get(kind_body, key64(b));
                if (mv) {
                    reader r(*mv);
                    auto m = read_message(r, tb);
                    if (m && r.done()) {
                        bd.msg = std::move(m);
                        body_of_.emplace(bd.msg.get(), b);
                    }
                }
            }
            if (!fields || !bd.msg) {
                skipped.emplace_back(id, seq); // the broker never sees it: removed below
                continue;
            }
            stored_delivery d;
            d.client_id = id;
            d.seq = seq;
            d.msg = bd.msg;
            d.qos = fields->qos;
            d.retain = fields->retain;
            d.sub_ids = std::move(fields->sub_ids);
            d.packet_id = fields->packet_id;
            d.released = fields->released;
            sink.delivery(std::move(d));
        }
        for (const auto pid : e.pubrels) sink.awaiting_pubrel(id, pid);
    }
    for (const auto& id : broken) {
        if (opts_.log)
            opts_.log("store " + engine_.path() + ": the session of " + id +
                      " cannot be decoded; removed");
        ++discarded_;
        session_ended(id);
    }
    for (const auto& [id, seq] : skipped) {
        const auto it = sessions_.find(id);
        if (it == sessions_.end()) continue;
        const auto m = it->second.messages.find(seq);
        if (m == it->second.messages.end()) continue;
        if (opts_.log && discarded_ < 10)
            opts_.log("store " + engine_.path() + ": a queued message of " + id +
                      " cannot be decoded; removed");
        ++discarded_;
        erase(kind_queue, queue_key(it->second.number, seq));
        unref(m->second.body);
        it->second.messages.erase(m);
    }
}

} // namespace mqttwire::broker
