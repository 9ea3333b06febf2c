#pragma once
/// @file
/// @brief Where sessions and retained messages are kept: the interface between the broker and
/// its storage engines (store/memory_store.hpp keeps everything in memory; a durable engine
/// writes the same events to disk and gives them back at start-up).
///
/// Retained messages live in the store: the router asks it for the messages matching a filter.
/// Sessions live in the broker's own tables while it runs; the store is told of every change
/// to a session that outlives its connection (Session Expiry Interval > 0, or a 3.1.1 client
/// with Clean Session 0) so that an engine can rebuild them: the session and its subscriptions,
/// each QoS 1/2 message it takes (identified by the session's arrival sequence number), the
/// packet identifier it goes out with, the PUBREL stage of QoS 2, the acknowledgement or drop
/// that ends it, and the inbound QoS 2 identifiers awaiting PUBREL (exactly-once across a
/// restart). Clean sessions cost the store nothing. Calls come from the broker's one thread.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <mqttwire.hpp>

#include "core/message.hpp"

namespace mqttwire::broker {

struct session;
struct delivery;

/// A session as an engine stores it.
struct session_record {
    std::string client_id;
    protocol_version version = protocol_version::v5;
    std::optional<std::string> user;
    std::uint32_t expiry_interval = 0;
    struct subscription {
        std::string filter;
        subscription_options options{};
        std::uint32_t subscription_id = 0;
    };
    std::vector<subscription> subscriptions;
    /// When the session ends, if it was offline when recorded (time_point::max(): kept until
    /// expired by policy); none: it had a connection then, so a restart counts its expiry from
    /// the restart, as for a connection that was lost.
    std::optional<clock::time_point> expires_at;
    /// The will and its timing (MQTT5-3.1.3-9): kept with the session so that a restart
    /// publishes it when its delay is over, or at once for a connection the restart cut.
    message_ptr will;
    std::uint32_t will_delay = 0;
    std::optional<std::uint32_t> will_expiry;
    std::optional<clock::time_point> will_at;
};

/// A stored QoS 1/2 message of a session, in arrival order.
struct stored_delivery {
    std::string client_id;
    std::uint64_t seq = 0;
    message_ptr msg;
    mqttwire::qos qos = mqttwire::qos::at_least_once;
    bool retain = false;
    std::vector<std::uint32_t> sub_ids;
    std::uint16_t packet_id = 0; ///< 0: still queued
    bool released = false;       ///< QoS 2: PUBREL sent
};

/// What an engine hands back at start-up (store::restore). Retained messages are not handed
/// back: the engine keeps serving them through match_retained.
class restore_sink {
  public:
    virtual ~restore_sink() = default;
    virtual void session(session_record r) = 0;
    /// After the session it belongs to, in arrival order.
    virtual void delivery(stored_delivery d) = 0;
    virtual void awaiting_pubrel(std::string_view client_id, std::uint16_t packet_id) = 0;
};

class store {
  public:
    virtual ~store() = default;

    // Retained messages: one per topic (MQTT-3.3.1-5 / MQTT5-3.3.1-5).
    virtual void retain(const message_ptr& m) = 0;
    /// @return whether a message was retained for `topic`.
    virtual bool forget_retained(std::string_view topic) = 0;
    /// Calls `f` for every retained message whose topic matches the valid filter `filter`.
    virtual void match_retained(std::string_view filter,
                                const std::function<void(const message_ptr&)>& f) const = 0;
    [[nodiscard]] virtual std::size_t retained_count() const = 0;

    // Persistent sessions. The defaults do nothing: an engine that keeps nothing beyond the
    // broker's own tables needs none of them.
    /// Created, or its subscriptions, expiry or user changed.
    virtual void session_saved(const session& s) { (void)s; }
    virtual void session_ended(std::string_view client_id) { (void)client_id; }
    virtual void message_added(const session& s, const delivery& d) { (void)s, (void)d; }
    virtual void message_sent(const session& s, std::uint64_t seq, std::uint16_t packet_id) {
        (void)s, (void)seq, (void)packet_id;
    }
    virtual void message_released(const session& s, std::uint64_t seq) { (void)s, (void)seq; }
    /// Acknowledged, or dropped (expired, too large for the client).
    virtual void message_done(const session& s, std::uint64_t seq) { (void)s, (void)seq; }
    virtual void pubrel_awaited(const session& s, std::uint16_t packet_id, bool awaited) {
        (void)s, (void)packet_id, (void)awaited;
    }

    /// Gives back everything kept (at start-up, before the first connection).
    virtual void restore(restore_sink& sink) { (void)sink; }
};

/// The record an engine stores for `s`.
[[nodiscard]] session_record record_of(const session& s);

} // namespace mqttwire::broker
