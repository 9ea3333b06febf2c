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
    constexpr void put_small(std::span<const std::byte> s) noexcept { count += s.size(); }
    template <std::size_t N> constexpr void put_fixed(const std::byte (&)[N]) noexcept {
        count += N;
    }
    constexpr void put_text(const byte_text& t) noexcept { count += t.size(); }
    constexpr void skip(std::size_t n) noexcept { count += n; }
};

// Counts like counting_sink, but a writer over it is not a counting writer: it validates
// nothing. For sizes needed again while writing (a property block's length), after the counting
// pass has validated everything; the same encoder code measures, so the sizes agree.
struct recount_sink {
    std::size_t count = 0;
    constexpr void put(std::byte) noexcept { ++count; }
    constexpr void put_small(std::span<const std::byte> s) noexcept { count += s.size(); }
    template <std::size_t N> constexpr void put_fixed(const std::byte (&)[N]) noexcept {
        count += N;
    }
    constexpr void put_text(const byte_text& t) noexcept { count += t.size(); }
    constexpr void skip(std::size_t n) noexcept { count += n; }
};

// Writes into a span; never writes past its end (a write that does not fit sets `overflow`).
// Multi-byte fields are one bounds check and one update of `count` each; the position is kept in
// a local while bytes are stored (a byte store may alias the sink itself).
struct span_sink {
    std::span<std::byte> out;
    std::size_t count = 0;
    bool overflow = false;
    constexpr void put(std::byte b) noexcept {
        const std::size_t at = count;
        if (at >= out.size()) {
            overflow = true;
            return;
        }
        count = at + 1;
        out[at] = b;
    }
    /// A few bytes (fixed-size integers, variable byte integers).
    constexpr void put_small(std::span<const std::byte> s) noexcept {
        const std::size_t at = count;
        if (out.size() - at < s.size()) {
            overflow = true;
            return;
        }
        count = at + s.size();
        const auto dst = out.subspan(at, s.size());
        for (std::size_t i = 0; i < s.size(); ++i) dst[i] = s[i];
    }
    /// Exactly N bytes (fixed-size integers): one check, N stores.
    template <std::size_t N> constexpr void put_fixed(const std::byte (&b)[N]) noexcept {
        const std::size_t at = count;
        if (out.size() - at < N) {
            overflow = true;
            return;
        }
        count = at + N;
        const auto dst = out.subspan(at, N);
        for (std::size_t i = 0; i < N; ++i) dst[i] = b[i];
    }
    constexpr void put_text(const byte_text& t) noexcept {
        const std::size_t at = count;
        const std::size_t n = t.size();
        if (out.size() - at < n) {
            overflow = true;
            return;
        }
        count = at + n;
        t.copy_to(out.subspan(at, n));
    }
    // Only a counting pass skips what it has measured; a writing pass never does, and if it did
    // the bytes would be missing, so the encode fails.
    constexpr void skip(std::size_t) noexcept { overflow = true; }
};

// Counts, then writes: size-optimised builds (MQTTWIRE_SMALL) measure and write with this one
// sink, so every packet's encoder is instantiated once instead of twice. Without an output span
// it is the counting pass; with one it is the writing pass; the validations run in both (the
// writing pass repeats what the counting pass accepted, with no test of which pass it is). Every
// byte is counted, and stored only while it fits, so a write that does not fit never reaches
// past `out` and shows as a count larger than `out` (the encode driver compares the two). Text is
// counted a byte at a time in the counting pass too: one loop.
struct flex_sink {
    constexpr flex_sink() noexcept = default;                         // counting
    constexpr explicit flex_sink(std::span<std::byte> o) noexcept : out(o) {}
    std::span<std::byte> out{};
    std::size_t count = 0;
    [[nodiscard]] constexpr bool writing() const noexcept { return !out.empty(); }
    constexpr void put(std::byte b) noexcept {
        if (count < out.size()) out[count] = b;
        ++count;
    }
    constexpr void put_small(std::span<const std::byte> s) noexcept {
        for (const auto b : s) put(b);
    }
    template <std::size_t N> constexpr void put_fixed(const std::byte (&b)[N]) noexcept {
        put_small(b);
    }
    constexpr void put_text(const byte_text& t) noexcept {
        if (std::is_constant_evaluated()) {
            for (std::size_t i = 0; i < t.size(); ++i) put(std::byte{t.at(i)});
        } else {
            put_small(t.as_bytes());
        }
    }
    constexpr void skip(std::size_t n) noexcept { count += n; }
};

// A write that did not fit (span_sink); a flex_sink shows it in its count instead.
template <class Sink> [[nodiscard]] constexpr bool sink_overflowed(const Sink& s) noexcept {
    if constexpr (requires { s.overflow; })
        return s.overflow;
    else
        return false;
}

template <class Sink> class writer {
  public:
    /// The counting pass: measures and validates. A constant: with flex_sink (size-optimised
    /// builds) both passes validate, the writing pass again (the same checks pass again; no test
    /// of which pass it is).
    static constexpr bool counting = std::is_same_v<Sink, counting_sink>;
    [[nodiscard]] constexpr bool validating() const noexcept {
        if constexpr (std::is_same_v<Sink, flex_sink>)
            return true;
        else
            return counting;
    }

    constexpr explicit writer(Sink& sink) noexcept : sink_(sink) {}

    constexpr void u8(std::uint8_t v) noexcept { sink_.put(std::byte{v}); }
    constexpr void u16(std::uint16_t v) noexcept {
        const std::byte b[2] = {static_cast<std::byte>(v >> 8), static_cast<std::byte>(v & 0xFFu)};
        sink_.put_fixed(b);
    }
    constexpr void u32(std::uint32_t v) noexcept {
        const std::byte b[4] = {
            static_cast<std::byte>((v >> 24) & 0xFFu), static_cast<std::byte>((v >> 16) & 0xFFu),
            static_cast<std::byte>((v >> 8) & 0xFFu), static_cast<std::byte>(v & 0xFFu)};
        sink_.put_fixed(b);
    }
    /// Precondition: v <= varint_max (callers check and report packet_too_large / malformed).
    constexpr void varint(std::uint32_t v) noexcept {
        if constexpr (small_code) { // one loop of byte stores, no staging array
            do {
                auto x = static_cast<std::uint8_t>(v & 0x7Fu);
                v >>= 7;
                if (v != 0) x = static_cast<std::uint8_t>(x | 0x80u);
                sink_.put(std::byte{x});
            } while (v != 0);
            return;
        }
        if (v < 0x80u) { // one byte: lengths of small packets and property blocks
            sink_.put(static_cast<std::byte>(v));
            return;
        }
        std::byte b[4] = {};
        std::size_t n = 0;
        do {
            auto x = static_cast<std::uint8_t>(v & 0x7Fu);
            v >>= 7;
            if (v != 0) x = static_cast<std::uint8_t>(x | 0x80u);
            b[n++] = std::byte{x};
        } while (v != 0 && n < 4);
        sink_.put_small(std::span<const std::byte>(b).first(n));
    }
    constexpr void raw(const byte_text& t) noexcept { sink_.put_text(t); }
    constexpr void raw(std::span<const std::byte> s) noexcept { sink_.put_text(byte_text(s)); }

    /// Two-byte length and the bytes; strings longer than 65535 bytes cannot be encoded.
    [[nodiscard]] constexpr errc binary(const binary_view& b) noexcept {
        return length_prefixed(b.text());
    }
    /// UTF-8 Encoded String; the text is validated so the encoder never emits what the decoder
    /// would reject (MQTT-1.5.3-1, MQTT5-1.5.4-1).
    [[nodiscard]] constexpr errc utf8(const utf8_view& s) noexcept {
        // The length first (malformed when it does not fit), then the text. The counting pass
        // always runs first (encode measures before it writes), so the text is validated once,
        // before anything is written.
        if (const auto e = checked_utf8(s); e != errc::success) return e;
        if (validating()) {
            // Plain ASCII (the common case) is well-formed as it is; anything else takes the
            // full validator.
            if (small_code || std::is_constant_evaluated() || !is_plain_text(s.bytes()))
                return validate_utf8(s);
        }
        return errc::success;
    }
    /// A UTF-8 Encoded String whose text the caller has already validated in the counting pass
    /// (e.g. a Topic Name checked by the topic rules, which include UTF-8).
    [[nodiscard]] constexpr errc checked_utf8(const utf8_view& s) noexcept {
        return length_prefixed(s.text());
    }
    /// Two-byte length and the bytes (a string or Binary Data, one function for both).
    [[nodiscard]] constexpr errc length_prefixed(const byte_text& t) noexcept {
        if (t.size() > 0xFFFFu) return errc::malformed_packet;
        u16(static_cast<std::uint16_t>(t.size()));
        raw(t);
        return errc::success;
    }

    [[nodiscard]] constexpr Sink& sink() noexcept { return sink_; }

  private:
    Sink& sink_;
};

} // namespace mqttwire::detail
