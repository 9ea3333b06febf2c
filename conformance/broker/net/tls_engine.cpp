// One TLS connection's life: construction, input, the handshake, application data, close.
// Failure diagnosis: tls_engine_diagnosis.cpp; the peer's identity: tls_engine_peer.cpp.

#include "net/tls_engine.hpp"
#include "net/tls_internal.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <arpa/inet.h>

#include <algorithm>
#include <limits>
#include <memory>
#include <new>
#include <string>
#include <utility>

namespace mqttwire::broker::net {

namespace {

bool is_ip_literal(const std::string& name) {
    unsigned char buf[16];
    return ::inet_pton(AF_INET, name.c_str(), buf) == 1 ||
           ::inet_pton(AF_INET6, name.c_str(), buf) == 1;
}

struct ssl_deleter {
    void operator()(SSL* s) const noexcept { SSL_free(s); }
};

// Capacity an empty byte queue may keep (see release_idle_buffers).
constexpr std::size_t kept_buffer_bytes = 1024;

tls_result<std::unique_ptr<SSL, ssl_deleter>> new_ssl(const tls_context& context, BIO*& bio) {
    ERR_clear_error();
    std::unique_ptr<SSL, ssl_deleter> ssl(SSL_new(context.native()));
    bio = detail::new_queue_bio();
    if (!ssl || bio == nullptr) {
        BIO_free(bio);
        return tls_error{
            {}, "cannot create a TLS connection: " + detail::take_openssl_error("out of memory")};
    }
    // One BIO both ways: SSL_set_bio takes the one reference for both.
    SSL_set_bio(ssl.get(), bio, bio);
    return ssl;
}

// OpenSSL's BIO calls take int lengths.
std::uint32_t clamp_limit(std::size_t v) noexcept {
    return static_cast<std::uint32_t>(
        std::clamp<std::size_t>(v, 1, static_cast<std::size_t>(std::numeric_limits<int>::max())));
}

} // namespace

tls_engine::tls_engine(std::shared_ptr<const tls_context> context, SSL* ssl, BIO* bio,
                       tls_role role, tls_engine_limits limits) noexcept
    : context_(std::move(context)), ssl_(ssl), bio_(bio), max_input_(clamp_limit(limits.max_input)),
      max_output_(clamp_limit(limits.max_output)), role_(role) {
    reset_app_data();
}

tls_result<tls_engine> tls_engine::server(std::shared_ptr<const tls_context> context,
                                          tls_engine_limits limits) {
    if (!context || context->role() != tls_role::server)
        return tls_error{{}, "a server engine needs a server context"};
    BIO* bio = nullptr;
    auto ssl = new_ssl(*context, bio);
    if (!ssl) return ssl.error();
    SSL_set_accept_state(ssl.value().get());
    return tls_engine(std::move(context), ssl.value().release(), bio, tls_role::server, limits);
}

tls_result<tls_engine> tls_engine::client(std::shared_ptr<const tls_context> context,
                                          std::string_view server_name, tls_engine_limits limits) {
    if (!context || context->role() != tls_role::client)
        return tls_error{{}, "a client engine needs a client context"};
    BIO* bio = nullptr;
    auto made = new_ssl(*context, bio);
    if (!made) return made.error();
    SSL* ssl = made.value().get();
    SSL_set_connect_state(ssl);
    if (!server_name.empty()) {
        const std::string name(server_name);
        const bool ip = is_ip_literal(name);
        bool ok = ip || SSL_set_tlsext_host_name(ssl, name.c_str()) == 1;
        if (SSL_get_verify_mode(ssl) != SSL_VERIFY_NONE)
            ok = ok && (ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name.c_str())
                           : SSL_set1_host(ssl, name.c_str())) == 1;
        if (!ok)
            return tls_error{{},
                             "invalid server name '" + name +
                                 "': " + detail::take_openssl_error("rejected")};
    }
    tls_result<tls_engine> engine(
        tls_engine(std::move(context), made.value().release(), bio, tls_role::client, limits));
    // The ClientHello goes out without waiting for input.
    engine.value().advance_handshake();
    return engine;
}

tls_engine::tls_engine(tls_engine&& other) noexcept
    : context_(std::move(other.context_)), ssl_(std::exchange(other.ssl_, nullptr)),
      bio_(std::exchange(other.bio_, nullptr)), queues_(std::move(other.queues_)),
      max_input_(other.max_input_), max_output_(other.max_output_), bytes_in_(other.bytes_in_),
      verify_error_(other.verify_error_), peer_max_version_(other.peer_max_version_),
      role_(other.role_), state_(other.state_), failure_(other.failure_),
      handshake_done_(other.handshake_done_), sniffed_(other.sniffed_),
      input_ended_(other.input_ended_), first_count_(other.first_count_), first_(other.first_),
      message_(std::move(other.message_)) {
    reset_app_data();
}

tls_engine& tls_engine::operator=(tls_engine&& other) noexcept {
    if (this != &other) {
        this->~tls_engine();
        new (this) tls_engine(std::move(other));
    }
    return *this;
}

tls_engine::~tls_engine() {
    if (ssl_ != nullptr) SSL_free(ssl_); // frees the BIO
}

// OpenSSL's callbacks find the engine, and the BIO its queues, at their current address.
void tls_engine::reset_app_data() noexcept {
    if (ssl_ != nullptr) SSL_set_app_data(ssl_, this);
    detail::attach_queues(bio_, &queues_);
}

// ----- input -----------------------------------------------------------------------------------

std::size_t tls_engine::input_room() const noexcept {
    if (ssl_ == nullptr) return 0;
    const auto pending = queues_.in.size();
    return pending >= max_input_ ? 0 : max_input_ - pending;
}

// After close() the input still matters until the peer's close_notify: it completes a clean
// shutdown (closed_cleanly()).
bool tls_engine::takes_input() const noexcept {
    if (ssl_ == nullptr || state_ == tls_state::failed || input_ended_) return false;
    if (state_ == tls_state::closed)
        return handshake_done_ && (SSL_get_shutdown(ssl_) & SSL_RECEIVED_SHUTDOWN) == 0;
    return true;
}

std::size_t tls_engine::feed(std::span<const std::byte> ciphertext) {
    if (!takes_input()) return ciphertext.size();
    const auto chunk = ciphertext.first(std::min(ciphertext.size(), input_room()));
    if (chunk.empty()) return 0;
    bytes_in_ = static_cast<std::uint32_t>(std::min<std::uint64_t>(
        std::uint64_t{bytes_in_} + chunk.size(), std::numeric_limits<std::uint32_t>::max()));
    if (!sniffed_) {
        sniff(chunk);
        if (state_ == tls_state::failed) return ciphertext.size();
    }
    try {
        queues_.in.append(chunk);
    } catch (const std::bad_alloc&) {
        fail(tls_failure::internal, "out of memory buffering TLS input");
        return ciphertext.size();
    }
    if (sniffed_ && state_ == tls_state::handshaking) advance_handshake();
    release_idle_buffers();
    return chunk.size();
}

bool tls_engine::has_buffered_input() const noexcept {
    return ssl_ != nullptr && (!queues_.in.empty() || SSL_has_pending(ssl_) != 0);
}

void tls_engine::end_of_input() {
    input_ended_ = true;
    if (state_ == tls_state::handshaking) {
        fail(tls_failure::peer_closed, bytes_in_ == 0
                                           ? "the connection closed before the TLS handshake began"
                                           : "the connection closed during the TLS handshake (" +
                                                 describe_incomplete_handshake() + ")");
    } else if (state_ == tls_state::established) {
        state_ = tls_state::closed;
    }
}

// ----- handshake -------------------------------------------------------------------------------

void tls_engine::advance_handshake() {
    if (handshake_done_ || ssl_ == nullptr) return;
    ERR_clear_error();
    const int r = SSL_do_handshake(ssl_);
    if (r == 1) {
        handshake_done_ = true;
        state_ = tls_state::established;
        message_.clear();
        message_.shrink_to_fit();
        return;
    }
    const int e = SSL_get_error(ssl_, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return;
    fail_from_openssl(e);
}

// ----- application data ------------------------------------------------------------------------

std::size_t tls_engine::read(std::span<std::byte> plaintext) {
    if (state_ == tls_state::handshaking && sniffed_) advance_handshake();
    const bool readable =
        state_ == tls_state::established || (state_ == tls_state::closed && takes_input());
    if (!readable || plaintext.empty() || output_room() == 0) {
        release_idle_buffers();
        return 0;
    }
    // Nothing buffered anywhere: SSL_read could only say "want read". Callers read until 0, so
    // this is the common last call, and skipping it saves a third of the per-record overhead.
    if (queues_.in.empty() && SSL_has_pending(ssl_) == 0) {
        release_idle_buffers();
        return 0;
    }
    ERR_clear_error();
    std::size_t n = 0;
    const int r = SSL_read_ex(ssl_, plaintext.data(), plaintext.size(), &n);
    if (r != 1) {
        n = 0;
        const int e = SSL_get_error(ssl_, r);
        if (e == SSL_ERROR_ZERO_RETURN)
            state_ = tls_state::closed; // close_notify
        else if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
            fail_from_openssl(e);
    }
    release_idle_buffers();
    return n;
}

std::size_t tls_engine::output_room() const noexcept {
    if (ssl_ == nullptr) return 0;
    const auto pending = queues_.out.size();
    return pending >= max_output_ ? 0 : max_output_ - pending;
}

std::size_t tls_engine::write(std::span<const std::byte> plaintext) {
    if (state_ != tls_state::established) return 0;
    const auto n = std::min(plaintext.size(), output_room());
    if (n == 0) return 0;
    ERR_clear_error();
    std::size_t written = 0;
    const int r = SSL_write_ex(ssl_, plaintext.data(), n, &written);
    if (r != 1) {
        const int e = SSL_get_error(ssl_, r);
        if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) fail_from_openssl(e);
        return 0;
    }
    return written;
}

std::span<const std::byte> tls_engine::pending_output() const noexcept {
    return queues_.out.front();
}

void tls_engine::consume_output(std::size_t n) noexcept {
    if (n == 0) return;
    queues_.out.drop(n); // an offset moves: nothing is copied
    release_idle_buffers();
}

void tls_engine::close() {
    if (ssl_ != nullptr && handshake_done_ && state_ != tls_state::failed &&
        (SSL_get_shutdown(ssl_) & SSL_SENT_SHUTDOWN) == 0) {
        ERR_clear_error();
        static_cast<void>(SSL_shutdown(ssl_)); // queues close_notify
        ERR_clear_error();
    }
    if (state_ != tls_state::failed) state_ = tls_state::closed;
}

bool tls_engine::closed_cleanly() const noexcept {
    return ssl_ != nullptr && (SSL_get_shutdown(ssl_) & SSL_RECEIVED_SHUTDOWN) != 0;
}

// Both queues keep their largest storage until released; an empty one with more than a small
// packet's worth of capacity gives it back, so an idle connection holds at most that much.
// Keeping the small storage saves allocations per record when packets are small.
void tls_engine::release_idle_buffers() noexcept { release_idle_buffers(kept_buffer_bytes); }

void tls_engine::release_idle_buffers(std::size_t keep) noexcept {
    queues_.in.release(keep);
    queues_.out.release(keep);
}

} // namespace mqttwire::broker::net
