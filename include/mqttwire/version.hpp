#pragma once
/// @file
/// @brief Protocol levels understood by the codec.

#include <cstdint>

namespace mqttwire {

/// @brief The protocol level byte of CONNECT.
///
/// `v3_1` is MQTT 3.1 (protocol name `MQIsdp`), `v3_1_1` is MQTT 3.1.1 and `v5` is MQTT 5.0
/// (both with protocol name `MQTT`).
enum class protocol_version : std::uint8_t { v3_1 = 3, v3_1_1 = 4, v5 = 5 };

/// @brief True when `v` is one of the three levels the codec implements.
[[nodiscard]] constexpr bool is_known_version(protocol_version v) noexcept {
    return v == protocol_version::v3_1 || v == protocol_version::v3_1_1 ||
           v == protocol_version::v5;
}

/// @brief Quality of service levels (MQTT-3.3.1-4 / MQTT5-3.3.1-4: 3 is never valid).
enum class qos : std::uint8_t { at_most_once = 0, at_least_once = 1, exactly_once = 2 };

} // namespace mqttwire
