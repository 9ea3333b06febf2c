#pragma once
// The byte queues between a tls_engine and OpenSSL, and the one BIO through which OpenSSL reads
// the first and writes the second; not part of the interface.
//
// A memory BIO per direction would cost two BIO objects with their buffer headers per
// connection (about 250 heap bytes each with OpenSSL 3.0). One BIO for both directions, whose
// data are the engine's own queues, costs one BIO object; an empty queue holds no memory once
// released.

#include <openssl/types.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace mqttwire::broker::net::detail {

/// Bytes appended at the back and taken from the front; the front is an offset, so taking
/// copies nothing, and the storage is compacted only when an append would need more capacity.
class byte_queue {
  public:
    [[nodiscard]] std::size_t size() const noexcept { return bytes_.size() - head_; }
    [[nodiscard]] bool empty() const noexcept { return size() == 0; }
    [[nodiscard]] std::span<const std::byte> front() const noexcept {
        return std::span<const std::byte>(bytes_).subspan(head_);
    }

    /// Appends `bytes`; std::bad_alloc when memory runs out.
    void append(std::span<const std::byte> bytes);
    /// Copies up to `out.size()` bytes from the front into `out` and drops them.
    std::size_t take(std::span<std::byte> out) noexcept;
    /// Drops the first `n` bytes (at most size()).
    void drop(std::size_t n) noexcept;
    /// Frees the storage when the queue is empty and holds more than `keep` bytes of capacity.
    void release(std::size_t keep) noexcept;

  private:
    std::vector<std::byte> bytes_;
    std::size_t head_ = 0;
};

/// What the BIO reads from (`in`: ciphertext from the peer) and writes to (`out`: ciphertext
/// for the peer).
struct tls_queues {
    byte_queue in;
    byte_queue out;
};

/// A new BIO over no queues yet (reads "retry", writes fail) with one reference, for
/// SSL_set_bio(ssl, bio, bio); nullptr when OpenSSL cannot allocate.
[[nodiscard]] BIO* new_queue_bio() noexcept;

/// Points `bio` (made by new_queue_bio) at `queues`; again whenever the queues move.
void attach_queues(BIO* bio, tls_queues* queues) noexcept;

} // namespace mqttwire::broker::net::detail
