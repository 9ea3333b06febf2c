#pragma once
/// @file
/// @brief UNSUBSCRIBE and UNSUBACK (MQTT 3.1.1 sections 3.10-3.11, MQTT 5.0 sections 3.10-3.11).
///
/// ```
/// UNSUBSCRIBE: A2 <remaining length> <packet id> [5.0: properties] { <filter> }+
/// UNSUBACK:    B0 <remaining length> <packet id> [5.0: properties { <reason code> }+ ]
/// ```

#include <cstdint>

#include "../detail/codec.hpp"
#include "../list_view.hpp"
#include "../properties.hpp"
#include "../reason_code.hpp"
#include "../utf8.hpp"
#include "subscribe.hpp"

namespace mqttwire {

namespace detail {
struct topic_filter_traits {
    [[nodiscard]] static constexpr errc read(reader& r, utf8_view& out) noexcept {
        std::span<const std::byte> s;
        if (const auto e = r.string(s); e != errc::success) return e;
        out = utf8_view(s);
        return errc::success;
    }
};
} // namespace detail

/// @brief UNSUBSCRIBE filters: wire bytes when decoded, a span of `utf8_view` to encode.
using topic_filter_list = list_view<utf8_view, detail::topic_filter_traits>;

/// @brief UNSUBSCRIBE.
struct unsubscribe_view {
    static constexpr packet_type type = packet_type::unsubscribe;
    std::uint16_t packet_id = 0;
    properties_view properties{};
    topic_filter_list filters{};
    [[nodiscard]] friend constexpr bool operator==(const unsubscribe_view&,
                                                   const unsubscribe_view&) noexcept = default;
};

/// @brief UNSUBACK. Before 5.0 it carries only the packet identifier and `reasons` is empty.
struct unsuback_view {
    static constexpr packet_type type = packet_type::unsuback;
    std::uint16_t packet_id = 0;
    properties_view properties{};
    reason_code_list reasons{};
    [[nodiscard]] friend constexpr bool operator==(const unsuback_view&,
                                                   const unsuback_view&) noexcept = default;
};

namespace detail {

template <class Ctx>
[[nodiscard]] constexpr errc decode_body(reader& r, const Ctx& c,
                                         unsubscribe_view& out) noexcept {
    if (const auto e = read_packet_id(r, out.packet_id); e != errc::success) return e;
    if (c.v5()) {
        if (const auto e =
                decode_properties(r, property_context::unsubscribe, c.opts, out.properties);
            e != errc::success)
            return e;
    }
    // MQTT-3.10.3-2 / MQTT5-3.10.3-2: at least one filter.
    if (r.empty()) return errc::protocol_error;
    const auto bytes = r.rest();
    reader walk(bytes);
    std::size_t count = 0;
    while (!walk.empty()) {
        utf8_view f;
        // MQTT-3.10.3-1 / MQTT5-3.10.3-1: UTF-8 strings packed back to back.
        if (const auto e = walk.utf8(f, c.opts.utf8); e != errc::success) return e;
        ++count;
    }
    out.filters = topic_filter_list::from_wire(bytes, count);
    return errc::success;
}

template <class W, class Ctx>
[[nodiscard]] constexpr errc encode_body(W& w, const unsubscribe_view& p,
                                         const Ctx& c) noexcept {
    if (w.validating()) {
        if (const auto e = check_packet_id(p.packet_id); e != errc::success) return e;
        if (p.filters.empty()) return errc::protocol_error; // MQTT-3.10.3-2
    }
    w.u16(p.packet_id);
    if (c.v5()) {
        if (const auto e = write_properties(w, p.properties, property_context::unsubscribe, {});
            e != errc::success)
            return e;
    }
    return for_each_entry<Ctx::profile.receives(packet_type::unsubscribe)>(
        p.filters, [&w](const utf8_view& f) { return w.utf8(f); });
}

template <class Ctx>
[[nodiscard]] constexpr errc decode_body(reader& r, const Ctx& c,
                                         unsuback_view& out) noexcept {
    if (const auto e = read_packet_id(r, out.packet_id); e != errc::success) return e;
    if (!c.v5()) return expect_end(r); // 3.1.1 section 3.11: remaining length 2
    if (const auto e = decode_properties(r, property_context::unsuback, c.opts, out.properties);
        e != errc::success)
        return e;
    // MQTT5-3.11.3-1: one code per UNSUBSCRIBE filter, so at least one.
    if (r.empty()) return errc::protocol_error;
    const auto codes = r.rest();
    for (const auto b : codes)
        if (!is_allowed(static_cast<reason_code>(b), reason_context::unsuback))
            return errc::protocol_error; // MQTT5-3.11.3-2
    out.reasons = reason_code_list::from_wire(codes, codes.size());
    return errc::success;
}

template <class W, class Ctx>
[[nodiscard]] constexpr errc encode_body(W& w, const unsuback_view& p,
                                         const Ctx& c) noexcept {
    if (w.validating()) {
        if (const auto e = check_packet_id(p.packet_id); e != errc::success) return e;
        if (c.v5() && p.reasons.empty()) return errc::protocol_error;
    }
    w.u16(p.packet_id);
    if (!c.v5()) return errc::success;
    if (const auto e = write_properties(w, p.properties, property_context::unsuback, c.filter);
        e != errc::success)
        return e;
    return for_each_entry<Ctx::profile.receives(packet_type::unsuback)>(
        p.reasons, [&w](reason_code rc) {
            if (w.validating()) {
                if (!is_allowed(rc, reason_context::unsuback)) return errc::protocol_error;
            }
            w.u8(static_cast<std::uint8_t>(rc));
            return errc::success;
        });
}

} // namespace detail
} // namespace mqttwire
