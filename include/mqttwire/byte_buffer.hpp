#pragma once
/// @file
/// @brief Buffers of `char`, `unsigned char` (`std::uint8_t`) and `signed char` are accepted
/// wherever the codec takes bytes: the concepts behind those overloads.

#include <cstddef>
#include <ranges>
#include <span>
#include <type_traits>

namespace mqttwire {

/// @brief A character type whose buffers hold raw bytes (`std::byte` has its own overloads).
template <class T>
concept byte_like = std::is_same_v<std::remove_cv_t<T>, char> ||
                    std::is_same_v<std::remove_cv_t<T>, unsigned char> ||
                    std::is_same_v<std::remove_cv_t<T>, signed char>;

/// @brief Input bytes in a buffer of a `byte_like` type that outlives the call (an lvalue, or a
/// view such as `std::span<const std::uint8_t>`): decoded views may point into it.
template <class R>
concept byte_like_input = std::ranges::contiguous_range<R> && std::ranges::borrowed_range<R> &&
                          byte_like<std::ranges::range_value_t<R>>;

/// @brief A writable buffer of a `byte_like` type.
template <class R>
concept byte_like_output =
    std::ranges::contiguous_range<R> && byte_like<std::ranges::range_value_t<R>> &&
    !std::is_const_v<std::remove_reference_t<std::ranges::range_reference_t<R>>>;

namespace detail {
/// The bytes of `r`, as the codec reads them (run time only: this reinterprets characters).
template <byte_like_input R> [[nodiscard]] inline std::span<const std::byte> as_input(R&& r) noexcept {
    return std::as_bytes(std::span(std::ranges::data(r), std::ranges::size(r)));
}
template <byte_like_output R> [[nodiscard]] inline std::span<std::byte> as_output(R&& r) noexcept {
    return std::as_writable_bytes(std::span(std::ranges::data(r), std::ranges::size(r)));
}
} // namespace detail

} // namespace mqttwire
