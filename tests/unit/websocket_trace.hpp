#pragma once
// WebSocket deframing as a transport does it, and a reference to compare it with. Shared by
// the unit tests, the property tests and the fuzz target (no test framework needed).
//
//   * ws_deframe: feeds bytes to a ws::deframer in chunks, either in place (each chunk lands in
//     one buffer right after the stream decoded so far, and the deframer writes the stream over
//     it, as a broker does with its input buffer) or into a separate small output buffer
//     drained after every call (a device with a small packet buffer), and records the stream
//     and the events.
//   * ws_reference_deframe: the same outcome computed the plain way, from the whole input at
//     once, one frame after another, byte by byte. It shares no code with the deframer.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include <mqttwire.hpp>

namespace mqttwire::test {

struct ws_event {
    ws::deframe_event kind = ws::deframe_event::none;
    ws::close_code code = ws::close_code::none;
    std::vector<std::byte> payload;
    bool operator==(const ws_event&) const = default;
};

struct ws_trace {
    std::vector<std::byte> data;  // the unmasked bytes of the binary messages, in order
    std::vector<ws_event> events; // every event, including any (wrongly) reported after the end
    bool ended = false;
    bool stalled = false; // a call made no progress although input remained
    bool operator==(const ws_trace&) const = default;
};

enum class ws_feed { in_place, separate };

inline void ws_record(ws_trace& t, const ws::deframe_result& r) {
    if (r.event == ws::deframe_event::none) return;
    t.events.push_back({r.event, r.code, {r.payload.begin(), r.payload.end()}});
}

// Feeds `wire` to `d` in chunks of the sizes in `chunks` (cycled; 0 counts as 1; empty: all
// at once). `out_capacity` is the output buffer of the separate mode.
inline ws_trace ws_deframe(ws::deframer& d, std::span<const std::byte> wire,
                           std::span<const std::size_t> chunks = {},
                           ws_feed mode = ws_feed::in_place, std::size_t out_capacity = 64) {
    ws_trace t;
    std::vector<std::byte> buf;    // in place: decoded stream, then the chunk being decoded
    std::vector<std::byte> out(out_capacity == 0 ? 1 : out_capacity);
    std::size_t pos = 0;
    std::size_t k = 0;
    while (pos < wire.size() && !t.stalled) {
        std::size_t c = chunks.empty() ? wire.size() : chunks[k++ % chunks.size()];
        c = std::min(c == 0 ? std::size_t{1} : c, wire.size() - pos);
        const auto chunk = wire.subspan(pos, c);
        pos += c;
        if (mode == ws_feed::in_place) {
            // `buf` holds exactly the stream decoded so far: every chunk is used up.
            const std::size_t stream = buf.size();
            buf.insert(buf.end(), chunk.begin(), chunk.end());
            std::size_t in_at = stream;
            std::size_t out_at = stream;
            while (in_at < buf.size()) {
                const auto r = d.decode(std::span<const std::byte>(buf).subspan(in_at),
                                        std::span<std::byte>(buf).subspan(out_at));
                if (r.consumed == 0 && r.event == ws::deframe_event::none) {
                    t.stalled = true;
                    break;
                }
                in_at += r.consumed;
                out_at += r.produced;
                ws_record(t, r);
            }
            buf.resize(out_at);
        } else {
            std::size_t in_at = 0;
            while (in_at < chunk.size()) {
                const auto r = d.decode(chunk.subspan(in_at), out);
                if (r.consumed == 0 && r.produced == 0 && r.event == ws::deframe_event::none) {
                    t.stalled = true;
                    break;
                }
                in_at += r.consumed;
                t.data.insert(t.data.end(), out.begin(),
                              out.begin() + static_cast<std::ptrdiff_t>(r.produced));
                ws_record(t, r);
            }
        }
    }
    if (mode == ws_feed::in_place) t.data = std::move(buf);
    t.ended = d.ended();
    return t;
}

inline ws_trace ws_deframe(const ws::deframer_options& o, std::span<const std::byte> wire,
                           std::span<const std::size_t> chunks = {},
                           ws_feed mode = ws_feed::in_place, std::size_t out_capacity = 64) {
    ws::deframer d(o);
    return ws_deframe(d, wire, chunks, mode, out_capacity);
}

// RFC 6455 UTF-8 (U+0000 allowed), checked by decoding code points.
inline bool ws_reference_utf8(std::span<const std::byte> s) {
    std::size_t i = 0;
    while (i < s.size()) {
        const auto b = static_cast<std::uint32_t>(s[i]);
        std::size_t len = 0;
        std::uint32_t cp = 0;
        if (b < 0x80) len = 1, cp = b;
        else if ((b & 0xE0) == 0xC0) len = 2, cp = b & 0x1F;
        else if ((b & 0xF0) == 0xE0) len = 3, cp = b & 0x0F;
        else if ((b & 0xF8) == 0xF0) len = 4, cp = b & 0x07;
        else return false;
        if (s.size() - i < len) return false;
        for (std::size_t k = 1; k < len; ++k) {
            const auto c = static_cast<std::uint32_t>(s[i + k]);
            if ((c & 0xC0) != 0x80) return false;
            cp = cp << 6 | (c & 0x3F);
        }
        const std::uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < min[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
        i += len;
    }
    return true;
}

// The outcome of deframing all of `wire` at once, computed frame by frame. The rules are
// checked in the order the deframer documents (first the two leading bytes: RSV, opcode,
// masking, control-frame shape, fragmentation, text; then the length; then the message size),
// so a frame that breaks several rules gets the same code.
inline ws_trace ws_reference_deframe(const ws::deframer_options& o,
                                     std::span<const std::byte> wire) {
    using ws::close_code;
    ws_trace t;
    const auto at = [&](std::size_t i) { return static_cast<std::uint8_t>(wire[i]); };
    const auto fail = [&](close_code c) {
        t.events.push_back({ws::deframe_event::fail, c, {}});
        t.ended = true;
    };
    bool fragmented = false;
    std::uint64_t message = 0;
    std::size_t i = 0;
    while (!t.ended && wire.size() - i >= 2) {
        const bool fin = (at(i) & 0x80) != 0;
        const unsigned rsv = (at(i) >> 4) & 7u;
        const unsigned op = at(i) & 0x0Fu;
        const bool masked = (at(i + 1) & 0x80) != 0;
        const unsigned len7 = at(i + 1) & 0x7Fu;
        const bool control = op >= 8;
        const bool defined = op <= 2 || (op >= 8 && op <= 10);
        const bool mask_expected = o.local == ws::role::server;
        if (rsv != 0 || !defined) { fail(close_code::protocol_error); break; }
        if (masked != mask_expected && !o.accept_wrong_masking) {
            fail(close_code::protocol_error);
            break;
        }
        if (control && (!fin || len7 > 125)) { fail(close_code::protocol_error); break; }
        if (!control && (op == 0) != fragmented) { fail(close_code::protocol_error); break; }
        if (op == 1 && !o.accept_text_frames) { fail(close_code::unsupported_data); break; }
        const std::size_t ext = len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
        const std::size_t head = 2 + ext + (masked ? 4 : 0);
        if (wire.size() - i < head) break;
        std::uint64_t len = len7;
        if (ext != 0) {
            len = 0;
            for (std::size_t k = 0; k < ext; ++k) len = len << 8 | at(i + 2 + k);
            if (ext == 8 && (len >> 63) != 0) { fail(close_code::protocol_error); break; }
            const bool minimal = ext == 2 ? len >= 126 : len > 0xFFFF;
            if (!minimal && !o.accept_non_minimal_length) {
                fail(close_code::protocol_error);
                break;
            }
        }
        std::uint8_t key[4] = {};
        if (masked)
            for (std::size_t k = 0; k < 4; ++k) key[k] = at(i + 2 + ext + k);
        i += head;
        const std::size_t left = wire.size() - i;
        const std::size_t take = len < left ? static_cast<std::size_t>(len) : left;
        std::vector<std::byte> payload(take);
        for (std::size_t k = 0; k < take; ++k)
            payload[k] = static_cast<std::byte>(at(i + k) ^ (masked ? key[k % 4] : 0));
        if (control) {
            if (take < len) break;
            i += take;
            if (op == 9 || op == 10) {
                t.events.push_back({op == 9 ? ws::deframe_event::ping : ws::deframe_event::pong,
                                    close_code::none, payload});
                continue;
            }
            if (payload.size() == 1) { fail(close_code::protocol_error); break; }
            ws_event e{ws::deframe_event::close, close_code::no_status_received, {}};
            if (payload.size() >= 2) {
                const auto code = static_cast<std::uint16_t>(
                    static_cast<unsigned>(payload[0]) << 8 | static_cast<unsigned>(payload[1]));
                const bool valid = (code >= 1000 && code <= 1003) ||
                                   (code >= 1007 && code <= 1014) ||
                                   (code >= 3000 && code <= 4999);
                if (!valid) { fail(close_code::protocol_error); break; }
                e.payload.assign(payload.begin() + 2, payload.end());
                if (!ws_reference_utf8(e.payload)) { fail(close_code::invalid_payload); break; }
                e.code = static_cast<close_code>(code);
            }
            t.events.push_back(e);
            t.ended = true;
            break;
        }
        const std::uint64_t before = op == 0 ? message : 0;
        if (before + len > o.max_message_size || before + len < before) {
            fail(close_code::message_too_big);
            break;
        }
        message = before + len;
        fragmented = !fin;
        t.data.insert(t.data.end(), payload.begin(), payload.end());
        i += take;
        if (take < len) break;
    }
    return t;
}

} // namespace mqttwire::test
