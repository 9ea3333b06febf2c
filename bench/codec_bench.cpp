// Codec throughput: framing, decoding into views and encoding of the packets a broker sees most
// (small PUBLISH streams, a 1 MiB PUBLISH, a 5.0 CONNECT), and UTF-8 validation side by side with
// libmosquitto's mosquitto_validate_utf8 in the same binary (when built with
// MQTTWIRE_HAVE_LIBMOSQUITTO). Figures and ratios: bench/README.md, section "Codec".
//
// Every stream benchmark processes `stream_packets` packets per iteration and reports items/s
// (packets) and bytes/s (wire bytes); ns per packet = 1e9 / items_per_second.

#include <benchmark/benchmark.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <mqttwire.hpp>

#if defined(MQTTWIRE_HAVE_LIBMOSQUITTO)
#include <mosquitto.h>
#endif

namespace {

using namespace mqttwire;

constexpr std::size_t stream_packets = 256;
constexpr std::string_view topic = "home/livingroom/tmp"; // 19 bytes
constexpr std::size_t small_payload = 64;

void die(const char* what) {
    std::fprintf(stderr, "codec_bench: %s\n", what);
    std::abort();
}

std::vector<std::byte> payload_bytes(std::size_t n) {
    std::vector<std::byte> p(n);
    for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<std::byte>('a' + i % 26);
    return p;
}

// Appends the encoding of `p` at level `v` to `out`.
template <class P> void append(std::vector<std::byte>& out, const P& p, protocol_version v) {
    const auto size = encoded_size(p, v);
    if (!size) die("encoded_size failed");
    const auto at = out.size();
    out.resize(at + *size);
    const auto n = encode(p, v, std::span<std::byte>(out).subspan(at));
    if (!n || *n != *size) die("encode failed");
}

enum class shape { v311_qos0, v311_qos1, v5_plain, v5_two_props };

struct publish_case {
    std::vector<std::byte> payload = payload_bytes(small_payload);
    std::array<property, 2> props{{
        {property_id::message_expiry_interval, 3600},
        user_property("source", "sensor-7"),
    }};
    publish_view packet{};
    protocol_version version = protocol_version::v5;

    explicit publish_case(shape s) {
        packet.topic = utf8_view(topic);
        packet.payload = binary_view(std::span<const std::byte>(payload));
        switch (s) {
        case shape::v311_qos0: version = protocol_version::v3_1_1; break;
        case shape::v311_qos1:
            version = protocol_version::v3_1_1;
            packet.qos = qos::at_least_once;
            packet.packet_id = 4711;
            break;
        case shape::v5_plain: break;
        case shape::v5_two_props: packet.properties = properties_view(props); break;
        }
    }
};

struct stream {
    std::vector<std::byte> bytes;
    protocol_version version;
};

stream publish_stream(shape s) {
    publish_case c(s);
    stream out{{}, c.version};
    for (std::size_t i = 0; i < stream_packets; ++i) {
        c.packet.packet_id =
            c.packet.qos == qos::at_most_once ? 0 : static_cast<std::uint16_t>(1 + i % 65535);
        append(out.bytes, c.packet, c.version);
    }
    return out;
}

void report(benchmark::State& state, std::size_t packets, std::size_t bytes) {
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(packets));
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(bytes));
}

// ------------------------------------------------------------------------------------------
// Small PUBLISH streams
// ------------------------------------------------------------------------------------------

// Framing alone: where does each packet end (fixed header, remaining length, size limit).
void publish_frame(benchmark::State& state, shape s) {
    const auto st = publish_stream(s);
    const std::span<const std::byte> all(st.bytes);
    for (auto _ : state) {
        std::size_t off = 0;
        std::size_t packets = 0;
        while (off < all.size()) {
            const auto f = next_frame(all.subspan(off), 1u << 20);
            if (f.status != errc::success) die("frame failed");
            benchmark::DoNotOptimize(f);
            off += f.size;
            ++packets;
        }
        benchmark::DoNotOptimize(packets);
    }
    report(state, stream_packets, all.size());
}

// Full validation into views: decode_packet on each packet of the stream, reading the topic
// and payload views.
void publish_decode(benchmark::State& state, shape s) {
    const auto st = publish_stream(s);
    const std::span<const std::byte> all(st.bytes);
    const decode_options opts{.version = st.version, .max_packet_size = 1u << 20};
    for (auto _ : state) {
        std::size_t off = 0;
        while (off < all.size()) {
            const auto r = decode_packet(all.subspan(off), opts);
            if (!r) die("decode failed");
            const auto& p = std::get<publish_view>(r->packet);
            benchmark::DoNotOptimize(p.topic.size());
            benchmark::DoNotOptimize(p.payload.size());
            off += r->size;
        }
    }
    report(state, stream_packets, all.size());
}

BENCHMARK_CAPTURE(publish_frame, v311_qos0, shape::v311_qos0);
BENCHMARK_CAPTURE(publish_frame, v311_qos1, shape::v311_qos1);
BENCHMARK_CAPTURE(publish_frame, v5_plain, shape::v5_plain);
BENCHMARK_CAPTURE(publish_frame, v5_two_props, shape::v5_two_props);
BENCHMARK_CAPTURE(publish_decode, v311_qos0, shape::v311_qos0);
BENCHMARK_CAPTURE(publish_decode, v311_qos1, shape::v311_qos1);
BENCHMARK_CAPTURE(publish_decode, v5_plain, shape::v5_plain);
BENCHMARK_CAPTURE(publish_decode, v5_two_props, shape::v5_two_props);

stream puback_stream() {
    stream out{{}, protocol_version::v3_1_1};
    for (std::size_t i = 0; i < stream_packets; ++i)
        append(out.bytes, puback_view{static_cast<std::uint16_t>(1 + i)}, out.version);
    return out;
}

// A stream of 3.1.1 PUBACKs through decode_packet, fixed header included.
void puback_decode(benchmark::State& state) {
    const auto st = puback_stream();
    const std::span<const std::byte> all(st.bytes);
    const decode_options opts{.version = st.version, .max_packet_size = 1u << 20};
    for (auto _ : state) {
        std::size_t off = 0;
        while (off < all.size()) {
            const auto r = decode_packet(all.subspan(off), opts);
            if (!r) die("decode failed");
            benchmark::DoNotOptimize(std::get<puback_view>(r->packet).packet_id);
            off += r->size;
        }
    }
    report(state, stream_packets, all.size());
}
BENCHMARK(puback_decode)->Name("puback_decode/v311");

// decode<P> on what the framer found: with the fixed header read in the loop (next_frame, then
// decode<P>; header_known:0), or with the frames found before the timed loop, as a receive loop
// that has framed the packet already holds them (header_known:1).
template <class P> void frame_decode(benchmark::State& state, const stream& st) {
    const bool header_known = state.range(0) != 0;
    const std::span<const std::byte> all(st.bytes);
    const decode_options opts{.version = st.version, .max_packet_size = 1u << 20};
    std::vector<std::pair<std::size_t, frame>> frames;
    for (std::size_t off = 0; off < all.size(); off += frames.back().second.size)
        frames.emplace_back(off, next_frame(all.subspan(off), opts));
    const auto take = [&](std::size_t off, const frame& f) {
        const auto r = decode<P>(all.subspan(off), f, opts);
        if (!r) die("decode failed");
        if constexpr (std::is_same_v<P, publish_view>) {
            benchmark::DoNotOptimize(r->topic.size());
            benchmark::DoNotOptimize(r->payload.size());
        } else {
            benchmark::DoNotOptimize(r->packet_id);
        }
    };
    for (auto _ : state) {
        if (header_known) {
            for (const auto& [off, f] : frames) take(off, f);
        } else {
            for (std::size_t off = 0; off < all.size();) {
                const auto f = next_frame(all.subspan(off), opts);
                take(off, f);
                off += f.size;
            }
        }
    }
    report(state, frames.size(), all.size());
}
void publish_frame_decode(benchmark::State& state, shape s) {
    frame_decode<publish_view>(state, publish_stream(s));
}
void puback_frame_decode(benchmark::State& state) {
    frame_decode<puback_view>(state, puback_stream());
}
BENCHMARK_CAPTURE(publish_frame_decode, v311_qos1, shape::v311_qos1)
    ->ArgName("header_known")
    ->Arg(0)
    ->Arg(1);
BENCHMARK_CAPTURE(publish_frame_decode, v5_two_props, shape::v5_two_props)
    ->ArgName("header_known")
    ->Arg(0)
    ->Arg(1);
BENCHMARK(puback_frame_decode)
    ->Name("puback_frame_decode/v311")
    ->ArgName("header_known")
    ->Arg(0)
    ->Arg(1);

// The same stream arriving in reads of pseudo-random sizes (1..max_chunk bytes), through a
// realistic receive loop: append the read to a receive buffer, frame and decode every complete
// packet, move the partial tail to the front for the next read. Arg: max_chunk.
void publish_framer_split(benchmark::State& state, shape s) {
    const auto st = publish_stream(s);
    const std::span<const std::byte> all(st.bytes);
    const auto max_chunk = static_cast<std::size_t>(state.range(0));
    // Fixed, reproducible split points (a linear congruential generator).
    std::vector<std::size_t> chunks;
    std::uint32_t seed = 12345;
    for (std::size_t done = 0; done < all.size();) {
        seed = seed * 1664525u + 1013904223u;
        const std::size_t n = std::min<std::size_t>(1 + (seed >> 8) % max_chunk, all.size() - done);
        chunks.push_back(n);
        done += n;
    }
    const framer fr(1u << 20);
    const decode_options opts{.version = st.version, .max_packet_size = 1u << 20};
    std::vector<std::byte> rx(all.size() + max_chunk);
    for (auto _ : state) {
        std::size_t in = 0;   // next byte of the "socket"
        std::size_t have = 0; // bytes buffered in rx
        std::size_t packets = 0;
        for (const auto n : chunks) {
            std::memcpy(rx.data() + have, all.data() + in, n); // the read()
            in += n;
            have += n;
            const std::span<const std::byte> buffered(rx.data(), have);
            std::size_t off = 0;
            for (;;) {
                const auto f = fr.next(buffered.subspan(off));
                if (f.status == errc::incomplete) break;
                if (f.status != errc::success) die("frame failed");
                const auto r = decode_packet(buffered.subspan(off, f.size), opts);
                if (!r) die("decode failed");
                benchmark::DoNotOptimize(std::get<publish_view>(r->packet).payload.size());
                off += f.size;
                ++packets;
            }
            if (off != 0) {
                std::memmove(rx.data(), rx.data() + off, have - off);
                have -= off;
            }
        }
        if (packets != stream_packets || have != 0) die("split stream lost packets");
    }
    report(state, stream_packets, all.size());
    state.counters["reads_per_packet"] =
        static_cast<double>(chunks.size()) / static_cast<double>(stream_packets);
}
BENCHMARK_CAPTURE(publish_framer_split, v311_qos1, shape::v311_qos1)->Arg(64)->Arg(1460);
BENCHMARK_CAPTURE(publish_framer_split, v5_two_props, shape::v5_two_props)->Arg(64)->Arg(1460);

// ------------------------------------------------------------------------------------------
// One PUBLISH with a 1 MiB payload: views, no copy, so it costs what a small one costs.
// ------------------------------------------------------------------------------------------

void publish_1mib(benchmark::State& state, bool decode) {
    const auto payload = payload_bytes(std::size_t{1} << 20);
    publish_view p;
    p.topic = utf8_view(topic);
    p.qos = qos::at_least_once;
    p.packet_id = 7;
    p.payload = binary_view(std::span<const std::byte>(payload));
    std::vector<std::byte> wire;
    append(wire, p, protocol_version::v3_1_1);
    const std::span<const std::byte> all(wire);
    const decode_options opts{.version = protocol_version::v3_1_1, .max_packet_size = 2u << 20};
    for (auto _ : state) {
        if (decode) {
            const auto r = decode_packet(all, opts);
            if (!r) die("decode failed");
            benchmark::DoNotOptimize(std::get<publish_view>(r->packet).payload.size());
        } else {
            const auto f = next_frame(all, 2u << 20);
            benchmark::DoNotOptimize(f);
        }
    }
    report(state, 1, all.size());
}
BENCHMARK_CAPTURE(publish_1mib, frame, false);
BENCHMARK_CAPTURE(publish_1mib, decode, true);

// ------------------------------------------------------------------------------------------
// A 5.0 CONNECT with seven properties, user name and password.
// ------------------------------------------------------------------------------------------

struct connect_case {
    std::array<property, 7> props{{
        {property_id::session_expiry_interval, 3600},
        {property_id::receive_maximum, 100},
        {property_id::maximum_packet_size, 1u << 20},
        {property_id::topic_alias_maximum, 10},
        {property_id::request_response_information, 1},
        {property_id::request_problem_information, 1},
        user_property("site", "living-room"),
    }};
    connect_view packet{};
    connect_case() {
        packet.version = protocol_version::v5;
        packet.clean_start = true;
        packet.keep_alive = 60;
        packet.client_id = utf8_view("thermostat-livingroom-01");
        packet.user_name = utf8_view("homeassistant");
        packet.password = binary_view("s3cr3t-passw0rd");
        packet.properties = properties_view(props);
    }
};

void connect_decode(benchmark::State& state) {
    const connect_case c;
    std::vector<std::byte> wire;
    append(wire, c.packet, protocol_version::v5);
    const std::span<const std::byte> all(wire);
    const decode_options opts{};
    for (auto _ : state) {
        const auto r = decode_packet(all, opts);
        if (!r) die("decode failed");
        benchmark::DoNotOptimize(std::get<connect_view>(r->packet).client_id.size());
    }
    report(state, 1, all.size());
}
BENCHMARK(connect_decode);

// ------------------------------------------------------------------------------------------
// Encode: the same PUBLISH and CONNECT, measured and written (encode sizes first, then writes).
// ------------------------------------------------------------------------------------------

void publish_encode(benchmark::State& state, shape s) {
    const publish_case c(s);
    const auto size = encoded_size(c.packet, c.version);
    if (!size) die("encoded_size failed");
    std::vector<std::byte> out(*size);
    for (auto _ : state) {
        benchmark::DoNotOptimize(c.packet);
        const auto n = encode(c.packet, c.version, out);
        if (!n) die("encode failed");
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    report(state, 1, *size);
}
BENCHMARK_CAPTURE(publish_encode, v311_qos0, shape::v311_qos0);
BENCHMARK_CAPTURE(publish_encode, v311_qos1, shape::v311_qos1);
BENCHMARK_CAPTURE(publish_encode, v5_plain, shape::v5_plain);
BENCHMARK_CAPTURE(publish_encode, v5_two_props, shape::v5_two_props);

// Re-encoding a decoded PUBLISH (a broker forwarding what it received): properties are copied
// as their validated wire block.
void publish_reencode(benchmark::State& state, shape s) {
    const auto st = publish_stream(s);
    const auto r = decode_packet(std::span<const std::byte>(st.bytes),
                                 {.version = st.version, .max_packet_size = 1u << 20});
    if (!r) die("decode failed");
    const auto p = std::get<publish_view>(r->packet);
    std::vector<std::byte> out(r->size);
    for (auto _ : state) {
        benchmark::DoNotOptimize(p);
        const auto n = encode(p, st.version, out);
        if (!n) die("encode failed");
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    report(state, 1, r->size);
}
BENCHMARK_CAPTURE(publish_reencode, v5_two_props, shape::v5_two_props);

void connect_encode(benchmark::State& state) {
    const connect_case c;
    const auto size = encoded_size(c.packet, protocol_version::v5);
    if (!size) die("encoded_size failed");
    std::vector<std::byte> out(*size);
    for (auto _ : state) {
        benchmark::DoNotOptimize(c.packet);
        const auto n = encode(c.packet, protocol_version::v5, out);
        if (!n) die("encode failed");
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    report(state, 1, *size);
}
BENCHMARK(connect_encode);

// ------------------------------------------------------------------------------------------
// UTF-8 validation, side by side with libmosquitto on the same strings.
// ------------------------------------------------------------------------------------------

std::string utf8_input(int which) {
    switch (which) {
    case 0: return std::string(topic); // ASCII topic, 19 bytes
    case 1: // multi-byte text: 2-, 3- and 4-byte sequences mixed with ASCII, 60 bytes
        return "caf\xc3\xa9/d\xc3\xa9vice/\xe6\xb8\xa9\xe5\xba\xa6/\xf0\x9f\x8c\xa1/"
               "\xd0\xba\xd1\x83\xd1\x85\xd0\xbd\xd1\x8f/na\xc3\xafve/\xe2\x82\xac";
    default: { // 1 KiB of mixed text: mostly ASCII with a multi-byte sequence every 64 bytes
        std::string s;
        while (s.size() < 1024 - 3) {
            s += "sensor reading: temperature 21.5 C, humidity 40 %, status ok ";
            s += "\xe2\x82\xac";
        }
        s.resize(1024 - 3);
        while ((static_cast<unsigned char>(s.back()) & 0xC0u) == 0x80u ||
               static_cast<unsigned char>(s.back()) >= 0xC0u)
            s.pop_back(); // do not end inside a sequence
        while (s.size() < 1024) s += 'x';
        return s;
    }
    }
}

void utf8_mqttwire(benchmark::State& state) {
    const auto s = utf8_input(static_cast<int>(state.range(0)));
    if (validate_utf8(std::string_view(s)) != errc::success) die("input is not valid UTF-8");
    for (auto _ : state) {
        const std::string_view v(s);
        benchmark::DoNotOptimize(v);
        benchmark::DoNotOptimize(validate_utf8(v));
    }
    report(state, 1, s.size());
}
BENCHMARK(utf8_mqttwire)->ArgName("input")->Arg(0)->Arg(1)->Arg(2);

#if defined(MQTTWIRE_HAVE_LIBMOSQUITTO)
void utf8_mosquitto(benchmark::State& state) {
    const auto s = utf8_input(static_cast<int>(state.range(0)));
    if (mosquitto_validate_utf8(s.data(), static_cast<int>(s.size())) != MOSQ_ERR_SUCCESS)
        die("mosquitto refuses the input");
    for (auto _ : state) {
        const char* p = s.data();
        benchmark::DoNotOptimize(p);
        benchmark::DoNotOptimize(mosquitto_validate_utf8(p, static_cast<int>(s.size())));
    }
    report(state, 1, s.size());
}
BENCHMARK(utf8_mosquitto)->ArgName("input")->Arg(0)->Arg(1)->Arg(2);
#endif

} // namespace
