// A minimal MQTT-over-TLS endpoint for interoperability tests of the TLS engine with real clients
// (paho-mqtt), before the engine is part of the broker's event loop. It listens on 127.0.0.1,
// serves one connection at a time through tls_engine over a real socket and the core codec:
// CONNECT gets CONNACK, SUBSCRIBE gets SUBACK (QoS 0 granted), a QoS 0 PUBLISH comes back to its
// sender once it has subscribed, PINGREQ gets PINGRESP, DISCONNECT ends the connection.
//
//   mqttwire_tls_test_server CERTFILE KEYFILE [--cafile F] [--crlfile F]
//                            [--require-certificate] [--tls-version tlsv1.2|tlsv1.3]
//
// Prints "listening PORT" first, then one line per event: "connect ...", "failed KIND: MESSAGE",
// "stalled: ...", "closed". Exits when its standard input ends.

#include "net/tls_context.hpp"
#include "net/tls_engine.hpp"

#include <mqttwire.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace net = mqttwire::broker::net;
namespace mb = mqttwire::broker;

namespace {

using clock_type = std::chrono::steady_clock;
constexpr auto handshake_limit = std::chrono::seconds(5);
constexpr auto connection_limit = std::chrono::seconds(20);

void say(const std::string& line) {
    std::printf("%s\n", line.c_str());
    std::fflush(stdout);
}

// Sends what the engine has queued; false when the socket failed.
bool flush(int fd, net::tls_engine& e) {
    while (e.wants_write()) {
        const auto out = e.pending_output();
        const ssize_t n = ::send(fd, out.data(), out.size(), MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) {
                pollfd p{fd, POLLOUT, 0};
                ::poll(&p, 1, 100);
                continue;
            }
            return false;
        }
        e.consume_output(static_cast<std::size_t>(n));
    }
    return true;
}

void send_packet(net::tls_engine& e, const auto& packet, mqttwire::protocol_version v) {
    std::byte buf[256];
    const auto n = mqttwire::encode(packet, v, buf);
    if (!n) return;
    std::size_t off = 0;
    while (off < n.value()) {
        const auto w = e.write(std::span<const std::byte>(buf).subspan(off, n.value() - off));
        if (w == 0) break;
        off += w;
    }
}

class session {
  public:
    explicit session(net::tls_engine engine) : e_(std::move(engine)) {}

    // Handles the MQTT bytes decrypted so far; false when the connection should end.
    bool on_plaintext() {
        while (!in_.empty()) {
            mqttwire::decode_options opts;
            opts.version = version_;
            const auto r = mqttwire::decode_packet(in_, opts);
            if (!r) {
                if (r.error() == mqttwire::errc::incomplete) return true;
                say("closed: bad MQTT packet");
                return false;
            }
            const auto& p = r.value().packet;
            if (const auto* c = std::get_if<mqttwire::connect_view>(&p)) {
                version_ = c->version;
                std::string line = "connect version=" + std::to_string(static_cast<int>(version_)) +
                                   " protocol=" + std::string(e_.protocol_name()) +
                                   " cipher=" + std::string(e_.cipher_name());
                if (auto cn = e_.peer_common_name()) line += " cn=" + cn.value();
                if (auto subject = e_.peer_subject()) line += " subject=" + subject.value();
                say(line);
                send_packet(e_, mqttwire::connack_view{}, version_);
            } else if (const auto* s = std::get_if<mqttwire::subscribe_view>(&p)) {
                std::vector<mqttwire::reason_code> granted(s->subscriptions.size(),
                                                           mqttwire::reason_code::success);
                mqttwire::suback_view ack;
                ack.packet_id = s->packet_id;
                ack.reasons = std::span<const mqttwire::reason_code>(granted);
                send_packet(e_, ack, version_);
                subscribed_ = true;
            } else if (const auto* pub = std::get_if<mqttwire::publish_view>(&p)) {
                if (subscribed_ && pub->qos == mqttwire::qos::at_most_once) {
                    std::vector<std::byte> out(r.value().size + 16);
                    if (auto n = mqttwire::encode(*pub, version_, out)) {
                        for (std::size_t off = 0; off < n.value();)
                            if (const auto w =
                                    e_.write(std::span(out).subspan(off, n.value() - off)))
                                off += w;
                            else
                                break;
                    }
                }
            } else if (std::holds_alternative<mqttwire::pingreq_view>(p)) {
                send_packet(e_, mqttwire::pingresp_view{}, version_);
            } else if (std::holds_alternative<mqttwire::disconnect_view>(p)) {
                say("closed: DISCONNECT");
                e_.close();
                return false;
            }
            in_.erase(in_.begin(), in_.begin() + static_cast<std::ptrdiff_t>(r.value().size));
        }
        return true;
    }

    void serve(int fd) {
        const auto start = clock_type::now();
        std::byte buf[16384];
        for (;;) {
            if (!flush(fd, e_)) return say("closed: send failed");
            if (e_.state() == net::tls_state::failed)
                return say(std::string("failed ") + net::tls_failure_name(e_.failure()) + ": " +
                           e_.failure_message());
            if (e_.state() == net::tls_state::closed) return say("closed");
            const auto now = clock_type::now();
            if (!e_.handshake_complete() && now - start > handshake_limit)
                return say("stalled: " + e_.describe_incomplete_handshake());
            if (now - start > connection_limit) return say("closed: time limit");
            pollfd p{fd, POLLIN, 0};
            if (::poll(&p, 1, 100) <= 0) continue;
            const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
            if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
            if (n <= 0) {
                e_.end_of_input();
                continue;
            }
            auto rest = std::span<const std::byte>(buf, static_cast<std::size_t>(n));
            while (!rest.empty()) {
                rest = rest.subspan(e_.feed(rest));
                std::byte plain[4096];
                while (const auto got = e_.read(plain)) in_.insert(in_.end(), plain, plain + got);
                if (!on_plaintext()) {
                    flush(fd, e_);
                    return;
                }
                if (e_.state() == net::tls_state::failed) break;
            }
        }
    }

  private:
    net::tls_engine e_;
    std::vector<std::byte> in_;
    mqttwire::protocol_version version_ = mqttwire::protocol_version::v3_1_1;
    bool subscribed_ = false;
};

} // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr,
                     "usage: %s CERTFILE KEYFILE [--cafile F] [--crlfile F] "
                     "[--require-certificate] [--tls-version tlsv1.2|tlsv1.3]\n",
                     argv[0]);
        return 2;
    }
    mb::tls_settings s;
    s.certfile = argv[1];
    s.keyfile = argv[2];
    for (int i = 3; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--cafile" && i + 1 < argc) {
            s.cafile = argv[++i];
        } else if (a == "--crlfile" && i + 1 < argc) {
            s.crlfile = argv[++i];
        } else if (a == "--require-certificate") {
            s.require_certificate = true;
        } else if (a == "--tls-version" && i + 1 < argc) {
            s.min_version = std::string(argv[++i]) == "tlsv1.3" ? mb::tls_version::tls1_3
                                                                : mb::tls_version::tls1_2;
        } else {
            std::fprintf(stderr, "unknown argument %s\n", a.c_str());
            return 2;
        }
    }
    auto ctx = net::tls_context::server(s);
    if (!ctx) {
        std::fprintf(stderr, "error: %s\n", ctx.error().message.c_str());
        return 1;
    }
    const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (listener < 0 || ::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listener, 16) != 0 ||
        ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        std::perror("listen");
        return 1;
    }
    say("listening " + std::to_string(ntohs(addr.sin_port)));
    for (;;) {
        pollfd p[2] = {{listener, POLLIN, 0}, {STDIN_FILENO, POLLIN, 0}};
        if (::poll(p, 2, 1000) <= 0) continue;
        if ((p[1].revents & (POLLIN | POLLHUP)) != 0) {
            char c;
            if (::read(STDIN_FILENO, &c, 1) <= 0) break;
        }
        if ((p[0].revents & POLLIN) == 0) continue;
        const int fd = ::accept(listener, nullptr, nullptr);
        if (fd < 0) continue;
        auto engine = net::tls_engine::server(ctx.value());
        if (!engine) {
            say("failed internal: " + engine.error().message);
        } else {
            session(std::move(engine).value()).serve(fd);
        }
        ::close(fd);
    }
    ::close(listener);
    return 0;
}
