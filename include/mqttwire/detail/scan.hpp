#pragma once
// Run-time fast paths that look at many bytes at once (never used in constant evaluation, where
// the byte-by-byte validators run instead). One home for the word tests of UTF-8 and topic
// validation:
//
// * a *plain topic byte* is 0x01..0x7F other than '+' and '#': a text made only of them is a
//   valid Topic Name under the mandatory rules, so nothing else need be looked at;
// * a *plain text byte* is 0x01..0x7F: well-formed UTF-8 without U+0000.
//
// On 64-bit targets words are 8 bytes (SWAR), and 16 with SSE2; on 32-bit targets (e.g. a
// Cortex-M) and in size-optimised builds (MQTTWIRE_SMALL) a byte loop, so no word code is
// linked there.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "../config.hpp"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace mqttwire::detail {

inline constexpr bool word_scans = sizeof(std::size_t) >= 8 && !small_code;

[[nodiscard]] inline std::uint64_t load_word(std::span<const std::byte> s, std::size_t at) noexcept {
    std::uint64_t v = 0;
    std::memcpy(&v, s.subspan(at, 8).data(), sizeof v);
    return v;
}

// High bit set in every byte of the word that is not a plain topic byte.
[[nodiscard]] inline std::uint64_t non_plain_topic_bytes(std::uint64_t v) noexcept {
    constexpr std::uint64_t ones = 0x0101010101010101ull;
    constexpr std::uint64_t highs = 0x8080808080808080ull;
    // '#' is 0x23 and '+' is 0x2B: with bit 3 set both are 0x2B, so one zero-byte test finds
    // both; a second finds U+0000; the high bit itself marks non-ASCII.
    const std::uint64_t w = (v | ones * 0x08u) ^ (ones * '+');
    return (v | ((v - ones) & ~v) | ((w - ones) & ~w)) & highs;
}

// High bit set in every byte of the word that is not a plain text byte.
[[nodiscard]] inline std::uint64_t non_plain_text_bytes(std::uint64_t v) noexcept {
    constexpr std::uint64_t ones = 0x0101010101010101ull;
    constexpr std::uint64_t highs = 0x8080808080808080ull;
    return (v | ((v - ones) & ~v)) & highs;
}

[[nodiscard]] constexpr bool is_plain_topic_byte(std::uint8_t b) noexcept {
    return b != 0 && b < 0x80 && b != '+' && b != '#';
}

#if defined(__SSE2__)
// Non-zero when one of the 16 bytes of `v` is not a plain topic byte.
[[nodiscard]] inline int non_plain_topic_vector(__m128i v) noexcept {
    const __m128i wild = _mm_cmpeq_epi8(_mm_or_si128(v, _mm_set1_epi8(0x08)), _mm_set1_epi8('+'));
    const __m128i nul = _mm_cmpeq_epi8(v, _mm_setzero_si128());
    return _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(wild, nul), v));
}

// Non-zero when one of the 16 bytes at `at` is not a plain topic byte.
[[nodiscard]] inline int non_plain_topic_16(std::span<const std::byte> s, std::size_t at) noexcept {
    __m128i v;
    std::memcpy(&v, s.subspan(at, 16).data(), sizeof v);
    return non_plain_topic_vector(v);
}
#endif

// True when `s` is not empty and holds only plain topic bytes: a valid Topic Name under the
// mandatory rules (MQTT-4.7.1-1, MQTT-4.7.3-1, MQTT-4.7.3-2, MQTT-1.5.3-1 and 5.0 twins).
// Overlapping last word/vector instead of a byte tail.
// Topics of up to 32 bytes (most of them) take two overlapping vectors (or words up to 16
// bytes) and no loop.
// `VectorHalves`: with SSE2, topics of 8 to 15 bytes are tested as the first and the last 8
// bytes (overlapping) in one vector, not as two words, so no general register holds the word
// test's four constants. The PUBLISH encoder takes it: it must leave registers free to save
// none. The decoders keep the word test: with the vector one g++ allocates their registers
// worse, and `next_frame` + `decode<publish_view>` took 4% longer (bench/README.md).
template <bool VectorHalves = false>
[[nodiscard]] MQTTWIRE_FORCE_INLINE bool is_plain_topic(std::span<const std::byte> s) noexcept {
    const std::size_t n = s.size();
#if defined(__SSE2__)
    if (word_scans && n >= 16) {
        int bad = non_plain_topic_16(s, 0) | non_plain_topic_16(s, n - 16);
        for (std::size_t i = 16; n - i > 16; i += 16) bad |= non_plain_topic_16(s, i);
        return bad == 0;
    }
    if (VectorHalves && word_scans && n >= 8) {
        const auto first = static_cast<long long>(load_word(s, 0));
        const auto last = static_cast<long long>(load_word(s, n - 8));
        return non_plain_topic_vector(_mm_set_epi64x(last, first)) == 0;
    }
#endif
    if constexpr (word_scans) {
        if (n >= 8) {
            std::uint64_t bad =
                non_plain_topic_bytes(load_word(s, 0)) | non_plain_topic_bytes(load_word(s, n - 8));
            for (std::size_t i = 8; n - i > 8; i += 8)
                bad |= non_plain_topic_bytes(load_word(s, i));
            return bad == 0;
        }
    }
    for (const auto b : s)
        if (!is_plain_topic_byte(static_cast<std::uint8_t>(b))) return false;
    return n != 0;
}

// True when `s` holds only plain text bytes: well-formed UTF-8 without U+0000 (and nothing the
// non-character rule refuses, since those are not ASCII).
[[nodiscard]] MQTTWIRE_FORCE_INLINE bool is_plain_text(std::span<const std::byte> s) noexcept {
    const std::size_t n = s.size();
    if constexpr (word_scans) {
        if (n >= 8) {
            std::uint64_t bad = 0;
            for (std::size_t i = 0; n - i > 8; i += 8) bad |= non_plain_text_bytes(load_word(s, i));
            return (bad | non_plain_text_bytes(load_word(s, n - 8))) == 0;
        }
        if (n >= 4) { // two overlapping 4-byte words
            std::uint32_t a = 0;
            std::uint32_t b = 0;
            std::memcpy(&a, s.first(4).data(), 4);
            std::memcpy(&b, s.last(4).data(), 4);
            const std::uint64_t v = std::uint64_t{a} << 32 | b;
            return non_plain_text_bytes(v) == 0;
        }
    }
    for (const auto b : s) {
        const auto v = static_cast<std::uint8_t>(b);
        if (v == 0 || v >= 0x80) return false;
    }
    return true;
}

// A position >= `i` such that every byte of [i, position) is a plain topic byte (whole words;
// possibly short of the true count).
[[nodiscard]] inline std::size_t skip_plain_topic(std::span<const std::byte> s,
                                                  std::size_t i) noexcept {
    if constexpr (word_scans)
        while (s.size() - i >= 8 && non_plain_topic_bytes(load_word(s, i)) == 0) i += 8;
    return i;
}

// A position >= `i` such that every byte of [i, position) is a plain text byte (whole words;
// possibly short of the true count).
[[nodiscard]] inline std::size_t skip_plain_text(std::span<const std::byte> s,
                                                 std::size_t i) noexcept {
    if constexpr (word_scans)
        while (s.size() - i >= 8 && non_plain_text_bytes(load_word(s, i)) == 0) i += 8;
    return i;
}

} // namespace mqttwire::detail
