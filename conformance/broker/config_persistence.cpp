// Persistence directives (persistence, persistence_location, persistence_file,
// autosave_interval, autosave_on_changes, persistence_sync) and how long a persistent client's
// session is kept (persistent_client_expiration).
#include "config_parser.hpp"
#include "text.hpp"

#include <chrono>
#include <cstdint>
#include <string>

namespace mqttwire::broker::config_file {

using namespace text;

// persistence, persistence_location, persistence_file, autosave_interval,
// autosave_on_changes, persistence_sync: nullopt when `d` is none of them.
std::optional<bool> parser::persistence(std::string_view d, std::string_view args) {
    if (d == "persistence") return boolean(d, args, out_.persistence);
    if (d == "autosave_on_changes") return boolean(d, args, out_.autosave_on_changes);
    if (d == "persistence_sync") return boolean(d, args, out_.persistence_sync);
    if (d == "persistence_location") {
        if (args.empty()) return fail("persistence_location: missing directory");
        out_.persistence_location.assign(args);
        return true;
    }
    if (d == "persistence_file") {
        if (args.empty()) return fail("persistence_file: missing file name");
        if (args.find('/') != std::string_view::npos)
            return fail("persistence_file: " + quoted(args) +
                        " is a path; give a file name and the directory with "
                        "persistence_location");
        out_.persistence_file.assign(args);
        return true;
    }
    if (d == "autosave_interval") {
        std::uint64_t v = 0;
        if (!number(d, args, 2147483647u, v)) return false;
        out_.autosave_interval = std::chrono::seconds(static_cast<std::int64_t>(v));
        return true;
    }
    return std::nullopt;
}

// mosquitto's format (conf.c, "persistent_client_expiration"): an integer immediately followed
// by h (hour), d (day), w (7 days), m (30 days) or y (365 days); the result must be > 0.
bool parser::expiration(std::string_view args) {
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
    out_.persistent_client_expiration = std::chrono::seconds(static_cast<std::int64_t>(n * unit));
    return true;
}

} // namespace mqttwire::broker::config_file
