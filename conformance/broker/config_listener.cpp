// Listener blocks: `listener PORT [ADDRESS]`, the directives that apply to the listener above
// them (protocol, TLS files and options), the security settings that per_listener_settings
// moves into them, and the checks of each block once the whole file is read.
#include "config_parser.hpp"
#include "text.hpp"

#include <cstdint>
#include <string>
#include <utility>

namespace mqttwire::broker::config_file {

using namespace text;

namespace {

constexpr std::string_view listener_directives[] = {"protocol",
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

} // namespace

bool parser::per_listener_settings(std::string_view args) {
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
bool parser::security(std::string_view d, std::string_view args) {
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

bool parser::is_listener_directive(std::string_view d) {
    for (const auto name : listener_directives)
        if (d == name) return true;
    return false;
}

bool parser::listener_directive(std::string_view d, std::string_view args) {
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

bool parser::tls_version_value(std::string_view args, tls_version& out) {
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
bool parser::check_listener(const listener_config& l, const listener_block& block) {
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

bool parser::listener(std::string_view args) {
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

} // namespace mqttwire::broker::config_file
