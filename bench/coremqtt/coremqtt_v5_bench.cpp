// coreMQTT 5 (its main branch) on the input of codec_bench's 5.0 row with two properties, in the
// same binary:
//   coremqtt5_publish_decode/v5_two_props  MQTT_ProcessIncomingPacketTypeAndLength, then
//                                          MQTT_DeserializePublish (which walks and checks the
//                                          property block), per packet of the stream
//   coremqtt5_publish_encode/v5_two_props  the two properties added to a property builder, then
//                                          MQTT_GetPublishPacketSize + MQTT_SerializePublish
// Compared with publish_frame_decode/v5_two_props/header_known:0 (publish_decode/v5_two_props
// through decode_packet) and publish_encode/v5_two_props.
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
    benchmark::AddCustomContext("coremqtt_v5", MQTTWIRE_COREMQTT_VERSION);
    return true;
}();

void coremqtt5_publish_decode(benchmark::State& state) {
    auto bytes = as_u8(publish_stream(true));
    for (auto _ : state) {
        for (std::size_t at = 0; at < bytes.size();) {
            MQTTPacketInfo_t info{};
            const std::size_t available = bytes.size() - at;
            if (MQTT_ProcessIncomingPacketTypeAndLength(bytes.data() + at, &available, &info) !=
                MQTTSuccess)
                die("MQTT_ProcessIncomingPacketTypeAndLength failed");
            info.pRemainingData = bytes.data() + at + info.headerLength;
            std::uint16_t id = 0;
            MQTTPublishInfo_t p{};
            MQTTPropBuilder_t props{};
            if (MQTT_DeserializePublish(&info, &id, &p, &props, 1u << 20, 0) != MQTTSuccess)
                die("MQTT_DeserializePublish failed");
            benchmark::DoNotOptimize(p.topicNameLength);
            benchmark::DoNotOptimize(p.payloadLength);
            benchmark::DoNotOptimize(props.bufferLength);
            at += info.headerLength + info.remainingLength;
        }
    }
    report(state, stream_packets, bytes.size());
}
BENCHMARK(coremqtt5_publish_decode)->Name("coremqtt5_publish_decode/v5_two_props");

void coremqtt5_publish_encode(benchmark::State& state) {
    const auto body = payload();
    MQTTPublishInfo_t p{};
    point_publish(p, body);
    MQTTUserProperty_t user{};
    user.pKey = "source";
    user.keyLength = 6;
    user.pValue = "sensor-7";
    user.valueLength = 8;
    std::uint8_t prop_bytes[64];
    std::vector<std::uint8_t> out(256);
    const MQTTFixedBuffer_t buffer{out.data(), out.size()};
    encode_loop(state, out, [&] {
        benchmark::DoNotOptimize(p);
        MQTTPropBuilder_t props{};
        std::uint32_t remaining = 0, size = 0;
        if (MQTTPropertyBuilder_Init(&props, prop_bytes, sizeof prop_bytes) != MQTTSuccess ||
            MQTTPropAdd_MessageExpiry(&props, 3600, &MQTT_PACKET_TYPE_PUBLISH_VAL) != MQTTSuccess ||
            MQTTPropAdd_UserProp(&props, &user, &MQTT_PACKET_TYPE_PUBLISH_VAL) != MQTTSuccess ||
            MQTT_GetPublishPacketSize(&p, &props, &remaining, &size, 1u << 20) != MQTTSuccess ||
            MQTT_SerializePublish(&p, &props, 0, remaining, &buffer) != MQTTSuccess)
            die("coreMQTT 5 PUBLISH encode failed");
        return std::size_t{size};
    });
}
BENCHMARK(coremqtt5_publish_encode)->Name("coremqtt5_publish_encode/v5_two_props");

} // namespace
