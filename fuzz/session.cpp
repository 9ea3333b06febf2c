// Fuzz target: one session (client or server role, MQTT 3.1, 3.1.1 or 5.0, fixed or
// allocator-backed storage) driven by a script of peer bytes, clock jumps, partial writes,
// local operations, decisions and reconnects.
//
// Input: byte 0 = configuration: bit 0 role (0 client, 1 server); bits 1-2 level (0: 3.1,
// 1: 3.1.1, 2-3: 5.0; the server takes its level from the CONNECT it is fed); bit 3 storage
// (0 fixed, 1 allocator-backed); bit 4 Clean Start. Then operations, one byte each plus
// arguments:
//
//   0x00-0x7F  peer bytes: the next (op + 1) bytes of input are fed to the session
//   0x80       clock forward: 1 shift byte + 2 bytes; now += value << (shift % 24) ms
//   0x81       clock backward: same arguments; now -= ...
//   0x82       the transport writes part of the output: 1 byte, that many 64ths of it
//   0x83       publish: flags byte (bits 0-1 QoS, 2 retain), topic byte, payload length byte
//   0x84       publish_encoded: flags byte (QoS), payload length byte
//   0x85       client: subscribe (1 byte: filter choice and QoS); server: answer the pending
//              SUBSCRIBE with the next byte's code pattern
//   0x86       client: unsubscribe; server: answer the pending UNSUBSCRIBE
//   0x87       acknowledge the pending message with the reason code of the next byte
//   0x88       disconnect with the reason code of the next byte
//   0x89       the transport closes; a new connection starts (client connects again, a new
//              server connection on the same session state)
//   0x8A       server: accept the pending CONNECT (next byte: session present, assigned id)
//   0x8B       server: refuse the pending CONNECT with the next byte's code
//   0x8C       defer the pending message's acknowledgement
//   0x8D       acknowledge a deferred message: next byte picks one deferred earlier (or, past
//              them, is a packet identifier of its own), the byte after it the reason code
//   0x8E       hold the input at the pending message (hold_input)
//   0x8F       resume the input (resume_input)
//   0x90       packets per call of next(): the next byte (0: no bound)
//   others     next() until nothing is left
//
// After every operation events are drained (bounded), up to an event that awaits a decision.
// Laws (std::abort on violation):
//   * every byte the session writes decodes as a valid packet sent by its role, at its level
//     (decode_options::sender set); the output ends on a packet boundary;
//   * the output, input and tables stay within the storage's limits (deferred acknowledgements
//     included);
//   * a message event carries a PUBLISH with a topic name (aliases resolved), and none comes
//     while the input is held;
//   * a closed event leaves the connection idle (client) or closed (server).

#include <array>
#include <chrono>
#include <optional>
#include <string_view>
#include <vector>

#include <mqttwire/session.hpp>

#include "fuzz_support.hpp"

namespace {

using namespace mqttwire;
using ms = std::chrono::milliseconds;

constexpr session_limits small_limits{.inflight = 4, .requests = 2, .inbound_qos2 = 4,
                                      .deferred_acks = 3, .input_bytes = 600, .output_bytes = 300,
                                      .resend_bytes = 400, .aliases_in = 3, .alias_bytes_in = 48,
                                      .aliases_out = 2, .alias_bytes_out = 32,
                                      .client_id_bytes = 16};
using fixed = fixed_storage<small_limits>;
using dynamic = dynamic_storage<>;

constexpr std::array<std::string_view, 4> topics{"a/b", "a", "salon/luz/cmd",
                                                 "0123456789012345678901234567890123456789"};
constexpr std::array<std::string_view, 5> filters{"a/#", "+/b", "$share/g/a", "a/b", "#"};

// What the transport has written so far on the current connection: checked packet by packet.
struct wire_check {
    std::vector<std::byte> pending;
    void add(std::span<const std::byte> bytes, protocol_version v, peer_role sender) {
        pending.insert(pending.end(), bytes.begin(), bytes.end());
        std::span<const std::byte> rest(pending);
        while (!rest.empty()) {
            decode_options o;
            o.version = v;
            o.sender = sender;
            const auto r = decode_packet(rest, o);
            if (!r && r.error() == errc::incomplete) break;
            if (!r) std::fprintf(stderr, "invalid output: %s\n", errc_name(r.error()).data());
            MQTTWIRE_FUZZ_CHECK(r.has_value());
            rest = rest.subspan(r->size);
        }
        pending.erase(pending.begin(), pending.end() - static_cast<std::ptrdiff_t>(rest.size()));
    }
};

template <class Storage, peer_role Role> struct harness {
    using state_type = session_state<Storage>;
    using conn_type = std::conditional_t<Role == peer_role::client, client<Storage>, server<Storage>>;

    Storage storage;
    protocol_version version;
    bool clean;
    state_type state;
    std::optional<conn_type> conn;
    wire_check wire;
    ms now{1000};
    std::array<property, 1> no_props{};
    std::vector<std::uint16_t> deferred_ids; // what defer() returned, for 0x8D to pick from

    harness(const Storage& s, protocol_version v, bool clean_start)
        : storage(s), version(v), clean(clean_start), state(s) {
        start();
    }

    void start() {
        wire = {};
        if constexpr (Role == peer_role::client) {
            if (!conn) conn.emplace(state, storage);
            (void)conn->connect({.version = version, .client_id = "fz", .clean_start = clean,
                                 .keep_alive = 5, .session_expiry = clean ? 0u : 100u},
                                now);
        } else {
            conn.emplace(now, server_options{.topic_alias_maximum = 3, .max_keep_alive = 30},
                         storage);
        }
        check_bounds();
    }

    protocol_version level() const { return conn->version(); }

    void write(std::size_t n) {
        const auto out = conn->output();
        n = std::min(n, out.size());
        wire.add(out.first(n), level(), Role);
        conn->output_written(n);
    }

    void check_bounds() {
        MQTTWIRE_FUZZ_CHECK(conn->output().size() <= small_limits.output_bytes);
        MQTTWIRE_FUZZ_CHECK(state.inflight() <= small_limits.inflight);
        MQTTWIRE_FUZZ_CHECK(state.inbound_qos2() <= small_limits.inbound_qos2);
        MQTTWIRE_FUZZ_CHECK(conn->deferred() <= small_limits.deferred_acks);
        // What was written plus what waits is whole, valid packets: the output always ends on
        // a packet boundary.
        wire_check whole;
        whole.add(wire.pending, level(), Role);
        whole.add(conn->output(), level(), Role);
        MQTTWIRE_FUZZ_CHECK(whole.pending.empty());
    }

    void drain() {
        for (int i = 0; i < 64; ++i) {
            const bool held = conn->input_held();
            const auto ev = conn->next(now);
            check_bounds();
            if (!ev) return;
            if (ev.kind == event_kind::message) {
                MQTTWIRE_FUZZ_CHECK(!held);
                MQTTWIRE_FUZZ_CHECK(ev.message != nullptr);
                MQTTWIRE_FUZZ_CHECK(!ev.message->topic.empty());
            }
            if (ev.kind == event_kind::closed) {
                MQTTWIRE_FUZZ_CHECK(conn->status() == connection_status::idle ||
                                    conn->status() == connection_status::closed);
            }
            // An event that awaits a decision ends the drain, so the next operation can make it
            // (accept, refuse, answer, acknowledge, defer); otherwise the next call of next()
            // gives the default answer.
            if (ev.kind == event_kind::connect_request ||
                ev.kind == event_kind::subscribe_request ||
                ev.kind == event_kind::unsubscribe_request ||
                (ev.kind == event_kind::message && ev.message->qos != qos::at_most_once))
                return;
        }
    }

    void feed(std::span<const std::byte> bytes) {
        for (int i = 0; i < 16 && !bytes.empty(); ++i) {
            bytes = bytes.subspan(conn->feed(bytes));
            drain();
            write(conn->output().size());
        }
    }

    void publish(std::uint8_t flags, std::uint8_t topic, std::uint8_t length) {
        static const std::array<char, 256> payload{};
        publish_view p;
        p.qos = static_cast<qos>(flags % 3);
        p.retain = (flags & 4) != 0;
        p.topic = topics[topic % topics.size()];
        p.payload = std::string_view(payload.data(), length);
        (void)conn->publish(p, now);
    }

    void publish_encoded(std::uint8_t flags, std::uint8_t length) {
        static const std::array<char, 256> payload{};
        publish_view p;
        p.qos = static_cast<qos>(flags % 3);
        p.topic = "enc/t";
        p.packet_id = p.qos == qos::at_most_once ? 0 : 1;
        p.payload = std::string_view(payload.data(), length);
        std::array<std::byte, 512> buf{};
        const auto n = encode(p, level(), buf);
        if (n) (void)conn->publish_encoded(std::span<const std::byte>(buf.data(), *n), now);
    }

    void op_subscribe(std::uint8_t b) {
        if constexpr (Role == peer_role::client) {
            (void)conn->subscribe(filters[b % filters.size()], static_cast<qos>((b >> 4) % 3), now);
        } else {
            std::array<reason_code, 8> codes{};
            for (auto& c : codes) c = static_cast<reason_code>(b % 3);
            if (b & 0x80) codes[0] = reason_code::unspecified_error;
            for (std::size_t n = 1; n <= codes.size(); ++n)
                if (conn->answer_subscribe(std::span<const reason_code>(codes.data(), n)) ==
                    errc::success)
                    break;
        }
    }

    void op_unsubscribe(std::uint8_t b) {
        if constexpr (Role == peer_role::client) {
            (void)conn->unsubscribe(filters[b % filters.size()], now);
        } else {
            std::array<reason_code, 8> codes{};
            for (auto& c : codes) c = (b & 1) ? reason_code::no_subscription_existed : reason_code::success;
            for (std::size_t n = 0; n <= codes.size(); ++n)
                if (conn->answer_unsubscribe(std::span<const reason_code>(codes.data(), n)) ==
                    errc::success)
                    break;
        }
    }

    void accept(std::uint8_t b) {
        if constexpr (Role == peer_role::server)
            (void)conn->accept(state, {.session_present = (b & 1) != 0,
                                       .assigned_client_id = (b & 2) ? "gen" : ""});
    }
    void refuse(std::uint8_t b) {
        if constexpr (Role == peer_role::server) (void)conn->refuse(static_cast<reason_code>(b));
    }

    void reconnect() {
        conn->transport_closed(now);
        drain();
        write(conn->output().size());
        start();
        write(conn->output().size());
    }

    void run(fuzz::input& in) {
        write(conn->output().size());
        while (in.remaining() > 0) {
            const auto op = in.byte();
            if (op < 0x80) {
                feed(in.take(std::size_t{op} + 1));
                continue;
            }
            switch (op) {
            case 0x80:
            case 0x81: {
                const auto shift = in.byte() % 24;
                const auto delta = ms(static_cast<std::int64_t>(in.u16()) << shift);
                now = op == 0x80 ? now + delta : now - delta;
                break;
            }
            case 0x82: write(conn->output().size() * in.byte() / 64); break;
            case 0x83: {
                const auto f = in.byte();
                const auto t = in.byte();
                publish(f, t, in.byte());
                break;
            }
            case 0x84: {
                const auto f = in.byte();
                publish_encoded(f, in.byte());
                break;
            }
            case 0x85: op_subscribe(in.byte()); break;
            case 0x86: op_unsubscribe(in.byte()); break;
            case 0x87: conn->acknowledge(static_cast<reason_code>(in.byte())); break;
            case 0x88: (void)conn->disconnect(static_cast<reason_code>(in.byte())); break;
            case 0x89: reconnect(); break;
            case 0x8A: accept(in.byte()); break;
            case 0x8B: refuse(in.byte()); break;
            case 0x8C:
                if (const auto id = conn->defer(); id && deferred_ids.size() < 256)
                    deferred_ids.push_back(*id);
                break;
            case 0x8D: {
                const auto pick = in.byte();
                const auto rc = static_cast<reason_code>(in.byte());
                const std::uint16_t id = pick < deferred_ids.size() ? deferred_ids[pick] : pick;
                (void)conn->acknowledge(id, rc);
                break;
            }
            case 0x8E: (void)conn->hold_input(); break;
            case 0x8F: conn->resume_input(); break;
            case 0x90: conn->set_packets_per_call(in.byte()); break;
            default: break;
            }
            check_bounds();
            drain();
        }
        drain();
        write(conn->output().size());
        MQTTWIRE_FUZZ_CHECK(wire.pending.empty() || conn->output().empty());
    }
};

template <class Storage> void run_role(bool server_role, const Storage& s, protocol_version v,
                                       bool clean, fuzz::input& in) {
    if (server_role) {
        harness<Storage, peer_role::server> h(s, v, clean);
        h.run(in);
    } else {
        harness<Storage, peer_role::client> h(s, v, clean);
        h.run(in);
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::input in(data, size);
    const auto cfg = in.byte();
    const bool server_role = (cfg & 1) != 0;
    const auto v = ((cfg >> 1) & 3) == 0   ? protocol_version::v3_1
                   : ((cfg >> 1) & 3) == 1 ? protocol_version::v3_1_1
                                           : protocol_version::v5;
    const bool clean = (cfg & 0x10) != 0;
    if ((cfg & 8) != 0) run_role(server_role, dynamic(small_limits), v, clean, in);
    else run_role(server_role, fixed{}, v, clean, in);
    return 0;
}
