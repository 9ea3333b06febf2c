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

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>

#include "config.hpp"
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

namespace detail {

// The rules of check_first_byte, type by type.
[[nodiscard]] constexpr errc first_byte_rules(std::uint8_t b, protocol_version v) noexcept {
    const auto type = static_cast<unsigned>(b >> 4);
    const auto flags = static_cast<unsigned>(b & 0x0Fu);
    // The flag values each type allows, as a bit per value. PUBLISH: any QoS but 3, DUP only
    // with QoS 1 or 2. PUBREL (6), SUBSCRIBE (8) and UNSUBSCRIBE (10) carry 0010, every other
    // type 0000; MQTT 3.1 also set DUP on a retransmitted PUBREL, SUBSCRIBE or UNSUBSCRIBE (3.1
    // section 2.1), which 3.1.1 and 5.0 reserve.
    unsigned allowed = 1u << 0;
    if (type == static_cast<unsigned>(packet_type::publish))
        allowed = 0x3C3Fu; // 0-5 (QoS 0-2, DUP 0), 10-13 (QoS 1-2, DUP 1)
    else if ((0x0540u >> type & 1u) != 0)
        allowed = v == protocol_version::v3_1 ? (1u << 2 | 1u << 10) : 1u << 2;
    // Type 0 is reserved, and AUTH before 5.0.
    if (type == 0 ||
        (type == static_cast<unsigned>(packet_type::auth) && v != protocol_version::v5))
        allowed = 0;
    return (allowed >> flags & 1u) != 0 ? errc::success : errc::malformed_packet;
}

// check_first_byte's answer for every first byte: bit `b % 64` of word `b / 64` is set when `b`
// is valid; row 0 for MQTT 3.1, 1 for 3.1.1 (and any unknown level, which the rules treat as
// 3.1.1), 2 for 5.0.
inline constexpr std::array<std::array<std::uint64_t, 4>, 3> first_byte_table = [] {
    std::array<std::array<std::uint64_t, 4>, 3> t{};
    constexpr protocol_version levels[] = {protocol_version::v3_1, protocol_version::v3_1_1,
                                           protocol_version::v5};
    for (std::size_t row = 0; row < 3; ++row)
        for (unsigned b = 0; b < 256; ++b)
            if (first_byte_rules(static_cast<std::uint8_t>(b), levels[row]) == errc::success)
                t[row][b >> 6] |= std::uint64_t{1} << (b & 63u);
    return t;
}();

} // namespace detail

/// @brief Checks the type nibble and flag bits of a first byte for protocol level `v`.
///
/// @return `errc::malformed_packet` for type 0, for AUTH before 5.0, for reserved flags that do
/// not hold their listed value (MQTT-2.2.2-1, MQTT-2.2.2-2, MQTT5-2.1.3-1; PUBREL, SUBSCRIBE and
/// UNSUBSCRIBE: MQTT-3.6.1-1, MQTT-3.8.1-1, MQTT-3.10.1-1 and 5.0 twins; DISCONNECT
/// MQTT-3.14.1-1 / MQTT5-3.14.1-1; AUTH MQTT5-3.15.1-1), for PUBLISH with QoS 3 (MQTT-3.3.1-4,
/// MQTT5-3.3.1-4) and for DUP on a QoS 0 PUBLISH (MQTT-3.3.1-2, MQTT5-3.3.1-2).
[[nodiscard]] constexpr errc check_first_byte(std::uint8_t b, protocol_version v) noexcept {
    if constexpr (!detail::small_code) {
        // Fast builds at run time: one bit of a 256-bit table per level (first_byte_table, built
        // from the same rules) instead of the type tests.
        if (!std::is_constant_evaluated()) {
            const auto x = static_cast<unsigned>(v);
            const unsigned row = x == 5 ? 2u : x == 3 ? 0u : 1u;
            const std::uint64_t word = detail::first_byte_table[row][b >> 6];
            return (word >> (b & 63u) & 1u) != 0 ? errc::success : errc::malformed_packet;
        }
    }
    return detail::first_byte_rules(b, v);
}

[[nodiscard]] constexpr result<fixed_header>
read_fixed_header(std::span<const std::byte> bytes, std::uint32_t max_packet_size) noexcept {
    if (bytes.size() < 2) return errc::incomplete;
    fixed_header h;
    h.type = static_cast<packet_type>(static_cast<std::uint8_t>(bytes[0]) >> 4);
    h.flags = static_cast<std::uint8_t>(static_cast<std::uint8_t>(bytes[0]) & 0x0Fu);
    const auto b1 = static_cast<std::uint8_t>(bytes[1]);
    if (!detail::small_code && b1 < 0x80) { // one length byte: every packet under 128 bytes
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
