#pragma once
// Sessions by client identifier: created at CONNECT, kept while offline for their expiry
// interval, ended (subscriptions removed, pending will published, queued messages released).
// Wills and session expiry run on the broker's timer heap, so offline sessions without a
// deadline cost nothing.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "core/log.hpp"
#include "core/timers.hpp"
#include "policy/policy.hpp"
#include "routing/router.hpp"
#include "session/outbox.hpp"
#include "session/session.hpp"
#include "stats/statistics.hpp"
#include "store/store.hpp"

namespace mqttwire::broker {

class session_table {
  public:
    session_table(const settings& s, const logger& log, statistics& stats, timer_queue& timers,
                  const policy& pol, router& routes, outbox& out, store& st,
                  const protocol_storage& storage)
        : settings_(s), log_(log), stats_(stats), timers_(timers), policy_(pol), router_(routes),
          outbox_(out), store_(st), storage_(storage) {}
    ~session_table();
    session_table(const session_table&) = delete;
    session_table& operator=(const session_table&) = delete;

    [[nodiscard]] session* find(std::string_view client_id) const;
    [[nodiscard]] session& create(std::string client_id);
    /// A client identifier no session has (MQTT-3.1.3-6 / MQTT5-3.1.3-6).
    [[nodiscard]] std::string assign_id();
    [[nodiscard]] std::size_t size() const noexcept { return sessions_.size(); }
    template <class F> void for_each(F&& f) const {
        for (const auto& s : sessions_) f(std::as_const(*s));
    }

    /// A CONNECT names `s`: its previous connection (if any, already closed by the caller) no
    /// longer has it, and a will it left is published unless delayed; a delayed one is
    /// cancelled (MQTT5-3.1.3-9).
    void take_over(session& s, clock::time_point now);
    /// `c` now uses `s` (CONNECT accepted).
    void attach(session& s, connection& c);
    /// The connection of `s` is gone. The will goes out now (no delay, or the session ends
    /// with the connection), later (Will Delay Interval), or not at all (`publish_will` false:
    /// a normal DISCONNECT, MQTT-3.14.4-3 / MQTT5-3.14.4-3); the session ends now or at its
    /// expiry (MQTT-3.1.2-6 / MQTT5-3.1.2-5).
    void detach(session& s, bool publish_will, clock::time_point now);
    /// Ends `s`: a pending will is published (MQTT5-3.1.3-9), its subscriptions and messages
    /// are discarded, and it is forgotten.
    void end(session& s, clock::time_point now);
    void publish_will(session& s, clock::time_point now);

    /// Rebuilds the sessions `st` kept (at start-up, before any connection). Each is offline,
    /// with its expiry counted from `now`.
    void restore(clock::time_point now);

    /// A will_delay or session_expiry entry from the timer heap.
    void on_timer(const timer_queue::entry& e, clock::time_point now);
    /// Whether a heap entry still has an owner that expects it (timer_queue::compact).
    [[nodiscard]] bool expects(const timer_queue::entry& e) const;

    /// The store was told of a change to `s` (persistent sessions only).
    void saved(const session& s) {
        if (s.persistent()) store_.session_saved(s);
    }
    void saved_pubrel(const session& s, std::uint16_t packet_id, bool awaited) {
        store_.pubrel_awaited(s, packet_id, awaited);
    }

    /// `s` stays while offline: its expiry deadline (and its will's) go on the timer heap.
    /// `deadline`: a deadline restored from the store instead of one counted from `now`.
    void kept_offline(session& s, clock::time_point now,
                      std::optional<clock::time_point> deadline = std::nullopt);

  private:
    void schedule(session& s);

    const settings& settings_;
    const logger& log_;
    statistics& stats_;
    timer_queue& timers_;
    const policy& policy_;
    router& router_;
    outbox& outbox_;
    store& store_;
    const protocol_storage& storage_; ///< the session layer's limits, one for every session
    /// Hash and equality of sessions by client identifier, and lookup by a client identifier:
    /// the set holds the session alone, its key is the session's own `client_id`.
    struct by_client_id {
        using is_transparent = void;
        static std::string_view key(std::string_view id) noexcept { return id; }
        static std::string_view key(const std::unique_ptr<session>& s) noexcept {
            return s->client_id;
        }
        template <class K> std::size_t operator()(const K& k) const noexcept {
            return std::hash<std::string_view>{}(key(k));
        }
        template <class A, class B> bool operator()(const A& a, const B& b) const noexcept {
            return key(a) == key(b);
        }
    };
    std::unordered_set<std::unique_ptr<session>, by_client_id, by_client_id> sessions_;
    std::unordered_map<std::uint64_t, session*> by_serial_;
    std::uint64_t next_serial_ = 1;
    std::uint64_t assigned_ids_ = 0;
};

} // namespace mqttwire::broker
