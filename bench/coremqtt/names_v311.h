/* coreMQTT v2.3.1 and coreMQTT 5 define the same serializer functions. When both are compiled
 * into codec_bench, v2.3.1's serializer and the benchmarks that call it see these names instead
 * (compiled with -include), so the two link side by side. A name missing here shows up as a
 * duplicate symbol at link time. */
#ifndef MQTTWIRE_COREMQTT_V311_NAMES_H
#define MQTTWIRE_COREMQTT_V311_NAMES_H
#define MQTT_DeserializeAck coremqtt_v311_MQTT_DeserializeAck
#define MQTT_DeserializePublish coremqtt_v311_MQTT_DeserializePublish
#define MQTT_GetConnectPacketSize coremqtt_v311_MQTT_GetConnectPacketSize
#define MQTT_GetDisconnectPacketSize coremqtt_v311_MQTT_GetDisconnectPacketSize
#define MQTT_GetIncomingPacketTypeAndLength coremqtt_v311_MQTT_GetIncomingPacketTypeAndLength
#define MQTT_GetPingreqPacketSize coremqtt_v311_MQTT_GetPingreqPacketSize
#define MQTT_GetPublishPacketSize coremqtt_v311_MQTT_GetPublishPacketSize
#define MQTT_GetSubscribePacketSize coremqtt_v311_MQTT_GetSubscribePacketSize
#define MQTT_GetUnsubscribePacketSize coremqtt_v311_MQTT_GetUnsubscribePacketSize
#define MQTT_ProcessIncomingPacketTypeAndLength                                                    \
    coremqtt_v311_MQTT_ProcessIncomingPacketTypeAndLength
#define MQTT_SerializeAck coremqtt_v311_MQTT_SerializeAck
#define MQTT_SerializeConnect coremqtt_v311_MQTT_SerializeConnect
#define MQTT_SerializeConnectFixedHeader coremqtt_v311_MQTT_SerializeConnectFixedHeader
#define MQTT_SerializeDisconnect coremqtt_v311_MQTT_SerializeDisconnect
#define MQTT_SerializePingreq coremqtt_v311_MQTT_SerializePingreq
#define MQTT_SerializePublish coremqtt_v311_MQTT_SerializePublish
#define MQTT_SerializePublishHeader coremqtt_v311_MQTT_SerializePublishHeader
#define MQTT_SerializePublishHeaderWithoutTopic                                                    \
    coremqtt_v311_MQTT_SerializePublishHeaderWithoutTopic
#define MQTT_SerializeSubscribe coremqtt_v311_MQTT_SerializeSubscribe
#define MQTT_SerializeSubscribeHeader coremqtt_v311_MQTT_SerializeSubscribeHeader
#define MQTT_SerializeUnsubscribe coremqtt_v311_MQTT_SerializeUnsubscribe
#define MQTT_SerializeUnsubscribeHeader coremqtt_v311_MQTT_SerializeUnsubscribeHeader

#endif
