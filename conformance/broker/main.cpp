// mqttwire-broker: the reference broker built on the mqttwire core.
//
//   mqttwire-broker [-p PORT] [-c FILE] [-v]
//
// -p PORT  listen on 127.0.0.1:PORT (default 1883 when the configuration names no listener)
// -c FILE  a mosquitto-style configuration file (see config.hpp for the supported subset)
// -v       log connections and protocol errors to stderr

#include <malloc.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "bridge/bridge.hpp"
#include "config.hpp"
#include "core/broker.hpp"
#include "net/server.hpp"
#include "net/tls_context.hpp"
#include "policy/auth.hpp"

namespace {

void usage(std::FILE* to) {
    std::fputs("usage: mqttwire-broker [-p PORT] [-c FILE] [-v]\n"
               "  -p PORT  listen on 127.0.0.1:PORT (default 1883)\n"
               "  -c FILE  mosquitto-style configuration file\n"
               "  -v       log connections and protocol errors\n",
               to);
}

bool parse_port(const char* s, std::uint16_t& out) {
    char* end = nullptr;
    const long v = std::strtol(s, &end, 10);
    if (end == s || *end != '\0' || v < 0 || v > 65535) return false;
    out = static_cast<std::uint16_t>(v);
    return true;
}

} // namespace

int main(int argc, char** argv) {
    using namespace mqttwire::broker;
    std::optional<std::uint16_t> port;
    std::string config_path;
    bool verbose = false;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "-p" && i + 1 < argc) {
            std::uint16_t p = 0;
            if (!parse_port(argv[++i], p)) {
                std::fprintf(stderr, "mqttwire-broker: invalid port '%s'\n", argv[i]);
                return 2;
            }
            port = p;
        } else if (a == "-c" && i + 1 < argc) {
            config_path = argv[++i];
        } else if (a == "-v" || a == "--verbose") {
            verbose = true;
        } else if (a == "-h" || a == "--help") {
            usage(stdout);
            return 0;
        } else {
            std::fprintf(stderr, "mqttwire-broker: unknown argument '%s'\n", a.c_str());
            usage(stderr);
            return 2;
        }
    }

    // Large buffers (a client's input while a big packet arrives, the output of a slow
    // reader) are freed when they empty; a fixed mmap threshold makes glibc give such blocks
    // back to the system instead of raising the threshold and keeping them in the heap.
    ::mallopt(M_MMAP_THRESHOLD, 256 * 1024);

    config cfg;
    if (!config_path.empty()) {
        config_error err;
        if (!load_config(config_path, cfg, err)) {
            if (err.line != 0)
                std::fprintf(stderr, "mqttwire-broker: %s:%zu: %s\n", config_path.c_str(),
                             err.line, err.message.c_str());
            else
                std::fprintf(stderr, "mqttwire-broker: %s: %s\n", config_path.c_str(),
                             err.message.c_str());
            return 2;
        }
    }

    std::vector<listener_config> listeners = cfg.listeners;
    if (port || listeners.empty()) listeners.push_back({port.value_or(1883), "127.0.0.1"});

    // Certificates and keys are read now: a missing or unreadable one stops start-up.
    auto tls = net::load_listener_tls(cfg);
    if (!tls) {
        std::fprintf(stderr, "mqttwire-broker: %s\n", tls.error().message.c_str());
        return 2;
    }
    for (const auto& l : tls.value())
        for (const auto& w : l.context.current()->warnings())
            std::fprintf(stderr, "mqttwire-broker: warning: listener %u: %s\n",
                         static_cast<unsigned>(cfg.listeners[l.listener].port), w.c_str());
    // The event loop carries plain MQTT over TCP with one set of security settings so far; a
    // listener that asks for more must not be served as plain MQTT.
    const auto security = listener_security(cfg, listeners.front());
    for (const auto& l : listeners) {
        const char* missing = l.tls.enabled()                               ? "TLS"
                              : l.protocol == listener_protocol::websockets ? "WebSocket"
                                                                            : nullptr;
        const auto own = listener_security(cfg, l);
        if (missing == nullptr &&
            (own.allow_anonymous != security.allow_anonymous ||
             own.password_file != security.password_file || own.acl_file != security.acl_file))
            missing = "per-listener security";
        if (missing != nullptr) {
            std::fprintf(stderr,
                         "mqttwire-broker: listener %u: %s is not served by this build yet\n",
                         static_cast<unsigned>(l.port), missing);
            return 2;
        }
    }

    password_file passwords;
    acl_file acl;
    settings s;
    s.allow_anonymous = security.allow_anonymous;
    s.max_packet_size = cfg.max_packet_size;
    s.max_inflight_messages = cfg.max_inflight_messages;
    s.max_queued_messages = cfg.max_queued_messages;
    s.max_keepalive = cfg.max_keepalive;
    s.retain_available = cfg.retain_available;
    s.persistent_client_expiration = cfg.persistent_client_expiration;
    s.max_inflight_bytes = cfg.max_inflight_bytes;
    s.max_queued_bytes = cfg.max_queued_bytes;
    s.message_size_limit = cfg.message_size_limit;
    s.max_output_buffer = cfg.max_output_buffer;
    s.slow_consumer_timeout = cfg.slow_consumer_timeout;
    s.overflow = cfg.queue_overflow_drop ? queue_overflow::drop : queue_overflow::block;
    s.max_topic_levels = cfg.max_topic_levels;
    s.max_subscriptions = cfg.max_subscriptions;
    s.max_subscription_bytes = cfg.max_subscription_bytes;
    s.max_connect_size = cfg.max_connect_size;
    s.verbose = verbose;
    if (!security.password_file.empty()) {
        std::string error;
        if (!passwords.load(security.password_file, error)) {
            std::fprintf(stderr, "mqttwire-broker: password_file: %s\n", error.c_str());
            return 2;
        }
        s.passwords = &passwords;
    }
    if (!security.acl_file.empty()) {
        std::string error;
        if (!acl.load(security.acl_file, error)) {
            std::fprintf(stderr, "mqttwire-broker: acl_file: %s\n", error.c_str());
            return 2;
        }
        s.acl = &acl;
    }

    const log_sink log = [](std::string_view line) {
        std::fprintf(stderr, "%.*s\n", static_cast<int>(line.size()), line.data());
        std::fflush(stderr);
    };
    broker b(s, log);
    b.restore(clock::now());
    server srv(b, log, cfg.max_connections);
    for (const auto& l : listeners) {
        std::string error;
        if (!srv.listen(l.address, l.port, error)) {
            std::fprintf(stderr, "mqttwire-broker: cannot listen on %s\n", error.c_str());
            return 1;
        }
    }
    // Outgoing bridges (`connection` blocks), driven by the loop.
    std::vector<std::unique_ptr<bridge>> bridges;
    if (!cfg.bridges.empty()) {
        char host[256] = {};
        if (::gethostname(host, sizeof host - 1) != 0) std::strcpy(host, "mqttwire");
        for (const auto& bc : cfg.bridges) {
            auto bridge_tls = bridge::tls_context_for(bc);
            if (!bridge_tls) {
                std::fprintf(stderr, "mqttwire-broker: connection %s: %s\n", bc.name.c_str(),
                             bridge_tls.error().message.c_str());
                return 2;
            }
            bridges.push_back(std::make_unique<bridge>(bc, b, log, host, bridge_tls.value()));
            srv.add_outgoing(*bridges.back());
        }
    }
    for (auto p : srv.bound_ports())
        std::fprintf(stderr, "mqttwire-broker: listening on port %u\n", static_cast<unsigned>(p));
    std::fflush(stderr);
    return srv.run();
}
