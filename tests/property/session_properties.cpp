// The session layer as a whole: a client and a server session talk through a pipe that cuts the
// connection at random points (delivering a random part of what was in flight) and reconnects
// with the session kept on both sides. Both send numbered QoS 1 and QoS 2 messages. Laws:
//
//   * QoS 1 arrives at least once, QoS 2 exactly once (MQTT-4.3.2-2, MQTT-4.3.3-2 /
//     MQTT5-4.3.3-10), both ways;
//   * first deliveries come in the order sent (MQTT-4.6.0-1 / MQTT5-4.6.0-1, resend in order
//     after the reconnect: MQTT-4.4.0-1 / MQTT5-4.4.0-1);
//   * every message is acknowledged in the end and nothing stays in flight;
//   * every byte either side writes decodes as a valid packet from its role.
//
// The server defers some acknowledgements (`defer()`), as an embedder that makes a message
// durable first does, and acknowledges them in order a few steps later; a message counts as
// received by the server when it is acknowledged. Deferred answers die with the connection and
// the client sends those messages again, so the laws hold over acknowledged deliveries.

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <mqttwire/session.hpp>

namespace {

using namespace mqttwire;
using namespace std::chrono_literals;
using ms = std::chrono::milliseconds;

using client_storage = fixed_storage<session_limits{.inflight = 6,
                                                    .requests = 2,
                                                    .inbound_qos2 = 8,
                                                    .input_bytes = 512,
                                                    .output_bytes = 256,
                                                    .resend_bytes = 512,
                                                    .aliases_in = 4,
                                                    .alias_bytes_in = 128,
                                                    .aliases_out = 2,
                                                    .alias_bytes_out = 64}>;
using server_storage = dynamic_storage<>;

// Checks that `bytes` is a sequence of whole, valid packets sent by `sender`.
void check_stream(std::span<const std::byte> bytes, protocol_version v, peer_role sender) {
    while (!bytes.empty()) {
        decode_options o;
        o.version = v;
        o.sender = sender;
        const auto r = decode_packet(bytes, o);
        RC_ASSERT(r.has_value());
        bytes = bytes.subspan(r->size);
    }
}

struct wire {
    std::vector<std::byte> bytes;
};

// Moves a side's output onto the wire, checking it packet by packet.
template <class C> void send(C& c, wire& w, protocol_version v, peer_role role) {
    const auto o = c.output();
    // Output always ends on a packet boundary, so it can be checked as a whole.
    check_stream(o, v, role);
    w.bytes.insert(w.bytes.end(), o.begin(), o.end());
    c.output_written(o.size());
}

// Delivers up to `n` bytes from the wire.
template <class C> void deliver(C& c, wire& w, std::size_t n) {
    n = std::min(n, w.bytes.size());
    const auto taken = c.feed(std::span<const std::byte>(w.bytes.data(), n));
    w.bytes.erase(w.bytes.begin(), w.bytes.begin() + static_cast<std::ptrdiff_t>(taken));
}

struct message_plan {
    std::vector<qos> levels; // message i has payload "i" and QoS levels[i]
};

std::string payload_of(std::size_t i) { return std::to_string(i); }

// Records deliveries and checks the laws at the end.
struct receiver {
    std::vector<std::size_t> seen;
    void on(const publish_view& p) { seen.push_back(std::stoul(str(p.payload))); }
    static std::string str(const binary_view& b) { return std::string(b.as_string_view()); }
    void check(const message_plan& plan) const {
        std::map<std::size_t, std::size_t> count;
        std::vector<std::size_t> first;
        for (const auto i : seen) {
            RC_ASSERT(i < plan.levels.size());
            if (count[i]++ == 0) first.push_back(i);
        }
        for (std::size_t i = 0; i < plan.levels.size(); ++i) {
            RC_ASSERT(count[i] >= 1u); // at least once
            if (plan.levels[i] == qos::exactly_once) RC_ASSERT(count[i] == 1u);
        }
        std::vector<std::size_t> sorted = first;
        std::sort(sorted.begin(), sorted.end());
        RC_ASSERT(first == sorted); // in order
    }
};

RC_GTEST_PROP(session_model, qos_guarantees_hold_across_dropped_connections, ()) {
    const auto v = *rc::gen::element(protocol_version::v3_1_1, protocol_version::v5);
    const auto gen_levels = rc::gen::container<std::vector<qos>>(
        rc::gen::element(qos::at_least_once, qos::exactly_once));
    message_plan up{*rc::gen::resize(30, gen_levels)};   // client -> server
    message_plan down{*rc::gen::resize(30, gen_levels)}; // server -> client
    const auto cuts = *rc::gen::container<std::vector<std::uint16_t>>(
        *rc::gen::inRange<std::size_t>(0, 6), rc::gen::inRange<std::uint16_t>(1, 400));
    const auto chunks = *rc::gen::nonEmpty(
        rc::gen::container<std::vector<std::uint8_t>>(rc::gen::inRange<std::uint8_t>(1, 64)));
    const auto defer_bits = *rc::gen::arbitrary<std::uint32_t>(); // which messages are deferred
    // Which messages the server cannot take at first (a broker's full queue): given back with
    // hold_input() and taken at the next turn.
    const auto hold_bits = *rc::gen::arbitrary<std::uint32_t>();
    const auto ack_every = *rc::gen::inRange<std::size_t>(1, 8);  // steps between acknowledging

    session_state<client_storage> client_state;
    client<client_storage> c(client_state);
    // Deferred acknowledgements: the client has at most 6 messages unacknowledged, so 8 never
    // run out.
    server_storage sst(session_limits{.inflight = 5,
                                      .requests = 0,
                                      .inbound_qos2 = 8,
                                      .deferred_acks = 8,
                                      .input_bytes = 1024,
                                      .output_bytes = 512,
                                      .resend_bytes = 2048,
                                      .aliases_in = 4,
                                      .alias_bytes_in = 128});
    session_state<server_storage> server_state(sst);
    std::optional<server<server_storage>> s;
    bool server_has_session = false;
    wire up_wire;
    wire down_wire;
    receiver at_server;
    receiver at_client;
    std::size_t up_next = 0;
    std::size_t down_next = 0;
    ms now{0};
    std::size_t connections = 0;
    std::size_t cut_index = 0;
    std::size_t chunk_index = 0;
    struct owed {
        std::uint16_t id;
        std::size_t index;
    };
    std::deque<owed> deferred; // in arrival order; acknowledged in that order
    std::size_t messages_at_server = 0;
    std::size_t acknowledged_later = 0;
    std::size_t message_events = 0; // every message event, held ones included
    std::size_t held = 0;

    const auto start_connection = [&] {
        ++connections;
        deferred.clear();
        up_wire.bytes.clear();
        down_wire.bytes.clear();
        s.emplace(now, server_options{}, sst);
        const auto e = c.connect({.version = v,
                                  .client_id = "model",
                                  .clean_start = false,
                                  .keep_alive = 0,
                                  .session_expiry = 3600},
                                 now);
        RC_ASSERT(e == errc::success);
    };
    std::vector<std::size_t> cut_at; // absolute steps, increasing
    for (const auto gap : cuts) cut_at.push_back((cut_at.empty() ? 0 : cut_at.back()) + gap);
    // Part of what is in flight arrives and is handled, then the connection is gone for both.
    std::function<void()> handle_server;
    std::function<void()> handle_client;
    const auto drop = [&](std::uint16_t keep) {
        deliver(*s, up_wire, keep % 7);
        deliver(c, down_wire, keep % 5);
        handle_server();
        handle_client();
        c.transport_closed(now);
        s->transport_closed(now);
        deferred.clear(); // never acknowledged: the client sends them again
    };
    handle_server = [&] {
        if (s->input_held()) s->resume_input(); // a turn later: room again
        for (int guard = 0; guard < 1000; ++guard) {
            const auto ev = s->next(now);
            if (!ev) return;
            if (ev.kind == event_kind::message && (hold_bits >> (message_events++ % 32) & 1u) != 0 &&
                (message_events % 3) != 0) {
                // Not now: the same message comes again after resume_input(), answered once.
                RC_ASSERT(s->hold_input() == errc::success);
                RC_ASSERT(s->next(now).kind == event_kind::none); // nothing while held
                ++held;
                return;
            }
            if (ev.kind == event_kind::connect_request) {
                RC_ASSERT(s->accept(server_state, {.session_present = server_has_session}) ==
                          errc::success);
                server_has_session = true;
            } else if (ev.kind == event_kind::message) {
                // Once one is deferred, the ones after it wait too: acknowledged in order.
                const bool defer =
                    (defer_bits >> (messages_at_server++ % 32) & 1u) != 0 || !deferred.empty();
                if (defer) {
                    const auto index = std::stoul(receiver::str(ev.message->payload));
                    const auto id = s->defer();
                    RC_ASSERT(id.has_value());
                    deferred.push_back({*id, index});
                } else {
                    at_server.on(*ev.message);
                }
            }
        }
        RC_FAIL("server events do not end");
    };
    handle_client = [&] {
        for (int guard = 0; guard < 1000; ++guard) {
            const auto ev = c.next(now);
            if (!ev) return;
            if (ev.kind == event_kind::connected) RC_ASSERT(ev.discarded == 0u);
            if (ev.kind == event_kind::message) at_client.on(*ev.message);
        }
        RC_FAIL("client events do not end");
    };
    const auto publish_more = [&] {
        while (up_next < up.levels.size() && c.status() == connection_status::connected) {
            const auto text = payload_of(up_next);
            publish_view p;
            p.qos = up.levels[up_next];
            p.topic = "up";
            p.payload = std::string_view(text);
            const auto r = c.publish(p, now);
            if (!r) {
                RC_ASSERT(r.error() == errc::would_block);
                break;
            }
            ++up_next;
        }
        while (down_next < down.levels.size() && s->status() == connection_status::connected) {
            const auto text = payload_of(down_next);
            publish_view p;
            p.qos = down.levels[down_next];
            p.topic = "down";
            p.payload = std::string_view(text);
            const auto r = s->publish(p, now);
            if (!r) {
                RC_ASSERT(r.error() == errc::would_block);
                break;
            }
            ++down_next;
        }
    };

    start_connection();
    std::size_t step = 0;
    for (; step < 50'000; ++step) {
        now += 1ms;
        if (cut_index < cut_at.size() && step == cut_at[cut_index]) {
            drop(cuts[cut_index]);
            ++cut_index;
        }
        handle_server();
        handle_client();
        if (c.status() == connection_status::idle) {
            // Both ends closed: a fresh transport, the same sessions.
            if (s->status() != connection_status::closed) {
                s->transport_closed(now);
                handle_server();
            }
            start_connection();
            continue;
        }
        if (s->status() == connection_status::closed) {
            c.transport_closed(now);
            continue;
        }
        if (step % ack_every == 0 && s->status() == connection_status::connected) {
            while (!deferred.empty()) {
                const auto e = s->acknowledge(deferred.front().id);
                if (e == errc::would_block) break; // output full: later
                RC_ASSERT(e == errc::success);
                at_server.seen.push_back(deferred.front().index);
                deferred.pop_front();
                ++acknowledged_later;
            }
        }
        publish_more();
        send(c, up_wire, v, peer_role::client);
        send(*s, down_wire, s->version(), peer_role::server);
        const std::size_t n = chunks[chunk_index++ % chunks.size()];
        deliver(*s, up_wire, n);
        deliver(c, down_wire, n);
        const bool done = up_next == up.levels.size() && down_next == down.levels.size() &&
                          client_state.inflight() == 0 && server_state.inflight() == 0 &&
                          up_wire.bytes.empty() && down_wire.bytes.empty() && c.output().empty() &&
                          s->output().empty() && client_state.inbound_qos2() == 0 &&
                          server_state.inbound_qos2() == 0 && deferred.empty();
        if (done && cut_index == cut_at.size()) break;
    }
    RC_ASSERT(step < 50'000u); // everything completes
    at_server.check(up);
    at_client.check(down);
    RC_TAG(connections);
    RC_CLASSIFY(acknowledged_later > 0, "some acknowledgements deferred");
    RC_CLASSIFY(held > 0, "some messages held and taken later");
}

} // namespace
