/* The 5.0 client set of client_v5.cpp, written against coreMQTT 5 (its main branch):
 * encode CONNECT with a Session Expiry Interval, SUBSCRIBE, and PUBLISH with a Message Expiry
 * Interval (property builders checked against the packet type, as mqttwire's encoder checks);
 * read each fixed header from the buffer and decode CONNACK (its limits land in
 * MQTTConnectionProperties_t), SUBACK (reason codes), PUBLISH and PUBACK. Same opaque input, same
 * sink, same choices as the C++ program. */
#include <stddef.h>
#include <stdint.h>

#include "core_mqtt_serializer.h"

#define COREMQTT_LENGTH size_t
#include "fields.h"

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
    const MQTTPublishInfo_t* will_ptr = footprint_connect(&c, &will);
    MQTTStatus_t s = MQTTPropertyBuilder_Init(&builder, props, sizeof props);
    if (s == MQTTSuccess)
        s = MQTTPropAdd_SessionExpiry(&builder, footprint_byte(24), &MQTT_PACKET_TYPE_CONNECT_VAL);
    if (s == MQTTSuccess)
        s = MQTT_GetConnectPacketSize(&c, will_ptr, &builder, NULL, &remaining, &size);
    if (s == MQTTSuccess)
        s = size <= sizeof out
                ? MQTT_SerializeConnect(&c, will_ptr, &builder, NULL, remaining, &buffer)
                : MQTTNoMemory;
    sent(s, out);

    MQTTSubscribeInfo_t sub = {0};
    footprint_subscription(&sub);
    s = MQTT_GetSubscribePacketSize(&sub, 1, NULL, &remaining, &size, sizeof out);
    if (s == MQTTSuccess)
        s = MQTT_SerializeSubscribe(&sub, 1, NULL, footprint_subscribe_id(), remaining, &buffer);
    sent(s, out);

    MQTTPublishInfo_t p = {0};
    const uint16_t id = footprint_publish(&p);
    s = MQTTPropertyBuilder_Init(&builder, props, sizeof props);
    if (s == MQTTSuccess)
        s = MQTTPropAdd_MessageExpiry(&builder, footprint_byte(25), &MQTT_PACKET_TYPE_PUBLISH_VAL);
    if (s == MQTTSuccess)
        s = MQTT_GetPublishPacketSize(&p, &builder, &remaining, &size, sizeof out);
    if (s == MQTTSuccess) s = MQTT_SerializePublish(&p, &builder, id, remaining, &buffer);
    sent(s, out);
}

static void receive_all(void) {
    footprint_cursor input = {footprint_input, FOOTPRINT_INPUT_SIZE};
    MQTTConnectionProperties_t connection;
    (void)MQTT_InitConnect(&connection);
    connection.maxPacketSize = FOOTPRINT_INPUT_SIZE;
    MQTTPacketInfo_t packet;
    while (footprint_next_packet(&input, &packet)) {
        MQTTStatus_t s = MQTTSuccess;
        MQTTPropBuilder_t received = {0};
        uint16_t id = 0;
        if ((packet.type & 0xF0u) == MQTT_PACKET_TYPE_PUBLISH) {
            MQTTPublishInfo_t p = {0};
            s = MQTT_DeserializePublish(&packet, &id, &p, &received, connection.maxPacketSize,
                                        connection.topicAliasMax);
            if (s == MQTTSuccess) footprint_received(id, &p);
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
    }
}

int main(void) {
    footprint_fill();
    send_all();
    receive_all();
    return 0;
}
