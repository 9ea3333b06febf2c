#pragma once
/// @file
/// @brief CONNACK (MQTT 3.1.1 section 3.2, MQTT 5.0 section 3.2).
///
/// ```
/// 20 <remaining length>
/// <acknowledge flags: 0000000 session present>
/// <return code (3.1/3.1.1) | reason code (5.0)>
/// [5.0: properties]
/// ```

#include <cstdint>

#include "../detail/codec.hpp"
#include "../properties.hpp"
#include "../reason_code.hpp"

namespace mqttwire {

/// @brief CONNACK. In 3.1 / 3.1.1 `reason` holds the return code (see `return_code()`).
struct connack_view {
    static constexpr packet_type type = packet_type::connack;
    bool session_present = false;
    reason_code reason = reason_code::success;
    properties_view properties{};

    [[nodiscard]] constexpr connect_return_code return_code() const noexcept {
        return static_cast<connect_return_code>(reason);
    }
    /// @brief True when the server accepted the connection, at every protocol level: 3.1/3.1.1
    /// accept only with return code 0 (1-5 refuse) and 5.0 only with reason code 0x00 (every
    /// refusal is 0x80 or above), so this is not "below 0x80", which would read 3.1.1's
    /// "not authorized" (5) as success.
    [[nodiscard]] constexpr bool accepted() const noexcept {
        return reason == reason_code::success;
    }
    [[nodiscard]] friend constexpr bool operator==(const connack_view&,
                                                   const connack_view&) noexcept = default;
};

namespace detail {

[[nodiscard]] constexpr errc check_connack_code(const connack_view& p, bool v5) noexcept {
    if (v5) {
        // MQTT5-3.2.2-8: one of the Connect Reason Codes.
        if (!is_allowed(p.reason, reason_context::connack)) return errc::protocol_error;
    } else if (!is_allowed(p.return_code())) {
        return errc::malformed_packet; // 3.1.1 section 3.2.2.3: 6-255 are reserved
    }
    // MQTT-3.2.2-4 / MQTT5-3.2.2-6: a refusal never has Session Present set.
    if (p.session_present && p.reason != reason_code::success) return errc::protocol_error;
    return errc::success;
}

template <class Ctx>
[[nodiscard]] constexpr errc decode_body(reader& r, const Ctx& c,
                                         connack_view& out) noexcept {
    // MQTT5-3.2.2-1 (and 3.1.1 section 3.2.2.1): bits 7-1 are reserved and 0. A missing byte
    // (-1 from reader::byte, which has bits 7-1 set) is the same Malformed Packet, so both
    // bytes are read before one test.
    const int flags = r.byte();
    const int code = r.byte();
    if ((static_cast<unsigned>(flags) & 0xFEu) != 0 || code < 0) return errc::malformed_packet;
    out.session_present = (flags & 0x01) != 0;
    out.reason = static_cast<reason_code>(code);
    if (const auto e = check_connack_code(out, c.v5()); e != errc::success) return e;
    if (c.v5()) {
        if (const auto e = decode_properties(r, property_context::connack, c.opts, out.properties);
            e != errc::success)
            return e;
        if (const auto e = check_auth_pair(out.properties); e != errc::success) return e;
    }
    return expect_end(r);
}

template <class W, class Ctx>
[[nodiscard]] constexpr errc encode_body(W& w, const connack_view& p, const Ctx& c) noexcept {
    if (w.validating()) {
        if (const auto e = check_connack_code(p, c.v5()); e != errc::success) return e;
    }
    w.u8(p.session_present ? 1 : 0);
    w.u8(static_cast<std::uint8_t>(p.reason));
    if (c.v5()) {
        if (w.validating()) {
            if (const auto e = check_auth_pair(p.properties); e != errc::success) return e;
        }
        return write_properties(w, p.properties, property_context::connack, c.filter);
    }
    return errc::success;
}

} // namespace detail
} // namespace mqttwire
