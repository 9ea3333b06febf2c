#include "session/session_table.hpp"

#include <algorithm>
#include <chrono>
#include <vector>

#include "protocol/connection.hpp"

namespace mqttwire::broker {

session_table::~session_table() = default;

session* session_table::find(std::string_view client_id) const {
    const auto it = sessions_.find(client_id);
    return it == sessions_.end() ? nullptr : it->get();
}

session& session_table::create(std::string client_id) {
    auto fresh = std::make_unique<session>(storage_);
    fresh->client_id = std::move(client_id);
    fresh->serial = next_serial_++;
    auto& ref = *fresh;
    sessions_.insert(std::move(fresh));
    return ref;
}

std::string session_table::assign_id() {
    std::string id;
    do {
        id = settings_.auto_id_prefix + std::to_string(++assigned_ids_);
    } while (sessions_.find(std::string_view(id)) != sessions_.end());
    return id;
}

void session_table::take_over(session& s, clock::time_point now) {
    if (s.conn != nullptr) {
        s.conn = nullptr;
        --stats_.clients_connected;
        if (s.will && s.will->delay == 0) publish_will(s, now);
    }
    s.will.reset();
}

void session_table::attach(session& s, connection& c) {
    if (s.conn == nullptr && s.expires_at) --stats_.clients_disconnected; // was kept offline
    s.conn = &c;
    s.expires_at.reset();
    if (s.will) s.will->at.reset();
    stats_.client_connected();
}

void session_table::detach(session& s, bool publish_will_now, clock::time_point now) {
    s.conn = nullptr;
    --stats_.clients_connected;
    // Publishers held for this session's queue go on: it is offline now, so what does not fit
    // is dropped (counted) instead of waiting for a reader that left.
    outbox_.release_waiters(s);
    if (s.will) {
        if (!publish_will_now) {
            s.will.reset();
        } else if (s.will->delay == 0 || !s.persistent()) {
            publish_will(s, now);
        } else {
            // MQTT5-3.1.3-9: published after the Will Delay Interval, or when the session ends.
            s.will->at = now + std::chrono::seconds(s.will->delay);
        }
    }
    if (!s.persistent()) {
        end(s, now); // MQTT-3.1.2-6 / MQTT5-3.1.2-5: the session ends with the connection
        return;
    }
    kept_offline(s, now);
    saved(s); // offline now: the store keeps its deadline and pending will
}

void session_table::schedule(session& s) {
    const bool will = s.will && s.will->at;
    const bool expiry = s.expires_at && *s.expires_at != clock::time_point::max();
    if (!will && !expiry) return; // kept forever, nothing pending: no timer at all
    by_serial_[s.serial] = &s;
    if (will) timers_.schedule(timer_kind::will_delay, s.serial, *s.will->at, s.timers);
    if (expiry) timers_.schedule(timer_kind::session_expiry, s.serial, *s.expires_at, s.timers);
}

void session_table::publish_will(session& s, clock::time_point now) {
    if (!s.will) return;
    message_ptr w = std::move(s.will->msg);
    const std::optional<std::uint32_t> expiry = s.will->expiry;
    s.will.reset();
    if (expiry) {
        // MQTT5-3.3.2-6: the will's Message Expiry Interval counts from its publication.
        auto timed = std::make_shared<message>(*w);
        timed->expires = now + std::chrono::seconds(*expiry);
        w = std::move(timed);
    }
    if (!policy_.may_publish(s, w->topic)) return;
    std::vector<property> props;
    for (const auto& prop : w->forwarded_properties()) props.push_back(prop);
    if (expiry) props.push_back({property_id::message_expiry_interval, *expiry});
    publish_view form;
    form.topic = utf8_view(w->topic);
    form.qos = w->qos;
    form.retain = w->retain;
    form.payload = binary_view(std::span<const std::byte>(w->payload));
    form.properties = std::span<const property>(props);
    (void)router_.publish(publication(w, form), origin{&s, nullptr}, now);
}

void session_table::end(session& s, clock::time_point now) {
    if (s.will) publish_will(s, now); // MQTT5-3.1.3-9: a pending will goes out when it ends
    router_.unsubscribe_all(s);
    outbox_.discard(s);
    if (s.conn == nullptr && s.expires_at) --stats_.clients_disconnected;
    store_.session_ended(s.client_id); // also when the expiry was lowered to 0 at DISCONNECT
    timers_.abandon(s.timers.pending());
    by_serial_.erase(s.serial);
    const auto it = sessions_.find(std::string_view(s.client_id));
    if (it != sessions_.end()) sessions_.erase(it);
}

namespace {

class restorer final : public restore_sink {
  public:
    restorer(session_table& sessions, router& routes, clock::time_point now)
        : sessions_(sessions), router_(routes), now_(now) {}

    void session(session_record r) override {
        mqttwire::broker::session& s = sessions_.create(std::move(r.client_id));
        s.version = r.version;
        s.user = std::move(r.user);
        s.expiry_interval = r.expiry_interval;
        for (const auto& sub : r.subscriptions)
            (void)router_.subscribe(s, sub.filter, sub.options, sub.subscription_id);
        if (r.will) {
            s.will = std::make_unique<session_will>();
            s.will->msg = std::move(r.will);
            s.will->delay = r.will_delay;
            s.will->expiry = r.will_expiry;
            if (r.expires_at) {
                s.will->at = r.will_at; // offline when recorded: its deadlines stand
            } else {
                // It had a connection when the broker stopped: the restart cut that
                // connection, so the will goes out as for a lost connection (on the first
                // timer turn, once every session is back to receive it).
                s.will->at = now_ + std::chrono::seconds(s.will->delay);
            }
        }
        sessions_.kept_offline(s, now_, r.expires_at);
    }
    void delivery(stored_delivery d) override {
        mqttwire::broker::session* s = sessions_.find(d.client_id);
        if (s == nullptr || !d.msg) return;
        auto& t = s->traffic();
        mqttwire::broker::delivery one{std::move(d.msg), d.seq, d.qos, d.retain, std::move(d.sub_ids)};
        t.next_seq = std::max(t.next_seq, d.seq + 1);
        const auto state = d.qos == mqttwire::qos::at_least_once ? outbound_state::publish_qos1
                           : d.released                          ? outbound_state::pubrel
                                                                 : outbound_state::publish_qos2;
        if (d.packet_id != 0 && s->state.restore_outbound(d.packet_id, state) == errc::success) {
            t.inflight_bytes += one.msg->footprint();
            t.inflight.emplace(d.packet_id,
                               inflight_message{std::move(one), d.packet_id, d.released, t.next_order++});
            return;
        }
        t.queued_bytes += one.msg->footprint();
        t.queue.push_back(std::move(one));
    }
    void awaiting_pubrel(std::string_view client_id, std::uint16_t packet_id) override {
        if (mqttwire::broker::session* s = sessions_.find(client_id))
            (void)s->state.restore_inbound_qos2(packet_id);
    }

  private:
    session_table& sessions_;
    router& router_;
    clock::time_point now_;
};

} // namespace

void session_table::restore(clock::time_point now) {
    restorer sink(*this, router_, now);
    store_.restore(sink);
}

void session_table::kept_offline(session& s, clock::time_point now,
                                 std::optional<clock::time_point> deadline) {
    if (deadline) {
        s.expires_at = *deadline;
    } else if (s.expiry_interval != never_expires) {
        s.expires_at = now + std::chrono::seconds(s.expiry_interval);
    } else if (settings_.persistent_client_expiration) {
        s.expires_at = now + *settings_.persistent_client_expiration;
    }
    // Counted as disconnected while kept (a session kept forever has no deadline, and so no
    // timer; the sentinel marks it as counted).
    if (!s.expires_at) s.expires_at = clock::time_point::max();
    ++stats_.clients_disconnected;
    schedule(s);
}

bool session_table::expects(const timer_queue::entry& e) const {
    const auto it = by_serial_.find(e.owner);
    return it != by_serial_.end() && it->second->timers[e.kind] <= e.when;
}

void session_table::on_timer(const timer_queue::entry& e, clock::time_point now) {
    const auto it = by_serial_.find(e.owner);
    if (it == by_serial_.end()) return;
    session& s = *it->second;
    if (!timer_queue::claim(e, s.timers) || s.conn != nullptr) return;
    if (e.kind == timer_kind::will_delay) {
        if (s.will && s.will->at && *s.will->at <= now) {
            publish_will(s, now);
            saved(s); // the will is gone: a restart must not publish it again
        }
    } else if (e.kind == timer_kind::session_expiry) {
        if (s.expires_at && *s.expires_at <= now) {
            log_.info("session " + s.client_id + " expired");
            end(s, now);
            return;
        }
    }
    schedule(s); // whatever is still pending
}

} // namespace mqttwire::broker
