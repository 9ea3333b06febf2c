#pragma once
/// @file
/// @brief What a session reports: `session_event` (one per call of `next()`), the connection
/// status, and the limits negotiated with the peer.

#include <chrono>
#include <cstdint>
#include <optional>
#include <variant>

#include "../options.hpp"
#include "../packet.hpp"
#include "../reason_code.hpp"
#include "../version.hpp"

namespace mqttwire {

/// @brief Where a connection stands.
enum class connection_status : std::uint8_t {
    idle,       ///< client: before `connect()`, or after the closed event
    connecting, ///< client: CONNECT sent, CONNACK awaited; server: CONNECT awaited or answered
    connected,  ///< CONNACK with Success sent or received
    closing,    ///< the connection ends; the closed event is next, output may hold a last packet
    closed,     ///< server: the closed event was returned; nothing more happens
};

/// @brief What `next()` reports. Answers the session expects are noted per kind.
enum class event_kind : std::uint8_t {
    none,                ///< nothing to do before more input, written output or `deadline()`
    connected,           ///< client: CONNACK accepted the connection (see `session_present`)
    connect_request,     ///< server: a CONNECT; answer `accept()` or `refuse()`
    message,             ///< a PUBLISH (`message`); answered by `acknowledge()` or `defer()`
    published,           ///< an own QoS 1/2 PUBLISH is done: `packet_id`, `reason` of the ack
    /// an own QoS 2 PUBLISH was received (PUBREC with Success): PUBREL is sent, the PUBLISH is
    /// never sent again, `published` follows with the PUBCOMP. For a store that keeps in-flight
    /// messages: from now on only the PUBREL is resent (MQTT-4.3.3-1 / MQTT5-4.3.3-4).
    released,
    /// the peer's PUBREL for an inbound QoS 2 message (`packet_id`): PUBCOMP is sent and the
    /// identifier is free again. For a store that keeps the identifiers awaiting PUBREL
    /// (`session_state::for_each_inbound_qos2`): it may forget this one (MQTT-4.3.3-2 /
    /// MQTT5-4.3.3-11).
    peer_released,
    subscribed,          ///< client: the SUBACK (`packet`) for `packet_id`
    unsubscribed,        ///< client: the UNSUBACK (`packet`) for `packet_id`
    subscribe_request,   ///< server: a SUBSCRIBE; answer `answer_subscribe()`
    unsubscribe_request, ///< server: an UNSUBSCRIBE; answer `answer_unsubscribe()`
    auth,                ///< an AUTH packet (5.0 enhanced authentication is the embedder's)
    closed,              ///< the connection ended: `reason`, `initiator`, `publish_will`
};

/// @brief Who ended a connection.
enum class close_initiator : std::uint8_t {
    none,
    local,     ///< this side: `disconnect()`, a protocol violation by the peer, a timeout
    peer,      ///< the peer: DISCONNECT, or a CONNACK refusing the connection
    transport, ///< `transport_closed()`: the network connection went away
};

/// @brief One event. Views (`message`, `packet` and what they point to) point into the
/// session's input buffer and tables: they are valid until the next call of `next()`,
/// `input_space()`, `feed()` or `connect()` on the same connection.
struct session_event {
    event_kind kind = event_kind::none;
    /// `published`, `subscribed`, `unsubscribed`, the requests and QoS 1/2 `message`s.
    std::uint16_t packet_id = 0;
    /// `closed`: the reason code sent or received (Success for a normal end; the codes of 3.1.1
    /// CONNACK refusals are the matching 5.0 codes); `published`: the acknowledgement's code.
    reason_code reason = reason_code::success;
    /// `connected`: the server has a session for this client (MQTT-3.2.2-2 / MQTT5-3.2.2-3).
    bool session_present = false;
    /// `connected`: in-flight messages dropped because the server had no session
    /// (MQTT5-3.2.2-5) or because they no longer fit the server's Maximum Packet Size.
    std::uint16_t discarded = 0;
    /// `closed`: who ended the connection.
    close_initiator initiator = close_initiator::none;
    /// `closed`, server role: the will is due (the connection did not end with the client's
    /// DISCONNECT 0x00: MQTT-3.1.2-8, MQTT-3.14.4-3 / MQTT5-3.1.2-8, MQTT5-3.14.4-3).
    bool publish_will = false;
    /// `closed` by this side for a violation by the peer: what was wrong (a codec or session
    /// error, finer than `reason`, for logging); Success otherwise.
    errc error = errc::success;
    /// `closed`, server role: the Session Expiry Interval of the client's DISCONNECT (5.0).
    std::optional<std::uint32_t> session_expiry{};
    /// `message`: the PUBLISH, its Topic Alias resolved to the topic name.
    const publish_view* message = nullptr;
    /// The packet behind the event, if any. A PUBLISH that named its topic by Topic Alias alone
    /// has the topic name filled in, as in `message`.
    const packet_view* packet = nullptr;

    /// @brief The packet as a `P`, or nullptr.
    template <class P> [[nodiscard]] const P* get() const noexcept {
        return packet == nullptr ? nullptr : std::get_if<P>(packet);
    }
    [[nodiscard]] explicit operator bool() const noexcept { return kind != event_kind::none; }
};

/// @brief Packets received and sent (`basic_connection::take_packet_counts`).
struct packet_counts {
    std::uint32_t received = 0;
    std::uint32_t sent = 0;
};

/// @brief What the peer allows this side to send, from CONNECT (server role) or CONNACK
/// (client role). Defaults are the protocol's when the peer says nothing.
struct peer_limits {
    /// Receive Maximum: QoS 1/2 PUBLISHes in flight at once (MQTT5-3.3.4-7, MQTT5-3.3.4-9).
    std::uint16_t receive_maximum = 65535;
    /// Maximum QoS (client role; MQTT5-3.2.2-11).
    mqttwire::qos maximum_qos = mqttwire::qos::exactly_once;
    /// Retain Available (client role; MQTT5-3.2.2-14).
    bool retain_available = true;
    /// Maximum Packet Size (MQTT5-3.2.2-15 / MQTT5-3.1.2-24).
    std::uint32_t maximum_packet_size = max_packet_size_limit;
    /// Topic Alias Maximum: aliases this side may use (MQTT5-3.2.2-17 / MQTT5-3.1.2-26).
    std::uint16_t topic_alias_maximum = 0;
    /// Wildcard / Subscription Identifier / Shared Subscription Available (client role).
    bool wildcard_subscriptions = true;
    bool subscription_identifiers = true;
    bool shared_subscriptions = true;
    /// The keep alive in force, in seconds (Server Keep Alive when the server sent one:
    /// MQTT5-3.2.2-21).
    std::uint16_t keep_alive = 0;
    /// The Session Expiry Interval in force (5.0), in seconds.
    std::uint32_t session_expiry = 0;
    /// Server role: Request Problem Information (MQTT5-3.1.2-29).
    bool problem_information = true;
};

} // namespace mqttwire
