#pragma once
/// @file
/// @brief DISCONNECT (MQTT 3.1.1 section 3.14, MQTT 5.0 section 3.14).
///
/// ```
/// E0 <remaining length>
/// [5.0: reason code]     omitted for Normal disconnection without properties (length 0)
/// [5.0: properties]      omitted when none (length 1)
/// ```

#include "../detail/codec.hpp"
#include "../properties.hpp"
#include "../reason_code.hpp"

namespace mqttwire {

/// @brief DISCONNECT. Before 5.0 it has no fields.
struct disconnect_view {
    static constexpr packet_type type = packet_type::disconnect;
    reason_code reason = reason_code::success; ///< Normal disconnection
    properties_view properties{};
    [[nodiscard]] friend constexpr bool operator==(const disconnect_view&,
                                                   const disconnect_view&) noexcept = default;
};

namespace detail {

// MQTT5-3.14.2-2: a server never sends Session Expiry Interval in DISCONNECT.
[[nodiscard]] constexpr errc check_disconnect_sender(const disconnect_view& p,
                                                     peer_role sender) noexcept {
    return sender == peer_role::server &&
                   p.properties.contains(property_id::session_expiry_interval)
               ? errc::protocol_error
               : errc::success;
}

template <class Ctx>
[[nodiscard]] constexpr errc decode_body(reader& r, const Ctx& c,
                                         disconnect_view& out) noexcept {
    if (!c.v5() || r.empty()) return expect_end(r); // 3.1.1: remaining length 0
    const int code = r.byte();
    if (code < 0) return errc::malformed_packet;
    out.reason = static_cast<reason_code>(code);
    // MQTT5-3.14.2-1.
    if (!is_allowed(out.reason, reason_context::disconnect)) return errc::protocol_error;
    if (r.empty()) return errc::success; // section 3.14.2.2.1: length < 2 means no properties
    if (const auto e =
            decode_properties(r, property_context::disconnect, c.opts, out.properties);
        e != errc::success)
        return e;
    if (const auto e = check_disconnect_sender(out, c.opts.sender); e != errc::success) return e;
    return expect_end(r);
}

template <class W, class Ctx>
[[nodiscard]] constexpr errc encode_body(W& w, const disconnect_view& p,
                                         const Ctx& c) noexcept {
    if (!c.v5()) return errc::success;
    if (w.validating()) {
        if (!is_allowed(p.reason, reason_context::disconnect)) return errc::protocol_error;
        if (const auto e = check_disconnect_sender(p, c.sender); e != errc::success) return e;
    }
    const bool has_props = [&] {
        for (const auto& prop : p.properties)
            if (c.filter.keeps(prop.id)) return true;
        return false;
    }();
    if (!has_props && p.reason == reason_code::success) return errc::success;
    w.u8(static_cast<std::uint8_t>(p.reason));
    if (!has_props) return errc::success;
    return write_properties(w, p.properties, property_context::disconnect, c.filter);
}

} // namespace detail
} // namespace mqttwire
