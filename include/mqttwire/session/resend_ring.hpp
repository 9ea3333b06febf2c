#pragma once
/// @file
/// @brief Copies of unacknowledged PUBLISH packets, kept to be resent after a reconnect, in one
/// fixed-size ring of bytes. Acknowledgements may arrive in any order; space comes back once
/// every older copy is released too, so the ring never fragments and every operation is O(1)
/// amortised.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "storage.hpp"

namespace mqttwire::detail {

// Each copy is a 4-byte header (length << 1 | released) followed by the bytes. Live copies sit in
// [head, tail), or in [head, end) and [0, tail) once the writer has wrapped around.
template <class Storage> class resend_ring {
  public:
    static constexpr std::size_t header = 4;

    explicit resend_ring(const Storage& s) noexcept : bytes_(s) {}

    [[nodiscard]] std::size_t limit() const noexcept { return bytes_.limit(); }
    [[nodiscard]] bool empty() const noexcept { return head_ == tail_ && !wrapped_; }

    // Room for a copy of `n` bytes, to be written through `get()`: its offset, or no_ref when the
    // ring is full (or smaller than the copy).
    [[nodiscard]] std::uint32_t allocate(std::size_t n) noexcept {
        const std::size_t need = header + n;
        if (need > bytes_.limit() || n > 0x7FFFFFFFu) return 0xFFFFFFFFu;
        if (!bytes_.reserve(bytes_.limit())) return 0xFFFFFFFFu;
        const std::size_t cap = bytes_.limit();
        std::size_t at = 0;
        if (!wrapped_) {
            if (cap - tail_ >= need) {
                at = tail_;
            } else if (head_ >= need) { // wrap around: [tail, cap) stays unused until head passes
                end_ = tail_;
                wrapped_ = true;
                at = 0;
            } else {
                return 0xFFFFFFFFu;
            }
        } else {
            if (head_ - tail_ < need) return 0xFFFFFFFFu;
            at = tail_;
        }
        write_header(at, static_cast<std::uint32_t>(n << 1));
        tail_ = at + need;
        return static_cast<std::uint32_t>(at);
    }

    // A copy of `packet`: its offset, or no_ref.
    [[nodiscard]] std::uint32_t store(std::span<const std::byte> packet) noexcept {
        const auto ref = allocate(packet.size());
        if (ref != 0xFFFFFFFFu && !packet.empty())
            std::memcpy(bytes_.data() + ref + header, packet.data(), packet.size());
        return ref;
    }

    [[nodiscard]] std::span<std::byte> get(std::uint32_t ref) noexcept {
        return {bytes_.data() + ref + header, read_header(ref) >> 1};
    }

    // Releases the copy at `ref`; reclaims space from the oldest copy on.
    void release(std::uint32_t ref) noexcept {
        write_header(ref, read_header(ref) | 1u);
        while (!empty()) {
            const auto h = read_header(head_);
            if ((h & 1u) == 0) break;
            head_ += header + (h >> 1);
            if (wrapped_ && head_ == end_) {
                head_ = 0;
                wrapped_ = false;
            }
            if (!wrapped_ && head_ == tail_) {
                head_ = tail_ = 0;
                bytes_.shrink_to(0);
            }
        }
    }

    void clear() noexcept {
        head_ = tail_ = end_ = 0;
        wrapped_ = false;
        bytes_.shrink_to(0);
    }

  private:
    [[nodiscard]] std::uint32_t read_header(std::size_t at) const noexcept {
        std::uint32_t h = 0;
        std::memcpy(&h, bytes_.data() + at, sizeof h);
        return h;
    }
    void write_header(std::size_t at, std::uint32_t h) noexcept {
        std::memcpy(bytes_.data() + at, &h, sizeof h);
    }

    typename Storage::template buffer<std::byte, storage_part::resend> bytes_;
    std::size_t head_ = 0;
    std::size_t tail_ = 0;
    std::size_t end_ = 0;
    bool wrapped_ = false;
};

} // namespace mqttwire::detail
