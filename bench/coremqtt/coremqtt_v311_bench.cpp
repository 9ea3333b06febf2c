// coreMQTT v2.3.1's serializer on the inputs of codec_bench's 3.1.1 rows, in the same binary:
//   coremqtt_publish_decode/v311_qos1        MQTT_ProcessIncomingPacketTypeAndLength, then
//                                             MQTT_DeserializePublish, per packet of the stream
//   coremqtt_publish_decode_known/v311_qos1  MQTT_DeserializePublish alone: type and length
//                                             already known (the fixed headers are read before
//                                             the timed loop)
//   coremqtt_puback_decode[_known]/v311      the same for a stream of PUBACKs (MQTT_DeserializeAck)
//   coremqtt_publish_encode/v311_qos1        MQTT_GetPublishPacketSize + MQTT_SerializePublish
// Compared with publish_frame_decode/v311_qos1/header_known:0 and :1 (and publish_decode,
// through decode_packet), puback_frame_decode/v311 (puback_decode) and publish_encode/v311_qos1.
// coreMQTT checks less than mqttwire: no UTF-8 or wildcard check of the topic, for instance.
#include <cstddef>
#include <cstdint>
#include <vector>

#include <benchmark/benchmark.h>

#include "core_mqtt_serializer.h"
#include "inputs.hpp"

namespace {

using namespace coremqtt_bench;

// Which coreMQTT was measured, printed with the benchmark's context.
const bool context_added = [] {
    benchmark::AddCustomContext("coremqtt_v311", MQTTWIRE_COREMQTT_VERSION);
    return true;
}();

// The fixed header of the packet at `at`, with pRemainingData pointing into `bytes`.
MQTTPacketInfo_t header_at(std::vector<std::uint8_t>& bytes, std::size_t at) {
    MQTTPacketInfo_t info{};
    const std::size_t available = bytes.size() - at;
    if (MQTT_ProcessIncomingPacketTypeAndLength(bytes.data() + at, &available, &info) !=
        MQTTSuccess)
        die("MQTT_ProcessIncomingPacketTypeAndLength failed");
    info.pRemainingData = bytes.data() + at + info.headerLength;
    return info;
}

std::vector<MQTTPacketInfo_t> headers(std::vector<std::uint8_t>& bytes) {
    std::vector<MQTTPacketInfo_t> out;
    for (std::size_t at = 0; at < bytes.size();) {
        out.push_back(header_at(bytes, at));
        at += out.back().headerLength + out.back().remainingLength;
    }
    if (out.size() != stream_packets) die("stream framing disagrees");
    return out;
}

void decode_publish(const MQTTPacketInfo_t& info) {
    std::uint16_t id = 0;
    MQTTPublishInfo_t p{};
    if (MQTT_DeserializePublish(&info, &id, &p) != MQTTSuccess)
        die("MQTT_DeserializePublish failed");
    benchmark::DoNotOptimize(p.topicNameLength);
    benchmark::DoNotOptimize(p.payloadLength);
}

void decode_ack(const MQTTPacketInfo_t& info) {
    std::uint16_t id = 0;
    bool session_present = false;
    if (MQTT_DeserializeAck(&info, &id, &session_present) != MQTTSuccess)
        die("MQTT_DeserializeAck failed");
    benchmark::DoNotOptimize(id);
}

template <void (*Decode)(const MQTTPacketInfo_t&)>
void decode_stream(benchmark::State& state, std::vector<std::byte> wire, bool header_known) {
    auto bytes = as_u8(wire);
    const auto known = headers(bytes);
    for (auto _ : state) {
        if (header_known) {
            for (const auto& info : known) Decode(info);
        } else {
            for (std::size_t at = 0; at < bytes.size();) {
                const auto info = header_at(bytes, at);
                Decode(info);
                at += info.headerLength + info.remainingLength;
            }
        }
    }
    report(state, stream_packets, bytes.size());
}

void coremqtt_publish_decode(benchmark::State& state) {
    decode_stream<decode_publish>(state, publish_stream(false), false);
}
void coremqtt_publish_decode_known(benchmark::State& state) {
    decode_stream<decode_publish>(state, publish_stream(false), true);
}
void coremqtt_puback_decode(benchmark::State& state) {
    decode_stream<decode_ack>(state, puback_stream(), false);
}
void coremqtt_puback_decode_known(benchmark::State& state) {
    decode_stream<decode_ack>(state, puback_stream(), true);
}
BENCHMARK(coremqtt_publish_decode)->Name("coremqtt_publish_decode/v311_qos1");
BENCHMARK(coremqtt_publish_decode_known)->Name("coremqtt_publish_decode_known/v311_qos1");
BENCHMARK(coremqtt_puback_decode)->Name("coremqtt_puback_decode/v311");
BENCHMARK(coremqtt_puback_decode_known)->Name("coremqtt_puback_decode_known/v311");

void coremqtt_publish_encode(benchmark::State& state) {
    const auto body = payload();
    MQTTPublishInfo_t p{};
    p.qos = MQTTQoS1;
    point_publish(p, body);
    std::vector<std::uint8_t> out(256);
    const MQTTFixedBuffer_t buffer{out.data(), out.size()};
    encode_loop(state, out, [&] {
        benchmark::DoNotOptimize(p);
        std::size_t remaining = 0, size = 0;
        if (MQTT_GetPublishPacketSize(&p, &remaining, &size) != MQTTSuccess ||
            MQTT_SerializePublish(&p, 4711, remaining, &buffer) != MQTTSuccess)
            die("MQTT_SerializePublish failed");
        return size;
    });
}
BENCHMARK(coremqtt_publish_encode)->Name("coremqtt_publish_encode/v311_qos1");

} // namespace
