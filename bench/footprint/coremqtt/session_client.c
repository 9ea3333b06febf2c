/* coreMQTT v2.3.1's full 3.1.1 client (core_mqtt.c, core_mqtt_state.c and the serializer): the
 * baseline for a fixed-storage session client. Caller-owned network buffer and in-flight
 * records (MQTT_InitStatefulQoS), CONNECT with optional credentials and will, SUBSCRIBE, a PUBLISH
 * at an input-chosen QoS, the receive/keep-alive loop (incoming PUBLISH at any QoS, the acks it
 * sends, PINGREQ when due) and DISCONNECT. The transport reads the opaque input and writes to the
 * volatile sink; the clock is opaque too. */
#include <stddef.h>
#include <stdint.h>

#include "core_mqtt.h"

#define COREMQTT_LENGTH uint16_t
#include "fields.h"
#include "transport.h"

static void on_event(MQTTContext_t* ctx, MQTTPacketInfo_t* packet, MQTTDeserializedInfo_t* info) {
    (void)ctx;
    footprint_use(packet->type + info->packetIdentifier);
    if (info->pPublishInfo != NULL)
        footprint_use(info->pPublishInfo->topicNameLength + info->pPublishInfo->payloadLength);
}

int main(void) {
    footprint_fill();
    static uint8_t network_buffer[FOOTPRINT_INPUT_SIZE];
    static MQTTPubAckInfo_t outgoing[8], incoming[8];
    static MQTTContext_t ctx;
    NetworkContext_t net = {0};
    const TransportInterface_t transport = {footprint_recv, footprint_send, NULL, &net};
    const MQTTFixedBuffer_t buffer = {network_buffer, sizeof network_buffer};

    MQTTStatus_t s = MQTT_Init(&ctx, &transport, footprint_now_ms, on_event, &buffer);
    if (s == MQTTSuccess) s = MQTT_InitStatefulQoS(&ctx, outgoing, 8, incoming, 8);

    MQTTConnectInfo_t c = {0};
    MQTTPublishInfo_t will = {0};
    const MQTTPublishInfo_t* will_ptr = footprint_connect(&c, &will);
    bool session_present = false;
    if (s == MQTTSuccess) s = MQTT_Connect(&ctx, &c, will_ptr, 1000u, &session_present);

    MQTTSubscribeInfo_t sub = {0};
    footprint_subscription(&sub);
    if (s == MQTTSuccess) s = MQTT_Subscribe(&ctx, &sub, 1, MQTT_GetPacketId(&ctx));

    MQTTPublishInfo_t p = {0};
    (void)footprint_publish(&p);
    if (s == MQTTSuccess)
        s = MQTT_Publish(&ctx, &p, p.qos == MQTTQoS0 ? 0 : MQTT_GetPacketId(&ctx));

    while (s == MQTTSuccess && net.read < FOOTPRINT_INPUT_SIZE) s = MQTT_ProcessLoop(&ctx);
    footprint_use(s + (session_present ? 256u : 0u));
    footprint_use(MQTT_Disconnect(&ctx));
    return 0;
}
