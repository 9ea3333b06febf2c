#pragma once
// The per-connection protocol state: what the client negotiated in CONNECT, its buffers, and
// where it stands in flow control. Everything here ends with the network connection; what
// outlives it is in session/session.hpp.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <mqttwire.hpp>
#include <mqttwire/session/alias_sender.hpp>

#include "core/byte_buffer.hpp"
#include "core/optional_text.hpp"
#include "core/settings.hpp"
#include "core/timers.hpp"

namespace mqttwire::broker {

struct session;

struct connection {
    enum class state : std::uint8_t { awaiting_connect, connected, closing };

    // Fields are grouped by size (pointers and times, then 32- and 16-bit values, then flags),
    // so that the padding between them stays small: one per open connection.
    conn_id id = 0;
    session* s = nullptr;

    byte_buffer in;  ///< bytes read and not yet a whole packet (or held while paused)
    byte_buffer out; ///< bytes encoded and not yet taken by the socket

    clock::time_point opened{};
    clock::time_point last_packet{};
    std::vector<std::string> aliases; ///< topic aliases from the client (index = alias)
    std::string peer;                 ///< "ADDRESS:PORT" from the event loop; empty: unknown
    /// Topic aliases to the client (5.0, when its Topic Alias Maximum allows them); null when
    /// none are used.
    std::unique_ptr<topic_alias_sender<dynamic_storage<>>> aliases_out;

    // Flow control.
    std::uint64_t blocked_on = 0; ///< serial of the session whose full queue holds its PUBLISH
    std::optional<clock::time_point> stalled_since; ///< over its bound without progress since
    std::uint64_t dropped = 0;
    clock::time_point last_drop_log{};

    connection_timers timers;

    /// The listener's own rules (per_listener_settings); null: the broker-wide settings.
    const listener_policy* policy = nullptr;
    /// The user name the transport established (a client certificate's CN or subject with
    /// use_identity_as_username / use_subject_as_username): it replaces the CONNECT's user
    /// name, and no password is asked for.
    optional_text identity;

    std::uint32_t client_max_packet = 0; ///< the client's Maximum Packet Size; 0: none
    std::uint16_t keep_alive = 0;
    /// QoS 1/2 PUBLISHes the broker may have unacknowledged: the client's Receive Maximum,
    /// capped by max_inflight_messages (MQTT5-3.3.4-9: never above the Receive Maximum).
    std::uint16_t send_window = 65535;

    state st = state::awaiting_connect;
    protocol_version version = protocol_version::v5;
    /// Connected with mosquitto's bridge flag (level 0x83 / 0x84): its subscriptions are
    /// No Local and Retain As Published, as mosquitto treats a bridge.
    bool bridge = false;
    /// Opened from inside the broker (broker::accept_trusted): no authentication, no ACL.
    bool trusted = false;
    bool problem_information = true; ///< the client's Request Problem Information
    bool announced = false;          ///< its connection message was logged: log its end once
    bool dirty = false;              ///< on the connection table's dirty list
    bool paused_output = false;      ///< its own output is at the bound: its input waits
    bool resume_pending = false;     ///< on the connection table's resume list
    bool backlog = false;            ///< whole packets held: its turn's packet budget ran out
    bool dropping = false;           ///< QoS 0 drops in progress (logged once per episode)

    [[nodiscard]] bool paused() const noexcept { return paused_output || blocked_on != 0; }
    /// Whether the event loop should read more from it.
    [[nodiscard]] bool reading() const noexcept {
        return st != state::closing && !paused() && !backlog;
    }
    [[nodiscard]] bool connected() const noexcept { return st == state::connected; }
};

} // namespace mqttwire::broker
