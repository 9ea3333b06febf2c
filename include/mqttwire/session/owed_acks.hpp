#pragma once
/// @file
/// @brief The inbound QoS 1/2 PUBLISHes whose acknowledgement the embedder deferred
/// (`basic_connection::defer()`): their packet identifiers and QoS, until
/// `acknowledge(packet_id, rc)` sends the PUBACK or PUBREC. They belong to one network
/// connection: the peer resends unacknowledged PUBLISHes after a reconnect (MQTT-4.4.0-1 /
/// MQTT5-4.4.0-1), so the table is emptied when the connection ends.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

#include "../version.hpp"
#include "id_set.hpp"
#include "storage.hpp"

namespace mqttwire::detail {

// True when `Storage` fixes `session_limits::deferred_acks` at 0 at compile time.
template <class Storage> [[nodiscard]] consteval bool defer_compiled_out() noexcept {
    if constexpr (Storage::allocates) return false;
    else return Storage::limits().deferred_acks == 0;
}

// Bounded by `session_limits::deferred_acks`; O(1) per operation. A slot holds the identifier in
// its low 16 bits and the QoS above them. This form (fixed storage) holds the table inline.
template <class Storage, bool Out = defer_compiled_out<Storage>(), bool Heap = Storage::allocates>
class owed_acks {
  public:
    explicit owed_acks(const Storage& s) noexcept : ids_(s) {}

    [[nodiscard]] std::size_t size() const noexcept { return ids_.size(); }
    [[nodiscard]] std::size_t qos2() const noexcept { return qos2_; }
    // The QoS of the PUBLISH `id` is owed for; at_most_once when nothing is owed for it.
    [[nodiscard]] qos qos_of(std::uint16_t id) const noexcept {
        return static_cast<qos>(ids_.find(id) >> 16);
    }
    // False when the table is full (or the storage cannot grow).
    [[nodiscard]] bool insert(std::uint16_t id, qos q) noexcept {
        if (!ids_.insert(std::uint32_t{id} | std::uint32_t{static_cast<std::uint8_t>(q)} << 16))
            return false;
        if (q == qos::exactly_once) ++qos2_;
        return true;
    }
    void erase(std::uint16_t id) noexcept {
        if (qos_of(id) == qos::exactly_once) --qos2_;
        (void)ids_.erase(id);
    }
    void clear() noexcept {
        if (ids_.size() != 0) ids_.clear();
        qos2_ = 0;
    }

  private:
    id_set<Storage, storage_part::deferred_ids, std::uint32_t> ids_;
    std::uint16_t qos2_ = 0; // at most deferred_acks, a 16-bit limit
};

// `deferred_acks` 0 in `fixed_storage`: no table, and every question has a constant answer.
template <class Storage> class owed_acks<Storage, true, false> {
  public:
    constexpr explicit owed_acks(const Storage&) noexcept {}
    [[nodiscard]] static constexpr std::size_t size() noexcept { return 0; }
    [[nodiscard]] static constexpr std::size_t qos2() noexcept { return 0; }
    [[nodiscard]] static constexpr qos qos_of(std::uint16_t) noexcept { return qos::at_most_once; }
    [[nodiscard]] static constexpr bool insert(std::uint16_t, qos) noexcept { return false; }
    static constexpr void erase(std::uint16_t) noexcept {}
    static constexpr void clear() noexcept {}
};

// Allocator-backed storage: the table is allocated with the first deferred acknowledgement and
// freed when the last is sent, so a connection keeps a pointer and the limit (10 bytes; the owner
// puts its next members after them).
template <class Storage> class owed_acks<Storage, false, true> {
    using table = owed_acks<Storage, false, false>;
    using allocator = std::remove_cvref_t<decltype(std::declval<const Storage&>().allocator())>;
    using alloc_t = typename std::allocator_traits<allocator>::template rebind_alloc<table>;
    using traits = std::allocator_traits<alloc_t>;

  public:
    explicit owed_acks(const Storage& s) noexcept
        : alloc_(s.allocator()), max_(s.limits().deferred_acks) {}
    owed_acks(const owed_acks&) = delete;
    owed_acks& operator=(const owed_acks&) = delete;
    ~owed_acks() { clear(); }

    [[nodiscard]] std::size_t size() const noexcept { return table_ ? table_->size() : 0; }
    [[nodiscard]] std::size_t qos2() const noexcept { return table_ ? table_->qos2() : 0; }
    [[nodiscard]] qos qos_of(std::uint16_t id) const noexcept {
        return table_ ? table_->qos_of(id) : qos::at_most_once;
    }
    [[nodiscard]] bool insert(std::uint16_t id, qos q) noexcept {
        if (table_ == nullptr) {
            if (max_ == 0) return false;
            table* p = traits::allocate(alloc_, 1);
            if (p == nullptr) return false;
            session_limits l{};
            l.deferred_acks = max_;
            table_ = ::new (static_cast<void*>(p)) table(Storage(l, allocator(alloc_)));
        }
        return table_->insert(id, q);
    }
    void erase(std::uint16_t id) noexcept {
        if (table_ == nullptr) return;
        table_->erase(id);
        if (table_->size() == 0) clear();
    }
    void clear() noexcept {
        if (table_ == nullptr) return;
        std::destroy_at(table_);
        traits::deallocate(alloc_, table_, 1);
        table_ = nullptr;
    }

  private:
    [[no_unique_address]] alloc_t alloc_;
    table* table_ = nullptr;
    std::uint16_t max_; // session_limits::deferred_acks
};

} // namespace mqttwire::detail
