#pragma once
/// @file
/// @brief A set of packet identifiers with O(1) insert, erase and look-up: the inbound QoS 2
/// identifiers a session has answered with PUBREC and not yet seen PUBREL for, and the inbound
/// identifiers whose acknowledgement the embedder deferred (`owed_acks.hpp`).

#include <cstddef>
#include <cstdint>

#include "storage.hpp"

namespace mqttwire::detail {

// Open addressing with linear probing; 0 (never a packet identifier) marks an empty slot and
// erasing shifts the following run back, so there are no tombstones. The table is at most half
// full: `capacity_of(Part)` is the next power of two of twice the limit. Allocator-backed
// storage starts at 16 slots, doubles when half full and gives the memory back when emptied.
// A `Slot` wider than 16 bits carries a value above the identifier (its low 16 bits).
template <class Storage, storage_part Part = storage_part::inbound_ids,
          class Slot = std::uint16_t>
class id_set {
  public:
    explicit id_set(const Storage& s) noexcept
        : slots_(s), max_(Part == storage_part::inbound_ids ? s.limits().inbound_qos2
                                                            : s.limits().deferred_acks) {}

    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    [[nodiscard]] std::size_t max_size() const noexcept { return max_; }
    [[nodiscard]] bool full() const noexcept { return size_ >= max_; }

    [[nodiscard]] bool contains(std::uint16_t id) const noexcept { return find(id) != 0; }

    // The slot holding `id`, or 0.
    [[nodiscard]] Slot find(std::uint16_t id) const noexcept {
        if (id == 0 || size_ == 0) return 0;
        const std::size_t mask = slots_.capacity() - 1;
        for (std::size_t i = home(id); ; i = (i + 1) & mask) {
            const auto v = slots_.data()[i];
            if (key(v) == id) return v;
            if (v == 0) return 0;
        }
    }

    // False when full (or the storage cannot grow); true when inserted or already present.
    [[nodiscard]] bool insert(Slot entry) noexcept {
        const std::uint16_t id = key(entry);
        if (id == 0) return false;
        if (contains(id)) return true;
        if (size_ >= max_) return false;
        if ((std::size_t{size_} + 1) * 2 > slots_.capacity() && !grow()) return false;
        place(slots_.data(), slots_.capacity(), entry);
        ++size_;
        return true;
    }

    // True when `id` was present.
    bool erase(std::uint16_t id) noexcept {
        if (id == 0 || size_ == 0) return false;
        const std::size_t mask = slots_.capacity() - 1;
        std::size_t i = home(id);
        while (key(slots_.data()[i]) != id) {
            if (slots_.data()[i] == 0) return false;
            i = (i + 1) & mask;
        }
        // Backward shift: move later members of the run into the hole when their home allows.
        std::size_t hole = i;
        for (std::size_t j = (i + 1) & mask; slots_.data()[j] != 0; j = (j + 1) & mask) {
            const std::size_t h = home(key(slots_.data()[j]));
            const bool movable = hole <= j ? (h <= hole || h > j) : (h <= hole && h > j);
            if (movable) {
                slots_.data()[hole] = slots_.data()[j];
                hole = j;
            }
        }
        slots_.data()[hole] = 0;
        if (--size_ == 0) slots_.shrink_to(0);
        return true;
    }

    template <class F> void for_each(F&& f) const {
        for (std::size_t i = 0; i < slots_.capacity(); ++i)
            if (slots_.data()[i] != 0) f(slots_.data()[i]);
    }

    void clear() noexcept {
        for (std::size_t i = 0; i < slots_.capacity(); ++i) slots_.data()[i] = 0;
        size_ = 0;
        slots_.shrink_to(0);
    }

  private:
    // The slots allowed: `capacity_of(Part)` for the limit `max_`.
    [[nodiscard]] std::size_t limit() const noexcept {
        return max_ == 0 ? 0 : next_pow2(std::size_t{max_} * 2);
    }

    [[nodiscard]] static constexpr std::uint16_t key(Slot v) noexcept {
        return static_cast<std::uint16_t>(v);
    }

    [[nodiscard]] std::size_t home(std::uint16_t id) const noexcept {
        // Fibonacci hashing spreads consecutive identifiers over the table.
        return static_cast<std::size_t>((std::uint32_t{id} * 2654435769u) >> 16) &
               (slots_.capacity() - 1);
    }
    static void place(Slot* slots, std::size_t cap, Slot entry) noexcept {
        const std::size_t mask = cap - 1;
        std::size_t i =
            static_cast<std::size_t>((std::uint32_t{key(entry)} * 2654435769u) >> 16) & mask;
        while (slots[i] != 0) i = (i + 1) & mask;
        slots[i] = entry;
    }
    bool grow() noexcept {
        if constexpr (!Storage::allocates) {
            return false; // fixed storage is at its final size from the start
        } else {
            std::size_t cap = slots_.capacity() < 16 ? 16 : slots_.capacity() * 2;
            if (cap > limit()) cap = limit(); // a power of two as well
            if (cap <= slots_.capacity()) return false;
            auto fresh = slots_.empty_like();
            if (!fresh.reserve(cap, cap)) return false;
            for (std::size_t i = 0; i < slots_.capacity(); ++i)
                if (slots_.data()[i] != 0) place(fresh.data(), fresh.capacity(), slots_.data()[i]);
            slots_.swap(fresh);
            return true;
        }
    }

    // With allocator-backed storage a pointer and a capacity, the two counts after them: 16 bytes.
    [[no_unique_address]] table_buffer<Slot, Storage, Part> slots_;
    std::uint16_t max_; // the limits are 16-bit
    std::uint16_t size_ = 0;
};

} // namespace mqttwire::detail
