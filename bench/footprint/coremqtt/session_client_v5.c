/* coreMQTT 5's full 5.0 client (its main branch: core_mqtt.c, core_mqtt_state.c and the
 * serializers), the 5.0 counterpart of session_client.c: caller-owned network buffer and
 * in-flight records (MQTT_InitStatefulQoS, with its buffer for ack properties), CONNECT with
 * optional credentials and will, SUBSCRIBE, a PUBLISH at an input-chosen QoS, the receive and
 * keep-alive loop (incoming PUBLISH at any QoS, the acks it sends, PINGREQ when due) and
 * DISCONNECT. The transport reads the opaque input and writes to the volatile sink; the clock is
 * opaque too. */
#include <stddef.h>
#include <stdint.h>

#include "core_mqtt.h"

#define COREMQTT_LENGTH size_t
#include "fields.h"
#include "transport.h"

static bool on_event(MQTTContext_t* ctx, MQTTPacketInfo_t* packet, MQTTDeserializedInfo_t* info,
                     MQTTSuccessFailReasonCode_t* reason, MQTTPropBuilder_t* send_props,
                     MQTTPropBuilder_t* received_props) {
    (void)ctx;
    (void)reason;
    (void)send_props;
    (void)received_props;
    footprint_use(packet->type + info->packetIdentifier);
    if (info->pPublishInfo != NULL)
        footprint_use(info->pPublishInfo->topicNameLength + info->pPublishInfo->payloadLength);
    return true;
}

int main(void) {
    footprint_fill();
    static uint8_t network_buffer[FOOTPRINT_INPUT_SIZE];
    static MQTTPubAckInfo_t outgoing[8], incoming[8];
    static uint8_t ack_properties[32];
    static MQTTContext_t ctx;
    NetworkContext_t net = {0};
    const TransportInterface_t transport = {footprint_recv, footprint_send, NULL, &net};
    const MQTTFixedBuffer_t buffer = {network_buffer, sizeof network_buffer};

    MQTTStatus_t s = MQTT_Init(&ctx, &transport, footprint_now_ms, on_event, &buffer);
    if (s == MQTTSuccess)
        s = MQTT_InitStatefulQoS(&ctx, outgoing, 8, incoming, 8, ack_properties,
                                 sizeof ack_properties);

    MQTTConnectInfo_t c = {0};
    MQTTPublishInfo_t will = {0};
    const MQTTPublishInfo_t* will_ptr = footprint_connect(&c, &will);
    bool session_present = false;
    if (s == MQTTSuccess) s = MQTT_Connect(&ctx, &c, will_ptr, 1000u, &session_present, NULL, NULL);

    MQTTSubscribeInfo_t sub = {0};
    footprint_subscription(&sub);
    if (s == MQTTSuccess) s = MQTT_Subscribe(&ctx, &sub, 1, MQTT_GetPacketId(&ctx), NULL);

    MQTTPublishInfo_t p = {0};
    (void)footprint_publish(&p);
    if (s == MQTTSuccess)
        s = MQTT_Publish(&ctx, &p, p.qos == MQTTQoS0 ? 0 : MQTT_GetPacketId(&ctx), NULL);

    while (s == MQTTSuccess && net.read < FOOTPRINT_INPUT_SIZE) s = MQTT_ProcessLoop(&ctx);
    footprint_use(s + (session_present ? 256u : 0u));
    footprint_use(MQTT_Disconnect(&ctx, NULL, NULL));
    return 0;
}
