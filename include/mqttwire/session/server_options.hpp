#pragma once
/// @file
/// @brief What a `server` connection is configured with: `server_options` (what it allows its
/// clients and the limits it announces in CONNACK) and `accept_options` (how the embedder accepts
/// a CONNECT), and the helpers its refusals use.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>

#include "../errc.hpp"
#include "../framer.hpp"
#include "../packet.hpp"
#include "../reason_code.hpp"
#include "alias_sender.hpp"

namespace mqttwire {

/// @brief What a server allows its clients; the limits it announces in CONNACK (5.0) are capped
/// by the storage's `session_limits`.
struct server_options {
    /// Receive Maximum announced (capped by `session_limits::inbound_qos2`).
    std::uint16_t receive_maximum = 65535;
    /// Maximum QoS (MQTT5-3.2.2-9); a PUBLISH above it is refused with 0x9B (MQTT5-3.2.2-11),
    /// a will above it with CONNACK 0x9B (MQTT5-3.2.2-12).
    mqttwire::qos maximum_qos = mqttwire::qos::exactly_once;
    /// Retain Available; a retained PUBLISH or will otherwise gets 0x9A (MQTT5-3.2.2-13/14).
    bool retain_available = true;
    /// Maximum Packet Size announced (capped by `session_limits::input_bytes`).
    std::uint32_t maximum_packet_size = max_packet_size_limit;
    /// Topic Alias Maximum announced (capped by `session_limits::aliases_in`).
    std::uint16_t topic_alias_maximum = 65535;
    /// Topic aliases in PUBLISHes to 5.0 clients that allow them (CONNECT's Topic Alias
    /// Maximum, MQTT5-3.1.2-26); none when the storage has no `aliases_out`.
    topic_alias_policy topic_aliases_out{};
    bool wildcard_subscriptions = true;
    bool subscription_identifiers = true;
    bool shared_subscriptions = true;
    /// A 5.0 client asking for a longer keep-alive, or none, is told this one (Server Keep
    /// Alive, MQTT5-3.2.2-21); 65535 leaves every request alone.
    std::uint16_t max_keep_alive = 65535;
    /// A connection that sends no CONNECT in this time is closed (kept in 32 bits: at most
    /// 4,294,967,295 ms, about 49.7 days; a negative time is 0).
    std::chrono::milliseconds connect_timeout{10'000};
    /// Largest packet before CONNECT is accepted (also capped by `session_limits::input_bytes`):
    /// an unauthenticated peer does not get a large buffer (the mosquitto CVE-2023-0809 class).
    /// 1 MiB holds any CONNECT with a 64 KiB will, credentials and properties.
    std::uint32_t pre_connect_packet_size = 1u << 20;
    /// Takes mosquitto's bridge levels 0x83 / 0x84 in CONNECT (`connect_view::bridge` set) as
    /// 3.1 / 3.1.1, as mosquitto does for the brokers that bridge into it; without it they are
    /// unsupported levels (CONNACK 0x01, MQTT-3.1.2-2).
    bool bridge_levels = false;
};

/// @brief How the embedder accepts a CONNECT.
struct accept_options {
    /// The `session_state` given to `accept` holds the client's session (MQTT-3.2.2-2 /
    /// MQTT5-3.2.2-3): in-flight messages are resent. False clears the state.
    bool session_present = false;
    /// 5.0: sent as Assigned Client Identifier when not empty (MQTT5-3.2.2-16).
    utf8_view assigned_client_id{};
    /// Further CONNACK properties (5.0): User Property, Reason String, Response Information...
    properties_view properties{};
};

namespace detail {
// The 3.1.1 CONNACK return code closest to a 5.0 refusal (3.1.1 section 3.2.2.3).
[[nodiscard]] constexpr reason_code to_return_code(reason_code rc) noexcept {
    switch (rc) {
    case reason_code::unsupported_protocol_version: return static_cast<reason_code>(1);
    case reason_code::client_identifier_not_valid: return static_cast<reason_code>(2);
    case reason_code::bad_user_name_or_password: return static_cast<reason_code>(4);
    case reason_code::not_authorized:
    case reason_code::banned:
    case reason_code::bad_authentication_method:
    case reason_code::retain_not_supported:
    case reason_code::qos_not_supported: return static_cast<reason_code>(5);
    default: return static_cast<reason_code>(3);
    }
}

// The protocol level byte of a CONNECT that did not decode, or 0 when it cannot be read.
[[nodiscard]] constexpr std::uint8_t peek_connect_level(std::span<const std::byte> pkt) noexcept {
    const auto f = next_frame(pkt);
    if (f.status != errc::success || pkt.size() < f.header_size + 2) return 0;
    const std::size_t name = static_cast<std::size_t>(static_cast<std::uint8_t>(pkt[f.header_size])) << 8 |
                             static_cast<std::uint8_t>(pkt[f.header_size + 1]);
    const std::size_t at = f.header_size + 2 + name;
    return at < pkt.size() ? static_cast<std::uint8_t>(pkt[at]) : 0;
}
} // namespace detail

} // namespace mqttwire
