// The persistent store while the broker runs: each store event (retained messages, sessions
// saved and ended, messages queued, sent, released and done, QoS 2 identifiers) as puts and
// erases in the engine's batch, message bodies stored once and counted, and commit().
#include "store/durable_broker_records.hpp"
#include "store/durable_broker_store.hpp"

#include <utility>

#include "session/session.hpp"

namespace mqttwire::broker {

using namespace durable_records;

durable_broker_store::durable_broker_store(durable_store engine, options opts)
    : engine_(std::move(engine)), opts_(std::move(opts)) {}

durable_broker_store::~durable_broker_store() = default;

void durable_broker_store::flush_deferred() {
    session_entry* e = deferred_.entry;
    if (e == nullptr) return;
    deferred_.entry = nullptr;
    const auto it = e->messages.find(deferred_.seq);
    if (it != e->messages.end()) put_entry(*e, deferred_.seq, it->second);
}

void durable_broker_store::put_entry(const session_entry& e, std::uint64_t seq,
                                     const stored_entry& se) {
    // Its own buffer: a held-back entry is written from inside put(), whose value may be in
    // scratch_; and any other held-back entry first, so that put() does not write it from
    // this buffer while it holds this entry.
    flush_deferred();
    writer w(entry_scratch_);
    write_entry(w, se.body, se.flags, se.packet_id, {});
    put(kind_queue, queue_key(e.number, seq), entry_scratch_);
}

void durable_broker_store::put(std::uint8_t kind, std::span<const std::byte> key,
                               std::span<const std::byte> value) {
    flush_deferred();
    pending_ = true;
    if (auto st = engine_.put(kind, key, value); !st && failed_.ok()) failed_ = std::move(st);
}

void durable_broker_store::erase(std::uint8_t kind, std::span<const std::byte> key) {
    flush_deferred();
    pending_ = true;
    if (auto st = engine_.erase(kind, key); !st && failed_.ok()) failed_ = std::move(st);
}

durable_status durable_broker_store::commit() {
    flush_deferred();
    if (!failed_.ok()) return failed_;
    if (!pending_) return {};
    auto st = engine_.commit();
    if (st) pending_ = false;
    return st;
}

durable_status durable_broker_store::idle() {
    if (pending_ || !failed_.ok()) return commit();
    // A compaction that fails leaves the store as it was: logged, never a reason to stop (a
    // store that became unusable fails the next commit instead).
    if (auto st = engine_.compact_step(); !st && opts_.log) opts_.log(st.message());
    return {};
}

void durable_broker_store::retain(const message_ptr& m) {
    retained_.retain(m);
    writer w(scratch_);
    write_message(w, *m, opts_.now);
    put(kind_retained, as_durable_bytes(m->topic), scratch_);
}

bool durable_broker_store::forget_retained(std::string_view topic) {
    if (!retained_.forget_retained(topic)) return false;
    erase(kind_retained, as_durable_bytes(topic));
    return true;
}

void durable_broker_store::match_retained(std::string_view filter,
                                          const std::function<void(const message_ptr&)>& f) const {
    retained_.match_retained(filter, f);
}

durable_broker_store::session_entry* durable_broker_store::find_entry(const session& s) {
    if (&s == last_session_) return last_entry_;
    const auto it = sessions_.find(s.client_id);
    if (it == sessions_.end()) return nullptr;
    last_session_ = &s;
    last_entry_ = &it->second;
    return last_entry_;
}

durable_broker_store::session_entry& durable_broker_store::entry_of(const session& s) {
    if (session_entry* known = find_entry(s)) return *known;
    auto& e = sessions_[s.client_id];
    e.number = next_session_++;
    // A session is saved when it is created; this keeps the queue's owner on disk otherwise.
    writer w(scratch_);
    write_session(w, e.number, record_of(s), time_base(opts_.now()));
    put(kind_session, as_durable_bytes(s.client_id), scratch_);
    return e;
}

void durable_broker_store::session_saved(const session& s) {
    session_entry* e = find_entry(s);
    if (e == nullptr) {
        (void)entry_of(s);
        return;
    }
    writer w(scratch_);
    write_session(w, e->number, record_of(s), time_base(opts_.now()));
    put(kind_session, as_durable_bytes(s.client_id), scratch_);
}

void durable_broker_store::session_ended(std::string_view client_id) {
    const auto it = sessions_.find(std::string(client_id));
    if (it == sessions_.end()) return;
    last_session_ = nullptr; // the session object goes too, and its address may come back
    last_entry_ = nullptr;
    flush_deferred(); // it may be this session's: its entry is erased with the others below
    const session_entry& e = it->second;
    for (const auto& [seq, m] : e.messages) {
        erase(kind_queue, queue_key(e.number, seq));
        unref(m.body);
    }
    for (const auto id : e.pubrels) erase(kind_pubrel, pubrel_key(e.number, id));
    erase(kind_session, as_durable_bytes(client_id));
    sessions_.erase(it);
}

void durable_broker_store::message_added(const session& s, const delivery& d) {
    session_entry& e = entry_of(s);
    std::uint64_t number = 0;
    if (const auto known = body_of_.find(d.msg.get()); known != body_of_.end()) {
        number = known->second;
        ++bodies_[number].refs;
    } else {
        number = next_body_++;
        bodies_[number] = body{d.msg, 1};
        body_of_.emplace(d.msg.get(), number);
        writer w(scratch_);
        write_message(w, *d.msg, opts_.now);
        put(kind_body, key64(number), scratch_);
    }
    if (const auto old = e.messages.find(d.seq); old != e.messages.end()) unref(old->second.body);
    const auto flags =
        static_cast<std::uint8_t>(static_cast<unsigned>(d.qos) | (d.retain ? flag_retain : 0u));
    e.messages[d.seq] = {number, 0, flags, !d.sub_ids.empty()};
    if (d.sub_ids.empty()) {
        flush_deferred();
        deferred_ = {&e, d.seq};
        pending_ = true;
        return;
    }
    writer w(scratch_);
    write_entry(w, number, flags, 0, d.sub_ids);
    put(kind_queue, queue_key(e.number, d.seq), scratch_);
}

void durable_broker_store::rewrite_entry(const session& s, std::uint64_t seq,
                                         std::uint16_t packet_id, bool released) {
    session_entry* e = find_entry(s);
    if (e == nullptr) return;
    const auto m = e->messages.find(seq);
    if (m == e->messages.end()) return;
    stored_entry& se = m->second;
    if (released) {
        se.flags = static_cast<std::uint8_t>(se.flags | flag_released);
    } else {
        se.packet_id = packet_id;
    }
    if (deferred_.entry == e && deferred_.seq == seq) return; // written once, when flushed
    const auto key = queue_key(e->number, seq);
    if (!se.sub_ids) {
        put_entry(*e, seq, se);
        return;
    }
    const auto value = engine_.get(kind_queue, key);
    if (!value || value->size() <= entry_packet_id_at + 1) return;
    scratch_.assign(value->begin(), value->end()); // the view ends with the next change
    scratch_[entry_flags_at] = std::byte{se.flags};
    scratch_[entry_packet_id_at] = std::byte(se.packet_id >> 8);
    scratch_[entry_packet_id_at + 1] = std::byte(se.packet_id & 0xFF);
    put(kind_queue, key, scratch_);
}

void durable_broker_store::message_sent(const session& s, std::uint64_t seq,
                                        std::uint16_t packet_id) {
    rewrite_entry(s, seq, packet_id, false);
}

void durable_broker_store::message_released(const session& s, std::uint64_t seq) {
    rewrite_entry(s, seq, 0, true);
}

void durable_broker_store::message_done(const session& s, std::uint64_t seq) {
    session_entry* e = find_entry(s);
    if (e == nullptr) return;
    const auto m = e->messages.find(seq);
    if (m == e->messages.end()) return;
    if (deferred_.entry == e && deferred_.seq == seq) {
        deferred_.entry = nullptr; // never written: nothing to erase
    } else {
        erase(kind_queue, queue_key(e->number, seq));
    }
    unref(m->second.body);
    e->messages.erase(m);
}

void durable_broker_store::unref(std::uint64_t number) {
    const auto it = bodies_.find(number);
    if (it == bodies_.end() || --it->second.refs != 0) return;
    if (it->second.msg) body_of_.erase(it->second.msg.get());
    bodies_.erase(it);
    erase(kind_body, key64(number));
}

void durable_broker_store::pubrel_awaited(const session& s, std::uint16_t packet_id,
                                          bool awaited) {
    session_entry& e = entry_of(s);
    if (awaited) {
        if (e.pubrels.insert(packet_id).second) put(kind_pubrel, pubrel_key(e.number, packet_id), {});
    } else if (e.pubrels.erase(packet_id) != 0) {
        erase(kind_pubrel, pubrel_key(e.number, packet_id));
    }
}

} // namespace mqttwire::broker
