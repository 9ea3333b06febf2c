#pragma once
// Moves bytes between two TLS engines in memory, as two sockets would. Shared by the TLS tests
// and the idle-memory measurement; no test framework here.

#include "net/tls_engine.hpp"

#include <algorithm>
#include <cstddef>
#include <span>
#include <string>

namespace tls_test {

// One direction: moves `from`'s pending output into `to`, at most `chunk` bytes per feed() call
// (1 = one byte at a time), and appends the plaintext `to` decrypts to `received`. Returns the
// number of bytes moved.
inline std::size_t transfer(mqttwire::broker::net::tls_engine& from,
                            mqttwire::broker::net::tls_engine& to, std::string& received,
                            std::size_t chunk) {
    std::size_t moved = 0;
    std::byte plain[4096];
    const auto drain = [&] {
        while (const auto n = to.read(plain)) received.append(reinterpret_cast<char*>(plain), n);
    };
    while (from.wants_write()) {
        const auto out = from.pending_output();
        const auto taken = to.feed(out.first(std::min(out.size(), chunk)));
        from.consume_output(taken);
        moved += taken;
        drain();
        if (taken == 0) break; // `to` is full until its reader drains it
    }
    drain();
    return moved;
}

// Both directions until nothing moves; false when that takes more than `max_rounds` rounds.
inline bool pump(mqttwire::broker::net::tls_engine& client,
                 mqttwire::broker::net::tls_engine& server, std::string& to_server,
                 std::string& to_client, std::size_t chunk = std::size_t{1} << 20,
                 int max_rounds = 1000) {
    for (int i = 0; i < max_rounds; ++i) {
        const auto a = transfer(client, server, to_server, chunk);
        const auto b = transfer(server, client, to_client, chunk);
        if (a == 0 && b == 0) return true;
    }
    return false;
}

} // namespace tls_test
