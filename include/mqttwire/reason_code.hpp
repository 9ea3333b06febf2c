#pragma once
/// @file
/// @brief MQTT 5.0 reason codes (section 2.4) with the per-packet allowed sets, and the MQTT
/// 3.1/3.1.1 CONNACK and SUBACK return codes.

#include <cstdint>
#include <string_view>

#include "errc.hpp"

namespace mqttwire {

/// @brief Every MQTT 5.0 reason code, once. Codes shared by several meanings (0x00) carry the
/// name of the most general one; `reason_code_name` is per packet.
enum class reason_code : std::uint8_t {
    success = 0x00, ///< also Normal disconnection, Granted QoS 0
    granted_qos_1 = 0x01,
    granted_qos_2 = 0x02,
    disconnect_with_will_message = 0x04,
    no_matching_subscribers = 0x10,
    no_subscription_existed = 0x11,
    continue_authentication = 0x18,
    re_authenticate = 0x19,
    unspecified_error = 0x80,
    malformed_packet = 0x81,
    protocol_error = 0x82,
    implementation_specific_error = 0x83,
    unsupported_protocol_version = 0x84,
    client_identifier_not_valid = 0x85,
    bad_user_name_or_password = 0x86,
    not_authorized = 0x87,
    server_unavailable = 0x88,
    server_busy = 0x89,
    banned = 0x8A,
    server_shutting_down = 0x8B,
    bad_authentication_method = 0x8C,
    keep_alive_timeout = 0x8D,
    session_taken_over = 0x8E,
    topic_filter_invalid = 0x8F,
    topic_name_invalid = 0x90,
    packet_identifier_in_use = 0x91,
    packet_identifier_not_found = 0x92,
    receive_maximum_exceeded = 0x93,
    topic_alias_invalid = 0x94,
    packet_too_large = 0x95,
    message_rate_too_high = 0x96,
    quota_exceeded = 0x97,
    administrative_action = 0x98,
    payload_format_invalid = 0x99,
    retain_not_supported = 0x9A,
    qos_not_supported = 0x9B,
    use_another_server = 0x9C,
    server_moved = 0x9D,
    shared_subscriptions_not_supported = 0x9E,
    connection_rate_exceeded = 0x9F,
    maximum_connect_time = 0xA0,
    subscription_identifiers_not_supported = 0xA1,
    wildcard_subscriptions_not_supported = 0xA2,
};

/// @brief MQTT 3.1 / 3.1.1 CONNACK return codes (3.1.1 section 3.2.2.3).
enum class connect_return_code : std::uint8_t {
    accepted = 0x00,
    unacceptable_protocol_version = 0x01,
    identifier_rejected = 0x02,
    server_unavailable = 0x03,
    bad_user_name_or_password = 0x04,
    not_authorized = 0x05,
};

/// @brief MQTT 3.1.1 SUBACK return codes (3.1.1 section 3.9.3; MQTT-3.9.3-2).
enum class suback_return_code : std::uint8_t {
    granted_qos_0 = 0x00,
    granted_qos_1 = 0x01,
    granted_qos_2 = 0x02,
    failure = 0x80,
};

/// @brief The packets whose reason codes are constrained (section 2.4 table 2-6).
enum class reason_context : std::uint8_t {
    connack,
    puback,
    pubrec,
    pubrel,
    pubcomp,
    suback,
    unsuback,
    disconnect,
    auth,
};

/// @brief True when `rc` may appear in a `ctx` packet of MQTT 5.0 (MQTT5-3.2.2-8, MQTT5-3.4.2-1,
/// MQTT5-3.5.2-1, MQTT5-3.6.2-1, MQTT5-3.7.2-1, MQTT5-3.9.3-2, MQTT5-3.11.3-2, MQTT5-3.14.2-1,
/// MQTT5-3.15.2-1).
[[nodiscard]] constexpr bool is_allowed(reason_code rc, reason_context ctx) noexcept {
    using enum reason_code;
    switch (ctx) {
    case reason_context::connack:
        switch (rc) {
        case success: case unspecified_error: case malformed_packet: case protocol_error:
        case implementation_specific_error: case unsupported_protocol_version:
        case client_identifier_not_valid: case bad_user_name_or_password: case not_authorized:
        case server_unavailable: case server_busy: case banned: case bad_authentication_method:
        case topic_name_invalid: case packet_too_large: case quota_exceeded:
        case payload_format_invalid: case retain_not_supported: case qos_not_supported:
        case use_another_server: case server_moved: case connection_rate_exceeded:
            return true;
        default: return false;
        }
    case reason_context::puback:
    case reason_context::pubrec:
        switch (rc) {
        case success: case no_matching_subscribers: case unspecified_error:
        case implementation_specific_error: case not_authorized: case topic_name_invalid:
        case packet_identifier_in_use: case quota_exceeded: case payload_format_invalid:
            return true;
        default: return false;
        }
    case reason_context::pubrel:
    case reason_context::pubcomp:
        return rc == success || rc == packet_identifier_not_found;
    case reason_context::suback:
        switch (rc) {
        case success: case granted_qos_1: case granted_qos_2: case unspecified_error:
        case implementation_specific_error: case not_authorized: case topic_filter_invalid:
        case packet_identifier_in_use: case quota_exceeded:
        case shared_subscriptions_not_supported: case subscription_identifiers_not_supported:
        case wildcard_subscriptions_not_supported:
            return true;
        default: return false;
        }
    case reason_context::unsuback:
        switch (rc) {
        case success: case no_subscription_existed: case unspecified_error:
        case implementation_specific_error: case not_authorized: case topic_filter_invalid:
        case packet_identifier_in_use:
            return true;
        default: return false;
        }
    case reason_context::disconnect:
        switch (rc) {
        case success: case disconnect_with_will_message: case unspecified_error:
        case malformed_packet: case protocol_error: case implementation_specific_error:
        case not_authorized: case server_busy: case server_shutting_down:
        case keep_alive_timeout: case session_taken_over: case topic_filter_invalid:
        case topic_name_invalid: case receive_maximum_exceeded: case topic_alias_invalid:
        case packet_too_large: case message_rate_too_high: case quota_exceeded:
        case administrative_action: case payload_format_invalid: case retain_not_supported:
        case qos_not_supported: case use_another_server: case server_moved:
        case shared_subscriptions_not_supported: case connection_rate_exceeded:
        case maximum_connect_time: case subscription_identifiers_not_supported:
        case wildcard_subscriptions_not_supported:
            return true;
        default: return false;
        }
    case reason_context::auth:
        return rc == success || rc == continue_authentication || rc == re_authenticate;
    }
    return false;
}

/// @brief True when `rc` is one of the defined reason codes at all.
[[nodiscard]] constexpr bool is_defined(reason_code rc) noexcept {
    for (auto ctx : {reason_context::connack, reason_context::puback, reason_context::pubrel,
                     reason_context::suback, reason_context::unsuback, reason_context::disconnect,
                     reason_context::auth})
        if (is_allowed(rc, ctx)) return true;
    return false;
}

/// @brief The spec's name of `rc` as used in `ctx` (0x00 reads "Success", "Normal
/// disconnection" or "Granted QoS 0"); "Unknown" for codes not allowed there.
[[nodiscard]] constexpr std::string_view reason_code_name(reason_code rc,
                                                          reason_context ctx) noexcept {
    using enum reason_code;
    if (!is_allowed(rc, ctx)) return "Unknown";
    switch (rc) {
    case success:
        return ctx == reason_context::disconnect ? "Normal disconnection"
               : ctx == reason_context::suback   ? "Granted QoS 0"
                                                 : "Success";
    case granted_qos_1: return "Granted QoS 1";
    case granted_qos_2: return "Granted QoS 2";
    case disconnect_with_will_message: return "Disconnect with Will Message";
    case no_matching_subscribers: return "No matching subscribers";
    case no_subscription_existed: return "No subscription existed";
    case continue_authentication: return "Continue authentication";
    case re_authenticate: return "Re-authenticate";
    case unspecified_error: return "Unspecified error";
    case malformed_packet: return "Malformed Packet";
    case protocol_error: return "Protocol Error";
    case implementation_specific_error: return "Implementation specific error";
    case unsupported_protocol_version: return "Unsupported Protocol Version";
    case client_identifier_not_valid: return "Client Identifier not valid";
    case bad_user_name_or_password: return "Bad User Name or Password";
    case not_authorized: return "Not authorized";
    case server_unavailable: return "Server unavailable";
    case server_busy: return "Server busy";
    case banned: return "Banned";
    case server_shutting_down: return "Server shutting down";
    case bad_authentication_method: return "Bad authentication method";
    case keep_alive_timeout: return "Keep Alive timeout";
    case session_taken_over: return "Session taken over";
    case topic_filter_invalid: return "Topic Filter invalid";
    case topic_name_invalid: return "Topic Name invalid";
    case packet_identifier_in_use: return "Packet Identifier in use";
    case packet_identifier_not_found: return "Packet Identifier not found";
    case receive_maximum_exceeded: return "Receive Maximum exceeded";
    case topic_alias_invalid: return "Topic Alias invalid";
    case packet_too_large: return "Packet too large";
    case message_rate_too_high: return "Message rate too high";
    case quota_exceeded: return "Quota exceeded";
    case administrative_action: return "Administrative action";
    case payload_format_invalid: return "Payload format invalid";
    case retain_not_supported: return "Retain not supported";
    case qos_not_supported: return "QoS not supported";
    case use_another_server: return "Use another server";
    case server_moved: return "Server moved";
    case shared_subscriptions_not_supported: return "Shared Subscriptions not supported";
    case connection_rate_exceeded: return "Connection rate exceeded";
    case maximum_connect_time: return "Maximum connect time";
    case subscription_identifiers_not_supported: return "Subscription Identifiers not supported";
    case wildcard_subscriptions_not_supported: return "Wildcard Subscriptions not supported";
    }
    return "Unknown";
}

/// @brief True for the 3.1/3.1.1 CONNACK return codes 0..5.
[[nodiscard]] constexpr bool is_allowed(connect_return_code rc) noexcept {
    return static_cast<std::uint8_t>(rc) <= 5;
}
/// @brief True for the 3.1.1 SUBACK return codes 0x00, 0x01, 0x02, 0x80 (MQTT-3.9.3-2).
[[nodiscard]] constexpr bool is_allowed(suback_return_code rc) noexcept {
    const auto v = static_cast<std::uint8_t>(rc);
    return v <= 2 || v == 0x80;
}

/// @brief The reason code that reports codec outcome `e` to the peer: the same byte for every
/// `errc` at or above 0x80 (they are defined equal), `success` for `errc::success`, and
/// `unspecified_error` for the codec-only values (`incomplete`, `buffer_too_small`, ...), which
/// never go on the wire.
[[nodiscard]] constexpr reason_code to_reason_code(errc e) noexcept {
    if (e == errc::success) return reason_code::success;
    if (is_codec_only(e)) return reason_code::unspecified_error;
    return static_cast<reason_code>(static_cast<std::uint8_t>(e));
}

/// @brief As `to_reason_code(e)`, limited to the codes packet context `ctx` allows: a code the
/// context does not list becomes Unspecified error (0x80), which every context that can carry a
/// failure allows (e.g. a DISCONNECT after a decode error, a CONNACK refusing a bad CONNECT).
[[nodiscard]] constexpr reason_code to_reason_code(errc e, reason_context ctx) noexcept {
    const reason_code rc = to_reason_code(e);
    return is_allowed(rc, ctx) ? rc : reason_code::unspecified_error;
}

/// @brief The `errc` a peer's reason code stands for: `success` below 0x80 (success and the
/// non-error codes), the same byte for the failures `errc` names, and `unspecified_error` for a
/// failure it does not name.
[[nodiscard]] constexpr errc to_errc(reason_code rc) noexcept {
    const auto b = static_cast<std::uint8_t>(rc);
    if (b < 0x80) return errc::success;
    const auto e = static_cast<errc>(b);
    return errc_name(e) == "unknown" ? errc::unspecified_error : e;
}

} // namespace mqttwire
