#pragma once
/// @file
/// @brief `basic_connection`: the protocol state of one network connection, shared by the client
/// and the server role (`client.hpp`, `server.hpp`). Bytes in, events out, time passed in; no
/// I/O, no clock, no exceptions, no allocation with `fixed_storage`.
///
/// ```
///   transport ──bytes──▶ input_space()/input_written() or feed()
///   next(now) ──▶ session_event   (one at a time; views valid until the next call)
///   output()  ──bytes──▶ transport, then output_written(n)
///   deadline() ──▶ when to call next() again if nothing else happens
/// ```
///
/// Why polled events and not callbacks: the caller decides when an event is handled, so the
/// session never re-enters itself from a handler, needs no event queue (one event per call, so no
/// bound to pick and no allocation), and decisions the spec leaves to the embedder (accept a
/// CONNECT, the reason code of an acknowledgement, SUBACK codes) are plain calls made between two
/// `next()` calls. An unanswered decision gets the default answer of its event at the next call.

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <span>
#include <utility>

#include "../errc.hpp"
#include "../framer.hpp"
#include "../packet.hpp"
#include "../profile.hpp"
#include "../result.hpp"
#include "alias_sender.hpp"
#include "alias_table.hpp"
#include "event.hpp"
#include "owed_acks.hpp"
#include "state.hpp"
#include "storage.hpp"

namespace mqttwire {

/// @brief Supplies the bytes of an in-flight PUBLISH to resend when the session keeps no copies
/// (`session_limits::resend_bytes` 0): any encoding of it (the session sets DUP and the packet
/// identifier), or an empty span when the message is gone (its identifier is then released).
/// The bytes must stay valid until the function returns.
using resend_source = std::span<const std::byte> (*)(void* context,
                                                     std::uint16_t packet_id) noexcept;

namespace detail {

using ms = std::chrono::milliseconds;

[[nodiscard]] constexpr ms add_saturating(ms a, ms b) noexcept {
    constexpr auto top = std::numeric_limits<ms::rep>::max();
    return a.count() > top - b.count() ? ms(top) : a + b;
}

// Offset of the packet identifier of an encoded QoS 1/2 PUBLISH whose fixed header is `header`
// bytes long; 0 when the packet is too short to hold one.
[[nodiscard]] constexpr std::size_t publish_id_offset(std::span<const std::byte> pkt,
                                                      std::size_t header) noexcept {
    if (pkt.size() < header + 2) return 0;
    const std::size_t len = static_cast<std::size_t>(static_cast<std::uint8_t>(pkt[header])) << 8 |
                            static_cast<std::uint8_t>(pkt[header + 1]);
    const std::size_t at = header + 2 + len;
    return at + 2 <= pkt.size() ? at : 0;
}

inline void put_u16(std::byte* at, std::uint16_t v) noexcept {
    at[0] = static_cast<std::byte>(v >> 8);
    at[1] = static_cast<std::byte>(v & 0xFF);
}

// The DISCONNECT reason code for a refusal the codec or the session reported.
[[nodiscard]] constexpr reason_code disconnect_reason(errc e) noexcept {
    const auto rc = static_cast<reason_code>(e);
    if (!is_codec_only(e) && is_allowed(rc, reason_context::disconnect)) return rc;
    return e == errc::protocol_error ? reason_code::protocol_error : reason_code::malformed_packet;
}

enum class pending_kind : std::uint8_t { none, connect, ack, subscribe, unsubscribe };

struct pending_answer {
    pending_kind kind = pending_kind::none;
    mqttwire::qos qos = mqttwire::qos::at_most_once;
    std::uint16_t packet_id = 0;
    std::uint16_t count = 0;
};

// Bytes every packet handled may need as an answer: an acknowledgement (4 bytes), a PINGRESP, or
// a DISCONNECT after a violation (2 + reason code + property length).
inline constexpr std::size_t answer_reserve = 8;

} // namespace detail

/// @brief The machinery both roles share: buffers, framing, decoding, the QoS 1 and 2 flows
/// both ways, resending, Receive Maximum, inbound topic aliases, closing. Use `client<Storage>`
/// or `server<Storage>`. `Profile` (see `codec_profile`) is what the codec links: a 3.1.1-only
/// client (`client_v3_profile`) holds none of the 5.0 property machinery.
template <class Derived, peer_role Role, class Storage, codec_profile Profile>
class basic_connection {
  public:
    using storage_type = Storage;
    using state_type = session_state<Storage>;
    static constexpr codec_profile profile = Profile;
    static constexpr peer_role role = Role;
    static constexpr peer_role peer_role_value =
        Role == peer_role::client ? peer_role::server : peer_role::client;

    basic_connection(const basic_connection&) = delete;
    basic_connection& operator=(const basic_connection&) = delete;

    // -----------------------------------------------------------------------------------------
    // Transport side

    /// @brief Free space at the end of the input buffer, for the transport to read into; then
    /// `input_written(n)`. Empty when the buffer is full: process events first (`next()`).
    [[nodiscard]] std::span<std::byte> input_space() noexcept {
        compact_input();
        std::size_t want = in_end_ + read_chunk;
        if (want > in_.limit()) want = in_.limit();
        (void)in_.reserve(want);
        return {in_.data() + in_end_, in_.capacity() - in_end_};
    }
    /// @brief `n` bytes were written at the start of `input_space()`.
    void input_written(std::size_t n) noexcept {
        in_end_ = std::min(in_end_ + n, in_.capacity());
    }
    /// @brief Copies the longest prefix of `bytes` that fits into the input buffer.
    /// @return the number of bytes taken; give the rest again after `next()` returned `none`.
    [[nodiscard]] std::size_t feed(std::span<const std::byte> bytes) noexcept {
        compact_input();
        std::size_t want = in_end_ + bytes.size();
        if (want > in_.limit()) want = in_.limit();
        (void)in_.reserve(want);
        const std::size_t n = std::min(bytes.size(), in_.capacity() - in_end_);
        if (n != 0) std::memcpy(in_.data() + in_end_, bytes.data(), n);
        in_end_ += n;
        return n;
    }
    /// @brief Bytes to write to the transport, oldest first. Valid until the next call that
    /// writes output.
    [[nodiscard]] std::span<const std::byte> output() const noexcept {
        return {out_.data() + out_begin_, out_end_ - out_begin_};
    }
    /// @brief The transport wrote the first `n` bytes of `output()`.
    void output_written(std::size_t n) noexcept {
        out_begin_ = std::min(out_begin_ + n, out_end_);
        if (out_begin_ == out_end_) {
            out_begin_ = out_end_ = 0;
            out_.shrink_to(0); // allocator-backed storage: nothing kept after a spike
        }
    }
    /// @brief The network connection is gone (end of stream, error). `next()` reports `closed`.
    void transport_closed(std::chrono::milliseconds now) noexcept {
        advance(now);
        if (status_ == connection_status::connecting || status_ == connection_status::connected)
            begin_close(reason_code::unspecified_error, close_initiator::transport, true);
    }

    // -----------------------------------------------------------------------------------------
    // Events and time

    /// @brief Handles what is due: the default answer to an unanswered decision, timers, resends,
    /// then at most one received packet. Call it until it returns `event_kind::none`, after new
    /// input, after output was written and at `deadline()`.
    [[nodiscard]] session_event next(std::chrono::milliseconds now) noexcept {
        advance(now);
        last_message_size_ = 0;
        if (pending_.kind != detail::pending_kind::none) answer_default();
        if (status_ == connection_status::closing) return finish_close();
        if (status_ != connection_status::connecting && status_ != connection_status::connected)
            return {};
        if (auto ev = derived().role_timers(); ev.kind != event_kind::none) return ev;
        if (status_ == connection_status::closing) return finish_close();
        if (resend_cursor_ != 0) continue_resend();
        if (held_) return {};
        // Compacting here would move the rest of a burst once per packet; the buffer is only
        // reset when drained, and compacted when the transport needs room.
        if (in_begin_ != 0 && in_begin_ == in_end_) compact_input();
        for (std::uint32_t taken = 0;; ++taken) {
            const auto buffered = std::span<const std::byte>(in_.data() + in_begin_,
                                                             in_end_ - in_begin_);
            if (buffered.empty()) return {};
            if (packets_per_call_ != 0 && taken == packets_per_call_) return {}; // input_backlog()
            if (!derived().first_byte_ok(buffered[0])) return finish_close();
            decode_options o;
            o.version = version_;
            o.max_packet_size = derived().inbound_limit();
            o.sender = peer_role_value;
            o.bridge_levels = derived().bridge_levels();
            const auto f = next_frame(buffered, o.max_packet_size);
            if (f.status == errc::incomplete) return {};
            if (f.status != errc::success) return violation(f.status);
            const auto pkt = buffered.first(f.size);
            auto r = decode_frame<Profile>(pkt, f, o);
            if (!r) return derived().decode_failed(r.error(), pkt);
            packet_ = *r;
            // Flow control before work: a packet is taken only when its answer fits the output
            // buffer, so a peer that does not read stops being read (issue 15: no unbounded
            // PINGRESP or PUBACK backlog).
            if (!out_room(derived().answer_size(packet_), false)) {
                if (out_end_ - out_begin_ == 0) return violation(errc::quota_exceeded);
                return {};
            }
            in_begin_ += f.size;
            ++packets_.received;
            last_received_ = now_;
            auto ev = dispatch();
            if (status_ == connection_status::closing) return finish_close();
            if (ev.kind == event_kind::message) last_message_size_ = static_cast<std::uint32_t>(f.size);
            if (ev.kind != event_kind::none) return ev;
        }
    }

    /// @brief When `next()` must be called even if no input arrives (keep-alive, timeouts);
    /// nullopt when no timer runs.
    [[nodiscard]] std::optional<std::chrono::milliseconds> deadline() const noexcept {
        if (status_ == connection_status::closing) return now_;
        return derived().role_deadline();
    }

    // -----------------------------------------------------------------------------------------
    // State

    [[nodiscard]] connection_status status() const noexcept { return status_; }
    [[nodiscard]] protocol_version version() const noexcept { return version_; }
    /// @brief What the peer allows (valid once connected).
    [[nodiscard]] const peer_limits& peer() const noexcept { return peer_; }
    /// @brief QoS 1/2 PUBLISHes that may be sent now (MQTT5-4.9.0-1, MQTT5-4.9.0-2).
    [[nodiscard]] std::uint16_t send_quota() const noexcept {
        if (state_ == nullptr || status_ != connection_status::connected) return 0;
        const std::uint16_t cap = std::min(peer_.receive_maximum, state_->out_.publish_limit());
        const std::uint16_t used = state_->out_.publishes();
        return used >= cap ? 0 : static_cast<std::uint16_t>(cap - used);
    }
    /// @brief True while in-flight messages are being resent after a reconnect; new PUBLISHes
    /// wait (`errc::would_block`) so that resent ones keep their order (MQTT-4.6.0-1).
    [[nodiscard]] bool resending() const noexcept { return resend_cursor_ != 0; }
    /// @brief Bytes received and not processed yet.
    [[nodiscard]] std::size_t input_size() const noexcept { return in_end_ - in_begin_; }
    /// @brief Packets taken from the input and packets written to the output since the last
    /// call (for statistics such as `$SYS/broker/messages/received`); the counts start again.
    [[nodiscard]] packet_counts take_packet_counts() noexcept { return std::exchange(packets_, {}); }
    /// @brief The session state in use (null for a server before `accept()`).
    [[nodiscard]] state_type* session() const noexcept { return state_; }

    // -----------------------------------------------------------------------------------------
    // Sending

    /// @brief Sends an application message. QoS 1/2: a packet identifier is allocated (O(1),
    /// never one in use: MQTT-2.3.1-2 / MQTT5-2.2.1-3), the copy kept for resending, and the
    /// message counted against the send quota until acknowledged. `p.packet_id` and `p.dup`
    /// are ignored.
    /// @return the packet identifier (0 for QoS 0), or: `errc::not_connected`;
    /// `errc::would_block` (output full, send quota used up, resend under way, no room for the
    /// copy); `errc::qos_not_supported` / `errc::retain_not_supported` (client, 5.0: the server
    /// ruled it out, MQTT5-3.2.2-11 / MQTT5-3.2.2-14); `errc::packet_too_large` (over the
    /// peer's Maximum Packet Size, MQTT5-3.2.2-15 / MQTT5-3.1.2-24: a server treats the message
    /// as delivered, MQTT5-3.1.2-25); any codec error for an invalid packet.
    [[nodiscard]] result<std::uint16_t> publish(const publish_view& p,
                                                std::chrono::milliseconds now) noexcept {
        advance(now);
        if (const auto e = check_publish(p.qos, p.retain); e != errc::success) return e;
        publish_view wire = p;
        wire.dup = false; // MQTT-4.3.1-1, MQTT-4.3.2-1 / MQTT5-4.3.2-2, MQTT5-4.3.3-2
        wire.packet_id = p.qos == qos::at_most_once ? 0 : 1; // measured with a placeholder
        // The client may replace the topic by an alias; the copy for resending always keeps the
        // topic name, since aliases die with their connection (MQTT5-3.3.2-7).
        bool aliased = derived().apply_alias(wire);
        const auto fail = [&](errc e) {
            if (aliased) derived().alias_not_sent(p.topic.bytes());
            return e;
        };
        const auto eo = encode_opts();
        auto size = encoded_size<Profile>(wire, version_, eo);
        if (!size && aliased && size.error() == errc::packet_too_large) {
            // Setting the alias made it too large for the peer: by name, if that fits.
            derived().alias_not_sent(p.topic.bytes());
            aliased = false;
            wire.topic = p.topic;
            wire.properties = p.properties;
            size = encoded_size<Profile>(wire, version_, eo);
        }
        if (!size) return fail(size.error());
        if (!out_room(*size, true)) return fail(errc::would_block);
        std::uint16_t id = 0;
        if (p.qos != qos::at_most_once) {
            id = state_->out_.allocate(p.qos == qos::at_least_once ? outbound_state::publish_qos1
                                                                  : outbound_state::publish_qos2);
            if (id == 0) return fail(errc::would_block);
            wire.packet_id = id;
        }
        const auto out = out_span(*size);
        const auto n = encode<Profile>(wire, version_, out, eo);
        if (!n) { // unreachable: measured above with the same options
            if (id != 0) state_->release(id);
            return fail(n.error());
        }
        if (id != 0 && state_->keeps_copies()) {
            std::uint32_t ref = detail::no_ref;
            if (!aliased) {
                ref = state_->copies_.store(out.first(*n));
            } else {
                publish_view keep = p;
                keep.dup = false;
                keep.packet_id = id;
                const auto keep_size = encoded_size<Profile>(keep, version_);
                if (keep_size) ref = state_->copies_.allocate(*keep_size);
                if (ref != detail::no_ref && !encode<Profile>(keep, version_, state_->copies_.get(ref))) {
                    state_->copies_.release(ref);
                    ref = detail::no_ref;
                }
            }
            if (ref == detail::no_ref) { // no room for the copy: not sent, try later
                state_->out_.release(id);
                return fail(errc::would_block);
            }
            state_->out_.find(id)->ref = ref;
            state_->out_.find(id)->format = copy_format_now();
        }
        out_commit(*n);
        return id;
    }

    /// @brief Sends a PUBLISH that is already encoded (a broker's fan-out encodes a message
    /// once per wire form): the bytes are copied and, for QoS 1/2, the packet identifier is
    /// written into the copy. Precondition: `packet` is one valid PUBLISH for this connection's
    /// protocol version, without Topic Alias, DUP 0.
    /// @return as `publish()`; `errc::invalid_argument` when `packet` is not one whole PUBLISH.
    [[nodiscard]] result<std::uint16_t> publish_encoded(std::span<const std::byte> packet,
                                                        std::chrono::milliseconds now) noexcept {
        advance(now);
        const auto f = next_frame(packet);
        if (f.status != errc::success || f.size != packet.size() ||
            (static_cast<std::uint8_t>(packet[0]) >> 4) != 3)
            return errc::invalid_argument;
        const auto q = static_cast<qos>((static_cast<std::uint8_t>(packet[0]) >> 1) & 3u);
        if (static_cast<std::uint8_t>(q) > 2) return errc::invalid_argument;
        const bool retain = (static_cast<std::uint8_t>(packet[0]) & 1u) != 0;
        if (const auto e = check_publish(q, retain); e != errc::success) return e;
        const std::size_t id_at = q == qos::at_most_once ? 0 : detail::publish_id_offset(packet, f.header_size);
        if (q != qos::at_most_once && id_at == 0) return errc::invalid_argument;
        // The wire form may name the topic by alias (server role, 5.0); the copy kept for
        // resending never does, since aliases end with the connection (MQTT5-3.3.2-7).
        topic_alias_choice alias{};
        publish_layout layout{};
        std::size_t wire_size = packet.size();
        std::size_t wire_id_at = id_at;
        if (v5() && derived().aliases_usable()) {
            const auto l = read_publish_layout(packet);
            if (!l) return errc::invalid_argument;
            layout = *l;
            alias = derived().choose_alias(packet.subspan(l->topic_at, l->topic_size));
            if (alias.alias != 0) {
                const auto a = detail::splice_alias(packet, layout, alias, {});
                if (!a) return fail_alias(packet, layout, alias, a.error());
                wire_size = a->size;
                wire_id_at = a->id_at;
            }
        }
        if (wire_size > peer_.maximum_packet_size && alias.alias != 0) {
            // Setting the alias made it too large for the peer: by name, if that fits.
            (void)fail_alias(packet, layout, alias, errc::packet_too_large);
            alias = {};
            wire_size = packet.size();
            wire_id_at = id_at;
        }
        if (wire_size > peer_.maximum_packet_size) return errc::packet_too_large;
        if (!out_room(wire_size, true)) return fail_alias(packet, layout, alias, errc::would_block);
        std::uint16_t id = 0;
        if (q != qos::at_most_once) {
            id = state_->out_.allocate(q == qos::at_least_once ? outbound_state::publish_qos1
                                                               : outbound_state::publish_qos2);
            if (id == 0) return fail_alias(packet, layout, alias, errc::would_block);
            if (state_->keeps_copies()) {
                const auto ref = state_->copies_.store(packet);
                if (ref == detail::no_ref) {
                    state_->out_.release(id);
                    return fail_alias(packet, layout, alias, errc::would_block);
                }
                detail::put_u16(state_->copies_.get(ref).data() + id_at, id);
                state_->out_.find(id)->ref = ref;
                state_->out_.find(id)->format = copy_format_now();
            }
        }
        auto out = out_span(wire_size);
        if (alias.alias != 0)
            (void)detail::splice_alias(packet, layout, alias, out); // measured above
        else
            std::memcpy(out.data(), packet.data(), packet.size());
        if (id != 0) detail::put_u16(out.data() + wire_id_at, id);
        out_commit(wire_size);
        return id;
    }

    /// @brief Answers the last `message` event of QoS 1 or 2: PUBACK or PUBREC with `rc`
    /// (5.0; ignored before 5.0). Without this call the next `next()` answers Success. A code of
    /// 0x80 or more ends a QoS 2 exchange: the identifier is not remembered (MQTT5-4.3.3-9).
    void acknowledge(reason_code rc = reason_code::success) noexcept {
        if (pending_.kind != detail::pending_kind::ack) return;
        last_message_size_ = 0;
        const auto id = pending_.packet_id;
        const auto q = pending_.qos;
        pending_ = {};
        (void)send_ack(id, q, rc);
    }

    /// @brief Keeps the acknowledgement of the last `message` event of QoS 1 or 2 for later:
    /// nothing is sent now, and `acknowledge(packet_id, rc)` sends the PUBACK or PUBREC once the
    /// message is safe (MQTT-4.3.2-2 / MQTT5-4.3.2-4, MQTT5-4.3.3-8: the receiver answers once
    /// it has taken ownership). Deferred messages count against the Receive Maximum this side
    /// announced (MQTT5-3.3.4-9); the same identifier again before the answer is the same
    /// message: neither delivered nor answered again. Deferred answers belong to the connection:
    /// when it ends they are forgotten and the peer sends the messages again after reconnecting
    /// (MQTT-4.4.0-1 / MQTT5-4.4.0-1), delivered again as new `message` events. The message
    /// view is valid only until the next call of `next()`: copy what is needed.
    /// @return the packet identifier; `errc::invalid_argument` when no QoS 1/2 message awaits
    /// its answer; `errc::quota_exceeded` when `session_limits::deferred_acks` are deferred
    /// already (always, with 0): then nothing changes, and `acknowledge(rc)` or the next
    /// `next()` answers the message as usual.
    [[nodiscard]] result<std::uint16_t> defer() noexcept {
        if (pending_.kind != detail::pending_kind::ack) return errc::invalid_argument;
        if (!owed_.insert(pending_.packet_id, pending_.qos)) return errc::quota_exceeded;
        last_message_size_ = 0;
        const auto id = pending_.packet_id;
        pending_ = {};
        reserved_ = 0;
        return id;
    }

    /// @brief Sends the acknowledgement deferred for `packet_id` (`defer()`), in any order:
    /// PUBACK or PUBREC with `rc` (5.0; ignored before 5.0). A code of 0x80 or more ends a QoS 2
    /// exchange (MQTT5-4.3.3-9).
    /// @return `errc::not_connected`; `errc::packet_identifier_not_found` when nothing is
    /// deferred for `packet_id` (never deferred, answered already, or forgotten with an earlier
    /// connection); `errc::would_block` when the output buffer is full (still deferred: try
    /// again after `output_written()`); a codec error for a code PUBACK / PUBREC cannot carry.
    [[nodiscard]] errc acknowledge(std::uint16_t packet_id,
                                   reason_code rc = reason_code::success) noexcept {
        if (status_ != connection_status::connected) return errc::not_connected;
        const qos q = owed_.qos_of(packet_id);
        if (q == qos::at_most_once) return errc::packet_identifier_not_found;
        if (!out_room(detail::answer_reserve, true)) return errc::would_block;
        if (const auto e = send_ack(packet_id, q, rc); e != errc::success) return e;
        owed_.erase(packet_id);
        return errc::success;
    }
    /// @brief Acknowledgements deferred and not sent yet.
    [[nodiscard]] std::size_t deferred() const noexcept { return owed_.size(); }

    /// @brief Gives the last `message` event back, for an embedder that cannot take the message
    /// now (a broker whose subscriber's queue is full): nothing is answered, the PUBLISH stays at
    /// the front of the input buffer, and no further packet is processed until `resume_input()`;
    /// the first `next()` after it reports the same message again. Timers, writes and closing
    /// go on meanwhile, the keep-alive timer included. The peer is not read from either: the
    /// transport should stop reading while `input_held()`, so that the peer's own flow control
    /// (TCP) holds it back. The message view must not be used after this call.
    /// @return `errc::invalid_argument` unless the last call of `next()` returned a `message`
    /// event that is still unanswered (not acknowledged, not deferred) and no input was given
    /// since (`input_space()` and `feed()` may move the buffered bytes).
    [[nodiscard]] errc hold_input() noexcept {
        const auto* p = std::get_if<publish_view>(&packet_);
        if (last_message_size_ == 0 || p == nullptr || status_ != connection_status::connected ||
            (pending_.kind != detail::pending_kind::ack && p->qos != qos::at_most_once))
            return errc::invalid_argument;
        in_begin_ -= last_message_size_;
        last_message_size_ = 0;
        pending_ = {};
        reserved_ = 0;
        held_ = true;
        return errc::success;
    }
    /// @brief Processes input again after `hold_input()`.
    void resume_input() noexcept { held_ = false; }
    /// @brief True between `hold_input()` and `resume_input()`.
    [[nodiscard]] bool input_held() const noexcept { return held_; }

    /// @brief Bounds the work of one call of `next()`: at most `n` received packets are
    /// processed (0, the default: all that are buffered, up to the first event). A server with
    /// many connections gives each its share of a turn this way, whatever size its packets are
    /// (a flood of 2-byte PINGREQs included); when `next()` returns `none` with
    /// `input_backlog()` true, the rest waits for a later call, with no new input needed.
    void set_packets_per_call(std::uint16_t n) noexcept { packets_per_call_ = n; }
    /// @brief True when a whole packet is buffered and not processed yet (the budget of
    /// `set_packets_per_call()` ran out, or the input is held).
    [[nodiscard]] bool input_backlog() const noexcept {
        if (status_ != connection_status::connecting && status_ != connection_status::connected)
            return false;
        const auto buffered =
            std::span<const std::byte>(in_.data() + in_begin_, in_end_ - in_begin_);
        return !buffered.empty() && next_frame(buffered).status != errc::incomplete;
    }

    /// @brief Ends the connection: DISCONNECT with `rc` (5.0; before 5.0 only a client sends
    /// DISCONNECT, without fields), then nothing more is sent (MQTT-3.14.4-2 / MQTT5-3.14.4-1).
    /// `next()` then reports `closed`; write the remaining output and close the transport.
    /// @return `errc::protocol_error` when a client asks to set a Session Expiry Interval after
    /// connecting with 0 (MQTT5-3.14.2-2 ... section 3.14.2.2.2); codec errors for `properties`.
    [[nodiscard]] errc disconnect(reason_code rc = reason_code::success,
                                  properties_view properties = {}) noexcept {
        if (status_ != connection_status::connected && status_ != connection_status::connecting)
            return errc::not_connected;
        // An acknowledgement or answer still owed goes out before the DISCONNECT.
        if (status_ == connection_status::connected && pending_.kind != detail::pending_kind::none)
            answer_default();
        if (status_ == connection_status::connected &&
            (v5() || Role == peer_role::client)) {
            if (Role == peer_role::client && v5() && peer_.session_expiry == 0 &&
                properties.integer_or(property_id::session_expiry_interval, 0) != 0)
                return errc::protocol_error;
            disconnect_view d;
            d.reason = rc;
            d.properties = properties;
            if (const auto e = send_control(d); e != errc::success && e != errc::would_block)
                return e;
        }
        begin_close(rc, close_initiator::local, rc != reason_code::success);
        return errc::success;
    }

    /// @brief Where resent PUBLISH bytes come from when the session keeps no copies.
    void set_resend_source(resend_source fn, void* context) noexcept {
        resend_fn_ = fn;
        resend_ctx_ = context;
    }

  protected:
    /// Properties a PUBLISH may carry when the client replaces its topic by an alias; PUBLISHes
    /// with more are sent with their topic name.
    static constexpr std::size_t max_alias_properties = 8;
    static constexpr std::size_t read_chunk = 4096;

    explicit basic_connection(const Storage& storage) noexcept
        : in_(storage), out_(storage), aliases_in_(storage), owed_(storage) {}

    [[nodiscard]] Derived& derived() noexcept { return static_cast<Derived&>(*this); }

    // Names `wire`'s topic by alias as `aliases` chooses (5.0; MQTT5-3.3.2-12): its properties
    // are copied to `scratch` with the Topic Alias added. A PUBLISH that names its own Topic
    // Alias, or has more properties than the scratch holds, goes as it is.
    template <class Sender, class Scratch>
    [[nodiscard]] bool alias_into(Sender& aliases, publish_view& wire, Scratch& scratch) noexcept {
        constexpr std::size_t slots = detail::alias_scratch<Storage>();
        if constexpr (slots == 0) {
            (void)aliases;
            (void)wire;
            (void)scratch;
            return false;
        } else {
            if (!v5() || aliases.usable() == 0 || wire.topic.empty() ||
                wire.properties.contains(property_id::topic_alias) ||
                wire.properties.size() + 1 > slots || !scratch.reserve(slots))
                return false;
            const auto c = aliases.choose(wire.topic.bytes());
            if (c.alias == 0) return false;
            const std::span<property> props(scratch.data(), slots);
            std::size_t n = 0;
            for (const auto& p : wire.properties) props[n++] = p;
            props[n++] = {property_id::topic_alias, c.alias};
            wire.properties = std::span<const property>(props.first(n));
            if (!c.with_topic) wire.topic = {};
            return true;
        }
    }

    // A PUBLISH given encoded was not sent: an alias it was to set is forgotten.
    [[nodiscard]] errc fail_alias(std::span<const std::byte> packet, const publish_layout& l,
                                  topic_alias_choice alias, errc e) noexcept {
        if (alias.alias != 0) derived().alias_not_sent(packet.subspan(l.topic_at, l.topic_size));
        return e;
    }
    [[nodiscard]] const Derived& derived() const noexcept {
        return static_cast<const Derived&>(*this);
    }

    // PUBACK or PUBREC for an inbound PUBLISH; a QoS 2 identifier accepted is remembered until
    // PUBREL.
    [[nodiscard]] errc send_ack(std::uint16_t id, qos q, reason_code rc) noexcept {
        if (!v5()) rc = reason_code::success;
        if (q == qos::at_least_once) {
            puback_view a; // MQTT-4.3.2-2 / MQTT5-4.3.2-4
            a.packet_id = id;
            a.reason = rc;
            return send_control(a);
        }
        pubrec_view a; // MQTT-4.3.3-2 / MQTT5-4.3.3-8
        a.packet_id = id;
        a.reason = rc;
        const auto e = send_control(a);
        if (e == errc::success && static_cast<std::uint8_t>(rc) < 0x80)
            (void)state_->inbound_.insert(id);
        return e;
    }

    // The version in force is 5.0 (a constant false when the profile has no 5.0).
    [[nodiscard]] bool v5() const noexcept {
        return Profile.v5 && version_ == protocol_version::v5;
    }

    void advance(std::chrono::milliseconds now) noexcept {
        if (now > now_) now_ = now; // clocks that step back are held at the last reading
    }

    [[nodiscard]] encode_options encode_opts() const noexcept {
        encode_options eo;
        eo.sender = Role;
        eo.max_packet_size = peer_.maximum_packet_size;
        return eo;
    }

    // Output space for `n` more bytes; `own` sends leave room for the pending answer.
    [[nodiscard]] bool out_room(std::size_t n, bool own) noexcept {
        const std::size_t need = n + (own ? reserved_ : 0);
        if (out_.capacity() - out_end_ >= need) return true;
        if (out_begin_ > 0) {
            std::memmove(out_.data(), out_.data() + out_begin_, out_end_ - out_begin_);
            out_end_ -= out_begin_;
            out_begin_ = 0;
        }
        return out_.capacity() - out_end_ >= need || out_.reserve(out_end_ + need);
    }
    [[nodiscard]] std::span<std::byte> out_free() noexcept {
        return {out_.data() + out_end_, out_.capacity() - out_end_};
    }
    [[nodiscard]] std::span<std::byte> out_span(std::size_t n) noexcept {
        return {out_.data() + out_end_, n};
    }
    void out_commit(std::size_t n) noexcept {
        out_end_ += n;
        last_sent_ = now_;
        ++packets_.sent;
    }

    // Encodes a control packet into the output buffer (answers use the reserved room). Most are
    // a few bytes: they are encoded straight into the free space, measured only when it is short.
    template <class P> [[nodiscard]] errc send_control(const P& p) noexcept {
        const auto eo = encode_opts();
        if (const auto direct = encode<Profile>(p, version_, out_free(), eo)) {
            out_commit(*direct);
            return errc::success;
        } else if (direct.error() != errc::buffer_too_small) {
            return direct.error();
        }
        const auto size = encoded_size<Profile>(p, version_, eo);
        if (!size) return size.error();
        if (!out_room(*size, false)) return errc::would_block;
        const auto n = encode<Profile>(p, version_, out_span(*size), eo);
        if (!n) return n.error();
        out_commit(*n);
        return errc::success;
    }

    [[nodiscard]] errc check_publish(qos q, bool retain) const noexcept {
        if (status_ != connection_status::connected || state_ == nullptr)
            return errc::not_connected;
        if (Role == peer_role::client && v5()) {
            if (q > peer_.maximum_qos) return errc::qos_not_supported;      // MQTT5-3.2.2-11
            if (retain && !peer_.retain_available) return errc::retain_not_supported; // MQTT5-3.2.2-14
        }
        if (q == qos::at_most_once) return errc::success;
        if (resend_cursor_ != 0) return errc::would_block; // MQTT-4.6.0-1: resent ones first
        if (send_quota() == 0) return errc::would_block;   // MQTT5-3.3.4-7, MQTT5-4.9.0-2
        return errc::success;
    }

    void compact_input() noexcept {
        if (in_begin_ == 0) return;
        last_message_size_ = 0; // the message's bytes may move: it can no longer be held
        const std::size_t rest = in_end_ - in_begin_;
        if (rest != 0) std::memmove(in_.data(), in_.data() + in_begin_, rest);
        in_begin_ = 0;
        in_end_ = rest;
        if (rest == 0) in_.shrink_to(0);
    }

    // A violation by the peer: DISCONNECT with the reason (5.0, once connected: MQTT5-4.13.1-1)
    // and close (MQTT-4.8.0-1); the will is due. A server's DISCONNECT names the error in a
    // Reason String (allowed on DISCONNECT whatever Request Problem Information says,
    // MQTT5-3.1.2-29), left out when it would exceed the client's Maximum Packet Size
    // (MQTT5-3.14.2-3); a client's stays small (no table of error names on a device).
    [[nodiscard]] session_event violation(errc e) noexcept {
        const auto rc = detail::disconnect_reason(e);
        if (status_ == connection_status::connected && v5()) {
            disconnect_view d;
            d.reason = rc;
            errc sent = errc::invalid_argument;
            if constexpr (Profile.v5 && Role == peer_role::server) {
                const property why[] = {{property_id::reason_string, errc_name(e)}};
                d.properties = why;
                sent = send_control(d);
                d.properties = {};
            }
            if (sent != errc::success) (void)send_control(d);
        }
        begin_close(rc, close_initiator::local, true);
        close_error_ = e;
        return finish_close();
    }

    void begin_close(reason_code rc, close_initiator who, bool will) noexcept {
        if (status_ == connection_status::closing) return;
        status_ = connection_status::closing;
        close_reason_ = rc;
        close_by_ = who;
        close_will_ = will;
        pending_ = {};
        reserved_ = 0;
    }

    [[nodiscard]] session_event finish_close() noexcept {
        session_event ev;
        ev.kind = event_kind::closed;
        ev.reason = close_reason_;
        ev.initiator = close_by_;
        ev.publish_will = close_will_ && derived().will_applies();
        ev.session_expiry = close_expiry_;
        ev.error = close_error_;
        close_error_ = errc::success;
        status_ = Role == peer_role::client ? connection_status::idle : connection_status::closed;
        resend_cursor_ = 0;
        held_ = false;
        last_message_size_ = 0;
        aliases_in_.clear();
        owed_.clear(); // the peer resends them after a reconnect (MQTT-4.4.0-1 / MQTT5-4.4.0-1)
        in_begin_ = in_end_ = 0;
        in_.shrink_to(0);
        if (state_ != nullptr) state_->release_requests();
        derived().role_closed();
        return ev;
    }

    // Starts over for a new network connection: buffers, timers, negotiated limits and aliases
    // go; the session state stays.
    void reset_connection() noexcept {
        in_begin_ = in_end_ = out_begin_ = out_end_ = 0;
        in_.shrink_to(0);
        out_.shrink_to(0);
        aliases_in_.clear();
        owed_.clear();
        peer_ = peer_limits{};
        pending_ = {};
        reserved_ = 0;
        resend_cursor_ = 0;
        held_ = false;
        last_message_size_ = 0;
        close_expiry_.reset();
        close_reason_ = reason_code::success;
        close_by_ = close_initiator::none;
        close_will_ = false;
        last_sent_ = last_received_ = now_;
    }

    // MQTT-4.4.0-1 / MQTT5-4.4.0-1: after a reconnect with a session present, unacknowledged
    // PUBLISH (DUP 1, MQTT-3.3.1-1 / MQTT5-3.3.1-1) and PUBREL go again with their identifiers,
    // in order (MQTT-4.6.0-1 / MQTT5-4.6.0-1); as much as the output buffer takes per call.
    // Returns the number of messages dropped as too large for the peer.
    std::uint16_t start_resend() noexcept {
        resend_cursor_ = state_ == nullptr ? 0 : state_->out_.front();
        return continue_resend();
    }
    std::uint16_t continue_resend() noexcept {
        std::uint16_t dropped = 0;
        while (resend_cursor_ != 0) {
            const std::uint16_t id = resend_cursor_;
            const auto* r = state_->out_.find(id);
            const std::uint16_t next = state_->out_.next(id);
            if (r == nullptr || !is_publish_state(r->state)) {
                resend_cursor_ = next;
                continue;
            }
            if (r->state == outbound_state::pubrel) {
                pubrel_view rel;
                rel.packet_id = id;
                if (send_control(rel) != errc::success) return dropped;
                resend_cursor_ = next;
                continue;
            }
            std::span<const std::byte> bytes;
            if (r->ref != detail::no_ref) bytes = state_->copies_.get(r->ref);
            else if (resend_fn_ != nullptr) bytes = resend_fn_(resend_ctx_, id);
            const auto f = next_frame(bytes);
            const std::size_t id_at =
                f.status == errc::success ? detail::publish_id_offset(bytes, f.header_size) : 0;
            // Only a profile with levels on both sides of 5.0 can resume across it.
            if constexpr (Profile.v3 && Profile.v5) {
                if (id_at != 0 && r->format != detail::copy_format::unknown &&
                    r->format != copy_format_now()) {
                    const auto done = resend_at_this_level(bytes, f, r->format, id);
                    if (done == resent::no_room) return dropped;
                    resend_cursor_ = next;
                    if (done == resent::dropped) {
                        state_->release(id);
                        ++dropped;
                    }
                    continue;
                }
            }
            if (id_at == 0 || bytes.size() > peer_.maximum_packet_size) {
                // Gone, or too large for the peer now (MQTT5-3.1.2-25: as if delivered).
                resend_cursor_ = next;
                state_->release(id);
                ++dropped;
                continue;
            }
            if (!out_room(bytes.size(), false)) return dropped;
            auto out = out_span(bytes.size());
            std::memcpy(out.data(), bytes.data(), bytes.size());
            out[0] |= std::byte{0x08}; // DUP
            detail::put_u16(out.data() + id_at, id);
            out_commit(bytes.size());
            resend_cursor_ = next;
        }
        return dropped;
    }

    [[nodiscard]] detail::copy_format copy_format_now() const noexcept {
        return v5() ? detail::copy_format::v5 : detail::copy_format::before_v5;
    }

    enum class resent : std::uint8_t { sent, no_room, dropped };
    // The session resumed at a protocol level on the other side of 5.0 than the copy's (a
    // client may reconnect with another level; its session stays, MQTT-3.1.2-4 /
    // MQTT5-3.1.2-23): the PUBLISH is encoded again for this level, DUP set. Properties do not
    // exist before 5.0 and are dropped going down; none are added going up.
    [[nodiscard]] resent resend_at_this_level(std::span<const std::byte> copy, const frame& f,
                                              detail::copy_format format,
                                              std::uint16_t id) noexcept {
        decode_options o;
        o.version = format == detail::copy_format::v5 ? protocol_version::v5
                                                      : protocol_version::v3_1_1;
        o.sender = Role;
        const auto decoded = decode<publish_view, Profile>(copy, f, o);
        if (!decoded) return resent::dropped;
        publish_view p = *decoded;
        p.dup = true;
        p.packet_id = id;
        if (!v5()) p.properties = {};
        const auto eo = encode_opts();
        const auto size = encoded_size<Profile>(p, version_, eo);
        if (!size || *size > peer_.maximum_packet_size) return resent::dropped;
        if (!out_room(*size, false)) return resent::no_room;
        const auto n = encode<Profile>(p, version_, out_span(*size), eo);
        if (!n) return resent::dropped; // unreachable: measured above with the same options
        out_commit(*n);
        return resent::sent;
    }

    [[nodiscard]] std::uint16_t allocate_outbound(outbound_state s) noexcept {
        return state_->out_.allocate(s);
    }
    [[nodiscard]] detail::outbound_record* find_outbound(std::uint16_t id) noexcept {
        return state_->out_.find(id);
    }

    // Frees an outbound identifier, keeping the resend cursor on a live record.
    void release_outbound(std::uint16_t id) noexcept {
        if (resend_cursor_ == id) resend_cursor_ = state_->out_.next(id);
        state_->release(id);
    }

    // ------------------------------------------------------------------------------------------
    // Received packets

    [[nodiscard]] session_event dispatch() noexcept {
        const auto t = type_of(packet_);
        // MQTT-3.2.0-1 / MQTT5-3.2.0-1, MQTT-3.1.0-1 / MQTT5-3.1.0-1: nothing of the QoS flows
        // before CONNACK.
        if (t >= packet_type::publish && t <= packet_type::pubcomp &&
            status_ != connection_status::connected)
            return violation(errc::protocol_error);
        switch (t) {
        case packet_type::publish: return on_publish(std::get<publish_view>(packet_));
        case packet_type::puback: return on_puback(std::get<puback_view>(packet_));
        case packet_type::pubrec: return on_pubrec(std::get<pubrec_view>(packet_));
        case packet_type::pubrel: return on_pubrel(std::get<pubrel_view>(packet_));
        case packet_type::pubcomp: return on_pubcomp(std::get<pubcomp_view>(packet_));
        default: return derived().role_packet();
        }
    }

    [[nodiscard]] session_event event_of(event_kind k, std::uint16_t id = 0) const noexcept {
        session_event ev;
        ev.kind = k;
        ev.packet_id = id;
        ev.packet = &packet_;
        return ev;
    }

    [[nodiscard]] session_event on_publish(publish_view& p) noexcept {
        if (status_ != connection_status::connected) return violation(errc::protocol_error);
        if (v5() && p.properties.contains(property_id::topic_alias)) {
            // The topic of an alias alone is filled in where the PUBLISH was decoded.
            const auto alias =
                p.properties.integer_or(property_id::topic_alias, 0);
            // MQTT5-3.3.2-10 / MQTT5-3.3.2-12: accepted from 1 to the maximum announced; beyond
            // it is a Topic Alias invalid (0x94).
            if (alias == 0 || alias > alias_in_max_) return violation(errc::topic_alias_invalid);
            const auto a = static_cast<std::uint16_t>(alias);
            if (!p.topic.empty()) {
                if (const auto e = aliases_in_.set(a, p.topic.bytes()); e != errc::success)
                    return violation(e);
            } else if (!aliases_in_.get(a, p.topic)) {
                // MQTT 5.0 section 3.3.2.3.4: an alias with no mapping is a Protocol Error.
                return violation(errc::protocol_error);
            }
        }
        if (const auto e = derived().check_inbound_publish(p); e != errc::success)
            return violation(e);
        auto ev = event_of(event_kind::message, p.packet_id);
        ev.message = &p;
        if (p.qos == qos::at_most_once) return ev;
        if (const qos owed = owed_.qos_of(p.packet_id); owed != qos::at_most_once) {
            // The answer to this identifier is deferred: the same message again (MQTT5-4.3.2-5
            // and MQTT5-4.3.3-10 the other way round), answered when the embedder acknowledges
            // it. With another QoS the identifier was reused while in use (MQTT-2.3.1-2 /
            // MQTT5-2.2.1-3, MQTT5-2.2.1-4).
            return owed == p.qos ? session_event{} : violation(errc::protocol_error);
        }
        if (p.qos == qos::exactly_once && state_->inbound_.contains(p.packet_id)) {
            // MQTT-4.3.3-2 / MQTT5-4.3.3-10: a PUBLISH whose identifier awaits PUBREL is the same
            // message again: PUBREC again, no second delivery.
            pubrec_view a;
            a.packet_id = p.packet_id;
            (void)send_control(a);
            return {};
        }
        // Receive Maximum: more unanswered QoS 1/2 PUBLISHes than announced, deferred ones
        // included (MQTT5-3.3.4-9 for a server's own sends; the receiver answers 0x93, section
        // 3.3.4). Before 5.0 nothing was announced, and a full table of QoS 2 identifiers
        // (deferred ones will need a place) ends the connection: a message that cannot be
        // delivered exactly once is not accepted.
        const std::size_t qos2 = state_->inbound_.size() + owed_.qos2();
        if ((v5() ? state_->inbound_.size() + owed_.size() : qos2) + 1 > inbound_receive_maximum_ ||
            (p.qos == qos::exactly_once && qos2 >= state_->inbound_.max_size()))
            return violation(errc::receive_maximum_exceeded);
        pending_ = {detail::pending_kind::ack, p.qos, p.packet_id, 0};
        reserved_ = detail::answer_reserve;
        return ev;
    }

    [[nodiscard]] session_event on_puback(const puback_view& a) noexcept {
        const auto* r = state_->out_.find(a.packet_id);
        if (r == nullptr) return {}; // an acknowledgement of nothing in flight: ignored
        if (r->state != outbound_state::publish_qos1) return violation(errc::protocol_error);
        release_outbound(a.packet_id); // MQTT-4.3.2-1 / MQTT5-4.3.2-3: acknowledged, id free
        auto ev = event_of(event_kind::published, a.packet_id);
        ev.reason = a.reason;
        return ev;
    }

    [[nodiscard]] session_event on_pubrec(const pubrec_view& a) noexcept {
        auto* r = state_->out_.find(a.packet_id);
        pubrel_view rel;
        rel.packet_id = a.packet_id;
        if (r == nullptr) {
            // 5.0 section 3.6.2.1: PUBREL 0x92 for an identifier not in flight.
            if (v5()) rel.reason = reason_code::packet_identifier_not_found;
            (void)send_control(rel);
            return {};
        }
        if (r->state == outbound_state::pubrel) { // the PUBREC again: PUBREL again
            (void)send_control(rel);
            return {};
        }
        if (r->state != outbound_state::publish_qos2) return violation(errc::protocol_error);
        if (static_cast<std::uint8_t>(a.reason) >= 0x80) {
            // MQTT5-4.4.0-2: acknowledged with an error, not retransmitted; quota back.
            release_outbound(a.packet_id);
            auto ev = event_of(event_kind::published, a.packet_id);
            ev.reason = a.reason;
            return ev;
        }
        // MQTT-4.3.3-1 / MQTT5-4.3.3-4, MQTT5-4.3.3-6: PUBREL now; the PUBLISH is never sent
        // again, so its copy goes.
        if (r->ref != detail::no_ref) {
            state_->copies_.release(r->ref);
            r->ref = detail::no_ref;
        }
        r->state = outbound_state::pubrel;
        if (resend_cursor_ == a.packet_id) resend_cursor_ = state_->out_.next(a.packet_id);
        state_->out_.move_to_back(a.packet_id); // MQTT-4.6.0-4 / MQTT5-4.6.0-4
        (void)send_control(rel);
        return event_of(event_kind::released, a.packet_id);
    }

    [[nodiscard]] session_event on_pubrel(const pubrel_view& a) noexcept {
        pubcomp_view c; // MQTT-4.3.3-2 / MQTT5-4.3.3-11
        c.packet_id = a.packet_id;
        const bool known = state_->inbound_.erase(a.packet_id);
        if (!known && v5()) c.reason = reason_code::packet_identifier_not_found;
        (void)send_control(c);
        return known ? event_of(event_kind::peer_released, a.packet_id) : session_event{};
    }

    [[nodiscard]] session_event on_pubcomp(const pubcomp_view& a) noexcept {
        const auto* r = state_->out_.find(a.packet_id);
        if (r == nullptr) return {};
        if (r->state != outbound_state::pubrel) return violation(errc::protocol_error);
        release_outbound(a.packet_id); // MQTT5-4.3.3-5: the exchange is complete
        auto ev = event_of(event_kind::published, a.packet_id);
        ev.reason = a.reason;
        return ev;
    }

    void answer_default() noexcept {
        if (pending_.kind == detail::pending_kind::ack) acknowledge(reason_code::success);
        else derived().role_answer_default();
        pending_ = {};
        reserved_ = 0;
    }

    // Members. Buffers first: the largest, and never moved.
    typename Storage::template buffer<std::byte, storage_part::input> in_;
    typename Storage::template buffer<std::byte, storage_part::output> out_;
    detail::alias_table<Storage, storage_part::aliases_in, storage_part::alias_bytes_in> aliases_in_;
    [[no_unique_address]] detail::owed_acks<Storage> owed_;
    packet_view packet_{};
    state_type* state_ = nullptr;
    std::size_t in_begin_ = 0;
    std::size_t in_end_ = 0;
    std::size_t out_begin_ = 0;
    std::size_t out_end_ = 0;
    std::size_t reserved_ = 0;
    std::chrono::milliseconds now_{0};
    std::chrono::milliseconds last_sent_{0};
    std::chrono::milliseconds last_received_{0};
    peer_limits peer_{};
    std::size_t inbound_receive_maximum_ = 65535;
    std::uint16_t alias_in_max_ = 0; // the Topic Alias Maximum this side announced
    resend_source resend_fn_ = nullptr;
    void* resend_ctx_ = nullptr;
    std::optional<std::uint32_t> close_expiry_{};
    detail::pending_answer pending_{};
    std::uint16_t resend_cursor_ = 0;
    connection_status status_ = connection_status::idle;
    protocol_version version_ = protocol_version::v3_1_1;
    reason_code close_reason_ = reason_code::success;
    close_initiator close_by_ = close_initiator::none;
    bool close_will_ = false;
    errc close_error_ = errc::success; // the peer's violation behind a local close
    std::uint16_t packets_per_call_ = 0; // set_packets_per_call(); 0: no bound
    bool held_ = false; // hold_input(): no input is processed
    // The size of the PUBLISH behind a `message` event the last `next()` returned (0 otherwise):
    // what `hold_input()` gives back.
    std::uint32_t last_message_size_ = 0;
    packet_counts packets_{};
};

} // namespace mqttwire
