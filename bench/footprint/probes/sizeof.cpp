// Object sizes on the target, read back without running anything: each size becomes the length
// of an exported array, and ci/footprint.sh reads the symbol sizes with nm. Three kinds of name:
// - mqttwire_sizeof__<type>: a type of the public surface;
// - mqttwire_sizeof_alt__<view>: one alternative of packet_view (the script reports the largest);
// - mqttwire_sizeof_result__<type>: what a decode entry point returns (the script checks the
//   largest).
#include <algorithm>
#include <cstddef>
#include <utility>
#include <variant>

#include <mqttwire.hpp>

#define MQTTWIRE_SIZEOF(kind, name, ...)                                                           \
    extern "C"                                                                                     \
        [[gnu::used]] const unsigned char mqttwire_sizeof##kind##__##name[sizeof(__VA_ARGS__)] =   \
            {};

namespace probe {
using namespace mqttwire;

MQTTWIRE_SIZEOF(, utf8_view, utf8_view)
MQTTWIRE_SIZEOF(, binary_view, binary_view)
MQTTWIRE_SIZEOF(, properties_view, properties_view)
MQTTWIRE_SIZEOF(, property, property)
MQTTWIRE_SIZEOF(, publish_view, publish_view)
MQTTWIRE_SIZEOF(, packet_view, packet_view)
MQTTWIRE_SIZEOF(, decoded_packet, decoded_packet)

MQTTWIRE_SIZEOF(_alt, connect_view, connect_view)
MQTTWIRE_SIZEOF(_alt, connack_view, connack_view)
MQTTWIRE_SIZEOF(_alt, publish_view, publish_view)
MQTTWIRE_SIZEOF(_alt, puback_view, puback_view)
MQTTWIRE_SIZEOF(_alt, subscribe_view, subscribe_view)
MQTTWIRE_SIZEOF(_alt, suback_view, suback_view)
MQTTWIRE_SIZEOF(_alt, unsubscribe_view, unsubscribe_view)
MQTTWIRE_SIZEOF(_alt, unsuback_view, unsuback_view)
MQTTWIRE_SIZEOF(_alt, pingreq_view, pingreq_view)
MQTTWIRE_SIZEOF(_alt, disconnect_view, disconnect_view)
MQTTWIRE_SIZEOF(_alt, auth_view, auth_view)

// decode_packet, decode_frame, and decode<P> for each P.
MQTTWIRE_SIZEOF(_result, decoded_packet, result<decoded_packet>)
MQTTWIRE_SIZEOF(_result, packet_view, result<packet_view>)
MQTTWIRE_SIZEOF(_result, connect_view, result<connect_view>)
MQTTWIRE_SIZEOF(_result, connack_view, result<connack_view>)
MQTTWIRE_SIZEOF(_result, publish_view, result<publish_view>)
MQTTWIRE_SIZEOF(_result, puback_view, result<puback_view>)
MQTTWIRE_SIZEOF(_result, subscribe_view, result<subscribe_view>)
MQTTWIRE_SIZEOF(_result, suback_view, result<suback_view>)
MQTTWIRE_SIZEOF(_result, unsubscribe_view, result<unsubscribe_view>)
MQTTWIRE_SIZEOF(_result, disconnect_view, result<disconnect_view>)
MQTTWIRE_SIZEOF(_result, auth_view, result<auth_view>)

// The list above names the largest alternative, whatever packet_view holds.
template <class V, std::size_t... I>
constexpr std::size_t largest_alternative(std::index_sequence<I...>) {
    return std::max({sizeof(std::variant_alternative_t<I, V>)...});
}
static_assert(largest_alternative<packet_view>(
                  std::make_index_sequence<std::variant_size_v<packet_view>>()) ==
                  std::max({sizeof(connect_view), sizeof(connack_view), sizeof(publish_view),
                            sizeof(puback_view), sizeof(subscribe_view), sizeof(suback_view),
                            sizeof(unsubscribe_view), sizeof(unsuback_view), sizeof(pingreq_view),
                            sizeof(disconnect_view), sizeof(auth_view)}),
              "a packet_view alternative larger than every one listed: add it");

} // namespace probe
