#pragma once
// Base64 (RFC 4648 section 4, standard alphabet, with padding), usable in constant expressions.
// The WebSocket handshake encodes the 16-byte client nonce and the 20-byte accept digest with
// it, and checks that a received key decodes to exactly 16 bytes.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace mqttwire::detail {

inline constexpr std::string_view base64_alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Characters `base64_encode` writes for `n` bytes.
[[nodiscard]] constexpr std::size_t base64_encoded_size(std::size_t n) noexcept {
    return (n + 2) / 3 * 4;
}

/// Writes the padded encoding of `in` to the start of `out` (precondition:
/// `out.size() >= base64_encoded_size(in.size())`).
constexpr void base64_encode(std::span<const std::byte> in, std::span<char> out) noexcept {
    std::size_t o = 0;
    for (std::size_t i = 0; i < in.size(); i += 3) {
        const std::size_t left = in.size() - i;
        std::uint32_t v = static_cast<std::uint32_t>(in[i]) << 16;
        if (left > 1) v |= static_cast<std::uint32_t>(in[i + 1]) << 8;
        if (left > 2) v |= static_cast<std::uint32_t>(in[i + 2]);
        out[o++] = base64_alphabet[(v >> 18) & 0x3Fu];
        out[o++] = base64_alphabet[(v >> 12) & 0x3Fu];
        out[o++] = left > 1 ? base64_alphabet[(v >> 6) & 0x3Fu] : '=';
        out[o++] = left > 2 ? base64_alphabet[v & 0x3Fu] : '=';
    }
}

/// The 6-bit value of a base64 character, or -1.
[[nodiscard]] constexpr int base64_value(char c) noexcept {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

/// Decodes padded base64 into `out` and returns the number of bytes, or -1 when `in` is not the
/// canonical encoding of exactly `out.size()` bytes: wrong length, a character outside the
/// alphabet, padding anywhere but the end, or non-zero bits under the padding (RFC 4648
/// section 3.5 lets a decoder refuse those; an encoder never produces them).
[[nodiscard]] constexpr std::ptrdiff_t base64_decode_exact(std::string_view in,
                                                           std::span<std::byte> out) noexcept {
    if (in.size() != base64_encoded_size(out.size())) return -1;
    std::size_t o = 0;
    for (std::size_t i = 0; i < in.size(); i += 4) {
        std::uint32_t v = 0;
        std::size_t data_chars = 4;
        for (std::size_t k = 0; k < 4; ++k) {
            const char c = in[i + k];
            if (c == '=') {
                // Padding: only in the last quantum, only in its last two places, and only
                // followed by more padding.
                if (i + 4 != in.size() || k < 2) return -1;
                if (data_chars == 4) data_chars = k;
                v <<= 6;
                continue;
            }
            if (data_chars != 4) return -1;
            const int x = base64_value(c);
            if (x < 0) return -1;
            v = (v << 6) | static_cast<std::uint32_t>(x);
        }
        const std::size_t bytes = data_chars - 1; // 4 characters -> 3 bytes, 3 -> 2, 2 -> 1
        if (o + bytes != (i + 4 == in.size() ? out.size() : o + 3)) return -1;
        // The bits below the last byte that the characters carry must be zero.
        if (bytes < 3 && (v & ((1u << (8 * (3 - bytes))) - 1u)) != 0) return -1;
        for (std::size_t k = 0; k < bytes; ++k)
            out[o++] = static_cast<std::byte>((v >> (16 - 8 * k)) & 0xFFu);
    }
    return static_cast<std::ptrdiff_t>(o);
}

} // namespace mqttwire::detail
