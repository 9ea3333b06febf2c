#pragma once
// The per-connection protocol, on the core's sans-I/O server session (mqttwire::server, one per
// connection): the session frames and decodes what a client sends, answers what the protocol
// answers by itself and reports the rest as events; this handler decides them (CONNECT and
// takeover, the reason code of each acknowledgement, SUBACK codes) and reaches the rest of the
// broker only through sessions (session_table, outbox), routing (router::publish and
// subscriptions), policy and statistics.

#include <cstddef>
#include <optional>
#include <span>
#include <string_view>

#include <mqttwire.hpp>

#include "core/connection_table.hpp"
#include "core/log.hpp"
#include "core/timers.hpp"
#include "policy/policy.hpp"
#include "protocol/connection.hpp"
#include "protocol/output.hpp"
#include "routing/router.hpp"
#include "session/outbox.hpp"
#include "session/session_table.hpp"
#include "stats/statistics.hpp"

namespace mqttwire::broker {

/// Everything the protocol handler works with.
struct broker_parts {
    const settings& cfg;
    const logger& log;
    statistics& stats;
    timer_queue& timers;
    connection_table& conns;
    const policy& pol;
    session_table& sessions;
    router& routes;
    outbox& out;
};

class protocol_handler {
  public:
    explicit protocol_handler(broker_parts parts) : p_(parts) {}

    /// `c` was just accepted by the transport: its CONNECT is awaited.
    void opened(connection& c, clock::time_point now);
    /// Bytes read from `c`: every whole packet is processed until the connection pauses (its
    /// output is at the bound, or a subscriber's full queue holds its PUBLISH) or closes; the
    /// rest is kept.
    void receive(connection& c, std::span<const std::byte> bytes, clock::time_point now);
    /// Where the transport may read `c`'s next bytes in place (broker::input_space).
    [[nodiscard]] std::span<std::byte> input_space(connection& c);
    /// `n` bytes were read into `input_space(c)`: processed as by `receive`.
    void input_written(connection& c, std::size_t n, clock::time_point now);
    /// Processes what `c` had to hold back when it was paused.
    void resume(connection& c, clock::time_point now);
    /// `c`'s socket took `n` bytes.
    void written(connection& c, std::size_t n, clock::time_point now);
    /// A connect_timeout, keep_alive or slow_consumer entry from the timer heap.
    void on_timer(const timer_queue::entry& e, clock::time_point now);
    /// The network connection is gone (EOF, error).
    void lost(connection& c, clock::time_point now);
    /// The broker is stopping: 5.0 clients get DISCONNECT 0x8B.
    void shut_down(connection& c, clock::time_point now);

  private:
    // Input and the session's events (input.cpp).
    /// Takes `c`'s events until it has none, pauses or closes; then accounts and arms its timer.
    void run(connection& c, clock::time_point now);
    void handle(connection& c, const session_event& ev, clock::time_point now);
    /// Feeds `bytes` (and what was spilled before) to `c`'s session; false when some must wait.
    void feed(connection& c, std::span<const std::byte> bytes);
    /// The closed event: logs, ends or keeps the session. `will` and `how` override the event's
    /// will flag and the end of mosquitto's "Client ID ..." message.
    void on_closed(connection& c, const session_event& ev, clock::time_point now,
                   std::optional<bool> will = {}, std::string_view how = {});
    /// Ends `c` from the broker's side: DISCONNECT `rc` (5.0), then the closed event.
    void end_connection(connection& c, reason_code rc, clock::time_point now, bool will,
                        std::string_view how);
    void close(connection& c, clock::time_point now, bool publish_will, std::string_view how);
    /// mosquitto's connection messages (connection_messages, notice).
    void announce(connection& c, const connect_view& p);
    void announce_end(connection& c, std::string_view client_id, std::string_view how);
    void disconnect_slow(connection& c, clock::time_point now);
    void detail(const connection& c, std::string_view what) const;

    // CONNECT (connect.cpp).
    void on_connect(connection& c, const connect_view& p, clock::time_point now);
    void refuse(connection& c, reason_code rc);
    void keep_will(session& s, const connect_view& p);
    void take_over(connection& old, std::string_view client_id, clock::time_point now);
    void accepted(connection& c, const connect_view& p, bool present);

    // PUBLISH and acknowledgements (publish.cpp).
    void on_message(connection& c, const publish_view& p, std::string_view topic,
                    clock::time_point now);
    void acknowledge(connection& c, const publish_view& p, reason_code rc);
    void on_published(connection& c, std::uint16_t id, clock::time_point now);
    void on_released(connection& c, std::uint16_t id);
    void on_peer_released(connection& c, std::uint16_t id);

    // SUBSCRIBE, UNSUBSCRIBE (subscribe.cpp).
    void on_subscribe(connection& c, const subscribe_view& p, clock::time_point now);
    reason_code subscribe_one(connection& c, const subscription& entry, std::uint32_t sub_id,
                              bool& send_retained);
    void on_unsubscribe(connection& c, const unsubscribe_view& p);

    broker_parts p_;
    std::vector<reason_code> codes_; // scratch for SUBACK / UNSUBACK
};

/// Levels of a topic name or filter ('/' separators + 1).
[[nodiscard]] std::size_t topic_levels(std::string_view topic) noexcept;

} // namespace mqttwire::broker
