#pragma once
// The one writer. `writer<counting_sink>` measures, `writer<span_sink>` writes; packet encoders
// are templates over the writer, so size and bytes come from one code path.

#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>

#include "../binary_view.hpp"
#include "../errc.hpp"
#include "../utf8.hpp"
#include "../varint.hpp"
#include "byte_text.hpp"

namespace mqttwire::detail {

struct counting_sink {
    std::size_t count = 0;
    constexpr void put(std::byte) noexcept { ++count; }
    constexpr void put_text(const byte_text& t) noexcept { count += t.size(); }
    constexpr void skip(std::size_t n) noexcept { count += n; }
};

// Writes into a span; never writes past its end (a write that does not fit sets `overflow`).
struct span_sink {
    std::span<std::byte> out;
    std::size_t count = 0;
    bool overflow = false;
    constexpr void put(std::byte b) noexcept {
        if (count >= out.size()) {
            overflow = true;
            return;
        }
        out[count++] = b;
    }
    constexpr void put_text(const byte_text& t) noexcept {
        if (out.size() - count < t.size()) {
            overflow = true;
            return;
        }
        t.copy_to(out.subspan(count, t.size()));
        count += t.size();
    }
};

template <class Sink> class writer {
  public:
    static constexpr bool counting = std::is_same_v<Sink, counting_sink>;

    constexpr explicit writer(Sink& sink) noexcept : sink_(sink) {}

    constexpr void u8(std::uint8_t v) noexcept { sink_.put(std::byte{v}); }
    constexpr void u16(std::uint16_t v) noexcept {
        sink_.put(static_cast<std::byte>(v >> 8));
        sink_.put(static_cast<std::byte>(v & 0xFFu));
    }
    constexpr void u32(std::uint32_t v) noexcept {
        for (int shift = 24; shift >= 0; shift -= 8)
            sink_.put(static_cast<std::byte>((v >> shift) & 0xFFu));
    }
    /// Precondition: v <= varint_max (callers check and report packet_too_large / malformed).
    constexpr void varint(std::uint32_t v) noexcept {
        do {
            auto b = static_cast<std::uint8_t>(v & 0x7Fu);
            v >>= 7;
            if (v != 0) b = static_cast<std::uint8_t>(b | 0x80u);
            sink_.put(std::byte{b});
        } while (v != 0);
    }
    constexpr void raw(const byte_text& t) noexcept { sink_.put_text(t); }
    constexpr void raw(std::span<const std::byte> s) noexcept { sink_.put_text(byte_text(s)); }

    /// Two-byte length and the bytes; strings longer than 65535 bytes cannot be encoded.
    [[nodiscard]] constexpr errc binary(const binary_view& b) noexcept {
        if (b.size() > 0xFFFFu) return errc::malformed_packet;
        u16(static_cast<std::uint16_t>(b.size()));
        raw(b.text());
        return errc::success;
    }
    /// UTF-8 Encoded String; the text is validated so the encoder never emits what the decoder
    /// would reject (MQTT-1.5.3-1, MQTT5-1.5.4-1).
    [[nodiscard]] constexpr errc utf8(const utf8_view& s) noexcept {
        if (s.size() > 0xFFFFu) return errc::malformed_packet;
        // The counting pass always runs first (encode measures before it writes), so the text is
        // validated once.
        if constexpr (counting) {
            if (const auto e = validate_utf8(s); e != errc::success) return e;
        }
        u16(static_cast<std::uint16_t>(s.size()));
        raw(s.text());
        return errc::success;
    }

    [[nodiscard]] constexpr Sink& sink() noexcept { return sink_; }

  private:
    Sink& sink_;
};

} // namespace mqttwire::detail
