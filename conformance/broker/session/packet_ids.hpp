#pragma once
// Packet identifiers for the PUBLISHes a session has in flight (MQTT-2.3.1-1 / MQTT5-2.2.1-3:
// non-zero, not in use by another unacknowledged packet of the session), handed out in
// increasing order (wrapping at 65,535) so an identifier is reused as late as possible, in O(1)
// whatever the client acknowledges:
//
// - while few are in use (the usual in-flight window of 20), they are kept in a short list and
//   the next free one is at most that many steps ahead;
// - with many in use (a client with a large Receive Maximum that acknowledges only some), a
//   65,536-bit map with one summary bit per 64-bit word finds the next free identifier in a
//   few word operations. It exists only while that many are in flight.

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

namespace mqttwire::broker {

class packet_ids {
  public:
    /// The next free identifier after the last one handed out, or none when all 65,535 are in
    /// use.
    [[nodiscard]] std::optional<std::uint16_t> allocate() {
        if (count_ == 65535) return std::nullopt;
        if (!map_ && count_ + 1 > few) to_map();
        const std::uint16_t id = map_ ? map_->next_free(last_) : next_free_in_list();
        if (map_) {
            map_->set(id);
        } else {
            list_.push_back(id);
        }
        ++count_;
        last_ = id;
        return id;
    }

    /// Marks `id` in use (a session restored with messages in flight). False when it already
    /// was, or is 0.
    bool take(std::uint16_t id) {
        if (id == 0 || count_ == 65535) return false;
        if (map_ ? map_->test(id) : listed(id)) return false;
        if (!map_ && count_ + 1 > few) to_map();
        if (map_) {
            map_->set(id);
        } else {
            list_.push_back(id);
        }
        ++count_;
        return true;
    }

    /// `id` (allocated earlier) is free again.
    void release(std::uint16_t id) {
        if (map_) {
            if (!map_->test(id)) return;
            map_->clear(id);
            --count_;
            if (count_ <= few / 4) to_list();
            return;
        }
        const auto it = std::find(list_.begin(), list_.end(), id);
        if (it == list_.end()) return;
        *it = list_.back();
        list_.pop_back();
        --count_;
    }

    [[nodiscard]] std::size_t in_use() const noexcept { return count_; }

  private:
    static constexpr std::size_t few = 64;

    static std::size_t lowest(std::uint64_t bits) noexcept {
        return static_cast<std::size_t>(std::countr_zero(bits));
    }

    struct bitmap {
        std::array<std::uint64_t, 1024> words{};
        std::array<std::uint64_t, 16> full{}; // bit w: words[w] has no free identifier

        bitmap() { set(0); } // 0 is never an identifier
        [[nodiscard]] bool test(std::uint16_t id) const {
            return (words[id >> 6] >> (id & 63) & 1u) != 0;
        }
        void set(std::uint16_t id) {
            auto& w = words[id >> 6];
            w |= std::uint64_t{1} << (id & 63);
            if (w == ~std::uint64_t{0}) full[id >> 12] |= std::uint64_t{1} << ((id >> 6) & 63);
        }
        void clear(std::uint16_t id) {
            words[id >> 6] &= ~(std::uint64_t{1} << (id & 63));
            full[id >> 12] &= ~(std::uint64_t{1} << ((id >> 6) & 63));
        }
        // The first free identifier after `last`, wrapping; one exists.
        [[nodiscard]] std::uint16_t next_free(std::uint16_t last) const {
            const std::size_t start = (std::size_t{last} + 1) & 0xFFFF;
            // The rest of the starting word.
            const std::size_t w0 = start >> 6;
            const std::uint64_t rest = ~words[w0] & (~std::uint64_t{0} << (start & 63));
            if (rest != 0) return static_cast<std::uint16_t>((w0 << 6) + lowest(rest));
            // The next word that is not full, over the summary, wrapping once.
            for (std::size_t k = 1; k <= 1024; ++k) {
                const std::size_t w = (w0 + k) & 1023;
                const std::size_t group = w >> 6;
                const std::uint64_t open = ~full[group] & (~std::uint64_t{0} << (w & 63));
                if (open == 0) { // nothing free in this summary word from w on: skip it
                    k += 63 - (w & 63);
                    continue;
                }
                const std::size_t found = (group << 6) + lowest(open);
                const std::uint64_t bits = ~words[found];
                return static_cast<std::uint16_t>((found << 6) + lowest(bits));
            }
            return 0; // unreachable while count_ < 65535
        }
    };

    [[nodiscard]] bool listed(std::uint16_t id) const {
        return std::find(list_.begin(), list_.end(), id) != list_.end();
    }
    [[nodiscard]] std::uint16_t next_free_in_list() const {
        std::uint16_t id = last_;
        do {
            id = static_cast<std::uint16_t>(id == 65535 ? 1 : id + 1);
        } while (listed(id)); // fewer than `few` are in use: at most that many steps
        return id;
    }
    void to_map() {
        map_ = std::make_unique<bitmap>();
        for (const auto id : list_) map_->set(id);
        std::vector<std::uint16_t>().swap(list_);
    }
    void to_list() {
        list_.clear();
        for (std::size_t w = 0; w < map_->words.size(); ++w)
            for (std::uint64_t bits = map_->words[w]; bits != 0; bits &= bits - 1) {
                const auto id = static_cast<std::uint16_t>((w << 6) + lowest(bits));
                if (id != 0) list_.push_back(id);
            }
        map_.reset();
    }

    std::uint16_t last_ = 0;
    std::size_t count_ = 0;
    std::vector<std::uint16_t> list_;
    std::unique_ptr<bitmap> map_;
};

} // namespace mqttwire::broker
