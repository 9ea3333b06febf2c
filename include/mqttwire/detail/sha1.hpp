#pragma once
// SHA-1 (FIPS 180-4 section 6.1), usable in constant expressions. The WebSocket handshake needs
// it for Sec-WebSocket-Accept (RFC 6455 section 4.2.2), where it serves as a fixed transform,
// not as a security primitive; nothing else in the library uses it.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace mqttwire::detail {

class sha1 {
  public:
    using digest = std::array<std::byte, 20>;

    constexpr sha1() noexcept = default;

    constexpr void update(std::span<const std::byte> data) noexcept {
        for (const auto b : data) put(static_cast<std::uint8_t>(b));
    }
    constexpr void update(std::string_view text) noexcept {
        for (const char c : text) put(static_cast<std::uint8_t>(c));
    }

    /// Pads, processes the last block and returns the digest; the object is spent afterwards.
    [[nodiscard]] constexpr digest finish() noexcept {
        const std::uint64_t bits = total_ * 8u;
        put(0x80u);
        while (used_ != 56) put(0x00u);
        for (int shift = 56; shift >= 0; shift -= 8)
            put(static_cast<std::uint8_t>((bits >> shift) & 0xFFu));
        digest out{};
        for (std::size_t i = 0; i < 5; ++i)
            for (std::size_t k = 0; k < 4; ++k)
                out[4 * i + k] = static_cast<std::byte>((h_[i] >> (24 - 8 * k)) & 0xFFu);
        return out;
    }

  private:
    static constexpr std::uint32_t rotl(std::uint32_t x, int n) noexcept {
        return (x << n) | (x >> (32 - n));
    }

    constexpr void put(std::uint8_t b) noexcept {
        block_[used_++] = b;
        ++total_;
        if (used_ == 64) {
            compress();
            used_ = 0;
        }
    }

    constexpr void compress() noexcept {
        std::array<std::uint32_t, 80> w{};
        for (std::size_t t = 0; t < 16; ++t)
            w[t] = static_cast<std::uint32_t>(block_[4 * t]) << 24 |
                   static_cast<std::uint32_t>(block_[4 * t + 1]) << 16 |
                   static_cast<std::uint32_t>(block_[4 * t + 2]) << 8 |
                   static_cast<std::uint32_t>(block_[4 * t + 3]);
        for (std::size_t t = 16; t < 80; ++t)
            w[t] = rotl(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1);
        std::uint32_t a = h_[0], b = h_[1], c = h_[2], d = h_[3], e = h_[4];
        for (std::size_t t = 0; t < 80; ++t) {
            std::uint32_t f = 0;
            std::uint32_t k = 0;
            if (t < 20) {
                f = (b & c) | (~b & d);
                k = 0x5A827999u;
            } else if (t < 40) {
                f = b ^ c ^ d;
                k = 0x6ED9EBA1u;
            } else if (t < 60) {
                f = (b & c) | (b & d) | (c & d);
                k = 0x8F1BBCDCu;
            } else {
                f = b ^ c ^ d;
                k = 0xCA62C1D6u;
            }
            const std::uint32_t tmp = rotl(a, 5) + f + e + k + w[t];
            e = d;
            d = c;
            c = rotl(b, 30);
            b = a;
            a = tmp;
        }
        h_[0] += a;
        h_[1] += b;
        h_[2] += c;
        h_[3] += d;
        h_[4] += e;
    }

    std::array<std::uint32_t, 5> h_{0x67452301u, 0xEFCDAB89u, 0x98BADCFEu, 0x10325476u,
                                    0xC3D2E1F0u};
    std::array<std::uint8_t, 64> block_{};
    std::size_t used_ = 0;
    std::uint64_t total_ = 0;
};

} // namespace mqttwire::detail
