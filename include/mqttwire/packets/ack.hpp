#pragma once
/// @file
/// @brief PUBACK, PUBREC, PUBREL and PUBCOMP (MQTT 3.1.1 sections 3.4-3.7, MQTT 5.0 3.4-3.7).
///
/// ```
/// <type|flags> <remaining length>      flags: 0000, PUBREL 0010
/// <packet identifier: 2 bytes>
/// [5.0: reason code]                   omitted when Success and no properties (length 2)
/// [5.0: properties]                    omitted when none (length 3)
/// ```

#include <cstdint>

#include "../detail/codec.hpp"
#include "../properties.hpp"
#include "../reason_code.hpp"

namespace mqttwire {

/// @brief The four publish acknowledgements share one shape; `T` tells them apart.
template <packet_type T> struct basic_ack_view {
    static constexpr packet_type type = T;
    std::uint16_t packet_id = 0;
    reason_code reason = reason_code::success; ///< 5.0 only
    properties_view properties{};              ///< 5.0 only
    [[nodiscard]] friend constexpr bool operator==(const basic_ack_view&,
                                                   const basic_ack_view&) noexcept = default;
};

using puback_view = basic_ack_view<packet_type::puback>;
using pubrec_view = basic_ack_view<packet_type::pubrec>;
using pubrel_view = basic_ack_view<packet_type::pubrel>;
using pubcomp_view = basic_ack_view<packet_type::pubcomp>;

namespace detail {

template <packet_type T> constexpr property_context ack_context() noexcept {
    return static_cast<property_context>(static_cast<std::uint8_t>(T));
}
template <packet_type T> constexpr reason_context ack_reason_context() noexcept {
    switch (T) {
    case packet_type::puback: return reason_context::puback;
    case packet_type::pubrec: return reason_context::pubrec;
    case packet_type::pubrel: return reason_context::pubrel;
    default: return reason_context::pubcomp;
    }
}

// 5.0, after the packet identifier: the reason code and the properties. Out of line in fast
// builds: most acknowledgements end after the identifier, and this path inline took registers
// from theirs (a PUBACK through decode_packet: 122 -> 108 instructions).
template <class Ctx, packet_type T>
[[nodiscard]] MQTTWIRE_RARE constexpr errc decode_ack_rest(reader& r, const Ctx& c,
                                                           basic_ack_view<T>& out) noexcept {
    const int code = r.byte();
    if (code < 0) return errc::malformed_packet;
    out.reason = static_cast<reason_code>(code);
    // MQTT5-3.4.2-1, MQTT5-3.5.2-1, MQTT5-3.6.2-1, MQTT5-3.7.2-1.
    if (!is_allowed(out.reason, ack_reason_context<T>())) return errc::protocol_error;
    // Sections 3.4.2.2.1 ff.: with Remaining Length 3 there is no Property Length.
    if (r.empty()) return errc::success;
    if (const auto e = decode_properties(r, ack_context<T>(), c.opts, out.properties);
        e != errc::success)
        return e;
    return expect_end(r);
}

template <class Ctx, packet_type T>
[[nodiscard]] constexpr errc decode_body(reader& r, const Ctx& c,
                                         basic_ack_view<T>& out) noexcept {
    // MQTT-2.3.1-6 / MQTT5-2.2.1-5: the identifier of the PUBLISH being acknowledged, non-zero.
    if (const auto e = read_packet_id(r, out.packet_id); e != errc::success) return e;
    if (!c.v5() || r.empty()) return expect_end(r); // 3.1.1: exactly two bytes
    if constexpr (small_code) {
        return decode_ack_rest(r, c, out);
    } else {
        // A reader of their own: the one of the common two-byte acknowledgement, whose address
        // is then never taken, stays in registers (half the time of a PUBACK's decode).
        reader rest(r.data(), r.position());
        return decode_ack_rest(rest, c, out);
    }
}

template <class W, class Ctx, packet_type T>
[[nodiscard]] constexpr errc encode_body(W& w, const basic_ack_view<T>& p,
                                         const Ctx& c) noexcept {
    if (w.validating()) {
        if (const auto e = check_packet_id(p.packet_id); e != errc::success) return e;
        if (c.v5() && !is_allowed(p.reason, ack_reason_context<T>())) return errc::protocol_error;
    }
    w.u16(p.packet_id);
    if (!c.v5()) return errc::success;
    // Shortest form: sections 3.4.2.1 ff. let Success without properties end after the packet
    // identifier, and any reason without properties end after the reason code.
    const bool has_props = [&] {
        for (const auto& prop : p.properties)
            if (c.filter.keeps(prop.id)) return true;
        return false;
    }();
    if (!has_props && p.reason == reason_code::success) return errc::success;
    w.u8(static_cast<std::uint8_t>(p.reason));
    if (!has_props) return errc::success;
    return write_properties(w, p.properties, ack_context<T>(), c.filter);
}

} // namespace detail
} // namespace mqttwire
