#pragma once
/// @file
/// @brief Checksum and keyed hash used by the durable store (durable_store.hpp).
///
/// CRC-32C guards every batch on disk: it detects every error of up to 32 consecutive bits and
/// every odd number of bit flips, and x86-64 computes it in hardware (SSE 4.2), so checking a
/// store of hundreds of megabytes at start-up costs tens of milliseconds.
///
/// SipHash-1-3 keys the in-memory index. Retained topics and client identifiers come from
/// clients, so a hash they could predict would let one client pile every key into one probe
/// sequence; SipHash with a key drawn at start-up is the usual defence against that.

#include <bit>
#include <cstddef>
#include <cstdint>
#include <span>

namespace mqttwire::broker::detail {

/// @brief CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) of `data`, continuing from
/// `crc` (the result of an earlier call, or 0 to start). Uses SSE 4.2 when the CPU has it.
[[nodiscard]] std::uint32_t crc32c(std::span<const std::byte> data, std::uint32_t crc = 0) noexcept;

/// @brief The same function computed with tables only (what crc32c() falls back to).
[[nodiscard]] std::uint32_t crc32c_portable(std::span<const std::byte> data,
                                            std::uint32_t crc = 0) noexcept;

/// @brief Whether crc32c() uses the CPU's CRC-32C instruction.
[[nodiscard]] bool crc32c_in_hardware() noexcept;

/// @brief Little-endian 64-bit load of up to 8 bytes (missing high bytes are zero).
[[nodiscard]] constexpr std::uint64_t load_le64(std::span<const std::byte> b) noexcept {
    std::uint64_t v = 0;
    const std::size_t n = b.size() < 8 ? b.size() : 8;
    for (std::size_t i = 0; i < n; ++i) {
        v |= static_cast<std::uint64_t>(std::to_integer<std::uint8_t>(b[i])) << (8 * i);
    }
    return v;
}

/// @brief SipHash-C-D (Aumasson and Bernstein, 2012) of `data` under the 128-bit key (k0, k1).
/// The store uses C = 1, D = 3; C = 2, D = 4 is the paper's reference variant (tested against
/// its published vectors).
template <int C, int D>
[[nodiscard]] constexpr std::uint64_t siphash(std::uint64_t k0, std::uint64_t k1,
                                              std::span<const std::byte> data) noexcept {
    std::uint64_t v0 = k0 ^ 0x736f6d6570736575ULL;
    std::uint64_t v1 = k1 ^ 0x646f72616e646f6dULL;
    std::uint64_t v2 = k0 ^ 0x6c7967656e657261ULL;
    std::uint64_t v3 = k1 ^ 0x7465646279746573ULL;
    const auto round = [&]() constexpr {
        v0 += v1;
        v1 = std::rotl(v1, 13);
        v1 ^= v0;
        v0 = std::rotl(v0, 32);
        v2 += v3;
        v3 = std::rotl(v3, 16);
        v3 ^= v2;
        v0 += v3;
        v3 = std::rotl(v3, 21);
        v3 ^= v0;
        v2 += v1;
        v1 = std::rotl(v1, 17);
        v1 ^= v2;
        v2 = std::rotl(v2, 32);
    };
    const auto absorb = [&](std::uint64_t m) constexpr {
        v3 ^= m;
        for (int i = 0; i < C; ++i) {
            round();
        }
        v0 ^= m;
    };
    const std::size_t whole = data.size() / 8 * 8;
    for (std::size_t i = 0; i < whole; i += 8) {
        absorb(load_le64(data.subspan(i, 8)));
    }
    // The last block carries the length's low byte in its top byte.
    absorb(load_le64(data.subspan(whole)) | (static_cast<std::uint64_t>(data.size()) << 56));
    v2 ^= 0xff;
    for (int i = 0; i < D; ++i) {
        round();
    }
    return v0 ^ v1 ^ v2 ^ v3;
}

} // namespace mqttwire::broker::detail
