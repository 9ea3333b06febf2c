#pragma once
/// @file
/// @brief Options of `decode_packet` and `encode`. Every leniency is an explicit flag, off by
/// default.

#include <cstdint>

#include "packet_type.hpp"
#include "utf8.hpp"
#include "version.hpp"

namespace mqttwire {

/// @brief The largest packet MQTT can express: 1 byte of type and flags, 4 bytes of remaining
/// length, and 268,435,455 bytes after them.
inline constexpr std::uint32_t max_packet_size_limit = 268'435'460;

/// @brief How `decode_packet` reads and checks a packet.
struct decode_options {
    /// Protocol level of the connection; ignored for CONNECT, which carries its own.
    protocol_version version = protocol_version::v5;
    /// Accept mosquitto's bridge levels in CONNECT: 0x83 (3.1) and 0x84 (3.1.1), the level with
    /// its top bit set by a broker bridging into this one (`connect_view::bridge` reports it).
    /// Not MQTT, so off by default; a broker that takes bridges turns it on.
    /// (Next to `version`: it takes what would be padding, so the options do not grow.)
    bool bridge_levels = false;
    /// Largest accepted packet, fixed header included (MQTT 5.0 Maximum Packet Size); a larger
    /// remaining length is rejected with `errc::packet_too_large` as soon as it is readable.
    std::uint32_t max_packet_size = max_packet_size_limit;
    /// Who sent the bytes; enables direction rules such as MQTT5-3.3.4-6 and MQTT5-3.14.2-2.
    peer_role sender = peer_role::unknown;
    /// SHOULD-level UTF-8 rules (control characters, non-characters), off by default.
    utf8_rules utf8{};
    /// With Payload Format Indicator 1, reject a payload that is not UTF-8 with
    /// `errc::payload_format_invalid` (a MAY in MQTT 5.0 section 3.3.2.3.2).
    bool validate_payload_format = false;
};

/// @brief How `encode` shapes a packet.
struct encode_options {
    /// The receiver's Maximum Packet Size. A packet that would exceed it first loses its Reason
    /// String and then its User Properties where the spec allows that (MQTT5-3.2.2-19,
    /// MQTT5-3.2.2-20, MQTT5-3.4.2-2, ... MQTT5-3.15.2-3); otherwise encoding fails with
    /// `errc::packet_too_large`.
    std::uint32_t max_packet_size = max_packet_size_limit;
    /// Who is sending; enables direction rules such as MQTT5-3.14.2-2.
    peer_role sender = peer_role::unknown;
};

} // namespace mqttwire
