// Bytes in: the connection's session (mqttwire::server) frames and decodes them and reports
// events; this file feeds it, dispatches its events to the rest of the broker, pauses it,
// closes it and keeps its timer. Statement ids in comments name the rule of MQTT 3.1.1
// (`MQTT-…`) or 5.0 (`MQTT5-…`) that a piece of code implements.

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>

#include "protocol/handler.hpp"

namespace mqttwire::broker {

namespace {

// Packets processed per connection per turn of the event loop: a client sending tiny packets
// (a PINGREQ flood is 2 bytes a packet) gets the same share of a turn as one sending large
// ones, and the rest waits in its input buffer for the next turn, so a turn stays short even
// in a slow (debug, sanitizer) build.
constexpr std::uint16_t packets_per_turn = 256;

// The least room in a connection's own input buffer worth a read of its own (below it, the read
// goes through the event loop's buffer: one system call for a large read).
constexpr std::size_t min_read_in_place = 4096;

// Re-encodes an in-flight PUBLISH for the session's resend after a reconnect (the session keeps
// no copies of its own: the broker's messages are shared between subscribers).
std::span<const std::byte> resend_bytes(void* context, std::uint16_t packet_id) noexcept {
    auto& c = *static_cast<connection*>(context);
    return c.s == nullptr ? std::span<const std::byte>() : resend_encoding(*c.s, packet_id);
}

} // namespace

std::size_t topic_levels(std::string_view topic) noexcept {
    return static_cast<std::size_t>(std::count(topic.begin(), topic.end(), '/')) + 1;
}

void protocol_handler::detail(const connection& c, std::string_view what) const {
    if (!p_.log.verbose()) return;
    p_.log.detail(logger::about(c.s != nullptr ? std::string_view(c.s->client_id) : "", c.id, what));
}

void protocol_handler::opened(connection& c, clock::time_point now) {
    c.proto.set_packets_per_call(packets_per_turn);
    c.proto.set_resend_source(&resend_bytes, &c);
    if (const auto d = c.proto.deadline()) // MQTT-3.1.4-? : a connection without CONNECT ends
        p_.timers.schedule(timer_kind::protocol, c.id, broker_time(*d), c.timers);
    (void)now;
}

void protocol_handler::feed(connection& c, std::span<const std::byte> bytes) {
    if (c.spilled() != 0) {
        std::string& spill = c.pressure->spill;
        spill.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
        const auto all = std::as_bytes(std::span<const char>(spill.data(), spill.size()));
        spill.erase(0, c.proto.feed(all));
        if (spill.empty()) {
            spill.shrink_to_fit();
            c.relieve();
        }
        return;
    }
    const auto taken = c.proto.feed(bytes);
    if (taken < bytes.size()) {
        const auto rest = bytes.subspan(taken);
        c.under_pressure().spill.assign(reinterpret_cast<const char*>(rest.data()), rest.size());
    }
}

void protocol_handler::receive(connection& c, std::span<const std::byte> bytes,
                               clock::time_point now) {
    p_.stats.bytes_received += bytes.size();
    if (c.st == connection::state::closing) return;
    feed(c, bytes);
    run(c, now);
    // A large read into a small buffer: the rest is taken as packets are processed.
    while (c.spilled() != 0 && c.st != connection::state::closing && !c.paused() && !c.backlog) {
        const auto before = c.spilled();
        feed(c, {});
        if (c.spilled() == before) break;
        run(c, now);
    }
}

std::span<std::byte> protocol_handler::input_space(connection& c) {
    // Spilled bytes come first: the next read goes after them, through feed.
    if (c.st == connection::state::closing || c.spilled() != 0) return {};
    // A busy connection keeps its input buffer between reads: the read goes straight into it
    // (up to 64 KiB of room). A quiet one has none: allocating a read's worth of room for each
    // small packet cost more than copying it, so its bytes go through the event loop's buffer
    // and feed, which allocates what they need.
    const auto room = c.proto.kept_input_space();
    return room.size() >= min_read_in_place ? room : std::span<std::byte>();
}

void protocol_handler::input_written(connection& c, std::size_t n, clock::time_point now) {
    c.proto.input_written(n);
    if (n == 0) return;
    p_.stats.bytes_received += n;
    run(c, now);
}

void protocol_handler::resume(connection& c, clock::time_point now) {
    if (c.st == connection::state::closing || c.paused()) return;
    c.backlog = false;
    if (c.proto.input_held()) c.proto.resume_input();
    p_.conns.mark_dirty(c); // reading starts again (unless the budget runs out again)
    receive(c, {}, now);
}

void protocol_handler::run(connection& c, clock::time_point now) {
    const auto t = session_time(now);
    for (int events = 0; c.st != connection::state::closing; ++events) {
        if (c.connected() && !c.paused_output && p_.conns.output_full(c)) {
            // Its own requests wait until it reads what it was sent: a client flooding
            // PINGREQ or SUBSCRIBE without reading fills its socket, not the broker's memory.
            c.paused_output = true;
            p_.conns.mark_dirty(c);
            p_.conns.update_stall(c, c.s != nullptr && p_.out.queue_full(*c.s), false, now);
        }
        // A paused connection still runs its session's timers (keep-alive, resends).
        const auto due = c.proto.deadline();
        if (c.paused() && !(due && *due <= t)) break;
        if (events == packets_per_turn) {
            c.backlog = true;
            p_.conns.resume(c.id); // the next turn goes on from here
            break;
        }
        const auto ev = c.proto.next(t);
        if (ev.kind == event_kind::none) {
            if (c.proto.input_backlog() && !c.proto.input_held() && !c.paused()) {
                c.backlog = true; // the session's own budget (set_packets_per_call) ran out
                p_.conns.resume(c.id);
            }
            break;
        }
        handle(c, ev, now);
    }
    const auto counts = c.proto.take_packet_counts();
    p_.stats.packets_received += counts.received;
    p_.stats.packets_sent += counts.sent;
    if (!c.output().empty() || c.st == connection::state::closing) p_.conns.mark_dirty(c);
    if (c.st == connection::state::closing) return;
    if (const auto d = c.proto.deadline())
        p_.timers.schedule(timer_kind::protocol, c.id, broker_time(*d), c.timers);
}

void protocol_handler::handle(connection& c, const session_event& ev, clock::time_point now) {
    switch (ev.kind) {
    case event_kind::connect_request: on_connect(c, *ev.get<connect_view>(), now); return;
    case event_kind::message:
        on_message(c, *ev.message, ev.message->topic.as_string_view(), now);
        return;
    case event_kind::published: on_published(c, ev.packet_id, now); return;
    case event_kind::released: on_released(c, ev.packet_id); return;
    case event_kind::peer_released: on_peer_released(c, ev.packet_id); return;
    case event_kind::subscribe_request: on_subscribe(c, *ev.get<subscribe_view>(), now); return;
    case event_kind::unsubscribe_request: on_unsubscribe(c, *ev.get<unsubscribe_view>()); return;
    case event_kind::auth:
        // No enhanced authentication is offered (a CONNECT naming a method is refused), so an
        // AUTH cannot come; should one, it is a Protocol Error (MQTT5-4.12.0-7).
        (void)c.proto.disconnect(reason_code::protocol_error);
        return;
    case event_kind::closed: on_closed(c, ev, now); return;
    default: return; // client-role events
    }
}

void protocol_handler::on_closed(connection& c, const session_event& ev, clock::time_point now,
                                 std::optional<bool> will, std::string_view how) {
    if (c.st == connection::state::closing) return;
    std::string_view end = how;
    if (ev.error != errc::success) {
        detail(c, std::string(c.st == connection::state::awaiting_connect ? "invalid CONNECT: "
                                                                           : "protocol error: ") +
                      std::string(errc_name(ev.error)));
    } else if (ev.initiator == close_initiator::transport) {
        detail(c, "connection lost");
        if (end.empty()) end = "closed its connection";
    } else if (ev.initiator == close_initiator::peer) {
        detail(c, "disconnected");
    } else if (ev.reason == reason_code::keep_alive_timeout) {
        detail(c, "keep alive expired");
        if (end.empty()) end = "has exceeded timeout, disconnecting";
    } else if (ev.reason == reason_code::maximum_connect_time) {
        detail(c, "no CONNECT in time; closing");
    }
    if (c.s != nullptr && ev.session_expiry) {
        // 5.0: DISCONNECT's Session Expiry Interval replaces the one of CONNECT (section
        // 3.14.2.2.2; the session checked that a session ending with the connection stays so).
        c.s->expiry_interval = *ev.session_expiry;
        p_.sessions.saved(*c.s);
    }
    // MQTT-3.14.4-3 / MQTT5-3.14.4-3: DISCONNECT 0x00 discards the will; a protocol error, a
    // lost connection or a keep-alive timeout publishes it (MQTT-3.1.2-8 / MQTT5-3.1.2-8).
    close(c, now, will.value_or(ev.publish_will), end);
}

void protocol_handler::end_connection(connection& c, reason_code rc, clock::time_point now,
                                      bool will, std::string_view how) {
    if (c.st == connection::state::closing) return;
    (void)c.proto.disconnect(rc); // 5.0: DISCONNECT with `rc` (MQTT5-4.13.1-1); then close
    const auto t = session_time(now);
    for (int i = 0; i < 4 && c.st != connection::state::closing; ++i) {
        const auto ev = c.proto.next(t);
        if (ev.kind == event_kind::closed) on_closed(c, ev, now, will, how);
        else if (ev.kind == event_kind::none) break;
    }
    if (c.st != connection::state::closing) close(c, now, will, how); // not reached
    p_.stats.packets_sent += c.proto.take_packet_counts().sent;
}

void protocol_handler::close(connection& c, clock::time_point now, bool publish_will,
                             std::string_view how) {
    if (c.st == connection::state::closing) return;
    c.st = connection::state::closing;
    if (c.pressure) {
        c.pressure->spill = std::string();
        c.relieve();
    }
    p_.conns.mark_dirty(c);
    session* s = c.s;
    if (s != nullptr) announce_end(c, s->client_id, how.empty() ? "disconnected" : how);
    c.s = nullptr;
    if (s != nullptr) p_.sessions.detach(*s, publish_will, now);
}

void protocol_handler::lost(connection& c, clock::time_point now) {
    if (c.st == connection::state::closing) return;
    c.proto.transport_closed(session_time(now));
    const auto ev = c.proto.next(session_time(now));
    if (ev.kind == event_kind::closed) on_closed(c, ev, now);
    else close(c, now, true, "closed its connection"); // abnormal: MQTT-3.1.2-8 / MQTT5-3.1.2-8
}

void protocol_handler::shut_down(connection& c, clock::time_point now) {
    end_connection(c, reason_code::server_shutting_down, now, false, {});
}

void protocol_handler::written(connection& c, std::size_t n, clock::time_point now) {
    p_.stats.bytes_sent += n;
    c.proto.output_written(n);
    if (n == 0 || c.st == connection::state::closing) return;
    session* s = c.s;
    if (c.stalled_since()) p_.conns.took(c, n, s != nullptr && p_.out.queue_full(*s), now);
    // Half the bound is free again: held requests are read, the QoS 0 drop episode ends, and
    // queued messages move on.
    if (c.output().size() > p_.cfg.max_output_buffer / 2) return;
    if (c.dropping) c.dropping = false;
    if (c.paused_output) {
        c.paused_output = false;
        p_.conns.resume(c.id);
    }
    if (c.proto.resending()) run(c, now); // the rest of a resend after a reconnect
    if (s != nullptr) {
        const session_traffic* t = s->traffic_if_any();
        if (t != nullptr && !t->queue.empty()) p_.out.pump(*s, now);
    }
}

void protocol_handler::disconnect_slow(connection& c, clock::time_point now) {
    ++p_.stats.slow_consumers_disconnected;
    const session* s = c.s;
    std::string what = "no progress for " +
                       std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                          p_.cfg.slow_consumer_timeout)
                                          .count()) +
                       " ms with " + std::to_string(c.output().size()) + " bytes unread";
    if (s != nullptr && p_.out.queue_full(*s)) what += " and a full queue";
    what += "; disconnecting it";
    p_.log.info(logger::about(s != nullptr ? std::string_view(s->client_id) : "", c.id, what));
    // 5.0: DISCONNECT 0x97, best effort: behind what it has not read, so it only arrives if it
    // reads again.
    end_connection(c, reason_code::quota_exceeded, now, true, {});
}

void protocol_handler::on_timer(const timer_queue::entry& e, clock::time_point now) {
    connection* cp = p_.conns.find(e.owner);
    if (cp == nullptr || !timer_queue::claim(e, cp->timers)) return;
    connection& c = *cp;
    if (c.st == connection::state::closing) return;
    switch (e.kind) {
    case timer_kind::protocol:
        // The session closes a connection without CONNECT in time and one silent for 1.5
        // times its Keep Alive (MQTT-3.1.2-24 / MQTT5-3.1.2-22), then reports it closed.
        run(c, now);
        return;
    case timer_kind::slow_consumer: {
        const auto since = c.stalled_since();
        if (!since) return;
        if (now - *since < p_.cfg.slow_consumer_timeout) {
            p_.timers.schedule(timer_kind::slow_consumer, c.id,
                               *since + p_.cfg.slow_consumer_timeout, c.timers);
            return;
        }
        disconnect_slow(c, now);
        return;
    }
    default: return;
    }
}

} // namespace mqttwire::broker
