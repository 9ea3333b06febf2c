#include "core/connection_table.hpp"

#include <algorithm>

namespace mqttwire::broker {

namespace {

constexpr std::uint32_t inbound_alias_slot_bytes = 1024;

std::uint32_t packet_limit(const settings& s) {
    return s.max_packet_size == 0 ? max_packet_size_limit : s.max_packet_size;
}

// What the broker announces and enforces per connection (MQTT5-3.2.2-*).
server_options options_of(const settings& s) {
    server_options o;
    o.receive_maximum = s.receive_maximum;
    o.retain_available = s.retain_available;
    o.maximum_packet_size = packet_limit(s);
    o.topic_alias_maximum = s.topic_alias_maximum;
    o.topic_aliases_out.maximum = s.max_topic_alias_out;
    o.topic_aliases_out.min_topic_length = s.topic_alias_out_min_length;
    o.topic_aliases_out.replace = s.topic_alias_out_replace;
    o.max_keep_alive = s.max_keepalive;
    o.connect_timeout = s.connect_timeout;
    o.pre_connect_packet_size = s.max_connect_size;
    o.bridge_levels = true; // mosquitto bridges connect with levels 0x83 / 0x84
    return o;
}

// Buffers and tables grow with traffic up to these bounds and shrink back when drained.
session_limits limits_of(const settings& s) {
    session_limits l;
    // Packet identifiers in flight to the client: max_inflight_messages (0: the client's
    // Receive Maximum, at most 65535).
    l.inflight = s.max_inflight_messages == 0 ? 65535 : s.max_inflight_messages;
    l.requests = 0; // the broker sends no SUBSCRIBE
    l.inbound_qos2 = s.receive_maximum;
    l.deferred_acks = 0;
    l.input_bytes = packet_limit(s);
    // Responses to a client's own requests are always written, and one message always fits:
    // the hard bound is the soft one (max_output_buffer, where QoS 0 drops and the client's
    // input pauses) plus a packet, capped at 4 GiB.
    const std::uint64_t out = std::uint64_t{s.max_output_buffer} + packet_limit(s) + 1024;
    l.output_bytes = static_cast<std::uint32_t>(std::min<std::uint64_t>(out, 0xFFFFFFFFu));
    l.resend_bytes = 0; // resent PUBLISHes are encoded again from the session's messages
    l.aliases_in = s.topic_alias_maximum;
    // A topic a client names by alias is kept in a slot of its own: the table is allocated
    // with the client's first alias. A longer topic gets Quota exceeded (0x97).
    l.alias_bytes_in = std::uint32_t{s.topic_alias_maximum} * inbound_alias_slot_bytes;
    if (s.topic_alias_out_slot_bytes != 0) {
        l.aliases_out = s.max_topic_alias_out;
        l.alias_bytes_out = std::uint32_t{s.max_topic_alias_out} * s.topic_alias_out_slot_bytes;
    }
    l.client_id_bytes = 0;
    return l;
}

} // namespace

connection_table::connection_table(const settings& s, timer_queue& timers)
    : settings_(s), timers_(timers), options_(options_of(s)), storage_(limits_of(s)) {}

connection& connection_table::open(clock::time_point now) {
    std::uint32_t slot = 0;
    if (free_slots_.empty()) {
        slot = static_cast<std::uint32_t>(slots_.size());
        slots_.emplace_back();
    } else {
        slot = free_slots_.back();
        free_slots_.pop_back();
    }
    auto c = std::make_unique<connection>(now, options_, storage_);
    c->id = (++generation_ << 32) | slot;
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
void connection_table::take(std::vector<conn_id>& list, void (*unlist)(connection&),
                            std::vector<conn_id>& out) {
    out.clear();
    out.swap(list);
    for (const auto id : out)
        if (connection* c = find(id)) unlist(*c);
}

void connection_table::take_dirty(std::vector<conn_id>& out) {
    take(dirty_, [](connection& c) { c.dirty = false; }, out);
}

void connection_table::resume(conn_id id) {
    connection* c = find(id);
    if (c == nullptr || c->resume_pending) return;
    c->resume_pending = true;
    resumed_.push_back(id);
}

void connection_table::take_resumed(std::vector<conn_id>& out) {
    take(resumed_, [](connection& c) { c.resume_pending = false; }, out);
}

void connection_table::update_stall(connection& c, bool queue_full, bool progress,
                                    clock::time_point now) {
    const bool over = c.connected() && (output_full(c) || queue_full);
    // A stalled client stays watched until it has read its output down to half the bound: the
    // kernel's buffers can take a few hundred KiB at once from a client that does not read, which
    // counts as progress once (the clock starts again), not as the end of the stall.
    const bool watched = over || (c.connected() && c.stalled_since() &&
                                  c.output().size() > settings_.max_output_buffer / 2);
    if (!watched) {
        if (c.pressure) {
            c.pressure->stalled_since.reset();
            c.relieve();
        }
        return;
    }
    auto& pressure = c.under_pressure();
    auto& since = pressure.stalled_since;
    if (!since || progress) {
        since = now;
        pressure.taken = 0;
    }
    timers_.schedule(timer_kind::slow_consumer, c.id, *since + settings_.slow_consumer_timeout,
                     c.timers);
}

void connection_table::took(connection& c, std::size_t n, bool queue_full,
                             clock::time_point now) {
    if (!c.stalled_since()) return;
    auto& taken = c.pressure->taken;
    taken += n;
    update_stall(c, queue_full, taken >= stall_progress() || c.output().empty(), now);
}

} // namespace mqttwire::broker
