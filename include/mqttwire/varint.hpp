#pragma once
/// @file
/// @brief Variable Byte Integer (MQTT 3.1.1 section 2.2.3, MQTT 5.0 section 1.5.5).
///
/// ```
///  byte 0        byte 1        byte 2        byte 3
/// +-+-------+   +-+-------+   +-+-------+   +-+-------+
/// |C| 7 bits|   |C| 7 bits|   |C| 7 bits|   |0| 7 bits|   C = continuation, least significant first
/// +-+-------+   +-+-------+   +-+-------+   +-+-------+
/// ```

#include <cstddef>
#include <cstdint>
#include <span>

#include "errc.hpp"

namespace mqttwire {

/// @brief The largest value a Variable Byte Integer holds (four bytes).
inline constexpr std::uint32_t varint_max = 268'435'455;

/// @brief Bytes needed to encode `v` (1..4); precondition `v <= varint_max`.
[[nodiscard]] constexpr std::size_t varint_size(std::uint32_t v) noexcept {
    return v < 128u ? 1 : v < 16'384u ? 2 : v < 2'097'152u ? 3 : 4;
}

/// @brief Outcome of `decode_varint`.
struct varint_result {
    errc status = errc::success; ///< success, incomplete or malformed_packet
    std::uint32_t value = 0;
    std::size_t size = 0; ///< bytes consumed when `status == success`
};

/// @brief Decodes a Variable Byte Integer at the start of `in`.
///
/// @return `errc::incomplete` when `in` ends before the last byte; `errc::malformed_packet` for a
/// fifth byte (more than four bytes) and for a non-minimal encoding such as `80 00`
/// (MQTT5-1.5.5-1: the fewest bytes must be used; applied to 3.1.1 too).
[[nodiscard]] constexpr varint_result decode_varint(std::span<const std::byte> in) noexcept {
    std::uint32_t value = 0;
    for (std::size_t i = 0; i < 4; ++i) {
        if (i >= in.size()) return {errc::incomplete, 0, 0};
        const auto b = static_cast<std::uint32_t>(in[i]);
        value |= (b & 0x7Fu) << (7 * i);
        if ((b & 0x80u) == 0) {
            if (i > 0 && b == 0) return {errc::malformed_packet, 0, 0}; // MQTT5-1.5.5-1
            return {errc::success, value, i + 1};
        }
    }
    return {errc::malformed_packet, 0, 0}; // a fifth byte would follow
}

} // namespace mqttwire
