#pragma once
// The per-connection protocol: framing and decoding what a client sends, CONNECT/CONNACK and
// session takeover, the PUBLISH flows and their acknowledgements, topic aliases, SUBSCRIBE and
// UNSUBSCRIBE, keep-alive, DISCONNECT and protocol violations. It is the seam where a sans-I/O
// server session of the core plugs in: it reads a connection's bytes and writes its packets,
// and reaches the rest of the broker only through sessions (session_table, outbox), routing
// (router::publish and subscriptions), policy and statistics.

#include <cstddef>
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
    packet_writer& writer;
    const policy& pol;
    session_table& sessions;
    router& routes;
    outbox& out;
};

class protocol_handler {
  public:
    explicit protocol_handler(broker_parts parts) : p_(parts) {}

    /// Bytes read from `c`: every whole packet is processed until the connection pauses (its
    /// output is at the bound, or a subscriber's full queue holds its PUBLISH) or closes; the
    /// rest is kept.
    void receive(connection& c, std::span<const std::byte> bytes, clock::time_point now);
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
    // Input (input.cpp).
    std::size_t process(connection& c, std::span<const std::byte> bytes, clock::time_point now);
    bool refuse_undecodable_connect(connection& c, std::span<const std::byte> pkt, errc e,
                                    clock::time_point now);
    errc dispatch(connection& c, const packet_view& p, clock::time_point now);
    void protocol_violation(connection& c, errc e, clock::time_point now, std::string_view why);
    /// `how` ends mosquitto's "Client ID ..." connection message ("disconnected" by default).
    void close(connection& c, clock::time_point now, bool publish_will,
               std::string_view how = {});
    /// mosquitto's connection messages (connection_messages, notice).
    void announce(connection& c, const connect_view& p);
    void announce_end(connection& c, std::string_view client_id, std::string_view how);
    void disconnect_slow(connection& c, clock::time_point now);
    void detail(const connection& c, std::string_view what) const;

    // CONNECT (connect.cpp).
    void on_connect(connection& c, const connect_view& p, clock::time_point now);
    void refuse_connect(connection& c, protocol_version v, reason_code v5,
                        connect_return_code v3);
    void keep_will(session& s, const connect_view& p);
    void start_aliases_out(connection& c, const connect_view& p);
    void accept_connect(connection& c, session& s, const connect_view& p, bool present);

    // PUBLISH and acknowledgements (publish.cpp).
    errc on_publish(connection& c, const publish_view& p, clock::time_point now);
    errc on_puback(connection& c, std::uint16_t id, clock::time_point now);
    errc on_pubrec(connection& c, const pubrec_view& p, clock::time_point now);
    errc on_pubrel(connection& c, const pubrel_view& p);
    errc on_pubcomp(connection& c, std::uint16_t id, clock::time_point now);
    errc resolve_alias(connection& c, const publish_view& p, std::string_view& topic);
    void acknowledge(connection& c, const publish_view& p, reason_code rc);

    // SUBSCRIBE, UNSUBSCRIBE, DISCONNECT (subscribe.cpp).
    errc on_subscribe(connection& c, const subscribe_view& p, clock::time_point now);
    reason_code subscribe_one(connection& c, const subscription& entry, std::uint32_t sub_id,
                              bool& send_retained);
    errc on_unsubscribe(connection& c, const unsubscribe_view& p);
    errc on_disconnect(connection& c, const disconnect_view& p, clock::time_point now);

    broker_parts p_;
    std::vector<reason_code> codes_; // scratch for SUBACK / UNSUBACK
};

/// Levels of a topic name or filter ('/' separators + 1).
[[nodiscard]] std::size_t topic_levels(std::string_view topic) noexcept;

} // namespace mqttwire::broker
