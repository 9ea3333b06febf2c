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

/// The broker keeps every message it sends in its own queues and re-encodes one for a resend
/// (`resend_source`), so its sessions keep no copies.
using protocol_storage = dynamic_storage<std::allocator<std::byte>, false>;
using server_session = server<protocol_storage>;
using protocol_state = session_state<protocol_storage>;

/// The session layer's clock: milliseconds of the broker's clock.
[[nodiscard]] inline std::chrono::milliseconds session_time(clock::time_point t) noexcept {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch());
}
[[nodiscard]] inline clock::time_point broker_time(std::chrono::milliseconds t) noexcept {
    return clock::time_point(std::chrono::duration_cast<clock::duration>(t));
}

/// What a connection under pressure keeps: input the session had no room for yet, a stall
/// over its output or queue bound, and its QoS 0 drops. Allocated when one of them first
/// happens, so that the connections that never fall behind (almost all) do not carry it.
struct connection_pressure {
    /// Bytes read while the session's input buffer was full: given to it once it has room.
    std::string spill;
    std::optional<clock::time_point> stalled_since; ///< over its bound without progress since
    std::size_t taken = 0; ///< output bytes its socket took since then (connection_table::took)
    std::uint64_t dropped = 0; ///< QoS 0 messages dropped for it so far
    clock::time_point last_drop_log{};
};

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

    /// Null unless the connection is or was under pressure (see connection_pressure).
    std::unique_ptr<connection_pressure> pressure;
    std::uint64_t blocked_on = 0; ///< serial of the session whose full queue holds its PUBLISH

    connection_timers timers;

    /// The listener's own rules (per_listener_settings); null: the broker-wide settings.
    const listener_policy* policy = nullptr;
    /// The user name the transport established (a client certificate's CN or subject with
    /// use_identity_as_username / use_subject_as_username): it replaces the CONNECT's user
    /// name, and no password is asked for.
    optional_text identity;
    /// "ADDRESS:PORT" from the event loop, for the connection message; kept only until the
    /// CONNECT is announced. None: unknown, or not asked for.
    optional_text peer;

    state st = state::awaiting_connect;
    // One bit each: a connection's flags fit in two bytes.
    /// Connected with mosquitto's bridge flag (level 0x83 / 0x84): its subscriptions are
    /// No Local and Retain As Published, as mosquitto treats a bridge.
    bool bridge : 1 = false;
    /// Opened from inside the broker (broker::accept_trusted): no authentication, no ACL.
    bool trusted : 1 = false;
    bool announced : 1 = false;          ///< its connection message was logged: log its end once
    bool dirty : 1 = false;              ///< on the connection table's dirty list
    bool paused_output : 1 = false;      ///< its own output is at the bound: its input waits
    bool resume_pending : 1 = false;     ///< on the connection table's resume list
    bool backlog : 1 = false;            ///< whole packets held: its turn's packet budget ran out
    bool dropping : 1 = false;           ///< QoS 0 drops in progress (logged once per episode)

    [[nodiscard]] protocol_version version() const noexcept { return proto.version(); }
    [[nodiscard]] bool v5() const noexcept { return proto.version() == protocol_version::v5; }
    [[nodiscard]] std::span<const std::byte> output() const noexcept { return proto.output(); }
    [[nodiscard]] bool paused() const noexcept { return paused_output || blocked_on != 0; }
    /// Whether the event loop should read more from it.
    [[nodiscard]] bool reading() const noexcept {
        return st != state::closing && !paused() && !backlog;
    }
    [[nodiscard]] bool connected() const noexcept { return st == state::connected; }

    [[nodiscard]] connection_pressure& under_pressure() {
        if (!pressure) pressure = std::make_unique<connection_pressure>();
        return *pressure;
    }
    /// Bytes read and not yet taken by the session.
    [[nodiscard]] std::size_t spilled() const noexcept {
        return pressure ? pressure->spill.size() : 0;
    }
    [[nodiscard]] std::optional<clock::time_point> stalled_since() const noexcept {
        return pressure ? pressure->stalled_since : std::nullopt;
    }
    /// Frees the pressure block once nothing in it is needed any more.
    void relieve() noexcept {
        if (pressure && pressure->spill.empty() && !pressure->stalled_since &&
            pressure->dropped == 0)
            pressure.reset();
    }
};

} // namespace mqttwire::broker
