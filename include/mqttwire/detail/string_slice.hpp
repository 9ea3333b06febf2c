#pragma once
// Slicing std::string_view without `substr`: `substr` checks its position and throws
// std::out_of_range, which links the C++ exception runtime (or abort and malloc with
// newlib-nano) into -fno-exceptions firmware even where the position is always valid.

#include <algorithm>
#include <cstddef>
#include <string_view>

namespace mqttwire::detail {

// The `n` characters of `s` from `pos` (fewer at the end; empty past it).
[[nodiscard]] constexpr std::string_view slice(std::string_view s, std::size_t pos,
                                               std::size_t n = std::string_view::npos) noexcept {
    s.remove_prefix(std::min(pos, s.size()));
    if (n < s.size()) s.remove_suffix(s.size() - n);
    return s;
}

[[nodiscard]] constexpr bool starts_with(std::string_view s, std::string_view prefix) noexcept {
    return s.size() >= prefix.size() && slice(s, 0, prefix.size()) == prefix;
}

} // namespace mqttwire::detail
