#pragma once
// The one bounded reader. Every read is checked against the bytes it was given; nested lengths
// (strings, property blocks, lists) become sub-readers that cannot see past their own length.
// Running out of bytes inside a packet whose length is known is malformed, not incomplete.

#include <cstddef>
#include <cstdint>
#include <span>

#include "../binary_view.hpp"
#include "../config.hpp"
#include "../errc.hpp"
#include "../utf8.hpp"
#include "../varint.hpp"
#include "scan.hpp"

namespace mqttwire::detail {

class reader {
  public:
    constexpr reader() noexcept = default;
    constexpr explicit reader(std::span<const std::byte> data) noexcept : data_(data) {}
    /// A reader over `data` that has already consumed `position` bytes (precondition:
    /// `position <= data.size()`), to hand a read in progress to another function without the
    /// reader itself escaping.
    constexpr reader(std::span<const std::byte> data, std::size_t position) noexcept
        : data_(data), pos_(position <= data.size() ? position : data.size()) {}
    /// The bytes this reader reads (all of them, read or not).
    [[nodiscard]] constexpr std::span<const std::byte> data() const noexcept { return data_; }

    [[nodiscard]] constexpr std::size_t remaining() const noexcept { return data_.size() - pos_; }
    [[nodiscard]] constexpr bool empty() const noexcept { return remaining() == 0; }
    [[nodiscard]] constexpr std::size_t position() const noexcept { return pos_; }

    [[nodiscard]] MQTTWIRE_FORCE_INLINE constexpr errc u8(std::uint8_t& out) noexcept {
        if (remaining() < 1) return errc::malformed_packet;
        out = static_cast<std::uint8_t>(data_[pos_]);
        ++pos_;
        return errc::success;
    }
    /// The next byte, or -1 when none is left (where u8 reports a Malformed Packet): the byte
    /// comes back in a register, not through memory (smaller callers in size-optimised builds).
    [[nodiscard]] MQTTWIRE_FORCE_INLINE constexpr int byte() noexcept {
        if (remaining() < 1) return -1;
        return static_cast<int>(data_[pos_++]);
    }
    [[nodiscard]] MQTTWIRE_FORCE_INLINE constexpr errc u16(std::uint16_t& out) noexcept {
        if (remaining() < 2) return errc::malformed_packet;
        out = static_cast<std::uint16_t>((static_cast<unsigned>(data_[pos_]) << 8) |
                                         static_cast<unsigned>(data_[pos_ + 1]));
        pos_ += 2;
        return errc::success;
    }
    /// The next two bytes as a big-endian value, or -1 when fewer are left (where u16 reports
    /// a Malformed Packet): the value comes back in a register.
    [[nodiscard]] constexpr int word() noexcept {
        if (remaining() < 2) return -1;
        const int v = static_cast<int>(data_[pos_]) << 8 | static_cast<int>(data_[pos_ + 1]);
        pos_ += 2;
        return v;
    }
    [[nodiscard]] constexpr errc u32(std::uint32_t& out) noexcept {
        if (remaining() < 4) return errc::malformed_packet;
        out = 0;
        for (std::size_t i = 0; i < 4; ++i)
            out = (out << 8) | static_cast<std::uint32_t>(data_[pos_ + i]);
        pos_ += 4;
        return errc::success;
    }
    /// Variable Byte Integer; truncation inside a packet is malformed (MQTT5-1.5.5-1 for the
    /// minimal-form rule). Inline in fast builds: a call would take the reader's address and
    /// keep the whole caller's reader in memory (a 5.0 PUBLISH's Property Length, a CONNACK's).
    [[nodiscard]] MQTTWIRE_FORCE_INLINE constexpr errc varint(std::uint32_t& out) noexcept {
        if (!small_code && remaining() > 0 && static_cast<std::uint8_t>(data_[pos_]) < 0x80) {
            out = static_cast<std::uint8_t>(data_[pos_]);
            ++pos_;
            return errc::success;
        }
        if constexpr (small_code) { // the bytes read in place, the value kept in a register
            std::uint32_t value = 0;
            for (unsigned i = 0; i < 4; ++i) {
                const int b = byte();
                if (b < 0) break;
                value |= (static_cast<std::uint32_t>(b) & 0x7Fu) << (7 * i);
                if ((b & 0x80) == 0) {
                    if (i > 0 && b == 0) break; // MQTT5-1.5.5-1
                    out = value;
                    return errc::success;
                }
            }
            return errc::malformed_packet;
        }
        const auto r = decode_varint(data_.subspan(pos_));
        if (r.status != errc::success) return errc::malformed_packet;
        out = r.value;
        pos_ += r.size;
        return errc::success;
    }
    /// The next `n` bytes.
    [[nodiscard]] MQTTWIRE_FORCE_INLINE constexpr errc
    bytes(std::size_t n, std::span<const std::byte>& out) noexcept {
        if (remaining() < n) return errc::malformed_packet;
        out = data_.subspan(pos_).first(n); // (no dynamic_extent test for `n`)
        pos_ += n;
        return errc::success;
    }
    /// A reader over the next `n` bytes; this reader moves past them.
    [[nodiscard]] MQTTWIRE_FORCE_INLINE constexpr errc sub(std::size_t n, reader& out) noexcept {
        std::span<const std::byte> s;
        if (const auto e = bytes(n, s); e != errc::success) return e;
        out = reader(s);
        return errc::success;
    }
    /// Everything left.
    [[nodiscard]] constexpr std::span<const std::byte> rest() noexcept {
        auto s = data_.subspan(pos_);
        pos_ = data_.size();
        return s;
    }
    /// Two-byte length then that many bytes, unvalidated (a string whose rules the caller
    /// applies, e.g. a Topic Name).
    [[nodiscard]] MQTTWIRE_FORCE_INLINE constexpr errc
    string(std::span<const std::byte>& out) noexcept {
        if constexpr (small_code) { // the length in a register
            const int n = word();
            if (n < 0) return errc::malformed_packet;
            return bytes(static_cast<std::size_t>(n), out);
        }
        std::uint16_t n; // set by u16 before it is read (no store for an initialiser)
        if (const auto e = u16(n); e != errc::success) return e;
        return bytes(n, out);
    }
    /// Two-byte length then that many bytes (Binary Data, MQTT5 1.5.6).
    [[nodiscard]] constexpr errc binary(binary_view& out) noexcept {
        std::span<const std::byte> s;
        if (const auto e = string(s); e != errc::success) return e;
        out = binary_view(s);
        return errc::success;
    }
    /// UTF-8 Encoded String: two-byte length then well-formed UTF-8 (MQTT-1.5.3-1,
    /// MQTT-1.5.3-2, MQTT5-1.5.4-1, MQTT5-1.5.4-2).
    [[nodiscard]] MQTTWIRE_FORCE_INLINE constexpr errc utf8(utf8_view& out,
                                                           const utf8_rules& rules) noexcept {
        std::span<const std::byte> s;
        if (const auto e = string(s); e != errc::success) return e;
        // Plain ASCII, the common case, is checked inline; anything else (and any rule that
        // looks at ASCII characters) takes the full validator.
        if (small_code || std::is_constant_evaluated() || rules.reject_control_characters ||
            !is_plain_text(s)) {
            if (const auto e = validate_utf8(s, rules); e != errc::success) return e;
        }
        out = utf8_view(s);
        return errc::success;
    }

  private:
    std::span<const std::byte> data_{};
    std::size_t pos_ = 0;
};

} // namespace mqttwire::detail
