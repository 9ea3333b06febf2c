#pragma once
// A connection's IPv4 peer, taken once at accept: log lines name it even after the peer reset
// the connection (getpeername fails then), in 8 bytes instead of a string per connection.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace mqttwire::broker::net {

struct peer_address {
    std::uint32_t ip = 0; ///< network byte order
    std::uint16_t port = 0;
    bool known = false;

    [[nodiscard]] static peer_address of(int fd) noexcept {
        sockaddr_in addr{};
        socklen_t len = sizeof addr;
        if (fd < 0 || ::getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0 ||
            addr.sin_family != AF_INET)
            return {};
        return {addr.sin_addr.s_addr, ntohs(addr.sin_port), true};
    }

    /// "tls 127.0.0.1:5555" for kind "tls"; the kind alone when the address is unknown.
    [[nodiscard]] std::string text(std::string_view kind) const {
        std::string s(kind);
        if (!known) return s;
        char host[INET_ADDRSTRLEN] = {};
        in_addr a{};
        a.s_addr = ip;
        ::inet_ntop(AF_INET, &a, host, sizeof host);
        return s + " " + host + ":" + std::to_string(port);
    }
};

} // namespace mqttwire::broker::net
