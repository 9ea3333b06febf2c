#pragma once
/// @file
/// @brief The durable store's in-memory index: where the live version of each (kind, key) is.
///
/// Linear probing over 16-byte slots. The key itself is not kept: a slot holds 32 bits of the
/// key's hash and the record's location, and the store compares the key against the record in
/// its memory-mapped file. Memory is 16 bytes per slot at a load factor between 1/8 and 3/4
/// (3/8 to 3/4 while growing): 21 to 43 bytes per live record, whatever the key length; during
/// a resize the old table too (up to 64 bytes per live record, for the few thousand
/// operations the move takes).
///
/// **Resizing never stops the event loop for long.** Rehashing a million records at once
/// took about 100 ms; instead, the index grows (and shrinks) into a new table while every
/// insert and erase moves 16 slots of the old one across. Until the old table is empty,
/// lookups look in both; the old one receives no inserts, and what leaves it becomes a
/// tombstone, so nothing in it moves behind the migration's back. New tables come from
/// calloc(), whose large blocks are fresh zero pages: no megabytes of zeroing either.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <span>
#include <utility>

namespace mqttwire::broker::detail {

struct durable_slot {
    std::uint64_t loc = 0;  ///< where the record is (the store's encoding); 0 = empty slot
    std::uint32_t hash = 0; ///< low 32 bits of the key's hash
    std::uint32_t size = 0; ///< the record's size in bytes (header, key and value)
};

class durable_index {
  public:
    static constexpr std::size_t min_capacity = 64;
    /// Slots of the old table moved per insert or erase while resizing. Growth starts at 3/4
    /// of capacity C and the new table (2C) would be full at 3C/2: moving 16 per operation
    /// empties the old table within C/16 operations, long before.
    static constexpr std::size_t migrate_per_operation = 16;
    /// loc of an old-table slot whose entry has moved or been erased. The store never uses
    /// it: it would be an offset of 2^62 - 1 bytes.
    static constexpr std::uint64_t moved = ~std::uint64_t{0};

    durable_index() : cur_(min_capacity) {}

    /// @brief The slot with `hash` for which `same_key(slot)` holds, or nullptr. Never moves
    /// anything: a pointer it returns stays valid until the next insert() or erase().
    template <class SameKey>
    [[nodiscard]] const durable_slot* find(std::uint32_t hash, SameKey&& same_key) const noexcept {
        if (const durable_slot* s = probe(cur_, hash, same_key)) {
            return s;
        }
        return old_.capacity == 0 ? nullptr : probe(old_, hash, same_key);
    }

    /// @brief Starts loading the first slot `hash` probes into the cache.
    void prefetch(std::uint32_t hash) const noexcept {
        __builtin_prefetch(&cur_.at(hash & cur_.mask()));
    }

    /// @brief A new slot for a key known to be absent; the caller fills `loc` (non-zero) and
    /// `size`. Invalidates earlier slot pointers.
    [[nodiscard]] durable_slot& insert(std::uint32_t hash) {
        migrate();
        if ((cur_count_ + 1) * 4 > cur_.capacity * 3) {
            begin_resize(cur_.capacity * 2);
        }
        durable_slot& s = cur_.at(free_slot(cur_, hash));
        s.hash = hash;
        ++count_;
        ++cur_count_;
        return s;
    }

    /// @brief Removes `slot` (from find()). Invalidates earlier slot pointers.
    void erase(durable_slot& slot) {
        if (old_.holds(&slot)) {
            slot.loc = moved;
        } else {
            erase_shifting(slot);
            --cur_count_;
        }
        --count_;
        migrate();
        if (old_.capacity == 0 && cur_.capacity > min_capacity && count_ * 8 < cur_.capacity) {
            begin_resize(cur_.capacity / 2);
        }
    }

    /// @brief Resize at once instead of incrementally: for loading at start-up, when nobody
    /// waits, and a lookup in two tables would only cost twice the cache misses.
    void resize_at_once(bool on) {
        at_once_ = on;
        if (on) {
            finish_migration();
        }
    }

    [[nodiscard]] std::size_t size() const noexcept { return count_; }
    [[nodiscard]] std::size_t capacity() const noexcept { return cur_.capacity; }
    [[nodiscard]] bool resizing() const noexcept { return old_.capacity != 0; }
    [[nodiscard]] std::size_t memory_bytes() const noexcept {
        return (cur_.capacity + old_.capacity) * sizeof(durable_slot);
    }

    template <class F> void for_each(F&& f) const {
        for (const table* t : {&cur_, &old_}) {
            for (const auto& s : t->slots()) {
                if (s.loc != 0 && s.loc != moved) {
                    f(s);
                }
            }
        }
    }

  private:
    struct table {
        durable_slot* base = nullptr;
        std::size_t capacity = 0;

        table() = default;
        explicit table(std::size_t n)
            : base(static_cast<durable_slot*>(std::calloc(n, sizeof(durable_slot)))), capacity(n) {
            if (base == nullptr) {
                throw std::bad_alloc();
            }
        }
        table(table&& o) noexcept
            : base(std::exchange(o.base, nullptr)), capacity(std::exchange(o.capacity, 0)) {}
        table& operator=(table&& o) noexcept {
            std::swap(base, o.base);
            std::swap(capacity, o.capacity);
            return *this;
        }
        table(const table&) = delete;
        table& operator=(const table&) = delete;
        ~table() { std::free(base); }

        [[nodiscard]] std::span<durable_slot> slots() const noexcept { return {base, capacity}; }
        [[nodiscard]] durable_slot& at(std::size_t i) const noexcept { return slots()[i]; }
        [[nodiscard]] std::size_t mask() const noexcept { return capacity - 1; }
        [[nodiscard]] bool holds(const durable_slot* s) const noexcept {
            const auto all = slots();
            return !all.empty() && s >= &all.front() && s <= &all.back();
        }
    };

    template <class SameKey>
    static const durable_slot* probe(const table& t, std::uint32_t hash, SameKey& same_key) {
        for (std::size_t i = hash & t.mask();; i = (i + 1) & t.mask()) {
            const durable_slot& s = t.at(i);
            if (s.loc == 0) {
                return nullptr;
            }
            if (s.hash == hash && s.loc != moved && same_key(s)) {
                return &s;
            }
        }
    }

    static std::size_t free_slot(const table& t, std::uint32_t hash) noexcept {
        std::size_t i = hash & t.mask();
        while (t.at(i).loc != 0) {
            i = (i + 1) & t.mask();
        }
        return i;
    }

    // Linear probing without tombstones (the current table): the entries after the hole move
    // back unless their home lies cyclically in (hole, j].
    void erase_shifting(durable_slot& slot) noexcept {
        const auto all = cur_.slots();
        auto hole = static_cast<std::size_t>(&slot - all.data());
        for (std::size_t j = (hole + 1) & cur_.mask(); all[j].loc != 0; j = (j + 1) & cur_.mask()) {
            const std::size_t home = all[j].hash & cur_.mask();
            const bool home_after_hole =
                hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
            if (!home_after_hole) {
                all[hole] = all[j];
                hole = j;
            }
        }
        all[hole] = durable_slot{};
    }

    void begin_resize(std::size_t capacity) {
        finish_migration(); // normally long done
        old_ = std::move(cur_);
        cur_ = table(capacity);
        cur_count_ = 0;
        migrate_pos_ = 0;
        if (at_once_) {
            finish_migration();
        }
    }

    void migrate(std::size_t slots = migrate_per_operation) {
        if (old_.capacity == 0) {
            return;
        }
        const std::size_t end = std::min(old_.capacity, migrate_pos_ + slots);
        for (; migrate_pos_ < end; ++migrate_pos_) {
            durable_slot& s = old_.at(migrate_pos_);
            if (s.loc != 0 && s.loc != moved) {
                cur_.at(free_slot(cur_, s.hash)) = s;
                ++cur_count_;
                s.loc = moved; // a later erase from cur_ must not uncover this copy
            }
        }
        if (migrate_pos_ == old_.capacity) {
            old_ = table();
        }
    }

    void finish_migration() { migrate(old_.capacity); }

    table cur_; // inserts go here
    table old_; // being emptied into cur_ while resizing; empty otherwise
    std::size_t migrate_pos_ = 0;
    std::size_t count_ = 0;     // live entries in both tables
    std::size_t cur_count_ = 0; // live entries in cur_
    bool at_once_ = false;
};

} // namespace mqttwire::broker::detail
