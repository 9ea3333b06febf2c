#pragma once
// A byte queue for one connection's input or output: appended at the back, consumed from the
// front. Consumed bytes are reclaimed by moving the rest down once they are half the storage
// (amortised O(1) per byte, so a reader that never quite catches up does not make it grow with
// the total it was sent), and the storage is given back once it empties after a spike, so no
// connection keeps the peak size of its largest message.

#include <cstddef>
#include <cstring>
#include <span>
#include <vector>

namespace mqttwire::broker {

class byte_buffer {
  public:
    /// Storage kept when the buffer empties; anything larger is released.
    static constexpr std::size_t keep_capacity = 16 * 1024;

    [[nodiscard]] std::span<const std::byte> data() const noexcept {
        return std::span<const std::byte>(bytes_).subspan(head_);
    }
    [[nodiscard]] std::size_t size() const noexcept { return bytes_.size() - head_; }
    [[nodiscard]] bool empty() const noexcept { return size() == 0; }
    [[nodiscard]] std::size_t capacity() const noexcept { return bytes_.capacity(); }

    /// Makes room for `n` more bytes at the back and returns them to be filled.
    [[nodiscard]] std::span<std::byte> extend(std::size_t n) {
        const std::size_t at = bytes_.size();
        bytes_.resize(at + n);
        return std::span<std::byte>(bytes_).subspan(at);
    }
    void append(std::span<const std::byte> b) {
        if (b.empty()) return;
        const auto dst = extend(b.size());
        std::memcpy(dst.data(), b.data(), b.size());
    }
    /// Takes back the last bytes appended (an encode that failed after extend()).
    void drop_back(std::size_t n) noexcept { bytes_.resize(bytes_.size() - n); }
    /// Writable view of bytes already appended (patching a packet identifier), from the front.
    [[nodiscard]] std::span<std::byte> mutable_tail(std::size_t from_size) noexcept {
        return std::span<std::byte>(bytes_).subspan(head_ + from_size);
    }

    /// Removes `n` bytes from the front.
    void consume(std::size_t n) noexcept {
        head_ += n;
        if (head_ >= bytes_.size()) {
            clear();
            return;
        }
        if (head_ >= bytes_.size() - head_ && head_ >= 4096) {
            std::memmove(bytes_.data(), bytes_.data() + head_, bytes_.size() - head_);
            bytes_.resize(bytes_.size() - head_);
            head_ = 0;
            shrink_if_oversized();
        }
    }
    /// Empties the buffer, releasing storage above keep_capacity.
    void clear() noexcept {
        head_ = 0;
        bytes_.clear();
        if (bytes_.capacity() > keep_capacity) std::vector<std::byte>().swap(bytes_);
    }

  private:
    // After a spike the storage can be far larger than what is left in it.
    void shrink_if_oversized() {
        if (bytes_.capacity() > keep_capacity && bytes_.capacity() / 4 > bytes_.size())
            bytes_.shrink_to_fit();
    }

    std::vector<std::byte> bytes_;
    std::size_t head_ = 0;
};

} // namespace mqttwire::broker
