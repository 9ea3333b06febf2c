// WebSocket throughput (websocket.hpp): deframing client frames (unmask and move in one pass;
// here into a second buffer, so the input survives the iteration: in place costs the same)
// against two baselines over the same bytes in the same binary, a memcpy (the floor: the bytes
// must move anyway) and a byte-at-a-time unmasking loop (the plain way); small frames as browsers send MQTT (one packet per frame); the server's handshake
// (parse the request, write the 101 with its SHA-1 accept key). Figures: bench/README.md,
// section "WebSocket".

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <mqttwire.hpp>

namespace {

using namespace mqttwire;

const ws::masking_key key{std::byte{0x37}, std::byte{0xfa}, std::byte{0x21}, std::byte{0x3d}};

void die(const char* what) {
    std::fprintf(stderr, "websocket_bench: %s\n", what);
    std::abort();
}

// `count` client frames of `payload` bytes each, back to back.
std::vector<std::byte> client_frames(std::size_t count, std::size_t payload) {
    std::vector<std::byte> body(payload);
    for (std::size_t i = 0; i < payload; ++i) body[i] = static_cast<std::byte>('a' + i % 26);
    const auto h = ws::make_header(ws::role::client, ws::opcode::binary, payload, key);
    const auto size = *ws::frame_size(h);
    std::vector<std::byte> wire(count * size);
    for (std::size_t f = 0; f < count; ++f)
        if (!ws::encode_frame(h, body, std::span<std::byte>(wire).subspan(f * size, size)))
            die("encode_frame");
    return wire;
}

void deframe(benchmark::State& state, std::size_t count, std::size_t payload) {
    const auto wire = client_frames(count, payload);
    std::vector<std::byte> buf(wire.size());
    for (auto _ : state) {
        ws::deframer d;
        std::size_t in_at = 0;
        std::size_t out_at = 0;
        while (in_at < wire.size()) {
            const auto r = d.decode(std::span<const std::byte>(wire).subspan(in_at),
                                    std::span<std::byte>(buf).subspan(out_at));
            in_at += r.consumed;
            out_at += r.produced;
        }
        if (out_at != count * payload) die("deframe");
        benchmark::DoNotOptimize(buf.data());
    }
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(wire.size()));
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(count));
}

void BM_deframe_1MiB_frame(benchmark::State& state) { deframe(state, 1, 1 << 20); }
BENCHMARK(BM_deframe_1MiB_frame);

// Baseline: copying the payload, no unmasking.
void BM_baseline_memcpy_1MiB(benchmark::State& state) {
    const auto wire = client_frames(1, 1 << 20);
    std::vector<std::byte> buf(wire.size());
    for (auto _ : state) {
        std::memcpy(buf.data(), wire.data() + 14, wire.size() - 14);
        benchmark::DoNotOptimize(buf.data());
    }
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(wire.size()));
}
BENCHMARK(BM_baseline_memcpy_1MiB);

// Baseline: the plain unmasking loop, one byte at a time.
void BM_baseline_bytewise_unmask_1MiB(benchmark::State& state) {
    const auto wire = client_frames(1, 1 << 20);
    std::vector<std::byte> buf(wire.size());
    for (auto _ : state) {
        const std::size_t n = wire.size() - 14;
        for (std::size_t i = 0; i < n; ++i) buf[i] = wire[i + 14] ^ key[i & 3u];
        benchmark::DoNotOptimize(buf.data());
    }
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(wire.size()));
}
BENCHMARK(BM_baseline_bytewise_unmask_1MiB);

// One small MQTT packet per frame, as MQTT.js in a browser sends a PUBLISH: 256 frames of 64
// bytes.
void BM_deframe_256_frames_of_64(benchmark::State& state) { deframe(state, 256, 64); }
BENCHMARK(BM_deframe_256_frames_of_64);

void BM_server_handshake(benchmark::State& state) {
    const std::string_view request = "GET /mqtt HTTP/1.1\r\n"
                                     "Host: broker.local:9001\r\n"
                                     "Connection: keep-alive, Upgrade\r\n"
                                     "Pragma: no-cache\r\n"
                                     "User-Agent: Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0\r\n"
                                     "Upgrade: websocket\r\n"
                                     "Origin: http://broker.local:8123\r\n"
                                     "Sec-WebSocket-Version: 13\r\n"
                                     "Accept-Encoding: gzip, deflate\r\n"
                                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                     "Sec-WebSocket-Extensions: permessage-deflate\r\n"
                                     "Sec-WebSocket-Protocol: mqtt\r\n"
                                     "\r\n";
    std::vector<std::byte> out(256);
    for (auto _ : state) {
        ws::upgrade_request_parser p;
        if (p.parse(request) != ws::handshake_errc::success) die("parse");
        const auto n = ws::write_accept_response(p.request(), out);
        if (!n) die("write_accept_response");
        benchmark::DoNotOptimize(out.data());
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(request.size()));
}
BENCHMARK(BM_server_handshake);

} // namespace
