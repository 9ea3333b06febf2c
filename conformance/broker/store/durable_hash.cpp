#include "durable_hash.hpp"

#include <array>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cstring>
#include <nmmintrin.h>
#define MQTTWIRE_DURABLE_CRC_SSE42 1
#endif

namespace mqttwire::broker::detail {
namespace {

// Slicing-by-8 tables: table[k][b] is the CRC of byte b followed by k zero bytes, so eight
// input bytes are folded with eight lookups instead of eight dependent shift loops.
constexpr std::array<std::array<std::uint32_t, 256>, 8> make_tables() {
    std::array<std::array<std::uint32_t, 256>, 8> t{};
    for (std::uint32_t b = 0; b < 256; ++b) {
        std::uint32_t c = b;
        for (int i = 0; i < 8; ++i) {
            c = (c & 1U) != 0 ? (c >> 1) ^ 0x82F63B78U : c >> 1;
        }
        t[0][b] = c;
    }
    for (std::size_t k = 1; k < 8; ++k) {
        for (std::size_t b = 0; b < 256; ++b) {
            t[k][b] = (t[k - 1][b] >> 8) ^ t[0][t[k - 1][b] & 0xFFU];
        }
    }
    return t;
}
constexpr auto tables = make_tables();

std::uint32_t portable_state(std::span<const std::byte> data, std::uint32_t s) noexcept {
    std::size_t i = 0;
    for (; i + 8 <= data.size(); i += 8) {
        const std::uint64_t v = load_le64(data.subspan(i, 8)) ^ s;
        s = tables[7][v & 0xFF] ^ tables[6][(v >> 8) & 0xFF] ^ tables[5][(v >> 16) & 0xFF] ^
            tables[4][(v >> 24) & 0xFF] ^ tables[3][(v >> 32) & 0xFF] ^
            tables[2][(v >> 40) & 0xFF] ^ tables[1][(v >> 48) & 0xFF] ^ tables[0][v >> 56];
    }
    for (; i < data.size(); ++i) {
        s = (s >> 8) ^ tables[0][(s ^ std::to_integer<std::uint8_t>(data[i])) & 0xFFU];
    }
    return s;
}

#ifdef MQTTWIRE_DURABLE_CRC_SSE42
__attribute__((target("sse4.2"))) std::uint32_t sse42_state(std::span<const std::byte> data,
                                                            std::uint32_t s) noexcept {
    std::uint64_t s64 = s;
    std::size_t i = 0;
    for (; i + 8 <= data.size(); i += 8) {
        std::uint64_t v = 0;
        std::memcpy(&v, data.subspan(i, 8).data(), 8); // x86 is little-endian, as CRC-32C wants
        s64 = _mm_crc32_u64(s64, v);
    }
    auto s32 = static_cast<std::uint32_t>(s64);
    for (; i < data.size(); ++i) {
        s32 = _mm_crc32_u8(s32, std::to_integer<std::uint8_t>(data[i]));
    }
    return s32;
}

// Initialised before main(), possibly before the runtime's own CPU detection has run:
// __builtin_cpu_init() first, as GCC documents for that case.
const bool have_sse42 = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("sse4.2") != 0;
}();
#endif

} // namespace

std::uint32_t crc32c_portable(std::span<const std::byte> data, std::uint32_t crc) noexcept {
    return ~portable_state(data, ~crc);
}

std::uint32_t crc32c(std::span<const std::byte> data, std::uint32_t crc) noexcept {
#ifdef MQTTWIRE_DURABLE_CRC_SSE42
    if (have_sse42) {
        return ~sse42_state(data, ~crc);
    }
#endif
    return crc32c_portable(data, crc);
}

bool crc32c_in_hardware() noexcept {
#ifdef MQTTWIRE_DURABLE_CRC_SSE42
    return have_sse42;
#else
    return false;
#endif
}

} // namespace mqttwire::broker::detail
