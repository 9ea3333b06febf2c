#include "net/tls_transport.hpp"

#include <algorithm>

#include "net/tcp_transport.hpp"

namespace mqttwire::broker::net {

tls_transport::tls_transport(std::unique_ptr<transport> lower, tls_engine engine,
                             tls_identity identity, const log_sink* log)
    : lower_(std::move(lower)), engine_(std::move(engine)), identity_mode_(identity), log_(log),
      peer_(peer_address::of(lower_->fd())) {}

tls_transport::~tls_transport() { close(); }

bool tls_transport::send_pending() {
    while (!broken_ && engine_.wants_write()) {
        const auto out = engine_.pending_output();
        const auto r = lower_->write(out);
        if (r.status == io_status::ok && r.bytes > 0) {
            engine_.consume_output(r.bytes);
            continue;
        }
        if (r.status == io_status::ok || r.status == io_status::would_block) break;
        broken_ = true;
    }
    return !broken_;
}

void tls_transport::report_failure() {
    if (reported_) return;
    reported_ = true;
    send_pending(); // the alert, if the socket takes it
    if (log_ != nullptr && *log_)
        (*log_)("mqttwire-broker: " + describe() +
             (engine_.handshake_complete() ? ": TLS connection failed: "
                                           : ": TLS handshake failed: ") +
             engine_.failure_message());
}

bool tls_transport::take_identity() {
    identity_checked_ = true;
    if (identity_mode_ == tls_identity::none) return true;
    auto user = identity_mode_ == tls_identity::common_name ? engine_.peer_common_name()
                                                            : engine_.peer_subject();
    if (user) {
        identity_ = std::move(user.value());
        return true;
    }
    reported_ = true;
    if (log_ != nullptr && *log_)
        (*log_)("mqttwire-broker: " + describe() + ": no user name from the client certificate (" +
             (identity_mode_ == tls_identity::common_name ? "use_identity_as_username"
                                                          : "use_subject_as_username") +
             "): " + user.error().message);
    return false;
}

io_result tls_transport::read(std::span<std::byte> into) {
    for (int reads = 0; !broken_;) {
        const std::size_t n = engine_.read(into);
        if (!send_pending()) break;
        if (engine_.state() == tls_state::failed) {
            report_failure();
            return {0, io_status::error};
        }
        if (n > 0) {
            if (!identity_checked_ && !take_identity()) return {0, io_status::error};
            return {n, io_status::ok};
        }
        if (engine_.state() == tls_state::closed) return {0, io_status::closed};
        const std::size_t room = engine_.input_room();
        // No room: decrypting waits for the peer to take our records (EPOLLOUT, then flush).
        if (room == 0 || reads == max_reads_without_data) return {0, io_status::would_block};
        ++reads;
        const auto got = lower_->read(into.first(std::min(into.size(), room)));
        if (got.status == io_status::ok && got.bytes > 0) {
            engine_.feed(into.first(got.bytes));
            continue;
        }
        if (got.status == io_status::would_block) {
            // The socket is drained: what the engine holds empty goes back to the heap (an
            // idle connection keeps no buffer; a busy one pays this once per batch).
            if (!engine_.wants_write()) engine_.release_buffers();
            return got;
        }
        if (got.status == io_status::error) break;
        engine_.end_of_input(); // a failure during the handshake, a close after it
    }
    broken_ = true;
    return {0, io_status::error};
}

io_result tls_transport::write(std::span<const std::byte> bytes) {
    if (!send_pending()) return {0, io_status::error};
    if (engine_.state() == tls_state::failed) {
        report_failure();
        return {0, io_status::error};
    }
    if (bytes.empty()) return {0, io_status::ok};
    if (engine_.state() != tls_state::established) {
        return {0, engine_.state() == tls_state::handshaking ? io_status::would_block
                                                             : io_status::closed};
    }
    const std::size_t n = engine_.write(bytes);
    if (!send_pending()) return {0, io_status::error};
    if (!engine_.wants_write()) engine_.release_buffers(); // all sent: see read()
    return {n, io_status::ok};
}

void tls_transport::close() {
    if (!lower_) return;
    if (!broken_ && engine_.state() == tls_state::established) {
        engine_.close(); // close_notify, if the socket takes it now
        send_pending();
    }
    lower_->close();
}

std::string tls_transport::describe() const { return peer_.text("tls"); }

std::string tls_transport::handshake_progress() const {
    if (!engine_.handshake_complete()) return "TLS: " + engine_.describe_incomplete_handshake();
    return lower_->handshake_progress();
}

std::unique_ptr<transport> make_tls_transport(int fd, std::shared_ptr<const tls_context> context,
                                              tls_identity identity, const log_sink* log) {
    auto engine = tls_engine::server(std::move(context));
    if (!engine) {
        if (log != nullptr && *log)
            (*log)("mqttwire-broker: TLS connection refused: " + engine.error().message);
        return nullptr;
    }
    return std::make_unique<tls_transport>(make_tcp_transport(fd), std::move(engine.value()),
                                           identity, log);
}

} // namespace mqttwire::broker::net
