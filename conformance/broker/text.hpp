#pragma once
// Line-oriented text helpers shared by the configuration, password-file and ACL parsers.

#include <cstddef>
#include <string>
#include <string_view>

namespace mqttwire::broker::text {

constexpr bool is_blank(char c) noexcept { return c == ' ' || c == '\t'; }
constexpr bool is_space(char c) noexcept {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

inline std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
    return s;
}

// Splits off the next blank-separated token; `rest` keeps what follows (leading blanks removed).
inline std::string_view next_token(std::string_view& rest) noexcept {
    std::size_t i = 0;
    while (i < rest.size() && !is_blank(rest[i])) ++i;
    const auto token = rest.substr(0, i);
    rest.remove_prefix(i);
    while (!rest.empty() && is_blank(rest.front())) rest.remove_prefix(1);
    return token;
}

inline std::string quoted(std::string_view s) {
    std::string out = "'";
    out.append(s);
    out += '\'';
    return out;
}
// The exact match for a std::string, so that argument-dependent lookup never picks std::quoted
// (of <iomanip>) instead.
inline std::string quoted(const std::string& s) { return quoted(std::string_view(s)); }

} // namespace mqttwire::broker::text
