#pragma once
// Plain TCP: the socket is the stream.

#include <memory>
#include <string>

#include "net/transport.hpp"

namespace mqttwire::broker {

class tcp_transport final : public transport {
  public:
    /// Takes ownership of the connected, non-blocking socket `fd`.
    explicit tcp_transport(int fd) noexcept : fd_(fd) {}
    ~tcp_transport() override;
    tcp_transport(const tcp_transport&) = delete;
    tcp_transport& operator=(const tcp_transport&) = delete;

    io_result read(std::span<std::byte> into) override;
    io_result write(std::span<const std::byte> bytes) override;
    [[nodiscard]] bool wants_write() const override { return false; }
    void close() override;
    [[nodiscard]] int fd() const override { return fd_; }
    [[nodiscard]] std::string describe() const override;

  private:
    int fd_;
};

/// Plain TCP for a freshly accepted socket (TCP_NODELAY set).
[[nodiscard]] std::unique_ptr<transport> make_tcp_transport(int fd);

} // namespace mqttwire::broker
