// A bridge: construction, the event loop's side (socket readiness, turns, deadlines) and the
// local side (a 5.0 client inside the broker). The remote side: bridge_remote.cpp.

#include "bridge/bridge.hpp"
#include "bridge/bridge_shares.hpp"

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

namespace mqttwire::broker {

namespace {

// Socket reads per readiness report before the loop serves everyone else again.
constexpr int reads_per_ready = 16;

using bridge_shares::events_per_turn;
using bridge_shares::never;

} // namespace

net::tls_result<std::shared_ptr<const net::tls_context>>
bridge::tls_context_for(const bridge_config& cfg) {
    if (!cfg.tls_enabled()) return std::shared_ptr<const net::tls_context>();
    net::tls_client_settings s;
    s.cafile = cfg.cafile;
    s.capath = cfg.capath;
    s.certfile = cfg.certfile;
    s.keyfile = cfg.keyfile;
    return net::tls_context::client(s);
}

bridge::bridge(const bridge_config& cfg, broker& b, log_sink log, const std::string& host_name,
               std::shared_ptr<const net::tls_context> tls, bridge_limits limits)
    : cfg_(cfg), broker_(b), log_(std::move(log)), limits_(limits),
      remote_id_(cfg.remote_clientid.empty() ? host_name + "." + cfg.name : cfg.remote_clientid),
      local_id_(cfg.local_clientid.empty() ? "local." + remote_id_ : cfg.local_clientid),
      state_topic_(cfg.notification_topic.empty()
                       ? "$SYS/broker/connection/" + remote_id_ + "/state"
                       : cfg.notification_topic),
      storage_([&] {
          session_limits l;
          l.inflight = limits.inflight;
          l.requests = 4;
          l.inbound_qos2 = limits.inflight;
          // As many as the Receive Maximum the remote client announces (5.0): deferring never
          // fails there; before 5.0 the remote side stops being read while they are all used.
          l.deferred_acks = limits.inflight;
          l.input_bytes = limits.packet_bytes;
          l.output_bytes = limits.packet_bytes;
          l.resend_bytes = limits.packet_bytes;
          l.client_id_bytes = 256;
          return l;
      }()),
      local_state_(storage_), remote_state_(storage_), local_(local_state_, storage_),
      remote_(remote_state_, storage_), tls_context_(std::move(tls)), rng_(std::random_device{}()),
      epoch_(clock::now()) {
    for (const auto& t : cfg_.topics) {
        if (t.carries_in()) remote_filters_.push_back(t.remote_filter());
        if (t.carries_out()) local_filters_.push_back(t.local_filter());
    }
}

bridge::~bridge() { close_socket(); }

bridge::ms bridge::to_ms(clock::time_point t) const {
    return std::chrono::duration_cast<ms>(t - epoch_);
}

bool bridge::connected() const noexcept { return remote_up_; }

bool bridge::full(const queue& q) const noexcept {
    return q.items.size() >= limits_.queued_messages || q.bytes >= limits_.queued_bytes;
}

void bridge::push(queue& q, held h) {
    q.bytes += h.bytes();
    q.items.push_back(std::move(h));
}

// ---------------------------------------------------------------------------------------------
// The loop's side

// While a host name resolves, the loop watches the lookup's eventfd in place of a socket.
int bridge::fd() const { return state_ == remote_state::resolving ? lookup_.fd() : fd_; }

bool bridge::wants_read() const {
    return state_ == remote_state::resolving || (fd_ >= 0 && state_ == remote_state::open);
}

bool bridge::wants_write() const {
    if (fd_ < 0) return false;
    if (state_ == remote_state::connecting) return true;
    // Over TLS the MQTT bytes wait in the client until the handshake is done; only ciphertext
    // asks for the socket.
    return tls_ ? tls_->wants_write() : !remote_.output().empty();
}

void bridge::ready(bool readable, bool writable, clock::time_point now) {
    if (state_ == remote_state::resolving) {
        if (readable) remote_resolved(now);
        return;
    }
    if (fd_ < 0) return;
    if (state_ == remote_state::connecting) {
        if (!readable && !writable) return;
        int err = 0;
        socklen_t len = sizeof err;
        if (::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
        if (err != 0) {
            remote_failed(now, std::strerror(err), true);
            return;
        }
        remote_connected_socket(now);
        return;
    }
    if (readable) socket_read(now);
    if (fd_ >= 0) remote_pump(now);
}

void bridge::socket_read(clock::time_point now) {
    for (int i = 0; i < reads_per_ready && fd_ >= 0; ++i) {
        if (tls_) {
            if (!tls_plaintext(now)) return;
            std::array<std::byte, 16 * 1024> buf{};
            const auto room = std::min(buf.size(), tls_->input_room());
            if (room == 0) return;
            const auto n = ::recv(fd_, buf.data(), room, 0);
            if (n > 0) {
                (void)tls_->feed(
                    std::span<const std::byte>(buf.data(), static_cast<std::size_t>(n)));
                continue;
            }
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) break;
            tls_->end_of_input();
            (void)tls_plaintext(now);
            if (fd_ >= 0) remote_.transport_closed(to_ms(now));
            return;
        }
        auto space = remote_.input_space();
        if (space.empty()) {
            remote_pump(now); // make room: process what is buffered
            if (fd_ < 0 || full(to_local_)) break;
            space = remote_.input_space();
            if (space.empty()) break;
        }
        const auto n = ::recv(fd_, space.data(), space.size(), 0);
        if (n > 0) {
            remote_.input_written(static_cast<std::size_t>(n));
            if (static_cast<std::size_t>(n) < space.size()) break;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) break;
        remote_.transport_closed(to_ms(now)); // end of stream or error
        break;
    }
    if (fd_ >= 0 && tls_) (void)tls_plaintext(now);
}

// Decrypted bytes into the remote client's input, processing it when it is full. False when
// no more fits now or the connection failed.
bool bridge::tls_plaintext(clock::time_point now) {
    while (fd_ >= 0 && tls_) {
        auto space = remote_.input_space();
        if (space.empty()) {
            remote_pump(now);
            if (fd_ < 0 || !tls_ || full(to_local_)) return false;
            space = remote_.input_space();
            if (space.empty()) return false;
        }
        const auto n = tls_->read(space);
        if (n == 0) break;
        remote_.input_written(n);
    }
    if (fd_ < 0 || !tls_) return false;
    if (tls_->state() == net::tls_state::failed) {
        remote_failed(now, "TLS: " + tls_->failure_message(), true);
        return false;
    }
    return true;
}

void bridge::turn(clock::time_point now) {
    if (stopping_) return;
    if (local_conn_ == 0) local_start(now);
    local_pump(now);
    if (state_ == remote_state::resolving && now >= resolve_by_) remote_resolved(now);
    if (state_ == remote_state::waiting && now >= restart_at_) remote_open(now);
    if (state_ == remote_state::open) remote_pump(now);
    // What the remote side freed may let local messages move, and the other way round.
    if (!to_local_.items.empty()) local_pump(now);
}

std::optional<clock::time_point> bridge::deadline() const {
    if (stopping_) return std::nullopt;
    std::optional<clock::time_point> next;
    const auto consider = [&](std::optional<clock::time_point> t) {
        if (t && (!next || *t < *next)) next = t;
    };
    if (local_conn_ == 0) return epoch_; // start the local side now
    if (const auto d = local_.deadline()) consider(epoch_ + *d);
    if (state_ == remote_state::waiting) consider(restart_at_);
    if (state_ == remote_state::resolving) consider(resolve_by_);
    if (state_ == remote_state::open)
        if (const auto d = remote_.deadline()) consider(epoch_ + *d);
    // The last turn's share ran out with work left.
    if (local_more_) consider(epoch_);
    return next;
}

void bridge::shutdown(clock::time_point now) {
    if (stopping_) return;
    // A clean end fires no will: the remote broker is told the state itself.
    if (remote_up_) publish_remote_state(false, now);
    if (state_ == remote_state::open) {
        (void)remote_.disconnect();
        (void)remote_flush();
    }
    close_socket();
    // A lookup still running is let go: its thread finishes on its own (host_lookup.hpp).
    lookup_.reset();
    state_ = remote_state::waiting;
    if (remote_up_) {
        remote_up_ = false;
        publish_state(false, now);
    }
    local_pump(now);
    stopping_ = true;
    if (local_conn_ != 0) {
        (void)local_.disconnect();
        local_pump(now);
    }
}

// ---------------------------------------------------------------------------------------------
// Local side: a 5.0 client inside the broker

void bridge::local_start(clock::time_point now) {
    local_conn_ = broker_.accept_trusted(now);
    connect_options o;
    o.version = protocol_version::v5;
    o.client_id = utf8_view(local_id_);
    o.clean_start = cfg_.cleansession;
    o.keep_alive = 0;
    o.session_expiry = cfg_.cleansession ? 0 : never;
    if (const auto e = local_.connect(o, to_ms(now)); e != errc::success && log_)
        log_("bridge " + cfg_.name + ": local connection: " + std::string(errc_name(e)));
}

void bridge::local_pump(clock::time_point now) {
    local_more_ = false;
    if (local_conn_ == 0) return;
    const auto t = to_ms(now);
    bool progress = true;
    for (int round = 0; round < events_per_turn && progress; ++round) {
        progress = false;
        // Our packets into the broker, while it reads us (it holds a publisher whose
        // subscriber's queue is full: then so do we).
        if (const auto out = local_.output(); !out.empty() && broker_.wants_input(local_conn_)) {
            broker_.receive(local_conn_, out, now);
            local_.output_written(out.size());
            progress = true;
        }
        // The broker's packets into ours, as far as they fit.
        if (const auto in = broker_.pending_output(local_conn_); !in.empty()) {
            if (const auto n = local_.feed(in); n != 0) {
                broker_.output_written(local_conn_, n, now);
                progress = true;
            }
        }
        while (!full(to_remote_)) {
            const auto ev = local_.next(t);
            if (!ev) break;
            progress = true;
            local_event(ev, now);
            if (local_conn_ == 0) return;
        }
        const auto before = to_local_.items.size();
        drain(to_local_, local_, now);
        if (to_local_.items.size() != before) progress = true;
        if (broker_.should_close(local_conn_)) {
            broker_.connection_lost(local_conn_, now);
            local_.transport_closed(t);
            while (const auto ev = local_.next(t)) local_event(ev, now);
            local_conn_ = 0;
            local_up_ = false;
            return;
        }
    }
    local_more_ = progress;
    if (state_ == remote_state::open && (!to_remote_.items.empty() || !remote_.output().empty())) {
        drain(to_remote_, remote_, now);
        (void)remote_flush(); // with the acknowledgements of crossed messages
    }
}

void bridge::local_event(const session_event& ev, clock::time_point now) {
    switch (ev.kind) {
    case event_kind::connected: {
        local_up_ = true;
        if (!ev.session_present) lost_local_session(now);
        // What the bridge publishes here is not taken back out (no loop), and retained
        // messages cross as retained.
        subscribe(local_, false, true, now);
        if (remote_up_) publish_state(true, now);
        return;
    }
    case event_kind::message: (void)cross(*ev.message, false, to_remote_); return;
    case event_kind::published:
        // The local broker has a crossed message: the remote broker's acknowledgement goes now.
        if (const auto it = crossing_.find(ev.packet_id); it != crossing_.end()) {
            auto o = it->second;
            crossing_.erase(it);
            o.reason = ev.reason;
            acknowledge_remote(o);
        }
        return;
    case event_kind::closed:
        local_up_ = false;
        if (log_ && !stopping_)
            log_("bridge " + cfg_.name + ": local connection closed (" +
                 std::to_string(static_cast<unsigned>(ev.reason)) + ")");
        return;
    default: return;
    }
}

// SUBSCRIBE on one side to the filters of the topics that carry messages from it.
void bridge::subscribe(link& side, bool remote, bool loop_options, clock::time_point now) {
    std::vector<subscription> subs;
    const auto& filters = remote ? remote_filters_ : local_filters_;
    for (std::size_t i = 0, k = 0; i < cfg_.topics.size(); ++i) {
        const auto& t = cfg_.topics[i];
        if (!(remote ? t.carries_in() : t.carries_out())) continue;
        subscription s;
        s.filter = utf8_view(filters[k++]);
        s.options.max_qos = static_cast<mqttwire::qos>(t.qos);
        s.options.no_local = loop_options;
        s.options.retain_as_published = loop_options;
        subs.push_back(s);
    }
    if (subs.empty()) return;
    if (const auto r = side.subscribe(subs, to_ms(now)); !r && log_)
        log_("bridge " + cfg_.name + (remote ? ": SUBSCRIBE: " : ": local SUBSCRIBE: ") +
             std::string(errc_name(r.error())));
}

// A message from one side, queued for the other under the first topic line that carries it
// that way: one prefix replaced by the other, QoS capped by the line's. Null when no line
// carries it.
bridge::held* bridge::cross(const publish_view& m, bool inbound, queue& to) {
    const auto topic = m.topic.as_string_view();
    for (const auto& t : cfg_.topics) {
        const auto& from = inbound ? t.remote_prefix : t.local_prefix;
        if (!(inbound ? t.carries_in() : t.carries_out()) || !topic.starts_with(from) ||
            !topic_matches(inbound ? t.remote_filter() : t.local_filter(), topic))
            continue;
        held h;
        h.topic =
            (inbound ? t.local_prefix : t.remote_prefix) + std::string(topic.substr(from.size()));
        const auto pb = m.payload.bytes();
        h.payload.assign(pb.begin(), pb.end());
        h.qos = std::min(m.qos, static_cast<mqttwire::qos>(t.qos));
        h.retain = m.retain;
        push(to, std::move(h));
        return &to.items.back();
    }
    return nullptr;
}

void bridge::acknowledge_remote(owed_remote o) {
    // A remote connection that ended took its deferred identifiers with it: the remote broker
    // sends those messages again after reconnecting.
    if (o.link != remote_link_ || remote_.status() != connection_status::connected) return;
    // What the local broker accepted (0x00, 0x10) is Success there; a refusal keeps its code
    // when PUBACK / PUBREC can carry it (5.0), 0x83 otherwise.
    if (static_cast<std::uint8_t>(o.reason) < 0x80)
        o.reason = reason_code::success;
    else if (!is_allowed(o.reason, reason_context::puback))
        o.reason = reason_code::implementation_specific_error;
    const auto e = remote_.acknowledge(o.id, o.reason);
    if (e == errc::would_block) remote_acks_.push_back(o); // bounded by the deferred ones
}

// The local session did not survive (cleansession true, or the broker lost it): the crossed
// messages it had in flight are gone with it. Their remote acknowledgements were never sent, so
// the remote broker still holds them; it sends them again only on a new connection, so the
// remote connection is started again rather than left waiting forever.
void bridge::lost_local_session(clock::time_point now) {
    bool waiting = false;
    for (const auto& [local_id, o] : crossing_) waiting = waiting || o.link == remote_link_;
    crossing_.clear();
    if (!waiting || state_ != remote_state::open) return;
    remote_failed(now,
                  "the local session lost messages in flight; reconnecting so that the remote "
                  "broker sends them again",
                  false);
}

// The state at the remote broker: retained, QoS 1 (its will says "0" when the bridge vanishes).
void bridge::publish_remote_state(bool up, clock::time_point now) {
    if (!cfg_.notifications) return;
    publish_view p;
    p.topic = utf8_view(state_topic_);
    p.payload = binary_view(std::string_view(up ? "1" : "0"));
    p.qos = mqttwire::qos::at_least_once;
    p.retain = true;
    (void)remote_.publish(p, to_ms(now));
}

// "1" while the remote connection is up, "0" otherwise: retained, published here by the
// bridge's local session (mosquitto's $SYS/broker/connection/<remote client id>/state).
void bridge::publish_state(bool up, clock::time_point now) {
    if (!cfg_.notifications) return;
    held h;
    h.topic = state_topic_;
    h.payload.push_back(std::byte{static_cast<unsigned char>(up ? '1' : '0')});
    h.qos = mqttwire::qos::at_least_once;
    h.retain = true;
    push(to_local_, std::move(h));
    drain(to_local_, local_, now);
    // Its bytes reach the broker on the next pump: now, not at the next timer.
    local_more_ = true;
}

} // namespace mqttwire::broker
