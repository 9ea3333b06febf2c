#pragma once
// The live connections by id, and the three lists the event loop drains each turn: connections
// with output to write (dirty), connections whose held input can be processed again (resumed),
// and the stall bookkeeping that disconnects a consumer stuck over its bound.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "core/settings.hpp"
#include "core/timers.hpp"
#include "protocol/connection.hpp"

namespace mqttwire::broker {

class connection_table {
  public:
    connection_table(const settings& s, timer_queue& timers);

    /// A new connection. Its id is unique for the table's lifetime; its low 32 bits are a
    /// small, dense slot number (reused once the connection is gone), so an id is found by
    /// indexing, and an event loop can index its own tables by slot_of(id).
    connection& open(clock::time_point now);
    [[nodiscard]] static constexpr std::size_t slot_of(conn_id id) noexcept {
        return static_cast<std::size_t>(id & 0xFFFFFFFFu);
    }
    [[nodiscard]] connection* find(conn_id id) const {
        const std::size_t slot = slot_of(id);
        if (slot >= slots_.size()) return nullptr;
        connection* c = slots_[slot].get();
        return c != nullptr && c->id == id ? c : nullptr;
    }
    void erase(conn_id id);
    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    template <class F> void for_each(F&& f) {
        for (auto& c : slots_)
            if (c) f(*c);
    }
    template <class F> void for_each(F&& f) const {
        for (const auto& c : slots_)
            if (c) f(std::as_const(*c));
    }

    /// `c` has new output or must be closed.
    void mark_dirty(connection& c) {
        if (c.dirty) return;
        c.dirty = true;
        dirty_.push_back(c.id);
    }
    void take_dirty(std::vector<conn_id>& out);

    /// `id` may process its held input again (a paused state ended).
    void resume(conn_id id);
    void take_resumed(std::vector<conn_id>& out);
    [[nodiscard]] bool has_resumed() const noexcept { return !resumed_.empty(); }

    /// Re-evaluates whether `c` is over its bound (output buffer at max_output_buffer, or a
    /// queue that holds publishers back) and starts or stops its stall clock. `progress`: the
    /// client just took bytes or acknowledged a message, so the clock restarts. A stalled client
    /// back under its bound keeps its clock until its output is down to half the bound.
    void update_stall(connection& c, bool queue_full, bool progress, clock::time_point now);
    /// The socket of `c` took `n` bytes of its output. Over its bound, that is progress once it
    /// has taken `stall_progress()` bytes since the stall clock last started, or all of its
    /// output: the few KiB that the kernel's buffers still take from a client that does not
    /// read, or a client reading a few bytes at a time, do not keep it connected.
    void took(connection& c, std::size_t n, bool queue_full, clock::time_point now);
    [[nodiscard]] std::size_t stall_progress() const noexcept {
        return std::min<std::size_t>(std::size_t{64} << 10, settings_.max_output_buffer / 2);
    }
    [[nodiscard]] bool output_full(const connection& c) const noexcept {
        return c.output().size() >= settings_.max_output_buffer;
    }
    /// The session layer's storage limits: every connection and every session use them.
    [[nodiscard]] const protocol_storage& storage() const noexcept { return storage_; }
    [[nodiscard]] const server_options& options() const noexcept { return options_; }

  private:
    void take(std::vector<conn_id>& list, void (*unlist)(connection&), std::vector<conn_id>& out);

    const settings& settings_;
    timer_queue& timers_;
    server_options options_;
    protocol_storage storage_;
    std::vector<std::unique_ptr<connection>> slots_;
    std::vector<std::uint32_t> free_slots_;
    std::uint64_t generation_ = 0;
    std::size_t size_ = 0;
    std::vector<conn_id> dirty_;
    std::vector<conn_id> resumed_;
};

} // namespace mqttwire::broker
