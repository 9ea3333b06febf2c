#pragma once
/// @file
/// @brief The byte buffers of one connection: received bytes waiting to be framed and decoded,
/// and encoded bytes waiting for the transport. `basic_connection` (`connection.hpp`) builds on
/// it; the transport-side calls (`input_space()`, `feed()`, `output()`, ...) are its public part.
///
/// ```
///   input:  [ consumed | buffered packets ... | free (input_space) ]
///            0          in_begin_              in_end_               capacity
///   output: [ written  | to write (output())  | free               ]
///            0          out_begin_             out_end_              capacity
/// ```
///
/// Allocator-backed storage keeps neither buffer while the connection is quiet: the input is
/// released when it drains, the output once the transport wrote it all, and the decoded packet
/// behind the last event (a `packet_view`, whose views point into the input) with the input.
/// While the connection is busy (one of its last three batches either way was 1 KiB or more)
/// or its packets come less than `keep_quiet` apart, drained buffers and the packet slot are
/// kept (up to `keep_limit` each) for the next batch; `deadline()` then asks for a call
/// `keep_quiet` after the last packet, which gives them back. An idle connection keeps none.

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <span>
#include <type_traits>
#include <utility>

#include "../packet.hpp"
#include "event.hpp"
#include "storage.hpp"

namespace mqttwire::detail {

// Bytes every packet handled may need as an answer: an acknowledgement (4 bytes), a PINGRESP, or
// a DISCONNECT after a violation (2 + reason code + property length).
inline constexpr std::size_t answer_reserve = 8;

// The decoded packet behind the last event. Fixed storage keeps it inline (no allocation ever);
// allocator-backed storage allocates it with the first packet decoded and releases it with the
// input buffer, so an idle connection does not pay for the largest packet view.
template <class Storage, bool Heap = Storage::allocates> class decoded_slot {
  public:
    constexpr explicit decoded_slot(const Storage&) noexcept {}
    [[nodiscard]] static constexpr bool acquire() noexcept { return true; }
    [[nodiscard]] static constexpr bool holds_packet() noexcept { return true; }
    [[nodiscard]] constexpr packet_view* get() noexcept { return &packet_; }
    [[nodiscard]] constexpr const packet_view* get() const noexcept { return &packet_; }
    static constexpr void release(bool = false) noexcept {}

  private:
    packet_view packet_{};
};

template <class Storage> class decoded_slot<Storage, true> {
    using allocator = std::remove_cvref_t<decltype(std::declval<const Storage&>().allocator())>;
    using alloc_t = typename std::allocator_traits<allocator>::template rebind_alloc<packet_view>;
    using traits = std::allocator_traits<alloc_t>;
    static_assert(std::is_trivially_destructible_v<packet_view>);

  public:
    explicit decoded_slot(const Storage& s) noexcept : alloc_(s.allocator()) {}
    decoded_slot(const decoded_slot&) = delete;
    decoded_slot& operator=(const decoded_slot&) = delete;
    ~decoded_slot() { release(); }

    // Room for a packet; false when the allocator has none.
    [[nodiscard]] bool acquire() noexcept {
        if (packet_ != nullptr) return true;
        packet_view* p = traits::allocate(alloc_, 1);
        if (p == nullptr) return false;
        packet_ = ::new (static_cast<void*>(p)) packet_view{};
        return true;
    }
    // Whether it holds a decoded packet (not none, not the placeholder of a kept slot).
    [[nodiscard]] bool holds_packet() const noexcept {
        return packet_ != nullptr && !std::holds_alternative<kept>(*packet_);
    }
    [[nodiscard]] packet_view* get() noexcept { return packet_; }
    [[nodiscard]] const packet_view* get() const noexcept { return packet_; }
    // The packet's bytes are gone: the slot is freed, or kept holding a placeholder when `keep`
    // (a connection whose packets come often).
    void release(bool keep = false) noexcept {
        if (packet_ == nullptr) return;
        if (keep) {
            *packet_ = kept{};
            return;
        }
        traits::deallocate(alloc_, packet_, 1);
        packet_ = nullptr;
    }

  private:
    // Never decoded by a server, and never needed after the event it was decoded for by a
    // client: it marks a kept slot with no packet in it.
    using kept = pingresp_view;

    [[no_unique_address]] alloc_t alloc_;
    packet_view* packet_ = nullptr;
};

template <class Storage> class connection_io {
  public:
    connection_io(const connection_io&) = delete;
    connection_io& operator=(const connection_io&) = delete;

    /// @brief Free space at the end of the input buffer, for the transport to read into; then
    /// `input_written(n)`. Empty when the buffer is full: process events first (`next()`).
    ///
    /// The room offered follows the traffic: at most `read_chunk` bytes for a quiet connection,
    /// `busy_read_chunk` while a recent batch was large, so a busy publisher is read in few
    /// system calls and a quiet one does not reserve a large buffer.
    [[nodiscard]] std::span<std::byte> input_space() noexcept {
        compact_input();
        const std::size_t chunk = in_busy_ != 0 ? busy_read_chunk : read_chunk;
        std::size_t want = in_end_ + chunk;
        if (want > in_.limit()) want = in_.limit();
        (void)in_.reserve(want);
        // At most one chunk, even when the buffer grew larger for a large packet: a read of
        // several large messages at once would hold their deliveries back until all are
        // processed (a 1 MB stream went 18% slower when read a buffer's worth at a time).
        return {in_.data() + in_end_, std::min(in_.capacity() - in_end_, chunk)};
    }
    /// @brief `input_space()` while the connection keeps an input buffer (its traffic is busy
    /// or frequent), empty when it has none. A transport with a read buffer of its own reads
    /// here when it can, and into its own buffer then `feed()` otherwise: a quiet connection's
    /// input is then allocated to the size of what came, not to a read's room.
    [[nodiscard]] std::span<std::byte> kept_input_space() noexcept {
        compact_input();
        if (in_.capacity() == 0) return {};
        return input_space();
    }
    /// @brief `n` bytes were written at the start of `input_space()`.
    /// `input_written(0)` after a read that brought nothing gives back the room a quiet
    /// connection reserved.
    void input_written(std::size_t n) noexcept {
        in_end_ = static_cast<index>(std::min(in_end_ + n, in_.capacity()));
        if (in_end_ == 0 && quiet()) in_.shrink_to(0);
    }
    /// @brief Copies the longest prefix of `bytes` that fits into the input buffer.
    /// @return the number of bytes taken; give the rest again after `next()` returned `none`.
    [[nodiscard]] std::size_t feed(std::span<const std::byte> bytes) noexcept {
        compact_input();
        std::size_t want = in_end_ + bytes.size();
        if (want > in_.limit()) want = in_.limit();
        (void)in_.reserve(want);
        const std::size_t n = std::min<std::size_t>(bytes.size(), in_.capacity() - in_end_);
        if (n != 0) std::memcpy(in_.data() + in_end_, bytes.data(), n);
        in_end_ += static_cast<index>(n);
        return n;
    }
    /// @brief Bytes to write to the transport, oldest first. Valid until the next call that
    /// writes output.
    [[nodiscard]] std::span<const std::byte> output() const noexcept {
        return {out_.data() + out_begin_, out_end_ - out_begin_};
    }
    /// @brief Bytes received and not processed yet.
    [[nodiscard]] std::size_t input_size() const noexcept { return in_end_ - in_begin_; }
    /// @brief Packets taken from the input and written to the output since the last call (for
    /// statistics such as `$SYS/broker/messages/received`); the counts start again.
    [[nodiscard]] packet_counts take_packet_counts() noexcept { return std::exchange(packets_, {}); }
    /// @brief The transport wrote the first `n` bytes of `output()`.
    void output_written(std::size_t n) noexcept {
        out_begin_ = static_cast<index>(std::min<std::size_t>(out_begin_ + n, out_end_));
        if (out_begin_ == out_end_) {
            const std::size_t batch = out_end_;
            out_begin_ = out_end_ = 0;
            out_busy_ = drained(out_, batch, out_busy_, in_busy_ | recent_) & 3u;
            // Quiet both ways: an input buffer kept for the other side's traffic goes too.
            if (quiet() && in_end_ == 0) in_.shrink_to(0);
        }
    }

  protected:
    static constexpr std::size_t read_chunk = 4096;
    static constexpr std::size_t busy_read_chunk = 64 * 1024;
    // With allocator-backed storage, a buffer that drains keeps its memory (up to `keep_limit`)
    // for the next batch while the connection is busy: when one of the last three batches
    // either way had at least `keep_after` bytes. So a busy connection does not allocate its
    // buffers again every turn, including the small side of a one-way flow (a publisher's
    // acknowledgements, a subscriber's). After small exchanges both ways (a CONNACK, a
    // PINGREQ and its PINGRESP), or past `keep_limit`, a buffer is given back: a quiet
    // connection holds nothing, and none keeps the size of its largest message. The limit is
    // above a busy turn's output: a broker's subscriber to a QoS 0 fan-in is written batches of
    // more than 64 KiB, and growing its buffer again every turn cost a fifth of its throughput.
    static constexpr std::size_t keep_after = 1024;
    static constexpr std::size_t keep_limit = 256 * 1024;
    // Keeps output room for the answer to the pending decision (`reserved_`).
    void reserve_answer(std::size_t n) noexcept {
        reserved_ = static_cast<index>(n) & 0x07FFFFFFu; // never more: see reserved_
    }
    // Packets that come less than `keep_quiet` apart keep the connection's buffers and its
    // decoded-packet slot between batches, however small the batches (a sensor publishing
    // thousands of small messages a second would otherwise allocate all three for each one);
    // `quiet_down()` gives them back once no packet came for `keep_quiet`.
    static constexpr std::chrono::milliseconds keep_quiet{1000};
    // Packets came less than `keep_quiet` apart (never with fixed storage, which keeps all).
    [[nodiscard]] bool frequent() const noexcept { return Storage::allocates && recent_ != 0; }
    [[nodiscard]] bool quiet() const noexcept {
        return in_busy_ == 0 && out_busy_ == 0 && recent_ == 0;
    }
    // No packet for `keep_quiet`: what was kept for traffic goes back, as after small exchanges.
    void quiet_down() noexcept {
        if constexpr (!Storage::allocates) return;
        recent_ = 0;
        in_busy_ = out_busy_ = 0;
        if (in_begin_ == in_end_) {
            in_begin_ = in_end_ = 0;
            in_.shrink_to(0);
            decoded_.release();
        }
        if (out_begin_ == out_end_) {
            out_begin_ = out_end_ = 0;
            out_.shrink_to(0);
        }
    }
    // `busy` counts down from `busy_turns` after a large batch: a buffer stays busy for the two
    // drains after it, so a flow whose batches alternate between large and small keeps it.
    static constexpr unsigned busy_turns = 3;
    // Returns the buffer's new busy count. `other_busy` is non-zero while the other direction
    // is busy or the connection's packets come often (`recent_`): the buffer is kept then too.
    template <class Buffer>
    static unsigned drained(Buffer& b, std::size_t batch, unsigned busy,
                            unsigned other_busy) noexcept {
        busy = batch >= keep_after ? busy_turns : busy == 0 ? 0 : busy - 1;
        if ((busy == 0 && other_busy == 0) || b.capacity() > keep_limit) b.shrink_to(0);
        return busy;
    }

    explicit connection_io(const Storage& storage) noexcept
        : in_(storage), out_(storage), decoded_(storage) {}
    ~connection_io() = default;

    // The decoded packet behind the last event: valid from the `next()` that decoded it until the
    // input drains (the next `next()`, `input_space()` or `feed()` after it was taken) or closes.
    [[nodiscard]] bool has_packet() const noexcept { return decoded_.holds_packet(); }
    [[nodiscard]] packet_view& packet() noexcept { return *decoded_.get(); }
    [[nodiscard]] const packet_view& packet() const noexcept { return *decoded_.get(); }

    // Drops the input and the decoded packet (the connection ends or starts over).
    void release_input() noexcept {
        in_begin_ = in_end_ = 0;
        in_.shrink_to(0);
        decoded_.release();
    }

    // Output space for `n` more bytes; `own` sends leave room for the pending answer.
    [[nodiscard]] bool out_room(std::size_t n, bool own) noexcept {
        const std::size_t need = n + (own ? reserved_ : 0);
        if (out_.capacity() - out_end_ >= need) return true;
        if (out_begin_ > 0) {
            std::memmove(out_.data(), out_.data() + out_begin_, out_end_ - out_begin_);
            out_end_ -= out_begin_;
            out_begin_ = 0;
        }
        return out_.capacity() - out_end_ >= need || out_.reserve(out_end_ + need);
    }
    [[nodiscard]] std::span<std::byte> out_free() noexcept {
        return {out_.data() + out_end_, out_.capacity() - out_end_};
    }
    [[nodiscard]] std::span<std::byte> out_span(std::size_t n) noexcept {
        return {out_.data() + out_end_, n};
    }

    void compact_input() noexcept {
        if (in_begin_ == 0) return;
        last_message_size_ = 0; // the message's bytes may move: it can no longer be held
        const std::size_t rest = in_end_ - in_begin_;
        const std::size_t batch = in_end_;
        if (rest != 0) std::memmove(in_.data(), in_.data() + in_begin_, rest);
        in_begin_ = 0;
        in_end_ = static_cast<index>(rest);
        if (rest == 0) {
            in_busy_ = drained(in_, batch, in_busy_, out_busy_ | recent_) & 3u;
            if (quiet() && out_end_ == 0) out_.shrink_to(0); // quiet both ways
            decoded_.release(recent_ != 0); // its views pointed into the bytes just dropped
        } else if (batch - rest >= keep_after) {
            // A large batch that ended inside a packet (a stream read in chunks rarely ends on
            // a packet boundary): the connection is busy all the same.
            in_busy_ = busy_turns;
        }
    }
    // Waiting for the rest of a packet: a quiet connection keeps what it holds, not the room of
    // the read that brought it, so a thousand slow senders cost what they sent.
    void trim_partial_input() noexcept {
        if constexpr (!Storage::allocates) return;
        if (!quiet()) return;
        const std::size_t rest = in_end_ - in_begin_;
        if (in_.capacity() <= 2 * rest + answer_reserve * 16) return;
        compact_input();
        in_.shrink_to(rest);
    }

    // Buffers first: the largest, and never moved.
    typename Storage::template buffer<std::byte, storage_part::input> in_;
    typename Storage::template buffer<std::byte, storage_part::output> out_;
    decoded_slot<Storage> decoded_;
    // Offsets into the buffers: every limit of `session_limits` fits 32 bits.
    using index = std::uint32_t;
    index in_begin_ = 0;
    index in_end_ = 0;
    index out_begin_ = 0;
    index out_end_ = 0;
    // Output room kept for the answer to the pending decision (`out_room(n, true)` leaves it):
    // at most a SUBACK's, 8 bytes and one code per entry, each entry of a packet of at most
    // 256 MiB taking 4 bytes or more (a topic filter of one byte and its options): below 2^27.
    index reserved_ : 27 = 0;
    // Packets came less than `keep_quiet` apart (set by the connection, `quiet_down()`).
    index recent_ : 1 = 0;
    // How recently each buffer drained a large batch (`drained`).
    index in_busy_ : 2 = 0;
    index out_busy_ : 2 = 0;
    // The size of the PUBLISH behind a `message` event the last `next()` returned (0 otherwise):
    // what `hold_input()` gives back.
    std::uint32_t last_message_size_ = 0;
    packet_counts packets_{};
};

} // namespace mqttwire::detail
