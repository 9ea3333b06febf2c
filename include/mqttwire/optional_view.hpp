#pragma once
/// @file
/// @brief `optional_view<V>`: an optional `utf8_view` or `binary_view` in two words.

#include <optional>
#include <type_traits>

#include "binary_view.hpp"
#include "detail/byte_text.hpp"
#include "utf8.hpp"

namespace mqttwire {

/// @brief An optional string or binary view (CONNECT's User Name and Password), with the
/// interface of `std::optional` that packet code uses, in the size of the view itself: whether
/// a value is held is one spare bit of the view's length, so CONNECT stays small on 32-bit
/// targets. There is no throwing `value()`: test with `has_value()` and use `*` or `->`.
template <class V> class optional_view {
    static_assert(std::is_same_v<V, utf8_view> || std::is_same_v<V, binary_view>,
                  "optional_view holds a utf8_view or a binary_view");

  public:
    using value_type = V;

    constexpr optional_view() noexcept = default;
    constexpr optional_view(std::nullopt_t) noexcept {} // NOLINT(google-explicit-constructor)
    constexpr optional_view(const V& v) noexcept : v_(v) { mark(true); } // NOLINT
    constexpr optional_view(const std::optional<V>& o) noexcept { // NOLINT
        if (o) *this = *o;
    }
    constexpr optional_view& operator=(std::nullopt_t) noexcept {
        reset();
        return *this;
    }
    constexpr optional_view& operator=(const V& v) noexcept {
        v_ = v;
        mark(true);
        return *this;
    }

    [[nodiscard]] constexpr bool has_value() const noexcept { return v_.text().marked(); }
    [[nodiscard]] constexpr explicit operator bool() const noexcept { return has_value(); }
    /// @brief The value; precondition `has_value()`.
    [[nodiscard]] constexpr const V& operator*() const noexcept { return v_; }
    [[nodiscard]] constexpr const V* operator->() const noexcept { return &v_; }
    [[nodiscard]] constexpr V value_or(const V& fallback) const noexcept {
        return has_value() ? v_ : fallback;
    }
    constexpr void reset() noexcept { v_ = V{}; }
    /// @brief The same as a `std::optional` (e.g. to store or compare it).
    [[nodiscard]] constexpr std::optional<V> as_optional() const noexcept {
        if (!has_value()) return std::nullopt;
        return v_;
    }

    [[nodiscard]] friend constexpr bool operator==(const optional_view& a,
                                                   const optional_view& b) noexcept {
        if (a.has_value() != b.has_value()) return false;
        return !a.has_value() || *a == *b;
    }
    [[nodiscard]] friend constexpr bool operator==(const optional_view& a,
                                                   std::nullopt_t) noexcept {
        return !a.has_value();
    }
    [[nodiscard]] friend constexpr bool operator==(const optional_view& a, const V& b) noexcept {
        return a.has_value() && *a == b;
    }

  private:
    constexpr void mark(bool on) noexcept { detail::text_access::text(v_).set_mark(on); }
    V v_{};
};

} // namespace mqttwire
