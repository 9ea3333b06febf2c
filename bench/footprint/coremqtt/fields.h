/* What every coreMQTT footprint program fills in from the opaque input, the same choices as
 * ../client.hpp: a CONNECT with optional credentials and will, one subscription, a PUBLISH at an
 * input-chosen QoS.
 * Include after core_mqtt_serializer.h (or core_mqtt.h) with COREMQTT_LENGTH defined as the type
 * the coreMQTT version uses for string lengths (uint16_t in v2.3.1, size_t in 5). */
#ifndef MQTTWIRE_FOOTPRINT_COREMQTT_FIELDS_H
#define MQTTWIRE_FOOTPRINT_COREMQTT_FIELDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../footprint.h"

/* Up to 63 input bytes at an input-chosen offset. */
static inline const char* footprint_text(unsigned at, COREMQTT_LENGTH* length) {
    *length = (COREMQTT_LENGTH)(footprint_byte(at + 1u) % 64u);
    return (const char*)&footprint_input[footprint_byte(at) % 128u];
}

static inline const void* footprint_payload(unsigned at, size_t* length) {
    COREMQTT_LENGTH n = 0;
    const char* p = footprint_text(at, &n);
    *length = n;
    return p;
}

/* Returns the will to send, or NULL. */
static inline const MQTTPublishInfo_t* footprint_connect(MQTTConnectInfo_t* c,
                                                         MQTTPublishInfo_t* will) {
    c->cleanSession = (footprint_byte(0) & 1u) != 0;
    c->keepAliveSeconds = (uint16_t)footprint_byte(1);
    c->pClientIdentifier = footprint_text(2, &c->clientIdentifierLength);
    if ((footprint_byte(0) & 2u) != 0) {
        c->pUserName = footprint_text(4, &c->userNameLength);
        c->pPassword = footprint_text(6, &c->passwordLength);
    }
    if ((footprint_byte(0) & 4u) == 0) return NULL;
    will->qos = (MQTTQoS_t)(footprint_byte(8) % 3u);
    will->retain = (footprint_byte(0) & 8u) != 0;
    will->pTopicName = footprint_text(10, &will->topicNameLength);
    will->pPayload = footprint_payload(12, &will->payloadLength);
    return will;
}

static inline void footprint_subscription(MQTTSubscribeInfo_t* s) {
    s->pTopicFilter = footprint_text(14, &s->topicFilterLength);
    s->qos = (MQTTQoS_t)(footprint_byte(16) % 3u);
}

static inline uint16_t footprint_subscribe_id(void) { return (uint16_t)(footprint_byte(17) + 1u); }

/* Returns the packet identifier to use (0 at QoS 0). */
static inline uint16_t footprint_publish(MQTTPublishInfo_t* p) {
    p->qos = (MQTTQoS_t)(footprint_byte(18) % 3u);
    p->retain = (footprint_byte(18) & 4u) != 0;
    p->pTopicName = footprint_text(19, &p->topicNameLength);
    p->pPayload = footprint_payload(22, &p->payloadLength);
    return p->qos == MQTTQoS0 ? 0 : (uint16_t)(footprint_byte(21) + 1u);
}

/* What a client reads of a received PUBLISH. */
static inline void footprint_received(uint16_t id, const MQTTPublishInfo_t* p) {
    footprint_use(id + (unsigned)p->qos + (p->retain ? 4u : 0u));
    footprint_use(p->topicNameLength + p->payloadLength);
    if (p->payloadLength != 0) footprint_use(((const uint8_t*)p->pPayload)[0]);
}

/* Reads the packets of the input one by one: coreMQTT reads each fixed header
 * (MQTT_ProcessIncomingPacketTypeAndLength) and the packet must be complete. */
typedef struct {
    uint8_t* at;
    size_t available;
} footprint_cursor;

static inline bool footprint_next_packet(footprint_cursor* c, MQTTPacketInfo_t* packet) {
    MQTTPacketInfo_t p = {0};
    const MQTTStatus_t s = MQTT_ProcessIncomingPacketTypeAndLength(c->at, &c->available, &p);
    const size_t size = p.headerLength + p.remainingLength;
    if (s != MQTTSuccess || size > c->available) {
        footprint_use(s + size);
        return false;
    }
    p.pRemainingData = c->at + p.headerLength;
    c->at += size;
    c->available -= size;
    *packet = p;
    return true;
}

#endif
