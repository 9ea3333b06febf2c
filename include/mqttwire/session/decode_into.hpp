#pragma once
/// @file
/// @brief The session's decode: a frame decoded straight into the packet slot the connection
/// keeps, instead of into a `result` that is then copied there. Same checks and errors as
/// `decode_frame`.

#include <cstddef>
#include <cstdint>
#include <span>
#include <variant>

#include "../errc.hpp"
#include "../fixed_header.hpp"
#include "../framer.hpp"
#include "../packet.hpp"
#include "../profile.hpp"

namespace mqttwire::detail {

template <packet_type T, codec_profile Profile>
[[nodiscard]] errc decode_case_into(std::span<const std::byte> body, const frame& f,
                                    const decode_options& opts, packet_view& out) noexcept {
    using P = std::variant_alternative_t<static_cast<std::size_t>(T) - 1, packet_view>;
    if constexpr (Profile.receives(T)) {
        // Only the alternative is initialised, not the variant's largest member.
        return decode_body_of<P, Profile>(body, f.flags, opts, out.template emplace<P>());
    } else {
        return errc::protocol_error;
    }
}

/// Decodes the packet `f` found at the start of `bytes` into `out` (what `decode_frame` returns,
/// built in place). On an error `out` holds a partly decoded packet and must not be used.
template <codec_profile Profile>
[[nodiscard]] errc decode_frame_into(std::span<const std::byte> bytes, const frame& f,
                                     const decode_options& opts, packet_view& out) noexcept {
    if (const auto e = check_frame<Profile>(bytes, f, opts, f.type); e != errc::success) return e;
    if (const auto e = check_first_byte(
            static_cast<std::uint8_t>(static_cast<unsigned>(f.type) << 4 | f.flags), opts.version);
        e != errc::success)
        return e;
    const auto body = bytes.first(f.size).subspan(f.header_size);
    using enum packet_type;
    switch (f.type) {
    case connect: return decode_case_into<connect, Profile>(body, f, opts, out);
    case connack: return decode_case_into<connack, Profile>(body, f, opts, out);
    case publish: return decode_case_into<publish, Profile>(body, f, opts, out);
    case puback: return decode_case_into<puback, Profile>(body, f, opts, out);
    case pubrec: return decode_case_into<pubrec, Profile>(body, f, opts, out);
    case pubrel: return decode_case_into<pubrel, Profile>(body, f, opts, out);
    case pubcomp: return decode_case_into<pubcomp, Profile>(body, f, opts, out);
    case subscribe: return decode_case_into<subscribe, Profile>(body, f, opts, out);
    case suback: return decode_case_into<suback, Profile>(body, f, opts, out);
    case unsubscribe: return decode_case_into<unsubscribe, Profile>(body, f, opts, out);
    case unsuback: return decode_case_into<unsuback, Profile>(body, f, opts, out);
    case pingreq: return decode_case_into<pingreq, Profile>(body, f, opts, out);
    case pingresp: return decode_case_into<pingresp, Profile>(body, f, opts, out);
    case disconnect: return decode_case_into<disconnect, Profile>(body, f, opts, out);
    case auth: return decode_case_into<auth, Profile>(body, f, opts, out);
    }
    return errc::malformed_packet;
}

} // namespace mqttwire::detail
