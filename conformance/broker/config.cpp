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
#include <vector>

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
    // What the parser remembers about each listener block besides its listener_config.
    struct listener_block {
        std::size_t line = 0;            // of the `listener` line
        std::string first_tls_directive; // the first directive that asks for TLS
    };

    static constexpr std::string_view listener_directives[] = {"protocol",
                                                               "certfile",
                                                               "keyfile",
                                                               "cafile",
                                                               "capath",
                                                               "crlfile",
                                                               "ciphers",
                                                               "ciphers_tls1.3",
                                                               "tls_version",
                                                               "require_certificate",
                                                               "use_identity_as_username",
                                                               "use_subject_as_username"};

  public:
    parser(config& out, config_error& err) : out_(out), err_(err) {}

    bool run(std::string_view text) {
        out_ = config{};
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

  private:
    bool fail(std::string message) {
        err_.line = line_;
        err_.message = std::move(message);
        return false;
    }

    bool directive_line(std::string_view d, std::string_view args) {
        if (d == "listener") return listener(args);
        if (d == "per_listener_settings") return per_listener_settings(args);
        if (d == "allow_anonymous" || d == "password_file" || d == "acl_file")
            return security(d, args);
        if (is_listener_directive(d)) return listener_directive(d, args);
        if (d == "retain_available") return boolean(d, args, out_.retain_available);
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
        if (const auto e = parse_bridge_directive(d, args, line_, out_.bridges))
            return e->empty() || fail(*e);
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

    // The rest of the line, as mosquitto's conf__parse_string takes it: paths may hold spaces.
    bool rest_of_line(std::string_view d, std::string_view args, std::string_view what,
                      std::string& out) {
        if (args.empty()) return fail(std::string(d) + ": missing " + std::string(what));
        if (!out.empty())
            return fail(std::string(d) + ": given more than once (first value " + quoted(out) +
                        ")");
        out.assign(args);
        return true;
    }

    bool path(std::string_view d, std::string_view args, std::string& out) {
        return rest_of_line(d, args, "path", out);
    }

    bool per_listener_settings(std::string_view args) {
        bool v = false;
        if (!boolean("per_listener_settings", args, v)) return false;
        // mosquitto refuses the same order ("must be set before any other security settings"):
        // the earlier lines would otherwise have gone to the wrong place.
        if (v && security_seen_)
            return fail("per_listener_settings: must come before any allow_anonymous, "
                        "password_file or acl_file line");
        out_.per_listener_settings = v;
        return true;
    }

    // allow_anonymous, password_file, acl_file: global, or per listener with
    // per_listener_settings true.
    bool security(std::string_view d, std::string_view args) {
        security_seen_ = true;
        bool* anonymous = &out_.allow_anonymous;
        std::string* password_file = &out_.password_file;
        std::string* acl_file = &out_.acl_file;
        if (out_.per_listener_settings) {
            if (out_.listeners.empty())
                return fail(std::string(d) +
                            ": with per_listener_settings true it must follow a 'listener' line");
            auto& l = out_.listeners.back();
            // Unset, it stays false: mosquitto's default once the file defines listeners.
            anonymous = &l.allow_anonymous;
            password_file = &l.password_file;
            acl_file = &l.acl_file;
        }
        if (d == "allow_anonymous") {
            if (!out_.per_listener_settings) anonymous_set_ = true;
            return boolean(d, args, *anonymous);
        }
        return path(d, args, d == "password_file" ? *password_file : *acl_file);
    }

    static bool is_listener_directive(std::string_view d) {
        for (const auto name : listener_directives)
            if (d == name) return true;
        return false;
    }

    bool listener_directive(std::string_view d, std::string_view args) {
        if (out_.listeners.empty())
            return fail(std::string(d) +
                        ": must follow a 'listener' line (this broker has no implicit default "
                        "listener to apply it to)");
        auto& l = out_.listeners.back();
        auto& block = blocks_.back();
        auto& tls = l.tls;
        bool asks_for_tls = true;
        bool ok = true;
        if (d == "protocol") {
            asks_for_tls = false;
            std::string_view v;
            if (!single(d, args, "value (mqtt or websockets)", v)) return false;
            if (v == "mqtt") {
                l.protocol = listener_protocol::mqtt;
            } else if (v == "websockets") {
                l.protocol = listener_protocol::websockets;
            } else {
                return fail("protocol: expected mqtt or websockets, got " + quoted(v));
            }
        } else if (d == "certfile" || d == "keyfile") {
            asks_for_tls = false;
            ok = path(d, args, d == "certfile" ? tls.certfile : tls.keyfile);
        } else if (d == "cafile") {
            ok = path(d, args, tls.cafile);
        } else if (d == "capath") {
            ok = path(d, args, tls.capath);
        } else if (d == "crlfile") {
            ok = path(d, args, tls.crlfile);
        } else if (d == "ciphers") {
            ok = rest_of_line(d, args, "cipher list", tls.ciphers);
        } else if (d == "ciphers_tls1.3") {
            ok = rest_of_line(d, args, "ciphersuite list", tls.ciphers_tls13);
        } else if (d == "tls_version") {
            ok = tls_version_value(args, tls.min_version);
        } else {
            bool& flag = d == "require_certificate"        ? tls.require_certificate
                         : d == "use_identity_as_username" ? tls.use_identity_as_username
                                                           : tls.use_subject_as_username;
            ok = boolean(d, args, flag);
            asks_for_tls = flag;
        }
        if (ok && asks_for_tls && block.first_tls_directive.empty())
            block.first_tls_directive.assign(d);
        return ok;
    }

    bool tls_version_value(std::string_view args, tls_version& out) {
        std::string_view v;
        if (!single("tls_version", args, "version (tlsv1.2 or tlsv1.3)", v)) return false;
        if (v == "tlsv1.2") {
            out = tls_version::tls1_2;
        } else if (v == "tlsv1.3") {
            out = tls_version::tls1_3;
        } else if (v == "tlsv1.1" || v == "tlsv1") {
            // mosquitto still accepts tlsv1.1; OpenSSL 3 refuses it at its default security
            // level, and no supported client needs it.
            return fail("tls_version: " + quoted(v) +
                        " is not supported (the minimum is tlsv1.2; use tlsv1.2 or tlsv1.3)");
        } else {
            return fail("tls_version: expected tlsv1.2 or tlsv1.3, got " + quoted(v));
        }
        return true;
    }

    // Settings that ask for TLS must get it (see config.hpp); reported at the listener's line.
    bool check_listener(const listener_config& l, const listener_block& block) {
        line_ = block.line;
        const auto name = "listener " + std::to_string(l.port) + ": ";
        const auto& tls = l.tls;
        if (!tls.certfile.empty() && tls.keyfile.empty())
            return fail(name + "certfile is set but keyfile is not (TLS needs both)");
        if (tls.certfile.empty() && !tls.keyfile.empty())
            return fail(name + "keyfile is set but certfile is not (TLS needs both)");
        if (!tls.enabled() && !block.first_tls_directive.empty())
            return fail(name + block.first_tls_directive +
                        " needs certfile and keyfile (TLS is off on this listener)");
        if (tls.require_certificate && tls.cafile.empty() && tls.capath.empty())
            return fail(name + "require_certificate true needs cafile or capath (the CAs that "
                               "issue client certificates)");
        const char* needs_certificate = !tls.crlfile.empty()           ? "crlfile"
                                        : tls.use_identity_as_username ? "use_identity_as_username"
                                        : tls.use_subject_as_username  ? "use_subject_as_username"
                                                                       : nullptr;
        if (needs_certificate != nullptr && !tls.require_certificate)
            return fail(name + needs_certificate +
                        " needs require_certificate true (otherwise no client certificate is "
                        "requested)");
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
        blocks_.push_back({line_, {}});
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
    bool anonymous_set_ = false; // the global allow_anonymous was given
    bool security_seen_ = false;
    std::vector<listener_block> blocks_; // parallel to out_.listeners
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
    for (auto& l : out.listeners) {
        for (auto* p : {&l.password_file, &l.acl_file, &l.tls.cafile, &l.tls.capath,
                        &l.tls.certfile, &l.tls.keyfile, &l.tls.crlfile})
            *p = resolve_relative(dir, *p);
    }
    for (auto& b : out.bridges)
        for (auto* p : {&b.cafile, &b.capath, &b.certfile, &b.keyfile}) *p = resolve_relative(dir, *p);
    return true;
}

security_settings listener_security(const config& cfg, const listener_config& listener) {
    // Without listeners in the file (local-only mode) nothing can be per listener.
    if (!cfg.per_listener_settings || cfg.listeners.empty())
        return {cfg.allow_anonymous, cfg.password_file, cfg.acl_file};
    return {listener.allow_anonymous, listener.password_file, listener.acl_file};
}

} // namespace mqttwire::broker
