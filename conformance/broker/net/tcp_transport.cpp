#include "net/tcp_transport.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

namespace mqttwire::broker {

tcp_transport::~tcp_transport() { close(); }

io_result tcp_transport::read(std::span<std::byte> into) {
    while (true) {
        const ssize_t n = ::recv(fd_, into.data(), into.size(), 0);
        if (n > 0) return {static_cast<std::size_t>(n), io_status::ok};
        if (n == 0) return {0, io_status::closed};
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return {0, io_status::would_block};
        return {0, io_status::error};
    }
}

io_result tcp_transport::write(std::span<const std::byte> bytes) {
    while (true) {
        const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n >= 0) return {static_cast<std::size_t>(n), io_status::ok};
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return {0, io_status::would_block};
        return {0, io_status::error};
    }
}

void tcp_transport::close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
}

std::string tcp_transport::describe() const {
    sockaddr_in addr{};
    socklen_t len = sizeof addr;
    if (fd_ < 0 || ::getpeername(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
        return "tcp";
    char host[INET_ADDRSTRLEN] = {};
    ::inet_ntop(AF_INET, &addr.sin_addr, host, sizeof host);
    return "tcp " + std::string(host) + ":" + std::to_string(ntohs(addr.sin_port));
}

std::unique_ptr<transport> make_tcp_transport(int fd) {
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return std::make_unique<tcp_transport>(fd);
}

} // namespace mqttwire::broker
