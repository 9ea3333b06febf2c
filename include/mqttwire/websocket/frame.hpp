#pragma once
/// @file
/// @brief WebSocket frame header (RFC 6455 section 5.2): decode, encode, masking, and whole-frame
/// encoders for data and control frames.
///
/// ```
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-------+-+-------------+-------------------------------+
/// |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
/// |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
/// |N|V|V|V|       |S|             |   (if payload len==126/127)   |
/// | |1|2|3|       |K|             |                               |
/// +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
/// |     Extended payload length continued, if payload len == 127  |
/// + - - - - - - - - - - - - - - - +-------------------------------+
/// |                               | Masking-key, if MASK set to 1 |
/// +-------------------------------+-------------------------------+
/// | Masking-key (continued)       |          Payload Data         |
/// +-------------------------------- - - - - - - - - - - - - - - - +
/// ```
/// Lengths 0-125 fit the 7-bit field; 126 announces a 16-bit length (126-65535), 127 a 64-bit
/// length whose most significant bit is 0 (65536 and up). The shortest form is mandatory
/// ("the minimal number of bytes MUST be used"), so a header is 2 to 14 bytes.

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <type_traits>

#include "../errc.hpp"
#include "../result.hpp"
#include "../utf8.hpp"
#include "close_code.hpp"

namespace mqttwire::ws {

/// @brief Frame opcodes (RFC 6455 section 5.2). 3-7 and 11-15 are reserved.
enum class opcode : std::uint8_t {
    continuation = 0x0,
    text = 0x1,
    binary = 0x2,
    close = 0x8,
    ping = 0x9,
    pong = 0xA,
};

/// @brief True for Close, Ping, Pong and the reserved control opcodes (the high bit of the
/// opcode is set).
[[nodiscard]] constexpr bool is_control(opcode op) noexcept {
    return (static_cast<std::uint8_t>(op) & 0x8u) != 0;
}

/// @brief True for the six opcodes RFC 6455 defines.
[[nodiscard]] constexpr bool is_defined(opcode op) noexcept {
    switch (op) {
    case opcode::continuation:
    case opcode::text:
    case opcode::binary:
    case opcode::close:
    case opcode::ping:
    case opcode::pong: return true;
    }
    return false;
}

/// @brief Which end of the connection this is. Clients mask every frame they send, servers
/// never do (RFC 6455 section 5.1).
enum class role : std::uint8_t { server, client };

/// @brief The 4-byte masking key of a client frame (RFC 6455 section 5.3). The sender picks a
/// fresh, unpredictable key for every frame.
using masking_key = std::array<std::byte, 4>;

/// @brief The longest frame header: 2 bytes, a 64-bit length and a masking key.
inline constexpr std::size_t max_frame_header_size = 14;
/// @brief The largest payload of a control frame (RFC 6455 section 5.5).
inline constexpr std::size_t max_control_payload = 125;
/// @brief The largest payload length a header can carry (the 64-bit form's top bit is 0).
inline constexpr std::uint64_t max_payload_length = 0x7FFF'FFFF'FFFF'FFFFull;

/// @brief A decoded or to-be-encoded frame header.
struct frame_header {
    bool fin = true;
    /// RSV1, RSV2, RSV3 as bits 2, 1, 0. Non-zero only with a negotiated extension; this library
    /// negotiates none.
    std::uint8_t rsv = 0;
    opcode op = opcode::binary;
    bool masked = false;
    std::uint64_t payload_length = 0;
    /// Meaningful when `masked`.
    masking_key key{};

    [[nodiscard]] friend constexpr bool operator==(const frame_header&,
                                                   const frame_header&) noexcept = default;
};

/// @brief The header of a frame `sender` sends: masked with `key` for a client, unmasked for a
/// server.
[[nodiscard]] constexpr frame_header make_header(role sender, opcode op,
                                                 std::uint64_t payload_length,
                                                 masking_key key = {}, bool fin = true) noexcept {
    frame_header h;
    h.fin = fin;
    h.op = op;
    h.masked = sender == role::client;
    h.payload_length = payload_length;
    if (h.masked) h.key = key;
    return h;
}

/// @brief Bytes of the encoded header of `h` (2 to 14).
[[nodiscard]] constexpr std::size_t header_size(const frame_header& h) noexcept {
    const std::size_t ext = h.payload_length < 126 ? 0 : h.payload_length <= 0xFFFF ? 2 : 8;
    return 2 + ext + (h.masked ? 4 : 0);
}

} // namespace mqttwire::ws

namespace mqttwire::detail {

// How the first bytes of a header end: the decoded header, more bytes needed, or a length
// encoding no sender may use.
enum class ws_header_status : std::uint8_t { ok, incomplete, non_minimal_length, length_top_bit };

struct ws_parsed_header {
    ws_header_status status = ws_header_status::incomplete;
    ws::frame_header header{};
    std::size_t size = 0;
};

// Bytes the whole header takes once its first two bytes are known.
[[nodiscard]] constexpr std::size_t ws_header_size_from(std::byte b1) noexcept {
    const auto len7 = static_cast<std::uint8_t>(b1) & 0x7Fu;
    const std::size_t ext = len7 < 126 ? 0 : len7 == 126 ? 2 : 8;
    return 2 + ext + ((static_cast<std::uint8_t>(b1) & 0x80u) != 0 ? 4 : 0);
}

// Decodes the header at the start of `in`. Non-minimal lengths are reported as such (with the
// header filled in) so a lenient caller can accept them; the 64-bit form's top bit never is.
[[nodiscard]] constexpr ws_parsed_header ws_parse_header(std::span<const std::byte> in) noexcept {
    ws_parsed_header r;
    if (in.size() < 2) return r;
    const std::size_t size = ws_header_size_from(in[1]);
    if (in.size() < size) return r;
    const auto b0 = static_cast<std::uint8_t>(in[0]);
    const auto b1 = static_cast<std::uint8_t>(in[1]);
    auto& h = r.header;
    h.fin = (b0 & 0x80u) != 0;
    h.rsv = static_cast<std::uint8_t>((b0 >> 4) & 0x7u);
    h.op = static_cast<ws::opcode>(b0 & 0x0Fu);
    h.masked = (b1 & 0x80u) != 0;
    const auto len7 = static_cast<std::uint8_t>(b1 & 0x7Fu);
    std::size_t at = 2;
    r.status = ws_header_status::ok;
    if (len7 < 126) {
        h.payload_length = len7;
    } else {
        const std::size_t n = len7 == 126 ? 2 : 8;
        std::uint64_t v = 0;
        for (std::size_t i = 0; i < n; ++i) v = (v << 8) | static_cast<std::uint64_t>(in[at + i]);
        at += n;
        h.payload_length = v;
        if (n == 8 && v > ws::max_payload_length) r.status = ws_header_status::length_top_bit;
        else if (n == 2 ? v < 126 : v <= 0xFFFF) r.status = ws_header_status::non_minimal_length;
    }
    if (h.masked)
        for (std::size_t i = 0; i < 4; ++i) h.key[i] = in[at + i];
    r.size = size;
    return r;
}

// Copies `in` to the start of `out`, XORing byte i with key[(phase + i) % 4] when `key` is
// given. `out` may be the same buffer as `in` starting at or before it (the deframer compacts
// payloads over the headers that preceded them): every byte is read before anything at or
// after its position is written.
constexpr void ws_unmask_move(std::span<const std::byte> in, std::span<std::byte> out,
                              const ws::masking_key* key, std::size_t phase) noexcept {
    const std::size_t n = in.size();
    if (n == 0) return;
    if (std::is_constant_evaluated()) {
        for (std::size_t i = 0; i < n; ++i)
            out[i] = key != nullptr ? in[i] ^ (*key)[(phase + i) & 3u] : in[i];
        return;
    }
    if (key == nullptr) {
        std::memmove(out.data(), in.data(), n);
        return;
    }
    // Eight bytes at a time: the key pattern repeats every four bytes, so one 64-bit mask
    // (built in memory order, hence independent of endianness) serves every word.
    std::byte pattern[8] = {};
    for (std::size_t k = 0; k < 8; ++k) pattern[k] = (*key)[(phase + k) & 3u];
    std::uint64_t mask = 0;
    std::memcpy(&mask, pattern, sizeof mask);
    std::size_t i = 0;
    for (; n - i >= 8; i += 8) {
        std::uint64_t w = 0;
        std::memcpy(&w, in.subspan(i, 8).data(), sizeof w);
        w ^= mask;
        std::memcpy(out.subspan(i, 8).data(), &w, sizeof w);
    }
    for (; i < n; ++i) out[i] = in[i] ^ (*key)[(phase + i) & 3u];
}

// UTF-8 as RFC 6455 section 8.1 means it: well-formed, U+0000 included (the MQTT rules that
// validate_utf8 applies forbid U+0000, a single byte that never occurs inside a multi-byte
// sequence, so the text is checked piecewise around it).
[[nodiscard]] constexpr bool ws_valid_utf8(std::span<const std::byte> s) noexcept {
    std::size_t start = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != std::byte{0}) continue;
        if (validate_utf8(s.subspan(start, i - start)) != errc::success) return false;
        start = i + 1;
    }
    return validate_utf8(s.subspan(start)) == errc::success;
}

} // namespace mqttwire::detail

namespace mqttwire::ws {

/// @brief Decodes the frame header at the start of `in`, strictly.
///
/// @return the header; `errc::incomplete` when `in` ends inside it (a header never needs more
/// than `max_frame_header_size` bytes);
/// `errc::malformed_packet` for a length not in its shortest form or a 64-bit length with the
/// top bit set (RFC 6455 section 5.2). RSV bits, opcodes and masking are reported as read: the
/// `deframer` applies the rules that depend on the connection.
/// Example:
/// @code
/// auto h = mqttwire::ws::decode_frame_header(bytes);
/// if (h) skip(mqttwire::ws::header_size(*h) + h->payload_length);
/// @endcode
[[nodiscard]] constexpr result<frame_header> decode_frame_header(
    std::span<const std::byte> in) noexcept {
    const auto p = detail::ws_parse_header(in);
    switch (p.status) {
    case detail::ws_header_status::ok: return p.header;
    case detail::ws_header_status::incomplete: return errc::incomplete;
    case detail::ws_header_status::non_minimal_length:
    case detail::ws_header_status::length_top_bit: break;
    }
    return errc::malformed_packet;
}

/// @brief XORs `data` in place with `key`, starting at key position `offset % 4` (the number of
/// payload bytes of the same frame before `data`). Masking and unmasking are the same operation.
constexpr void apply_mask(std::span<std::byte> data, const masking_key& key,
                          std::size_t offset = 0) noexcept {
    detail::ws_unmask_move(data, data, &key, offset & 3u);
}

} // namespace mqttwire::ws

namespace mqttwire::detail {
// The header rules an encoder keeps so that a strict receiver accepts what it sends.
[[nodiscard]] constexpr bool ws_sendable(const ws::frame_header& h) noexcept {
    if (h.rsv != 0 || !is_defined(h.op)) return false;
    if (h.payload_length > ws::max_payload_length) return false;
    if (is_control(h.op) && (!h.fin || h.payload_length > ws::max_control_payload)) return false;
    return true;
}
} // namespace mqttwire::detail

namespace mqttwire::ws {

/// @brief Writes the header `h` to the start of `out`; the payload (masked by the caller with
/// `apply_mask` when `h.masked`) follows it on the wire.
///
/// This is the server's zero-copy path for data frames: header into a small buffer, payload
/// sent from where it already is.
/// @return the header size (`header_size(h)`); `errc::invalid_argument` for a header a strict
/// receiver refuses (RSV bits, a reserved opcode, a control frame that is fragmented or has
/// more than 125 bytes, a length above 2^63 - 1); `errc::buffer_too_small` when `out` is
/// shorter than the header, with nothing written.
[[nodiscard]] constexpr result<std::size_t> encode_frame_header(const frame_header& h,
                                                                std::span<std::byte> out) noexcept {
    if (!detail::ws_sendable(h)) return errc::invalid_argument;
    const std::size_t size = header_size(h);
    if (out.size() < size) return errc::buffer_too_small;
    out[0] = static_cast<std::byte>((h.fin ? 0x80u : 0u) | static_cast<unsigned>(h.op));
    const unsigned mask_bit = h.masked ? 0x80u : 0u;
    std::size_t at = 2;
    if (h.payload_length < 126) {
        out[1] = static_cast<std::byte>(mask_bit | static_cast<unsigned>(h.payload_length));
    } else {
        const std::size_t n = h.payload_length <= 0xFFFF ? 2 : 8;
        out[1] = static_cast<std::byte>(mask_bit | (n == 2 ? 126u : 127u));
        for (std::size_t i = 0; i < n; ++i)
            out[at + i] = static_cast<std::byte>((h.payload_length >> (8 * (n - 1 - i))) & 0xFFu);
        at += n;
    }
    if (h.masked)
        for (std::size_t i = 0; i < 4; ++i) out[at + i] = h.key[i];
    return size;
}

/// @brief Bytes of the whole frame (header and payload) for `h`.
/// @return `errc::invalid_argument` for a header `encode_frame_header` refuses or a frame larger
/// than `std::size_t` can count (a 32-bit target).
[[nodiscard]] constexpr result<std::size_t> frame_size(const frame_header& h) noexcept {
    if (!detail::ws_sendable(h)) return errc::invalid_argument;
    const std::size_t head = header_size(h);
    if (h.payload_length > static_cast<std::uint64_t>(SIZE_MAX - head))
        return errc::invalid_argument;
    return head + static_cast<std::size_t>(h.payload_length);
}

/// @brief Writes a whole frame: the header `h`, then `payload`, masked with `h.key` when
/// `h.masked` (a client's frame), into `out`. `payload` is only read; it may not overlap `out`.
/// @return the frame size (`frame_size(h)`); `errc::invalid_argument` when `payload.size()`
/// differs from `h.payload_length` or `frame_size` refuses `h`; `errc::buffer_too_small` with
/// nothing written.
/// Example (a client sending one MQTT packet; `key` comes from a random source):
/// @code
/// const auto h = ws::make_header(ws::role::client, ws::opcode::binary, packet.size(), key);
/// auto n = ws::encode_frame(h, packet, out);
/// @endcode
[[nodiscard]] constexpr result<std::size_t> encode_frame(const frame_header& h,
                                                         std::span<const std::byte> payload,
                                                         std::span<std::byte> out) noexcept {
    if (payload.size() != h.payload_length) return errc::invalid_argument;
    const auto size = frame_size(h);
    if (!size) return size;
    if (out.size() < *size) return errc::buffer_too_small;
    const auto head = encode_frame_header(h, out);
    if (!head) return head;
    detail::ws_unmask_move(payload, out.subspan(*head), h.masked ? &h.key : nullptr, 0);
    return size;
}

} // namespace mqttwire::ws

namespace mqttwire::detail {
// The one path behind close_frame_size and encode_close_frame: measures, and writes when `out`
// is given.
[[nodiscard]] constexpr result<std::size_t> ws_close_frame(ws::role sender, ws::close_code code,
                                                           std::string_view reason,
                                                           const ws::masking_key& key,
                                                           std::span<std::byte>* out) noexcept {
    using namespace ws;
    if (code == close_code::none) {
        if (!reason.empty()) return errc::invalid_argument;
    } else if (!may_appear_on_wire(code) || reason.size() > max_control_payload - 2) {
        return errc::invalid_argument;
    }
    std::array<std::byte, max_control_payload> body{};
    std::size_t n = 0;
    if (code != close_code::none) {
        const auto c = static_cast<std::uint16_t>(code);
        body[0] = static_cast<std::byte>(c >> 8);
        body[1] = static_cast<std::byte>(c & 0xFFu);
        n = 2;
        for (const char ch : reason) body[n++] = static_cast<std::byte>(ch);
        if (!ws_valid_utf8(std::span<const std::byte>(body).subspan(2, n - 2)))
            return errc::invalid_argument;
    }
    const auto h = make_header(sender, opcode::close, n, key);
    if (out == nullptr) return frame_size(h);
    return encode_frame(h, std::span<const std::byte>(body).first(n), *out);
}
} // namespace mqttwire::detail

namespace mqttwire::ws {

/// @brief Bytes of the Close frame `encode_close_frame` writes for these arguments.
[[nodiscard]] constexpr result<std::size_t> close_frame_size(role sender, close_code code,
                                                             std::string_view reason = {}) noexcept {
    return detail::ws_close_frame(sender, code, reason, {}, nullptr);
}

/// @brief Writes a Close frame (RFC 6455 section 5.5.1): the status code and a UTF-8 reason, or
/// an empty body for `close_code::none`; masked with `key` when `sender` is a client.
/// @return the frame size; `errc::invalid_argument` for a code that may not be sent (see
/// `may_appear_on_wire`), a reason with `close_code::none`, a reason over 123 bytes or not
/// UTF-8; `errc::buffer_too_small` with nothing written.
[[nodiscard]] constexpr result<std::size_t> encode_close_frame(role sender, close_code code,
                                                               std::string_view reason,
                                                               std::span<std::byte> out,
                                                               masking_key key = {}) noexcept {
    return detail::ws_close_frame(sender, code, reason, key, &out);
}

} // namespace mqttwire::ws
