// Inputs of the coreMQTT comparison, built with mqttwire's encoder so both libraries read the same
// bytes as bench/codec_bench.cpp: topic "home/livingroom/tmp" (19 bytes), a 64-byte payload,
// streams of 256 packets with packet identifiers 1, 2, 3...
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string_view>
#include <vector>

#include <benchmark/benchmark.h>

#include <mqttwire.hpp>

namespace coremqtt_bench {

inline constexpr std::size_t stream_packets = 256;
inline constexpr std::string_view topic = "home/livingroom/tmp";
inline constexpr std::size_t payload_size = 64;

[[noreturn]] inline void die(const char* what) {
    std::fprintf(stderr, "codec_bench (coreMQTT): %s\n", what);
    std::abort();
}

inline std::vector<std::byte> payload() {
    std::vector<std::byte> p(payload_size);
    for (std::size_t i = 0; i < p.size(); ++i) p[i] = static_cast<std::byte>('a' + i % 26);
    return p;
}

template <class P>
void append(std::vector<std::byte>& out, const P& p, mqttwire::protocol_version v) {
    const auto size = mqttwire::encoded_size(p, v);
    if (!size) die("encoded_size failed");
    const auto at = out.size();
    out.resize(at + *size);
    if (!mqttwire::encode(p, v, std::span<std::byte>(out).subspan(at))) die("encode failed");
}

// `stream_packets` PUBLISHes; with `v5`, each carries Message Expiry Interval 3600 and the User
// Property ("source", "sensor-7"), as codec_bench's v5_two_props shape.
inline std::vector<std::byte> publish_stream(bool v5) {
    const auto body = payload();
    const mqttwire::property props[] = {{mqttwire::property_id::message_expiry_interval, 3600},
                                        mqttwire::user_property("source", "sensor-7")};
    mqttwire::publish_view p;
    p.topic = mqttwire::utf8_view(topic);
    p.payload = mqttwire::binary_view(std::span<const std::byte>(body));
    if (v5)
        p.properties = props;
    else
        p.qos = mqttwire::qos::at_least_once;
    std::vector<std::byte> out;
    for (std::size_t i = 0; i < stream_packets; ++i) {
        if (!v5) p.packet_id = static_cast<std::uint16_t>(1 + i);
        append(out, p, v5 ? mqttwire::protocol_version::v5 : mqttwire::protocol_version::v3_1_1);
    }
    return out;
}

// `stream_packets` 3.1.1 PUBACKs.
inline std::vector<std::byte> puback_stream() {
    std::vector<std::byte> out;
    for (std::size_t i = 0; i < stream_packets; ++i)
        append(out, mqttwire::puback_view{static_cast<std::uint16_t>(1 + i)},
               mqttwire::protocol_version::v3_1_1);
    return out;
}

// coreMQTT takes (and writes through) uint8_t pointers.
inline std::vector<std::uint8_t> as_u8(const std::vector<std::byte>& b) {
    std::vector<std::uint8_t> out(b.size());
    for (std::size_t i = 0; i < b.size(); ++i) out[i] = static_cast<std::uint8_t>(b[i]);
    return out;
}

inline void report(benchmark::State& state, std::size_t packets, std::size_t bytes) {
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(packets));
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(bytes));
}

// Points a coreMQTT MQTTPublishInfo_t (either version) at the topic and `body`.
template <class Info> void point_publish(Info& p, const std::vector<std::byte>& body) {
    p.pTopicName = topic.data();
    p.topicNameLength = static_cast<decltype(p.topicNameLength)>(topic.size());
    p.pPayload = body.data();
    p.payloadLength = body.size();
}

// One encode per iteration into `out`; `encode_once` returns the packet's size.
template <class F>
void encode_loop(benchmark::State& state, const std::vector<std::uint8_t>& out, F encode_once) {
    std::size_t written = 0;
    for (auto _ : state) {
        written = encode_once();
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    report(state, 1, written);
}

} // namespace coremqtt_bench
