#pragma once
// A connection's byte stream as the event loop sees it. TCP is one transport; TLS and WebSocket
// are layered ones (they keep their own buffers, so they may need to write when the broker has
// nothing to say, and may hold bytes they already decoded). The loop waits on fd() and drives
// read() and write(); everything MQTT happens in the broker core.

#include <cstddef>
#include <functional>
#include <memory>
#include <span>
#include <string>

namespace mqttwire::broker {

enum class io_status : unsigned char {
    ok,          ///< `bytes` moved (possibly fewer than asked)
    would_block, ///< nothing moved now; wait for the descriptor
    closed,      ///< the peer closed its side (read) or the connection is gone
    error,       ///< the transport failed; close it
};

struct io_result {
    std::size_t bytes = 0;
    io_status status = io_status::ok;
};

class transport {
  public:
    virtual ~transport() = default;

    /// Reads up to `into.size()` bytes of the MQTT stream.
    virtual io_result read(std::span<std::byte> into) = 0;
    /// Writes a prefix of `bytes` of the MQTT stream.
    virtual io_result write(std::span<const std::byte> bytes) = 0;
    /// True when the transport has bytes of its own waiting for the descriptor to become
    /// writable (records or frames not yet sent), even with nothing from the broker.
    [[nodiscard]] virtual bool wants_write() const = 0;
    /// True when read() can return bytes without the descriptor being readable (decoded and
    /// buffered by a layer).
    [[nodiscard]] virtual bool has_buffered_input() const { return false; }
    /// True while the transport takes no input until its own output drains (the peer sends
    /// but does not read: TLS records or WebSocket replies are waiting): the loop stops watching
    /// the descriptor for input meanwhile instead of being woken for it again and again.
    [[nodiscard]] virtual bool input_paused() const { return false; }
    /// Ends the connection; the descriptor is closed.
    virtual void close() = 0;

    /// False while a layer's own handshake (TLS, the WebSocket upgrade) is still running: the
    /// event loop gives it handshake_timeout and then closes it, naming how far it got.
    [[nodiscard]] virtual bool handshake_complete() const { return true; }
    /// For the log line of a handshake that ran out of time: what it was waiting for.
    [[nodiscard]] virtual std::string handshake_progress() const { return {}; }
    /// The user name the transport established once its handshake is complete (a client
    /// certificate's CN or subject, with use_identity_as_username / use_subject_as_username);
    /// null: none.
    [[nodiscard]] virtual const std::string* identity() const { return nullptr; }

    /// The descriptor the event loop waits on.
    [[nodiscard]] virtual int fd() const = 0;
    /// For log lines: "tcp 127.0.0.1:5555" and the like.
    [[nodiscard]] virtual std::string describe() const = 0;
};

/// Makes the transport for a freshly accepted socket: each listener has one (TCP, TLS, ...).
using transport_factory = std::function<std::unique_ptr<transport>(int fd)>;

/// A layered transport's socket reads per read() call that yield nothing for the layer above
/// (TLS handshake or empty records; WebSocket control frames or frame headers alone) before the
/// loop gets the descriptor back: level-triggered epoll calls again.
inline constexpr int max_reads_without_data = 16;

} // namespace mqttwire::broker
