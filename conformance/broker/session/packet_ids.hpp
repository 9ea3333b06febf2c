#pragma once
// Packet identifiers for the PUBLISHes a session has in flight (MQTT-2.3.1-1 / MQTT5-2.2.1-3:
// non-zero, not in use by another unacknowledged packet of the session), in O(1) whatever the
// client acknowledges: released identifiers are reused oldest first from a FIFO, and a counter
// hands out identifiers never used while the FIFO is empty. Memory grows with the most
// identifiers in use at once (the in-flight bound), not with the identifier space.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace mqttwire::broker {

class packet_ids {
  public:
    /// A free identifier, or none when all 65,535 are in use.
    [[nodiscard]] std::optional<std::uint16_t> allocate() {
        if (free_count_ == 0) {
            if (fresh_ > 65535) return std::nullopt;
            return static_cast<std::uint16_t>(fresh_++);
        }
        const std::uint16_t id = ring_[head_];
        head_ = (head_ + 1) % ring_.size();
        --free_count_;
        return id;
    }

    /// `id` (allocated earlier) is free again.
    void release(std::uint16_t id) {
        if (free_count_ == ring_.size()) grow();
        ring_[(head_ + free_count_) % ring_.size()] = id;
        ++free_count_;
    }

    /// Forgets every allocation (the session's in-flight state was discarded).
    void reset() noexcept {
        fresh_ = 1;
        head_ = 0;
        free_count_ = 0;
        std::vector<std::uint16_t>().swap(ring_);
    }

  private:
    void grow() {
        std::vector<std::uint16_t> bigger(ring_.empty() ? 8 : ring_.size() * 2);
        for (std::size_t i = 0; i < free_count_; ++i)
            bigger[i] = ring_[(head_ + i) % ring_.size()];
        ring_.swap(bigger);
        head_ = 0;
    }

    std::uint32_t fresh_ = 1; // next never-used identifier; 65536: all used once
    std::vector<std::uint16_t> ring_;
    std::size_t head_ = 0;
    std::size_t free_count_ = 0;
};

} // namespace mqttwire::broker
