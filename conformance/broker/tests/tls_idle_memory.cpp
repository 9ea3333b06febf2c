// Measures memory per idle, established TLS server connection: the broker's engine against a
// plain OpenSSL SSL on a socket (mosquitto's per-client TLS state). Each kind runs in its own
// child process, so resident set sizes do not mix.
//
//   mqttwire_tls_idle_memory CERTDIR [-n N] [--rsa] [--no-client-certificate]
//                            [--only engine|plain]
//
// CERTDIR is a directory made by make-certs.sh. Prints one line per kind. `--only` measures one
// kind in this process, without forking (for a heap profiler such as heaptrack).

#include "tls_idle_memory.hpp"

#include <sys/wait.h>

#include <cstdlib>
#include <string_view>

namespace net = mqttwire::broker::net;
namespace mb = mqttwire::broker;

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr,
                     "usage: %s CERTDIR [-n N] [--rsa] [--no-client-certificate] "
                     "[--only engine|plain]\n",
                     argv[0]);
        return 2;
    }
    const std::string dir = argv[1];
    std::size_t n = 1000;
    bool rsa = false;
    bool client_certificate = true;
    std::string_view only;
    for (int i = 2; i < argc; ++i) {
        const std::string_view a = argv[i];
        if (a == "-n" && i + 1 < argc) {
            n = std::strtoull(argv[++i], nullptr, 10);
        } else if (a == "--rsa") {
            rsa = true;
        } else if (a == "--no-client-certificate") {
            client_certificate = false;
        } else if (a == "--only" && i + 1 < argc &&
                   (std::string_view(argv[i + 1]) == "engine" ||
                    std::string_view(argv[i + 1]) == "plain")) {
            only = argv[++i];
        } else {
            std::fprintf(stderr, "unknown argument %s\n", argv[i]);
            return 2;
        }
    }
    mb::tls_settings s;
    s.certfile = dir + (rsa ? "/server-rsa-chain.pem" : "/server-ec-chain.pem");
    s.keyfile = dir + (rsa ? "/server-rsa.key" : "/server-ec.key");
    net::tls_client_settings c;
    c.cafile = dir + "/ca.pem";
    if (client_certificate) {
        s.cafile = dir + "/ca.pem";
        s.require_certificate = true;
        c.certfile = dir + "/client.pem";
        c.keyfile = dir + "/client.key";
    }
    auto server = net::tls_context::server(s);
    auto client = net::tls_context::client(c);
    if (!server || !client) {
        std::fprintf(stderr, "%s\n", (!server ? server.error() : client.error()).message.c_str());
        return 1;
    }
    std::printf("%zu idle TLS 1.3 server connections, %s server key, %s\n", n,
                rsa ? "RSA 2048" : "EC P-256",
                client_certificate ? "client certificate required" : "no client certificate");
    std::fflush(stdout);
    int status = 0;
    for (const bool engines : {true, false}) {
        if (!only.empty() && engines != (only == "engine")) continue;
        const pid_t pid = only.empty() ? ::fork() : 0;
        if (pid == 0) {
            // Warm OpenSSL's one-time caches first.
            std::vector<net::tls_engine> warm_engines;
            tls_test::plain_connections warm_plain;
            tls_test::idle_engines(server.value(), client.value(), 5, warm_engines);
            tls_test::idle_plain_ssl(server.value(), client.value(), 5, warm_plain);
            std::vector<net::tls_engine> keep_engines;
            tls_test::plain_connections keep_plain;
            const auto m =
                engines ? tls_test::idle_engines(server.value(), client.value(), n, keep_engines)
                        : tls_test::idle_plain_ssl(server.value(), client.value(), n, keep_plain);
            const int code = m.connections == n ? 0 : 1;
            if (code != 0)
                std::printf("  %-28s failed after %zu: %s\n",
                            engines ? "engine" : "plain SSL on a socket", m.connections,
                            m.error.c_str());
            else
                std::printf("  %-28s heap %6.0f B/connection, RSS %6.0f B/connection\n",
                            engines ? "engine:" : "plain SSL on a socket:", m.heap_per_connection,
                            m.rss_per_connection);
            std::fflush(stdout);
            if (!only.empty()) return code;
            std::_Exit(code);
        }
        int child = 0;
        ::waitpid(pid, &child, 0);
        if (!WIFEXITED(child) || WEXITSTATUS(child) != 0) status = 1;
    }
    return status;
}
