#pragma once
// Shared plumbing of the packet codecs: the decode and encode contexts and the packet-id rule.

#include <cstdint>

#include "../errc.hpp"
#include "../options.hpp"
#include "../packet_type.hpp"
#include "../properties.hpp"
#include "../version.hpp"
#include "reader.hpp"
#include "writer.hpp"

namespace mqttwire::detail {

struct decode_ctx {
    protocol_version version;
    std::uint8_t flags; // bits 3-0 of the first byte, already checked against the type
    const decode_options& opts;
    [[nodiscard]] constexpr bool v5() const noexcept { return version == protocol_version::v5; }
};

struct encode_ctx {
    protocol_version version;
    property_filter filter{};
    peer_role sender = peer_role::unknown;
    [[nodiscard]] constexpr bool v5() const noexcept { return version == protocol_version::v5; }
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
