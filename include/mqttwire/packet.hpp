#pragma once
/// @file
/// @brief `packet_view`, `decode_packet`, `encoded_size` and `encode`: the codec's entry points.

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <ranges>
#include <span>
#include <type_traits>
#include <variant>

#include "detail/codec.hpp"
#include "errc.hpp"
#include "fixed_header.hpp"
#include "options.hpp"
#include "packets/ack.hpp"
#include "packets/auth.hpp"
#include "packets/connack.hpp"
#include "packets/connect.hpp"
#include "packets/disconnect.hpp"
#include "packets/ping.hpp"
#include "packets/publish.hpp"
#include "packets/subscribe.hpp"
#include "packets/unsubscribe.hpp"
#include "result.hpp"
#include "version.hpp"

namespace mqttwire {

/// @brief Any decoded packet. The alternative at index `i` is packet type `i + 1`.
using packet_view =
    std::variant<connect_view, connack_view, publish_view, puback_view, pubrec_view, pubrel_view,
                 pubcomp_view, subscribe_view, suback_view, unsubscribe_view, unsuback_view,
                 pingreq_view, pingresp_view, disconnect_view, auth_view>;

/// @brief The packet type held by `p`.
[[nodiscard]] constexpr packet_type type_of(const packet_view& p) noexcept {
    return static_cast<packet_type>(p.index() + 1);
}

/// @brief A decoded packet and the number of input bytes it occupied.
struct decoded_packet {
    packet_view packet{};
    std::size_t size = 0;
};

/// @brief True for the 15 packet view types.
template <class P>
concept packet = requires {
    { P::type } -> std::convertible_to<packet_type>;
} && std::is_trivially_copyable_v<P>;

namespace detail {

// Section 2.1.2 (5.0) / 2.2.1 (3.1.1), "Direction of flow".
[[nodiscard]] constexpr errc check_direction(packet_type t, peer_role sender,
                                             protocol_version v) noexcept {
    if (sender == peer_role::unknown) return errc::success;
    switch (t) {
    case packet_type::connect:
    case packet_type::subscribe:
    case packet_type::unsubscribe:
    case packet_type::pingreq:
        return sender == peer_role::client ? errc::success : errc::protocol_error;
    case packet_type::connack:
    case packet_type::suback:
    case packet_type::unsuback:
    case packet_type::pingresp:
        return sender == peer_role::server ? errc::success : errc::protocol_error;
    case packet_type::disconnect: // a server sends DISCONNECT only from 5.0 on
        return sender == peer_role::client || v == protocol_version::v5 ? errc::success
                                                                        : errc::protocol_error;
    default: return errc::success;
    }
}

// Decodes straight into the result that is returned (one return object: no copy of the
// variant on the way out).
template <class P>
[[nodiscard]] constexpr result<decoded_packet> decode_as(reader& r, const decode_ctx& c,
                                                         std::size_t size) noexcept {
    auto out = result_access::make<decoded_packet>([size] {
        return decoded_packet{packet_view{std::in_place_type<P>}, size};
    });
    P* p = std::get_if<P>(&result_access::value(out).packet);
    if (const auto e = decode_body(r, c, *p); e != errc::success) result_access::fail(out, e);
    return out;
}

template <class P> [[nodiscard]] constexpr std::uint8_t header_flags_of(const P& p) noexcept {
    if constexpr (std::is_same_v<P, publish_view>)
        return header_flags(p);
    else if constexpr (P::type == packet_type::pubrel || P::type == packet_type::subscribe ||
                       P::type == packet_type::unsubscribe)
        return 0x02;
    else
        return 0x00;
}

template <class P>
inline constexpr bool trimmable =
    P::type != packet_type::connect && P::type != packet_type::publish &&
    P::type != packet_type::subscribe && P::type != packet_type::unsubscribe &&
    P::type != packet_type::pingreq && P::type != packet_type::pingresp;

// The body, measured by the counting writer: every validation of the encoder runs here, before
// any byte is written.
template <class P>
[[nodiscard]] constexpr result<std::size_t> measure_body(const P& p, const encode_ctx& c) noexcept {
    if (!is_known_version(c.version)) return errc::invalid_argument;
    if (P::type == packet_type::auth && c.version != protocol_version::v5)
        return errc::malformed_packet;
    counting_sink body;
    writer<counting_sink> measure(body);
    if (const auto e = encode_body(measure, p, c); e != errc::success) return e;
    if (body.count > varint_max) return errc::packet_too_large;
    return body.count;
}

// Fixed header, then the body, whose size `measure_body` gave (so the Remaining Length is exact
// and the body is measured once per encode). The counting sink takes the same path and skips
// the body it has already measured: size and bytes cannot disagree.
template <class P, class Sink>
[[nodiscard]] constexpr errc write_packet(Sink& sink, const P& p, const encode_ctx& c,
                                          std::size_t body_size) noexcept {
    writer<Sink> w(sink);
    w.u8(static_cast<std::uint8_t>(static_cast<unsigned>(P::type) << 4 | header_flags_of(p)));
    w.varint(static_cast<std::uint32_t>(body_size));
    if constexpr (std::is_same_v<Sink, counting_sink>) {
        sink.skip(body_size);
        return errc::success;
    } else {
        return encode_body(w, p, c);
    }
}

template <class P>
[[nodiscard]] constexpr result<std::size_t> measure(const P& p, const encode_ctx& c) noexcept {
    const auto body = measure_body(p, c);
    if (!body) return body;
    counting_sink s;
    if (const auto e = write_packet(s, p, c, *body); e != errc::success) return e;
    return s.count;
}

// Measures the body once, then writes header and body into `out`.
template <class P>
[[nodiscard]] constexpr result<std::size_t> encode_into(const P& p, const encode_ctx& c,
                                                        std::span<std::byte> out) noexcept {
    const auto body = measure_body(p, c);
    if (!body) return body;
    counting_sink total;
    if (const auto e = write_packet(total, p, c, *body); e != errc::success) return e;
    if (out.size() < total.count) return errc::buffer_too_small;
    span_sink sink{out};
    if (const auto e = write_packet(sink, p, c, *body); e != errc::success) return e;
    return sink.count;
}

// Picks the encode context that fits `opts.max_packet_size`, dropping the Reason String and
// then the User Properties where the spec allows it.
template <class P>
[[nodiscard]] constexpr result<std::size_t> fit(const P& p, protocol_version v,
                                                const encode_options& opts,
                                                encode_ctx& c) noexcept {
    c = encode_ctx{v, {}, opts.sender};
    if (const auto e = check_direction(P::type, opts.sender, v); e != errc::success) return e;
    auto size = measure(p, c);
    if (!size || *size <= opts.max_packet_size) return size;
    if constexpr (trimmable<P>) {
        // MQTT5-3.2.2-19, MQTT5-3.4.2-2, MQTT5-3.5.2-2, MQTT5-3.6.2-2, MQTT5-3.7.2-2,
        // MQTT5-3.9.2-1, MQTT5-3.11.2-1, MQTT5-3.14.2-3, MQTT5-3.15.2-2: Reason String first.
        c.filter.drop_reason_string = true;
        size = measure(p, c);
        if (!size || *size <= opts.max_packet_size) return size;
        // MQTT5-3.2.2-20, MQTT5-3.4.2-3, MQTT5-3.5.2-3, MQTT5-3.6.2-3, MQTT5-3.7.2-3,
        // MQTT5-3.9.2-2, MQTT5-3.11.2-2, MQTT5-3.14.2-4, MQTT5-3.15.2-3: then User Properties.
        c.filter.drop_user_properties = true;
        size = measure(p, c);
        if (!size || *size <= opts.max_packet_size) return size;
    }
    return errc::packet_too_large;
}

} // namespace detail

/// @brief Decodes the packet at the start of `bytes`.
///
/// Strings, payloads, property blocks and entry lists in the result point into `bytes`, which
/// must outlive them (the overload for temporary buffers is deleted). Bytes after the packet are
/// ignored; `decoded_packet::size` says how many were used.
///
/// @return the packet, or: `errc::incomplete` when `bytes` ends inside the packet;
/// `errc::packet_too_large` when its size exceeds `opts.max_packet_size`;
/// `errc::malformed_packet`, `errc::protocol_error`, `errc::topic_name_invalid`,
/// `errc::topic_alias_invalid`, `errc::unsupported_protocol_version` or
/// `errc::payload_format_invalid` for packets that break the rule the spec gives that code for;
/// `errc::invalid_argument` for an unknown `opts.version`.
///
/// Example:
/// @code
/// auto r = mqttwire::decode_packet(bytes, {.version = mqttwire::protocol_version::v3_1_1});
/// if (r) if (auto* p = std::get_if<mqttwire::publish_view>(&r->packet)) use(p->topic);
/// @endcode
[[nodiscard]] constexpr result<decoded_packet> decode_packet(std::span<const std::byte> bytes,
                                                             const decode_options& opts) noexcept {
    if (!is_known_version(opts.version)) return errc::invalid_argument;
    if (bytes.empty()) return errc::incomplete;
    const auto b0 = static_cast<std::uint8_t>(bytes[0]);
    // Flags are checked from the first byte on, so a stream is refused as early as possible.
    if (const auto e = check_first_byte(b0, opts.version); e != errc::success) return e;
    const auto h = read_fixed_header(bytes, opts.max_packet_size);
    if (!h) return h.error();
    if (bytes.size() < h->packet_size()) return errc::incomplete;
    if (const auto e = detail::check_direction(h->type, opts.sender, opts.version);
        e != errc::success)
        return e;
    detail::reader r(bytes.subspan(h->header_size, h->remaining_length));
    const detail::decode_ctx c{opts.version, h->flags, opts};
    const auto size = h->packet_size();
    switch (h->type) {
    case packet_type::connect: return detail::decode_as<connect_view>(r, c, size);
    case packet_type::connack: return detail::decode_as<connack_view>(r, c, size);
    case packet_type::publish: return detail::decode_as<publish_view>(r, c, size);
    case packet_type::puback: return detail::decode_as<puback_view>(r, c, size);
    case packet_type::pubrec: return detail::decode_as<pubrec_view>(r, c, size);
    case packet_type::pubrel: return detail::decode_as<pubrel_view>(r, c, size);
    case packet_type::pubcomp: return detail::decode_as<pubcomp_view>(r, c, size);
    case packet_type::subscribe: return detail::decode_as<subscribe_view>(r, c, size);
    case packet_type::suback: return detail::decode_as<suback_view>(r, c, size);
    case packet_type::unsubscribe: return detail::decode_as<unsubscribe_view>(r, c, size);
    case packet_type::unsuback: return detail::decode_as<unsuback_view>(r, c, size);
    case packet_type::pingreq: return detail::decode_as<pingreq_view>(r, c, size);
    case packet_type::pingresp: return detail::decode_as<pingresp_view>(r, c, size);
    case packet_type::disconnect: return detail::decode_as<disconnect_view>(r, c, size);
    case packet_type::auth: return detail::decode_as<auth_view>(r, c, size);
    }
    return errc::malformed_packet;
}

/// @brief Deleted: the views of a decoded packet would point into a destroyed temporary.
template <class Range>
    requires(std::ranges::contiguous_range<Range> && !std::ranges::borrowed_range<Range>)
result<decoded_packet> decode_packet(Range&&, const decode_options&) = delete;

/// @brief The exact number of bytes `encode(p, v, ...)` writes.
/// @return the size, or the error `encode` would return (never `buffer_too_small`).
template <packet P>
[[nodiscard]] constexpr result<std::size_t> encoded_size(const P& p, protocol_version v) noexcept {
    return detail::measure(p, detail::encode_ctx{v, {}, peer_role::unknown});
}

/// @brief The exact size under `opts` (after any trimming to `opts.max_packet_size`).
template <packet P>
[[nodiscard]] constexpr result<std::size_t> encoded_size(const P& p, protocol_version v,
                                                         const encode_options& opts) noexcept {
    detail::encode_ctx c{v};
    return detail::fit(p, v, opts, c);
}

/// @brief Encodes `p` for protocol level `v` into `out`, in the shortest valid form.
///
/// For CONNECT, `v` decides the protocol name and level written. Fields that do not exist at
/// level `v` (properties and reason codes before 5.0) are not written.
/// @return bytes written; `errc::buffer_too_small` (nothing written) when `out` is shorter than
/// `encoded_size(p, v)`; `errc::malformed_packet` or `errc::protocol_error` when `p` breaks a rule
/// the decoder enforces (so the encoder never emits what the decoder refuses);
/// `errc::packet_too_large` past 268,435,455 bytes of Remaining Length;
/// `errc::invalid_argument` for an unknown `v`.
template <packet P>
[[nodiscard]] constexpr result<std::size_t> encode(const P& p, protocol_version v,
                                                   std::span<std::byte> out) noexcept {
    return detail::encode_into(p, detail::encode_ctx{v, {}, peer_role::unknown}, out);
}

/// @brief Encodes under `opts`: fits the receiver's Maximum Packet Size where the spec allows
/// dropping the Reason String and User Properties, and applies the sender's direction rules.
template <packet P>
[[nodiscard]] constexpr result<std::size_t> encode(const P& p, protocol_version v,
                                                   std::span<std::byte> out,
                                                   const encode_options& opts) noexcept {
    detail::encode_ctx c{v};
    if (const auto size = detail::fit(p, v, opts, c); !size) return size;
    return detail::encode_into(p, c, out);
}

/// @overload
[[nodiscard]] constexpr result<std::size_t> encoded_size(const packet_view& p,
                                                         protocol_version v) noexcept {
    return std::visit([v](const auto& x) { return encoded_size(x, v); }, p);
}
/// @overload
[[nodiscard]] constexpr result<std::size_t> encoded_size(const packet_view& p, protocol_version v,
                                                         const encode_options& opts) noexcept {
    return std::visit([v, &opts](const auto& x) { return encoded_size(x, v, opts); }, p);
}
/// @overload
[[nodiscard]] constexpr result<std::size_t> encode(const packet_view& p, protocol_version v,
                                                   std::span<std::byte> out) noexcept {
    return std::visit([v, out](const auto& x) { return encode(x, v, out); }, p);
}
/// @overload
[[nodiscard]] constexpr result<std::size_t> encode(const packet_view& p, protocol_version v,
                                                   std::span<std::byte> out,
                                                   const encode_options& opts) noexcept {
    return std::visit([v, out, &opts](const auto& x) { return encode(x, v, out, opts); }, p);
}

} // namespace mqttwire
