#pragma once
/// @file
/// @brief The durable store's in-memory index: where the live version of each (kind, key) is.
///
/// Linear probing over 16-byte slots, no tombstones (erase shifts the following run back), so
/// probe lengths depend only on the load factor. The key itself is not kept: a slot holds 32
/// bits of the key's hash and the record's location, and the store compares the key against the
/// record in its memory-mapped file. Memory is 16 bytes per slot at a load factor between 1/8
/// and 3/4 (3/8 to 3/4 while growing): 21 to 43 bytes per live record, whatever the key length.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace mqttwire::broker::detail {

struct durable_slot {
    std::uint64_t loc = 0;  ///< where the record is (the store's encoding); 0 = empty slot
    std::uint32_t hash = 0; ///< low 32 bits of the key's hash
    std::uint32_t size = 0; ///< the record's size in bytes (header, key and value)
};

class durable_index {
public:
    static constexpr std::size_t min_capacity = 64;

    durable_index() { reset(min_capacity); }

    /// @brief The slot with `hash` for which `same_key(slot)` holds, or nullptr.
    template <class SameKey>
    [[nodiscard]] const durable_slot* find(std::uint32_t hash, SameKey&& same_key) const noexcept {
        for (std::size_t i = hash & mask_;; i = (i + 1) & mask_) {
            const durable_slot& s = slots_[i];
            if (s.loc == 0) {
                return nullptr;
            }
            if (s.hash == hash && same_key(s)) {
                return &s;
            }
        }
    }

    /// @brief Starts loading the first slot `hash` probes into the cache.
    void prefetch(std::uint32_t hash) const noexcept {
        __builtin_prefetch(&slots_[hash & mask_]);
    }

    /// @brief A new slot for a key known to be absent; the caller fills `loc` (non-zero) and
    /// `size`. May grow the table, which invalidates earlier slot pointers.
    [[nodiscard]] durable_slot& insert(std::uint32_t hash) {
        if ((count_ + 1) * 4 > slots_.size() * 3) {
            rehash(slots_.size() * 2);
        }
        std::size_t i = hash & mask_;
        while (slots_[i].loc != 0) {
            i = (i + 1) & mask_;
        }
        ++count_;
        slots_[i].hash = hash;
        return slots_[i];
    }

    /// @brief Removes `slot` (from find()). May shrink the table after a spike.
    void erase(durable_slot& slot) {
        auto hole = static_cast<std::size_t>(&slot - slots_.data());
        for (std::size_t j = (hole + 1) & mask_; slots_[j].loc != 0; j = (j + 1) & mask_) {
            const std::size_t home = slots_[j].hash & mask_;
            // slots_[j] may move into the hole only if its home is not cyclically in (hole, j].
            const bool home_after_hole =
                hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
            if (!home_after_hole) {
                slots_[hole] = slots_[j];
                hole = j;
            }
        }
        slots_[hole] = durable_slot{};
        --count_;
        if (slots_.size() > min_capacity && count_ * 8 < slots_.size()) {
            rehash(slots_.size() / 2);
        }
    }

    [[nodiscard]] std::size_t size() const noexcept { return count_; }
    [[nodiscard]] std::size_t capacity() const noexcept { return slots_.size(); }
    [[nodiscard]] std::size_t memory_bytes() const noexcept {
        return slots_.capacity() * sizeof(durable_slot);
    }

    template <class F>
    void for_each(F&& f) const {
        for (const auto& s : slots_) {
            if (s.loc != 0) {
                f(s);
            }
        }
    }

private:
    void reset(std::size_t capacity) {
        slots_.assign(capacity, durable_slot{});
        mask_ = capacity - 1;
        count_ = 0;
    }

    void rehash(std::size_t capacity) {
        std::vector<durable_slot> old;
        old.swap(slots_);
        reset(capacity);
        for (const auto& s : old) {
            if (s.loc != 0) {
                std::size_t i = s.hash & mask_;
                while (slots_[i].loc != 0) {
                    i = (i + 1) & mask_;
                }
                slots_[i] = s;
                ++count_;
            }
        }
    }

    std::vector<durable_slot> slots_;
    std::size_t mask_ = 0;
    std::size_t count_ = 0;
};

} // namespace mqttwire::broker::detail
