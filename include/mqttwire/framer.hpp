#pragma once
/// @file
/// @brief Finds packet boundaries in a byte stream before anything is decoded or buffered.

#include <cstddef>
#include <cstdint>
#include <span>

#include "byte_buffer.hpp"
#include "errc.hpp"
#include "fixed_header.hpp"
#include "options.hpp"

namespace mqttwire {

/// @brief What the framer knows about the next packet in a stream.
struct frame {
    /// `success`: `size` bytes form the next packet and are all buffered.
    /// `incomplete`: more bytes are needed; `size` is the whole packet's size once the fixed
    /// header is readable (0 before). `malformed_packet`: a fifth length byte or a non-minimal
    /// length (and, from `next_frame(bytes, decode_options)`, reserved flag bits). 
    /// `packet_too_large`: the packet would exceed the maximum; nothing more need be read.
    errc status = errc::incomplete;
    std::size_t size = 0;
    std::size_t header_size = 0;
    packet_type type{};     ///< bits 7-4 of the first byte, once the fixed header is readable
    std::uint8_t flags = 0; ///< bits 3-0 of the first byte, likewise
    /// @brief The Remaining Length: the bytes after the fixed header.
    [[nodiscard]] constexpr std::size_t remaining_length() const noexcept {
        return size - header_size;
    }
};

/// @brief Tells where the packet at the start of `buffered` ends.
///
/// The size limit applies as soon as the Remaining Length is readable, so an oversized packet is
/// refused after at most five bytes (MQTT 5.0 section 3.1.2.11.4; the mosquitto CVE-2017-7651
/// class of bug is buffering first).
/// Example:
/// @code
/// auto f = mqttwire::next_frame(buf, 1 << 20);
/// if (f.status == mqttwire::errc::success) consume(buf.first(f.size));
/// @endcode
[[nodiscard]] constexpr frame next_frame(std::span<const std::byte> buffered,
                                         std::uint32_t max_packet_size = max_packet_size_limit) noexcept {
    const auto h = read_fixed_header(buffered, max_packet_size);
    if (!h) return {h.error(), 0, 0};
    const auto size = h->packet_size();
    return {buffered.size() < size ? errc::incomplete : errc::success, size, h->header_size,
            h->type, h->flags};
}

/// @brief `next_frame` under the same options `decode_frame` will use: the maximum packet size
/// is `opts.max_packet_size`, and the first byte's reserved flags are checked for
/// `opts.version` as soon as it arrives (MQTT-2.2.2-2, MQTT5-2.1.3-1).
/// @return as `next_frame`, plus `errc::malformed_packet` for a first byte `check_first_byte`
/// refuses, and `errc::invalid_argument` for an unknown `opts.version`.
[[nodiscard]] constexpr frame next_frame(std::span<const std::byte> buffered,
                                         const decode_options& opts) noexcept {
    if (!is_known_version(opts.version)) return {errc::invalid_argument, 0, 0};
    if (!buffered.empty()) {
        if (const auto e = check_first_byte(static_cast<std::uint8_t>(buffered[0]), opts.version);
            e != errc::success)
            return {e, 0, 0};
    }
    return next_frame(buffered, opts.max_packet_size);
}

/// @brief A stateless framer bound to a maximum packet size.
class framer {
  public:
    constexpr explicit framer(std::uint32_t max_packet_size = max_packet_size_limit) noexcept
        : max_(max_packet_size) {}
    /// @brief Bound to the decoder's own limit, so the maximum is given once.
    constexpr explicit framer(const decode_options& opts) noexcept
        : max_(opts.max_packet_size) {}
    [[nodiscard]] constexpr frame next(std::span<const std::byte> buffered) const noexcept {
        return next_frame(buffered, max_);
    }
    [[nodiscard]] constexpr std::uint32_t max_packet_size() const noexcept { return max_; }

  private:
    std::uint32_t max_;
};

/// @brief `next_frame` over a `byte_like` buffer (run time only).
template <byte_like_input Range>
[[nodiscard]] inline frame next_frame(Range&& buffered,
                                      std::uint32_t max_packet_size = max_packet_size_limit) noexcept {
    return next_frame(detail::as_input(buffered), max_packet_size);
}
/// @overload
template <byte_like_input Range>
[[nodiscard]] inline frame next_frame(Range&& buffered, const decode_options& opts) noexcept {
    return next_frame(detail::as_input(buffered), opts);
}

} // namespace mqttwire
