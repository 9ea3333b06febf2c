#include "core/broker.hpp"

#include <algorithm>
#include <string>

#include "store/memory_store.hpp"

namespace mqttwire::broker {

namespace {

constexpr auto housekeeping_every = std::chrono::seconds(10);

#ifndef MQTTWIRE_BROKER_VERSION
#define MQTTWIRE_BROKER_VERSION "unknown"
#endif

} // namespace

broker::broker(settings s, log_sink log)
    : broker(std::move(s), std::move(log), std::make_unique<memory_store>(), nullptr) {}

broker::broker(settings s, log_sink log, store& st)
    : broker(std::move(s), std::move(log), nullptr, &st) {}

broker::broker(settings s, log_sink log, std::unique_ptr<store> owned, store* external)
    : settings_(std::move(s)), log_(std::move(log), settings_.verbose, settings_.typed_log, settings_.log_types),
      own_store_(std::move(owned)), store_(external != nullptr ? *external : *own_store_),
      policy_(settings_), conns_(settings_, timers_), writer_(conns_, stats_, log_),
      outbox_(settings_, writer_, conns_, stats_, log_, store_),
      router_(settings_, policy_, store_, outbox_, writer_, stats_),
      sessions_(settings_, log_, stats_, timers_, policy_, router_, outbox_, store_, conns_.storage()),
      handler_(broker_parts{settings_, log_, stats_, timers_, conns_, policy_, sessions_, router_,
                            outbox_}),
      sys_("mqttwire version " MQTTWIRE_BROKER_VERSION) {
    stats_.retained = store_.retained_count();
}

broker::~broker() = default;

conn_id broker::accept(clock::time_point now) {
    now_ = now;
    connection& c = conns_.open(now);
    ++stats_.connections;
    ++stats_.connections_total;
    handler_.opened(c, now);
    if (housekeeping_timer_[timer_kind::housekeeping] == clock::time_point::max()) {
        last_loads_ = now;
        timers_.schedule(timer_kind::housekeeping, 0, now + housekeeping_every, housekeeping_timer_);
    }
    return c.id;
}

conn_id broker::accept(clock::time_point now, const listener_policy* policy) {
    const conn_id id = accept(now);
    if (connection* c = conns_.find(id)) c->policy = policy;
    return id;
}

void broker::set_identity(conn_id id, std::string user) {
    if (connection* c = conns_.find(id)) c->identity = std::move(user);
}

conn_id broker::accept_trusted(clock::time_point now) {
    const conn_id id = accept(now);
    conns_.find(id)->trusted = true;
    return id;
}

void broker::receive(conn_id id, std::span<const std::byte> bytes, clock::time_point now) {
    now_ = now;
    if (connection* c = conns_.find(id)) handler_.receive(*c, bytes, now);
}

std::span<std::byte> broker::input_space(conn_id id) {
    connection* c = conns_.find(id);
    return c == nullptr ? std::span<std::byte>() : handler_.input_space(*c);
}

void broker::input_written(conn_id id, std::size_t n, clock::time_point now) {
    now_ = now;
    if (connection* c = conns_.find(id)) handler_.input_written(*c, n, now);
}

bool broker::wants_input(conn_id id) const {
    const connection* c = conns_.find(id);
    return c != nullptr && c->reading();
}

bool broker::held(conn_id id) const {
    const connection* c = conns_.find(id);
    return c == nullptr || c->st == connection::state::closing || c->paused();
}

void broker::connection_lost(conn_id id, clock::time_point now) {
    now_ = now;
    connection* c = conns_.find(id);
    if (c == nullptr) return;
    handler_.lost(*c, now);
    conns_.erase(id);
    --stats_.connections;
}

void broker::tick(clock::time_point now) {
    now_ = now;
    if (!started_) started_ = now;
    if (!log_queue_.empty()) {
        // Lines logged while these are published wait for the next tick.
        log_draining_.swap(log_queue_);
        for (const auto& [type, line] : log_draining_)
            publish_internal(log_topic(type), line, mqttwire::qos::at_most_once, false, now);
        log_draining_.clear();
    }
    if (settings_.sys_interval.count() > 0 && now >= sys_due_) publish_sys(now);
    // Connections resumed while these run (a publisher released, a budget run out again) wait
    // for the next turn, so one turn stays bounded.
    conns_.take_resumed(scratch_);
    for (const conn_id id : scratch_)
        if (connection* c = conns_.find(id)) handler_.resume(*c, now);
    while (const auto e = timers_.pop_due(now)) {
        switch (e->kind) {
        case timer_kind::protocol:
        case timer_kind::slow_consumer: handler_.on_timer(*e, now); break;
        case timer_kind::will_delay:
        case timer_kind::session_expiry: sessions_.on_timer(*e, now); break;
        case timer_kind::housekeeping:
            if (timer_queue::claim(*e, housekeeping_timer_)) housekeeping(now);
            break;
        }
    }
    timers_.compact([this](const timer_queue::entry& e) {
        switch (e.kind) {
        case timer_kind::protocol:
        case timer_kind::slow_consumer: {
            const connection* c = conns_.find(e.owner);
            return c != nullptr;
        }
        case timer_kind::will_delay:
        case timer_kind::session_expiry: return sessions_.expects(e);
        case timer_kind::housekeeping: return true;
        }
        return true;
    });
}

void broker::housekeeping(clock::time_point now) {
    stats_.update_loads(now - last_loads_);
    last_loads_ = now;
    timers_.schedule(timer_kind::housekeeping, 0, now + housekeeping_every, housekeeping_timer_);
}

std::optional<clock::time_point> broker::next_deadline() const {
    if (conns_.has_resumed() || !log_queue_.empty()) return now_;
    auto next = timers_.next();
    if (settings_.sys_interval.count() > 0 && (!next || sys_due_ < *next)) next = sys_due_;
    return next;
}

void broker::publish_internal(std::string_view topic, std::string_view payload, mqttwire::qos q,
                              bool retain, clock::time_point now) {
    now_ = now;
    publish_view p;
    p.topic = topic;
    p.payload = payload;
    p.qos = q;
    p.retain = retain;
    (void)router_.publish(publication(p, topic), origin{}, now);
}

void broker::queue_log_message(log_type t, std::string_view line) {
    if (log_queue_.size() >= max_queued_log_lines) return;
    log_queue_.emplace_back(t, std::string(line));
}

void broker::set_peer(conn_id id, std::string peer) {
    connection* c = conns_.find(id);
    if (c != nullptr && !peer.empty()) c->peer = optional_text(std::move(peer));
}

void broker::publish_sys(clock::time_point now) {
    // mosquitto 2.0 publishes $SYS retained at QoS 0.
    const auto uptime = std::chrono::duration_cast<std::chrono::seconds>(now - *started_);
    sys_.update(stats_, uptime, [&](std::string_view topic, std::string_view payload) {
        publish_internal(topic, payload, mqttwire::qos::at_most_once, true, now);
    });
    sys_due_ = now + settings_.sys_interval;
}

void broker::shutdown(clock::time_point now) {
    now_ = now;
    conns_.for_each([&](connection& c) { handler_.shut_down(c, now); });
}

std::span<const std::byte> broker::pending_output(conn_id id) const {
    const connection* c = conns_.find(id);
    if (c == nullptr) return {};
    return c->output();
}

void broker::output_written(conn_id id, std::size_t n) { output_written(id, n, now_); }

void broker::output_written(conn_id id, std::size_t n, clock::time_point now) {
    now_ = now;
    if (connection* c = conns_.find(id)) handler_.written(*c, n, now);
}

bool broker::should_close(conn_id id) const {
    const connection* c = conns_.find(id);
    return c == nullptr || c->st == connection::state::closing;
}

std::vector<conn_id> broker::take_dirty() {
    std::vector<conn_id> out;
    conns_.take_dirty(out);
    return out;
}

std::size_t broker::buffered_bytes() const {
    std::size_t n = 0;
    conns_.for_each([&](const connection& c) {
        n += c.proto.input_size() + c.spilled() + c.output().size();
    });
    sessions_.for_each([&](const session& s) {
        if (const session_traffic* t = s.traffic_if_any()) n += t->queued_bytes;
    });
    return n;
}

std::string broker::check_bounds(std::size_t largest_input) const {
    const std::size_t packet =
        (settings_.max_packet_size == 0 ? max_packet_size_limit : settings_.max_packet_size) +
        1024; // a message grows by a few properties on the way out
    const std::size_t inflight =
        settings_.max_inflight_messages == 0 ? 65535 : settings_.max_inflight_messages;
    std::string over;
    conns_.for_each([&](const connection& c) {
        const std::size_t in_limit =
            (c.st == connection::state::awaiting_connect ? settings_.max_connect_size : packet) +
            largest_input;
        const std::size_t in = c.proto.input_size() + c.spilled();
        if (in > in_limit)
            over += "connection " + std::to_string(c.id) + ": input " + std::to_string(in) +
                    " > " + std::to_string(in_limit) + "\n";
        // One message always fits an empty buffer, and a resume after reconnect writes the
        // whole in-flight window at once.
        const std::size_t out_limit = settings_.max_output_buffer + (inflight + 2) * packet;
        if (c.output().size() > out_limit)
            over += "connection " + std::to_string(c.id) + ": output " +
                    std::to_string(c.output().size()) + " > " + std::to_string(out_limit) + "\n";
    });
    sessions_.for_each([&](const session& s) {
        const session_traffic* t = s.traffic_if_any();
        if (t == nullptr) return;
        if (settings_.max_queued_messages != 0 && t->queue.size() > settings_.max_queued_messages)
            over += "session " + s.client_id + ": " + std::to_string(t->queue.size()) +
                    " queued > " + std::to_string(settings_.max_queued_messages) + "\n";
        if (settings_.max_queued_bytes != 0 &&
            t->queued_bytes > settings_.max_queued_bytes + packet + sizeof(message))
            over += "session " + s.client_id + ": " + std::to_string(t->queued_bytes) +
                    " queued bytes\n";
        if (t->inflight.size() > inflight)
            over += "session " + s.client_id + ": " + std::to_string(t->inflight.size()) +
                    " in flight > " + std::to_string(inflight) + "\n";
        if (settings_.max_subscriptions != 0 && s.subscriptions.size() > settings_.max_subscriptions)
            over += "session " + s.client_id + ": " + std::to_string(s.subscriptions.size()) +
                    " subscriptions\n";
    });
    return over;
}

} // namespace mqttwire::broker
