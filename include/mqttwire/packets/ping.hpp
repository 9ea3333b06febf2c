#pragma once
/// @file
/// @brief PINGREQ and PINGRESP (MQTT 3.1.1 sections 3.12-3.13, MQTT 5.0 sections 3.12-3.13):
/// two bytes each, `C0 00` and `D0 00`.

#include "../detail/codec.hpp"

namespace mqttwire {

/// @brief PINGREQ: no variable header, no payload.
struct pingreq_view {
    static constexpr packet_type type = packet_type::pingreq;
    [[nodiscard]] friend constexpr bool operator==(const pingreq_view&,
                                                   const pingreq_view&) noexcept = default;
};
/// @brief PINGRESP: no variable header, no payload.
struct pingresp_view {
    static constexpr packet_type type = packet_type::pingresp;
    [[nodiscard]] friend constexpr bool operator==(const pingresp_view&,
                                                   const pingresp_view&) noexcept = default;
};

namespace detail {

// Remaining length 0 (sections 3.12.1 / 3.13.1); anything else is malformed.
template <class Ctx>
[[nodiscard]] constexpr errc decode_body(reader& r, const Ctx&, pingreq_view&) noexcept {
    return expect_end(r);
}
template <class Ctx>
[[nodiscard]] constexpr errc decode_body(reader& r, const Ctx&, pingresp_view&) noexcept {
    return expect_end(r);
}
template <class W, class Ctx>
[[nodiscard]] constexpr errc encode_body(W&, const pingreq_view&, const Ctx&) noexcept {
    return errc::success;
}
template <class W, class Ctx>
[[nodiscard]] constexpr errc encode_body(W&, const pingresp_view&, const Ctx&) noexcept {
    return errc::success;
}

} // namespace detail
} // namespace mqttwire
