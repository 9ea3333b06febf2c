#pragma once
// Shared plumbing of the packet codecs: the decode and encode contexts and the packet-id rule.

#include <cstdint>

#include "../config.hpp"
#include "../errc.hpp"
#include "../options.hpp"
#include "../packet_type.hpp"
#include "../profile.hpp"
#include "../properties.hpp"
#include "../version.hpp"
#include "reader.hpp"
#include "writer.hpp"

namespace mqttwire::detail {

// Level `v` is 5.0: a constant when `Profile` holds one family only.
template <codec_profile Profile> [[nodiscard]] constexpr bool is_v5(protocol_version v) noexcept {
    if constexpr (!Profile.v5)
        return false;
    else if constexpr (!Profile.v3)
        return true;
    else
        return v == protocol_version::v5;
}

// What a decoder knows besides the bytes. `Profile` fixes at compile time which levels exist,
// so `v5()` is a constant when the profile has only one family and the other's code drops out.
template <codec_profile Profile> struct decode_ctx {
    static constexpr codec_profile profile = Profile;
    std::uint8_t flags; // bits 3-0 of the first byte, already checked against the type
    const decode_options& opts;
    /// The level of the connection (`opts.version`; CONNECT reads its own).
    [[nodiscard]] constexpr protocol_version version() const noexcept { return opts.version; }
    [[nodiscard]] constexpr bool v5() const noexcept { return is_v5<Profile>(opts.version); }
};

template <codec_profile Profile> struct encode_ctx {
    static constexpr codec_profile profile = Profile;
    protocol_version version;
    property_filter filter{};
    peer_role sender = peer_role::unknown;
    [[nodiscard]] constexpr bool v5() const noexcept { return is_v5<Profile>(version); }
};

// MQTT-2.3.1-1 / MQTT5-2.2.1-3: packet identifiers are non-zero.
[[nodiscard]] constexpr errc read_packet_id(reader& r, std::uint16_t& id) noexcept {
    if (const auto e = r.u16(id); e != errc::success) return e;
    return id == 0 ? errc::protocol_error : errc::success;
}

[[nodiscard]] constexpr errc check_packet_id(std::uint16_t id) noexcept {
    return id == 0 ? errc::protocol_error : errc::success;
}

// The whole remaining length must be consumed: bytes after the last field are malformed.
[[nodiscard]] constexpr errc expect_end(const reader& r) noexcept {
    return r.empty() ? errc::success : errc::malformed_packet;
}

} // namespace mqttwire::detail
