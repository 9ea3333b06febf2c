#pragma once
// The kinds of log line, as mosquitto names them in `log_type` (mosquitto.conf(5)): a bit each,
// so a configuration is one mask. Shared by the configuration, the core's logger and the
// destinations that write lines out.

#include <cstdint>
#include <string_view>

namespace mqttwire::broker {

enum class log_type : std::uint32_t {
    error = 1u << 0,
    warning = 1u << 1,
    notice = 1u << 2,
    information = 1u << 3,
    subscribe = 1u << 4,
    unsubscribe = 1u << 5,
    websockets = 1u << 6,
    debug = 1u << 7,
};

/// mosquitto's default when no `log_type` line is given.
inline constexpr std::uint32_t default_log_types = 0x0f; // error, warning, notice, information
inline constexpr std::uint32_t all_log_types = 0xff;

[[nodiscard]] constexpr std::uint32_t bit(log_type t) noexcept {
    return static_cast<std::uint32_t>(t);
}

/// The `log_type` word for one type ("error", ..., "debug"); 0 for anything else.
[[nodiscard]] constexpr std::uint32_t log_type_bits(std::string_view word) noexcept {
    constexpr struct {
        std::string_view name;
        std::uint32_t bits;
    } names[] = {
        {"error", bit(log_type::error)},
        {"warning", bit(log_type::warning)},
        {"notice", bit(log_type::notice)},
        {"information", bit(log_type::information)},
        {"subscribe", bit(log_type::subscribe)},
        {"unsubscribe", bit(log_type::unsubscribe)},
        {"websockets", bit(log_type::websockets)},
        {"debug", bit(log_type::debug)},
        {"all", all_log_types},
    };
    for (const auto& n : names)
        if (n.name == word) return n.bits;
    return 0;
}

/// The level part of mosquitto's `$SYS/broker/log/<level>` topics for `t`.
[[nodiscard]] constexpr std::string_view log_topic(log_type t) noexcept {
    switch (t) {
    case log_type::error: return "$SYS/broker/log/E";
    case log_type::warning: return "$SYS/broker/log/W";
    case log_type::notice: return "$SYS/broker/log/N";
    case log_type::information: return "$SYS/broker/log/I";
    case log_type::subscribe: return "$SYS/broker/log/M/subscribe";
    case log_type::unsubscribe: return "$SYS/broker/log/M/unsubscribe";
    case log_type::websockets: return "$SYS/broker/log/WS";
    case log_type::debug: return "$SYS/broker/log/D";
    }
    return "$SYS/broker/log/E";
}

} // namespace mqttwire::broker
