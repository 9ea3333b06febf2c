#pragma once
// Memory per idle, established TLS server connection: the broker's engine (OpenSSL on one BIO
// over the engine's byte queues, released once drained as the broker's TLS transport does)
// against a plain OpenSSL SSL on a socket, which is what mosquitto keeps per TLS client.
// Both use the same server context (SSL_MODE_RELEASE_BUFFERS) and complete the handshake,
// including the client's read of the TLS 1.3 session tickets; the client side of each
// connection is freed before measuring, so only the server side counts.

#include "net/tls_context.hpp"
#include "net/tls_engine.hpp"
#include "tls_pump.hpp"

#include <openssl/ssl.h>

#include <malloc.h>
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MQTTWIRE_TLS_TEST_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(MQTTWIRE_TLS_TEST_ASAN)
#define MQTTWIRE_TLS_TEST_ASAN 1
#endif
#if defined(MQTTWIRE_TLS_TEST_ASAN)
#include <sanitizer/allocator_interface.h>
#endif
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace tls_test {

struct memory_sample {
    std::size_t connections = 0;    ///< established; fewer than asked means a failure
    double heap_per_connection = 0; ///< malloc'd bytes in use (mallinfo2; under ASan, its own count)
    double rss_per_connection = 0;  ///< resident set size (/proc/self/status VmRSS)
    std::string error;
};

// Heap bytes in use: glibc's count, or AddressSanitizer's own (its allocator replaces glibc's,
// and counts requested bytes without glibc's chunk headers).
inline std::size_t heap_in_use() {
#if defined(MQTTWIRE_TLS_TEST_ASAN)
    return __sanitizer_get_current_allocated_bytes();
#else
    return mallinfo2().uordblks;
#endif
}

inline std::size_t rss_bytes() {
    std::FILE* f = std::fopen("/proc/self/status", "r");
    if (f == nullptr) return 0;
    char line[256];
    std::size_t kib = 0;
    while (std::fgets(line, sizeof line, f) != nullptr)
        if (std::strncmp(line, "VmRSS:", 6) == 0) kib = std::strtoull(line + 6, nullptr, 10);
    std::fclose(f);
    return kib * 1024;
}

// Calls `make(i)` n times (each returns false on failure) and reports the growth per call.
template <class Make> memory_sample measure_growth(std::size_t n, Make make) {
    memory_sample m;
    malloc_trim(0);
    const auto heap0 = heap_in_use();
    const auto rss0 = rss_bytes();
    for (std::size_t i = 0; i < n; ++i) {
        if (!make(m.error)) break;
        ++m.connections;
    }
    if (m.connections == 0) return m;
    const auto c = static_cast<double>(m.connections);
    m.heap_per_connection = static_cast<double>(heap_in_use() - heap0) / c;
    m.rss_per_connection = static_cast<double>(rss_bytes() - rss0) / c;
    return m;
}

// Keeps `n` idle server engines alive in `keep` and measures them.
inline memory_sample
idle_engines(const std::shared_ptr<const mqttwire::broker::net::tls_context>& server,
             const std::shared_ptr<const mqttwire::broker::net::tls_context>& client, std::size_t n,
             std::vector<mqttwire::broker::net::tls_engine>& keep) {
    namespace net = mqttwire::broker::net;
    keep.reserve(keep.size() + n);
    return measure_growth(n, [&](std::string& error) {
        auto c = net::tls_engine::client(client, "localhost");
        auto s = net::tls_engine::server(server);
        if (!c || !s) {
            error = "cannot create an engine";
            return false;
        }
        std::string a, b;
        pump(c.value(), s.value(), a, b);
        if (s.value().state() != net::tls_state::established) {
            error = "handshake failed: " + s.value().failure_message();
            return false;
        }
        // As the broker does once a connection's socket is drained and its output sent.
        s.value().release_buffers();
        keep.push_back(std::move(s).value());
        return true;
    });
}

inline bool socket_handshake(SSL* server, SSL* client) {
    for (int i = 0; i < 1000; ++i) {
        const int a = SSL_do_handshake(client);
        const int b = SSL_do_handshake(server);
        if (a == 1 && b == 1) return true;
        if (a != 1 && SSL_get_error(client, a) != SSL_ERROR_WANT_READ) return false;
        if (b != 1 && SSL_get_error(server, b) != SSL_ERROR_WANT_READ) return false;
    }
    return false;
}

// The same with plain SSL objects on one end of a socket pair each.
struct plain_connections {
    std::vector<SSL*> ssl;
    std::vector<int> fds;
    plain_connections() = default;
    plain_connections(const plain_connections&) = delete;
    plain_connections& operator=(const plain_connections&) = delete;
    ~plain_connections() {
        for (SSL* s : ssl) SSL_free(s);
        for (int fd : fds) ::close(fd);
    }
};

inline memory_sample
idle_plain_ssl(const std::shared_ptr<const mqttwire::broker::net::tls_context>& server,
               const std::shared_ptr<const mqttwire::broker::net::tls_context>& client,
               std::size_t n, plain_connections& keep) {
    keep.ssl.reserve(keep.ssl.size() + n);
    keep.fds.reserve(keep.fds.size() + n);
    return measure_growth(n, [&](std::string& error) {
        int sv[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) != 0) {
            error = std::string("socketpair: ") + std::strerror(errno);
            return false;
        }
        SSL* s = SSL_new(server->native());
        SSL* c = SSL_new(client->native());
        SSL_set_fd(s, sv[0]);
        SSL_set_fd(c, sv[1]);
        SSL_set_accept_state(s);
        SSL_set_connect_state(c);
        const bool ok = socket_handshake(s, c);
        char buf[256];
        static_cast<void>(SSL_read(c, buf, sizeof buf)); // the session tickets
        SSL_free(c);
        ::close(sv[1]);
        keep.ssl.push_back(s);
        keep.fds.push_back(sv[0]);
        if (!ok) error = "socket handshake failed";
        return ok;
    });
}

} // namespace tls_test
