#pragma once
/// @file
/// @brief The fixed header (MQTT 3.1.1 section 2.2, MQTT 5.0 section 2.1): packet type, flags
/// and Remaining Length, with the reserved-flag rules.
///
/// ```
/// +---------------+---------------+------------------------------+
/// | type (bits 7-4) | flags (3-0)  | remaining length (1-4 bytes) |
/// +---------------+---------------+------------------------------+
/// ```

#include <cstddef>
#include <cstdint>
#include <span>

#include "errc.hpp"
#include "packet_type.hpp"
#include "result.hpp"
#include "varint.hpp"
#include "version.hpp"

namespace mqttwire {

/// @brief A decoded fixed header.
struct fixed_header {
    packet_type type{};
    std::uint8_t flags = 0;
    std::uint32_t remaining_length = 0;
    std::size_t header_size = 0; ///< 2..5 bytes
    /// @brief Header plus remaining length: the bytes the whole packet occupies.
    [[nodiscard]] constexpr std::size_t packet_size() const noexcept {
        return header_size + remaining_length;
    }
};

/// @brief Checks the type nibble and flag bits of a first byte for protocol level `v`.
///
/// @return `errc::malformed_packet` for type 0, for AUTH before 5.0, for reserved flags that do
/// not hold their listed value (MQTT-2.2.2-1, MQTT-2.2.2-2, MQTT5-2.1.3-1; PUBREL, SUBSCRIBE and
/// UNSUBSCRIBE: MQTT-3.6.1-1, MQTT-3.8.1-1, MQTT-3.10.1-1 and 5.0 twins; DISCONNECT
/// MQTT-3.14.1-1 / MQTT5-3.14.1-1; AUTH MQTT5-3.15.1-1), for PUBLISH with QoS 3 (MQTT-3.3.1-4,
/// MQTT5-3.3.1-4) and for DUP on a QoS 0 PUBLISH (MQTT-3.3.1-2, MQTT5-3.3.1-2).
[[nodiscard]] constexpr errc check_first_byte(std::uint8_t b, protocol_version v) noexcept {
    const auto type = static_cast<unsigned>(b >> 4);
    const auto flags = static_cast<unsigned>(b & 0x0Fu);
    switch (static_cast<packet_type>(type)) {
    case packet_type::publish:
        if ((flags & 0x06u) == 0x06u) return errc::malformed_packet;
        if ((flags & 0x08u) != 0 && (flags & 0x06u) == 0) return errc::malformed_packet;
        return errc::success;
    case packet_type::pubrel:
    case packet_type::subscribe:
    case packet_type::unsubscribe:
        if (flags == 0x02u) return errc::success;
        // MQTT 3.1 set DUP on a retransmitted PUBREL, SUBSCRIBE or UNSUBSCRIBE (3.1 section
        // 2.1); 3.1.1 and 5.0 reserve that bit.
        if (v == protocol_version::v3_1 && flags == 0x0Au) return errc::success;
        return errc::malformed_packet;
    case packet_type::auth:
        if (v != protocol_version::v5) return errc::malformed_packet; // reserved before 5.0
        return flags == 0 ? errc::success : errc::malformed_packet;
    case packet_type::connect:
    case packet_type::connack:
    case packet_type::puback:
    case packet_type::pubrec:
    case packet_type::pubcomp:
    case packet_type::suback:
    case packet_type::unsuback:
    case packet_type::pingreq:
    case packet_type::pingresp:
    case packet_type::disconnect:
        return flags == 0 ? errc::success : errc::malformed_packet;
    }
    return errc::malformed_packet; // type 0 is reserved
}

/// @brief Reads the fixed header at the start of `bytes` without checking the flags.
///
/// @return `errc::incomplete` until the Remaining Length is complete; `errc::malformed_packet`
/// for a fifth length byte or a non-minimal length (MQTT5-1.5.5-1); `errc::packet_too_large` when
/// the whole packet would exceed `max_packet_size` (checked as soon as the length is readable,
/// before any payload is buffered).
[[nodiscard]] constexpr result<fixed_header>
read_fixed_header(std::span<const std::byte> bytes, std::uint32_t max_packet_size) noexcept {
    if (bytes.size() < 2) return errc::incomplete;
    fixed_header h;
    h.type = static_cast<packet_type>(static_cast<std::uint8_t>(bytes[0]) >> 4);
    h.flags = static_cast<std::uint8_t>(static_cast<std::uint8_t>(bytes[0]) & 0x0Fu);
    const auto b1 = static_cast<std::uint8_t>(bytes[1]);
    if (b1 < 0x80) { // one length byte: every packet under 128 bytes
        h.remaining_length = b1;
        h.header_size = 2;
    } else {
        const auto len = decode_varint(bytes.subspan(1));
        if (len.status != errc::success) return len.status;
        h.remaining_length = len.value;
        h.header_size = 1 + len.size;
    }
    if (h.packet_size() > max_packet_size) return errc::packet_too_large;
    return h;
}

} // namespace mqttwire
