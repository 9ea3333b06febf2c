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
#include "connection_io.hpp"
#include "decode_into.hpp"
#include "event.hpp"
#include "inbound_flow.hpp"
#include "outbound_publish.hpp"
#include "owed_acks.hpp"
#include "resend.hpp"
#include "state.hpp"
#include "storage.hpp"

namespace mqttwire {

namespace detail {

using ms = std::chrono::milliseconds;

[[nodiscard]] constexpr ms add_saturating(ms a, ms b) noexcept {
    constexpr auto top = std::numeric_limits<ms::rep>::max();
    return a.count() > top - b.count() ? ms(top) : a + b;
}

// The DISCONNECT reason code for a refusal the codec or the session reported.
[[nodiscard]] constexpr reason_code disconnect_reason(errc e) noexcept {
    const auto rc = static_cast<reason_code>(e);
    if (!is_codec_only(e) && is_allowed(rc, reason_context::disconnect)) return rc;
    return e == errc::protocol_error ? reason_code::protocol_error : reason_code::malformed_packet;
}

} // namespace detail

/// @brief The machinery both roles share: buffers, framing, decoding, the QoS 1 and 2 flows
/// both ways, resending, Receive Maximum, inbound topic aliases, closing. Use `client<Storage>`
/// or `server<Storage>`. `Profile` (see `codec_profile`) is what the codec links: a 3.1.1-only
/// client (`client_v3_profile`) holds none of the 5.0 property machinery.
///
/// The parts live in their own headers: the byte buffers (`connection_io.hpp`), sending
/// (`outbound_publish.hpp`), receiving and answering (`inbound_flow.hpp`), resending
/// (`resend.hpp`); this class holds the state they share, the event loop and closing.
template <class Derived, peer_role Role, class Storage, codec_profile Profile>
class basic_connection
    : public detail::connection_io<Storage>,
      public detail::outbound_publish<Derived, Role, Storage, Profile>,
      public detail::inbound_flow<Derived, Role, Storage, Profile>,
      public detail::connection_resend<Derived, Role, Storage, Profile> {
    using io = detail::connection_io<Storage>;
    using sending = detail::outbound_publish<Derived, Role, Storage, Profile>;
    using receiving = detail::inbound_flow<Derived, Role, Storage, Profile>;
    using resending_part = detail::connection_resend<Derived, Role, Storage, Profile>;
    friend sending;
    friend receiving;
    friend resending_part;

  public:
    using storage_type = Storage;
    using state_type = session_state<Storage>;
    static constexpr codec_profile profile = Profile;
    static constexpr peer_role role = Role;
    static constexpr peer_role peer_role_value =
        Role == peer_role::client ? peer_role::server : peer_role::client;

    basic_connection(const basic_connection&) = delete;
    basic_connection& operator=(const basic_connection&) = delete;

    using receiving::acknowledge;

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
        if (this->frequent() && now_ - last_received_ >= io::keep_quiet) this->quiet_down();
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
            if (buffered.empty()) {
                // Drained: the input buffer and the decoded packet go back now (no view is out:
                // this call returns none), so an idle connection keeps neither.
                compact_input();
                return {};
            }
            if (packets_per_call_ != 0 && taken == packets_per_call_) return {}; // input_backlog()
            if (!derived().first_byte_ok(buffered[0])) return finish_close();
            decode_options o;
            o.version = version_;
            o.max_packet_size = derived().inbound_limit();
            o.sender = peer_role_value;
            o.bridge_levels = derived().bridge_levels();
            const auto f = next_frame(buffered, o.max_packet_size);
            if (f.status == errc::incomplete) {
                this->trim_partial_input();
                return {};
            }
            if (f.status != errc::success) return violation(f.status);
            const auto pkt = buffered.first(f.size);
            if (!this->decoded_.acquire()) return violation(errc::quota_exceeded);
            if (const auto e = detail::decode_frame_into<Profile>(pkt, f, o, packet());
                e != errc::success)
                return derived().decode_failed(e, pkt);
            // Flow control before work: a packet is taken only when its answer fits the output
            // buffer, so a peer that does not read stops being read (issue 15: no unbounded
            // PINGRESP or PUBACK backlog).
            if (!out_room(derived().answer_size(packet()), false)) {
                if (out_end_ - out_begin_ == 0) return violation(errc::quota_exceeded);
                return {};
            }
            in_begin_ += static_cast<typename io::index>(f.size);
            ++this->packets_.received;
            if constexpr (Storage::allocates) {
                if (status_ == connection_status::connected && now_ - last_received_ < io::keep_quiet)
                    this->recent_ = 1;
            }
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
        auto d = derived().role_deadline();
        if (this->frequent()) { // the buffers kept for traffic go back when it stops
            const auto quiet = last_received_ + io::keep_quiet;
            if (!d || quiet < *d) d = quiet;
        }
        return d;
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
    /// @brief The session state in use (null for a server before `accept()`).
    [[nodiscard]] state_type* session() const noexcept { return state_; }

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

  protected:
    /// Properties a PUBLISH may carry when the client replaces its topic by an alias; PUBLISHes
    /// with more are sent with their topic name.
    static constexpr std::size_t max_alias_properties = 8;

    explicit basic_connection(const Storage& storage) noexcept
        : io(storage), aliases_in_(storage), owed_(storage) {}

    using io::compact_input;
    using io::in_;
    using io::in_begin_;
    using io::in_end_;
    using io::last_message_size_;
    using io::out_;
    using io::out_begin_;
    using io::out_end_;
    using io::out_free;
    using io::out_room;
    using io::out_span;
    using io::packet;
    using io::release_input;
    using io::reserved_;
    using receiving::on_puback;
    using receiving::on_pubcomp;
    using receiving::on_publish;
    using receiving::on_pubrec;
    using receiving::on_pubrel;
    using resending_part::continue_resend;
    using resending_part::start_resend;

    [[nodiscard]] Derived& derived() noexcept { return static_cast<Derived&>(*this); }

    [[nodiscard]] const Derived& derived() const noexcept {
        return static_cast<const Derived&>(*this);
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

    void out_commit(std::size_t n) noexcept {
        out_end_ += static_cast<typename io::index>(n);
        if constexpr (Role == peer_role::client) derived().last_sent_ = now_; // keep-alive
        ++this->packets_.sent;
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
        if (has_close_expiry_) ev.session_expiry = close_expiry_;
        ev.error = close_error_;
        close_error_ = errc::success;
        status_ = Role == peer_role::client ? connection_status::idle : connection_status::closed;
        resend_cursor_ = 0;
        held_ = false;
        last_message_size_ = 0;
        aliases_in_.clear();
        owed_.clear(); // the peer resends them after a reconnect (MQTT-4.4.0-1 / MQTT5-4.4.0-1)
        release_input();
        if (state_ != nullptr) state_->release_requests();
        derived().role_closed();
        return ev;
    }

    // Starts over for a new network connection: buffers, timers, negotiated limits and aliases
    // go; the session state stays.
    void reset_connection() noexcept {
        release_input();
        out_begin_ = out_end_ = 0;
        out_.shrink_to(0);
        aliases_in_.clear();
        owed_.clear();
        peer_ = peer_limits{};
        pending_ = {};
        reserved_ = 0;
        resend_cursor_ = 0;
        held_ = false;
        last_message_size_ = 0;
        has_close_expiry_ = false;
        close_reason_ = reason_code::success;
        close_by_ = close_initiator::none;
        close_will_ = false;
        last_received_ = now_;
    }

    [[nodiscard]] detail::copy_format copy_format_now() const noexcept {
        return v5() ? detail::copy_format::v5 : detail::copy_format::before_v5;
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
        const auto t = type_of(packet());
        // MQTT-3.2.0-1 / MQTT5-3.2.0-1, MQTT-3.1.0-1 / MQTT5-3.1.0-1: nothing of the QoS flows
        // before CONNACK.
        if (t >= packet_type::publish && t <= packet_type::pubcomp &&
            status_ != connection_status::connected)
            return violation(errc::protocol_error);
        switch (t) {
        case packet_type::publish: return on_publish(std::get<publish_view>(packet()));
        case packet_type::puback: return on_puback(std::get<puback_view>(packet()));
        case packet_type::pubrec: return on_pubrec(std::get<pubrec_view>(packet()));
        case packet_type::pubrel: return on_pubrel(std::get<pubrel_view>(packet()));
        case packet_type::pubcomp: return on_pubcomp(std::get<pubcomp_view>(packet()));
        default: return derived().role_packet();
        }
    }

    [[nodiscard]] session_event event_of(event_kind k, std::uint16_t id = 0) const noexcept {
        session_event ev;
        ev.kind = k;
        ev.packet_id = id;
        ev.packet = &packet();
        return ev;
    }

    void answer_default() noexcept {
        if (pending_.kind == detail::pending_kind::ack) acknowledge(reason_code::success);
        else derived().role_answer_default();
        pending_ = {};
        reserved_ = 0;
    }

    // Members (the buffers are in `connection_io`, the resend source in `connection_resend`),
    // ordered so that nothing is padding: one object per network connection, so every byte
    // counts. With allocator-backed storage the alias map and the owed acknowledgements are a
    // pointer and two 16-bit counts each (allocated when used); the 32-bit and 16-bit fields
    // fill the rest of their 16 bytes.
    [[no_unique_address]] detail::alias_map<Storage, storage_part::aliases_in,
                                            storage_part::alias_bytes_in> aliases_in_;
    // The Session Expiry Interval of the peer's DISCONNECT, when `has_close_expiry_`.
    std::uint32_t close_expiry_ = 0;
    [[no_unique_address]] detail::owed_acks<Storage> owed_;
    detail::pending_answer pending_{};
    state_type* state_ = nullptr;
    std::chrono::milliseconds now_{0};
    // The last packet received; for a server before CONNECT, when the connection was accepted.
    std::chrono::milliseconds last_received_{0};
    peer_limits peer_{};
    std::uint16_t inbound_receive_maximum_ = 65535;
    std::uint16_t alias_in_max_ = 0; // the Topic Alias Maximum this side announced
    std::uint16_t packets_per_call_ = 0; // set_packets_per_call(); 0: no bound
    std::uint16_t resend_cursor_ = 0; // the next identifier to resend; 0: not resending
    connection_status status_ = connection_status::idle;
    protocol_version version_ = protocol_version::v3_1_1;
    reason_code close_reason_ = reason_code::success;
    close_initiator close_by_ = close_initiator::none;
    bool close_will_ = false;
    bool has_close_expiry_ = false;
    errc close_error_ = errc::success; // the peer's violation behind a local close
    bool held_ = false; // hold_input(): no input is processed
};

} // namespace mqttwire

