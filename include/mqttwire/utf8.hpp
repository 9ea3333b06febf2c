#pragma once
/// @file
/// @brief UTF-8 Encoded String validation (MQTT 3.1.1 section 1.5.3, MQTT 5.0 section 1.5.4) and
/// `utf8_view`, the codec's non-owning string type.

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <type_traits>

#include "detail/byte_text.hpp"
#include "detail/scan.hpp"
#include "errc.hpp"

namespace mqttwire {

/// @brief Which optional UTF-8 rules apply on top of the mandatory ones.
struct utf8_rules {
    /// Reject U+0001..U+001F and U+007F..U+009F. The specs say SHOULD NOT (MQTT5 1.5.4), so this
    /// is opt-in.
    bool reject_control_characters = false;
    /// Reject the Unicode non-characters (U+FDD0..U+FDEF and U+xFFFE/U+xFFFF). SHOULD NOT level.
    bool reject_noncharacters = false;
};

namespace detail {

[[nodiscard]] inline std::size_t skip_ascii_words(std::span<const std::byte> s,
                                                  std::size_t i) noexcept {
    return skip_plain_text(s, i);
}

// The scalar validator. `at(i)` reads byte i; `skip(i)` returns a position >= i such that every
// byte in between is ASCII other than U+0000 (the identity in constant evaluation).
template <class At, class Skip>
[[nodiscard]] constexpr errc validate_utf8_impl(std::size_t n, At at, Skip skip,
                                                utf8_rules rules) noexcept {
    std::size_t i = 0;
    while (i < n) {
        if (!rules.reject_control_characters) {
            i = skip(i);
            if (i >= n) break;
        }
        const std::uint8_t b0 = at(i);
        if (b0 < 0x80) {
            // MQTT-1.5.3-2 / MQTT5-1.5.4-2: U+0000 is never allowed.
            if (b0 == 0x00) return errc::malformed_packet;
            if (rules.reject_control_characters && (b0 < 0x20 || b0 == 0x7F))
                return errc::malformed_packet;
            ++i;
            continue;
        }
        std::uint32_t cp = 0;
        std::size_t len = 0;
        std::uint32_t min = 0;
        if (b0 >= 0xC2 && b0 <= 0xDF) {
            len = 2, cp = b0 & 0x1Fu, min = 0x80;
        } else if (b0 >= 0xE0 && b0 <= 0xEF) {
            len = 3, cp = b0 & 0x0Fu, min = 0x800;
        } else if (b0 >= 0xF0 && b0 <= 0xF4) {
            len = 4, cp = b0 & 0x07u, min = 0x10000;
        } else {
            // 0x80..0xC1 (continuation or overlong 2-byte lead) and 0xF5..0xFF never start a
            // well-formed sequence (MQTT-1.5.3-1 / MQTT5-1.5.4-1).
            return errc::malformed_packet;
        }
        if (n - i < len) return errc::malformed_packet;
        for (std::size_t k = 1; k < len; ++k) {
            const std::uint8_t b = at(i + k);
            if ((b & 0xC0u) != 0x80u) return errc::malformed_packet;
            cp = (cp << 6) | (b & 0x3Fu);
        }
        // Overlong forms, code points beyond U+10FFFF and surrogates (MQTT-1.5.3-1,
        // MQTT5-1.5.4-1).
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return errc::malformed_packet;
        if (rules.reject_control_characters && cp >= 0x80 && cp <= 0x9F)
            return errc::malformed_packet;
        if (rules.reject_noncharacters &&
            ((cp >= 0xFDD0 && cp <= 0xFDEF) || (cp & 0xFFFEu) == 0xFFFEu))
            return errc::malformed_packet;
        // U+FEFF (EF BB BF) is kept as is: MQTT-1.5.3-3 / MQTT5-1.5.4-3.
        i += len;
    }
    return errc::success;
}

template <class At>
[[nodiscard]] constexpr errc validate_utf8_impl(std::size_t n, At at, utf8_rules rules) noexcept {
    return validate_utf8_impl(
        n, at, [](std::size_t i) { return i; }, rules);
}

// Run time, mandatory rules only: ASCII runs a word at a time, multi-byte sequences checked
// against the well-formed byte ranges of Unicode table 3-7, which exclude exactly the overlong
// forms, the surrogates and everything above U+10FFFF (MQTT-1.5.3-1 / MQTT5-1.5.4-1).
[[nodiscard]] inline errc validate_utf8_fast(std::span<const std::byte> s) noexcept {
    const std::size_t n = s.size();
    const auto at = [s](std::size_t k) { return static_cast<std::uint8_t>(s[k]); };
    const auto cont = [](std::uint8_t b) { return (b & 0xC0u) == 0x80u; };
    std::size_t i = skip_ascii_words(s, 0);
    while (i < n) {
        const std::uint8_t b0 = at(i);
        if (b0 < 0x80) {
            // MQTT-1.5.3-2 / MQTT5-1.5.4-2: U+0000 is never allowed.
            if (b0 == 0x00) return errc::malformed_packet;
            ++i;
            // Back in ASCII: try whole words again.
            i = skip_ascii_words(s, i);
            continue;
        }
        if (b0 < 0xC2 || b0 > 0xF4) return errc::malformed_packet;
        if (b0 < 0xE0) {
            if (n - i < 2 || !cont(at(i + 1))) return errc::malformed_packet;
            i += 2;
            continue;
        }
        if (b0 < 0xF0) {
            if (n - i < 3) return errc::malformed_packet;
            const std::uint8_t b1 = at(i + 1);
            // E0: no overlong (A0..BF); ED: no surrogates (80..9F).
            const std::uint8_t lo = b0 == 0xE0 ? 0xA0 : 0x80;
            const std::uint8_t hi = b0 == 0xED ? 0x9F : 0xBF;
            if (b1 < lo || b1 > hi || !cont(at(i + 2))) return errc::malformed_packet;
            i += 3;
            continue;
        }
        if (n - i < 4) return errc::malformed_packet;
        const std::uint8_t b1 = at(i + 1);
        // F0: no overlong (90..BF); F4: nothing above U+10FFFF (80..8F).
        const std::uint8_t lo = b0 == 0xF0 ? 0x90 : 0x80;
        const std::uint8_t hi = b0 == 0xF4 ? 0x8F : 0xBF;
        if (b1 < lo || b1 > hi || !cont(at(i + 2)) || !cont(at(i + 3)))
            return errc::malformed_packet;
        i += 4;
    }
    return errc::success;
}

// Run time: the fast validator for the mandatory rules; the SHOULD-level rules need each code
// point, so they take the general path (with the ASCII word skip unless control characters,
// which are ASCII too, must be looked at).
[[nodiscard]] inline errc validate_utf8_bytes(std::span<const std::byte> s,
                                              utf8_rules rules) noexcept {
    if (!rules.reject_control_characters && !rules.reject_noncharacters)
        return validate_utf8_fast(s);
    return validate_utf8_impl(
        s.size(), [s](std::size_t i) { return static_cast<std::uint8_t>(s[i]); },
        [s](std::size_t i) { return skip_ascii_words(s, i); }, rules);
}

} // namespace detail

/// @brief Validates UTF-8 text under the MQTT rules.
///
/// Rejects ill-formed sequences, overlong forms, surrogates (U+D800..U+DFFF), code points above
/// U+10FFFF and U+0000 (MQTT-1.5.3-1, MQTT-1.5.3-2, MQTT5-1.5.4-1, MQTT5-1.5.4-2); U+FEFF is
/// valid and kept. Length limits are not checked here.
/// @return `errc::success` or `errc::malformed_packet`.
[[nodiscard]] constexpr errc validate_utf8(std::string_view s, utf8_rules rules = {}) noexcept {
    if (!std::is_constant_evaluated())
        return detail::validate_utf8_bytes(std::as_bytes(std::span<const char>(s)), rules);
    return detail::validate_utf8_impl(
        s.size(), [s](std::size_t i) { return static_cast<std::uint8_t>(s[i]); }, rules);
}
/// @overload
[[nodiscard]] constexpr errc validate_utf8(std::span<const std::byte> s,
                                           utf8_rules rules = {}) noexcept {
    if (!std::is_constant_evaluated()) return detail::validate_utf8_bytes(s, rules);
    return detail::validate_utf8_impl(
        s.size(), [s](std::size_t i) { return static_cast<std::uint8_t>(s[i]); }, rules);
}

/// @brief Non-owning UTF-8 Encoded String.
///
/// A decoded `utf8_view` points into the buffer given to `decode_packet` and is valid only while
/// that buffer lives. A `utf8_view` built from a `std::string_view` (to encode) points into the
/// caller's characters. Comparison is byte-exact.
class utf8_view {
  public:
    constexpr utf8_view() noexcept = default;
    constexpr utf8_view(std::string_view s) noexcept : text_(s) {} // NOLINT
    constexpr utf8_view(const char* s) noexcept : text_(std::string_view(s)) {} // NOLINT
    /// @brief Wraps bytes that hold UTF-8 (not validated here).
    constexpr explicit utf8_view(std::span<const std::byte> b) noexcept : text_(b) {}

    [[nodiscard]] constexpr std::size_t size() const noexcept { return text_.size(); }
    [[nodiscard]] constexpr bool empty() const noexcept { return text_.empty(); }
    /// @brief Byte `i` as a char (precondition `i < size()`).
    [[nodiscard]] constexpr char operator[](std::size_t i) const noexcept {
        return static_cast<char>(text_.at(i));
    }
    /// @brief The text as a `std::string_view`. Usable in constant evaluation only for views made
    /// from characters.
    [[nodiscard]] constexpr std::string_view as_string_view() const noexcept {
        return text_.as_chars();
    }
    [[nodiscard]] constexpr std::span<const std::byte> bytes() const noexcept {
        return text_.as_bytes();
    }
    [[nodiscard]] constexpr const detail::byte_text& text() const noexcept { return text_; }

    [[nodiscard]] friend constexpr bool operator==(const utf8_view& a,
                                                   const utf8_view& b) noexcept {
        return a.text_ == b.text_;
    }
    [[nodiscard]] friend constexpr bool operator==(const utf8_view& a,
                                                   std::string_view b) noexcept {
        return a.text_ == detail::byte_text(b);
    }
    [[nodiscard]] friend constexpr bool operator==(const utf8_view& a, const char* b) noexcept {
        return a.text_ == detail::byte_text(std::string_view(b));
    }

  private:
    friend struct detail::text_access;
    detail::byte_text text_{};
};

/// @overload (a template, so that a string literal picks the `std::string_view` overload)
template <std::same_as<utf8_view> View>
[[nodiscard]] constexpr errc validate_utf8(const View& s, utf8_rules rules = {}) noexcept {
    if (!std::is_constant_evaluated()) return detail::validate_utf8_bytes(s.bytes(), rules);
    const auto& t = s.text();
    return detail::validate_utf8_impl(
        t.size(), [&t](std::size_t i) { return t.at(i); }, rules);
}

/// @brief A UTF-8 String Pair (MQTT5-1.5.7-1: both halves follow the UTF-8 string rules).
struct string_pair {
    utf8_view name;
    utf8_view value;
    [[nodiscard]] friend constexpr bool operator==(const string_pair&,
                                                   const string_pair&) noexcept = default;
};

} // namespace mqttwire
