#pragma once
// Deadlines of connections and sessions in one binary heap, so a turn of the event loop costs
// nothing for the idle ones: only deadlines that are due are looked at, and a session without a
// deadline (an offline session that never expires, a connection without keep-alive) has no
// entry at all.
//
// Entries are never searched for or removed early. Each owner keeps, per kind, the time of the
// earliest entry it has in the heap (`armed`); asking for a later deadline adds nothing, and
// the owner re-checks its real deadline when the entry fires (keep-alive moves with every
// packet without touching the heap). Entries of owners that went away are counted and the heap
// is rebuilt without them once they are half of it, so it stays within a small multiple of
// the number of live deadlines.

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "core/settings.hpp"

namespace mqttwire::broker {

enum class timer_kind : std::uint8_t {
    protocol,        ///< connection: its session's deadline (no CONNECT in time, keep-alive)
    slow_consumer,   ///< connection: over its output or queue bound without progress
    will_delay,      ///< session: Will Delay Interval
    session_expiry,  ///< session: Session Expiry Interval or persistent_client_expiration
    housekeeping,    ///< broker-wide: statistics loads
};
inline constexpr std::size_t timer_kinds = 5;

/// An optional time point in the space of one: time_point::min() stands for none (no deadline
/// is ever that early). For fields that every session or connection carries.
class optional_time {
  public:
    optional_time() = default;
    optional_time(clock::time_point t) noexcept : t_(t) {}
    optional_time(std::optional<clock::time_point> t) noexcept
        : t_(t ? *t : clock::time_point::min()) {}
    [[nodiscard]] bool has_value() const noexcept { return t_ != clock::time_point::min(); }
    explicit operator bool() const noexcept { return has_value(); }
    /// @pre has_value()
    [[nodiscard]] clock::time_point operator*() const noexcept { return t_; }
    void reset() noexcept { t_ = clock::time_point::min(); }
    [[nodiscard]] std::optional<clock::time_point> to_optional() const noexcept {
        return has_value() ? std::optional<clock::time_point>(t_) : std::nullopt;
    }

  private:
    clock::time_point t_ = clock::time_point::min();
};

/// Per owner and kind: when its earliest heap entry fires (time_point::max(): none). An owner
/// holds slots for its own kinds only: `Count` kinds from `First`.
template <timer_kind First, std::size_t Count> class timer_slots {
  public:
    timer_slots() { armed_.fill(clock::time_point::max()); }
    /// @pre `k` is one of this owner's kinds.
    [[nodiscard]] clock::time_point& operator[](timer_kind k) noexcept {
        return armed_[static_cast<std::size_t>(k) - static_cast<std::size_t>(First)];
    }
    /// How many entries the owner still has in the heap (for timer_queue::abandon).
    [[nodiscard]] std::size_t pending() const noexcept {
        return static_cast<std::size_t>(std::count_if(
            armed_.begin(), armed_.end(), [](auto t) { return t != clock::time_point::max(); }));
    }

  private:
    std::array<clock::time_point, Count> armed_;
};

using connection_timers = timer_slots<timer_kind::protocol, 2>;
using session_timers = timer_slots<timer_kind::will_delay, 2>;
using broker_timers = timer_slots<timer_kind::housekeeping, 1>;

class timer_queue {
  public:
    struct entry {
        clock::time_point when;
        std::uint64_t owner; ///< connection id or session serial; 0 for broker-wide
        timer_kind kind;
    };

    /// Makes sure the owner is woken at `when` or earlier.
    template <class Slots>
    void schedule(timer_kind kind, std::uint64_t owner, clock::time_point when, Slots& slots) {
        auto& armed = slots[kind];
        if (armed <= when) return;
        armed = when;
        heap_.push_back({when, owner, kind});
        std::push_heap(heap_.begin(), heap_.end(), later);
    }

    [[nodiscard]] std::optional<clock::time_point> next() const {
        if (heap_.empty()) return std::nullopt;
        return heap_.front().when;
    }

    /// Removes the earliest entry if it is due at `now`.
    [[nodiscard]] std::optional<entry> pop_due(clock::time_point now) {
        if (heap_.empty() || heap_.front().when > now) return std::nullopt;
        std::pop_heap(heap_.begin(), heap_.end(), later);
        const entry e = heap_.back();
        heap_.pop_back();
        return e;
    }

    /// An owner with `n` entries in the heap went away.
    void abandon(std::size_t n) noexcept { abandoned_ += n; }

    /// Rebuilds the heap without dead entries once they are half of it. `alive(entry)` tells
    /// whether the entry's owner still exists and still expects it.
    template <class Alive> void compact(Alive&& alive) {
        if (heap_.size() < 1024 || abandoned_ * 2 < heap_.size()) return;
        std::erase_if(heap_, [&](const entry& e) { return !alive(e); });
        std::make_heap(heap_.begin(), heap_.end(), later);
        abandoned_ = 0;
    }

    /// Should an entry popped for `slots` run? Clears the slot when it is the armed one.
    template <class Slots> [[nodiscard]] static bool claim(const entry& e, Slots& slots) noexcept {
        auto& armed = slots[e.kind];
        if (armed != e.when) return false; // an earlier entry replaced it
        armed = clock::time_point::max();
        return true;
    }

    [[nodiscard]] std::size_t size() const noexcept { return heap_.size(); }

  private:
    static bool later(const entry& a, const entry& b) noexcept { return a.when > b.when; }

    std::vector<entry> heap_;
    std::size_t abandoned_ = 0;
};

} // namespace mqttwire::broker
