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

/// The bytes of the PUBLISH in flight to `s` with packet identifier `id`, for the session's
/// resend after a reconnect (any encoding: the session sets DUP and the identifier); empty when
/// there is none. Valid until the next call for the same session.
[[nodiscard]] std::span<const std::byte> resend_encoding(session& s, std::uint16_t id) noexcept;

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
    /// The router's encode-once path: after it wrote a copy with packet identifier `id` (when
    /// can_send_now(s)), records it in flight.
    void sent(session& s, std::uint16_t id, delivery&& d, clock::time_point now);

    /// Moves queued messages into flight while the window and the output buffer allow.
    void pump(session& s, clock::time_point now);
    /// `s` is being resumed at `now` by a new connection: the session resends its in-flight
    /// PUBLISHes (re-encoded by resend_encoding) when it is accepted.
    void resuming(session& s, clock::time_point now);

    /// The message in flight with `id` is done (PUBACK, PUBCOMP, or a PUBREC with a failure
    /// code): forgotten, and the queue moves on. False: unknown id.
    bool acknowledged(session& s, std::uint16_t id, clock::time_point now);
    /// The QoS 2 message with `id` got its PUBREC: only its PUBREL is resent from now on.
    void released(session& s, std::uint16_t id);

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
    void count_unsent(session& s, write_result r, const delivery& d);

    const settings& settings_;
    packet_writer& writer_;
    connection_table& conns_;
    statistics& stats_;
    const logger& log_;
    store& store_;
};

} // namespace mqttwire::broker
