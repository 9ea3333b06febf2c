#include "server.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>

namespace mqttwire::broker {

namespace {
constexpr int max_events = 256;
constexpr std::size_t read_chunk = 64 * 1024;
constexpr int reads_per_turn = 16; // fairness: at most 1 MiB per connection per loop turn
constexpr auto tick_every = std::chrono::milliseconds(250);
} // namespace

server::server(broker& b, log_sink log, std::int64_t max_connections)
    : broker_(b), log_(std::move(log)), max_connections_(max_connections) {
    epoll_ = ::epoll_create1(EPOLL_CLOEXEC);
}

server::~server() {
    for (auto& [id, fd] : fd_of_) ::close(fd);
    for (int fd : listeners_) ::close(fd);
    if (signal_fd_ >= 0) ::close(signal_fd_);
    if (epoll_ >= 0) ::close(epoll_);
}

bool server::listen(const std::string& address, std::uint16_t port, std::string& error) {
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
    ev.data.fd = fd;
    ::epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &ev);
    listeners_.push_back(fd);
    return true;
}

std::vector<std::uint16_t> server::bound_ports() const {
    std::vector<std::uint16_t> ports;
    for (int fd : listeners_) {
        sockaddr_in addr{};
        socklen_t len = sizeof addr;
        if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
            ports.push_back(ntohs(addr.sin_port));
    }
    return ports;
}

void server::watch_output(int fd, bool on) {
    const auto i = static_cast<std::size_t>(fd);
    if (i >= writing_.size()) writing_.resize(i + 1, 0);
    if ((writing_[i] != 0) == on) return;
    writing_[i] = on ? 1 : 0;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP | (on ? EPOLLOUT : 0u);
    ev.data.fd = fd;
    ::epoll_ctl(epoll_, EPOLL_CTL_MOD, fd, &ev);
}

void server::drop(conn_id id) {
    const auto it = fd_of_.find(id);
    if (it == fd_of_.end()) return;
    const int fd = it->second;
    ::epoll_ctl(epoll_, EPOLL_CTL_DEL, fd, nullptr);
    ::close(fd);
    by_fd_[static_cast<std::size_t>(fd)] = 0;
    writing_[static_cast<std::size_t>(fd)] = 0;
    fd_of_.erase(it);
    broker_.connection_lost(id, clock::now());
}

void server::flush(conn_id id) {
    const auto it = fd_of_.find(id);
    if (it == fd_of_.end()) return;
    const int fd = it->second;
    while (true) {
        const auto out = broker_.pending_output(id);
        if (out.empty()) break;
        const ssize_t n = ::send(fd, out.data(), out.size(), MSG_NOSIGNAL);
        if (n > 0) {
            broker_.output_written(id, static_cast<std::size_t>(n));
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            watch_output(fd, true);
            return;
        }
        if (n < 0 && errno == EINTR) continue;
        drop(id); // the peer is gone
        return;
    }
    watch_output(fd, false);
    if (broker_.should_close(id)) drop(id);
}

int server::run() {
    if (epoll_ < 0) return 1;
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    ::sigprocmask(SIG_BLOCK, &mask, nullptr);
    ::signal(SIGPIPE, SIG_IGN);
    signal_fd_ = ::signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    if (signal_fd_ >= 0) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.fd = signal_fd_;
        ::epoll_ctl(epoll_, EPOLL_CTL_ADD, signal_fd_, &ev);
    }
    std::array<epoll_event, max_events> events{};
    std::vector<std::byte> buf(read_chunk);
    auto last_tick = clock::now();
    bool stop = false;
    while (!stop) {
        const int n = ::epoll_wait(epoll_, events.data(), max_events,
                                   static_cast<int>(tick_every.count()));
        if (n < 0 && errno != EINTR) return 1;
        for (int i = 0; i < n; ++i) {
            const int fd = events[static_cast<std::size_t>(i)].data.fd;
            const auto ev = events[static_cast<std::size_t>(i)].events;
            if (fd == signal_fd_) {
                signalfd_siginfo info{};
                while (::read(signal_fd_, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
                }
                stop = true;
                continue;
            }
            if (std::find(listeners_.begin(), listeners_.end(), fd) != listeners_.end()) {
                while (true) {
                    const int cfd = ::accept4(fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
                    if (cfd < 0) break;
                    if (max_connections_ >= 0 &&
                        static_cast<std::int64_t>(fd_of_.size()) >= max_connections_) {
                        ::close(cfd); // max_connections reached
                        continue;
                    }
                    const int one = 1;
                    ::setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    const conn_id id = broker_.accept(clock::now());
                    const auto slot = static_cast<std::size_t>(cfd);
                    if (slot >= by_fd_.size()) {
                        by_fd_.resize(slot + 1, 0);
                        writing_.resize(slot + 1, 0);
                    }
                    by_fd_[slot] = id;
                    writing_[slot] = 0;
                    fd_of_[id] = cfd;
                    epoll_event cev{};
                    cev.events = EPOLLIN | EPOLLRDHUP;
                    cev.data.fd = cfd;
                    ::epoll_ctl(epoll_, EPOLL_CTL_ADD, cfd, &cev);
                }
                continue;
            }
            if (fd < 0 || static_cast<std::size_t>(fd) >= by_fd_.size()) continue;
            const conn_id id = by_fd_[static_cast<std::size_t>(fd)];
            if (id == 0) continue;
            if ((ev & EPOLLOUT) != 0) flush(id);
            if (fd_of_.count(id) == 0) continue;
            if ((ev & (EPOLLIN | EPOLLERR | EPOLLHUP | EPOLLRDHUP)) != 0) {
                bool gone = false;
                for (int r = 0; r < reads_per_turn; ++r) {
                    const ssize_t got = ::recv(fd, buf.data(), buf.size(), 0);
                    if (got > 0) {
                        broker_.receive(id, std::span<const std::byte>(buf.data(),
                                                                      static_cast<std::size_t>(got)),
                                        clock::now());
                        if (static_cast<std::size_t>(got) < buf.size()) break;
                        continue;
                    }
                    if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
                    if (got < 0 && errno == EINTR) continue;
                    gone = true; // EOF or error
                    break;
                }
                if (gone) {
                    flush(id);
                    drop(id);
                }
            }
        }
        const auto now = clock::now();
        if (now - last_tick >= tick_every) {
            broker_.tick(now);
            last_tick = now;
        }
        for (conn_id id : broker_.take_dirty()) flush(id);
    }
    broker_.shutdown(clock::now());
    for (conn_id id : broker_.take_dirty()) flush(id);
    std::vector<conn_id> all;
    for (auto& [id, fd] : fd_of_) all.push_back(id);
    for (conn_id id : all) drop(id);
    if (log_) log_("mqttwire-broker: stopped");
    return 0;
}

} // namespace mqttwire::broker
