#pragma once
// A session: the state that outlives a network connection (MQTT-3.1.2-4 / MQTT5-4.1.0-1):
// subscriptions, QoS 1/2 messages queued and in flight, the will, and when it expires.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <mqttwire.hpp>

#include "core/message.hpp"
#include "core/optional_text.hpp"
#include "core/timers.hpp"
#include "protocol/connection.hpp"

namespace mqttwire::broker {

struct connection;
struct session;

inline constexpr std::uint32_t never_expires = 0xFFFFFFFF;

/// One subscription as the index and the session keep it.
struct subscriber {
    session* owner = nullptr;
    subscription_options options{};
    std::uint32_t subscription_id = 0; ///< 0: none
};
struct subscriber_key {
    session* operator()(const subscriber& s) const noexcept { return s.owner; }
};

/// A message on its way to one session.
struct delivery {
    message_ptr msg;
    std::uint64_t seq = 0; ///< order of arrival in the session (the store's key for it)
    mqttwire::qos qos = mqttwire::qos::at_least_once;
    bool retain = false;
    std::vector<std::uint32_t> sub_ids; ///< Subscription Identifiers (usually none)
};

struct inflight_message {
    delivery d;
    std::uint16_t packet_id = 0;
    bool released = false; ///< QoS 2: PUBREC received, PUBREL sent
    std::uint64_t order = 0; ///< sending order, for the resend after a reconnect
};

/// QoS 1/2 state, allocated with the first such message: most sessions of a home-automation
/// broker never have one, and an idle session should cost little.
struct session_traffic {
    std::deque<delivery> queue; ///< not yet sent (beyond the in-flight window)
    std::size_t queued_bytes = 0;
    std::unordered_map<std::uint16_t, inflight_message> inflight; ///< by packet identifier
    std::size_t inflight_bytes = 0;
    std::uint64_t next_order = 0;
    std::uint64_t next_seq = 1;
    std::vector<conn_id> waiters; ///< publishers paused until the queue has room
    /// A PUBLISH in flight encoded again for the resend after a reconnect, and the time its
    /// Message Expiry Interval is counted from.
    std::vector<std::byte> resend_scratch;
    clock::time_point resend_at{};
    std::uint64_t dropped = 0; ///< QoS 1/2 messages dropped for it (see `dropping`)
    /// Logging of drops: once per episode, not per message.
    bool dropping = false;
};

/// The will of the session's last CONNECT, kept apart from the session: most clients give
/// none, and those that do keep it in one allocation.
struct session_will {
    message_ptr msg;
    std::optional<clock::time_point> at;  ///< when a delayed will goes out (offline only)
    std::optional<std::uint32_t> expiry; ///< its Message Expiry Interval
    std::uint32_t delay = 0;              ///< its Will Delay Interval, seconds
};

struct session {
    explicit session(const protocol_storage& storage) noexcept : state(storage) {}

    // Fields are grouped by size, so that the padding between them stays small: one per
    // client id the broker knows.
    std::string client_id;
    std::uint64_t serial = 0; ///< unique for the broker's lifetime (timer owner)
    connection* conn = nullptr;
    optional_text user;
    /// The rules of the listener it last connected through (ACL checks); null: broker-wide.
    const listener_policy* policy = nullptr;
    optional_time expires_at; ///< set while kept offline; time_point::max(): no deadline

    std::map<std::string, subscriber, std::less<>> subscriptions;
    std::size_t subscription_bytes = 0; ///< sum of the filters' lengths

    /// Null unless the last CONNECT gave a will that is not yet published or discarded.
    std::unique_ptr<session_will> will;

    // Router scratch: whether and where this session is already a target of the message
    // being routed.
    std::uint64_t route_mark = 0;

    session_timers timers;

    /// The packet identifiers in flight both ways, kept by the session layer across
    /// connections: QoS 1/2 PUBLISHes and PUBRELs to the client, QoS 2 PUBLISHes from it
    /// awaiting PUBREL (MQTT-4.3.3-2 / MQTT5-4.3.3-10: not delivered twice).
    protocol_state state;

    std::uint32_t route_index = 0; ///< router scratch: its place among the targets (route_mark)
    std::uint32_t expiry_interval = 0; ///< seconds; never_expires: kept until expired by policy
    protocol_version version = protocol_version::v5;
    /// The local side of an outgoing bridge: every ACL check passes (as in mosquitto).
    bool trusted = false;

    [[nodiscard]] bool persistent() const noexcept { return expiry_interval != 0; }
    [[nodiscard]] session_traffic& traffic() {
        if (!traffic_) traffic_ = std::make_unique<session_traffic>();
        return *traffic_;
    }
    [[nodiscard]] session_traffic* traffic_if_any() const noexcept { return traffic_.get(); }
    void drop_traffic() noexcept { traffic_.reset(); }

  private:
    std::unique_ptr<session_traffic> traffic_;
};

} // namespace mqttwire::broker
