#pragma once
/// @file
/// @brief WebSocket close status codes (RFC 6455 section 7.4) and which of them may travel in a
/// Close frame.

#include <cstdint>
#include <string_view>

namespace mqttwire::ws {

/// @brief A close status code. Values outside the named ones (3000-4999: registered and private
/// codes) are valid enumerator values too.
enum class close_code : std::uint16_t {
    /// Not a code: no close is pending (a `deframe_result` without a close or failure).
    none = 0,
    normal_closure = 1000,
    going_away = 1001,
    protocol_error = 1002,
    /// MQTT-6.0.0-1 / MQTT5-6.0.0-1: a text frame where MQTT allows binary frames only.
    unsupported_data = 1003,
    /// Reported for a received Close frame without a body; never sent (RFC 6455 section 7.4.1).
    no_status_received = 1005,
    /// Never sent: the connection dropped without a Close frame.
    abnormal_closure = 1006,
    /// A close reason (or text) that is not UTF-8.
    invalid_payload = 1007,
    policy_violation = 1008,
    /// A message above the configured maximum message size.
    message_too_big = 1009,
    mandatory_extension = 1010,
    internal_error = 1011,
    service_restart = 1012,
    try_again_later = 1013,
    bad_gateway = 1014,
    /// Never sent: the TLS handshake failed.
    tls_handshake = 1015,
};

/// @brief True when `code` may appear in a Close frame: 1000-1003, 1007-1014 (RFC 6455 section
/// 7.4.1 and the IANA registry) and 3000-4999 (registered and private use, section 7.4.2).
/// Below 1000, 1004 (reserved), 1005, 1006 and 1015 (never on the wire), 1016-2999 (reserved
/// for the protocol, unassigned) and 5000 and above are refused.
[[nodiscard]] constexpr bool may_appear_on_wire(std::uint16_t code) noexcept {
    if (code >= 1000 && code <= 1003) return true;
    if (code >= 1007 && code <= 1014) return true;
    return code >= 3000 && code <= 4999;
}
/// @overload
[[nodiscard]] constexpr bool may_appear_on_wire(close_code code) noexcept {
    return may_appear_on_wire(static_cast<std::uint16_t>(code));
}

/// @brief A short, stable, lower-case name for `code` ("private" for codes without a name).
[[nodiscard]] constexpr std::string_view close_code_name(close_code code) noexcept {
    switch (code) {
    case close_code::none: return "none";
    case close_code::normal_closure: return "normal_closure";
    case close_code::going_away: return "going_away";
    case close_code::protocol_error: return "protocol_error";
    case close_code::unsupported_data: return "unsupported_data";
    case close_code::no_status_received: return "no_status_received";
    case close_code::abnormal_closure: return "abnormal_closure";
    case close_code::invalid_payload: return "invalid_payload";
    case close_code::policy_violation: return "policy_violation";
    case close_code::message_too_big: return "message_too_big";
    case close_code::mandatory_extension: return "mandatory_extension";
    case close_code::internal_error: return "internal_error";
    case close_code::service_restart: return "service_restart";
    case close_code::try_again_later: return "try_again_later";
    case close_code::bad_gateway: return "bad_gateway";
    case close_code::tls_handshake: return "tls_handshake";
    }
    return "private";
}

} // namespace mqttwire::ws
