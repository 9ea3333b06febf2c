#pragma once
/// @file
/// @brief Topic Alias maps of one connection (MQTT 5.0 section 3.3.2.3.4): alias -> topic name
/// for what the peer sends, and topic name -> alias for what this side sends.

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <span>
#include <type_traits>
#include <utility>

#include "../errc.hpp"
#include "../property.hpp"
#include "../utf8.hpp"
#include "storage.hpp"

namespace mqttwire::detail {

struct alias_slot {
    std::uint16_t length = 0;
    bool used = false;
    std::uint32_t hash = 0;
    std::uint32_t stamp = 0; // last use, for replacing the least recently used alias
};

[[nodiscard]] constexpr std::uint32_t fnv1a(std::span<const std::byte> s) noexcept {
    std::uint32_t h = 2166136261u;
    for (const auto b : s) h = (h ^ static_cast<std::uint8_t>(b)) * 16777619u;
    return h;
}

// Alias `a` owns bytes [(a - 1) * slot_bytes, a * slot_bytes): no fragmentation, O(1) per set and
// get. A topic longer than a slot cannot be aliased: inbound that is a Quota exceeded (0x97),
// outbound the topic is simply sent in full. Allocator-backed storage allocates the table with
// the first alias and frees it with the connection.
template <class Storage, storage_part Slots, storage_part Bytes> class alias_table {
  public:
    explicit alias_table(const Storage& s) noexcept
        : slots_(s), bytes_(s),
          max_(static_cast<std::uint16_t>(capacity_of(s.limits(), Slots))),
          slot_bytes_(max_ == 0 ? 0 : capacity_of(s.limits(), Bytes) / max_) {}

    /// Aliases this table can hold (1 to max()).
    [[nodiscard]] std::uint16_t max() const noexcept { return slot_bytes_ == 0 ? 0 : max_; }
    [[nodiscard]] std::size_t slot_bytes() const noexcept { return slot_bytes_; }

    // Inbound: the peer maps `alias` to `topic`.
    [[nodiscard]] errc set(std::uint16_t alias, std::span<const std::byte> topic) noexcept {
        if (alias == 0 || alias > max()) return errc::topic_alias_invalid;
        if (topic.size() > slot_bytes_ || !ready()) return errc::quota_exceeded;
        store(alias, topic);
        return errc::success;
    }

    // Inbound: the topic of `alias`, or nullptr-backed empty span with `found` false.
    [[nodiscard]] bool get(std::uint16_t alias, utf8_view& out) noexcept {
        if (alias == 0 || alias > max() || slots_.capacity() < max_) return false;
        auto& s = slot(alias);
        if (!s.used) return false;
        s.stamp = ++clock_;
        out = utf8_view(std::span<const std::byte>(text(alias), s.length));
        return true;
    }

    // Outbound: the alias already mapped to `topic` among 1..usable, or 0.
    [[nodiscard]] std::uint16_t find(std::span<const std::byte> topic,
                                     std::uint16_t usable) noexcept {
        if (slots_.capacity() < max_) return 0;
        const auto h = fnv1a(topic);
        const std::uint16_t n = usable < max() ? usable : max();
        for (std::uint16_t a = 1; a <= n; ++a) {
            auto& s = slot(a);
            if (s.used && s.hash == h && s.length == topic.size() &&
                (topic.empty() || std::memcmp(text(a), topic.data(), topic.size()) == 0)) {
                s.stamp = ++clock_;
                return a;
            }
        }
        return 0;
    }

    // Outbound: maps `topic` to a free alias among 1..usable, or (`replace`) replaces the least
    // recently used one; 0 when the topic does not fit a slot or no alias is usable.
    [[nodiscard]] std::uint16_t assign(std::span<const std::byte> topic, std::uint16_t usable,
                                       bool replace = true) noexcept {
        const std::uint16_t n = usable < max() ? usable : max();
        if (n == 0 || topic.size() > slot_bytes_ || (!replace && used_ >= n) || !ready()) return 0;
        std::uint16_t pick = 1;
        bool found_free = false;
        for (std::uint16_t a = 1; a <= n; ++a) {
            if (!slot(a).used) {
                pick = a;
                found_free = true;
                break;
            }
            if (slot(a).stamp < slot(pick).stamp) pick = a;
        }
        if (!found_free && !replace) return 0;
        store(pick, topic);
        return pick;
    }

    // Outbound: drops the mapping of `topic`, if any.
    void forget(std::span<const std::byte> topic) noexcept {
        if (slots_.capacity() < max_) return;
        const auto h = fnv1a(topic);
        for (std::uint16_t a = 1; a <= max(); ++a) {
            auto& s = slot(a);
            if (s.used && s.hash == h && s.length == topic.size() &&
                (topic.empty() || std::memcmp(text(a), topic.data(), topic.size()) == 0)) {
                s = alias_slot{};
                --used_;
            }
        }
    }

    // Aliases never outlive their connection (MQTT5-3.3.2-7).
    void clear() noexcept {
        for (std::size_t i = 0; i < slots_.capacity(); ++i) slots_.data()[i] = alias_slot{};
        clock_ = 0;
        used_ = 0;
        slots_.shrink_to(0);
        bytes_.shrink_to(0);
    }

  private:
    [[nodiscard]] bool ready() noexcept {
        return slots_.reserve(max_) && bytes_.reserve(std::size_t{max_} * slot_bytes_);
    }
    [[nodiscard]] alias_slot& slot(std::uint16_t a) noexcept { return slots_.data()[a - 1]; }
    [[nodiscard]] std::byte* text(std::uint16_t a) noexcept {
        return bytes_.data() + std::size_t{a - 1u} * slot_bytes_;
    }
    void store(std::uint16_t alias, std::span<const std::byte> topic) noexcept {
        auto& s = slot(alias);
        if (!s.used) ++used_;
        s.used = true;
        s.length = static_cast<std::uint16_t>(topic.size());
        s.hash = fnv1a(topic);
        s.stamp = ++clock_;
        if (!topic.empty()) std::memcpy(text(alias), topic.data(), topic.size());
    }

    typename Storage::template buffer<alias_slot, Slots> slots_;
    typename Storage::template buffer<std::byte, Bytes> bytes_;
    std::uint16_t max_;
    std::size_t slot_bytes_;
    std::uint32_t clock_ = 0;
    std::uint16_t used_ = 0; // slots in use: a full table without replacement is not scanned
};

// Allocator-backed storage: the table itself (not only its slots) is allocated when the first
// alias is set and freed by `clear()`, so a connection that never uses aliases keeps a pointer and
// two 16-bit counts (12 bytes: an owner that declares it `[[no_unique_address]]` puts its next
// members in the rest of 16), whatever Topic Alias Maximum was negotiated. `Extra` properties
// share the allocation (the scratch of outbound aliases, `outbound_aliases`).
template <class Storage, storage_part Slots, storage_part Bytes, std::size_t Extra = 0>
class boxed_alias_table {
    using table = alias_table<Storage, Slots, Bytes>;
    struct block {
        table aliases;
        std::array<property, Extra> extra{};
    };
    using allocator = std::remove_cvref_t<decltype(std::declval<const Storage&>().allocator())>;
    using alloc_t = typename std::allocator_traits<allocator>::template rebind_alloc<block>;
    using traits = std::allocator_traits<alloc_t>;

  public:
    explicit boxed_alias_table(const Storage& s, std::uint16_t cap = 0xFFFF) noexcept
        : alloc_(s.allocator()), slots_(slots_of(s.limits(), cap)),
          slot_bytes_(slot_bytes_of(s.limits())) {}
    boxed_alias_table(const boxed_alias_table&) = delete;
    boxed_alias_table& operator=(const boxed_alias_table&) = delete;
    ~boxed_alias_table() { clear(); }

    // As `alias_table`.
    [[nodiscard]] std::uint16_t max() const noexcept { return slot_bytes_ == 0 ? 0 : slots_; }
    [[nodiscard]] std::size_t slot_bytes() const noexcept { return slots_ == 0 ? 0 : slot_bytes_; }
    [[nodiscard]] errc set(std::uint16_t alias, std::span<const std::byte> topic) noexcept {
        if (alias == 0 || alias > max()) return errc::topic_alias_invalid;
        if (!make()) return errc::quota_exceeded;
        return block_->aliases.set(alias, topic);
    }
    [[nodiscard]] bool get(std::uint16_t alias, utf8_view& out) noexcept {
        return block_ != nullptr && block_->aliases.get(alias, out);
    }
    [[nodiscard]] std::uint16_t find(std::span<const std::byte> topic,
                                     std::uint16_t usable) noexcept {
        return block_ == nullptr ? 0 : block_->aliases.find(topic, usable);
    }
    [[nodiscard]] std::uint16_t assign(std::span<const std::byte> topic, std::uint16_t usable,
                                       bool replace = true) noexcept {
        if (usable == 0 || max() == 0 || topic.size() > slot_bytes() || !make()) return 0;
        return block_->aliases.assign(topic, usable, replace);
    }
    void forget(std::span<const std::byte> topic) noexcept {
        if (block_ != nullptr) block_->aliases.forget(topic);
    }
    void clear() noexcept {
        if (block_ == nullptr) return;
        block_->aliases.clear();
        std::destroy_at(block_);
        traits::deallocate(alloc_, block_, 1);
        block_ = nullptr;
    }
    // The `Extra` properties, allocated with the table; nullptr when the allocator has no room.
    [[nodiscard]] property* extra() noexcept { return make() ? block_->extra.data() : nullptr; }

  private:
    [[nodiscard]] static std::uint16_t slots_of(const session_limits& l, std::uint16_t cap) noexcept {
        const auto n = static_cast<std::uint16_t>(capacity_of(l, Slots));
        return n < cap ? n : cap;
    }
    // A topic name has at most 65,535 bytes: a larger slot holds nothing more.
    [[nodiscard]] static std::uint16_t slot_bytes_of(const session_limits& l) noexcept {
        const std::size_t n = capacity_of(l, Slots);
        const std::size_t b = n == 0 ? 0 : capacity_of(l, Bytes) / n;
        return static_cast<std::uint16_t>(b < 0xFFFF ? b : 0xFFFF);
    }
    [[nodiscard]] bool make() noexcept {
        if (block_ != nullptr) return true;
        block* p = traits::allocate(alloc_, 1);
        if (p == nullptr) return false;
        session_limits l{};
        if constexpr (Slots == storage_part::aliases_in) {
            l.aliases_in = slots_;
            l.alias_bytes_in = std::uint32_t{slots_} * slot_bytes_;
        } else {
            l.aliases_out = slots_;
            l.alias_bytes_out = std::uint32_t{slots_} * slot_bytes_;
        }
        block_ = ::new (static_cast<void*>(p)) block{table(Storage(l, allocator(alloc_)))};
        return true;
    }

    [[no_unique_address]] alloc_t alloc_;
    block* block_ = nullptr;
    std::uint16_t slots_;      // capacity_of(Slots), capped as the owner asked
    std::uint16_t slot_bytes_; // capacity_of(Bytes) / capacity_of(Slots), at most 65,535
};

// The alias map of one direction: inline with fixed storage, boxed with allocator-backed storage.
template <class Storage, storage_part Slots, storage_part Bytes>
using alias_map = std::conditional_t<Storage::allocates, boxed_alias_table<Storage, Slots, Bytes>,
                                     alias_table<Storage, Slots, Bytes>>;

} // namespace mqttwire::detail
