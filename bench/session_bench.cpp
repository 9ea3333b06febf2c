// Session layer cost per message, against what a receiver written by hand with the codec alone
// does (decode the PUBLISH, encode its PUBACK): the server role taking a stream of QoS 1
// PUBLISHes (framing, decoding, the QoS 1 flow, the message event, the PUBACK written), and the
// client role publishing QoS 1 and taking the PUBACK (identifier, copy for resending, quota,
// event). Figures: bench/README.md, section "Session layer".
//
// Each iteration handles `stream_packets` messages; ns per message = 1e9 / items_per_second.

#include <benchmark/benchmark.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdlib>
#include <memory>
#include <vector>

#include <mqttwire/session.hpp>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace {

using namespace mqttwire;
using namespace std::chrono_literals;

constexpr std::size_t stream_packets = 256;

publish_view sample(std::uint16_t id) {
    publish_view p;
    p.qos = qos::at_least_once;
    p.topic = "salon/luz/stat";
    p.payload = "0123456789abcdef";
    p.packet_id = id;
    return p;
}

std::vector<std::byte> qos1_stream(protocol_version v) {
    std::vector<std::byte> out;
    std::array<std::byte, 64> one{};
    for (std::size_t i = 0; i < stream_packets; ++i) {
        const auto n = encode(sample(static_cast<std::uint16_t>(i + 1)), v, one);
        if (!n) std::abort();
        out.insert(out.end(), one.begin(), one.begin() + static_cast<std::ptrdiff_t>(*n));
    }
    return out;
}

// The baseline: decode each PUBLISH and encode its PUBACK with the codec alone.
void codec_receive_qos1(benchmark::State& state, protocol_version v) {
    const auto stream = qos1_stream(v);
    std::array<std::byte, 8> ack{};
    for (auto _ : state) {
        std::span<const std::byte> rest(stream);
        while (!rest.empty()) {
            const auto r = decode_packet(rest, {.version = v, .sender = peer_role::client});
            const auto& p = std::get<publish_view>(r->packet);
            benchmark::DoNotOptimize(p.payload.size());
            puback_view a;
            a.packet_id = p.packet_id;
            benchmark::DoNotOptimize(encode(a, v, ack));
            rest = rest.subspan(r->size);
        }
    }
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(stream_packets));
}

void server_receive_qos1(benchmark::State& state, protocol_version v) {
    const auto stream = qos1_stream(v);
    dynamic_storage<> st(session_limits{.inbound_qos2 = 100, .input_bytes = 1 << 16,
                                        .output_bytes = 1 << 16, .resend_bytes = 0});
    session_state<dynamic_storage<>> session(st);
    server<dynamic_storage<>> s(0ms, {}, st);
    // CONNECT "pc", keep alive 60; 5.0 with an empty property block.
    const std::array<std::uint8_t, 17> connect_v5{0x10, 0x0f, 0,   4,   'M', 'Q', 'T', 'T', 5,
                                                  2,    0,    60,  0,   0,   2,   'p', 'c'};
    const std::array<std::uint8_t, 16> connect_v3{0x10, 0x0e, 0,   4,   'M', 'Q', 'T', 'T',
                                                  4,    2,    0,   60,  0,   2,   'p', 'c'};
    if (v == protocol_version::v5)
        (void)s.feed(std::as_bytes(std::span(connect_v5)));
    else
        (void)s.feed(std::as_bytes(std::span(connect_v3)));
    if (s.next(0ms).kind != event_kind::connect_request || s.accept(session) != errc::success)
        std::abort();
    s.output_written(s.output().size());
    for (auto _ : state) {
        std::span<const std::byte> rest(stream);
        while (!rest.empty()) {
            rest = rest.subspan(s.feed(rest));
            for (auto ev = s.next(0ms); ev; ev = s.next(0ms))
                benchmark::DoNotOptimize(ev.message->payload.size());
            s.output_written(s.output().size());
        }
    }
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(stream_packets));
}

void client_publish_qos1(benchmark::State& state, protocol_version v) {
    using storage = fixed_storage<session_limits{.inflight = 16, .input_bytes = 512,
                                                 .output_bytes = 512, .resend_bytes = 2048}>;
    session_state<storage> session;
    client<storage> c(session);
    (void)c.connect({.version = v, .client_id = "pc"}, 0ms);
    c.output_written(c.output().size());
    const std::array<std::uint8_t, 5> connack_v5{0x20, 3, 0, 0, 0};
    const std::array<std::uint8_t, 4> connack_v3{0x20, 2, 0, 0};
    if (v == protocol_version::v5)
        (void)c.feed(std::as_bytes(std::span(connack_v5)));
    else
        (void)c.feed(std::as_bytes(std::span(connack_v3)));
    if (c.next(0ms).kind != event_kind::connected) std::abort();
    const auto p = sample(0);
    for (auto _ : state) {
        for (std::size_t i = 0; i < stream_packets; ++i) {
            const auto id = c.publish(p, 0ms);
            c.output_written(c.output().size());
            const std::array<std::byte, 4> ack{std::byte{0x40}, std::byte{2},
                                               static_cast<std::byte>(*id >> 8),
                                               static_cast<std::byte>(*id & 0xFF)};
            (void)c.feed(ack);
            benchmark::DoNotOptimize(c.next(0ms).packet_id);
        }
    }
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(stream_packets));
}

// What an idle connection costs a server built on the server role: `connections` server
// connections with their `session_state`, each after a 5.0 CONNECT (Receive Maximum, Topic Alias
// Maximum and Session Expiry Interval properties) accepted and its CONNACK written. Counters:
// the objects (sizeof) and what they hold on the heap afterwards (glibc's mallinfo2, in use),
// per connection. Time is not the point; one iteration.
void server_idle_connection(benchmark::State& state) {
    constexpr std::size_t connections = 2000;
    using storage = dynamic_storage<>;
    using conn = server<storage>;
    const storage st(session_limits{.inflight = 20, .requests = 0, .inbound_qos2 = 20,
                                    .input_bytes = 1 << 16, .output_bytes = 1 << 16,
                                    .resend_bytes = 0, .aliases_in = 10,
                                    .alias_bytes_in = 10 * 64, .aliases_out = 10,
                                    .alias_bytes_out = 10 * 64});
    // CONNECT 5.0 "pc", keep alive 60: Session Expiry Interval 3600, Receive Maximum 20,
    // Topic Alias Maximum 10.
    const std::array<std::uint8_t, 28> connect{0x10, 0x1a, 0,    4,    'M', 'Q', 'T', 'T', 5, 0,
                                               0,    60,   11,   0x11, 0,   0,   0x0e, 0x10, 0x21,
                                               0,    20,   0x22, 0,    10,  0,   2,   'p', 'c'};
    double heap_per = 0;
    for (auto _ : state) {
        std::vector<std::unique_ptr<session_state<storage>>> sessions;
        std::vector<std::unique_ptr<conn>> conns;
        sessions.reserve(connections);
        conns.reserve(connections);
#if defined(__GLIBC__)
        const auto before = mallinfo2().uordblks;
#endif
        for (std::size_t i = 0; i < connections; ++i) {
            sessions.push_back(std::make_unique<session_state<storage>>(st));
            conns.push_back(std::make_unique<conn>(0ms, server_options{}, st));
            auto& c = *conns.back();
            (void)c.feed(std::as_bytes(std::span(connect)));
            if (c.next(0ms).kind != event_kind::connect_request ||
                c.accept(*sessions.back()) != errc::success)
                std::abort();
            if (c.next(0ms).kind != event_kind::none) std::abort();
            c.output_written(c.output().size());
        }
#if defined(__GLIBC__)
        heap_per = static_cast<double>(mallinfo2().uordblks - before) / connections;
#endif
    }
    state.counters["sizeof_server"] = static_cast<double>(sizeof(conn));
    state.counters["sizeof_state"] = static_cast<double>(sizeof(session_state<storage>));
    state.counters["heap_per_connection"] = heap_per;
}
BENCHMARK(server_idle_connection)->Iterations(1);

BENCHMARK_CAPTURE(codec_receive_qos1, v311, protocol_version::v3_1_1);
BENCHMARK_CAPTURE(server_receive_qos1, v311, protocol_version::v3_1_1);
BENCHMARK_CAPTURE(client_publish_qos1, v311, protocol_version::v3_1_1);
BENCHMARK_CAPTURE(codec_receive_qos1, v5, protocol_version::v5);
BENCHMARK_CAPTURE(server_receive_qos1, v5, protocol_version::v5);
BENCHMARK_CAPTURE(client_publish_qos1, v5, protocol_version::v5);

} // namespace
