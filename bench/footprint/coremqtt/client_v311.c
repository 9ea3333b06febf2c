/* The 3.1.1 client set of client_v311.cpp, written against coreMQTT v2.3.1's serializer
 * (core_mqtt_serializer.h): encode CONNECT, SUBSCRIBE and PUBLISH (size, then serialize); read
 * each fixed header from the buffer (MQTT_ProcessIncomingPacketTypeAndLength) and decode CONNACK,
 * SUBACK, PUBLISH and PUBACK. Same opaque input, same sink, same choices as the C++ program. */
#include <stddef.h>
#include <stdint.h>

#include "core_mqtt_serializer.h"

#include "../footprint.h"

static const char* text(unsigned at, uint16_t* length) {
    *length = (uint16_t)(footprint_byte(at + 1u) % 64u);
    return (const char*)&footprint_input[footprint_byte(at) % 128u];
}

static void sent(MQTTStatus_t status, const uint8_t* out) {
    footprint_use(status == MQTTSuccess ? out[0] : (unsigned long)status + 1000u);
}

static void send_all(void) {
    uint8_t out[256];
    const MQTTFixedBuffer_t buffer = {out, sizeof out};
    size_t remaining = 0, size = 0;

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
    MQTTStatus_t s = MQTT_GetConnectPacketSize(&c, will_ptr, &remaining, &size);
    if (s == MQTTSuccess) s = size <= sizeof out ? MQTT_SerializeConnect(&c, will_ptr, remaining, &buffer) : MQTTNoMemory;
    sent(s, out);

    MQTTSubscribeInfo_t sub = {0};
    sub.pTopicFilter = text(14, &sub.topicFilterLength);
    sub.qos = (MQTTQoS_t)(footprint_byte(16) % 3u);
    s = MQTT_GetSubscribePacketSize(&sub, 1, &remaining, &size);
    if (s == MQTTSuccess)
        s = size <= sizeof out ? MQTT_SerializeSubscribe(&sub, 1, (uint16_t)(footprint_byte(17) + 1u), remaining, &buffer) : MQTTNoMemory;
    sent(s, out);

    MQTTPublishInfo_t p = {0};
    p.qos = (MQTTQoS_t)(footprint_byte(18) % 3u);
    p.retain = (footprint_byte(18) & 4u) != 0;
    p.pTopicName = text(19, &p.topicNameLength);
    uint16_t n = 0;
    p.pPayload = text(22, &n);
    p.payloadLength = n;
    const uint16_t id = p.qos == MQTTQoS0 ? 0 : (uint16_t)(footprint_byte(21) + 1u);
    s = MQTT_GetPublishPacketSize(&p, &remaining, &size);
    if (s == MQTTSuccess) s = size <= sizeof out ? MQTT_SerializePublish(&p, id, remaining, &buffer) : MQTTNoMemory;
    sent(s, out);
}

static void receive_all(void) {
    uint8_t* rest = footprint_input;
    size_t available = FOOTPRINT_INPUT_SIZE;
    for (;;) {
        MQTTPacketInfo_t packet = {0};
        MQTTStatus_t s = MQTT_ProcessIncomingPacketTypeAndLength(rest, &available, &packet);
        if (s != MQTTSuccess) {
            footprint_use(s);
            return;
        }
        const size_t size = packet.headerLength + packet.remainingLength;
        if (size > available) {
            footprint_use(size);
            return;
        }
        packet.pRemainingData = rest + packet.headerLength;
        uint16_t id = 0;
        if ((packet.type & 0xF0u) == MQTT_PACKET_TYPE_PUBLISH) {
            MQTTPublishInfo_t p = {0};
            s = MQTT_DeserializePublish(&packet, &id, &p);
            if (s == MQTTSuccess) {
                footprint_use(id + (unsigned)p.qos + (p.retain ? 4u : 0u));
                footprint_use(p.topicNameLength + p.payloadLength);
                if (p.payloadLength != 0) footprint_use(((const uint8_t*)p.pPayload)[0]);
            }
        } else {
            bool session_present = false;
            s = MQTT_DeserializeAck(&packet, &id, &session_present);
            footprint_use(id + (session_present ? 256u : 0u));
            if (s == MQTTSuccess && packet.type == MQTT_PACKET_TYPE_SUBACK)
                for (size_t i = 2; i < packet.remainingLength; ++i) footprint_use(packet.pRemainingData[i]);
        }
        if (s != MQTTSuccess) {
            footprint_use(s);
            return;
        }
        rest += size;
        available -= size;
    }
}

int main(void) {
    footprint_fill();
    send_all();
    receive_all();
    return 0;
}
