#include "core/connection_table.hpp"

namespace mqttwire::broker {

connection& connection_table::open(conn_id id, clock::time_point now) {
    auto c = std::make_unique<connection>();
    c->id = id;
    c->opened = now;
    c->last_packet = now;
    auto& ref = *c;
    conns_.emplace(id, std::move(c));
    return ref;
}

void connection_table::erase(conn_id id) {
    const auto it = conns_.find(id);
    if (it == conns_.end()) return;
    timers_.abandon(it->second->timers.pending());
    conns_.erase(it);
}

void connection_table::take_dirty(std::vector<conn_id>& out) {
    out.clear();
    out.swap(dirty_);
    for (const auto id : out)
        if (connection* c = find(id)) c->dirty = false;
}

void connection_table::resume(conn_id id) {
    connection* c = find(id);
    if (c == nullptr || c->resume_pending) return;
    c->resume_pending = true;
    resumed_.push_back(id);
}

void connection_table::take_resumed(std::vector<conn_id>& out) {
    out.clear();
    out.swap(resumed_);
    for (const auto id : out)
        if (connection* c = find(id)) c->resume_pending = false;
}

void connection_table::update_stall(connection& c, bool queue_full, bool progress,
                                    clock::time_point now) {
    const bool over = c.connected() && (output_full(c) || queue_full);
    if (!over) {
        c.stalled_since.reset();
        return;
    }
    if (!c.stalled_since || progress) c.stalled_since = now;
    timers_.schedule(timer_kind::slow_consumer, c.id, *c.stalled_since + settings_.slow_consumer_timeout,
                     c.timers);
}

} // namespace mqttwire::broker
