#pragma once
/// @file
/// @brief UTF-8 Encoded String validation (MQTT 3.1.1 section 1.5.3, MQTT 5.0 section 1.5.4) and
/// `utf8_view`, the codec's non-owning string type.

#include <bit>
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
// byte in between needs no look (ASCII other than U+0000, and for a topic name other than '+'
// and '#'; the identity in constant evaluation). With `topic_name` it also applies the Topic
// Name rules in the same pass: `errc::topic_name_invalid` for an empty or over-long name or a
// wildcard (MQTT-4.7.1-1, MQTT-4.7.3-1 and their 5.0 twins), reported only when the text is
// well-formed, since ill-formed UTF-8 is `errc::malformed_packet` first (MQTT-3.3.2-1).
template <class At, class Skip>
[[nodiscard]] constexpr errc validate_utf8_impl(std::size_t n, At at, Skip skip,
                                                const utf8_rules& rules,
                                                bool topic_name = false) noexcept {
    bool wildcard = false;
    std::size_t i = 0;
    while (i < n) {
        if (!rules.reject_control_characters) {
            i = skip(i);
            if (i >= n) break;
        }
        const std::uint8_t b0 = at(i++);
        // Continuation bytes after the lead: none after ASCII, 1 after C2..DF, 2 after E0..EF, 3
        // after F0..F4 (the lead's leading one bits, less one). 0x80..0xC1 (continuation or
        // overlong 2-byte lead) and 0xF5..0xFF never start a well-formed sequence
        // (MQTT-1.5.3-1 / MQTT5-1.5.4-1).
        std::size_t more = 0;
        if (b0 >= 0x80) {
            if (b0 < 0xC2 || b0 > 0xF4) return errc::malformed_packet;
            more = static_cast<std::size_t>(std::countl_one(b0)) - 1;
        }
        std::uint32_t cp = b0 & (0x7Fu >> more); // the lead keeps 7, 5, 4 or 3 bits
        for (std::size_t k = 0; k < more; ++k) {
            if (i >= n) return errc::malformed_packet;
            const std::uint8_t b = at(i++);
            if ((b & 0xC0u) != 0x80u) return errc::malformed_packet;
            cp = (cp << 6) | (b & 0x3Fu);
        }
        // Below the smallest code point of its length: U+0000 in one byte (MQTT-1.5.3-2 /
        // MQTT5-1.5.4-2), the overlong forms in three and four (below U+0800, below U+10000; a
        // lead of C2 or more is never overlong). Beyond U+10FFFF, and surrogates (MQTT-1.5.3-1,
        // MQTT5-1.5.4-1).
        if (cp < (std::uint32_t{1} << (5 * more + (more > 1 ? 1 : 0))) || cp > 0x10FFFF ||
            (cp >> 11) == 0x1Bu) // 0xD800..0xDFFF
            return errc::malformed_packet;
        if ((cp | 0x08u) == '+') wildcard = true; // '+' (0x2B) or '#' (0x23)
        if (rules.reject_noncharacters &&
            ((cp >= 0xFDD0 && cp <= 0xFDEF) || (cp & 0xFFFEu) == 0xFFFEu))
            return errc::malformed_packet;
        // U+FEFF (EF BB BF) is kept as is: MQTT-1.5.3-3 / MQTT5-1.5.4-3.
        // U+0001..U+001F, U+007F..U+009F, when the rules refuse control characters.
        if (rules.reject_control_characters && (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F)))
            return errc::malformed_packet;
    }
    if (topic_name && (wildcard || n == 0 || n > 0xFFFF)) return errc::topic_name_invalid;
    return errc::success;
}

template <class At>
[[nodiscard]] constexpr errc validate_utf8_impl(std::size_t n, At at, const utf8_rules& rules,
                                                bool topic_name = false) noexcept {
    return validate_utf8_impl(
        n, at, [](std::size_t i) { return i; }, rules, topic_name);
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

// The one run-time validator every run-time path calls (strings, topics, payloads), so a
// program links one; `topic_name` adds the Topic Name rules in the same pass (see
// validate_utf8_impl). On 64-bit targets plain UTF-8 under the mandatory rules takes the
// word-at-a-time validator, and everything else the general one with plain words skipped (unless
// control characters, ASCII too, must be looked at); on 32-bit targets and in size-optimised
// builds (word_scans off) the general one alone, the smallest code.
[[nodiscard]] inline errc check_text_bytes(std::span<const std::byte> s, const utf8_rules& rules,
                                           bool topic_name) noexcept {
    const auto at = [s](std::size_t i) { return static_cast<std::uint8_t>(s[i]); };
    if constexpr (word_scans) {
        const bool rules_off = !rules.reject_control_characters && !rules.reject_noncharacters;
        if (rules_off && !topic_name) return validate_utf8_fast(s);
        return validate_utf8_impl(
            s.size(), at,
            [s, topic_name](std::size_t i) {
                return topic_name ? skip_plain_topic(s, i) : skip_ascii_words(s, i);
            },
            rules, topic_name);
    } else {
        // The pointer alone, not the span: the loop keeps it in a register.
        const std::byte* p = s.data();
        return validate_utf8_impl(
            s.size(), [p](std::size_t i) { return static_cast<std::uint8_t>(p[i]); }, rules,
            topic_name);
    }
}

[[nodiscard]] inline errc validate_utf8_bytes(std::span<const std::byte> s,
                                              const utf8_rules& rules) noexcept {
    return check_text_bytes(s, rules, false);
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
    if (!std::is_constant_evaluated())
        return detail::validate_utf8_bytes(std::as_bytes(std::span(s.as_string_view())), rules);
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
