#include "config.hpp"
#include "text.hpp"

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <limits>
#include <optional>
#include <system_error>
#include <utility>

namespace mqttwire::broker {

namespace {

using namespace text;

// Decimal digits only (no sign, no spaces, no hex); false when empty, not all digits or > max.
// `overflow` tells "too large" apart from "not a number".
bool parse_unsigned(std::string_view s, std::uint64_t max, std::uint64_t& out, bool& overflow) {
    overflow = false;
    if (s.empty()) return false;
    for (const char c : s)
        if (c < '0' || c > '9') return false;
    std::uint64_t v = 0;
    const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec == std::errc::result_out_of_range || (ec == std::errc{} && v > max)) {
        overflow = true;
        return false;
    }
    if (ec != std::errc{} || ptr != s.data() + s.size()) return false;
    out = v;
    return true;
}

class parser {
  public:
    parser(config& out, config_error& err) : out_(out), err_(err) {}

    bool run(std::string_view text) {
        out_ = config{};
        std::size_t line_no = 0;
        bool anonymous_set = false;
        while (!text.empty()) {
            ++line_no;
            const auto nl = text.find('\n');
            const auto raw = text.substr(0, nl);
            text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
            line_ = line_no;
            auto rest = trim(raw);
            if (rest.empty() || rest.front() == '#') continue;
            if (rest.find('\0') != std::string_view::npos) return fail("line contains a NUL byte");
            const auto directive = next_token(rest);
            if (directive == "allow_anonymous") anonymous_set = true;
            if (!directive_line(directive, rest)) return false;
        }
        // mosquitto 2.0: false unless the file sets it, except in local-only mode (no listener).
        if (!anonymous_set) out_.allow_anonymous = out_.listeners.empty();
        return true;
    }

  private:
    bool fail(std::string message) {
        err_.line = line_;
        err_.message = std::move(message);
        return false;
    }

    bool directive_line(std::string_view d, std::string_view args) {
        if (d == "listener") return listener(args);
        if (d == "allow_anonymous") return boolean(d, args, out_.allow_anonymous);
        if (d == "retain_available") return boolean(d, args, out_.retain_available);
        if (d == "password_file") return path(d, args, out_.password_file);
        if (d == "acl_file") return path(d, args, out_.acl_file);
        if (d == "max_packet_size") {
            std::uint64_t v = 0;
            if (!number(d, args, 268'435'460u, v)) return false;
            // mosquitto.conf(5): "Setting below 20 bytes is forbidden". 0 keeps "no limit".
            if (v != 0 && v < 20)
                return fail("max_packet_size: " + std::to_string(v) +
                            " is below the minimum of 20 bytes (use 0 for no limit)");
            out_.max_packet_size = static_cast<std::uint32_t>(v);
            return true;
        }
        if (d == "max_inflight_messages") {
            std::uint64_t v = 0;
            if (!number(d, args, 65535u, v)) return false;
            out_.max_inflight_messages = static_cast<std::uint16_t>(v);
            return true;
        }
        if (d == "max_queued_messages") {
            std::uint64_t v = 0;
            if (!number(d, args,
                        static_cast<std::uint64_t>(std::numeric_limits<std::int32_t>::max()), v))
                return false;
            out_.max_queued_messages = static_cast<std::size_t>(v);
            return true;
        }
        if (d == "max_keepalive") {
            std::uint64_t v = 0;
            if (!number(d, args, 65535u, v)) return false;
            out_.max_keepalive = static_cast<std::uint16_t>(v);
            return true;
        }
        if (d == "max_connections") return max_connections(args);
        if (const auto parsed = bounds(d, args)) return *parsed;
        if (d == "persistent_client_expiration") return expiration(args);
        return fail("unknown directive " + quoted(d));
    }

    // Exactly one blank-free argument.
    bool single(std::string_view d, std::string_view args, std::string_view what,
                std::string_view& value) {
        value = next_token(args);
        if (value.empty()) return fail(std::string(d) + ": missing " + std::string(what));
        if (!args.empty())
            return fail(std::string(d) + ": unexpected extra argument " + quoted(args));
        return true;
    }

    bool boolean(std::string_view d, std::string_view args, bool& out) {
        std::string_view v;
        if (!single(d, args, "value (true or false)", v)) return false;
        if (v == "true") {
            out = true;
        } else if (v == "false") {
            out = false;
        } else {
            return fail(std::string(d) + ": expected true or false, got " + quoted(v));
        }
        return true;
    }

    bool number(std::string_view d, std::string_view args, std::uint64_t max, std::uint64_t& out) {
        std::string_view v;
        if (!single(d, args, "number", v)) return false;
        bool overflow = false;
        if (parse_unsigned(v, max, out, overflow)) return true;
        if (overflow)
            return fail(std::string(d) + ": " + std::string(v) + " is out of range (0.." +
                        std::to_string(max) + ")");
        return fail(std::string(d) + ": expected a non-negative decimal number, got " + quoted(v));
    }

    bool path(std::string_view d, std::string_view args, std::string& out) {
        // The rest of the line, as mosquitto's conf__parse_string takes it: paths may hold spaces.
        if (args.empty()) return fail(std::string(d) + ": missing path");
        if (!out.empty())
            return fail(std::string(d) + ": given more than once (first value " + quoted(out) +
                        ")");
        out.assign(args);
        return true;
    }

    bool listener(std::string_view args) {
        const auto port_s = next_token(args);
        if (port_s.empty()) return fail("listener: missing port");
        const auto address = next_token(args);
        if (!args.empty()) return fail("listener: unexpected extra argument " + quoted(args));
        std::uint64_t port = 0;
        bool overflow = false;
        if (!parse_unsigned(port_s, 65535u, port, overflow) || port == 0)
            return fail("listener: port must be a number from 1 to 65535, got " + quoted(port_s));
        listener_config l;
        l.port = static_cast<std::uint16_t>(port);
        if (!address.empty()) l.address.assign(address);
        for (const auto& other : out_.listeners)
            if (other.port == l.port && other.address == l.address)
                return fail("listener: " + l.address + ":" + std::to_string(l.port) +
                            " is already defined");
        out_.listeners.push_back(std::move(l));
        return true;
    }

    bool max_connections(std::string_view args) {
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
    std::optional<bool> bounds(std::string_view d, std::string_view args) {
        const auto value = [&](std::uint64_t min, std::uint64_t max, std::uint64_t& v) {
            if (!number(d, args, max, v)) return false;
            if (v < min)
                return fail(std::string(d) + ": " + std::to_string(v) +
                            " is below the minimum of " + std::to_string(min));
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
        if (d == "slow_consumer_timeout") {
            if (!value(1, 86400, v)) return false;
            out_.slow_consumer_timeout = std::chrono::seconds(static_cast<std::int64_t>(v));
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

    // mosquitto's format (conf.c, "persistent_client_expiration"): an integer immediately followed
    // by h (hour), d (day), w (7 days), m (30 days) or y (365 days); the result must be > 0.
    bool expiration(std::string_view args) {
        constexpr std::string_view d = "persistent_client_expiration";
        std::string_view v;
        if (!single(d, args, "duration (e.g. 14d)", v)) return false;
        std::uint64_t unit = 0;
        switch (v.back()) {
        case 'h': unit = 3600; break;
        case 'd': unit = 86400; break;
        case 'w': unit = 86400ull * 7; break;
        case 'm': unit = 86400ull * 30; break;
        case 'y': unit = 86400ull * 365; break;
        default:
            return fail(std::string(d) + ": " + quoted(v) +
                        " must be a number followed by h, d, w, m or y (e.g. 14d)");
        }
        const auto digits = v.substr(0, v.size() - 1);
        std::uint64_t n = 0;
        bool overflow = false;
        // Bound so that n * unit fits comfortably in std::chrono::seconds' int64 range.
        constexpr std::uint64_t max_n = 1'000'000'000ull;
        if (!parse_unsigned(digits, max_n, n, overflow)) {
            if (overflow) return fail(std::string(d) + ": " + quoted(v) + " is too long");
            return fail(std::string(d) + ": " + quoted(v) +
                        " must be a number followed by h, d, w, m or y (e.g. 14d)");
        }
        if (n == 0) return fail(std::string(d) + ": the duration must be greater than zero");
        out_.persistent_client_expiration =
            std::chrono::seconds(static_cast<std::int64_t>(n * unit));
        return true;
    }

    config& out_;
    config_error& err_;
    std::size_t line_ = 0;
};

// `base_dir` is "." or ends with '/'.
std::string resolve_relative(const std::string& base_dir, const std::string& p) {
    if (p.empty() || p.front() == '/') return p;
    if (base_dir == ".") return p;
    return base_dir + p;
}

} // namespace

bool parse_config(std::string_view text, config& out, config_error& err) {
    parser p(out, err);
    return p.run(text);
}

bool load_config(const std::string& path, config& out, config_error& err) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (f == nullptr) {
        err.line = 0;
        err.message =
            "cannot open configuration file " + quoted(path) + ": " + std::strerror(errno);
        return false;
    }
    std::string text;
    char chunk[4096];
    std::size_t n = 0;
    while ((n = std::fread(chunk, 1, sizeof chunk, f)) > 0) text.append(chunk, n);
    const bool read_error = std::ferror(f) != 0;
    const int read_errno = errno;
    std::fclose(f);
    if (read_error) {
        err.line = 0;
        err.message =
            "cannot read configuration file " + quoted(path) + ": " + std::strerror(read_errno);
        return false;
    }
    if (!parse_config(text, out, err)) return false;
    const auto slash = path.rfind('/');
    const std::string dir =
        slash == std::string::npos ? std::string(".") : path.substr(0, slash + 1);
    out.password_file = resolve_relative(dir, out.password_file);
    out.acl_file = resolve_relative(dir, out.acl_file);
    return true;
}

} // namespace mqttwire::broker
