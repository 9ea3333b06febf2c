#pragma once
// One network connection: the core's sans-I/O server session (`mqttwire::server`), which frames
// and decodes what the client sends, answers what the protocol answers by itself (PINGRESP,
// the QoS acknowledgements, protocol violations, keep-alive, topic aliases both ways) and
// holds the connection's buffers, plus what the broker adds around it: the session it serves,
// flow control, the listener's rules and logging. Everything here ends with the network
// connection; what outlives it is in session/session.hpp.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <mqttwire.hpp>
#include <mqttwire/session/server.hpp>

#include "core/optional_text.hpp"
#include "core/settings.hpp"
#include "core/timers.hpp"

namespace mqttwire::broker {

struct session;

using protocol_storage = dynamic_storage<>;
using server_session = server<protocol_storage>;
using protocol_state = session_state<protocol_storage>;

/// The session layer's clock: milliseconds of the broker's clock.
[[nodiscard]] inline std::chrono::milliseconds session_time(clock::time_point t) noexcept {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch());
}
[[nodiscard]] inline clock::time_point broker_time(std::chrono::milliseconds t) noexcept {
    return clock::time_point(std::chrono::duration_cast<clock::duration>(t));
}

struct connection {
    enum class state : std::uint8_t { awaiting_connect, connected, closing };

    connection(clock::time_point now, const server_options& options,
               const protocol_storage& storage) noexcept
        : proto(session_time(now), options, storage) {}

    // Fields are grouped by size (pointers and times, then 32- and 16-bit values, then flags),
    // so that the padding between them stays small: one per open connection.
    conn_id id = 0;
    session* s = nullptr;

    server_session proto;

    std::string peer; ///< "ADDRESS:PORT" from the event loop; empty: unknown
    /// Bytes read while the session's input buffer was full: given to it once it has room.
    /// Null almost always.
    std::unique_ptr<std::string> spill;

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

    state st = state::awaiting_connect;
    /// Connected with mosquitto's bridge flag (level 0x83 / 0x84): its subscriptions are
    /// No Local and Retain As Published, as mosquitto treats a bridge.
    bool bridge = false;
    /// Opened from inside the broker (broker::accept_trusted): no authentication, no ACL.
    bool trusted = false;
    bool announced = false;          ///< its connection message was logged: log its end once
    bool dirty = false;              ///< on the connection table's dirty list
    bool paused_output = false;      ///< its own output is at the bound: its input waits
    bool resume_pending = false;     ///< on the connection table's resume list
    bool backlog = false;            ///< whole packets held: its turn's packet budget ran out
    bool dropping = false;           ///< QoS 0 drops in progress (logged once per episode)

    [[nodiscard]] protocol_version version() const noexcept { return proto.version(); }
    [[nodiscard]] bool v5() const noexcept { return proto.version() == protocol_version::v5; }
    [[nodiscard]] std::span<const std::byte> output() const noexcept { return proto.output(); }
    [[nodiscard]] bool paused() const noexcept { return paused_output || blocked_on != 0; }
    /// Whether the event loop should read more from it.
    [[nodiscard]] bool reading() const noexcept {
        return st != state::closing && !paused() && !backlog;
    }
    [[nodiscard]] bool connected() const noexcept { return st == state::connected; }
};

} // namespace mqttwire::broker
