#pragma once
/// @file
/// @brief Topic names and filters: validation, `+`/`#` matching with the `$` rule, shared
/// subscriptions and a non-allocating level iterator.
///
/// Everything here is `constexpr`, `noexcept`, iterative (no recursion, no level cap) and runs in
/// O(length) with no allocation, so it is usable in `static_assert` and on microcontrollers.
/// Both `std::string_view` and the codec's `utf8_view` (char- or byte-backed, also in constant
/// evaluation) are accepted.

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <ranges>
#include <string_view>
#include <type_traits>

#include "detail/string_slice.hpp"
#include "detail/scan.hpp"
#include "errc.hpp"
#include "utf8.hpp"

namespace mqttwire {

namespace detail {

/// Longest Topic Name or Topic Filter: a UTF-8 Encoded String has a 2-byte length
/// (MQTT-1.5.3 / MQTT5-1.5.4; 4.7.3: "MUST NOT encode to more than 65,535 bytes").
inline constexpr std::size_t max_topic_length = 0xFFFF;

// Byte `i` of a string_view or of a utf8_view, as an unsigned value. Generic code below is
// written against this so that byte-backed utf8_views work in constant evaluation too.
[[nodiscard]] constexpr std::uint8_t topic_byte(std::string_view t, std::size_t i) noexcept {
    return static_cast<std::uint8_t>(t[i]);
}
[[nodiscard]] constexpr std::uint8_t topic_byte(const utf8_view& t, std::size_t i) noexcept {
    return t.text().at(i);
}

// Shared by names and filters: length (MQTT-4.7.3-1, MQTT-4.7.3-3 and 5.0 twins) and the UTF-8
// rules (MQTT-4.7.3-2 / MQTT5-4.7.3-2 for U+0000; MQTT-1.5.3-1 / MQTT5-1.5.4-1 well-formedness).
// `from` is a position before which the text is known to be plain ASCII without U+0000.
template <class Text>
[[nodiscard]] constexpr bool topic_text_ok(const Text& t, std::size_t from,
                                           utf8_rules rules) noexcept {
    const std::size_t n = t.size();
    // MQTT-4.7.3-1 / MQTT5-4.7.3-1: at least one character.
    if (n == 0 || n > max_topic_length) return false;
    if (rules.reject_control_characters) {
        from = 0; // every byte must be looked at
    } else {
        // Skip the ASCII that needs no check, then hand the rest to the UTF-8 validator.
        while (from < n) {
            const std::uint8_t b = topic_byte(t, from);
            if (b == 0 || b >= 0x80) break;
            ++from;
        }
        if (from == n) return true;
    }
    if constexpr (std::is_same_v<Text, std::string_view>) {
        if (!std::is_constant_evaluated())
            return validate_utf8_bytes(std::as_bytes(std::span<const char>(t)).subspan(from),
                                       rules) == errc::success;
    }
    return validate_utf8_impl(
               n - from, [&t, from](std::size_t i) { return topic_byte(t, from + i); },
               rules) == errc::success;
}

// The Topic Name rules and the UTF-8 rules in one pass (validate_utf8_impl with `topic_name`):
// `errc::malformed_packet` for ill-formed UTF-8 (what a PUBLISH reports, MQTT-3.3.2-1),
// `errc::topic_name_invalid` for the rest (MQTT-4.7.1-1 / MQTT5-4.7.0-1, MQTT-3.3.2-2 /
// MQTT5-3.3.2-2, MQTT5-3.3.2-14: no wildcard; MQTT-4.7.3-1..3: length).
template <class Text>
[[nodiscard]] constexpr errc check_topic_name(const Text& t, const utf8_rules& rules) noexcept {
    if constexpr (std::is_same_v<Text, std::string_view>) {
        if (!std::is_constant_evaluated())
            return check_text_bytes(std::as_bytes(std::span<const char>(t)), rules, true);
    }
    return validate_utf8_impl(
        t.size(), [&t](std::size_t i) { return topic_byte(t, i); }, rules, true);
}

// As validate_topic_name reports it: every failure is a Topic Name error.
template <class Text>
[[nodiscard]] constexpr errc validate_topic_name_impl(const Text& t, utf8_rules rules) noexcept {
    return check_topic_name(t, rules) == errc::success ? errc::success : errc::topic_name_invalid;
}

template <class Text>
[[nodiscard]] constexpr errc validate_topic_filter_impl(const Text& t, utf8_rules rules) noexcept {
    const std::size_t n = t.size();
    for (std::size_t i = 0; i < n; ++i) {
        const std::uint8_t b = topic_byte(t, i);
        if (b != '+' && b != '#') continue;
        const bool level_start = i == 0 || topic_byte(t, i - 1) == '/';
        if (!level_start) return errc::topic_filter_invalid;
        if (b == '#') {
            // MQTT-4.7.1-2 / MQTT5-4.7.1-1: '#' alone in its level and the last character.
            if (i + 1 != n) return errc::topic_filter_invalid;
        } else if (i + 1 != n && topic_byte(t, i + 1) != '/') {
            // MQTT-4.7.1-3 / MQTT5-4.7.1-2: '+' fills its whole level.
            return errc::topic_filter_invalid;
        }
    }
    if (!topic_text_ok(t, 0, rules)) return errc::topic_filter_invalid;
    return errc::success;
}

template <class T>
concept topic_argument =
    std::same_as<T, utf8_view> || std::is_convertible_v<const T&, std::string_view>;

template <class T> [[nodiscard]] constexpr auto as_topic_text(const T& t) noexcept {
    if constexpr (std::same_as<T, utf8_view>) return t;
    else return std::string_view(t);
}
[[nodiscard]] constexpr std::string_view chars_of(std::string_view t) noexcept { return t; }
[[nodiscard]] constexpr std::string_view chars_of(const utf8_view& t) noexcept {
    return t.as_string_view();
}

// Matching. Preconditions (not checked beyond memory safety): both arguments valid. An invalid
// filter is compared literally where its wildcards are misplaced, so it matches no valid name.
template <class F, class N>
[[nodiscard]] constexpr bool topic_matches_impl(const F& f, const N& n) noexcept {
    const std::size_t fs = f.size();
    const std::size_t ns = n.size();
    // MQTT-4.7.3-1: empty names and filters are invalid and match nothing.
    if (fs == 0 || ns == 0) return false;
    // MQTT-4.7.2-1 / MQTT5-4.7.2-1: a filter starting with a wildcard never matches a name
    // starting with '$'.
    const std::uint8_t f0 = topic_byte(f, 0);
    if (topic_byte(n, 0) == '$' && (f0 == '+' || f0 == '#')) return false;
    std::size_t i = 0; // filter position, at the start of a level
    std::size_t j = 0; // name position, at the start of a level
    while (true) {
        const std::uint8_t c = i < fs ? topic_byte(f, i) : 0;
        if (c == '#' && i + 1 == fs) return true; // '#' matches this level and all below
        if (c == '+' && (i + 1 == fs || topic_byte(f, i + 1) == '/')) {
            // '+' matches exactly one level, also an empty one.
            ++i;
            while (j < ns && topic_byte(n, j) != '/') ++j;
        } else {
            // MQTT-4.7.3-4 / MQTT5-4.7.3-4: byte-exact, no normalization, no case folding.
            while (i < fs) {
                const std::uint8_t fc = topic_byte(f, i);
                if (fc == '/') break;
                if (j == ns || topic_byte(n, j) != fc) return false;
                ++i;
                ++j;
            }
            if (j < ns && topic_byte(n, j) != '/') return false;
        }
        // Both at a '/' or at their end.
        if (j == ns) {
            if (i == fs) return true;
            // "a/#" matches "a": '#' also matches the parent level (MQTT 4.7.1.2).
            return fs - i == 2 && topic_byte(f, i + 1) == '#';
        }
        if (i == fs) return false;
        ++i;
        ++j;
    }
}

} // namespace detail

/// @brief Validates a Topic Name (the topic of PUBLISH, a will, a Response Topic).
///
/// @return `errc::success`, or `errc::topic_name_invalid` (reason code 0x90) for an empty name
/// (MQTT-4.7.3-1), more than 65535 bytes, ill-formed UTF-8 or U+0000 (MQTT-4.7.3-2,
/// MQTT-1.5.3-1), or a `+`/`#` anywhere (MQTT-4.7.1-1, MQTT-3.3.2-2, and the 5.0 twins
/// MQTT5-4.7.0-1, MQTT5-3.3.2-2, MQTT5-3.3.2-14).
///
/// Example: `validate_topic_name("salon/luz/stat") == errc::success`.
[[nodiscard]] constexpr errc validate_topic_name(std::string_view name) noexcept {
    return detail::validate_topic_name_impl(name, {});
}
/// @overload
/// (A template, so that a string literal picks the `std::string_view` overload unambiguously.)
template <std::same_as<utf8_view> U>
[[nodiscard]] constexpr errc validate_topic_name(const U& name) noexcept {
    if (std::is_constant_evaluated() && !name.text().from_chars())
        return detail::validate_topic_name_impl(name, {}); // byte-backed, compile time
    return validate_topic_name(name.as_string_view());
}
/// @brief As above, with the SHOULD-level UTF-8 rules of `rules` (control characters,
/// non-characters; MQTT5 section 1.5.4) applied too.
[[nodiscard]] constexpr errc validate_topic_name(std::string_view name,
                                                 utf8_rules rules) noexcept {
    return detail::validate_topic_name_impl(name, rules);
}

/// @brief Validates a Topic Filter (SUBSCRIBE, UNSUBSCRIBE), including the inner filter of a
/// shared subscription (the `$share/` prefix itself is plain text to this function).
///
/// @return `errc::success`, or `errc::topic_filter_invalid` (reason code 0x8F) for an empty
/// filter, more than 65535 bytes, ill-formed UTF-8 or U+0000 (MQTT-4.7.3-1, MQTT-4.7.3-2), a `#`
/// that is not alone in the last level (MQTT-4.7.1-2 / MQTT5-4.7.1-1) or a `+` that shares its
/// level (MQTT-4.7.1-3 / MQTT5-4.7.1-2).
///
/// Example: `validate_topic_filter("salon/+/stat") == errc::success`,
/// `validate_topic_filter("salon/#/stat") == errc::topic_filter_invalid`.
[[nodiscard]] constexpr errc validate_topic_filter(std::string_view filter) noexcept {
    return detail::validate_topic_filter_impl(filter, {});
}
/// @overload
template <std::same_as<utf8_view> U>
[[nodiscard]] constexpr errc validate_topic_filter(const U& filter) noexcept {
    if (std::is_constant_evaluated() && !filter.text().from_chars())
        return detail::validate_topic_filter_impl(filter, {});
    return detail::validate_topic_filter_impl(filter.as_string_view(), {});
}
/// @brief As above, with the SHOULD-level UTF-8 rules of `rules` applied too.
[[nodiscard]] constexpr errc validate_topic_filter(std::string_view filter,
                                                   utf8_rules rules) noexcept {
    return detail::validate_topic_filter_impl(filter, rules);
}

/// @brief True when `filter` holds a `+` or `#` wildcard. A server without wildcard support
/// rejects such subscriptions (MQTT-3.8.3-2; MQTT 5.0 answers 0xA2, Wildcard Subscriptions not
/// supported). Precondition: `filter` is valid.
[[nodiscard]] constexpr bool topic_filter_has_wildcards(std::string_view filter) noexcept {
    return filter.find_first_of("+#") != std::string_view::npos;
}

/// @brief True when the valid topic name `name` matches the valid filter `filter`.
///
/// `+` matches exactly one level (also an empty one), `#` matches its parent level and every level
/// below, levels compare byte for byte (MQTT-4.7.3-4), and filters starting with a wildcard never
/// match names starting with `$` (MQTT-4.7.2-1). Iterative, one pass, no allocation. Invalid
/// arguments are memory-safe and give an unspecified answer (empty ones give false).
///
/// Example: `topic_matches("salon/+/cmd", "salon/luz/cmd")`, `topic_matches("salon/#", "salon")`.
[[nodiscard]] constexpr bool topic_matches(std::string_view filter,
                                           std::string_view name) noexcept {
    return detail::topic_matches_impl(filter, name);
}
/// @overload
/// Any mix of `utf8_view` and text convertible to `std::string_view`, at least one `utf8_view`.
template <class F, class N>
    requires((std::same_as<F, utf8_view> || std::same_as<N, utf8_view>) &&
             detail::topic_argument<F> && detail::topic_argument<N>)
[[nodiscard]] constexpr bool topic_matches(const F& filter, const N& name) noexcept {
    const auto f = detail::as_topic_text(filter);
    const auto n = detail::as_topic_text(name);
    if (std::is_constant_evaluated()) return detail::topic_matches_impl(f, n);
    return detail::topic_matches_impl(detail::chars_of(f), detail::chars_of(n));
}

/// @brief A `$share/{ShareName}/{filter}` subscription split into its parts (views into the
/// original text).
struct shared_subscription {
    std::string_view share_name;
    std::string_view filter;
};

/// @brief True when `filter` starts with `$share/` (MQTT 5.0 section 4.8.2). In MQTT 3.1.1 such a
/// filter is an ordinary filter; the caller decides by protocol version.
[[nodiscard]] constexpr bool is_shared_subscription(std::string_view filter) noexcept {
    return detail::starts_with(filter, "$share/");
}

/// @brief Splits a shared subscription filter `$share/{ShareName}/{filter}`.
///
/// @return `errc::success` and `out` set; `errc::invalid_argument` when `filter` does not start
/// with `$share/` (`out` untouched); `errc::topic_filter_invalid` when the whole text is not a
/// valid filter (length, UTF-8), the ShareName is empty (MQTT5-4.8.2-1), holds `+` or `#`, is not
/// followed by `/` and a valid topic filter (MQTT5-4.8.2-2). A `/` ends the ShareName, so it can
/// never hold one.
///
/// Example: `$share/consumers/sport/#` gives share name `consumers`, filter `sport/#`.
[[nodiscard]] constexpr errc parse_shared_subscription(std::string_view filter,
                                                       shared_subscription& out) noexcept {
    if (!is_shared_subscription(filter)) return errc::invalid_argument;
    // Length and UTF-8 of the ShareName are those of the whole filter string (MQTT5-4.7.3-1..3).
    if (!detail::topic_text_ok(filter, 0, {})) return errc::topic_filter_invalid;
    constexpr std::size_t prefix = 7; // "$share/"
    const auto rest = detail::slice(filter, prefix);
    const auto slash = rest.find('/');
    // MQTT5-4.8.2-1: at least one character; MQTT5-4.8.2-2: followed by '/'.
    if (slash == std::string_view::npos || slash == 0) return errc::topic_filter_invalid;
    const auto name = detail::slice(rest, 0, slash);
    // MQTT5-4.8.2-2: no '+' or '#' in the ShareName.
    if (name.find_first_of("+#") != std::string_view::npos) return errc::topic_filter_invalid;
    const auto inner = detail::slice(rest, slash + 1);
    // MQTT5-4.8.2-2: the '/' is followed by a Topic Filter.
    if (validate_topic_filter(inner) != errc::success) return errc::topic_filter_invalid;
    out = {name, inner};
    return errc::success;
}

/// @brief The levels of a topic name or filter, split on `/` without allocating:
/// `"a//b"` gives `"a"`, `""`, `"b"`; `"/"` gives `""`, `""`; `""` gives one empty level.
/// A forward range of `std::string_view` into the original text; usable in constant evaluation.
class topic_levels : public std::ranges::view_base {
  public:
    constexpr topic_levels() noexcept = default;
    constexpr explicit topic_levels(std::string_view topic) noexcept : topic_(topic) {}

    class iterator {
      public:
        using value_type = std::string_view;
        using difference_type = std::ptrdiff_t;
        using iterator_concept = std::forward_iterator_tag;
        using iterator_category = std::forward_iterator_tag;
        constexpr iterator() noexcept = default;
        constexpr iterator(std::string_view t, std::size_t pos) noexcept : t_(t), pos_(pos) {
            find_end();
        }
        [[nodiscard]] constexpr std::string_view operator*() const noexcept {
            return detail::slice(t_, pos_, end_ - pos_);
        }
        constexpr iterator& operator++() noexcept {
            pos_ = end_ == t_.size() ? npos : end_ + 1;
            find_end();
            return *this;
        }
        constexpr iterator operator++(int) noexcept {
            auto copy = *this;
            ++*this;
            return copy;
        }
        /// Iterators compare by position (compare only iterators of the same text).
        [[nodiscard]] friend constexpr bool operator==(const iterator& a,
                                                       const iterator& b) noexcept {
            return a.pos_ == b.pos_;
        }

      private:
        static constexpr std::size_t npos = static_cast<std::size_t>(-1);
        constexpr void find_end() noexcept {
            if (pos_ == npos) return;
            const auto e = t_.find('/', pos_);
            end_ = e == std::string_view::npos ? t_.size() : e;
        }
        std::string_view t_{};
        std::size_t pos_ = npos;
        std::size_t end_ = 0;
    };

    [[nodiscard]] constexpr iterator begin() const noexcept { return {topic_, 0}; }
    [[nodiscard]] constexpr iterator end() const noexcept { return {}; }

  private:
    std::string_view topic_{};
};

namespace detail {

// The Topic Name and UTF-8 rules of a topic to encode or decode (PUBLISH, a will) in one pass:
// success, `malformed_packet` for ill-formed UTF-8 (MQTT-3.3.2-1 / MQTT5-3.3.2-1) or
// `topic_name_invalid` (MQTT-3.3.2-2 / MQTT5-3.3.2-2, MQTT-4.7.3-1). A plain ASCII topic needs
// only the fast scan, inlined into the PUBLISH paths in fast builds (MQTTWIRE_FORCE_INLINE), so a
// second caller (a will's topic) does not change how they are compiled.
[[nodiscard]] MQTTWIRE_FORCE_INLINE constexpr errc
topic_name_check(const utf8_view& t, const utf8_rules& rules) noexcept {
    if (!small_code && !std::is_constant_evaluated() && !rules.reject_control_characters &&
        t.size() <= max_topic_length && is_plain_topic(t.bytes()))
        return errc::success;
    if (std::is_constant_evaluated() && !t.text().from_chars()) return check_topic_name(t, rules);
    return check_topic_name(t.as_string_view(), rules);
}

} // namespace detail

} // namespace mqttwire

template <> inline constexpr bool std::ranges::enable_borrowed_range<mqttwire::topic_levels> = true;
