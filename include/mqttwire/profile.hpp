#pragma once
/// @file
/// @brief `codec_profile`: the protocol levels and packet directions a program uses, chosen at
/// compile time so that what it never uses is never linked (DESIGN rule 10).

#include "packet_type.hpp"
#include "version.hpp"

namespace mqttwire {

/// @brief Which protocol levels and which senders' packets a program decodes and encodes.
///
/// A template argument of `decode_packet`, `decode_frame`, `decode`, `encode` and
/// `encoded_size`. The default is everything. A narrower profile removes code, not checks:
/// with `v5 = false` the MQTT 5.0 property machinery is never instantiated, and with
/// `from_client = false` (a client) `decode_frame` holds no decoder for CONNECT, SUBSCRIBE,
/// UNSUBSCRIBE or PINGREQ. Packets outside the profile are refused: a level it leaves out is
/// `errc::unsupported_protocol_version` in CONNECT and `errc::invalid_argument` as an option;
/// a packet type its receiver never gets is `errc::protocol_error`, the error the direction
/// rules give it (MQTT 5.0 section 2.1.2, 3.1.1 section 2.2.1).
///
/// @code
/// constexpr mqttwire::codec_profile device = mqttwire::client_v3_profile; // 3.1.1 client
/// auto f = mqttwire::next_frame(in, opts);
/// auto p = mqttwire::decode_frame<device>(in, f, opts);
/// auto n = mqttwire::encode<device>(connect, mqttwire::protocol_version::v3_1_1, out);
/// @endcode
struct codec_profile {
    bool v3 = true;          ///< MQTT 3.1 and 3.1.1
    bool v5 = true;          ///< MQTT 5.0
    bool from_client = true; ///< decodes packets a client sends (the server side)
    bool from_server = true; ///< decodes packets a server sends (the client side)

    /// @brief True when protocol level `v` is in the profile.
    [[nodiscard]] constexpr bool has(protocol_version v) const noexcept {
        return v == protocol_version::v5 ? v5 : (v3 && is_known_version(v));
    }
    /// @brief True when the receiver this profile describes may get packets of type `t` from
    /// `sender` (the direction rules; DISCONNECT from a server exists from 5.0 on).
    [[nodiscard]] constexpr bool receives(packet_type t) const noexcept {
        switch (t) {
        case packet_type::connect:
        case packet_type::subscribe:
        case packet_type::unsubscribe:
        case packet_type::pingreq: return from_client;
        case packet_type::connack:
        case packet_type::suback:
        case packet_type::unsuback:
        case packet_type::pingresp: return from_server;
        case packet_type::auth: return v5;
        case packet_type::disconnect: return from_client || v5;
        default: return true; // PUBLISH and its acknowledgements go both ways
        }
    }
    [[nodiscard]] friend constexpr bool operator==(const codec_profile&,
                                                   const codec_profile&) noexcept = default;
};

/// @brief Everything: every level, both directions (the default).
inline constexpr codec_profile full_profile{};
/// @brief A client speaking every level.
inline constexpr codec_profile client_profile{.v3 = true, .v5 = true, .from_client = false,
                                              .from_server = true};
/// @brief A client speaking MQTT 3.1 / 3.1.1 only.
inline constexpr codec_profile client_v3_profile{.v3 = true, .v5 = false, .from_client = false,
                                                 .from_server = true};
/// @brief A client speaking MQTT 5.0 only.
inline constexpr codec_profile client_v5_profile{.v3 = false, .v5 = true, .from_client = false,
                                                 .from_server = true};
/// @brief A server speaking every level.
inline constexpr codec_profile server_profile{.v3 = true, .v5 = true, .from_client = true,
                                              .from_server = false};

} // namespace mqttwire
