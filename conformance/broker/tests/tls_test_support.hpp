#pragma once
// Shared by the TLS tests: the test PKI (made by make-certs.sh at test time) and a loop that
// moves bytes between two engines in memory.

#include "net/tls_context.hpp"
#include "net/tls_engine.hpp"
#include "tls_pump.hpp"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdlib>
#include <fstream>
#include <map>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

namespace tls_test {

namespace net = mqttwire::broker::net;
namespace mb = mqttwire::broker;

// The certificate directory: $MQTTWIRE_TLS_CERTS when ctest made it (fixture
// broker_tls_make_certs), otherwise a temporary directory filled once per process.
inline const std::string& cert_dir() {
    static const std::string dir = [] {
        if (const char* env = std::getenv("MQTTWIRE_TLS_CERTS"); env != nullptr && *env != '\0')
            return std::string(env);
        std::string tmpl = "/tmp/mqttwire_tls_certs_XXXXXX";
        if (::mkdtemp(tmpl.data()) == nullptr) return std::string();
        const std::string cmd = "bash '" MQTTWIRE_MAKE_CERTS_SCRIPT "' '" + tmpl + "' >/dev/null";
        if (std::system(cmd.c_str()) != 0) return std::string();
        static const std::string to_remove = tmpl;
        std::atexit([] { std::system(("rm -rf '" + to_remove + "'").c_str()); });
        return tmpl;
    }();
    return dir;
}

inline std::string cert(const std::string& name) { return cert_dir() + "/" + name; }

// subjects.txt: each client certificate's subject as `openssl x509 -nameopt RFC2253` prints it.
inline std::string openssl_cli_subject(const std::string& name) {
    std::ifstream in(cert("subjects.txt"));
    std::string line;
    while (std::getline(in, line)) {
        const auto tab = line.find('\t');
        if (tab != std::string::npos && line.substr(0, tab) == name) return line.substr(tab + 1);
    }
    return "<" + name + " not in subjects.txt>";
}

inline mb::tls_settings server_settings(const std::string& chain = "server-rsa-chain.pem",
                                        const std::string& key = "server-rsa.key") {
    mb::tls_settings s;
    s.certfile = cert(chain);
    s.keyfile = cert(key);
    return s;
}

inline mb::tls_settings mutual_settings(const std::string& chain = "server-rsa-chain.pem",
                                        const std::string& key = "server-rsa.key") {
    auto s = server_settings(chain, key);
    s.cafile = cert("ca.pem");
    s.require_certificate = true;
    return s;
}

inline net::tls_client_settings client_settings(const std::string& certfile = "",
                                                const std::string& keyfile = "") {
    net::tls_client_settings s;
    s.cafile = cert("ca.pem");
    if (!certfile.empty()) s.certfile = cert(certfile);
    if (!keyfile.empty()) s.keyfile = cert(keyfile);
    return s;
}

inline std::shared_ptr<const net::tls_context> server_context(const mb::tls_settings& s) {
    auto r = net::tls_context::server(s);
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
    return r ? r.value() : nullptr;
}

inline std::shared_ptr<const net::tls_context> client_context(const net::tls_client_settings& s) {
    auto r = net::tls_context::client(s);
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
    return r ? r.value() : nullptr;
}

inline std::span<const std::byte> bytes_of(std::string_view s) {
    return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

inline std::string text_of(std::span<const std::byte> b) {
    return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

struct wire {
    std::string to_server; // plaintext the server decrypted
    std::string to_client; // plaintext the client decrypted
    std::size_t chunk = 1 << 20;

    // Moves bytes both ways until nothing moves; bounded, so a stalled exchange ends.
    void pump(net::tls_engine& client, net::tls_engine& server) {
        if (!tls_test::pump(client, server, to_server, to_client, chunk))
            ADD_FAILURE() << "the exchange did not settle";
    }
};

// A connected pair, handshake run as far as it goes.
struct pair {
    net::tls_engine client;
    net::tls_engine server;
    wire w;

    bool established() const {
        return client.state() == net::tls_state::established &&
               server.state() == net::tls_state::established;
    }
};

inline pair connect(std::shared_ptr<const net::tls_context> client_ctx,
                    std::shared_ptr<const net::tls_context> server_ctx, std::size_t chunk = 1 << 20,
                    std::string_view server_name = "localhost") {
    pair p{net::tls_engine::client(std::move(client_ctx), server_name).value(),
           net::tls_engine::server(std::move(server_ctx)).value(),
           {}};
    p.w.chunk = chunk;
    p.w.pump(p.client, p.server);
    return p;
}

// Sends `text` from one side and returns what the other side decrypted.
inline std::string send_through(pair& p, bool from_client, std::string_view text) {
    auto& from = from_client ? p.client : p.server;
    std::size_t off = 0;
    while (off < text.size()) {
        const auto n = from.write(bytes_of(text.substr(off)));
        off += n;
        p.w.pump(p.client, p.server);
        if (n == 0 && !from.wants_write()) break;
    }
    auto& got = from_client ? p.w.to_server : p.w.to_client;
    return std::exchange(got, std::string());
}

// An MQTT 3.1.1 CONNECT: client id "tls", clean session, keep-alive 60.
inline constexpr std::string_view mqtt_connect{"\x10\x0f\x00\x04MQTT\x04\x02\x00\x3c\x00\x03tls", 17};

// The handshake is done and application data goes through both ways.
inline void expect_round_trip(pair& p) {
    ASSERT_TRUE(p.established());
    EXPECT_EQ(send_through(p, true, mqtt_connect), mqtt_connect);
    const std::string connack("\x20\x02\x00\x00", 4); // CONNACK, session not present, accepted
    EXPECT_EQ(send_through(p, false, connack), connack);
}

} // namespace tls_test
