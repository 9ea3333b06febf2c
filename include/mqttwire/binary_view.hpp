#pragma once
/// @file
/// @brief `binary_view`: non-owning Binary Data (payloads, passwords, correlation and auth data).

#include <cstddef>
#include <span>
#include <string_view>

#include "detail/byte_text.hpp"

namespace mqttwire {

/// @brief Non-owning bytes. Decoded values point into the caller's input buffer, which must
/// outlive the view; values to encode point into caller storage (bytes or chars).
class binary_view {
  public:
    constexpr binary_view() noexcept = default;
    constexpr binary_view(std::span<const std::byte> b) noexcept : text_(b) {} // NOLINT
    /// From characters, e.g. a text payload `"ON"`.
    constexpr binary_view(std::string_view s) noexcept : text_(s) {} // NOLINT
    constexpr binary_view(const char* s) noexcept : text_(std::string_view(s)) {} // NOLINT

    [[nodiscard]] constexpr std::size_t size() const noexcept { return text_.size(); }
    [[nodiscard]] constexpr bool empty() const noexcept { return text_.empty(); }
    /// @brief Byte `i` (precondition `i < size()`).
    [[nodiscard]] constexpr std::byte operator[](std::size_t i) const noexcept {
        return std::byte{text_.at(i)};
    }
    /// @brief The bytes (at run time; also in constant evaluation for decoded views).
    [[nodiscard]] constexpr std::span<const std::byte> bytes() const noexcept {
        return text_.as_bytes();
    }
    /// @brief The bytes read as characters (at run time).
    [[nodiscard]] constexpr std::string_view as_string_view() const noexcept {
        return text_.as_chars();
    }
    [[nodiscard]] constexpr const detail::byte_text& text() const noexcept { return text_; }

    [[nodiscard]] friend constexpr bool operator==(const binary_view& a,
                                                   const binary_view& b) noexcept {
        return a.text_ == b.text_;
    }
    [[nodiscard]] friend constexpr bool operator==(const binary_view& a,
                                                   std::string_view b) noexcept {
        return a.text_ == detail::byte_text(b);
    }

  private:
    friend struct detail::text_access;
    detail::byte_text text_{};
};

} // namespace mqttwire
