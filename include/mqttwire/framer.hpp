#pragma once
/// @file
/// @brief Finds packet boundaries in a byte stream before anything is decoded or buffered.

#include <cstddef>
#include <cstdint>
#include <span>

#include "errc.hpp"
#include "fixed_header.hpp"
#include "options.hpp"

namespace mqttwire {

/// @brief What the framer knows about the next packet in a stream.
struct frame {
    /// `success`: `size` bytes form the next packet and are all buffered.
    /// `incomplete`: more bytes are needed; `size` is the whole packet's size once the fixed
    /// header is readable (0 before). `malformed_packet`: a fifth length byte or a non-minimal
    /// length. `packet_too_large`: the packet would exceed the maximum; nothing more need be read.
    errc status = errc::incomplete;
    std::size_t size = 0;
    std::size_t header_size = 0;
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
    if (buffered.size() < size) return {errc::incomplete, size, h->header_size};
    return {errc::success, size, h->header_size};
}

/// @brief A stateless framer bound to a maximum packet size.
class framer {
  public:
    constexpr explicit framer(std::uint32_t max_packet_size = max_packet_size_limit) noexcept
        : max_(max_packet_size) {}
    [[nodiscard]] constexpr frame next(std::span<const std::byte> buffered) const noexcept {
        return next_frame(buffered, max_);
    }
    [[nodiscard]] constexpr std::uint32_t max_packet_size() const noexcept { return max_; }

  private:
    std::uint32_t max_;
};

} // namespace mqttwire
