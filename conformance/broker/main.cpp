// mqttwire-broker: the reference broker built on the mqttwire core.
//
//   mqttwire-broker [-p PORT] [-c FILE] [-v]
//
// -p PORT  listen on 127.0.0.1:PORT (default 1883 when the configuration names no listener)
// -c FILE  a mosquitto-style configuration file (see config.hpp for the supported subset)
// -v       log connections and protocol errors to stderr

#include <grp.h>
#include <malloc.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "bridge/bridge.hpp"
#include "config.hpp"
#include "logging/log_output.hpp"
#include "core/broker.hpp"
#include "net/listener_transport.hpp"
#include "net/server.hpp"
#include "net/tls_context.hpp"
#include "policy/auth.hpp"
#include "store/durable_broker_store.hpp"
#include "store/memory_store.hpp"

namespace {

void usage(std::FILE* to) {
    std::fputs("usage: mqttwire-broker [-p PORT] [-c FILE] [-v]\n"
               "  -p PORT  listen on 127.0.0.1:PORT (default 1883)\n"
               "  -c FILE  mosquitto-style configuration file\n"
               "  -v       log connections and protocol errors\n",
               to);
}

// pid_file: written once the listeners are up, removed when the broker stops. mosquitto writes
// it only when it daemonizes (-d); this broker never daemonizes (service managers keep it in the
// foreground) and writes it whenever it is configured. A file that cannot be written is logged
// and start-up continues, as mosquitto in the foreground continues with its pid_file unused.
class pid_file_guard {
  public:
    pid_file_guard(std::string path, mqttwire::broker::log_output& log) : path_(std::move(path)) {
        if (path_.empty()) return;
        std::FILE* f = std::fopen(path_.c_str(), "w");
        if (f == nullptr || std::fprintf(f, "%ld\n", static_cast<long>(::getpid())) < 0 ||
            std::fclose(f) != 0) {
            log.write(mqttwire::broker::log_type::error,
                      "cannot write pid file '" + path_ + "': " + std::strerror(errno));
            path_.clear();
        }
    }
    ~pid_file_guard() {
        if (!path_.empty()) ::unlink(path_.c_str());
    }
    pid_file_guard(const pid_file_guard&) = delete;
    pid_file_guard& operator=(const pid_file_guard&) = delete;

  private:
    std::string path_;
};

// `user NAME`: started as root, the broker runs as NAME once its listeners, log file and pid
// file are open (mosquitto's order). As any other user the directive is ignored, as in
// mosquitto. `user root` keeps root.
bool drop_privileges(const std::string& user, std::string& error) {
    if (user.empty() || ::geteuid() != 0 || user == "root") return true;
    const passwd* pw = ::getpwnam(user.c_str());
    if (pw == nullptr) {
        error = "user '" + user + "' does not exist";
        return false;
    }
    if (::setgid(pw->pw_gid) != 0 || ::initgroups(user.c_str(), pw->pw_gid) != 0 ||
        ::setuid(pw->pw_uid) != 0) {
        error = "cannot run as user '" + user + "': " + std::strerror(errno);
        return false;
    }
    return true;
}

bool parse_port(const char* s, std::uint16_t& out) {
    char* end = nullptr;
    const long v = std::strtol(s, &end, 10);
    if (end == s || *end != '\0' || v < 0 || v > 65535) return false;
    out = static_cast<std::uint16_t>(v);
    return true;
}

// Loads a listener's password or ACL file (none when `path` is empty) into `files`, pointing
// `out` at it; false, after the error line, when it cannot be read.
template <class File>
bool load_listener_file(std::deque<File>& files, const std::string& path, const char* directive,
                        unsigned port, const File*& out) {
    if (path.empty()) return true;
    std::string error;
    if (!files.emplace_back().load(path, error)) {
        std::fprintf(stderr, "mqttwire-broker: listener %u: %s: %s\n", port, directive,
                     error.c_str());
        return false;
    }
    out = &files.back();
    return true;
}

} // namespace

int main(int argc, char** argv) {
    using namespace mqttwire::broker;
    // Before anything else: a stop signal during start-up waits for the loop (see server.hpp).
    (void)block_stop_signals();
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
            const std::string& file = err.file.empty() ? config_path : err.file;
            if (err.line != 0)
                std::fprintf(stderr, "mqttwire-broker: %s:%zu: %s\n", file.c_str(), err.line,
                             err.message.c_str());
            else
                std::fprintf(stderr, "mqttwire-broker: %s: %s\n", config_path.c_str(),
                             err.message.c_str());
            return 2;
        }
    }

    // Logging as configured (mosquitto: -v turns every type on).
    log_output log_out({cfg.log_dests, cfg.log_file, verbose ? all_log_types : cfg.log_types,
                        cfg.log_timestamp, cfg.log_timestamp_format});
    log_out.open();
    for (const auto& w : cfg.warnings) log_out.write(log_type::warning, w);

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
    // The broker-wide rules (those of the first listener with per_listener_settings true)
    // apply to connections of no listener, e.g. sessions restored from a store.
    const auto security = listener_security(cfg, listeners.front());
    // per_listener_settings true: each listener's own allow_anonymous, password_file, acl_file.
    std::deque<password_file> listener_passwords;
    std::deque<acl_file> listener_acls;
    std::vector<listener_policy> policies(listeners.size());
    if (cfg.per_listener_settings) {
        for (std::size_t i = 0; i < listeners.size(); ++i) {
            const auto own = listener_security(cfg, listeners[i]);
            policies[i].allow_anonymous = own.allow_anonymous;
            const auto port_of_listener = static_cast<unsigned>(listeners[i].port);
            if (!load_listener_file(listener_passwords, own.password_file, "password_file",
                                    port_of_listener, policies[i].passwords) ||
                !load_listener_file(listener_acls, own.acl_file, "acl_file", port_of_listener,
                                    policies[i].acl))
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
    s.max_topic_alias_out = cfg.max_topic_alias_out;
    s.topic_alias_out_min_length = cfg.topic_alias_out_min_length;
    s.topic_alias_out_replace = cfg.topic_alias_out_replace;
    s.verbose = verbose;
    s.typed_log = [&log_out](log_type t, std::string_view line) { log_out.write(t, line); };
    s.log_types = log_out.types();
    s.connection_messages = cfg.connection_messages;
    s.sys_interval = cfg.sys_interval;
    s.allow_zero_length_clientid = cfg.allow_zero_length_clientid;
    s.auto_id_prefix = cfg.auto_id_prefix;
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

    const log_sink log = [&log_out](std::string_view line) {
        log_out.write(log_type::notice, line);
    };
    // persistence true: the store is loaded before the broker exists, so a refused file
    // (mosquitto's, a newer format, in use) stops start-up before anything listens.
    memory_store in_memory;
    std::unique_ptr<durable_broker_store> persisted;
    if (cfg.persistence) {
        durable_broker_store::options o;
        o.engine.sync = cfg.persistence_sync;
        o.log = log;
        auto opened = durable_broker_store::open(cfg.persistence_path(), o);
        if (!opened) {
            std::fprintf(stderr, "mqttwire-broker: %s\n", opened.status().message().c_str());
            return 2;
        }
        persisted = std::move(opened.value());
        const auto& r = persisted->recovery();
        if (!r.message.empty()) log("mqttwire-broker: " + r.message);
        log("mqttwire-broker: store " + cfg.persistence_path() + ": " +
            (r.created ? std::string("created")
                       : std::to_string(r.records_loaded) + " records loaded in " +
                             std::to_string(r.load_time.count() / 1'000'000) + " ms") +
            " (" + std::to_string(persisted->retained_count()) + " retained messages, " +
            std::to_string(persisted->session_count()) + " sessions" +
            (cfg.persistence_sync ? ", synced before acknowledging)" : ")"));
    }
    broker b(s, log, persisted ? static_cast<store&>(*persisted) : in_memory);
    log_out.set_topic_sink([&b](log_type t, std::string_view line) { b.queue_log_message(t, line); });
    b.restore(clock::now());
    server srv(b, log, cfg.max_connections);
    if (persisted)
        srv.on_output([&](bool end_of_turn) {
            const auto st = end_of_turn ? persisted->idle() : persisted->commit();
            if (st) return true;
            log("mqttwire-broker: " + st.message() +
                "; stopping (nothing it could not keep is acknowledged)");
            return false;
        });

    // SIGHUP: every hook runs in turn (password file and ACL here; other parts append theirs).
    std::vector<std::function<void()>> reload_hooks;
    reload_hooks.emplace_back([&log_out] { log_out.reopen(); });
    reload_hooks.emplace_back([&] {
        // A new file that does not load is reported and the one in force is kept.
        if (!security.password_file.empty()) {
            password_file fresh;
            std::string error;
            if (fresh.load(security.password_file, error)) {
                passwords = std::move(fresh);
                log_out.write(log_type::notice, "reloaded password file '" +
                                                    security.password_file + "' (" +
                                                    std::to_string(passwords.size()) + " users)");
            } else {
                log_out.write(log_type::error, "password_file not reloaded, keeping the "
                                               "previous one: " + error);
            }
        }
        if (!security.acl_file.empty()) {
            acl_file fresh;
            std::string error;
            if (fresh.load(security.acl_file, error)) {
                fresh.set_subscribe_rule(acl.get_subscribe_rule());
                acl = std::move(fresh);
                log_out.write(log_type::notice, "reloaded acl_file '" + security.acl_file + "'");
            } else {
                log_out.write(log_type::error, "acl_file not reloaded, keeping the previous "
                                               "one: " + error);
            }
        }
    });
    srv.on_reload([&reload_hooks] {
        for (const auto& hook : reload_hooks) hook();
    });
    srv.set_handshake_timeout(cfg.handshake_timeout);
    // Each listener's transports: TCP, TLS, WebSocket, WebSocket over TLS.
    std::vector<const net::reloadable_tls_context*> tls_of(listeners.size(), nullptr);
    for (const auto& l : tls.value()) tls_of[l.listener] = &l.context;
    // A WebSocket message may carry many MQTT packets (MQTT-6.0.0-2), and its payload is
    // unmasked in place and handed to the MQTT framer as it arrives, so the message bound holds
    // no memory: the framer's max_packet_size bounds each packet. The message bound only ends a
    // peer that announces an absurd message: at least 16 MiB, and never below one packet.
    net::ws_transport_options ws;
    ws.max_message_size = std::max<std::uint64_t>(
        net::ws_min_message_bound,
        cfg.max_packet_size != 0 ? cfg.max_packet_size : mqttwire::max_packet_size_limit);
    for (std::size_t i = 0; i < listeners.size(); ++i) {
        const auto& l = listeners[i];
        std::string error;
        if (!srv.listen(l.address, l.port, error, net::make_listener_factory(l, tls_of[i], ws, log),
                        cfg.per_listener_settings ? &policies[i] : nullptr)) {
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
    const auto ports = srv.bound_ports();
    for (std::size_t i = 0; i < ports.size(); ++i)
        std::fprintf(stderr, "mqttwire-broker: listening on port %u (%s)\n",
                     static_cast<unsigned>(ports[i]), net::listener_kind(listeners[i]));
    std::fflush(stderr);
    const pid_file_guard pid(cfg.pid_file, log_out);
    std::string error;
    if (!drop_privileges(cfg.user, error)) {
        log_out.write(log_type::error, error);
        return 1;
    }
    // SIGHUP: certificates, keys and CRLs are read again for new connections; a set that does
    // not load is logged and the previous one stays in use. Open connections keep theirs.
    reload_hooks.emplace_back([&tls, &cfg, &log] {
        for (auto& l : tls.value()) {
            const auto number = std::to_string(cfg.listeners[l.listener].port);
            if (const auto failed = l.context.reload())
                log("mqttwire-broker: listener " + number +
                    ": TLS reload failed, the previous certificates stay in use: " +
                    failed->message);
            else
                log("mqttwire-broker: listener " + number + ": TLS certificates reloaded");
        }
    });
    return srv.run();
}
