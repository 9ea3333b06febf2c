#pragma once
// TLS over another transport (TCP): the sans-I/O tls_engine between the socket and the broker.
// Ciphertext read from the layer below is fed to the engine and the plaintext handed up; the
// broker's bytes are encrypted and the records sent as far as the socket takes them, the rest
// kept by the engine (bounded by tls_engine_limits: a full engine stops taking plaintext, so the
// broker's own output bound applies). A failed handshake (unknown CA, no client certificate,
// plain MQTT or garbage on the port, ...) sends its alert, writes one log line naming the cause
// and ends this connection alone.

#include <memory>
#include <string>

#include "core/settings.hpp"
#include "net/peer_address.hpp"
#include "net/tls_engine.hpp"
#include "net/transport.hpp"

namespace mqttwire::broker::net {

/// Which certificate field becomes the user name (mosquitto's use_identity_as_username and
/// use_subject_as_username).
enum class tls_identity : unsigned char { none, common_name, subject };

class tls_transport final : public transport {
  public:
    /// Runs `engine` (server role, fresh) over `lower`; `log` (null: none; it outlives the
    /// transport) gets the failure line, prefixed with describe().
    tls_transport(std::unique_ptr<transport> lower, tls_engine engine, tls_identity identity,
                  const log_sink* log);
    ~tls_transport() override;
    tls_transport(const tls_transport&) = delete;
    tls_transport& operator=(const tls_transport&) = delete;

    io_result read(std::span<std::byte> into) override;
    io_result write(std::span<const std::byte> bytes) override;
    [[nodiscard]] bool wants_write() const override {
        return engine_.wants_write() || lower_->wants_write();
    }
    /// Buffered records count only while they can be decrypted: with the engine's output full
    /// (the peer does not read) nothing moves until the socket takes it.
    [[nodiscard]] bool has_buffered_input() const override {
        return engine_.output_room() > 0 &&
               (engine_.has_buffered_input() || lower_->has_buffered_input());
    }
    [[nodiscard]] bool input_paused() const override {
        return engine_.output_room() == 0 || lower_->input_paused();
    }
    void close() override;
    [[nodiscard]] int fd() const override { return lower_->fd(); }
    [[nodiscard]] std::string describe() const override;
    [[nodiscard]] bool handshake_complete() const override {
        return engine_.handshake_complete() && lower_->handshake_complete();
    }
    [[nodiscard]] std::string handshake_progress() const override;
    [[nodiscard]] const std::string* identity() const override {
        return identity_.empty() ? nullptr : &identity_;
    }

    [[nodiscard]] const tls_engine& engine() const noexcept { return engine_; }

  private:
    /// Sends the engine's pending records; false when the layer below failed.
    bool send_pending();
    /// Logs the engine's failure once and tries to send its alert.
    void report_failure();
    /// After the handshake: the identity, or a failure when the certificate has none usable.
    bool take_identity();

    std::unique_ptr<transport> lower_;
    tls_engine engine_;
    tls_identity identity_mode_;
    const log_sink* log_;
    std::string identity_;
    peer_address peer_;
    bool identity_checked_ = false;
    bool reported_ = false;
    bool broken_ = false; // the layer below failed
};

/// @brief TLS with `context` (a listener's current one) over TCP on the accepted socket `fd`.
/// Null (the socket is left to the caller to close) when OpenSSL cannot allocate.
[[nodiscard]] std::unique_ptr<transport>
make_tls_transport(int fd, std::shared_ptr<const tls_context> context, tls_identity identity,
                   const log_sink* log);

} // namespace mqttwire::broker::net
