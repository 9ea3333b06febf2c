/* The 3.1.1 client set of ../client_v311.cpp against coreMQTT v2.3.1's serializer
 * (core_mqtt_serializer.h): encode CONNECT, SUBSCRIBE and PUBLISH (size, then serialize); read
 * each fixed header from the buffer (MQTT_ProcessIncomingPacketTypeAndLength) and decode CONNACK,
 * SUBACK, PUBLISH and PUBACK. Same opaque input, same sink, same choices as the C++ program. */
#include <stddef.h>
#include <stdint.h>

#include "core_mqtt_serializer.h"

#define COREMQTT_LENGTH uint16_t
#include "fields.h"

static void sent(MQTTStatus_t status, const uint8_t* out) {
    footprint_use(status == MQTTSuccess ? out[0] : (unsigned long)status + 1000u);
}

static void send_all(void) {
    uint8_t out[256];
    const MQTTFixedBuffer_t buffer = {out, sizeof out};
    size_t remaining = 0, size = 0;

    MQTTConnectInfo_t c = {0};
    MQTTPublishInfo_t will = {0};
    const MQTTPublishInfo_t* will_ptr = footprint_connect(&c, &will);
    MQTTStatus_t s = MQTT_GetConnectPacketSize(&c, will_ptr, &remaining, &size);
    if (s == MQTTSuccess)
        s = size <= sizeof out ? MQTT_SerializeConnect(&c, will_ptr, remaining, &buffer)
                               : MQTTNoMemory;
    sent(s, out);

    MQTTSubscribeInfo_t sub = {0};
    footprint_subscription(&sub);
    s = MQTT_GetSubscribePacketSize(&sub, 1, &remaining, &size);
    if (s == MQTTSuccess)
        s = size <= sizeof out
                ? MQTT_SerializeSubscribe(&sub, 1, footprint_subscribe_id(), remaining, &buffer)
                : MQTTNoMemory;
    sent(s, out);

    MQTTPublishInfo_t p = {0};
    const uint16_t id = footprint_publish(&p);
    s = MQTT_GetPublishPacketSize(&p, &remaining, &size);
    if (s == MQTTSuccess)
        s = size <= sizeof out ? MQTT_SerializePublish(&p, id, remaining, &buffer) : MQTTNoMemory;
    sent(s, out);
}

static void receive_all(void) {
    footprint_cursor input = {footprint_input, FOOTPRINT_INPUT_SIZE};
    MQTTPacketInfo_t packet;
    while (footprint_next_packet(&input, &packet)) {
        MQTTStatus_t s = MQTTSuccess;
        uint16_t id = 0;
        if ((packet.type & 0xF0u) == MQTT_PACKET_TYPE_PUBLISH) {
            MQTTPublishInfo_t p = {0};
            s = MQTT_DeserializePublish(&packet, &id, &p);
            if (s == MQTTSuccess) footprint_received(id, &p);
        } else {
            bool session_present = false;
            s = MQTT_DeserializeAck(&packet, &id, &session_present);
            footprint_use(id + (session_present ? 256u : 0u));
            if (s == MQTTSuccess && packet.type == MQTT_PACKET_TYPE_SUBACK)
                for (size_t i = 2; i < packet.remainingLength; ++i)
                    footprint_use(packet.pRemainingData[i]);
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
