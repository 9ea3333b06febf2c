#pragma once
/// @file
/// @brief Topic names and filters: validation, `+`/`#` matching with the `$` rule, shared
/// subscriptions and a non-allocating level iterator. All `constexpr`, iterative, O(length).

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "errc.hpp"
#include "utf8.hpp"

namespace mqttwire {

namespace detail {

[[nodiscard]] constexpr errc validate_topic_common(std::string_view t, errc failure) noexcept {
    // MQTT-4.7.3-1 / MQTT5-4.7.3-1: at least one character; MQTT-4.7.3-3 / MQTT5-4.7.3-3: at
    // most 65535 bytes.
    if (t.empty() || t.size() > 0xFFFF) return failure;
    // MQTT-4.7.3-2 / MQTT5-4.7.3-2 (U+0000) and the UTF-8 rules of 1.5.3 / 1.5.4.
    if (validate_utf8(t) != errc::success) return failure;
    return errc::success;
}

[[nodiscard]] constexpr errc validate_topic_name_text(std::string_view t) noexcept {
    if (const auto e = validate_topic_common(t, errc::topic_name_invalid); e != errc::success)
        return e;
    // MQTT-4.7.1-1 / MQTT5-4.7.0-1, MQTT-3.3.2-2 / MQTT5-3.3.2-2: no wildcards in names.
    for (char c : t)
        if (c == '+' || c == '#') return errc::topic_name_invalid;
    return errc::success;
}

[[nodiscard]] constexpr errc validate_topic_filter_text(std::string_view t) noexcept {
    if (const auto e = validate_topic_common(t, errc::topic_filter_invalid); e != errc::success)
        return e;
    for (std::size_t i = 0; i < t.size(); ++i) {
        const char c = t[i];
        const bool level_start = i == 0 || t[i - 1] == '/';
        const bool level_end = i + 1 == t.size() || t[i + 1] == '/';
        if (c == '#') {
            // MQTT-4.7.1-2 / MQTT5-4.7.1-1: alone in its level and the last character.
            if (!level_start || i + 1 != t.size()) return errc::topic_filter_invalid;
        } else if (c == '+') {
            // MQTT-4.7.1-3 / MQTT5-4.7.1-2: fills the whole level.
            if (!level_start || !level_end) return errc::topic_filter_invalid;
        }
    }
    return errc::success;
}

// Both arguments valid. Iterative, one pass over each string.
[[nodiscard]] constexpr bool topic_matches_text(std::string_view f, std::string_view n) noexcept {
    // MQTT-4.7.2-1 / MQTT5-4.7.2-1: a filter starting with a wildcard never matches a name
    // starting with '$'.
    if (!n.empty() && n[0] == '$' && !f.empty() && (f[0] == '+' || f[0] == '#')) return false;
    std::size_t fi = 0;
    std::size_t ni = 0;
    while (true) {
        // At the start of a level in both.
        if (fi < f.size() && f[fi] == '#') return true; // matches this level and all below
        std::size_t fe = f.find('/', fi);
        if (fe == std::string_view::npos) fe = f.size();
        std::size_t ne = n.find('/', ni);
        if (ne == std::string_view::npos) ne = n.size();
        const auto flevel = f.substr(fi, fe - fi);
        if (!(flevel.size() == 1 && flevel[0] == '+') && flevel != n.substr(ni, ne - ni))
            return false; // MQTT-4.7.3-4: byte-exact comparison
        const bool f_last = fe == f.size();
        const bool n_last = ne == n.size();
        if (n_last) {
            if (f_last) return true;
            // "a/#" matches "a": the filter's remaining part must be exactly "/#".
            return f.size() - fe == 2 && f[fe + 1] == '#';
        }
        if (f_last) return false;
        fi = fe + 1;
        ni = ne + 1;
    }
}

} // namespace detail

/// @brief Validates a Topic Name (the topic of PUBLISH, a will, a Response Topic).
///
/// The `utf8_view` overloads are templates so that a string literal picks the
/// `std::string_view` overload instead of being ambiguous.
/// @return `errc::success`, or `errc::topic_name_invalid` for an empty name, more than 65535
/// bytes, ill-formed UTF-8 or U+0000, or a `+`/`#` anywhere (MQTT-4.7.1-1, MQTT-4.7.3-1,
/// MQTT-4.7.3-2, MQTT-4.7.3-3 and their 5.0 twins).
[[nodiscard]] constexpr errc validate_topic_name(std::string_view name) noexcept {
    return detail::validate_topic_name_text(name);
}
/// @overload
template <std::same_as<utf8_view> View>
[[nodiscard]] constexpr errc validate_topic_name(const View& name) noexcept {
    if (std::is_constant_evaluated() && !name.text().from_chars()) {
        // Byte-backed views in constant evaluation: check byte by byte.
        if (name.empty() || name.size() > 0xFFFF || validate_utf8(name) != errc::success)
            return errc::topic_name_invalid;
        for (std::size_t i = 0; i < name.size(); ++i)
            if (name[i] == '+' || name[i] == '#') return errc::topic_name_invalid;
        return errc::success;
    }
    return detail::validate_topic_name_text(name.as_string_view());
}

/// @brief Validates a Topic Filter (SUBSCRIBE, UNSUBSCRIBE).
/// @return `errc::success`, or `errc::topic_filter_invalid` for an empty filter, more than 65535
/// bytes, bad UTF-8, a `#` not alone in the last level or a `+` sharing its level
/// (MQTT-4.7.1-2, MQTT-4.7.1-3 and their 5.0 twins).
[[nodiscard]] constexpr errc validate_topic_filter(std::string_view filter) noexcept {
    return detail::validate_topic_filter_text(filter);
}
/// @overload
template <std::same_as<utf8_view> View>
[[nodiscard]] constexpr errc validate_topic_filter(const View& filter) noexcept {
    return detail::validate_topic_filter_text(filter.as_string_view());
}

/// @brief True when the valid topic name `name` matches the valid filter `filter`.
///
/// `+` matches exactly one level (also an empty one), `#` matches its parent level and every level
/// below, levels compare byte for byte, and filters starting with a wildcard never match names
/// starting with `$` (MQTT-4.7.2-1). Example: `topic_matches("salon/+/cmd", "salon/luz/cmd")`.
[[nodiscard]] constexpr bool topic_matches(std::string_view filter,
                                           std::string_view name) noexcept {
    return detail::topic_matches_text(filter, name);
}
/// @overload
template <std::same_as<utf8_view> View>
[[nodiscard]] constexpr bool topic_matches(const View& filter, const View& name) noexcept {
    return detail::topic_matches_text(filter.as_string_view(), name.as_string_view());
}
/// @overload
template <std::same_as<utf8_view> View>
[[nodiscard]] constexpr bool topic_matches(std::string_view filter, const View& name) noexcept {
    return detail::topic_matches_text(filter, name.as_string_view());
}
/// @overload
template <std::same_as<utf8_view> View>
[[nodiscard]] constexpr bool topic_matches(const View& filter, std::string_view name) noexcept {
    return detail::topic_matches_text(filter.as_string_view(), name);
}

/// @brief A `$share/{ShareName}/{filter}` subscription split into its parts.
struct shared_subscription {
    std::string_view share_name;
    std::string_view filter;
};

/// @brief True when `filter` starts with `$share/` (MQTT 5.0 section 4.8.2).
[[nodiscard]] constexpr bool is_shared_subscription(std::string_view filter) noexcept {
    return filter.starts_with("$share/");
}

/// @brief Splits a shared subscription filter.
/// @return `errc::topic_filter_invalid` when the ShareName is empty or holds `/`, `+` or `#`, or
/// when no filter follows (MQTT5-4.8.2-1, MQTT5-4.8.2-2), or when the inner filter is invalid;
/// `errc::invalid_argument` when `filter` does not start with `$share/`.
[[nodiscard]] constexpr errc parse_shared_subscription(std::string_view filter,
                                                       shared_subscription& out) noexcept {
    if (!is_shared_subscription(filter)) return errc::invalid_argument;
    const auto rest = filter.substr(7);
    const auto slash = rest.find('/');
    if (slash == std::string_view::npos || slash == 0) return errc::topic_filter_invalid;
    const auto name = rest.substr(0, slash);
    for (char c : name)
        if (c == '+' || c == '#') return errc::topic_filter_invalid;
    const auto inner = rest.substr(slash + 1);
    if (const auto e = validate_topic_filter(inner); e != errc::success) return e;
    out = {name, inner};
    return errc::success;
}

/// @brief Iterates over the levels of a topic name or filter without allocating:
/// `"a//b"` gives `"a"`, `""`, `"b"`; `""` gives one empty level.
class topic_levels {
  public:
    constexpr explicit topic_levels(std::string_view topic) noexcept : topic_(topic) {}

    class iterator {
      public:
        using value_type = std::string_view;
        using difference_type = std::ptrdiff_t;
        constexpr iterator() noexcept = default;
        constexpr iterator(std::string_view t, std::size_t pos) noexcept : t_(t), pos_(pos) {
            find_end();
        }
        [[nodiscard]] constexpr std::string_view operator*() const noexcept {
            return t_.substr(pos_, end_ - pos_);
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
        friend class topic_levels;
    };

    [[nodiscard]] constexpr iterator begin() const noexcept { return {topic_, 0}; }
    [[nodiscard]] constexpr iterator end() const noexcept { return {}; }

  private:
    std::string_view topic_;
};

} // namespace mqttwire
