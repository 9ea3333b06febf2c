#pragma once
/// @file
/// @brief Copies of unacknowledged PUBLISH packets, kept to be resent after a reconnect, in one
/// fixed-size ring of bytes. Acknowledgements may arrive in any order; space comes back once
/// every older copy is released too, so the ring never fragments and every operation is O(1)
/// amortised.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <type_traits>
#include <utility>

#include "outbound_table.hpp"
#include "storage.hpp"

namespace mqttwire::detail {

// The ring's bytes: the storage's array with fixed storage; allocated whole when the first copy
// is stored and freed when the last is released with allocator-backed storage (a pointer and the
// limit, no capacity to keep).
template <class Storage, bool Heap = Storage::allocates> class ring_bytes {
  public:
    constexpr explicit ring_bytes(const Storage& s) noexcept : bytes_(s) {}
    [[nodiscard]] constexpr std::byte* data() noexcept { return bytes_.data(); }
    [[nodiscard]] constexpr const std::byte* data() const noexcept { return bytes_.data(); }
    [[nodiscard]] constexpr std::size_t limit() const noexcept { return bytes_.limit(); }
    [[nodiscard]] constexpr bool acquire() noexcept { return bytes_.reserve(bytes_.limit()); }
    constexpr void release() noexcept { bytes_.shrink_to(0); }

  private:
    typename Storage::template buffer<std::byte, storage_part::resend> bytes_;
};

template <class Storage> class ring_bytes<Storage, true> {
    using allocator = std::remove_cvref_t<decltype(std::declval<const Storage&>().allocator())>;
    using alloc_t = typename std::allocator_traits<allocator>::template rebind_alloc<std::byte>;
    using traits = std::allocator_traits<alloc_t>;

  public:
    explicit ring_bytes(const Storage& s) noexcept
        : alloc_(s.allocator()), limit_(s.limits().resend_bytes) {}
    ring_bytes(const ring_bytes&) = delete;
    ring_bytes& operator=(const ring_bytes&) = delete;
    ~ring_bytes() { release(); }

    [[nodiscard]] std::byte* data() noexcept { return data_; }
    [[nodiscard]] const std::byte* data() const noexcept { return data_; }
    [[nodiscard]] std::size_t limit() const noexcept { return limit_; }
    // The whole ring; false when the allocator has no room.
    [[nodiscard]] bool acquire() noexcept {
        if (data_ == nullptr && limit_ != 0) data_ = traits::allocate(alloc_, limit_);
        return data_ != nullptr;
    }
    void release() noexcept {
        if (data_ != nullptr) traits::deallocate(alloc_, data_, limit_);
        data_ = nullptr;
    }

  private:
    [[no_unique_address]] alloc_t alloc_;
    std::byte* data_ = nullptr;
    std::uint32_t limit_;
};

// Each copy is a 4-byte header (length << 1 | released) followed by the bytes. Live copies sit in
// [head, tail), or in [head, end) and [0, tail) once the writer has wrapped around; `end` is 0
// while it has not (a wrap leaves a non-empty [0, end)). Offsets are 32-bit:
// `session_limits::resend_bytes` is.
template <class Storage> class resend_ring {
  public:
    static constexpr std::size_t header = 4;

    explicit resend_ring(const Storage& s) noexcept : bytes_(s) {}

    [[nodiscard]] std::size_t limit() const noexcept { return bytes_.limit(); }
    [[nodiscard]] bool empty() const noexcept { return head_ == tail_ && !wrapped(); }

    // Room for a copy of `n` bytes, to be written through `get()`: its offset, or no_ref when the
    // ring is full (or smaller than the copy).
    [[nodiscard]] std::uint32_t allocate(std::size_t n) noexcept {
        const std::size_t need = header + n;
        if (need > bytes_.limit() || n > 0x7FFFFFFFu) return 0xFFFFFFFFu;
        if (!bytes_.acquire()) return 0xFFFFFFFFu;
        const std::size_t cap = bytes_.limit();
        std::size_t at = 0;
        if (!wrapped()) {
            if (cap - tail_ >= need) {
                at = tail_;
            } else if (head_ >= need) { // wrap around: [tail, cap) stays unused until head passes
                end_ = tail_;           // not 0: the ring is not empty
                at = 0;
            } else {
                return 0xFFFFFFFFu;
            }
        } else {
            if (head_ - tail_ < need) return 0xFFFFFFFFu;
            at = tail_;
        }
        write_header(at, static_cast<std::uint32_t>(n << 1));
        tail_ = static_cast<std::uint32_t>(at + need);
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
            head_ += static_cast<std::uint32_t>(header) + (h >> 1);
            if (wrapped() && head_ == end_) head_ = end_ = 0;
            if (!wrapped() && head_ == tail_) {
                head_ = tail_ = 0;
                bytes_.release();
            }
        }
    }

    void clear() noexcept {
        head_ = tail_ = end_ = 0;
        bytes_.release();
    }

  private:
    [[nodiscard]] bool wrapped() const noexcept { return end_ != 0; }
    [[nodiscard]] std::uint32_t read_header(std::size_t at) const noexcept {
        std::uint32_t h = 0;
        std::memcpy(&h, bytes_.data() + at, sizeof h);
        return h;
    }
    void write_header(std::size_t at, std::uint32_t h) noexcept {
        std::memcpy(bytes_.data() + at, &h, sizeof h);
    }

    // With allocator-backed storage a pointer and the limit, the offsets after them: 24 bytes.
    [[no_unique_address]] ring_bytes<Storage> bytes_;
    std::uint32_t head_ = 0;
    std::uint32_t tail_ = 0;
    std::uint32_t end_ = 0;
};

// The copy ring of a storage that keeps no copies (`Storage::keeps_copies` false): no bytes,
// a limit of 0, so `session_state::keeps_copies()` is false and nothing below is ever reached.
class no_copies {
  public:
    template <class Storage> constexpr explicit no_copies(const Storage&) noexcept {}
    [[nodiscard]] static constexpr std::size_t limit() noexcept { return 0; }
    [[nodiscard]] static constexpr bool empty() noexcept { return true; }
    [[nodiscard]] static constexpr std::uint32_t allocate(std::size_t) noexcept { return no_ref; }
    [[nodiscard]] static constexpr std::uint32_t store(std::span<const std::byte>) noexcept {
        return no_ref;
    }
    [[nodiscard]] static constexpr std::span<std::byte> get(std::uint32_t) noexcept { return {}; }
    static constexpr void release(std::uint32_t) noexcept {}
    static constexpr void clear() noexcept {}
};

template <class Storage> constexpr bool storage_keeps_copies() noexcept {
    if constexpr (requires { Storage::keeps_copies; }) return Storage::keeps_copies;
    else return true;
}

template <class Storage>
using copies_of =
    std::conditional_t<storage_keeps_copies<Storage>(), resend_ring<Storage>, no_copies>;

} // namespace mqttwire::detail
