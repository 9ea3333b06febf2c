#include "bridge/bridge_config.hpp"

#include <charconv>
#include <utility>

#include <mqttwire/topic.hpp>

#include "text.hpp"

namespace mqttwire::broker {

namespace {

using namespace text;

// mosquitto's bridge directives this broker does not implement: named when refused, so a
// configuration never silently loses a setting it relies on.
constexpr std::string_view unsupported[] = {"bridge_alpn",
                                            "bridge_attempt_unsubscribe",
                                            "bridge_bind_address",
                                            "bridge_identity",
                                            "bridge_max_packet_size",
                                            "bridge_max_topic_alias",
                                            "bridge_outgoing_retain",
                                            "bridge_psk",
                                            "bridge_receive_maximum",
                                            "bridge_reload_type",
                                            "bridge_require_ocsp",
                                            "bridge_session_expiry_interval",
                                            "bridge_tcp_keepalive",
                                            "bridge_tcp_user_timeout",
                                            "bridge_tls_version",
                                            "cleansession_local",
                                            "idle_timeout",
                                            "local_cleansession",
                                            "local_password",
                                            "local_username",
                                            "notifications_local_only",
                                            "notification_topic_local",
                                            "round_robin",
                                            "start_type",
                                            "threshold"};

bool to_number(std::string_view s, std::uint64_t max, std::uint64_t& out) {
    if (s.empty()) return false;
    for (const char c : s)
        if (c < '0' || c > '9') return false;
    const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc{} && ptr == s.data() + s.size() && out <= max;
}

// `v` as one of the words of `table`; false when it is none of them.
template <class E, std::size_t N>
bool one_of(std::string_view v, const std::pair<std::string_view, E> (&table)[N], E& out) {
    for (const auto& [word, value] : table)
        if (v == word) {
            out = value;
            return true;
        }
    return false;
}

// `""` is how mosquitto writes an empty pattern or prefix.
std::string_view unquote_empty(std::string_view s) { return s == "\"\"" ? std::string_view{} : s; }

class block_parser {
  public:
    block_parser(std::string_view d, std::string_view args, bridge_config& b)
        : d_(d), args_(args), b_(b) {}

    std::string run() {
        if (d_ == "address" || d_ == "addresses") return address();
        if (d_ == "topic") return topic();
        if (d_ == "remote_username") return string_value(b_.remote_username);
        if (d_ == "remote_password") return string_value(b_.remote_password);
        if (d_ == "remote_clientid") return token(b_.remote_clientid);
        if (d_ == "local_clientid") return token(b_.local_clientid);
        if (d_ == "notification_topic") return token(b_.notification_topic);
        if (d_ == "cleansession") return boolean(b_.cleansession);
        if (d_ == "try_private") return boolean(b_.try_private);
        if (d_ == "notifications") return boolean(b_.notifications);
        if (d_ == "bridge_insecure") return boolean(b_.insecure);
        if (d_ == "bridge_protocol_version") return protocol();
        if (d_ == "keepalive_interval") return keepalive();
        if (d_ == "restart_timeout") return restart_timeout();
        if (d_ == "bridge_cafile") return path(b_.cafile);
        if (d_ == "bridge_capath") return path(b_.capath);
        if (d_ == "bridge_certfile") return path(b_.certfile);
        if (d_ == "bridge_keyfile") return path(b_.keyfile);
        return name() + "is not supported by this broker";
    }

  private:
    std::string name() const { return std::string(d_) + ": "; }

    std::string single(std::string_view what, std::string_view& v) {
        v = next_token(args_);
        if (v.empty()) return name() + "missing " + std::string(what);
        if (!args_.empty()) return name() + "unexpected extra argument " + quoted(args_);
        return {};
    }

    std::string token(std::string& out) {
        std::string_view v;
        if (auto e = single("value", v); !e.empty()) return e;
        out.assign(v);
        return {};
    }

    std::string string_value(std::optional<std::string>& out) {
        std::string_view v;
        if (auto e = single("value", v); !e.empty()) return e;
        out = std::string(v);
        return {};
    }

    std::string path(std::string& out) {
        if (args_.empty()) return name() + "missing path";
        out.assign(args_);
        return {};
    }

    std::string boolean(bool& out) {
        std::string_view v;
        if (auto e = single("value (true or false)", v); !e.empty()) return e;
        if (v != "true" && v != "false") return name() + "expected true or false, got " + quoted(v);
        out = v == "true";
        return {};
    }

    std::string protocol() {
        std::string_view v;
        if (auto e = single("version (mqttv31, mqttv311 or mqttv50)", v); !e.empty()) return e;
        static constexpr std::pair<std::string_view, bridge_protocol> versions[] = {
            {"mqttv31", bridge_protocol::mqttv31},
            {"mqttv311", bridge_protocol::mqttv311},
            {"mqttv50", bridge_protocol::mqttv50}};
        if (!one_of(v, versions, b_.protocol))
            return name() + "expected mqttv31, mqttv311 or mqttv50, got " + quoted(v);
        return {};
    }

    std::string keepalive() {
        std::string_view v;
        if (auto e = single("seconds", v); !e.empty()) return e;
        std::uint64_t n = 0;
        // mosquitto refuses below 5 seconds: a bridge would spend its time on PINGREQs.
        if (!to_number(v, 65535, n) || n < 5)
            return name() + "expected a number of seconds from 5 to 65535, got " + quoted(v);
        b_.keepalive_interval = static_cast<std::uint16_t>(n);
        return {};
    }

    std::string restart_timeout() {
        const auto first = next_token(args_);
        const auto second = next_token(args_);
        if (first.empty()) return name() + "missing seconds";
        if (!args_.empty()) return name() + "unexpected extra argument " + quoted(args_);
        std::uint64_t base = 0;
        std::uint64_t cap = 0;
        if (!to_number(first, 86400, base) || base == 0)
            return name() + "expected seconds from 1 to 86400, got " + quoted(first);
        if (second.empty()) {
            b_.restart_constant = true;
            b_.restart_base = b_.restart_cap = std::chrono::seconds(static_cast<long>(base));
            return {};
        }
        if (!to_number(second, 86400, cap) || cap < base)
            return name() + "the cap must be from " + std::string(first) +
                   " to 86400 seconds, got " + quoted(second);
        b_.restart_constant = false;
        b_.restart_base = std::chrono::seconds(static_cast<long>(base));
        b_.restart_cap = std::chrono::seconds(static_cast<long>(cap));
        return {};
    }

    std::string address() {
        if (args_.empty()) return name() + "missing host[:port]";
        while (!args_.empty()) {
            const auto a = next_token(args_);
            bridge_address out;
            const auto colon = a.rfind(':');
            out.host.assign(a.substr(0, colon));
            if (colon != std::string_view::npos) {
                std::uint64_t port = 0;
                if (!to_number(a.substr(colon + 1), 65535, port) || port == 0)
                    return name() + "port must be a number from 1 to 65535 in " + quoted(a);
                out.port = static_cast<std::uint16_t>(port);
            }
            if (out.host.empty()) return name() + "missing host in " + quoted(a);
            b_.addresses.push_back(std::move(out));
        }
        return {};
    }

    std::string topic() {
        bridge_topic t;
        const auto pattern = next_token(args_);
        if (pattern.empty()) return name() + "missing pattern";
        t.pattern.assign(unquote_empty(pattern));
        static constexpr std::pair<std::string_view, bridge_direction> directions[] = {
            {"in", bridge_direction::in},
            {"out", bridge_direction::out},
            {"both", bridge_direction::both}};
        if (const auto dir = next_token(args_);
            !dir.empty() && !one_of(dir, directions, t.direction))
            return name() + "expected in, out or both, got " + quoted(dir);
        if (const auto q = next_token(args_); !q.empty()) {
            std::uint64_t n = 0;
            if (!to_number(q, 2, n)) return name() + "QoS must be 0, 1 or 2, got " + quoted(q);
            t.qos = static_cast<std::uint8_t>(n);
        }
        const auto local = next_token(args_);
        const auto remote = next_token(args_);
        if (!args_.empty()) return name() + "unexpected extra argument " + quoted(args_);
        if (!local.empty() && remote.empty())
            return name() + "a local prefix needs a remote prefix (use \"\" for none)";
        t.local_prefix.assign(unquote_empty(local));
        t.remote_prefix.assign(unquote_empty(remote));
        for (const auto* prefix : {&t.local_prefix, &t.remote_prefix})
            if (prefix->find_first_of("+#") != std::string::npos)
                return name() + "prefix " + quoted(*prefix) + " may not hold wildcards";
        if (t.pattern.empty() && t.local_prefix.empty() && t.remote_prefix.empty())
            return name() + "an empty pattern needs a prefix";
        for (const auto& f : {t.local_filter(), t.remote_filter()})
            if (validate_topic_filter(f) != errc::success)
                return name() + quoted(f) + " is not a valid topic filter";
        b_.topics.push_back(std::move(t));
        return {};
    }

    std::string_view d_;
    std::string_view args_;
    bridge_config& b_;
};

bool is_bridge_directive(std::string_view d) {
    static constexpr std::string_view known[] = {"address",
                                                 "addresses",
                                                 "topic",
                                                 "remote_username",
                                                 "remote_password",
                                                 "remote_clientid",
                                                 "local_clientid",
                                                 "notification_topic",
                                                 "cleansession",
                                                 "try_private",
                                                 "notifications",
                                                 "bridge_insecure",
                                                 "bridge_protocol_version",
                                                 "keepalive_interval",
                                                 "restart_timeout",
                                                 "bridge_cafile",
                                                 "bridge_certfile",
                                                 "bridge_keyfile",
                                                 "bridge_capath"};
    for (const auto k : known)
        if (d == k) return true;
    for (const auto k : unsupported)
        if (d == k) return true;
    return false;
}

} // namespace

std::optional<std::string> parse_bridge_directive(std::string_view directive, std::string_view args,
                                                  std::size_t line,
                                                  std::vector<bridge_config>& bridges) {
    if (directive == "connection") {
        auto rest = args;
        const auto name = next_token(rest);
        if (name.empty()) return std::string("connection: missing name");
        if (!rest.empty()) return "connection: unexpected extra argument " + quoted(rest);
        for (const auto& b : bridges)
            if (b.name == name) return "connection: " + quoted(name) + " is already defined";
        bridge_config b;
        b.name.assign(name);
        b.line = line;
        bridges.push_back(std::move(b));
        return std::string();
    }
    if (!is_bridge_directive(directive)) return std::nullopt;
    if (bridges.empty()) return std::string(directive) + ": must follow a 'connection' line";
    return block_parser(directive, args, bridges.back()).run();
}

std::string check_bridge(const bridge_config& b) {
    const auto name = "connection " + b.name + ": ";
    if (b.addresses.empty()) return name + "no address";
    if (b.topics.empty()) return name + "no topic";
    // As mosquitto: TLS is on with bridge_cafile or bridge_capath (the CAs the remote broker's
    // certificate is checked against); the rest only with them.
    if (b.wants_tls() && !b.tls_enabled())
        return name + "bridge_certfile, bridge_keyfile and bridge_insecure need bridge_cafile or "
                      "bridge_capath (TLS is off for this bridge)";
    if (b.certfile.empty() != b.keyfile.empty())
        return name + "bridge_certfile and bridge_keyfile go together";
    if (b.remote_password && !b.remote_username && b.protocol != bridge_protocol::mqttv50)
        return name + "remote_password needs remote_username before MQTT 5.0";
    return {};
}

} // namespace mqttwire::broker
