#pragma once
// The event loop of mqttwire-broker: epoll, non-blocking sockets, TCP_NODELAY, batched reads,
// one send() per connection per loop turn for everything the broker queued. All protocol logic
// lives in broker.hpp.

#include <cstdint>
#include <unordered_map>
#include <string>
#include <vector>

#include "broker.hpp"

namespace mqttwire::broker {

class server {
  public:
    server(broker& b, log_sink log, std::int64_t max_connections = -1);
    ~server();
    server(const server&) = delete;
    server& operator=(const server&) = delete;

    /// Binds and listens; port 0 picks a free port (see bound_ports()).
    [[nodiscard]] bool listen(const std::string& address, std::uint16_t port, std::string& error);
    [[nodiscard]] std::vector<std::uint16_t> bound_ports() const;

    /// Runs until SIGINT or SIGTERM, then closes every connection cleanly. Returns 0, or 1 when
    /// the loop could not be set up.
    int run();

  private:
    void flush(conn_id id);
    void drop(conn_id id);
    void watch_output(int fd, bool on);

    broker& broker_;
    log_sink log_;
    std::int64_t max_connections_;
    int epoll_ = -1;
    int signal_fd_ = -1;
    std::vector<int> listeners_;
    // Indexed by file descriptor (descriptors are small and dense): connection id (0: none) and
    // whether EPOLLOUT is armed.
    std::vector<conn_id> by_fd_;
    std::vector<char> writing_;
    std::unordered_map<conn_id, int> fd_of_;
};

} // namespace mqttwire::broker
