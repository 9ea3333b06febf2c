// Bytes in: framing, decoding and dispatch of a client's packets, pausing, protocol violations,
// closing, and the connection's timers. Statement ids in comments name the rule of MQTT 3.1.1
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
constexpr int packets_per_turn = 256;

// The protocol level byte of a CONNECT that did not decode, if it can be read.
std::optional<std::uint8_t> peek_connect_level(std::span<const std::byte> pkt) {
    const auto f = next_frame(pkt);
    if (f.status != errc::success || pkt.size() < f.header_size + 2) return std::nullopt;
    const std::size_t name_len = (static_cast<std::size_t>(pkt[f.header_size]) << 8) |
                                 static_cast<std::size_t>(pkt[f.header_size + 1]);
    const std::size_t at = f.header_size + 2 + name_len;
    if (at >= pkt.size()) return std::nullopt;
    return static_cast<std::uint8_t>(pkt[at]);
}

bool is_v5(protocol_version v) { return v == protocol_version::v5; }

} // namespace

std::size_t topic_levels(std::string_view topic) noexcept {
    return static_cast<std::size_t>(std::count(topic.begin(), topic.end(), '/')) + 1;
}

void protocol_handler::detail(const connection& c, std::string_view what) const {
    if (!p_.log.verbose()) return;
    p_.log.detail(logger::about(c.s != nullptr ? std::string_view(c.s->client_id) : "", c.id, what));
}

void protocol_handler::receive(connection& c, std::span<const std::byte> bytes,
                               clock::time_point now) {
    p_.stats.bytes_received += bytes.size();
    if (c.st == connection::state::closing) return;
    if (c.in.empty()) {
        // The common case: whole packets straight from the read, only a remainder is copied.
        const auto used = process(c, bytes, now);
        if (c.st != connection::state::closing && used < bytes.size())
            c.in.append(bytes.subspan(used));
    } else {
        c.in.append(bytes);
        const auto used = process(c, c.in.data(), now);
        c.in.consume(used);
    }
    if (c.st == connection::state::closing) c.in.clear();
}

void protocol_handler::resume(connection& c, clock::time_point now) {
    if (c.st == connection::state::closing || c.paused()) return;
    c.backlog = false;
    p_.conns.mark_dirty(c); // reading starts again (unless the budget runs out again)
    if (c.in.empty()) return;
    const auto used = process(c, c.in.data(), now);
    if (c.st == connection::state::closing) {
        c.in.clear();
        return;
    }
    c.in.consume(used);
}

std::size_t protocol_handler::process(connection& c, std::span<const std::byte> bytes,
                                      clock::time_point now) {
    std::size_t off = 0;
    int budget = packets_per_turn;
    while (c.st != connection::state::closing && !c.paused()) {
        if (c.connected() && p_.conns.output_full(c)) {
            // Its own requests wait until it reads what it was sent: a client flooding
            // PINGREQ or SUBSCRIBE without reading fills its socket, not the broker's memory.
            c.paused_output = true;
            p_.conns.mark_dirty(c);
            p_.conns.update_stall(c, c.s != nullptr && p_.out.queue_full(*c.s), false, now);
            break;
        }
        const auto avail = bytes.subspan(off);
        if (avail.empty()) break;
        if (budget-- == 0) {
            c.backlog = true;
            p_.conns.resume(c.id); // the next turn goes on from here
            break;
        }
        const bool before_connect = c.st == connection::state::awaiting_connect;
        std::uint32_t limit =
            p_.cfg.max_packet_size == 0 ? max_packet_size_limit : p_.cfg.max_packet_size;
        // Before CONNECT is accepted packets are held to max_connect_size (mosquitto
        // CVE-2023-0809 class: an unauthenticated peer must not make the broker buffer much).
        if (before_connect) limit = std::min(limit, p_.cfg.max_connect_size);
        // MQTT-3.1.0-1 / MQTT5-3.1.0-1: the first packet from a client is CONNECT; anything
        // else closes the connection, decided from its first byte.
        if (before_connect && (static_cast<std::uint8_t>(avail[0]) >> 4) != 1) {
            detail(c, "first packet is not CONNECT; closing");
            close(c, now, false);
            break;
        }
        const auto f = next_frame(avail, limit);
        if (f.status == errc::incomplete) break;
        if (f.status != errc::success) {
            // Oversized packets are refused from the fixed header, before they are buffered
            // (Maximum Packet Size, 0x95).
            protocol_violation(c, f.status, now,
                               f.status == errc::packet_too_large
                                   ? "packet exceeds maximum packet size"
                                   : "malformed fixed header");
            break;
        }
        const auto pkt = avail.first(f.size);
        c.last_packet = now;
        decode_options o;
        o.version = c.version;
        o.max_packet_size = limit;
        o.sender = peer_role::client;
        o.bridge_levels = true; // mosquitto bridges connect with levels 0x83 / 0x84
        const auto r = decode_packet(pkt, o);
        if (!r) {
            if (before_connect) {
                (void)refuse_undecodable_connect(c, pkt, r.error(), now);
            } else {
                protocol_violation(c, r.error(), now, errc_name(r.error()));
            }
            break;
        }
        const errc e = dispatch(c, r->packet, now);
        if (c.blocked_on != 0) break; // this PUBLISH waits for room; it is processed again
        ++p_.stats.packets_received;
        off += f.size;
        if (e != errc::success) {
            protocol_violation(c, e, now, errc_name(e));
            break;
        }
    }
    return off;
}

bool protocol_handler::refuse_undecodable_connect(connection& c, std::span<const std::byte> pkt,
                                                  errc e, clock::time_point now) {
    // MQTT-3.1.4-1 / MQTT5-3.1.4-1: a non-conforming CONNECT is refused. 3.1.1 closes without
    // CONNACK, except for an unsupported protocol level (MQTT-3.1.2-2: CONNACK 0x01); 5.0 may
    // send CONNACK with the reason first (MQTT5-3.1.4-1).
    const auto level = peek_connect_level(pkt);
    if (e == errc::unsupported_protocol_version) {
        if (level && *level == 5)
            refuse_connect(c, protocol_version::v5, reason_code::unsupported_protocol_version,
                           connect_return_code::unacceptable_protocol_version);
        else if (level && *level != 3 && *level != 4)
            refuse_connect(c, protocol_version::v3_1_1, reason_code::unsupported_protocol_version,
                           connect_return_code::unacceptable_protocol_version);
        else
            close(c, now, false); // MQTT-3.1.2-1: wrong protocol name
    } else if (level && *level == 5) {
        auto rc = static_cast<reason_code>(e);
        if (!is_allowed(rc, reason_context::connack)) rc = reason_code::malformed_packet;
        refuse_connect(c, protocol_version::v5, rc,
                       connect_return_code::unacceptable_protocol_version);
    } else {
        close(c, now, false);
    }
    detail(c, std::string("invalid CONNECT: ") + std::string(errc_name(e)));
    return false;
}

errc protocol_handler::dispatch(connection& c, const packet_view& p, clock::time_point now) {
    if (c.st == connection::state::awaiting_connect) {
        on_connect(c, std::get<connect_view>(p), now);
        return errc::success;
    }
    switch (type_of(p)) {
    case packet_type::connect:
        return errc::protocol_error; // MQTT-3.1.0-2 / MQTT5-3.1.0-2: a second CONNECT
    case packet_type::publish: return on_publish(c, std::get<publish_view>(p), now);
    case packet_type::puback: return on_puback(c, std::get<puback_view>(p).packet_id, now);
    case packet_type::pubrec: return on_pubrec(c, std::get<pubrec_view>(p), now);
    case packet_type::pubrel: return on_pubrel(c, std::get<pubrel_view>(p));
    case packet_type::pubcomp: return on_pubcomp(c, std::get<pubcomp_view>(p).packet_id, now);
    case packet_type::subscribe: return on_subscribe(c, std::get<subscribe_view>(p), now);
    case packet_type::unsubscribe: return on_unsubscribe(c, std::get<unsubscribe_view>(p));
    case packet_type::pingreq: // MQTT-3.12.4-1 / MQTT5-3.12.4-1
        p_.writer.send(c, pingresp_view{});
        return errc::success;
    case packet_type::disconnect: return on_disconnect(c, std::get<disconnect_view>(p), now);
    case packet_type::auth:
        // No enhanced authentication is offered, so an AUTH can only be a Protocol Error
        // (MQTT5-4.12.0-? : AUTH without an Authentication Method in CONNECT).
        return errc::protocol_error;
    default: return errc::protocol_error; // decode_options::sender refuses server packets
    }
}

void protocol_handler::protocol_violation(connection& c, errc e, clock::time_point now,
                                          std::string_view why) {
    if (c.st == connection::state::closing) return;
    detail(c, std::string("protocol error: ") + std::string(why));
    if (c.connected() && is_v5(c.version)) {
        // MQTT5-4.13.1-1: DISCONNECT with the reason code, then close.
        disconnect_view d;
        d.reason = static_cast<reason_code>(e);
        if (!is_allowed(d.reason, reason_context::disconnect))
            d.reason = e == errc::protocol_error ? reason_code::protocol_error
                                                 : reason_code::malformed_packet;
        const property reason_string[] = {{property_id::reason_string, why}};
        d.properties = reason_string;
        p_.writer.send(c, d);
    }
    // MQTT-4.8.0-1 / MQTT5-4.13.1-1: a protocol error closes the connection; the will is
    // published (abnormal loss, MQTT-3.1.2-8 / MQTT5-3.1.2-8).
    close(c, now, true);
}

void protocol_handler::close(connection& c, clock::time_point now, bool publish_will,
                             std::string_view how) {
    if (c.st == connection::state::closing) return;
    c.st = connection::state::closing;
    p_.conns.mark_dirty(c);
    session* s = c.s;
    if (s != nullptr) announce_end(c, s->client_id, how.empty() ? "disconnected" : how);
    c.s = nullptr;
    if (s != nullptr) p_.sessions.detach(*s, publish_will, now);
}

void protocol_handler::lost(connection& c, clock::time_point now) {
    if (c.st == connection::state::closing) return;
    detail(c, "connection lost");
    close(c, now, true, "closed its connection"); // abnormal: MQTT-3.1.2-8 / MQTT5-3.1.2-8
}

void protocol_handler::shut_down(connection& c, clock::time_point now) {
    if (c.connected() && is_v5(c.version)) {
        disconnect_view d;
        d.reason = reason_code::server_shutting_down;
        p_.writer.send(c, d);
    }
    close(c, now, false);
}

void protocol_handler::written(connection& c, std::size_t n, clock::time_point now) {
    p_.stats.bytes_sent += n;
    c.out.consume(n);
    if (n == 0 || c.st == connection::state::closing) return;
    session* s = c.s;
    if (c.stalled_since)
        p_.conns.update_stall(c, s != nullptr && p_.out.queue_full(*s), true, now);
    // Half the bound is free again: held requests are read, the QoS 0 drop episode ends, and
    // queued messages move on.
    if (c.out.size() > p_.cfg.max_output_buffer / 2) return;
    if (c.dropping) c.dropping = false;
    if (c.paused_output) {
        c.paused_output = false;
        p_.conns.resume(c.id);
    }
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
                       " ms with " + std::to_string(c.out.size()) + " bytes unread";
    if (s != nullptr && p_.out.queue_full(*s)) what += " and a full queue";
    what += "; disconnecting it";
    p_.log.info(logger::about(s != nullptr ? std::string_view(s->client_id) : "", c.id, what));
    if (is_v5(c.version)) {
        // Best effort: behind what it has not read, so it only arrives if it reads again.
        disconnect_view d;
        d.reason = reason_code::quota_exceeded;
        p_.writer.send(c, d);
    }
    close(c, now, true);
}

void protocol_handler::on_timer(const timer_queue::entry& e, clock::time_point now) {
    connection* cp = p_.conns.find(e.owner);
    if (cp == nullptr || !timer_queue::claim(e, cp->timers)) return;
    connection& c = *cp;
    if (c.st == connection::state::closing) return;
    switch (e.kind) {
    case timer_kind::connect_timeout:
        if (c.st == connection::state::awaiting_connect) {
            detail(c, "no CONNECT in time; closing");
            close(c, now, false);
        }
        return;
    case timer_kind::keep_alive: {
        if (c.keep_alive == 0) return;
        // MQTT-3.1.2-24 / MQTT5-3.1.2-22: one and a half times the Keep Alive.
        const auto limit = std::chrono::milliseconds(std::uint64_t{c.keep_alive} * 1500);
        if (now - c.last_packet < limit) {
            p_.timers.schedule(timer_kind::keep_alive, c.id, c.last_packet + limit, c.timers);
            return;
        }
        if (is_v5(c.version)) {
            disconnect_view d;
            d.reason = reason_code::keep_alive_timeout;
            p_.writer.send(c, d);
        }
        detail(c, "keep alive expired");
        close(c, now, true, "has exceeded timeout, disconnecting");
        return;
    }
    case timer_kind::slow_consumer:
        if (!c.stalled_since) return;
        if (now - *c.stalled_since < p_.cfg.slow_consumer_timeout) {
            p_.timers.schedule(timer_kind::slow_consumer, c.id,
                               *c.stalled_since + p_.cfg.slow_consumer_timeout, c.timers);
            return;
        }
        disconnect_slow(c, now);
        return;
    default: return;
    }
}

} // namespace mqttwire::broker
