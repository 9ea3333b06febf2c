// The listening sockets: binding them, the ports they got, and turning accepting on and off
// (when the broker is at its connection limit or out of descriptors).

#include "net/server.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/tcp_transport.hpp"

namespace mqttwire::broker {

bool server::listen(const std::string& address, std::uint16_t port, std::string& error,
                    transport_factory make) {
    return listen(address, port, error, std::move(make), nullptr);
}

bool server::listen(const std::string& address, std::uint16_t port, std::string& error,
                    transport_factory make, const listener_policy* policy) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    if (::inet_pton(AF_INET, address.c_str(), &addr.sin_addr) != 1) {
        error = "not an IPv4 address: " + address;
        return false;
    }
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        error = std::string("socket: ") + std::strerror(errno);
        return false;
    }
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(fd, 1024) != 0) {
        error = address + ":" + std::to_string(port) + ": " + std::strerror(errno);
        ::close(fd);
        return false;
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = listener_tag | listeners_.size();
    ::epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &ev);
    listeners_.push_back(
        {fd, make ? std::move(make) : transport_factory(make_tcp_transport), policy});
    return true;
}

std::vector<std::uint16_t> server::bound_ports() const {
    std::vector<std::uint16_t> ports;
    for (const auto& l : listeners_) {
        sockaddr_in addr{};
        socklen_t len = sizeof addr;
        if (::getsockname(l.fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
            ports.push_back(ntohs(addr.sin_port));
    }
    return ports;
}

void server::set_accepting(bool on) {
    if (accepting_ == on) return;
    accepting_ = on;
    for (std::size_t i = 0; i < listeners_.size(); ++i) {
        epoll_event ev{};
        ev.events = on ? EPOLLIN : 0u;
        ev.data.u64 = listener_tag | i;
        ::epoll_ctl(epoll_, EPOLL_CTL_MOD, listeners_[i].fd, &ev);
    }
}

} // namespace mqttwire::broker
