#pragma once
// MQTT over WebSockets (MQTT 3.1.1 and 5.0 section 6, RFC 6455) over another transport: TCP for
// a `protocol websockets` listener, TLS for one with certificates too (WSS). The core's handshake
// parser answers the HTTP upgrade (101 with `Sec-WebSocket-Protocol: mqtt` or `mqttv3.1`; 426 for
// a version other than 13; 400, 405, 431, 505 otherwise); then the core's deframer turns the
// client's binary frames back into the MQTT byte stream in place, in the buffer the event loop
// reads into (packets may span frames and frames may hold several packets), answers Ping with
// Pong, echoes Close, and fails the connection with the close code the rule calls for (1002
// unmasked frame or other framing error, 1003 text frame, 1009 message over the limit). The
// broker's bytes go out as binary frames.
//
// Bounds: the request head (8 KiB, 64 fields, held only until the upgrade), a message size
// (checked from each frame header before its payload arrives), and the frames waiting for the
// layer below (`max_pending_output`; beyond it the broker's bytes wait in its own bounded output
// buffer and input is not read, so Pongs cannot pile up either).

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <mqttwire/websocket.hpp>

#include "core/settings.hpp"
#include "net/peer_address.hpp"
#include "net/transport.hpp"

namespace mqttwire::broker::net {

/// The broker's WebSocket message bound is never below this (see main.cpp): a message may carry
/// many packets, and its payload is streamed to the framer, not held.
inline constexpr std::uint64_t ws_min_message_bound = 16u << 20;

struct ws_transport_options {
    /// The largest WebSocket message (all fragments) accepted: 1009 beyond.
    std::uint64_t max_message_size = mqttwire::max_packet_size_limit;
    /// Framed bytes held for the layer below before write() takes no more.
    std::size_t max_pending_output = 64 * 1024;
};

class ws_transport final : public transport {
  public:
    /// `log` (null: none) outlives the transport.
    ws_transport(std::unique_ptr<transport> lower, ws_transport_options options,
                 const log_sink* log);
    ~ws_transport() override;
    ws_transport(const ws_transport&) = delete;
    ws_transport& operator=(const ws_transport&) = delete;

    io_result read(std::span<std::byte> into) override;
    io_result write(std::span<const std::byte> bytes) override;
    [[nodiscard]] bool wants_write() const override {
        return out_at_ < out_.size() || lower_->wants_write();
    }
    [[nodiscard]] bool has_buffered_input() const override {
        return state_ == state::open && !output_full() && lower_->has_buffered_input();
    }
    [[nodiscard]] bool input_paused() const override {
        return output_full() || lower_->input_paused();
    }
    void close() override;
    [[nodiscard]] int fd() const override { return lower_->fd(); }
    [[nodiscard]] std::string describe() const override;
    [[nodiscard]] bool handshake_complete() const override {
        return state_ != state::upgrading && lower_->handshake_complete();
    }
    [[nodiscard]] std::string handshake_progress() const override;
    [[nodiscard]] const std::string* identity() const override { return lower_->identity(); }

  private:
    enum class state : unsigned char {
        upgrading, ///< reading the HTTP request
        open,      ///< frames both ways
        closing,   ///< the peer's Close arrived (echoed); no more input
        failed,    ///< refused or failed (reply queued); no more input
    };

    io_result read_upgrade(std::span<std::byte> into);
    io_result read_frames(std::span<std::byte> into);
    /// Deframes `into[0, n)` in place; the MQTT bytes it held, or the state changed.
    std::size_t deframe(std::span<std::byte> into, std::size_t n);
    void queue(std::span<const std::byte> bytes);
    bool send_pending();
    [[nodiscard]] bool output_full() const noexcept {
        return out_.size() - out_at_ >= options_.max_pending_output;
    }
    void log(const std::string& what) const;

    std::unique_ptr<transport> lower_;
    ws_transport_options options_;
    const log_sink* log_;
    state state_ = state::upgrading;
    bool close_sent_ = false;
    bool broken_ = false; // the layer below failed
    ws::upgrade_request_parser parser_;
    ws::deframer deframer_;
    std::vector<std::byte> head_; // the request so far, until the upgrade
    std::size_t head_have_ = 0;
    std::vector<std::byte> out_; // framed bytes not yet taken by the layer below
    std::size_t out_at_ = 0;
    peer_address peer_;
    bool over_tls_ = false; // WSS
};

/// @brief WebSocket framing over `lower` (a TCP or TLS transport of an accepted socket).
[[nodiscard]] std::unique_ptr<transport> make_ws_transport(std::unique_ptr<transport> lower,
                                                           ws_transport_options options,
                                                           const log_sink* log);

} // namespace mqttwire::broker::net
