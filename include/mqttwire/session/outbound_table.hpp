#pragma once
/// @file
/// @brief The packet identifiers a session has in use for what it sent: in-flight PUBLISH and
/// PUBREL, pending SUBSCRIBE and UNSUBSCRIBE. Allocation, look-up, release and "move to the back"
/// are O(1); iteration follows send order.

#include <cstddef>
#include <cstdint>

#include "storage.hpp"

namespace mqttwire {

/// @brief Where an outbound packet identifier stands.
enum class outbound_state : std::uint8_t {
    free = 0,
    publish_qos1, ///< PUBLISH QoS 1 sent, PUBACK awaited (MQTT-4.3.2-1 / MQTT5-4.3.2-3)
    publish_qos2, ///< PUBLISH QoS 2 sent, PUBREC awaited (MQTT-4.3.3-1 / MQTT5-4.3.3-3)
    pubrel,       ///< PUBREL sent, PUBCOMP awaited (MQTT5-4.3.3-5)
    subscribe,    ///< SUBSCRIBE sent, SUBACK awaited
    unsubscribe,  ///< UNSUBSCRIBE sent, UNSUBACK awaited
};

/// @brief True for the states that survive a reconnect: in-flight PUBLISH and PUBREL.
[[nodiscard]] constexpr bool is_publish_state(outbound_state s) noexcept {
    return s == outbound_state::publish_qos1 || s == outbound_state::publish_qos2 ||
           s == outbound_state::pubrel;
}

namespace detail {

inline constexpr std::uint32_t no_ref = 0xFFFFFFFFu;

// The protocol level a resend copy was encoded for: PUBLISH differs only between before 5.0
// and 5.0 (the property block). Unknown for copies restored from a store: resent as they are.
enum class copy_format : std::uint8_t { unknown, before_v5, v5 };

struct outbound_record {
    std::uint16_t prev = 0; // send order (or free list); 0: none
    std::uint16_t next = 0;
    outbound_state state = outbound_state::free;
    copy_format format = copy_format::unknown; // of the resend copy
    std::uint16_t count = 0;   // SUBSCRIBE / UNSUBSCRIBE: entries, to check the answer
    std::uint32_t ref = no_ref; // resend copy (offset in the resend ring)
};

// Identifiers are slot numbers: id `i` lives in slot `i - 1`, so every look-up is an index, and
// the identifiers in use never exceed the capacity (a session with 16 slots uses ids 1 to 16).
// Free slots form a FIFO list (the identifier freed longest ago is reused first); used slots a
// doubly linked list in send order. PUBLISH-family and request slots are counted separately so
// that pending requests never take the PUBLISH quota and the other way round (MQTT5-3.3.4-8).
template <class Storage> class outbound_table {
  public:
    explicit outbound_table(const Storage& s) noexcept
        : slots_(s), publish_limit_(s.limits().inflight), request_limit_(s.limits().requests) {}

    [[nodiscard]] std::uint16_t publishes() const noexcept { return publishes_; }
    [[nodiscard]] std::uint16_t requests() const noexcept { return requests_; }
    [[nodiscard]] std::uint16_t publish_limit() const noexcept { return publish_limit_; }
    [[nodiscard]] std::uint16_t request_limit() const noexcept { return request_limit_; }
    [[nodiscard]] bool empty() const noexcept { return head_ == 0; }
    [[nodiscard]] std::uint16_t front() const noexcept { return head_; }
    [[nodiscard]] std::uint16_t next(std::uint16_t id) const noexcept { return at(id).next; }

    // A fresh identifier in state `s`, at the back of the send order; 0 when the PUBLISH or
    // request budget is used up or the storage cannot grow.
    [[nodiscard]] std::uint16_t allocate(outbound_state s) noexcept {
        const bool publish = is_publish_state(s);
        if (publish ? publishes_ >= publish_limit_ : requests_ >= request_limit_) return 0;
        std::uint16_t id = free_head_;
        if (id != 0) {
            free_head_ = at(id).next;
            if (free_head_ == 0) free_tail_ = 0;
        } else {
            if (created_ >= limit() || created_ == 0xFFFF) return 0;
            if (!slots_.reserve(std::size_t{created_} + 1, limit())) return 0;
            id = ++created_;
        }
        link_back(id, s);
        return id;
    }

    // Takes identifier `id` (when restoring a stored session); false when it is out of range or
    // in use. O(free slots): restoring is rare.
    [[nodiscard]] bool claim(std::uint16_t id, outbound_state s) noexcept {
        if (id == 0 || id > limit()) return false;
        const bool publish = is_publish_state(s);
        if (publish ? publishes_ >= publish_limit_ : requests_ >= request_limit_) return false;
        if (id > created_) {
            if (!slots_.reserve(id, limit())) return false;
            while (created_ + 1 < id) push_free(++created_);
            created_ = id;
        } else {
            if (at(id).state != outbound_state::free) return false;
            std::uint16_t prev = 0;
            for (std::uint16_t f = free_head_; f != 0; prev = f, f = at(f).next) {
                if (f != id) continue;
                if (prev == 0) free_head_ = at(f).next;
                else at(prev).next = at(f).next;
                if (free_tail_ == id) free_tail_ = prev;
                break;
            }
        }
        link_back(id, s);
        return true;
    }

    // The record of `id`, or nullptr when `id` is not in use.
    [[nodiscard]] outbound_record* find(std::uint16_t id) noexcept {
        if (id == 0 || id > created_) return nullptr;
        auto& r = at(id);
        return r.state == outbound_state::free ? nullptr : &r;
    }
    [[nodiscard]] const outbound_record* find(std::uint16_t id) const noexcept {
        return const_cast<outbound_table*>(this)->find(id);
    }

    void release(std::uint16_t id) noexcept {
        auto& r = at(id);
        unlink(id);
        if (is_publish_state(r.state)) --publishes_;
        else --requests_;
        r = outbound_record{};
        push_free(id);
    }

    // Moves `id` to the back of the send order, keeping its state class (PUBREL after PUBREC:
    // PUBRELs are resent in the order the PUBRECs arrived, MQTT-4.6.0-4 / MQTT5-4.6.0-4).
    void move_to_back(std::uint16_t id) noexcept {
        if (tail_ == id) return;
        const auto s = at(id).state;
        const auto keep = at(id);
        unlink(id);
        if (is_publish_state(s)) --publishes_;
        else --requests_;
        link_back(id, s);
        at(id).ref = keep.ref;
        at(id).count = keep.count;
    }

    void clear() noexcept {
        for (std::uint16_t id = 1; id <= created_; ++id) at(id) = outbound_record{};
        created_ = 0;
        head_ = tail_ = free_head_ = free_tail_ = 0;
        publishes_ = requests_ = 0;
        slots_.shrink_to(0);
    }

  private:
    // `capacity_of(records)`: every identifier of both budgets.
    [[nodiscard]] std::size_t limit() const noexcept {
        if constexpr (!Storage::allocates)
            return capacity_of(Storage::limits(), storage_part::records);
        else
            return std::size_t{publish_limit_} + request_limit_;
    }
    [[nodiscard]] outbound_record& at(std::uint16_t id) noexcept { return slots_.data()[id - 1]; }
    [[nodiscard]] const outbound_record& at(std::uint16_t id) const noexcept {
        return slots_.data()[id - 1];
    }
    void link_back(std::uint16_t id, outbound_state s) noexcept {
        auto& r = at(id);
        r = outbound_record{};
        r.state = s;
        r.prev = tail_;
        if (tail_ != 0) at(tail_).next = id;
        else head_ = id;
        tail_ = id;
        if (is_publish_state(s)) ++publishes_;
        else ++requests_;
    }
    void unlink(std::uint16_t id) noexcept {
        auto& r = at(id);
        if (r.prev != 0) at(r.prev).next = r.next;
        else head_ = r.next;
        if (r.next != 0) at(r.next).prev = r.prev;
        else tail_ = r.prev;
        r.prev = r.next = 0;
    }
    void push_free(std::uint16_t id) noexcept {
        at(id).next = 0;
        if (free_tail_ != 0) at(free_tail_).next = id;
        else free_head_ = id;
        free_tail_ = id;
    }

    // With allocator-backed storage a pointer and a capacity, the counts after them: 32 bytes.
    [[no_unique_address]] table_buffer<outbound_record, Storage, storage_part::records> slots_;
    std::uint16_t publish_limit_;
    std::uint16_t request_limit_;
    std::uint16_t created_ = 0;
    std::uint16_t head_ = 0;
    std::uint16_t tail_ = 0;
    std::uint16_t free_head_ = 0;
    std::uint16_t free_tail_ = 0;
    std::uint16_t publishes_ = 0;
    std::uint16_t requests_ = 0;
};

} // namespace detail
} // namespace mqttwire
