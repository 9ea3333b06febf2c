#pragma once
/// @file
/// @brief AUTH (MQTT 5.0 section 3.15; packet type 15 is reserved before 5.0).
///
/// ```
/// F0 <remaining length>
/// [reason code, properties]   both omitted for Success without properties (length 0)
/// ```

#include "../detail/codec.hpp"
#include "../properties.hpp"
#include "../reason_code.hpp"

namespace mqttwire {

/// @brief AUTH (5.0 only).
struct auth_view {
    static constexpr packet_type type = packet_type::auth;
    reason_code reason = reason_code::success;
    properties_view properties{};
    [[nodiscard]] friend constexpr bool operator==(const auth_view&,
                                                   const auth_view&) noexcept = default;
};

namespace detail {

template <class Ctx>
[[nodiscard]] constexpr errc decode_body(reader& r, const Ctx& c,
                                         auth_view& out) noexcept {
    if (r.empty()) return errc::success; // section 3.15.2.1: Success, no properties
    const int code = r.byte();
    if (code < 0) return errc::malformed_packet;
    out.reason = static_cast<reason_code>(code);
    if (!is_allowed(out.reason, reason_context::auth)) return errc::protocol_error; // MQTT5-3.15.2-1
    // Unlike DISCONNECT, AUTH has no rule that lets the Property Length go after a reason
    // code: a reason code alone (remaining length 1) is malformed.
    if (const auto e = decode_properties(r, property_context::auth, c.opts, out.properties);
        e != errc::success)
        return e;
    // Section 3.15.2.2.2: an AUTH with properties names its Authentication Method.
    if (!out.properties.contains(property_id::authentication_method))
        return errc::protocol_error;
    return expect_end(r);
}

template <class W, class Ctx>
[[nodiscard]] constexpr errc encode_body(W& w, const auth_view& p, const Ctx& c) noexcept {
    if (!c.v5()) return errc::malformed_packet; // AUTH does not exist before 5.0
    if (w.validating()) {
        if (!is_allowed(p.reason, reason_context::auth)) return errc::protocol_error;
        // Every AUTH but the short Success form names its Authentication Method, so the
        // decoder accepts what this writes.
        if (!(p.properties.empty() && p.reason == reason_code::success) &&
            !p.properties.contains(property_id::authentication_method))
            return errc::protocol_error;
    }
    if (p.properties.empty() && p.reason == reason_code::success) return errc::success;
    w.u8(static_cast<std::uint8_t>(p.reason));
    return write_properties(w, p.properties, property_context::auth, c.filter);
}

} // namespace detail
} // namespace mqttwire
