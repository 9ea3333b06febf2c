// The configuration file read line by line: comments and blank lines, the dispatch of each
// directive to the part of the parser that takes it, the syntax of values (one token, true or
// false, a number, the rest of the line), and the mosquitto directives this broker refuses by
// name.
#include "config_parser.hpp"
#include "text.hpp"

#include <charconv>
#include <limits>
#include <system_error>
#include <utility>

namespace mqttwire::broker::config_file {

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

bool parser::run(std::string_view text, std::string base_dir) {
    out_ = config{};
    base_dir_ = std::move(base_dir);
    if (!lines(text)) return false;
    // mosquitto 2.0: false unless the file sets it, except in local-only mode (no listener).
    if (!anonymous_set_) out_.allow_anonymous = out_.listeners.empty();
    for (std::size_t i = 0; i < out_.listeners.size(); ++i)
        if (!check_listener(out_.listeners[i], blocks_[i])) return false;
    for (const auto& b : out_.bridges) {
        line_ = b.line;
        if (auto e = check_bridge(b); !e.empty()) return fail(std::move(e));
    }
    return true;
}

bool parser::lines(std::string_view text) {
    std::size_t line_no = 0;
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
        if (!directive_line(directive, rest)) return false;
    }
    return true;
}

bool parser::fail(std::string message) {
    err_.file = file_;
    err_.line = line_;
    err_.message = std::move(message);
    return false;
}

bool parser::directive_line(std::string_view d, std::string_view args) {
    if (d == "listener") return listener(args);
    if (d == "per_listener_settings") return per_listener_settings(args);
    if (d == "allow_anonymous" || d == "password_file" || d == "acl_file") return security(d, args);
    if (is_listener_directive(d)) return listener_directive(d, args);
    if (d == "retain_available") return boolean(d, args, out_.retain_available);
    if (d == "topic_alias_out_replace") return boolean(d, args, out_.topic_alias_out_replace);
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
        if (!number(d, args, static_cast<std::uint64_t>(std::numeric_limits<std::int32_t>::max()),
                    v))
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
    if (const auto e = parse_bridge_directive(d, args, line_, out_.bridges))
        return e->empty() || fail(*e);
    if (const auto parsed = dropin(d, args)) return *parsed;
    if (const auto parsed = persistence(d, args)) return *parsed;
    if (const auto why = unsupported(d); !why.empty())
        return fail(std::string(d) + ": not supported by mqttwire-broker (" + std::string(why) +
                    "); remove this line");
    return fail("unknown directive " + quoted(d));
}

// Exactly one blank-free argument.
bool parser::single(std::string_view d, std::string_view args, std::string_view what,
                    std::string_view& value) {
    value = next_token(args);
    if (value.empty()) return fail(std::string(d) + ": missing " + std::string(what));
    if (!args.empty()) return fail(std::string(d) + ": unexpected extra argument " + quoted(args));
    return true;
}

bool parser::boolean(std::string_view d, std::string_view args, bool& out) {
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

bool parser::number(std::string_view d, std::string_view args, std::uint64_t max,
                    std::uint64_t& out) {
    std::string_view v;
    if (!single(d, args, "number", v)) return false;
    bool overflow = false;
    if (parse_unsigned(v, max, out, overflow)) return true;
    if (overflow)
        return fail(std::string(d) + ": " + std::string(v) + " is out of range (0.." +
                    std::to_string(max) + ")");
    return fail(std::string(d) + ": expected a non-negative decimal number, got " + quoted(v));
}

// The rest of the line, as mosquitto's conf__parse_string takes it: paths may hold spaces.
bool parser::rest_of_line(std::string_view d, std::string_view args, std::string_view what,
                          std::string& out) {
    if (args.empty()) return fail(std::string(d) + ": missing " + std::string(what));
    if (!out.empty())
        return fail(std::string(d) + ": given more than once (first value " + text::quoted(out) +
                    ")");
    out.assign(args);
    return true;
}

bool parser::path(std::string_view d, std::string_view args, std::string& out) {
    return rest_of_line(d, args, "path", out);
}

// What mosquitto accepts and this broker does not do: refused by name, with why.
std::string_view parser::unsupported(std::string_view d) {
    constexpr std::string_view plugin = "plugins cannot be loaded; use password_file and acl_file";
    struct entry {
        std::string_view name;
        bool prefix;
        std::string_view why;
    };
    static constexpr entry known[] = {
        {"plugin", false, plugin},
        {"plugin_opt_", true, plugin},
        {"global_plugin", false, plugin},
        {"plugin_load", false, plugin},
        {"plugin_use", false, plugin},
        {"auth_plugin", false, plugin},
        {"auth_plugin_deny_special_chars", false, plugin},
        {"auth_opt_", true, plugin},
        {"psk_file", false, "TLS-PSK is not implemented"},
        {"psk_hint", false, "TLS-PSK is not implemented"},
        {"http_dir", false, "the WebSocket listener serves no files"},
        {"websockets_log_level", false, "no libwebsockets inside"},
        {"websockets_headers_size", false, "no libwebsockets inside"},
        {"mount_point", false, "not implemented"},
        {"bind_interface", false, "not implemented"},
        {"socket_domain", false, "not implemented"},
        {"bind_address", false, "use 'listener PORT ADDRESS'"},
        {"port", false, "use 'listener PORT'"},
        {"use_username_as_clientid", false, "not implemented"},
        {"clientid_prefixes", false, "not implemented"},
        {"max_qos", false, "not implemented"},
        {"max_topic_alias", false, "not implemented"},
        {"queue_qos0_messages", false, "not implemented"},
        {"upgrade_outgoing_qos", false, "not implemented"},
        {"memory_limit", false, "not implemented"},
        {"log_facility", false, "not implemented"},
        {"accept_protocol_versions", false, "not implemented"},
        {"tls_engine", false, "not implemented"},
        {"tls_keyform", false, "not implemented"},
        {"tls_engine_kpass_sha1", false, "not implemented"},
        {"dhparamfile", false, "not implemented"},
        {"connection", false, "this bridge directive is not implemented"},
        {"address", false, "this bridge directive is not implemented"},
        {"addresses", false, "this bridge directive is not implemented"},
        {"bridge_", true, "this bridge directive is not implemented"},
        {"remote_", true, "this bridge directive is not implemented"},
        {"local_", true, "this bridge directive is not implemented"},
        {"notification", true, "this bridge directive is not implemented"},
        {"try_private", false, "this bridge directive is not implemented"},
        {"cleansession", false, "this bridge directive is not implemented"},
        {"restart_timeout", false, "this bridge directive is not implemented"},
        {"keepalive_interval", false, "this bridge directive is not implemented"},
        {"start_type", false, "this bridge directive is not implemented"},
        {"round_robin", false, "this bridge directive is not implemented"},
        {"idle_timeout", false, "this bridge directive is not implemented"},
        {"threshold", false, "this bridge directive is not implemented"},
        {"topic", false, "this bridge directive is not implemented"},
    };
    for (const auto& e : known)
        if (e.prefix ? d.starts_with(e.name) : d == e.name) return e.why;
    return {};
}

} // namespace mqttwire::broker::config_file
