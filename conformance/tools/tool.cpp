// The connection loop of mqttwire-pub and mqttwire-sub: a non-blocking TCP socket, poll(2), and
// a session-layer client that does all of MQTT.

#include "tool.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <thread>

namespace mqttwire::tools {

namespace {

bool parse_number(const char* s, long long lo, long long hi, long long& out) {
    char* end = nullptr;
    errno = 0;
    const long long v = std::strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) return false;
    out = v;
    return true;
}

std::string random_id() {
    static constexpr char alnum[] =
        "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    std::random_device rd;
    std::mt19937 gen(rd());
    std::uniform_int_distribution<std::size_t> pick(0, sizeof alnum - 2);
    std::string id = "mqttw-"; // 23 characters in all: within MQTT 3.1's limit
    for (int i = 0; i < 17; ++i) id += alnum[pick(gen)];
    return id;
}

std::string_view type_name(const packet_view& p) { return packet_type_name(type_of(p)); }

// One line per packet, in the manner of mosquitto's -d output.
std::string describe(const packet_view& p, protocol_version v) {
    std::string s(type_name(p));
    char buf[160];
    if (const auto* pub = std::get_if<publish_view>(&p)) {
        const auto t = pub->topic.as_string_view();
        std::snprintf(buf, sizeof buf, " (d%d, q%d, r%d, m%u, '%.*s', ... (%zu bytes))",
                      pub->dup ? 1 : 0, static_cast<int>(pub->qos), pub->retain ? 1 : 0,
                      pub->packet_id, static_cast<int>(std::min<std::size_t>(t.size(), 80)),
                      t.data(), pub->payload.size());
        s += buf;
    } else if (const auto* a = std::get_if<connack_view>(&p)) {
        std::snprintf(buf, sizeof buf, " (%d)", static_cast<int>(a->reason));
        s += buf;
    } else if (const auto* sub = std::get_if<subscribe_view>(&p)) {
        for (const auto& e : sub->subscriptions) {
            const auto f = e.filter.as_string_view();
            std::snprintf(buf, sizeof buf, " (Mid: %u, Topic: %.*s, QoS: %d, Options: 0x%02x)",
                          sub->packet_id, static_cast<int>(std::min<std::size_t>(f.size(), 80)),
                          f.data(), static_cast<int>(e.options.max_qos), e.options.to_byte());
            s += buf;
        }
    } else {
        std::visit(
            [&](const auto& x) {
                using P = std::decay_t<decltype(x)>;
                if constexpr (requires { x.packet_id; }) {
                    if constexpr (requires { x.reason; }) {
                        if (v == protocol_version::v5) {
                            std::snprintf(buf, sizeof buf, " (Mid: %u, RC:%d)", x.packet_id,
                                          static_cast<int>(x.reason));
                            s += buf;
                            return;
                        }
                    }
                    std::snprintf(buf, sizeof buf, " (Mid: %u)", x.packet_id);
                    s += buf;
                } else if constexpr (std::is_same_v<P, disconnect_view>) {
                    if (v == protocol_version::v5) {
                        std::snprintf(buf, sizeof buf, " (%d)", static_cast<int>(x.reason));
                        s += buf;
                    }
                }
            },
            p);
    }
    return s;
}

// The 3.1.1 CONNACK return code of a refusal the session reports as a 5.0 reason code.
int return_code_of(reason_code rc) {
    switch (rc) {
    case reason_code::unsupported_protocol_version: return 1;
    case reason_code::client_identifier_not_valid: return 2;
    case reason_code::server_unavailable: return 3;
    case reason_code::bad_user_name_or_password: return 4;
    default: return 5;
    }
}

const char* refusal_text(int code, protocol_version v) {
    if (v != protocol_version::v5) {
        switch (code) {
        case 1: return "Connection Refused: unacceptable protocol version.";
        case 2: return "Connection Refused: identifier rejected.";
        case 3: return "Connection Refused: broker unavailable.";
        case 4: return "Connection Refused: bad user name or password.";
        default: return "Connection Refused: not authorised.";
        }
    }
    switch (static_cast<reason_code>(code)) {
    case reason_code::bad_user_name_or_password: return "Bad user name or password";
    case reason_code::not_authorized: return "Not authorized";
    case reason_code::client_identifier_not_valid: return "Client identifier not valid";
    case reason_code::server_unavailable: return "Server unavailable";
    case reason_code::server_busy: return "Server busy";
    case reason_code::unsupported_protocol_version: return "Unsupported protocol version";
    default: return "Connection refused";
    }
}

} // namespace

ms now_ms() {
    return std::chrono::duration_cast<ms>(std::chrono::steady_clock::now().time_since_epoch());
}

int usage_error(const std::string& text, const char* program) {
    std::fprintf(stderr, "Error: %s\n\nUse '%s --help' to see usage.\n", text.c_str(), program);
    return 1;
}

const char* option_value(int argc, char** argv, int& i, std::string& error) {
    if (i + 1 >= argc) {
        error = std::string(argv[i]) + " argument given but no value specified.";
        return nullptr;
    }
    return argv[++i];
}

bool parse_common(int argc, char** argv, int& i, common_options& o, std::string& error) {
    const std::string_view a = argv[i];
    const auto value = [&] { return option_value(argc, argv, i, error); };
    long long n = 0;
    if (a == "-h" || a == "--host") {
        const char* v = value();
        if (v == nullptr) return true;
        o.host = v;
    } else if (a == "-p" || a == "--port") {
        const char* v = value();
        if (v == nullptr) return true;
        if (!parse_number(v, 1, 65535, n)) error = "Invalid port given: " + std::string(v);
        o.port = static_cast<std::uint16_t>(n);
    } else if (a == "-i" || a == "--id") {
        const char* v = value();
        if (v == nullptr) return true;
        o.id = v;
        o.id_given = true;
    } else if (a == "-u" || a == "--username") {
        const char* v = value();
        if (v != nullptr) o.username = v;
    } else if (a == "-P" || a == "--pw") {
        const char* v = value();
        if (v != nullptr) o.password = v;
    } else if (a == "-k" || a == "--keepalive") {
        const char* v = value();
        if (v == nullptr) return true;
        if (!parse_number(v, 0, 65535, n) || (n > 0 && n < 5))
            error = "Invalid keepalive given, it must be between 5 and 65535 inclusive.";
        o.keep_alive = static_cast<std::uint16_t>(n);
    } else if (a == "-c" || a == "--disable-clean-session") {
        o.clean = false;
    } else if (a == "-x") {
        const char* v = value();
        if (v == nullptr) return true;
        if (std::string_view(v) == "-1" || std::string_view(v) == "∞")
            o.session_expiry = 0xFFFFFFFFu;
        else if (parse_number(v, 0, 0xFFFFFFFFll, n))
            o.session_expiry = static_cast<std::uint32_t>(n);
        else
            error = "Invalid session-expiry-interval given.";
    } else if (a == "-V" || a == "--protocol-version") {
        const char* v = value();
        if (v == nullptr) return true;
        const std::string_view s = v;
        if (s == "mqttv31" || s == "31") o.version = protocol_version::v3_1;
        else if (s == "mqttv311" || s == "311") o.version = protocol_version::v3_1_1;
        else if (s == "mqttv5" || s == "5") o.version = protocol_version::v5;
        else error = "Invalid protocol version argument given.";
    } else if (a == "-q" || a == "--qos") {
        const char* v = value();
        if (v == nullptr) return true;
        if (!parse_number(v, 0, 2, n)) error = "Invalid QoS given: " + std::string(v);
        o.qos = static_cast<int>(n);
    } else if (a == "-d" || a == "--debug") {
        o.debug = true;
    } else if (a == "--quiet") {
        o.quiet = true;
    } else if (a == "--will-topic") {
        const char* v = value();
        if (v == nullptr) return true;
        o.will.topic = v;
        if (validate_topic_name(o.will.topic) != errc::success)
            error = "Invalid will topic '" + o.will.topic + "', does it contain '+' or '#'?";
    } else if (a == "--will-payload") {
        const char* v = value();
        if (v == nullptr) return true;
        o.will.payload = v;
        o.will.payload_given = true;
    } else if (a == "--will-qos") {
        const char* v = value();
        if (v == nullptr) return true;
        if (!parse_number(v, 0, 2, n)) error = "Invalid will QoS " + std::string(v) + ".";
        o.will.qos = static_cast<int>(n);
        o.will.qos_given = true;
    } else if (a == "--will-retain") {
        o.will.retain = true;
    } else {
        return false;
    }
    return true;
}

bool check_common(common_options& o, std::string& error) {
    if (o.will.topic.empty()) {
        if (o.will.payload_given) error = "Will payload given, but no will topic given.";
        else if (o.will.retain) error = "Will retain given, but no will topic given.";
        else if (o.will.qos_given) error = "Will QoS given, but no will topic given.";
        if (!error.empty()) return false;
    }
    if (o.password && !o.username) {
        error = "-P argument given, but no username specified.";
        return false;
    }
    const bool forever = o.session_expiry.value_or(o.clean ? 0 : 0xFFFFFFFFu) == 0xFFFFFFFFu;
    if ((!o.clean || (o.version == protocol_version::v5 && forever)) && !o.id_given) {
        error = "You must provide a client id if you are using the -c option.";
        return false;
    }
    if (!o.id_given && o.version != protocol_version::v5) o.id = random_id();
    if (o.version == protocol_version::v3_1 && (o.id.empty() || o.id.size() > 23)) {
        error = "Client id must be between 1 and 23 characters for MQTT v3.1.";
        return false;
    }
    return true;
}

connection::connection(const common_options& o)
    : opts_(o), id_(o.id),
      storage_(session_limits{.inflight = 20,
                              .requests = 16,
                              .inbound_qos2 = 65535,
                              .input_bytes = max_packet_size_limit,
                              .output_bytes = max_packet_size_limit,
                              .resend_bytes = 0, // the programs keep their messages
                              .aliases_in = 16,
                              .alias_bytes_in = 16 * 256,
                              .aliases_out = 16,
                              .alias_bytes_out = 16 * 256,
                              .client_id_bytes = 256}),
      state_(storage_), client_(state_, storage_) {}

void connection::debug(const std::string& line) const {
    if (!opts_.debug) return;
    std::fprintf(stderr, "Client %s %s\n", id_.empty() ? "(null)" : id_.c_str(), line.c_str());
}

void connection::trace_output() {
    if (!opts_.debug) return;
    auto out = client_.output();
    decode_options d;
    d.version = client_.version();
    d.sender = peer_role::client;
    while (!out.empty()) {
        const auto r = decode_packet(out, d);
        if (!r) break;
        debug("sending " + describe(r->packet, client_.version()));
        out = out.subspan(r->size);
    }
}

void connection::trace_input(std::span<const std::byte> bytes) {
    if (!opts_.debug) return;
    trace_in_.insert(trace_in_.end(), bytes.begin(), bytes.end());
    std::span<const std::byte> rest(trace_in_);
    decode_options d;
    d.version = client_.version();
    d.sender = peer_role::server;
    for (;;) {
        const auto f = next_frame(rest);
        if (f.status != errc::success) break;
        if (const auto r = decode_packet(rest.first(f.size), d))
            debug("received " + describe(r->packet, client_.version()));
        rest = rest.subspan(f.size);
    }
    trace_in_.erase(trace_in_.begin(), trace_in_.end() - static_cast<std::ptrdiff_t>(rest.size()));
}

bool connection::open_socket() {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    const auto port = std::to_string(opts_.port);
    if (getaddrinfo(opts_.host.c_str(), port.c_str(), &hints, &found) != 0) return false;
    for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
        const int fd = ::socket(a->ai_family, a->ai_socktype, a->ai_protocol);
        if (fd < 0) continue;
        if (::connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
            ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
            fd_ = fd;
            break;
        }
        ::close(fd);
    }
    freeaddrinfo(found);
    return fd_ >= 0;
}

void connection::close_socket() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    trace_in_.clear();
}

bool connection::start(ms now) {
    if (!open_socket()) return false;
    connect_options c;
    c.version = opts_.version;
    c.client_id = std::string_view(id_);
    c.clean_start = opts_.clean;
    c.keep_alive = opts_.keep_alive;
    if (opts_.username) c.user_name = utf8_view(*opts_.username);
    if (opts_.password) c.password = binary_view(*opts_.password);
    if (!opts_.will.topic.empty()) {
        will_view w;
        w.topic = std::string_view(opts_.will.topic);
        w.payload = std::string_view(opts_.will.payload);
        w.qos = static_cast<qos>(opts_.will.qos);
        w.retain = opts_.will.retain;
        c.will = w;
    }
    if (opts_.version == protocol_version::v5)
        c.session_expiry = opts_.session_expiry.value_or(opts_.clean ? 0 : 0xFFFFFFFFu);
    if (client_.connect(c, now) != errc::success) {
        close_socket();
        return false;
    }
    return true;
}

int connection::run(application& app) {
    if (!start(now_ms())) {
        if (!opts_.quiet) std::fprintf(stderr, "Error: Connection refused\n");
        return 1;
    }
    std::optional<ms> reconnect_at;
    for (;;) {
        const auto now = now_ms();
        if (reconnect_at) {
            if (now >= *reconnect_at) {
                reconnect_at.reset();
                if (!start(now)) reconnect_at = now + ms(1000);
            }
        }
        if (fd_ >= 0) {
            for (auto ev = client_.next(now); ev; ev = client_.next(now)) {
                if (ev.kind == event_kind::connected) {
                    ever_connected_ = true;
                    const auto assigned = client_.assigned_client_id().as_string_view();
                    if (!assigned.empty()) id_ = std::string(assigned);
                    app.connected(client_, ev.session_present, now);
                    continue;
                }
                if (ev.kind != event_kind::closed) {
                    app.event(client_, ev, now);
                    continue;
                }
                // The connection ended: write what is left (a DISCONNECT), then close.
                trace_output();
                for (int i = 0; i < 100 && !client_.output().empty(); ++i) {
                    const auto out = client_.output();
                    const auto n = ::send(fd_, out.data(), out.size(), MSG_NOSIGNAL);
                    if (n > 0) {
                        client_.output_written(static_cast<std::size_t>(n));
                    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                        pollfd p{fd_, POLLOUT, 0};
                        (void)::poll(&p, 1, 20);
                    } else {
                        break;
                    }
                }
                close_socket();
                const bool refused = ev.initiator == close_initiator::peer &&
                                     static_cast<std::uint8_t>(ev.reason) >= 0x80 &&
                                     !ever_connected_;
                if (ev.initiator == close_initiator::local &&
                    (ev.reason == reason_code::success ||
                     ev.reason == reason_code::disconnect_with_will_message))
                    return app.status(); // the program's own DISCONNECT
                if (refused) {
                    const int code = opts_.version == protocol_version::v5
                                         ? static_cast<int>(ev.reason)
                                         : return_code_of(ev.reason);
                    if (!opts_.quiet)
                        std::fprintf(stderr, "Connection error: %s\n",
                                     refusal_text(code, opts_.version));
                    return code;
                }
                if (!ever_connected_) {
                    if (!opts_.quiet) std::fprintf(stderr, "Error: The connection was lost.\n");
                    return 1;
                }
                debug("lost the connection; reconnecting in 1 s");
                reconnect_at = now + ms(1000);
                break;
            }
        }
        if (!app.turn(client_, now)) {
            close_socket();
            return app.status();
        }
        if (fd_ >= 0) {
            trace_output();
            while (!client_.output().empty()) {
                const auto out = client_.output();
                const auto n = ::send(fd_, out.data(), out.size(), MSG_NOSIGNAL);
                if (n > 0) {
                    client_.output_written(static_cast<std::size_t>(n));
                    continue;
                }
                if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
                client_.transport_closed(now);
                break;
            }
        }
        // Wait for input, room to write, stdin, or the earliest deadline.
        std::optional<ms> wake = reconnect_at;
        const auto earliest = [&](std::optional<ms> d) {
            if (d && (!wake || *d < *wake)) wake = d;
        };
        if (fd_ >= 0) earliest(client_.deadline());
        earliest(app.deadline());
        pollfd fds[2]{};
        nfds_t n = 0;
        if (fd_ >= 0) {
            fds[n].fd = fd_;
            fds[n].events = static_cast<short>(POLLIN | (client_.output().empty() ? 0 : POLLOUT));
            ++n;
        }
        const int extra = app.extra_fd();
        if (extra >= 0 && fd_ >= 0 && client_.status() == connection_status::connected) {
            fds[n].fd = extra;
            fds[n].events = POLLIN;
            ++n;
        }
        int timeout = -1;
        if (wake) timeout = static_cast<int>(std::clamp<long long>((*wake - now_ms()).count(), 0, 60'000));
        const int ready = ::poll(fds, n, timeout);
        if (ready < 0 && errno != EINTR) return 1;
        if (ready <= 0) continue;
        const auto t = now_ms();
        for (nfds_t k = 0; k < n; ++k) {
            if (fds[k].revents == 0) continue;
            if (fds[k].fd == fd_) {
                if ((fds[k].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
                const auto space = client_.input_space();
                if (space.empty()) continue;
                const auto got = ::recv(fd_, space.data(), space.size(), 0);
                if (got > 0) {
                    trace_input(space.first(static_cast<std::size_t>(got)));
                    client_.input_written(static_cast<std::size_t>(got));
                } else if (got == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
                    client_.transport_closed(t);
                }
            } else {
                app.extra_readable(client_, t);
            }
        }
    }
}

} // namespace mqttwire::tools
