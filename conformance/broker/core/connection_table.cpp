#include "core/connection_table.hpp"

namespace mqttwire::broker {

connection& connection_table::open(clock::time_point now) {
    std::uint32_t slot = 0;
    if (free_slots_.empty()) {
        slot = static_cast<std::uint32_t>(slots_.size());
        slots_.emplace_back();
    } else {
        slot = free_slots_.back();
        free_slots_.pop_back();
    }
    auto c = std::make_unique<connection>();
    c->id = (++generation_ << 32) | slot;
    c->opened = now;
    c->last_packet = now;
    slots_[slot] = std::move(c);
    ++size_;
    return *slots_[slot];
}

void connection_table::erase(conn_id id) {
    connection* c = find(id);
    if (c == nullptr) return;
    timers_.abandon(c->timers.pending());
    const auto slot = slot_of(id);
    slots_[slot].reset();
    free_slots_.push_back(static_cast<std::uint32_t>(slot));
    --size_;
}

// Hands over a list and clears the flag that kept each connection from being listed twice.
void connection_table::take(std::vector<conn_id>& list, bool connection::*flag,
                            std::vector<conn_id>& out) {
    out.clear();
    out.swap(list);
    for (const auto id : out)
        if (connection* c = find(id)) c->*flag = false;
}

void connection_table::take_dirty(std::vector<conn_id>& out) {
    take(dirty_, &connection::dirty, out);
}

void connection_table::resume(conn_id id) {
    connection* c = find(id);
    if (c == nullptr || c->resume_pending) return;
    c->resume_pending = true;
    resumed_.push_back(id);
}

void connection_table::take_resumed(std::vector<conn_id>& out) {
    take(resumed_, &connection::resume_pending, out);
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
