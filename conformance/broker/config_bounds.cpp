// The resource-bound directives: max_connections and the byte, count and time limits that keep
// one client from taking more than its share (max_inflight_bytes, max_queued_bytes,
// message_size_limit, slow_consumer_timeout, queue_overflow, ...).
#include "config_parser.hpp"
#include "text.hpp"

#include <chrono>
#include <cstdint>
#include <limits>
#include <string>

namespace mqttwire::broker::config_file {

using namespace text;

bool parser::max_connections(std::string_view args) {
    std::string_view v;
    if (!single("max_connections", args, "number", v)) return false;
    if (v == "-1") {
        out_.max_connections = -1;
        return true;
    }
    std::uint64_t n = 0;
    bool overflow = false;
    const auto max = static_cast<std::uint64_t>(std::numeric_limits<std::int32_t>::max());
    if (!parse_unsigned(v, max, n, overflow)) {
        if (overflow)
            return fail("max_connections: " + std::string(v) + " is out of range (-1.." +
                        std::to_string(max) + ")");
        return fail("max_connections: expected -1 (unlimited) or a non-negative number, got " +
                    quoted(v));
    }
    out_.max_connections = static_cast<std::int64_t>(n);
    return true;
}

// The resource-bound directives: nullopt when `d` is not one of them, otherwise whether it
// parsed.
std::optional<bool> parser::bounds(std::string_view d, std::string_view args) {
    const auto value = [&](std::uint64_t min, std::uint64_t max, std::uint64_t& v) {
        if (!number(d, args, max, v)) return false;
        if (v < min)
            return fail(std::string(d) + ": " + std::to_string(v) + " is below the minimum of " +
                        std::to_string(min));
        return true;
    };
    struct size_directive {
        std::string_view name;
        std::uint64_t min, max;
        std::size_t config::*field;
    };
    static constexpr std::uint64_t any = std::uint64_t{1} << 40;
    static constexpr size_directive sizes[] = {
        {"max_inflight_bytes", 0, any, &config::max_inflight_bytes},
        {"max_queued_bytes", 0, any, &config::max_queued_bytes},
        {"max_output_buffer", 1024, any, &config::max_output_buffer},
        {"max_topic_levels", 0, 65535, &config::max_topic_levels},
        {"max_subscriptions", 0, 2147483647, &config::max_subscriptions},
        {"max_subscription_bytes", 0, any, &config::max_subscription_bytes},
    };
    std::uint64_t v = 0;
    for (const auto& sd : sizes) {
        if (d != sd.name) continue;
        if (!value(sd.min, sd.max, v)) return false;
        out_.*sd.field = static_cast<std::size_t>(v);
        return true;
    }
    if (d == "message_size_limit") {
        if (!value(0, 268'435'455u, v)) return false;
        out_.message_size_limit = static_cast<std::uint32_t>(v);
        return true;
    }
    if (d == "max_connect_size") {
        if (!value(128, 268'435'460u, v)) return false;
        out_.max_connect_size = static_cast<std::uint32_t>(v);
        return true;
    }
    if (d == "max_topic_alias_out" || d == "topic_alias_out_min_length") {
        if (!value(0, 65535, v)) return false;
        (d == "max_topic_alias_out" ? out_.max_topic_alias_out : out_.topic_alias_out_min_length) =
            static_cast<std::uint16_t>(v);
        return true;
    }
    if (d == "slow_consumer_timeout") {
        if (!value(1, 86400, v)) return false;
        out_.slow_consumer_timeout = std::chrono::seconds(static_cast<std::int64_t>(v));
        return true;
    }
    if (d == "handshake_timeout") {
        if (!value(1, 3600, v)) return false;
        out_.handshake_timeout = std::chrono::seconds(static_cast<std::int64_t>(v));
        return true;
    }
    if (d == "queue_overflow") {
        std::string_view w;
        if (!single(d, args, "value (block or drop)", w)) return false;
        if (w != "block" && w != "drop")
            return fail("queue_overflow: expected block or drop, got " + quoted(w));
        out_.queue_overflow_drop = w == "drop";
        return true;
    }
    return std::nullopt;
}

} // namespace mqttwire::broker::config_file
