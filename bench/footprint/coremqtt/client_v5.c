/* The 5.0 client set of client_v5.cpp, written against coreMQTT 5 (its main branch):
 * encode CONNECT with a Session Expiry Interval, SUBSCRIBE, and PUBLISH with a Message Expiry
 * Interval (property builders checked against the packet type, as mqttwire's encoder checks);
 * read each fixed header from the buffer and decode CONNACK (its limits land in
 * MQTTConnectionProperties_t), SUBACK (reason codes), PUBLISH and PUBACK. Same opaque input, same
 * sink, same choices as the C++ program. */
#include <stddef.h>
#include <stdint.h>

#include "core_mqtt_serializer.h"

#include "../footprint.h"

static const char* text(unsigned at, size_t* length) {
    *length = footprint_byte(at + 1u) % 64u;
    return (const char*)&footprint_input[footprint_byte(at) % 128u];
}

static void sent(MQTTStatus_t status, const uint8_t* out) {
    footprint_use(status == MQTTSuccess ? out[0] : (unsigned long)status + 1000u);
}

static void send_all(void) {
    uint8_t out[256];
    const MQTTFixedBuffer_t buffer = {out, sizeof out};
    uint32_t remaining = 0, size = 0;
    uint8_t props[16];
    MQTTPropBuilder_t builder;

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
        will.pPayload = text(12, &will.payloadLength);
        will_ptr = &will;
    }
    MQTTStatus_t s = MQTTPropertyBuilder_Init(&builder, props, sizeof props);
    if (s == MQTTSuccess)
        s = MQTTPropAdd_SessionExpiry(&builder, footprint_byte(24), &MQTT_PACKET_TYPE_CONNECT_VAL);
    if (s == MQTTSuccess) s = MQTT_GetConnectPacketSize(&c, will_ptr, &builder, NULL, &remaining, &size);
    if (s == MQTTSuccess)
        s = size <= sizeof out ? MQTT_SerializeConnect(&c, will_ptr, &builder, NULL, remaining, &buffer)
                               : MQTTNoMemory;
    sent(s, out);

    MQTTSubscribeInfo_t sub = {0};
    sub.pTopicFilter = text(14, &sub.topicFilterLength);
    sub.qos = (MQTTQoS_t)(footprint_byte(16) % 3u);
    s = MQTT_GetSubscribePacketSize(&sub, 1, NULL, &remaining, &size, sizeof out);
    if (s == MQTTSuccess)
        s = MQTT_SerializeSubscribe(&sub, 1, NULL, (uint16_t)(footprint_byte(17) + 1u), remaining, &buffer);
    sent(s, out);

    MQTTPublishInfo_t p = {0};
    p.qos = (MQTTQoS_t)(footprint_byte(18) % 3u);
    p.retain = (footprint_byte(18) & 4u) != 0;
    p.pTopicName = text(19, &p.topicNameLength);
    p.pPayload = text(22, &p.payloadLength);
    const uint16_t id = p.qos == MQTTQoS0 ? 0 : (uint16_t)(footprint_byte(21) + 1u);
    s = MQTTPropertyBuilder_Init(&builder, props, sizeof props);
    if (s == MQTTSuccess)
        s = MQTTPropAdd_MessageExpiry(&builder, footprint_byte(25), &MQTT_PACKET_TYPE_PUBLISH_VAL);
    if (s == MQTTSuccess) s = MQTT_GetPublishPacketSize(&p, &builder, &remaining, &size, sizeof out);
    if (s == MQTTSuccess) s = MQTT_SerializePublish(&p, &builder, id, remaining, &buffer);
    sent(s, out);
}

static void receive_all(void) {
    uint8_t* rest = footprint_input;
    size_t available = FOOTPRINT_INPUT_SIZE;
    MQTTConnectionProperties_t connection;
    (void)MQTT_InitConnect(&connection);
    connection.maxPacketSize = FOOTPRINT_INPUT_SIZE;
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
        MQTTPropBuilder_t received = {0};
        uint16_t id = 0;
        if ((packet.type & 0xF0u) == MQTT_PACKET_TYPE_PUBLISH) {
            MQTTPublishInfo_t p = {0};
            s = MQTT_DeserializePublish(&packet, &id, &p, &received, connection.maxPacketSize,
                                        connection.topicAliasMax);
            if (s == MQTTSuccess) {
                footprint_use(id + (unsigned)p.qos + (p.retain ? 4u : 0u));
                footprint_use(p.topicNameLength + p.payloadLength);
                if (p.payloadLength != 0) footprint_use(((const uint8_t*)p.pPayload)[0]);
            }
        } else if (packet.type == MQTT_PACKET_TYPE_CONNACK) {
            bool session_present = false;
            s = MQTT_DeserializeConnAck(&packet, &session_present, &received, &connection);
            footprint_use(session_present ? 256u : 0u);
            footprint_use(connection.serverReceiveMax);
            footprint_use(connection.serverMaxPacketSize);
            footprint_use(connection.serverTopicAliasMax);
        } else {
            MQTTReasonCodeInfo_t reasons = {0};
            s = MQTT_DeserializeAck(&packet, &id, &reasons, &received, &connection);
            footprint_use(id);
            for (size_t i = 0; s == MQTTSuccess && i < reasons.reasonCodeLength; ++i)
                footprint_use(reasons.reasonCode[i]);
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
