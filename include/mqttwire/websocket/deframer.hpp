#pragma once
/// @file
/// @brief The incremental WebSocket deframer: frames in, the unmasked byte stream of binary
/// messages and the control events out (RFC 6455 sections 5 and 7; MQTT 3.1.1 and 5.0
/// section 6).

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "../errc.hpp"
#include "../options.hpp"
#include "../result.hpp"
#include "close_code.hpp"
#include "frame.hpp"

namespace mqttwire::ws {

/// @brief What a `deframer` accepts. Strict by default: every flag is a leniency.
struct deframer_options {
    /// This end of the connection: a server requires masked frames, a client unmasked ones.
    role local = role::server;
    /// The largest message (the payloads of a fragmented message added up), checked from each
    /// frame header before its payload arrives; larger is `close_code::message_too_big` (1009).
    /// The default is the largest MQTT packet, so one packet per message always fits.
    std::uint64_t max_message_size = max_packet_size_limit;
    /// Accept frames masked the wrong way for `local` (unmasked from a client, masked from a
    /// server) instead of failing with 1002 (RFC 6455 section 5.1 says to fail).
    bool accept_wrong_masking = false;
    /// Deliver the bytes of text messages like binary ones instead of failing with 1003
    /// (MQTT-6.0.0-1 / MQTT5-6.0.0-1 allow binary frames only). The text is not checked.
    bool accept_text_frames = false;
    /// Accept a payload length not in its shortest form (e.g. 5 in the 16-bit field) instead
    /// of failing with 1002. A 64-bit length with its top bit set always fails.
    bool accept_non_minimal_length = false;
};

/// @brief What a `deframer::decode` call stopped at, besides data.
enum class deframe_event : std::uint8_t {
    /// Input used up (or output full): call again with more.
    none,
    /// A Ping arrived: answer with a Pong carrying `payload` (`write_reply`).
    ping,
    /// A Pong arrived (`payload`); no answer.
    pong,
    /// A Close arrived: `code` (1005 `no_status_received` for an empty body) and the UTF-8
    /// reason in `payload`. Echo it (`write_reply`), then close the transport. The stream has
    /// ended: later input is discarded.
    close,
    /// The peer broke a rule: send a Close with `code` (`write_reply`) and close the transport
    /// ("fail the WebSocket connection", RFC 6455 section 7.1.7). The stream has ended.
    fail,
};

/// @brief One step of `deframer::decode`.
struct deframe_result {
    /// Bytes of the input used, the frame headers included.
    std::size_t consumed = 0;
    /// Unmasked payload bytes of binary (and continuation) frames written to the output.
    std::size_t produced = 0;
    deframe_event event = deframe_event::none;
    /// `close`: the received code; `fail`: the code to close with; `close_code::none` otherwise.
    close_code code = close_code::none;
    /// `ping`/`pong`: the payload; `close`: the reason. Points into the deframer and is valid
    /// until its next `decode` call.
    std::span<const std::byte> payload{};
};

/// @brief Turns a WebSocket byte stream into the byte stream its binary messages carry.
///
/// MQTT does not align packets with frames (MQTT-6.0.0-2 / MQTT5-6.0.0-2): a frame may hold
/// part of a packet or several packets, so the output is a plain stream for `next_frame` /
/// `framer`, whatever the frame boundaries were.
///
/// **In place.** `decode(in, out)` writes the unmasked payload bytes to the front of `out` and
/// skips the headers. `out` may be the very buffer `in` lies in, starting at or before `in`
/// (never after it): the payloads then slide down over the headers, unmasked in the same pass,
/// and the buffer the transport read into becomes the MQTT stream with no second copy. Bytes
/// are moved, never buffered: the deframer keeps at most a 14-byte header and a 125-byte
/// control payload of its own.
///
/// **Events.** A call returns at the first control event or failure (with the data decoded
/// before it); input after a Close or a failure is discarded. Every limit is checked from the
/// header alone, before the payload is read.
///
/// **Failures** (`deframe_event::fail` with the close code to send): a client frame without a
/// mask or a server frame with one, RSV bits (no extension is negotiated), a reserved opcode,
/// a fragmented control frame or one over 125 bytes, a continuation outside a fragmented
/// message or a new message inside one, a non-minimal length or a 64-bit length with the top
/// bit set, a Close body of 1 byte or with a code that may not be sent: 1002. A text frame:
/// 1003 (MQTT-6.0.0-1 / MQTT5-6.0.0-1). A Close reason that is not UTF-8: 1007. A message
/// over `max_message_size`: 1009.
///
/// Example (a server; `buf[0, have)` already holds MQTT bytes, `n` bytes were just read after
/// them):
/// @code
/// std::size_t in_at = have, out_at = have;
/// while (in_at < have + n) {
///     const auto r = d.decode(buf.subspan(in_at, have + n - in_at), buf.subspan(out_at));
///     in_at += r.consumed;
///     out_at += r.produced;
///     if (r.event != ws::deframe_event::none) send(reply, *d.write_reply(r, reply));
///     if (d.ended()) break;
/// }
/// have = out_at;  // feed buf[0, have) to mqttwire::next_frame
/// @endcode
class deframer {
  public:
    constexpr explicit deframer(const deframer_options& options = {}) noexcept
        : options_(options) {}

    /// @brief Decodes from the start of `in`, writing data bytes to the start of `out`.
    ///
    /// Stops when `in` is used up, when `out` is full (then `consumed < in.size()` and
    /// `produced == out.size()`), or at an event. Precondition: `out` does not overlap `in`,
    /// or starts at or before it in the same buffer.
    [[nodiscard]] constexpr deframe_result decode(std::span<const std::byte> in,
                                                  std::span<std::byte> out) noexcept;

    /// @brief Tells the deframer that this end sent a Close: the peer's Close that follows is
    /// its answer, and `write_reply` writes nothing for it.
    constexpr void note_close_sent() noexcept { close_sent_ = true; }

    /// @brief True after a Close arrived or the connection failed: nothing more is decoded.
    [[nodiscard]] constexpr bool ended() const noexcept { return phase_ == phase::ended; }
    /// @brief True inside a fragmented message (between a frame with FIN 0 and its final
    /// continuation).
    [[nodiscard]] constexpr bool in_fragmented_message() const noexcept { return fragmented_; }
    [[nodiscard]] constexpr const deframer_options& options() const noexcept { return options_; }

    /// @brief Bytes `write_reply` writes for `r` (0 when no answer is due).
    [[nodiscard]] constexpr result<std::size_t> reply_size(const deframe_result& r) const noexcept {
        return reply(r, {}, nullptr);
    }

    /// @brief Writes the frame that answers `r`: a Pong with the Ping's payload, the echo of a
    /// Close (its code, no reason), a Close with the failure's code; nothing for `none` and
    /// `pong`, and no Close after `note_close_sent`. A client's frame is masked with `key`.
    /// @return the bytes written; `errc::buffer_too_small` with nothing written.
    [[nodiscard]] constexpr result<std::size_t> write_reply(const deframe_result& r,
                                                            std::span<std::byte> out,
                                                            masking_key key = {}) const noexcept {
        return reply(r, key, &out);
    }

  private:
    enum class phase : std::uint8_t { header, data, control, ended };

    [[nodiscard]] constexpr close_code check_first_bytes() const noexcept;
    [[nodiscard]] constexpr close_code start_frame() noexcept;
    [[nodiscard]] constexpr deframe_result& finish_control(deframe_result& r) noexcept;
    [[nodiscard]] constexpr deframe_result& fail(deframe_result& r, close_code code) noexcept {
        phase_ = phase::ended;
        r.event = deframe_event::fail;
        r.code = code;
        r.payload = {};
        return r;
    }
    [[nodiscard]] constexpr result<std::size_t> reply(const deframe_result& r,
                                                      const masking_key& key,
                                                      std::span<std::byte>* out) const noexcept;

    deframer_options options_;
    phase phase_ = phase::header;
    bool fragmented_ = false;
    bool close_sent_ = false;
    // The current frame.
    bool masked_ = false;
    opcode op_ = opcode::binary;
    masking_key key_{};
    std::uint64_t remaining_ = 0;
    std::uint64_t done_ = 0; // payload bytes of the current frame already passed on
    std::uint64_t message_size_ = 0;
    // A header split across calls.
    std::array<std::byte, max_frame_header_size> header_{};
    std::size_t header_have_ = 0;
    std::size_t header_need_ = 2;
    // A control payload split across calls.
    std::array<std::byte, max_control_payload> control_{};
    std::size_t control_have_ = 0;
};

constexpr close_code deframer::check_first_bytes() const noexcept {
    const auto b0 = static_cast<std::uint8_t>(header_[0]);
    const auto b1 = static_cast<std::uint8_t>(header_[1]);
    const bool fin = (b0 & 0x80u) != 0;
    const auto op = static_cast<opcode>(b0 & 0x0Fu);
    const bool masked = (b1 & 0x80u) != 0;
    const auto len7 = static_cast<std::uint8_t>(b1 & 0x7Fu);
    // RSV1-3 need a negotiated extension (RFC 6455 section 5.2).
    if ((b0 & 0x70u) != 0) return close_code::protocol_error;
    if (!is_defined(op)) return close_code::protocol_error;
    // Clients mask, servers do not (section 5.1).
    if (masked != (options_.local == role::server) && !options_.accept_wrong_masking)
        return close_code::protocol_error;
    if (is_control(op)) {
        // Section 5.5: control frames are not fragmented and carry at most 125 bytes.
        if (!fin || len7 > max_control_payload) return close_code::protocol_error;
        return close_code::none;
    }
    // Section 5.4: continuations continue a fragmented message; nothing else interrupts one.
    if ((op == opcode::continuation) != fragmented_) return close_code::protocol_error;
    // MQTT-6.0.0-1 / MQTT5-6.0.0-1: MQTT travels in binary frames only.
    if (op == opcode::text && !options_.accept_text_frames) return close_code::unsupported_data;
    return close_code::none;
}

constexpr close_code deframer::start_frame() noexcept {
    const auto p = detail::ws_parse_header(std::span<const std::byte>(header_).first(header_have_));
    header_have_ = 0;
    header_need_ = 2;
    if (p.status == detail::ws_header_status::length_top_bit) return close_code::protocol_error;
    if (p.status == detail::ws_header_status::non_minimal_length &&
        !options_.accept_non_minimal_length)
        return close_code::protocol_error;
    const auto& h = p.header;
    masked_ = h.masked;
    key_ = h.key;
    op_ = h.op;
    remaining_ = h.payload_length;
    done_ = 0;
    if (is_control(h.op)) {
        control_have_ = 0;
        phase_ = phase::control;
        return close_code::none;
    }
    const std::uint64_t before = h.op == opcode::continuation ? message_size_ : 0;
    if (h.payload_length > options_.max_message_size - before) return close_code::message_too_big;
    message_size_ = before + h.payload_length;
    fragmented_ = !h.fin;
    phase_ = remaining_ == 0 ? phase::header : phase::data;
    return close_code::none;
}

constexpr deframe_result& deframer::finish_control(deframe_result& r) noexcept {
    const auto payload = std::span<const std::byte>(control_).first(control_have_);
    phase_ = phase::header;
    switch (op_) {
    case opcode::ping: r.event = deframe_event::ping; break;
    case opcode::pong: r.event = deframe_event::pong; break;
    default: {
        // Close (section 5.5.1): empty, or a 2-byte code and a UTF-8 reason.
        if (payload.size() == 1) return fail(r, close_code::protocol_error);
        phase_ = phase::ended;
        r.event = deframe_event::close;
        if (payload.empty()) {
            r.code = close_code::no_status_received;
            return r;
        }
        const auto code = static_cast<std::uint16_t>(static_cast<unsigned>(payload[0]) << 8 |
                                                     static_cast<unsigned>(payload[1]));
        if (!may_appear_on_wire(code)) return fail(r, close_code::protocol_error);
        if (!detail::ws_valid_utf8(payload.subspan(2))) return fail(r, close_code::invalid_payload);
        r.code = static_cast<close_code>(code);
        r.payload = payload.subspan(2);
        return r;
    }
    }
    r.payload = payload;
    return r;
}

constexpr deframe_result deframer::decode(std::span<const std::byte> in,
                                          std::span<std::byte> out) noexcept {
    deframe_result r;
    if (phase_ == phase::ended) {
        r.consumed = in.size();
        return r;
    }
    while (true) {
        const std::size_t in_left = in.size() - r.consumed;
        switch (phase_) {
        case phase::header: {
            if (in_left == 0) return r;
            while (header_have_ < header_need_ && r.consumed < in.size()) {
                header_[header_have_++] = in[r.consumed++];
                if (header_have_ == 2) {
                    // Everything but the extended length is known now: refuse early.
                    if (const auto c = check_first_bytes(); c != close_code::none)
                        return fail(r, c);
                    header_need_ = detail::ws_header_size_from(header_[1]);
                }
            }
            if (header_have_ < header_need_) return r;
            if (const auto c = start_frame(); c != close_code::none) return fail(r, c);
            if (phase_ == phase::control && remaining_ == 0) return finish_control(r);
            break;
        }
        case phase::data: {
            std::size_t n = in_left < out.size() - r.produced ? in_left : out.size() - r.produced;
            if (remaining_ < n) n = static_cast<std::size_t>(remaining_);
            if (n == 0) return r;
            detail::ws_unmask_move(in.subspan(r.consumed, n), out.subspan(r.produced, n),
                                   masked_ ? &key_ : nullptr,
                                   static_cast<std::size_t>(done_ & 3u));
            r.consumed += n;
            r.produced += n;
            remaining_ -= n;
            done_ += n;
            if (remaining_ == 0) phase_ = phase::header;
            break;
        }
        case phase::control: {
            std::size_t n = in_left;
            if (remaining_ < n) n = static_cast<std::size_t>(remaining_);
            if (n == 0) return r;
            detail::ws_unmask_move(in.subspan(r.consumed, n),
                                   std::span<std::byte>(control_).subspan(control_have_, n),
                                   masked_ ? &key_ : nullptr,
                                   static_cast<std::size_t>(done_ & 3u));
            r.consumed += n;
            control_have_ += n;
            remaining_ -= n;
            done_ += n;
            if (remaining_ == 0) return finish_control(r);
            break;
        }
        case phase::ended: return r;
        }
    }
}

constexpr result<std::size_t> deframer::reply(const deframe_result& r, const masking_key& key,
                                               std::span<std::byte>* out) const noexcept {
    const role local = options_.local;
    switch (r.event) {
    case deframe_event::ping: {
        const auto h = make_header(local, opcode::pong, r.payload.size(), key);
        if (out == nullptr) return frame_size(h);
        return encode_frame(h, r.payload, *out);
    }
    case deframe_event::close: {
        // One Close per direction: after ours, theirs is the answer and needs none.
        if (close_sent_) return std::size_t{0};
        // Echo the code (section 5.5.1); an empty Close is echoed empty.
        const close_code code =
            r.code == close_code::no_status_received ? close_code::none : r.code;
        if (out == nullptr) return close_frame_size(local, code);
        return encode_close_frame(local, code, {}, *out, key);
    }
    case deframe_event::fail:
        if (close_sent_) return std::size_t{0};
        if (out == nullptr) return close_frame_size(local, r.code);
        return encode_close_frame(local, r.code, {}, *out, key);
    case deframe_event::none:
    case deframe_event::pong: break;
    }
    return std::size_t{0};
}

} // namespace mqttwire::ws
