#pragma once
// Shared storage of utf8_view and binary_view: bytes that point either into a decoded packet
// (std::byte) or into caller text (char). Both forms are usable in constant expressions.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <type_traits>

#include "scan.hpp"

namespace mqttwire::detail {

// Copies `from` (at most 64 bytes) to the start of `to` inline, in fixed-size chunks, the last one
// overlapping, instead of a call into the C library. For fast builds on 64-bit targets
// (`word_scans`); copy_bytes picks it.
MQTTWIRE_FORCE_INLINE void copy_short(std::span<const std::byte> from,
                                      std::span<std::byte> to) noexcept {
    const std::size_t n = from.size();
    const auto chunk = [&](std::size_t at, auto width) {
        constexpr std::size_t w = decltype(width)::value;
        unsigned char tmp[w];
        std::memcpy(tmp, from.subspan(at, w).data(), w);
        std::memcpy(to.subspan(at, w).data(), tmp, w);
    };
    using w16 = std::integral_constant<std::size_t, 16>;
    using w8 = std::integral_constant<std::size_t, 8>;
    using w4 = std::integral_constant<std::size_t, 4>;
    if (n >= 16) {
        for (std::size_t at = 0; at + 16 < n; at += 16) chunk(at, w16{});
        chunk(n - 16, w16{});
    } else if (n >= 8) {
        chunk(0, w8{});
        chunk(n - 8, w8{});
    } else if (n >= 4) {
        chunk(0, w4{});
        chunk(n - 4, w4{});
    } else {
        for (std::size_t i = 0; i < n; ++i) to[i] = from[i];
    }
}

// Copies `from` to the start of `to` (precondition: `to.size() >= from.size()`). Topics, short
// strings and small payloads dominate encoding, so copies of up to 64 bytes are done inline
// (copy_short). On 32-bit targets memcpy alone. Size-optimised builds (MQTTWIRE_SMALL) copy a
// byte at a time: a loop of a few instructions instead of the C library's memcpy (about 300 bytes
// on a Cortex-M), which a small device need not otherwise link.
inline void copy_bytes(std::span<const std::byte> from, std::span<std::byte> to) noexcept {
    const std::size_t n = from.size();
    if constexpr (small_code) {
        for (std::size_t i = 0; i < n; ++i) to[i] = from[i];
        return;
    }
    if (n > 64 || !word_scans) {
        std::memcpy(to.data(), from.data(), n);
        return;
    }
    copy_short(from, to);
}

// Two words: a pointer (to bytes of a decoded packet, or to caller characters) and a size whose
// top bit says which. The union keeps both forms usable in constant evaluation, where a `char*`
// cannot be reinterpreted as a `std::byte*`: only the active member is ever read there. The next
// bit is a mark for `optional_view` (engaged), so an optional string costs no third word. MQTT
// lengths stay far below both bits (at most 268,435,455 bytes).
class byte_text {
    static constexpr std::size_t chars_flag = ~(~std::size_t{0} >> 1);
    static constexpr std::size_t mark_flag = chars_flag >> 1;
    static constexpr std::size_t flags = chars_flag | mark_flag;

  public:
    constexpr byte_text() noexcept : bytes_(nullptr) {}
    constexpr explicit byte_text(std::span<const std::byte> b) noexcept
        : bytes_(b.data()), size_(b.size()) {}
    constexpr explicit byte_text(std::string_view s) noexcept
        : chars_(s.data()), size_(s.size() | chars_flag) {}

    [[nodiscard]] constexpr std::size_t size() const noexcept { return size_ & ~flags; }
    [[nodiscard]] constexpr bool empty() const noexcept { return size() == 0; }

    /// Byte `i` as an unsigned value; precondition `i < size()`.
    [[nodiscard]] constexpr std::uint8_t at(std::size_t i) const noexcept {
        return from_chars() ? static_cast<std::uint8_t>(std::string_view(chars_, size())[i])
                            : static_cast<std::uint8_t>(std::span(bytes_, size())[i]);
    }

    [[nodiscard]] constexpr bool from_chars() const noexcept { return (size_ & chars_flag) != 0; }
    [[nodiscard]] constexpr bool marked() const noexcept { return (size_ & mark_flag) != 0; }
    constexpr void set_mark(bool on) noexcept { size_ = on ? (size_ | mark_flag) : (size_ & ~mark_flag); }

    /// The text as chars; not usable in constant evaluation for byte-backed text.
    [[nodiscard]] constexpr std::string_view as_chars() const noexcept {
        const std::size_t n = size();
        if (from_chars()) return {chars_, n};
        // An empty text has no bytes to reinterpret (and needs no reinterpret_cast in constant
        // evaluation, where it is not allowed); at run time any pointer goes with size 0.
        if (std::is_constant_evaluated() && n == 0) return {};
        return {reinterpret_cast<const char*>(bytes_), n}; // NOLINT
    }
    /// The text as bytes; not usable in constant evaluation for char-backed text.
    [[nodiscard]] constexpr std::span<const std::byte> as_bytes() const noexcept {
        const std::size_t n = size();
        if (!from_chars()) return {bytes_, n};
        if (std::is_constant_evaluated() && n == 0) return {};
        return {reinterpret_cast<const std::byte*>(chars_), n}; // NOLINT
    }

    /// Copies the bytes into `out` (precondition: `out.size() >= size()`).
    constexpr void copy_to(std::span<std::byte> out) const noexcept {
        if (std::is_constant_evaluated()) {
            for (std::size_t i = 0; i < size(); ++i) out[i] = std::byte{at(i)};
        } else {
            copy_bytes(as_bytes(), out);
        }
    }

    [[nodiscard]] friend constexpr bool operator==(const byte_text& a,
                                                   const byte_text& b) noexcept {
        if (a.size() != b.size()) return false;
        if (!std::is_constant_evaluated() && a.size() != 0) {
            const auto sa = a.as_bytes();
            const auto sb = b.as_bytes();
            return std::memcmp(sa.data(), sb.data(), sa.size()) == 0;
        }
        for (std::size_t i = 0; i < a.size(); ++i)
            if (a.at(i) != b.at(i)) return false;
        return true;
    }

  private:
    union {
        const std::byte* bytes_;
        const char* chars_;
    };
    std::size_t size_ = 0;
};

// Mutable access to the text of a utf8_view or binary_view (for optional_view's mark).
struct text_access {
    template <class V> [[nodiscard]] static constexpr byte_text& text(V& v) noexcept {
        return v.text_;
    }
};

} // namespace mqttwire::detail
