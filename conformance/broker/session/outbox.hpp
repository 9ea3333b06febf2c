#pragma once
// Messages on their way to sessions: QoS 0 written or dropped at once, QoS 1/2 through the
// queue (max_queued_messages / max_queued_bytes), the in-flight window (the client's Receive
// Maximum capped by max_inflight_messages, max_inflight_bytes) and the output buffer
// (max_output_buffer), and their acknowledgements. Every message not delivered is counted in
// statistics, and each session logs a drop episode once.

#include <cstdint>
#include <optional>
#include <span>

#include "core/connection_table.hpp"
#include "core/log.hpp"
#include "core/message.hpp"
#include "protocol/output.hpp"
#include "session/session.hpp"
#include "stats/statistics.hpp"
#include "store/store.hpp"

namespace mqttwire::broker {

class outbox {
  public:
    outbox(const settings& s, packet_writer& writer, connection_table& conns, statistics& stats,
           const logger& log, store& st)
        : settings_(s), writer_(writer), conns_(conns), stats_(stats), log_(log), store_(st) {}

    [[nodiscard]] static connection* online(const session& s) noexcept;
    [[nodiscard]] bool queue_full(const session& s) const noexcept;
    /// An online subscriber at its queue bound under queue_overflow block: publishers wait.
    [[nodiscard]] bool holds_publishers(const session& s) const noexcept {
        return settings_.overflow == queue_overflow::block && online(s) != nullptr &&
               queue_full(s);
    }
    /// Whether a QoS 1/2 PUBLISH of `footprint` bytes (message::footprint) can be written to
    /// `s` now (online, nothing queued ahead of it, room in the window and the output buffer).
    [[nodiscard]] bool can_send_now(const session& s, std::size_t footprint) const noexcept;

    /// QoS 0: written now, or dropped (counted) when the output buffer is at its bound. QoS 0
    /// is not queued for offline sessions (MQTT-3.1.2-5 leaves it optional).
    void deliver_qos0(session& s, const publication& m, bool retain,
                      std::span<const std::uint32_t> sub_ids, clock::time_point now);
    /// QoS 1/2: written now, queued, or dropped when the queue is full (counted, logged once
    /// per episode). Callers that can wait check holds_publishers() first.
    void deliver(session& s, delivery&& d, clock::time_point now);
    /// The router's encode-once path: when can_send_now(s), a packet identifier for the copy it
    /// writes, then sent() to record it in flight.
    [[nodiscard]] std::optional<std::uint16_t> reserve_id(session& s);
    void sent(session& s, std::uint16_t id, delivery&& d, clock::time_point now);

    /// Moves queued messages into flight while the window and the output buffer allow.
    void pump(session& s, clock::time_point now);
    /// After a reconnect with Session Present: unacknowledged PUBLISHes again with DUP=1 and
    /// PUBRELs, in their original order (MQTT-4.4.0-1 / MQTT5-4.4.0-1), then the queue.
    void resend(session& s, clock::time_point now);

    /// MQTT-4.3.2-1 / MQTT5-4.3.2-1: a PUBACK frees its packet identifier. False: unknown id.
    bool on_puback(session& s, std::uint16_t id, clock::time_point now);
    enum class pubrec_outcome : std::uint8_t { unknown, ended, release };
    pubrec_outcome on_pubrec(session& s, std::uint16_t id, bool failed, clock::time_point now);
    bool on_pubcomp(session& s, std::uint16_t id, clock::time_point now);

    /// `publisher` waits for room in `s`'s queue.
    void hold(session& s, connection& publisher);
    /// Lets every publisher waiting on `s` go (its queue has room, or it went away).
    void release_waiters(session& s);
    /// The session ends or its state is discarded (Clean Start).
    void discard(session& s);

  private:
    [[nodiscard]] bool window_room(const session& s, const connection& c,
                                   std::size_t footprint) const noexcept;
    [[nodiscard]] bool below_low_water(const session& s) const noexcept;
    bool send_now(session& s, connection& c, delivery& d, clock::time_point now);
    void record_drop(session& s, drop_reason why, clock::time_point now);
    void qos0_dropped(connection& c, session& s, clock::time_point now);
    void after_write(session& s, connection& c, clock::time_point now);
    void forget(session& s, session_traffic& t, std::uint16_t id);

    const settings& settings_;
    packet_writer& writer_;
    connection_table& conns_;
    statistics& stats_;
    const logger& log_;
    store& store_;
};

} // namespace mqttwire::broker
