#include "session/outbox.hpp"

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

namespace mqttwire::broker {

namespace {

constexpr auto drop_log_interval = std::chrono::seconds(60);

} // namespace

connection* outbox::online(const session& s) noexcept {
    return s.conn != nullptr && s.conn->connected() ? s.conn : nullptr;
}

bool outbox::queue_full(const session& s) const noexcept {
    const session_traffic* t = s.traffic_if_any();
    if (t == nullptr || t->queue.empty()) return false; // one message always fits
    return (settings_.max_queued_messages != 0 &&
            t->queue.size() >= settings_.max_queued_messages) ||
           (settings_.max_queued_bytes != 0 && t->queued_bytes >= settings_.max_queued_bytes);
}

// Publishers are let go only once the queue is 1/8 below its bound, so a slow subscriber costs
// its publishers one pause and resume per eighth of a queue, not one per message.
bool outbox::below_low_water(const session& s) const noexcept {
    const session_traffic* t = s.traffic_if_any();
    if (t == nullptr) return true;
    const auto under = [](std::size_t used, std::size_t bound) {
        return bound == 0 || used * 8 <= bound * 7;
    };
    return under(t->queue.size(), settings_.max_queued_messages) &&
           under(t->queued_bytes, settings_.max_queued_bytes);
}

bool outbox::window_room(const session& s, const connection& c,
                         std::size_t footprint) const noexcept {
    // MQTT5-3.3.4-9: never more QoS 1/2 PUBLISHes in flight than the client's Receive Maximum,
    // and never more than max_inflight_messages (the session's limit), whatever it allows.
    if (c.proto.send_quota() == 0 || c.proto.resending()) return false;
    const session_traffic* t = s.traffic_if_any();
    if (t == nullptr) return true;
    // max_inflight_bytes as mosquitto: a message larger than the bound still goes alone.
    return settings_.max_inflight_bytes == 0 || t->inflight.empty() ||
           t->inflight_bytes + footprint <= settings_.max_inflight_bytes;
}

bool outbox::can_send_now(const session& s, std::size_t footprint) const noexcept {
    const connection* c = online(s);
    if (c == nullptr || conns_.output_full(*c)) return false;
    const session_traffic* t = s.traffic_if_any();
    return (t == nullptr || t->queue.empty()) && window_room(s, *c, footprint);
}

void outbox::after_write(session& s, connection& c, clock::time_point now) {
    if (conns_.output_full(c)) conns_.update_stall(c, queue_full(s), false, now);
}

void outbox::qos0_dropped(connection& c, session& s, clock::time_point now) {
    stats_.count_drop(drop_reason::output_full);
    connection_pressure& p = c.under_pressure();
    ++p.dropped;
    if (!c.dropping) {
        c.dropping = true;
        if (p.last_drop_log == clock::time_point{} || now - p.last_drop_log >= drop_log_interval) {
            p.last_drop_log = now;
            log_.info(logger::about(s.client_id, c.id,
                                    "output buffer full (" + std::to_string(c.output().size()) +
                                        " bytes not read); dropping QoS 0 messages for it (" +
                                        std::to_string(p.dropped) + " so far)"));
        }
    }
    conns_.update_stall(c, queue_full(s), false, now);
}

void outbox::deliver_qos0(session& s, const publication& m, bool retain,
                          std::span<const std::uint32_t> sub_ids, clock::time_point now) {
    connection* c = online(s);
    if (c == nullptr) return;
    // One message always fits an empty buffer, so a large one is never refused for its size.
    if (!c->output().empty() && conns_.output_full(*c)) {
        qos0_dropped(*c, s, now);
        return;
    }
    const auto r = m.is_live()
                       ? writer_.publish_view_of(*c, m.view(), m.topic(), retain, sub_ids, now)
                       : writer_.publish(*c, *m.owned(now), mqttwire::qos::at_most_once, retain,
                                         sub_ids, now)
                             .result;
    if (r == write_result::too_large) stats_.count_drop(drop_reason::too_large);
    if (r == write_result::expired) stats_.count_drop(drop_reason::expired);
    if (r == write_result::no_room) qos0_dropped(*c, s, now);
    after_write(s, *c, now);
}

void outbox::record_drop(session& s, drop_reason why, clock::time_point now) {
    stats_.count_drop(why);
    session_traffic& t = s.traffic();
    ++t.dropped;
    if (t.dropping) return;
    t.dropping = true;
    std::string line = "queue full (" + std::to_string(t.queue.size()) + " messages, " +
                       std::to_string(t.queued_bytes) + " bytes";
    line += why == drop_reason::offline_queue_full ? ", offline)" : ")";
    line += "; dropping QoS 1/2 messages for it (" + std::to_string(t.dropped) + " so far)";
    log_.info(logger::about(s.client_id, 0, line));
    (void)now;
}

void outbox::count_unsent(session& s, write_result r, const delivery& d) {
    if (r == write_result::too_large) stats_.count_drop(drop_reason::too_large);
    if (r == write_result::expired) stats_.count_drop(drop_reason::expired);
    if (s.persistent()) store_.message_done(s, d.seq);
}

bool outbox::send_now(session& s, connection& c, delivery& d, clock::time_point now) {
    auto& t = s.traffic();
    const auto w = writer_.publish(c, *d.msg, d.qos, d.retain, d.sub_ids, now);
    if (w.result == write_result::no_room) return false;
    if (w.result != write_result::written) {
        count_unsent(s, w.result, d);
        return true; // consumed: treated as delivered
    }
    if (s.persistent()) store_.message_sent(s, d.seq, w.packet_id);
    t.inflight_bytes += d.msg->footprint();
    t.inflight.emplace(w.packet_id, inflight_message{std::move(d), w.packet_id, false, t.next_order++});
    return true;
}

void outbox::deliver(session& s, delivery&& d, clock::time_point now) {
    connection* c = online(s);
    auto& t = s.traffic();
    const bool now_possible =
        c != nullptr && t.queue.empty() && !conns_.output_full(*c) && window_room(s, *c, d.msg->footprint());
    if (!now_possible && queue_full(s)) {
        record_drop(s, c == nullptr ? drop_reason::offline_queue_full : drop_reason::queue_full,
                    now);
        return;
    }
    d.seq = t.next_seq++;
    if (s.persistent()) store_.message_added(s, d);
    if (now_possible && send_now(s, *c, d, now)) {
        after_write(s, *c, now);
        return;
    }
    t.queued_bytes += d.msg->footprint();
    t.queue.push_back(std::move(d));
    if (c != nullptr && queue_full(s)) conns_.update_stall(*c, true, false, now);
}

void outbox::sent(session& s, std::uint16_t id, delivery&& d, clock::time_point now) {
    auto& t = s.traffic();
    d.seq = t.next_seq++;
    if (s.persistent()) {
        store_.message_added(s, d);
        store_.message_sent(s, d.seq, id);
    }
    t.inflight_bytes += d.msg->footprint();
    t.inflight.emplace(id, inflight_message{std::move(d), id, false, t.next_order++});
    if (connection* c = online(s)) after_write(s, *c, now);
}

void outbox::pump(session& s, clock::time_point now) {
    connection* c = online(s);
    session_traffic* t = s.traffic_if_any();
    if (c == nullptr || t == nullptr) return;
    while (!t->queue.empty() && !conns_.output_full(*c) && window_room(s, *c, t->queue.front().msg->footprint())) {
        delivery d = std::move(t->queue.front());
        t->queue.pop_front();
        t->queued_bytes -= d.msg->footprint();
        if (d.msg->expires && *d.msg->expires <= now) { // MQTT5-3.3.2-5
            stats_.count_drop(drop_reason::expired);
            if (s.persistent()) store_.message_done(s, d.seq);
            continue;
        }
        if (!send_now(s, *c, d, now)) break;
    }
    after_write(s, *c, now);
    if (below_low_water(s)) {
        t->dropping = false; // the episode is over; the next one is logged again
        if (!t->waiters.empty()) release_waiters(s);
    }
}

void outbox::resuming(session& s, clock::time_point now) {
    if (session_traffic* t = s.traffic_if_any()) t->resend_at = now;
}

std::span<const std::byte> resend_encoding(session& s, std::uint16_t id) noexcept {
    session_traffic* t = s.traffic_if_any();
    if (t == nullptr) return {};
    const auto it = t->inflight.find(id);
    if (it == t->inflight.end()) return {};
    const delivery& d = it->second.d;
    std::vector<property> props;
    publish_view p;
    (void)publish_of(*d.msg, d.qos, d.retain, true, d.sub_ids, t->resend_at, props, p);
    p.packet_id = id;
    const auto size = encoded_size(p, s.version);
    if (!size) return {};
    t->resend_scratch.resize(*size);
    if (!encode(p, s.version, std::span<std::byte>(t->resend_scratch))) return {};
    return t->resend_scratch;
}

void outbox::forget(session& s, session_traffic& t, std::uint16_t id) {
    const auto it = t.inflight.find(id);
    if (s.persistent()) store_.message_done(s, it->second.d.seq);
    t.inflight_bytes -= it->second.d.msg->footprint();
    t.inflight.erase(it);
    if (t.inflight.empty()) {
        t.resend_scratch.clear();
        t.resend_scratch.shrink_to_fit();
    }
}

bool outbox::acknowledged(session& s, std::uint16_t id, clock::time_point now) {
    session_traffic* t = s.traffic_if_any();
    if (t == nullptr || t->inflight.find(id) == t->inflight.end()) return false;
    forget(s, *t, id);
    pump(s, now);
    return true;
}

void outbox::released(session& s, std::uint16_t id) {
    session_traffic* t = s.traffic_if_any();
    if (t == nullptr) return;
    const auto it = t->inflight.find(id);
    if (it == t->inflight.end()) return;
    it->second.released = true;
    if (s.persistent()) store_.message_released(s, it->second.d.seq);
}

void outbox::hold(session& s, connection& publisher) {
    publisher.blocked_on = s.serial;
    auto& w = s.traffic().waiters;
    if (std::find(w.begin(), w.end(), publisher.id) == w.end()) w.push_back(publisher.id);
    ++stats_.publishers_paused;
}

void outbox::release_waiters(session& s) {
    session_traffic* t = s.traffic_if_any();
    if (t == nullptr) return;
    for (const conn_id id : t->waiters) {
        connection* c = conns_.find(id);
        if (c == nullptr || c->blocked_on != s.serial) continue;
        c->blocked_on = 0;
        conns_.resume(id);
    }
    t->waiters.clear();
    t->waiters.shrink_to_fit();
}

void outbox::discard(session& s) {
    release_waiters(s);
    s.drop_traffic();
}

} // namespace mqttwire::broker
