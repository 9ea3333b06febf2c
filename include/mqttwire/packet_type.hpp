#pragma once
/// @file
/// @brief The control packet types (MQTT 3.1.1 section 2.2.1, MQTT 5.0 section 2.1.2).

#include <cstdint>
#include <string_view>

namespace mqttwire {

/// @brief Bits 7-4 of the first byte of every packet.
enum class packet_type : std::uint8_t {
    connect = 1,
    connack = 2,
    publish = 3,
    puback = 4,
    pubrec = 5,
    pubrel = 6,
    pubcomp = 7,
    subscribe = 8,
    suback = 9,
    unsubscribe = 10,
    unsuback = 11,
    pingreq = 12,
    pingresp = 13,
    disconnect = 14,
    auth = 15, ///< MQTT 5.0 only; reserved in 3.1 and 3.1.1
};

/// @brief The upper-case name of `t` as the specs write it ("CONNECT", ...).
[[nodiscard]] constexpr std::string_view packet_type_name(packet_type t) noexcept {
    switch (t) {
    case packet_type::connect: return "CONNECT";
    case packet_type::connack: return "CONNACK";
    case packet_type::publish: return "PUBLISH";
    case packet_type::puback: return "PUBACK";
    case packet_type::pubrec: return "PUBREC";
    case packet_type::pubrel: return "PUBREL";
    case packet_type::pubcomp: return "PUBCOMP";
    case packet_type::subscribe: return "SUBSCRIBE";
    case packet_type::suback: return "SUBACK";
    case packet_type::unsubscribe: return "UNSUBSCRIBE";
    case packet_type::unsuback: return "UNSUBACK";
    case packet_type::pingreq: return "PINGREQ";
    case packet_type::pingresp: return "PINGRESP";
    case packet_type::disconnect: return "DISCONNECT";
    case packet_type::auth: return "AUTH";
    }
    return "RESERVED";
}

/// @brief Which side sent a packet, when the caller knows it. Direction rules (a client never
/// sends CONNACK, a server-sent DISCONNECT carries no Session Expiry Interval, ...) are checked
/// only when the sender is known.
enum class peer_role : std::uint8_t { unknown, client, server };

} // namespace mqttwire
