/* coreMQTT v2.3.1's full 3.1.1 client (core_mqtt.c, core_mqtt_state.c and the serializer): the
 * baseline for a fixed-storage session client. Caller-owned network buffer and in-flight
 * records (MQTT_InitStatefulQoS), CONNECT with optional credentials and will, SUBSCRIBE, a PUBLISH
 * at an input-chosen QoS, the receive/keep-alive loop (incoming PUBLISH at any QoS, the acks it
 * sends, PINGREQ when due) and DISCONNECT. The transport reads the opaque input and writes to the
 * volatile sink; the clock is opaque too. */
#include <stddef.h>
#include <stdint.h>

#include "core_mqtt.h"

#include "../footprint.h"

struct NetworkContext {
    size_t read;
};

static int32_t transport_recv(NetworkContext_t* net, void* buffer, size_t bytes) {
    unsigned char* out = (unsigned char*)buffer;
    size_t n = 0;
    for (; n < bytes && net->read < FOOTPRINT_INPUT_SIZE; ++n) out[n] = footprint_input[net->read++];
    return (int32_t)n;
}

static int32_t transport_send(NetworkContext_t* net, const void* buffer, size_t bytes) {
    (void)net;
    if (bytes != 0) footprint_use(((const unsigned char*)buffer)[bytes - 1]);
    return (int32_t)bytes;
}

static uint32_t now_ms(void) { return footprint_source[0]; }

static void on_event(MQTTContext_t* ctx, MQTTPacketInfo_t* packet, MQTTDeserializedInfo_t* info) {
    (void)ctx;
    footprint_use(packet->type + info->packetIdentifier);
    if (info->pPublishInfo != NULL)
        footprint_use(info->pPublishInfo->topicNameLength + info->pPublishInfo->payloadLength);
}

static const char* text(unsigned at, uint16_t* length) {
    *length = (uint16_t)(footprint_byte(at + 1u) % 64u);
    return (const char*)&footprint_input[footprint_byte(at) % 128u];
}

int main(void) {
    footprint_fill();
    static uint8_t network_buffer[FOOTPRINT_INPUT_SIZE];
    static MQTTPubAckInfo_t outgoing[8], incoming[8];
    static MQTTContext_t ctx;
    NetworkContext_t net = {0};
    const TransportInterface_t transport = {transport_recv, transport_send, NULL, &net};
    const MQTTFixedBuffer_t buffer = {network_buffer, sizeof network_buffer};

    MQTTStatus_t s = MQTT_Init(&ctx, &transport, now_ms, on_event, &buffer);
    if (s == MQTTSuccess) s = MQTT_InitStatefulQoS(&ctx, outgoing, 8, incoming, 8);

    MQTTConnectInfo_t c = {0};
    MQTTPublishInfo_t will = {0};
    const MQTTPublishInfo_t* will_ptr = NULL;
    c.cleanSession = (footprint_byte(0) & 1u) != 0;
    c.keepAliveSeconds = (uint16_t)footprint_byte(1);
    c.pClientIdentifier = text(2, &c.clientIdentifierLength);
    if ((footprint_byte(0) & 2u) != 0) {
        c.pUserName = text(4, &c.userNameLength);
        c.pPassword = text(6, &c.passwordLength);
    }
    if ((footprint_byte(0) & 4u) != 0) {
        will.qos = (MQTTQoS_t)(footprint_byte(8) % 3u);
        will.retain = (footprint_byte(0) & 8u) != 0;
        will.pTopicName = text(10, &will.topicNameLength);
        uint16_t n = 0;
        will.pPayload = text(12, &n);
        will.payloadLength = n;
        will_ptr = &will;
    }
    bool session_present = false;
    if (s == MQTTSuccess) s = MQTT_Connect(&ctx, &c, will_ptr, 1000u, &session_present);

    MQTTSubscribeInfo_t sub = {0};
    sub.pTopicFilter = text(14, &sub.topicFilterLength);
    sub.qos = (MQTTQoS_t)(footprint_byte(16) % 3u);
    if (s == MQTTSuccess) s = MQTT_Subscribe(&ctx, &sub, 1, MQTT_GetPacketId(&ctx));

    MQTTPublishInfo_t p = {0};
    p.qos = (MQTTQoS_t)(footprint_byte(18) % 3u);
    p.retain = (footprint_byte(18) & 4u) != 0;
    p.pTopicName = text(19, &p.topicNameLength);
    uint16_t n = 0;
    p.pPayload = text(22, &n);
    p.payloadLength = n;
    if (s == MQTTSuccess) s = MQTT_Publish(&ctx, &p, p.qos == MQTTQoS0 ? 0 : MQTT_GetPacketId(&ctx));

    while (s == MQTTSuccess && net.read < FOOTPRINT_INPUT_SIZE) s = MQTT_ProcessLoop(&ctx);
    footprint_use(s + (session_present ? 256u : 0u));
    footprint_use(MQTT_Disconnect(&ctx));
    return 0;
}
