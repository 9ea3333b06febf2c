#pragma once
// The broker core without I/O: bytes in, bytes and close requests out, time passed in. The
// event loop (net/server.hpp) owns the sockets; this object owns the parts and wires them:
// connections (core/connection_table), the per-connection protocol (protocol/), sessions
// (session/), routing (routing/), storage (store/), policy (policy/) and statistics (stats/).

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "core/connection_table.hpp"
#include "core/log.hpp"
#include "core/settings.hpp"
#include "core/timers.hpp"
#include "policy/policy.hpp"
#include "protocol/handler.hpp"
#include "protocol/output.hpp"
#include "routing/router.hpp"
#include "session/outbox.hpp"
#include "session/session_table.hpp"
#include "stats/statistics.hpp"
#include "stats/sys_tree.hpp"
#include "store/store.hpp"

namespace mqttwire::broker {

class broker {
  public:
    /// With the in-memory store.
    broker(settings s, log_sink log);
    /// With `st` (which must outlive the broker).
    broker(settings s, log_sink log, store& st);
    ~broker();
    broker(const broker&) = delete;
    broker& operator=(const broker&) = delete;

    /// Rebuilds the sessions the store kept (once, at start-up, before any connection).
    void restore(clock::time_point now) { sessions_.restore(now); }

    /// A new network connection. Ids are unique; their low 32 bits are a small slot number
    /// (slot_of) that an event loop may use to index its own tables.
    conn_id accept(clock::time_point now);
    /// A new network connection on a listener with its own rules (`policy` outlives the
    /// broker; null: the broker-wide settings).
    conn_id accept(clock::time_point now, const listener_policy* policy);
    /// The user name `id`'s transport established (a client certificate's CN or subject); set
    /// before its CONNECT is received, it replaces the CONNECT's user name for authentication
    /// and the ACL.
    void set_identity(conn_id id, std::string user);
    /// A connection from inside the broker (the local side of an outgoing bridge): it is not
    /// authenticated and its session passes every ACL check, as mosquitto treats its bridges.
    conn_id accept_trusted(clock::time_point now);
    [[nodiscard]] static constexpr std::size_t slot_of(conn_id id) noexcept {
        return connection_table::slot_of(id);
    }
    /// Bytes read from `id`.
    void receive(conn_id id, std::span<const std::byte> bytes, clock::time_point now);
    /// Room in `id`'s own input buffer for the transport to read into, so that the bytes are
    /// not copied again; then `input_written`. Empty when the read must go through `receive`
    /// instead (bytes from an earlier read still wait, the connection keeps no input buffer
    /// now because it is quiet, or it is closing).
    [[nodiscard]] std::span<std::byte> input_space(conn_id id);
    /// The transport wrote `n` bytes at the start of `input_space(id)` (0: none came, and the
    /// room a quiet connection reserved is given back); they are processed as by `receive`.
    void input_written(conn_id id, std::size_t n, clock::time_point now);
    /// False while `id` is paused (its output is at the bound, or a full queue holds its
    /// PUBLISH) or still has packets from earlier reads to process (its share of a turn ran
    /// out): the event loop does not read it now.
    [[nodiscard]] bool wants_input(conn_id id) const;
    /// True while `id` is paused: the event loop stops watching it for input, so TCP slows the
    /// client down. (Held-over packets alone do not pause it: they are processed next turn.)
    [[nodiscard]] bool held(conn_id id) const;
    /// The network connection is gone (EOF, error, or closed after should_close()).
    void connection_lost(conn_id id, clock::time_point now);
    /// Runs what is due: timers (keep-alive, CONNECT timeout, slow consumers, will delay,
    /// session expiry) and connections whose held input may be processed again.
    void tick(clock::time_point now);
    /// When tick() has work next (now when a connection was resumed); none: nothing pending.
    [[nodiscard]] std::optional<clock::time_point> next_deadline() const;
    /// Closes every connection cleanly (5.0 clients get DISCONNECT 0x8B).
    void shutdown(clock::time_point now);

    /// Bytes waiting to be written to `id`.
    [[nodiscard]] std::span<const std::byte> pending_output(conn_id id) const;
    void output_written(conn_id id, std::size_t n);
    void output_written(conn_id id, std::size_t n, clock::time_point now);
    /// True when `id` should be closed (after one last attempt to write its pending output).
    [[nodiscard]] bool should_close(conn_id id) const;
    /// Connections whose output, close or pause state changed since the last call.
    [[nodiscard]] std::vector<conn_id> take_dirty();
    void take_dirty(std::vector<conn_id>& out) { conns_.take_dirty(out); }

    [[nodiscard]] std::size_t connection_count() const { return conns_.size(); }
    [[nodiscard]] std::size_t session_count() const { return sessions_.size(); }
    [[nodiscard]] std::size_t retained_count() const { return store_.retained_count(); }
    /// Entries in the timer heap: live deadlines plus a bounded number of stale ones.
    [[nodiscard]] std::size_t timer_count() const { return timers_.size(); }
    [[nodiscard]] const statistics& stats() const noexcept { return stats_; }
    /// The event loop closed a connection at once (max_connections, out of descriptors).
    void connection_refused() noexcept { ++stats_.connections_refused; }
    [[nodiscard]] const settings& config() const noexcept { return settings_; }

    /// @brief Publishes a message of the broker's own (`$SYS`, log lines) through the router,
    /// as a will is: no publisher to hold back, full queues drop (counted).
    void publish_internal(std::string_view topic, std::string_view payload, mqttwire::qos q,
                          bool retain, clock::time_point now);
    /// A log line for `$SYS/broker/log/...` (`log_dest topic`). Published at the next tick(),
    /// since a line can be logged while the router is in the middle of a publication; at most
    /// max_queued_log_lines wait (the rest are dropped).
    void queue_log_message(log_type t, std::string_view line);
    static constexpr std::size_t max_queued_log_lines = 1000;
    /// Whether connection messages name the peer (the event loop then calls set_peer).
    [[nodiscard]] bool wants_peer() const noexcept {
        return settings_.connection_messages && log_.wants(log_type::notice);
    }
    /// "ADDRESS:PORT" of `id`, for its connection messages.
    void set_peer(conn_id id, std::string peer);
    /// Every byte held for connections (input and output buffers) and for sessions (queued
    /// messages), summed: what the bounds limit. Linear in connections; for tests and fuzzing.
    [[nodiscard]] std::size_t buffered_bytes() const;
    /// Checks every per-connection and per-session bound; empty when all hold, otherwise what
    /// is over. Linear; for tests and fuzzing.
    [[nodiscard]] std::string check_bounds(std::size_t largest_input) const;

  private:
    broker(settings s, log_sink log, std::unique_ptr<store> owned, store* external);
    void housekeeping(clock::time_point now);

    settings settings_;
    logger log_;
    statistics stats_;
    timer_queue timers_;
    std::unique_ptr<store> own_store_;
    store& store_;
    policy policy_;
    connection_table conns_;
    packet_writer writer_;
    outbox outbox_;
    router router_;
    session_table sessions_;
    protocol_handler handler_;

    clock::time_point now_{};
    clock::time_point last_loads_{};
    // $SYS and log lines for topics.
    void publish_sys(clock::time_point now);
    sys_tree sys_;
    std::optional<clock::time_point> started_;
    clock::time_point sys_due_{}; // the first tick publishes
    std::vector<std::pair<log_type, std::string>> log_queue_, log_draining_;
    broker_timers housekeeping_timer_;
    std::vector<conn_id> scratch_;
};

} // namespace mqttwire::broker
