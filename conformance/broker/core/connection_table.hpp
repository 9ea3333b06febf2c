#pragma once
// The live connections by id, and the three lists the event loop drains each turn: connections
// with output to write (dirty), connections whose held input can be processed again (resumed),
// and the stall bookkeeping that disconnects a consumer stuck over its bound.

#include <cstddef>
#include <memory>
#include <utility>
#include <unordered_map>
#include <vector>

#include "core/settings.hpp"
#include "core/timers.hpp"
#include "protocol/connection.hpp"

namespace mqttwire::broker {

class connection_table {
  public:
    connection_table(const settings& s, timer_queue& timers) : settings_(s), timers_(timers) {}

    connection& open(conn_id id, clock::time_point now);
    [[nodiscard]] connection* find(conn_id id) const {
        const auto it = conns_.find(id);
        return it == conns_.end() ? nullptr : it->second.get();
    }
    void erase(conn_id id);
    [[nodiscard]] std::size_t size() const noexcept { return conns_.size(); }
    template <class F> void for_each(F&& f) {
        for (auto& [id, c] : conns_) f(*c);
    }
    template <class F> void for_each(F&& f) const {
        for (const auto& [id, c] : conns_) f(std::as_const(*c));
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
    /// client just took bytes or acknowledged a message, so the clock restarts.
    void update_stall(connection& c, bool queue_full, bool progress, clock::time_point now);
    [[nodiscard]] bool output_full(const connection& c) const noexcept {
        return c.out.size() >= settings_.max_output_buffer;
    }

  private:
    const settings& settings_;
    timer_queue& timers_;
    std::unordered_map<conn_id, std::unique_ptr<connection>> conns_;
    std::vector<conn_id> dirty_;
    std::vector<conn_id> resumed_;
};

} // namespace mqttwire::broker
