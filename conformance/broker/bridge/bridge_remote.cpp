// A bridge's remote side: connecting (the host name resolved off the loop, host_lookup.hpp;
// TCP, then TLS when configured), the remote client's events, failures and the reconnect
// backoff; and draining a queue of crossed messages into either side.

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

using bridge_shares::events_per_turn;
using bridge_shares::never;

protocol_version version_of(bridge_protocol p) {
    switch (p) {
    case bridge_protocol::mqttv31: return protocol_version::v3_1;
    case bridge_protocol::mqttv50: return protocol_version::v5;
    default: return protocol_version::v3_1_1;
    }
}

} // namespace

// ---------------------------------------------------------------------------------------------
// Remote side

// Connects to the current address: at once to an address (no resolver), otherwise once its
// host name has resolved (remote_resolved). At most one lookup runs per bridge: one that passed
// its time limit is kept until it ends, and waited for again when its host is due again (a
// fresh time limit); an attempt that needs another host's lookup meanwhile fails at once.
void bridge::remote_open(clock::time_point now) {
    const auto& a = cfg_.addresses[address_ % cfg_.addresses.size()];
    const auto port = std::to_string(a.port);
    if (const auto numeric = host_lookup::numeric(a.host, port)) {
        remote_connect(now, *numeric);
        return;
    }
    if (lookup_.finished()) lookup_.reset(); // an answer that came too late: resolve again
    if (lookup_.held() && !lookup_.is_for(a.host, port)) {
        remote_failed(now,
                      "cannot resolve " + a.host + " yet: the lookup of " + lookup_.host() +
                          " still runs",
                      true);
        return;
    }
    if (!lookup_.held()) {
        if (auto e = lookup_.start(a.host, port); !e.empty()) {
            remote_failed(now, "cannot resolve " + a.host + ": " + e, false);
            return;
        }
    }
    ++generation_; // the loop watches the lookup's eventfd now
    state_ = remote_state::resolving;
    resolve_by_ = now + limits_.resolve_time;
}

// The lookup's eventfd is readable, or its time is up (turn).
void bridge::remote_resolved(clock::time_point now) {
    const auto& a = cfg_.addresses[address_ % cfg_.addresses.size()];
    if (!lookup_.finished()) {
        if (now < resolve_by_) return;
        // Not watched from now on (remote_failed: waiting); kept, so that no second lookup
        // starts while it runs.
        remote_failed(now,
                      "cannot resolve " + a.host + ": no answer within " +
                          std::to_string(limits_.resolve_time.count()) + " ms",
                      true);
        return;
    }
    auto found = lookup_.take();
    const auto why = found ? std::string() : lookup_.error();
    lookup_.reset();
    state_ = remote_state::waiting;
    if (!found) {
        remote_failed(now, "cannot resolve " + a.host + ": " + why, true);
        return;
    }
    remote_connect(now, *found);
}

// A non-blocking connect to the first address found (connecting, or open at once).
void bridge::remote_connect(clock::time_point now, const addrinfo& to) {
    const int s =
        ::socket(to.ai_family, to.ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, to.ai_protocol);
    if (s < 0) {
        remote_failed(now, std::string("socket: ") + std::strerror(errno), false);
        return;
    }
    const int c = ::connect(s, to.ai_addr, to.ai_addrlen);
    const int err = errno;
    fd_ = s;
    ++generation_;
    state_ = remote_state::connecting;
    if (c == 0) {
        remote_connected_socket(now);
    } else if (err != EINPROGRESS) {
        remote_failed(now, std::strerror(err), true);
    }
}

void bridge::remote_connected_socket(clock::time_point now) {
    state_ = remote_state::open;
    if (tls_context_) {
        const auto& a = cfg_.addresses[address_ % cfg_.addresses.size()];
        // bridge_insecure: no host name check (the chain is still verified against the CAs).
        auto e = net::tls_engine::client(tls_context_, cfg_.insecure ? std::string() : a.host);
        if (!e) {
            remote_failed(now, "TLS: " + e.error().message, true);
            return;
        }
        tls_.emplace(std::move(e).value());
    }
    const auto version = version_of(cfg_.protocol);
    connect_options o;
    o.version = version;
    o.client_id = utf8_view(remote_id_);
    o.clean_start = cfg_.cleansession;
    o.keep_alive = cfg_.keepalive_interval;
    if (cfg_.remote_username) o.user_name = utf8_view(*cfg_.remote_username);
    if (cfg_.remote_password) o.password = binary_view(std::string_view(*cfg_.remote_password));
    if (version == protocol_version::v5 && !cfg_.cleansession) o.session_expiry = never;
    // The bridge flag: the remote broker then does not send back what the bridge publishes.
    o.bridge = cfg_.try_private && use_private_ && version != protocol_version::v5;
    if (cfg_.notifications) {
        will_view w;
        w.topic = utf8_view(state_topic_);
        w.payload = binary_view(std::string_view("0"));
        w.qos = mqttwire::qos::at_least_once;
        w.retain = true;
        o.will = w;
    }
    if (const auto e = remote_.connect(o, to_ms(now)); e != errc::success) {
        remote_failed(now, "CONNECT: " + std::string(errc_name(e)), true);
        return;
    }
    (void)remote_flush();
}

bool bridge::remote_flush() {
    while (fd_ >= 0) {
        if (tls_) {
            for (auto plain = remote_.output(); !plain.empty(); plain = remote_.output()) {
                const auto taken = tls_->write(plain);
                if (taken == 0) break; // handshaking, or the ciphertext is at its bound
                remote_.output_written(taken);
            }
        }
        const auto out = tls_ ? tls_->pending_output() : remote_.output();
        if (out.empty()) return true;
        const auto n = ::send(fd_, out.data(), out.size(), MSG_NOSIGNAL);
        if (n > 0) {
            if (tls_)
                tls_->consume_output(static_cast<std::size_t>(n));
            else
                remote_.output_written(static_cast<std::size_t>(n));
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return true;
        return false; // the read side reports the end
    }
    return false;
}

void bridge::remote_pump(clock::time_point now) {
    const auto t = to_ms(now);
    if (!remote_acks_.empty()) {
        auto due = std::move(remote_acks_);
        remote_acks_.clear();
        for (const auto& o : due) acknowledge_remote(o);
    }
    for (int i = 0; i < events_per_turn && state_ == remote_state::open; ++i) {
        // Not read further while the local side cannot take more, nor while every remote
        // acknowledgement it may defer waits for the local broker.
        if (full(to_local_) || remote_.deferred() >= limits_.inflight) break;
        const auto ev = remote_.next(t);
        if (!ev) break;
        remote_event(ev, now);
    }
    if (state_ != remote_state::open) return;
    if (!to_local_.items.empty()) local_pump(now);
    drain(to_remote_, remote_, now);
    if (!remote_flush()) {
        remote_.transport_closed(t);
        while (state_ == remote_state::open) {
            const auto ev = remote_.next(t);
            if (!ev) break;
            remote_event(ev, now);
        }
    }
}

void bridge::remote_event(const session_event& ev, clock::time_point now) {
    const auto& a = cfg_.addresses[address_ % cfg_.addresses.size()];
    switch (ev.kind) {
    case event_kind::connected: {
        remote_up_ = true;
        backoff_ = std::chrono::milliseconds(0);
        if (log_)
            log_("bridge " + cfg_.name + ": connected to " + a.host + ":" + std::to_string(a.port) +
                 (ev.session_present ? " (session resumed)" : ""));
        // 5.0 asks for No Local and Retain As Published per subscription; before 5.0 the
        // bridge flag asks for the same.
        ++remote_link_; // deferred identifiers of earlier connections are void
        remote_acks_.clear();
        subscribe(remote_, true, cfg_.protocol == bridge_protocol::mqttv50, now);
        publish_remote_state(true, now);
        publish_state(true, now);
        return;
    }
    case event_kind::message: {
        // Acknowledged once the local broker has it (local_event, published); at once when
        // no line carries it, when it crosses at QoS 0, or when no more can be deferred.
        held* h = cross(*ev.message, true, to_local_);
        if (h == nullptr || h->qos == mqttwire::qos::at_most_once) return;
        if (const auto id = remote_.defer()) {
            h->remote_id = *id;
            h->remote_link = remote_link_;
        }
        return;
    }
    case event_kind::subscribed:
        if (const auto* a2 = ev.get<suback_view>()) {
            for (const auto rc : a2->reasons)
                if (static_cast<std::uint8_t>(rc) >= 0x80 && log_)
                    log_("bridge " + cfg_.name + ": the remote broker refused a subscription (" +
                         std::to_string(static_cast<unsigned>(rc)) + ")");
        }
        return;
    case event_kind::closed: {
        const bool was_up = remote_up_;
        // A broker that does not know the bridge flag refuses the level (3.1.1: return code 1,
        // MQTT-3.1.2-2): try again at once without it.
        if (!was_up && ev.reason == reason_code::unsupported_protocol_version && use_private_ &&
            cfg_.try_private && cfg_.protocol != bridge_protocol::mqttv50) {
            use_private_ = false;
            if (log_)
                log_("bridge " + cfg_.name + ": " + a.host +
                     " refused the bridge flag; "
                     "connecting as a plain client (try_private false avoids this)");
            close_socket();
            state_ = remote_state::waiting;
            restart_at_ = now;
            return;
        }
        remote_failed(now,
                      was_up ? "connection lost (" +
                                   std::to_string(static_cast<unsigned>(ev.reason)) + ")"
                             : "refused or lost before CONNACK (" +
                                   std::to_string(static_cast<unsigned>(ev.reason)) + ")",
                      !was_up);
        return;
    }
    default: return;
    }
}

void bridge::remote_failed(clock::time_point now, const std::string& why, bool next_address) {
    const auto& a = cfg_.addresses[address_ % cfg_.addresses.size()];
    if (log_ && !stopping_)
        log_("bridge " + cfg_.name + ": " + a.host + ":" + std::to_string(a.port) + ": " + why);
    if (remote_.status() == connection_status::connecting ||
        remote_.status() == connection_status::connected) {
        remote_.transport_closed(to_ms(now));
        while (remote_.next(to_ms(now))) {
        }
    }
    close_socket();
    state_ = remote_state::waiting;
    if (remote_up_) {
        remote_up_ = false;
        publish_state(false, now);
    }
    if (next_address && cfg_.addresses.size() > 1) {
        address_ = (address_ + 1) % cfg_.addresses.size();
    }
    schedule_restart(now);
}

// mosquitto's `restart_timeout BASE CAP`: each wait is drawn between BASE and three times the
// previous one, capped (decorrelated jitter), and starts again from BASE once connected.
void bridge::schedule_restart(clock::time_point now) {
    using std::chrono::milliseconds;
    const auto base = std::chrono::duration_cast<milliseconds>(cfg_.restart_base);
    const auto cap = std::chrono::duration_cast<milliseconds>(cfg_.restart_cap);
    if (cfg_.restart_constant || backoff_.count() == 0) {
        backoff_ = base;
    } else {
        const auto hi = std::min(cap, backoff_ * 3);
        std::uniform_int_distribution<long long> pick(base.count(), std::max(base, hi).count());
        backoff_ = milliseconds(pick(rng_));
    }
    restart_at_ = now + backoff_;
}

void bridge::close_socket() {
    tls_.reset();
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
}

void bridge::drain(queue& q, link& to, clock::time_point now) {
    const auto t = to_ms(now);
    while (!q.items.empty() && to.status() == connection_status::connected) {
        const auto& h = q.items.front();
        publish_view p;
        p.topic = utf8_view(h.topic);
        p.payload = binary_view(std::span<const std::byte>(h.payload));
        p.qos = h.qos;
        p.retain = h.retain;
        const auto r = to.publish(p, t);
        if (!r && r.error() == errc::would_block) break;
        if (h.remote_id != 0) {
            // Its remote acknowledgement waits for the local one; refused for good, it goes now.
            const owed_remote o{h.remote_id, h.remote_link,
                                r ? reason_code::success
                                  : reason_code::implementation_specific_error};
            if (r && *r != 0)
                crossing_[*r] = o;
            else
                acknowledge_remote(o);
        }
        if (!r) {
            // Refused for good (too large for the other side, QoS or retain not supported):
            // counted and logged, never retried forever.
            ++dropped_;
            if (log_)
                log_("bridge " + cfg_.name + ": message on '" + h.topic + "' dropped (" +
                     std::string(errc_name(r.error())) + "; " + std::to_string(dropped_) +
                     " so far)");
        }
        q.bytes -= h.bytes();
        q.items.pop_front();
    }
}

} // namespace mqttwire::broker
