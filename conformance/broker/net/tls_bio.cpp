#include "net/tls_bio.hpp"

#include <openssl/bio.h>

#include <algorithm>
#include <cstring>
#include <new>

namespace mqttwire::broker::net::detail {

// ----- byte_queue ------------------------------------------------------------------------------

void byte_queue::append(std::span<const std::byte> bytes) {
    if (bytes.empty()) return;
    if (head_ == bytes_.size()) {
        bytes_.clear();
        head_ = 0;
    } else if (head_ != 0 && bytes_.size() + bytes.size() > bytes_.capacity()) {
        bytes_.erase(bytes_.begin(), bytes_.begin() + static_cast<std::ptrdiff_t>(head_));
        head_ = 0;
    }
    bytes_.insert(bytes_.end(), bytes.begin(), bytes.end());
}

std::size_t byte_queue::take(std::span<std::byte> out) noexcept {
    const auto n = std::min(out.size(), size());
    if (n == 0) return 0;
    std::memcpy(out.data(), front().data(), n);
    drop(n);
    return n;
}

void byte_queue::drop(std::size_t n) noexcept {
    head_ += std::min(n, size());
    if (head_ == bytes_.size()) {
        bytes_.clear();
        head_ = 0;
    }
}

void byte_queue::release(std::size_t keep) noexcept {
    if (!empty() || bytes_.capacity() <= keep) return;
    std::vector<std::byte>().swap(bytes_);
    head_ = 0;
}

// ----- the BIO ---------------------------------------------------------------------------------

namespace {

tls_queues* queues_of(BIO* b) noexcept { return static_cast<tls_queues*>(BIO_get_data(b)); }

// Ciphertext from the peer: what has arrived, or "retry" (SSL_ERROR_WANT_READ) when nothing
// has, so the handshake and SSL_read wait for more input instead of failing.
int read_ex(BIO* b, char* data, std::size_t size, std::size_t* read) {
    BIO_clear_retry_flags(b);
    *read = 0;
    auto* q = queues_of(b);
    if (q == nullptr || q->in.empty()) {
        BIO_set_retry_read(b);
        return 0;
    }
    *read = q->in.take(std::as_writable_bytes(std::span<char>(data, size)));
    return 1;
}

// Ciphertext for the peer: appended whole. The engine bounds it (write() and read() pause
// while max_output bytes wait), OpenSSL adds at most a record to that.
int write_ex(BIO* b, const char* data, std::size_t size, std::size_t* written) {
    BIO_clear_retry_flags(b);
    *written = 0;
    auto* q = queues_of(b);
    if (q == nullptr) return 0;
    try {
        q->out.append(std::as_bytes(std::span<const char>(data, size)));
    } catch (const std::bad_alloc&) {
        return 0; // OpenSSL reports a write error; the engine fails the connection
    }
    *written = size;
    return 1;
}

long ctrl(BIO* b, int cmd, long num, void*) {
    auto* q = queues_of(b);
    switch (cmd) {
    case BIO_CTRL_PENDING: return q == nullptr ? 0 : static_cast<long>(q->in.size());
    case BIO_CTRL_WPENDING: return q == nullptr ? 0 : static_cast<long>(q->out.size());
    case BIO_CTRL_FLUSH: return 1; // the engine's caller sends the output
    case BIO_CTRL_GET_CLOSE: return BIO_get_shutdown(b);
    case BIO_CTRL_SET_CLOSE: BIO_set_shutdown(b, static_cast<int>(num)); return 1;
    default: return 0;
    }
}

int create(BIO* b) {
    BIO_set_data(b, nullptr);
    BIO_set_init(b, 1);
    return 1;
}

int destroy(BIO* b) {
    BIO_set_data(b, nullptr); // the queues belong to the engine
    return 1;
}

// One method table for the process, made on first use and never changed afterwards.
const BIO_METHOD* queue_method() noexcept {
    static const BIO_METHOD* const method = [] {
        BIO_METHOD* m =
            BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "mqttwire tls queues");
        if (m == nullptr) return static_cast<const BIO_METHOD*>(nullptr);
        if (BIO_meth_set_read_ex(m, read_ex) != 1 || BIO_meth_set_write_ex(m, write_ex) != 1 ||
            BIO_meth_set_ctrl(m, ctrl) != 1 || BIO_meth_set_create(m, create) != 1 ||
            BIO_meth_set_destroy(m, destroy) != 1) {
            BIO_meth_free(m);
            return static_cast<const BIO_METHOD*>(nullptr);
        }
        return static_cast<const BIO_METHOD*>(m);
    }();
    return method;
}

} // namespace

BIO* new_queue_bio() noexcept {
    const BIO_METHOD* m = queue_method();
    return m == nullptr ? nullptr : BIO_new(m);
}

void attach_queues(BIO* bio, tls_queues* queues) noexcept {
    if (bio != nullptr) BIO_set_data(bio, queues);
}

} // namespace mqttwire::broker::net::detail
