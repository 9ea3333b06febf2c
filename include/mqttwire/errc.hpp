#pragma once
/// @file
/// @brief Codec outcomes. Values that correspond to an MQTT 5 reason code equal that byte.

#include <cstdint>
#include <string_view>

namespace mqttwire {

/// @brief Outcome of a decode, encode, validation or framing call.
///
/// Values at or above 0x80 are MQTT 5 reason codes: a broker that receives a packet the codec
/// rejects can send `static_cast<std::uint8_t>(e)` as the DISCONNECT (or CONNACK) reason code.
/// Values below 0x80 are codec-only and never go on the wire.
enum class errc : std::uint8_t {
    success = 0x00,
    /// More bytes are needed: the input ends inside the packet (not an error in a stream).
    incomplete = 0x01,
    /// The output buffer cannot hold the encoded packet; nothing was written.
    buffer_too_small = 0x02,
    /// An argument outside any packet (e.g. an unknown protocol_version) is unusable.
    invalid_argument = 0x03,
    /// Session layer: not now. The output buffer lacks room, the send quota (Receive Maximum) is
    /// used up, or resending after a reconnect is still under way; retry once output is written
    /// or acknowledgements arrive.
    would_block = 0x04,
    /// Session layer: the operation needs a connection in another state (e.g. PUBLISH before
    /// CONNACK).
    not_connected = 0x05,

    unspecified_error = 0x80,
    malformed_packet = 0x81,
    protocol_error = 0x82,
    implementation_specific_error = 0x83,
    unsupported_protocol_version = 0x84,
    client_identifier_not_valid = 0x85,
    bad_user_name_or_password = 0x86,
    topic_filter_invalid = 0x8F,
    topic_name_invalid = 0x90,
    packet_identifier_in_use = 0x91,
    packet_identifier_not_found = 0x92,
    receive_maximum_exceeded = 0x93,
    topic_alias_invalid = 0x94,
    packet_too_large = 0x95,
    quota_exceeded = 0x97,
    payload_format_invalid = 0x99,
    retain_not_supported = 0x9A,
    qos_not_supported = 0x9B,
    shared_subscriptions_not_supported = 0x9E,
    subscription_identifiers_not_supported = 0xA1,
    wildcard_subscriptions_not_supported = 0xA2,
};

/// @brief True for the codec-only values (below 0x80), which have no reason code.
[[nodiscard]] constexpr bool is_codec_only(errc e) noexcept {
    return static_cast<std::uint8_t>(e) < 0x80;
}

/// @brief A short, stable, lower-case name for `e` (the enumerator's name).
[[nodiscard]] constexpr std::string_view errc_name(errc e) noexcept {
    switch (e) {
    case errc::success: return "success";
    case errc::incomplete: return "incomplete";
    case errc::buffer_too_small: return "buffer_too_small";
    case errc::invalid_argument: return "invalid_argument";
    case errc::would_block: return "would_block";
    case errc::not_connected: return "not_connected";
    case errc::unspecified_error: return "unspecified_error";
    case errc::malformed_packet: return "malformed_packet";
    case errc::protocol_error: return "protocol_error";
    case errc::implementation_specific_error: return "implementation_specific_error";
    case errc::unsupported_protocol_version: return "unsupported_protocol_version";
    case errc::client_identifier_not_valid: return "client_identifier_not_valid";
    case errc::bad_user_name_or_password: return "bad_user_name_or_password";
    case errc::topic_filter_invalid: return "topic_filter_invalid";
    case errc::topic_name_invalid: return "topic_name_invalid";
    case errc::packet_identifier_in_use: return "packet_identifier_in_use";
    case errc::packet_identifier_not_found: return "packet_identifier_not_found";
    case errc::receive_maximum_exceeded: return "receive_maximum_exceeded";
    case errc::topic_alias_invalid: return "topic_alias_invalid";
    case errc::packet_too_large: return "packet_too_large";
    case errc::quota_exceeded: return "quota_exceeded";
    case errc::payload_format_invalid: return "payload_format_invalid";
    case errc::retain_not_supported: return "retain_not_supported";
    case errc::qos_not_supported: return "qos_not_supported";
    case errc::shared_subscriptions_not_supported: return "shared_subscriptions_not_supported";
    case errc::subscription_identifiers_not_supported:
        return "subscription_identifiers_not_supported";
    case errc::wildcard_subscriptions_not_supported: return "wildcard_subscriptions_not_supported";
    }
    return "unknown";
}

} // namespace mqttwire
