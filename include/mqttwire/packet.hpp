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

#include "byte_buffer.hpp"
#include "detail/codec.hpp"
#include "errc.hpp"
#include "fixed_header.hpp"
#include "framer.hpp"
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
#include "profile.hpp"
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

    constexpr decoded_packet() noexcept = default;
    constexpr decoded_packet(const packet_view& p, std::size_t n) noexcept : packet(p), size(n) {}
    /// @brief Builds the alternative `P` in place and initialises nothing else of the variant
    /// (what the decoder uses; aggregate initialisation made g++ zero the whole variant).
    template <class P>
    constexpr decoded_packet(std::in_place_type_t<P> alternative, std::size_t n) noexcept
        : packet(alternative), size(n) {}
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
    const unsigned bit = 1u << static_cast<unsigned>(t);
    // CONNECT, SUBSCRIBE, UNSUBSCRIBE, PINGREQ come from clients; CONNACK, SUBACK, UNSUBACK,
    // PINGRESP from servers.
    constexpr unsigned from_clients_only = 1u << 1 | 1u << 8 | 1u << 10 | 1u << 12;
    constexpr unsigned from_servers_only = 1u << 2 | 1u << 9 | 1u << 11 | 1u << 13;
    const unsigned refused = sender == peer_role::client ? from_servers_only : from_clients_only;
    if ((bit & refused) != 0) return errc::protocol_error;
    // A server sends DISCONNECT only from 5.0 on.
    if (t == packet_type::disconnect && sender == peer_role::server && v != protocol_version::v5)
        return errc::protocol_error;
    return errc::success;
}

// The flag bits of a `P` (MQTT-2.2.2-1, MQTT-2.2.2-2, MQTT5-2.1.3-1; PUBLISH: MQTT-3.3.1-2,
// MQTT-3.3.1-4 and their 5.0 twins): `check_first_byte` for a type known at compile time.
template <class P>
[[nodiscard]] constexpr errc check_flags(std::uint8_t flags, protocol_version v) noexcept {
    if constexpr (P::type == packet_type::publish) {
        if ((flags & 0x06u) == 0x06u) return errc::malformed_packet;
        return (flags & 0x0Eu) == 0x08u ? errc::malformed_packet : errc::success;
    } else if constexpr (P::type == packet_type::pubrel || P::type == packet_type::subscribe ||
                         P::type == packet_type::unsubscribe) {
        return flags == 0x02u || (v == protocol_version::v3_1 && flags == 0x0Au)
                   ? errc::success
                   : errc::malformed_packet;
    } else if constexpr (P::type == packet_type::auth) {
        return v == protocol_version::v5 && flags == 0 ? errc::success : errc::malformed_packet;
    } else {
        return flags == 0 ? errc::success : errc::malformed_packet;
    }
}

// Decodes the body of a `P` into `out` (a value already constructed in the result returned).
template <class P, codec_profile Profile>
[[nodiscard]] MQTTWIRE_FORCE_INLINE constexpr errc decode_body_of(std::span<const std::byte> body, std::uint8_t flags,
                                            const decode_options& opts, P& out) noexcept {
    reader r(body);
    const decode_ctx<Profile> c{flags, opts};
    return decode_body(r, c, out);
}

// The checks every decode entry point makes before the body: the frame, the buffer, the level,
// the profile and the direction rules, for a packet of type `t`.
template <codec_profile Profile>
[[nodiscard]] constexpr errc check_frame(std::span<const std::byte> bytes, const frame& f,
                                         const decode_options& opts, packet_type t) noexcept {
    if (f.status != errc::success) return f.status;
    if (bytes.size() < f.size || f.header_size > f.size) return errc::incomplete;
    if (!Profile.has(opts.version)) return errc::invalid_argument;
    if (!Profile.receives(t)) return errc::protocol_error; // never sent to this receiver
    return check_direction(t, opts.sender, opts.version);
}

// The levels of a profile as bits (bit `v` set when level `v` is in it): one constant that the
// drivers below, which are not templates, test a level against.
[[nodiscard]] constexpr unsigned level_bits(codec_profile p) noexcept {
    return (p.v3 ? (1u << 3 | 1u << 4) : 0u) | (p.v5 ? 1u << 5 : 0u);
}
[[nodiscard]] constexpr bool has_level(unsigned bits, protocol_version v) noexcept {
    const auto x = static_cast<unsigned>(v);
    return x < 8 && (bits >> x & 1u) != 0;
}

// The flag values check_first_byte allows for type `t` at level `v`, as a bit per value.
[[nodiscard]] constexpr unsigned allowed_flags(packet_type t, protocol_version v) noexcept {
    unsigned mask = 0;
    for (unsigned f = 0; f < 16; ++f)
        if (check_first_byte(static_cast<std::uint8_t>(static_cast<unsigned>(t) << 4 | f), v) ==
            errc::success)
            mask |= 1u << f;
    return mask;
}
// The same, as check_frame_of reads it: the flags allowed in 5.0 (from bit 16), bit 14 when
// MQTT 3.1 also allows 1010 (a retransmitted PUBREL, SUBSCRIBE or UNSUBSCRIBE), bit 15 when the
// type has no valid first byte before 5.0 (AUTH).
[[nodiscard]] constexpr unsigned flag_check_of(packet_type t) noexcept {
    const unsigned v5 = allowed_flags(t, protocol_version::v5);
    const unsigned v311 = allowed_flags(t, protocol_version::v3_1_1);
    const unsigned v31 = allowed_flags(t, protocol_version::v3_1);
    return v5 << 16 | (v31 != v311 ? 0x4000u : 0u) | (v311 != v5 ? 0x8000u : 0u);
}
// What flag_check_of packs holds for every type: 3.1 differs from 3.1.1 only by 1010, and a
// type that 3.1.1 treats differently from 5.0 has no valid first byte before 5.0.
static_assert([] {
    for (unsigned t = 1; t < 16; ++t) {
        const auto type = static_cast<packet_type>(t);
        const unsigned v5 = allowed_flags(type, protocol_version::v5);
        const unsigned v311 = allowed_flags(type, protocol_version::v3_1_1);
        const unsigned v31 = allowed_flags(type, protocol_version::v3_1);
        if (v31 != v311 && v31 != (v311 | 1u << 10)) return false;
        if (v311 != v5 && (v311 != 0 || v31 != 0)) return false;
    }
    return true;
}());

// What check_frame_of knows of a `P` and a profile, in one constant: the type (bits 3-0); the
// direction rules with the profile's receiver folded in (bit 4: refused from any sender, because
// the receiver never gets the type; bit 5: refused from a client; bit 6: refused from a server;
// bit 7: DISCONNECT, which a server sends only from 5.0 on); the profile's levels (level_bits,
// bits 8-13); the flag values the first byte may carry (flag_check_of, bits 14-31).
template <class P, codec_profile Profile>
inline constexpr unsigned frame_check_of = [] {
    const bool never = !Profile.receives(P::type);
    const auto refused = [&](peer_role sender) {
        return never || check_direction(P::type, sender, protocol_version::v5) != errc::success;
    };
    return static_cast<unsigned>(P::type) | (never ? 0x10u : 0u) |
           (refused(peer_role::client) ? 0x20u : 0u) |
           (refused(peer_role::server) ? 0x40u : 0u) |
           (P::type == packet_type::disconnect ? 0x80u : 0u) | level_bits(Profile) << 8 |
           flag_check_of(P::type);
}();

// check_frame and the flag check for a frame expected to be of the type `check` names (see
// frame_check_of), as one function that is not a template: what size-optimised builds
// (MQTTWIRE_SMALL) call for every packet type. `size` is the size of the input.
[[nodiscard]] MQTTWIRE_SHARED constexpr errc check_frame_of(std::size_t size, const frame& f,
                                                            const decode_options& opts,
                                                            unsigned check) noexcept {
    const auto t = static_cast<packet_type>(check & 0x0Fu);
    if (f.status != errc::success) return f.status;
    if (f.type != t) return errc::invalid_argument;
    if (size < f.size || f.header_size > f.size) return errc::incomplete;
    if (!has_level(check >> 8 & 0x3Fu, opts.version)) return errc::invalid_argument;
    // The profile's receiver, then the direction rules (check_direction).
    const auto s = opts.sender;
    const auto role = static_cast<unsigned>(s); // unknown 0, client 1, server 2 (and above)
    const unsigned refused = 0x10u << (role < 2 ? role : 2u);
    if ((check & refused) != 0 || ((check & 0x80u) != 0 && s == peer_role::server &&
                                   opts.version != protocol_version::v5))
        return errc::protocol_error;
    // check_first_byte for the type, from the constant (flag_check_of).
    unsigned allowed = check >> 16;
    if (opts.version == protocol_version::v3_1) allowed |= check >> 4 & 0x400u; // bit 14: 1010
    if (opts.version != protocol_version::v5 && (check & 0x8000u) != 0) allowed = 0;
    return (allowed >> f.flags & 1u) != 0 ? errc::success : errc::malformed_packet;
}

// Builds the alternative `P` inside the result being returned (one return object: no copy of
// the variant on the way out) and decodes into it.
template <class R, class P, codec_profile Profile>
[[nodiscard]] constexpr result<R> decode_alternative(std::span<const std::byte> body,
                                                     const frame& f,
                                                     const decode_options& opts) noexcept {
    auto out = result_access::make<R>([&f] {
        if constexpr (std::is_same_v<R, decoded_packet>) {
            return decoded_packet(std::in_place_type<P>, f.size);
        } else {
            static_cast<void>(f);
            return packet_view{std::in_place_type<P>};
        }
    });
    auto& v = result_access::value(out);
    P* p = nullptr;
    if constexpr (std::is_same_v<R, decoded_packet>)
        p = std::get_if<P>(&v.packet);
    else
        p = std::get_if<P>(&v);
    if (const auto e = decode_body_of<P, Profile>(body, f.flags, opts, *p); e != errc::success)
        result_access::fail(out, e);
    return out;
}

// One case of the type switch: the decoder of `T` when the profile's receiver gets `T`.
template <class R, packet_type T, codec_profile Profile>
[[nodiscard]] constexpr result<R> decode_case(std::span<const std::byte> body, const frame& f,
                                              const decode_options& opts) noexcept {
    using P = std::variant_alternative_t<static_cast<std::size_t>(T) - 1, packet_view>;
    if constexpr (Profile.receives(T))
        return decode_alternative<R, P, Profile>(body, f, opts);
    else
        return errc::protocol_error;
}

template <class R, codec_profile Profile, bool FlagsChecked>
[[nodiscard]] constexpr result<R> decode_any(std::span<const std::byte> bytes, const frame& f,
                                             const decode_options& opts) noexcept {
    if (const auto e = check_frame<Profile>(bytes, f, opts, f.type); e != errc::success) return e;
    if constexpr (!FlagsChecked) {
        if (const auto e = check_first_byte(
                static_cast<std::uint8_t>(static_cast<unsigned>(f.type) << 4 | f.flags),
                opts.version);
            e != errc::success)
            return e;
    }
    const auto body = bytes.first(f.size).subspan(f.header_size);
    using enum packet_type;
    switch (f.type) {
    case connect: return decode_case<R, connect, Profile>(body, f, opts);
    case connack: return decode_case<R, connack, Profile>(body, f, opts);
    case publish: return decode_case<R, publish, Profile>(body, f, opts);
    case puback: return decode_case<R, puback, Profile>(body, f, opts);
    case pubrec: return decode_case<R, pubrec, Profile>(body, f, opts);
    case pubrel: return decode_case<R, pubrel, Profile>(body, f, opts);
    case pubcomp: return decode_case<R, pubcomp, Profile>(body, f, opts);
    case subscribe: return decode_case<R, subscribe, Profile>(body, f, opts);
    case suback: return decode_case<R, suback, Profile>(body, f, opts);
    case unsubscribe: return decode_case<R, unsubscribe, Profile>(body, f, opts);
    case unsuback: return decode_case<R, unsuback, Profile>(body, f, opts);
    case pingreq: return decode_case<R, pingreq, Profile>(body, f, opts);
    case pingresp: return decode_case<R, pingresp, Profile>(body, f, opts);
    case disconnect: return decode_case<R, disconnect, Profile>(body, f, opts);
    case auth: return decode_case<R, auth, Profile>(body, f, opts);
    }
    return errc::malformed_packet;
}

// The alternative of type `T` (precondition: `p` holds it). std::get_if at run time, which has
// no throwing path; std::get in constant evaluation, where GCC 12 cannot compare the address of
// a temporary with null inside std::get_if.
template <packet_type T>
[[nodiscard]] constexpr const auto& alternative(const packet_view& p) noexcept {
    constexpr auto i = static_cast<std::size_t>(T) - 1;
    if (std::is_constant_evaluated()) return std::get<i>(p);
    return *std::get_if<i>(&p);
}

// Calls `f(alternative)` on the packet `p` holds: a switch on the index, so nothing can reach
// std::visit's bad_variant_access path.
template <class F> [[nodiscard]] constexpr auto visit_packet(const packet_view& p, F f) noexcept {
    using enum packet_type;
    switch (type_of(p)) {
    case connect: return f(alternative<connect>(p));
    case connack: return f(alternative<connack>(p));
    case publish: return f(alternative<publish>(p));
    case puback: return f(alternative<puback>(p));
    case pubrec: return f(alternative<pubrec>(p));
    case pubrel: return f(alternative<pubrel>(p));
    case pubcomp: return f(alternative<pubcomp>(p));
    case subscribe: return f(alternative<subscribe>(p));
    case suback: return f(alternative<suback>(p));
    case unsubscribe: return f(alternative<unsubscribe>(p));
    case unsuback: return f(alternative<unsuback>(p));
    case pingreq: return f(alternative<pingreq>(p));
    case pingresp: return f(alternative<pingresp>(p));
    case disconnect: return f(alternative<disconnect>(p));
    case auth: break;
    }
    return f(alternative<auth>(p));
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
// any byte is written. Size-optimised builds count with the flex sink they also write with, so
// one instantiation of the encoder serves both passes.
template <class P, class Ctx>
[[nodiscard]] constexpr result<std::size_t> measure_body(const P& p, const Ctx& c) noexcept {
    if (!Ctx::profile.has(c.version)) return errc::invalid_argument;
    if (P::type == packet_type::auth && !c.v5()) return errc::malformed_packet;
    using sink_type = std::conditional_t<small_code, flex_sink, counting_sink>;
    sink_type body;
    writer<sink_type> measure(body);
    if (const auto e = encode_body(measure, p, c); e != errc::success) return e;
    if (body.count > varint_max) return errc::packet_too_large;
    return body.count;
}

template <class P> [[nodiscard]] constexpr std::uint8_t first_byte_of(const P& p) noexcept {
    return static_cast<std::uint8_t>(static_cast<unsigned>(P::type) << 4 | header_flags_of(p));
}

template <class P, class Ctx>
[[nodiscard]] constexpr result<std::size_t> measure(const P& p, const Ctx& c) noexcept {
    if constexpr (!small_code && std::is_same_v<P, publish_view>) {
        // The hot packet's own checks and sum (the counting writer's, without the writer).
        if (!std::is_constant_evaluated() && p.properties.empty()) {
            std::uint32_t length = 0;
            if (const auto e = plain_publish_length(p, c, length); e != errc::success) return e;
            return 1 + varint_size(length) + length;
        }
    }
    const auto body = measure_body(p, c);
    if (!body) return body;
    return 1 + varint_size(static_cast<std::uint32_t>(*body)) + *body;
}

// Size-optimised builds at run time: the encode driver below is one function for every packet
// type, and each type adds only its body encoder (a `body_encoder`, reached through a pointer).
using body_encoder = errc (*)(writer<flex_sink>&, const void* packet, const void* ctx);
template <class P, class Ctx>
[[nodiscard]] inline errc encode_body_of(writer<flex_sink>& w, const void* packet,
                                         const void* ctx) noexcept {
    return encode_body(w, *static_cast<const P*>(packet), *static_cast<const Ctx*>(ctx));
}
// Measures with `body`, then writes the fixed header and the body into `out`; one exit for
// every outcome. `head` is the first byte (bits 7-0) and the profile's levels (level_bits, from
// bit 8).
[[nodiscard]] inline std::uint64_t encode_erased(body_encoder body, const void* packet,
                                                 const void* ctx, std::span<std::byte> out,
                                                 unsigned head, protocol_version v) noexcept {
    std::size_t total = 0;
    errc e = errc::invalid_argument;
    if (has_level(head >> 8, v)) {
        flex_sink sink;
        writer<flex_sink> w(sink);
        e = body(w, packet, ctx); // counts the body
        const auto size = static_cast<std::uint32_t>(sink.count);
        if (e == errc::success && size > varint_max) e = errc::packet_too_large;
        // The fixed header, counted on top of the body (the total), then written with it.
        while (e == errc::success) {
            w.u8(static_cast<std::uint8_t>(head));
            w.varint(size);
            if (sink.writing()) {
                e = body(w, packet, ctx);
                if (e == errc::success && sink.count != total)
                    e = errc::unspecified_error; // never: one path
                break;
            }
            total = sink.count;
            if (out.size() < total) {
                e = errc::buffer_too_small;
                break;
            }
            sink = flex_sink(out.first(total));
        }
    }
    // The outcome in two registers rather than through memory: the size, or the error above it.
    // (An error result never reads its value, so the size may be anything then.)
    return static_cast<std::uint64_t>(e) << 32 | total;
}

// Measures the body once, then writes the fixed header (its Remaining Length is the measured
// size) and the body into `out`, with the writer of the same template: size and bytes cannot
// disagree.
template <class P, class Ctx>
[[nodiscard]] constexpr result<std::size_t> encode_into(const P& p, const Ctx& c,
                                                        std::span<std::byte> out) noexcept {
    if constexpr (small_code) {
        if (!std::is_constant_evaluated()) {
            if (P::type == packet_type::auth && Ctx::profile.has(c.version) && !c.v5())
                return errc::malformed_packet;
            const std::uint64_t r =
                encode_erased(&encode_body_of<P, Ctx>, &p, &c, out,
                              first_byte_of(p) | level_bits(Ctx::profile) << 8, c.version);
            auto res =
                result_access::make<std::size_t>([r] { return static_cast<std::size_t>(r); });
            result_access::set_error(res, static_cast<errc>(r >> 32));
            return res;
        }
    } else if constexpr (std::is_same_v<P, publish_view>) {
        if (!std::is_constant_evaluated() && p.properties.empty())
            return encode_plain_publish(p, c, out);
    }
    const auto body = measure_body(p, c);
    if (!body) return body;
    const std::size_t total = 1 + varint_size(static_cast<std::uint32_t>(*body)) + *body;
    if (out.size() < total) return errc::buffer_too_small;
    using sink_type = std::conditional_t<small_code, flex_sink, span_sink>;
    sink_type sink{out.first(total)};
    writer<sink_type> w(sink);
    w.u8(first_byte_of(p));
    w.varint(static_cast<std::uint32_t>(*body));
    if (const auto e = encode_body(w, p, c); e != errc::success) return e;
    if (sink_overflowed(sink) || sink.count != total)
        return errc::unspecified_error; // never: one path
    return sink.count;
}

// Writes `p` after `fit` (or `measure`) has accepted it under `c` and given `size`: a PUBLISH
// without properties is stored without its checks running a second time; every other packet
// goes through encode_into.
template <class P, class Ctx>
[[nodiscard]] constexpr result<std::size_t> encode_fitted(const P& p, const Ctx& c,
                                                          std::size_t size,
                                                          std::span<std::byte> out) noexcept {
    if constexpr (!small_code && std::is_same_v<P, publish_view>) {
        if (!std::is_constant_evaluated() && p.properties.empty()) {
            if (out.size() < size) return errc::buffer_too_small;
            const auto length = static_cast<std::uint32_t>(plain_publish_body(p, c));
            return write_plain_publish(p, c, length, out.first(size));
        }
    }
    return encode_into(p, c, out);
}

// Picks the encode context that fits `opts.max_packet_size`, dropping the Reason String and
// then the User Properties where the spec allows it.
template <class P, class Ctx>
[[nodiscard]] constexpr result<std::size_t> fit(const P& p, protocol_version v,
                                                const encode_options& opts, Ctx& c) noexcept {
    c = Ctx{v, {}, opts.sender};
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
/// ignored; `decoded_packet::size` says how many were used. `Profile` (default: everything)
/// leaves out what a program never receives; see `codec_profile`.
///
/// @return the packet, or: `errc::incomplete` when `bytes` ends inside the packet;
/// `errc::packet_too_large` when its size exceeds `opts.max_packet_size`;
/// `errc::malformed_packet`, `errc::protocol_error`, `errc::topic_name_invalid`,
/// `errc::topic_alias_invalid`, `errc::unsupported_protocol_version` or
/// `errc::payload_format_invalid` for packets that break the rule the spec gives that code for;
/// `errc::invalid_argument` for an unknown `opts.version` (or one outside `Profile`).
///
/// Example:
/// @code
/// auto r = mqttwire::decode_packet(bytes, {.version = mqttwire::protocol_version::v3_1_1});
/// if (r) if (auto* p = std::get_if<mqttwire::publish_view>(&r->packet)) use(p->topic);
/// @endcode
template <codec_profile Profile = full_profile>
[[nodiscard]] constexpr result<decoded_packet> decode_packet(std::span<const std::byte> bytes,
                                                             const decode_options& opts) noexcept {
    const frame f = next_frame(bytes, opts);
    if (f.status != errc::success) return f.status;
    return detail::decode_any<decoded_packet, Profile, true>(bytes, f, opts);
}

/// @brief Deleted: the views of a decoded packet would point into a destroyed temporary.
template <codec_profile Profile = full_profile, class Range>
    requires(std::ranges::contiguous_range<Range> && !std::ranges::borrowed_range<Range>)
result<decoded_packet> decode_packet(Range&&, const decode_options&) = delete;

/// @brief Decodes the packet `f` found at the start of `bytes`, without reading its fixed
/// header again: the framer has already read type, flags and Remaining Length.
///
/// `f` must be what `next_frame` (or `framer::next`) returned for these `bytes`; the reads stay
/// within `bytes` whatever `f` says. Views point into `bytes`.
/// @return the packet, `f.status` when the frame is not complete, or the errors of
/// `decode_packet`.
///
/// @code
/// const auto f = mqttwire::next_frame(in, opts);   // opts.max_packet_size applies here
/// if (f.status == mqttwire::errc::success) {
///     auto p = mqttwire::decode_frame(in, f, opts);
///     consume(f.size);
/// }
/// @endcode
template <codec_profile Profile = full_profile>
[[nodiscard]] constexpr result<packet_view> decode_frame(std::span<const std::byte> bytes,
                                                         const frame& f,
                                                         const decode_options& opts) noexcept {
    return detail::decode_any<packet_view, Profile, false>(bytes, f, opts);
}

/// @brief Deleted: the views would point into a destroyed temporary.
template <codec_profile Profile = full_profile, class Range>
    requires(std::ranges::contiguous_range<Range> && !std::ranges::borrowed_range<Range>)
result<packet_view> decode_frame(Range&&, const frame&, const decode_options&) = delete;

/// @brief Decodes the packet `f` found at the start of `bytes` as a `P` (its type is known from
/// `f.type`): no variant, nothing built but the view returned.
/// @return the view, `errc::invalid_argument` when `f.type` is not `P::type`, or the errors of
/// `decode_frame`.
template <packet P, codec_profile Profile = full_profile>
[[nodiscard]] constexpr result<P> decode(std::span<const std::byte> bytes, const frame& f,
                                         const decode_options& opts) noexcept {
    // One result object on every path, so it is built in the caller's storage (NRVO).
    auto out = detail::result_access::make<P>([] { return P{}; });
    errc e = errc::success;
    std::span<const std::byte> body;
    if constexpr (detail::small_code) {
        e = detail::check_frame_of(bytes.size(), f, opts,
                                   detail::frame_check_of<P, Profile>); // one copy for every P
        if (e == errc::success) body = bytes.first(f.size).subspan(f.header_size);
    } else {
        e = f.type != P::type && f.status == errc::success
                ? errc::invalid_argument
                : detail::check_frame<Profile>(bytes, f, opts, P::type);
        if (e == errc::success) {
            e = detail::check_flags<P>(f.flags, opts.version);
            body = bytes.first(f.size).subspan(f.header_size);
        }
    }
    if (e == errc::success)
        e = detail::decode_body_of<P, Profile>(body, f.flags, opts,
                                               detail::result_access::value(out));
    if (e != errc::success) detail::result_access::fail(out, e);
    return out;
}

/// @brief Deleted: the views would point into a destroyed temporary.
template <packet P, codec_profile Profile = full_profile, class Range>
    requires(std::ranges::contiguous_range<Range> && !std::ranges::borrowed_range<Range>)
result<P> decode(Range&&, const frame&, const decode_options&) = delete;

/// @brief The exact number of bytes `encode(p, v, ...)` writes.
/// @return the size, or the error `encode` would return (never `buffer_too_small`).
template <codec_profile Profile = full_profile, packet P>
[[nodiscard]] constexpr result<std::size_t> encoded_size(const P& p, protocol_version v) noexcept {
    return detail::measure(p, detail::encode_ctx<Profile>{v, {}, peer_role::unknown});
}

/// @brief The exact size under `opts` (after any trimming to `opts.max_packet_size`).
template <codec_profile Profile = full_profile, packet P>
[[nodiscard]] constexpr result<std::size_t> encoded_size(const P& p, protocol_version v,
                                                         const encode_options& opts) noexcept {
    detail::encode_ctx<Profile> c{v};
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
/// `errc::invalid_argument` for an unknown `v` (or one outside `Profile`).
template <codec_profile Profile = full_profile, packet P>
[[nodiscard]] constexpr result<std::size_t> encode(const P& p, protocol_version v,
                                                   std::span<std::byte> out) noexcept {
    return detail::encode_into(p, detail::encode_ctx<Profile>{v, {}, peer_role::unknown}, out);
}

/// @brief Encodes under `opts`: fits the receiver's Maximum Packet Size where the spec allows
/// dropping the Reason String and User Properties, and applies the sender's direction rules.
template <codec_profile Profile = full_profile, packet P>
[[nodiscard]] constexpr result<std::size_t> encode(const P& p, protocol_version v,
                                                   std::span<std::byte> out,
                                                   const encode_options& opts) noexcept {
    detail::encode_ctx<Profile> c{v};
    const auto size = detail::fit(p, v, opts, c);
    if (!size) return size;
    return detail::encode_fitted(p, c, *size, out);
}

/// @overload
template <codec_profile Profile = full_profile>
[[nodiscard]] constexpr result<std::size_t> encoded_size(const packet_view& p,
                                                         protocol_version v) noexcept {
    return detail::visit_packet(p, [v](const auto& x) { return encoded_size<Profile>(x, v); });
}
/// @overload
template <codec_profile Profile = full_profile>
[[nodiscard]] constexpr result<std::size_t> encoded_size(const packet_view& p, protocol_version v,
                                                         const encode_options& opts) noexcept {
    return detail::visit_packet(
        p, [v, &opts](const auto& x) { return encoded_size<Profile>(x, v, opts); });
}
/// @overload
template <codec_profile Profile = full_profile>
[[nodiscard]] constexpr result<std::size_t> encode(const packet_view& p, protocol_version v,
                                                   std::span<std::byte> out) noexcept {
    return detail::visit_packet(p, [v, out](const auto& x) { return encode<Profile>(x, v, out); });
}
/// @overload
template <codec_profile Profile = full_profile>
[[nodiscard]] constexpr result<std::size_t> encode(const packet_view& p, protocol_version v,
                                                   std::span<std::byte> out,
                                                   const encode_options& opts) noexcept {
    return detail::visit_packet(
        p, [v, out, &opts](const auto& x) { return encode<Profile>(x, v, out, opts); });
}

/// @name Buffers of char, unsigned char or std::uint8_t
/// The same entry points for `byte_like` buffers, e.g. `std::uint8_t buf[64]` or a
/// `std::span<const char>`. Run time only (the characters are read as `std::byte`).
/// @{
template <codec_profile Profile = full_profile, byte_like_input Range>
[[nodiscard]] inline result<decoded_packet> decode_packet(Range&& bytes,
                                                          const decode_options& opts) noexcept {
    return decode_packet<Profile>(detail::as_input(bytes), opts);
}
template <codec_profile Profile = full_profile, byte_like_input Range>
[[nodiscard]] inline result<packet_view> decode_frame(Range&& bytes, const frame& f,
                                                      const decode_options& opts) noexcept {
    return decode_frame<Profile>(detail::as_input(bytes), f, opts);
}
template <packet P, codec_profile Profile = full_profile, byte_like_input Range>
[[nodiscard]] inline result<P> decode(Range&& bytes, const frame& f,
                                      const decode_options& opts) noexcept {
    return decode<P, Profile>(detail::as_input(bytes), f, opts);
}
template <codec_profile Profile = full_profile, class P, byte_like_output Out>
    requires(packet<P> || std::is_same_v<P, packet_view>)
[[nodiscard]] inline result<std::size_t> encode(const P& p, protocol_version v,
                                                Out&& out) noexcept {
    return encode<Profile>(p, v, detail::as_output(out));
}
template <codec_profile Profile = full_profile, class P, byte_like_output Out>
    requires(packet<P> || std::is_same_v<P, packet_view>)
[[nodiscard]] inline result<std::size_t> encode(const P& p, protocol_version v, Out&& out,
                                                const encode_options& opts) noexcept {
    return encode<Profile>(p, v, detail::as_output(out), opts);
}
/// @}

} // namespace mqttwire
