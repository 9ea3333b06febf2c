#pragma once
/// @file
/// @brief SUBSCRIBE and SUBACK (MQTT 3.1.1 sections 3.8-3.9, MQTT 5.0 sections 3.8-3.9).
///
/// ```
/// SUBSCRIBE: 82 <remaining length> <packet id> [5.0: properties]
///            { <filter: 2-byte length + UTF-8> <options> }+
///   options: 3.1.1  000000 QoS(2)
///            5.0    00 retain-handling(2) retain-as-published no-local QoS(2)
/// SUBACK:    90 <remaining length> <packet id> [5.0: properties] { <reason/return code> }+
/// ```

#include <cstdint>
#include <string_view>

#include "../detail/codec.hpp"
#include "../list_view.hpp"
#include "../properties.hpp"
#include "../reason_code.hpp"
#include "../utf8.hpp"
#include "../version.hpp"

namespace mqttwire {

/// @brief Retain Handling of a subscription (MQTT 5.0 section 3.8.3.1).
enum class retain_handling : std::uint8_t {
    send_on_subscribe = 0,
    send_if_new_subscription = 1,
    do_not_send = 2,
};

/// @brief The options byte of one SUBSCRIBE entry. Before 5.0 only `max_qos` exists.
struct subscription_options {
    mqttwire::qos max_qos = mqttwire::qos::at_most_once;
    bool no_local = false;
    bool retain_as_published = false;
    mqttwire::retain_handling retain_handling = mqttwire::retain_handling::send_on_subscribe;

    [[nodiscard]] constexpr std::uint8_t to_byte() const noexcept {
        return static_cast<std::uint8_t>(static_cast<unsigned>(max_qos) |
                                         (no_local ? 0x04u : 0u) |
                                         (retain_as_published ? 0x08u : 0u) |
                                         static_cast<unsigned>(retain_handling) << 4);
    }
    [[nodiscard]] static constexpr subscription_options from_byte(std::uint8_t b) noexcept {
        return {static_cast<mqttwire::qos>(b & 0x03u), (b & 0x04u) != 0, (b & 0x08u) != 0,
                static_cast<mqttwire::retain_handling>((b >> 4) & 0x03u)};
    }
    [[nodiscard]] friend constexpr bool
    operator==(const subscription_options&, const subscription_options&) noexcept = default;
};

/// @brief One SUBSCRIBE entry.
struct subscription {
    utf8_view filter{};
    subscription_options options{};
    [[nodiscard]] friend constexpr bool operator==(const subscription&,
                                                   const subscription&) noexcept = default;
};

namespace detail {
struct subscription_traits {
    [[nodiscard]] static constexpr errc read(reader& r, subscription& out) noexcept {
        std::span<const std::byte> s;
        if (const auto e = r.string(s); e != errc::success) return e;
        const int opts = r.byte();
        if (opts < 0) return errc::malformed_packet;
        out = {utf8_view(s), subscription_options::from_byte(static_cast<std::uint8_t>(opts))};
        return errc::success;
    }
};
struct reason_code_traits {
    static constexpr std::size_t entry_size = 1; // entry i is byte i (list_iterator)
    [[nodiscard]] static constexpr reason_code from_byte(std::uint8_t b) noexcept {
        return static_cast<reason_code>(b);
    }
    [[nodiscard]] static constexpr errc read(reader& r, reason_code& out) noexcept {
        const int b = r.byte();
        if (b < 0) return errc::malformed_packet;
        out = static_cast<reason_code>(b);
        return errc::success;
    }
};
} // namespace detail

/// @brief SUBSCRIBE entries: wire bytes when decoded, a span of `subscription` to encode.
using subscription_list = list_view<subscription, detail::subscription_traits>;
/// @brief SUBACK / UNSUBACK codes: wire bytes when decoded, a span of `reason_code` to encode.
/// Before 5.0 SUBACK holds return codes 0x00, 0x01, 0x02, 0x80 (`suback_return_code`).
using reason_code_list = list_view<reason_code, detail::reason_code_traits>;

/// @brief SUBSCRIBE.
struct subscribe_view {
    static constexpr packet_type type = packet_type::subscribe;
    std::uint16_t packet_id = 0;
    properties_view properties{};
    subscription_list subscriptions{};
    [[nodiscard]] friend constexpr bool operator==(const subscribe_view&,
                                                   const subscribe_view&) noexcept = default;
};

/// @brief SUBACK.
struct suback_view {
    static constexpr packet_type type = packet_type::suback;
    std::uint16_t packet_id = 0;
    properties_view properties{};
    reason_code_list reasons{};
    [[nodiscard]] friend constexpr bool operator==(const suback_view&,
                                                   const suback_view&) noexcept = default;
};

namespace detail {

// True when a filter text starts with "$share/" (byte-wise, usable in constant evaluation).
[[nodiscard]] constexpr bool starts_with_share(const utf8_view& f) noexcept {
    constexpr std::string_view prefix = "$share/";
    if (f.size() < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i)
        if (f[i] != prefix[i]) return false;
    return true;
}

// Options-byte rules: MQTT-3.8.3-4 (3.1.1: reserved bits 7-2 and QoS 3 are malformed);
// MQTT5-3.8.3-5 (5.0: bits 7-6 reserved, malformed); 5.0 section 3.8.3.1: Maximum QoS 3 and
// Retain Handling 3 are Protocol Errors; No Local on a shared subscription is a Protocol Error
// (MQTT5-3.8.3-4).
[[nodiscard]] constexpr errc check_subscription(const utf8_view& filter, std::uint8_t opts,
                                                bool v5) noexcept {
    if (!v5) return (opts & 0xFCu) != 0 || (opts & 0x03u) == 0x03u ? errc::malformed_packet
                                                                   : errc::success;
    if ((opts & 0xC0u) != 0) return errc::malformed_packet;
    if ((opts & 0x03u) == 0x03u) return errc::protocol_error;
    if (((opts >> 4) & 0x03u) == 0x03u) return errc::protocol_error;
    if ((opts & 0x04u) != 0 && starts_with_share(filter)) return errc::protocol_error;
    return errc::success;
}

[[nodiscard]] constexpr errc check_suback_code(reason_code rc, bool v5) noexcept {
    if (v5) return is_allowed(rc, reason_context::suback) ? errc::success : errc::protocol_error;
    return is_allowed(static_cast<suback_return_code>(rc)) ? errc::success
                                                          : errc::malformed_packet;
}

template <class Ctx>
[[nodiscard]] constexpr errc decode_body(reader& r, const Ctx& c,
                                         subscribe_view& out) noexcept {
    if (const auto e = read_packet_id(r, out.packet_id); e != errc::success) return e;
    if (c.v5()) {
        if (const auto e =
                decode_properties(r, property_context::subscribe, c.opts, out.properties);
            e != errc::success)
            return e;
    }
    // MQTT-3.8.3-3 / MQTT5-3.8.3-2: at least one entry.
    if (r.empty()) return errc::protocol_error;
    const auto start = r.position();
    reader entries = r;
    std::size_t count = 0;
    while (!r.empty()) {
        utf8_view filter;
        // MQTT-3.8.3-1 / MQTT5-3.8.3-1: filters are UTF-8 strings. Filter syntax (wildcard
        // placement, empty filters) is answered per entry in SUBACK, so it is the broker's.
        if (const auto e = r.utf8(filter, c.opts.utf8); e != errc::success) return e;
        const int read_opts = r.byte();
        if (read_opts < 0) return errc::malformed_packet;
        const auto opts = static_cast<std::uint8_t>(read_opts);
        if (const auto e = check_subscription(filter, opts, c.v5()); e != errc::success) return e;
        ++count;
    }
    std::span<const std::byte> bytes;
    if (const auto e = entries.bytes(r.position() - start, bytes); e != errc::success) return e;
    out.subscriptions = subscription_list::from_wire(bytes, count);
    return errc::success;
}

template <class W, class Ctx>
[[nodiscard]] constexpr errc encode_body(W& w, const subscribe_view& p,
                                         const Ctx& c) noexcept {
    if (w.validating()) {
        if (const auto e = check_packet_id(p.packet_id); e != errc::success) return e;
        if (p.subscriptions.empty()) return errc::protocol_error; // MQTT-3.8.3-3
    }
    w.u16(p.packet_id);
    if (c.v5()) {
        if (const auto e = write_properties(w, p.properties, property_context::subscribe, {});
            e != errc::success)
            return e;
    }
    return for_each_entry<Ctx::profile.receives(packet_type::subscribe)>(
        p.subscriptions, [&](const subscription& s) {
            const auto opts = s.options.to_byte();
            if (w.validating()) {
                if (const auto e = check_subscription(s.filter, opts, c.v5()); e != errc::success)
                    return e;
            }
            if (const auto e = w.utf8(s.filter); e != errc::success) return e;
            w.u8(opts);
            return errc::success;
        });
}

template <class Ctx>
[[nodiscard]] constexpr errc decode_body(reader& r, const Ctx& c,
                                         suback_view& out) noexcept {
    if (const auto e = read_packet_id(r, out.packet_id); e != errc::success) return e;
    if (c.v5()) {
        if (const auto e = decode_properties(r, property_context::suback, c.opts, out.properties);
            e != errc::success)
            return e;
    }
    // MQTT-3.9.3-1 / MQTT5-3.8.4-6: one code per SUBSCRIBE entry, and a SUBSCRIBE has at least
    // one, so an empty list is never valid.
    if (r.empty()) return errc::protocol_error;
    const auto codes = r.rest();
    for (const auto b : codes) {
        // MQTT-3.9.3-2 / MQTT5-3.9.3-2.
        if (const auto e = check_suback_code(static_cast<reason_code>(b), c.v5());
            e != errc::success)
            return e;
    }
    out.reasons = reason_code_list::from_wire(codes, codes.size());
    return errc::success;
}

template <class W, class Ctx>
[[nodiscard]] constexpr errc encode_body(W& w, const suback_view& p, const Ctx& c) noexcept {
    if (w.validating()) {
        if (const auto e = check_packet_id(p.packet_id); e != errc::success) return e;
        if (p.reasons.empty()) return errc::protocol_error;
    }
    w.u16(p.packet_id);
    if (c.v5()) {
        if (const auto e = write_properties(w, p.properties, property_context::suback, c.filter);
            e != errc::success)
            return e;
    }
    return for_each_entry<Ctx::profile.receives(packet_type::suback)>(
        p.reasons, [&](reason_code rc) {
            if (w.validating()) {
                if (const auto e = check_suback_code(rc, c.v5()); e != errc::success) return e;
            }
            w.u8(static_cast<std::uint8_t>(rc));
            return errc::success;
        });
}

} // namespace detail
} // namespace mqttwire
