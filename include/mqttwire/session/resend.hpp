#pragma once
/// @file
/// @brief Resending after a reconnect (MQTT-4.4.0-1 / MQTT5-4.4.0-1): the in-flight PUBLISH and
/// PUBREL of a resumed session go again, in order, from the kept copies or from the embedder
/// (`resend_source`), re-encoded when the session resumed on the other side of 5.0.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "../errc.hpp"
#include "../framer.hpp"
#include "../packet.hpp"
#include "../profile.hpp"
#include "state.hpp"

namespace mqttwire {

/// @brief Supplies the bytes of an in-flight PUBLISH to resend when the session keeps no copies
/// (`session_limits::resend_bytes` 0): any encoding of it (the session sets DUP and the packet
/// identifier), or an empty span when the message is gone (its identifier is then released).
/// The bytes must stay valid until the function returns.
using resend_source = std::span<const std::byte> (*)(void* context,
                                                     std::uint16_t packet_id) noexcept;

namespace detail {

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

// The resend machinery of `basic_connection`: the resend cursor walks the session's send order.
template <class Derived, peer_role Role, class Storage, codec_profile Profile>
class connection_resend {
    using conn_type = basic_connection<Derived, Role, Storage, Profile>;
    friend conn_type;

  public:
    /// @brief True while in-flight messages are being resent after a reconnect; new PUBLISHes
    /// wait (`errc::would_block`) so that resent ones keep their order (MQTT-4.6.0-1).
    [[nodiscard]] bool resending() const noexcept { return conn().resend_cursor_ != 0; }
    /// @brief Where resent PUBLISH bytes come from when the session keeps no copies.
    void set_resend_source(resend_source fn, void* context) noexcept {
        resend_fn_ = fn;
        resend_ctx_ = context;
    }

  protected:
    connection_resend() noexcept = default;

    // MQTT-4.4.0-1 / MQTT5-4.4.0-1: after a reconnect with a session present, unacknowledged
    // PUBLISH (DUP 1, MQTT-3.3.1-1 / MQTT5-3.3.1-1) and PUBREL go again with their identifiers,
    // in order (MQTT-4.6.0-1 / MQTT5-4.6.0-1); as much as the output buffer takes per call.
    // Returns the number of messages dropped as too large for the peer.
    std::uint16_t start_resend() noexcept {
        auto& c = conn();
        c.resend_cursor_ = c.state_ == nullptr ? 0 : c.state_->out_.front();
        return c.continue_resend();
    }
    std::uint16_t continue_resend() noexcept {
        auto& c = conn();
        std::uint16_t dropped = 0;
        while (c.resend_cursor_ != 0) {
            const std::uint16_t id = c.resend_cursor_;
            const auto* r = c.state_->out_.find(id);
            const std::uint16_t next = c.state_->out_.next(id);
            if (r == nullptr || !is_publish_state(r->state)) {
                c.resend_cursor_ = next;
                continue;
            }
            if (r->state == outbound_state::pubrel) {
                pubrel_view rel;
                rel.packet_id = id;
                if (c.send_control(rel) != errc::success) return dropped;
                c.resend_cursor_ = next;
                continue;
            }
            std::span<const std::byte> bytes;
            if (r->ref != detail::no_ref)
                bytes = c.state_->copies_.get(r->ref);
            else if (c.resend_fn_ != nullptr)
                bytes = c.resend_fn_(c.resend_ctx_, id);
            const auto f = next_frame(bytes);
            const std::size_t id_at =
                f.status == errc::success ? detail::publish_id_offset(bytes, f.header_size) : 0;
            // Only a profile with levels on both sides of 5.0 can resume across it.
            if constexpr (Profile.v3 && Profile.v5) {
                if (id_at != 0 && r->format != detail::copy_format::unknown &&
                    r->format != c.copy_format_now()) {
                    const auto done = c.resend_at_this_level(bytes, f, r->format, id);
                    if (done == resent::no_room) return dropped;
                    c.resend_cursor_ = next;
                    if (done == resent::dropped) {
                        c.state_->release(id);
                        ++dropped;
                    }
                    continue;
                }
            }
            if (id_at == 0 || bytes.size() > c.peer_.maximum_packet_size) {
                // Gone, or too large for the peer now (MQTT5-3.1.2-25: as if delivered).
                c.resend_cursor_ = next;
                c.state_->release(id);
                ++dropped;
                continue;
            }
            if (!c.out_room(bytes.size(), false)) return dropped;
            auto out = c.out_span(bytes.size());
            std::memcpy(out.data(), bytes.data(), bytes.size());
            out[0] |= std::byte{0x08}; // DUP
            detail::put_u16(out.data() + id_at, id);
            c.out_commit(bytes.size());
            c.resend_cursor_ = next;
        }
        return dropped;
    }

    enum class resent : std::uint8_t { sent, no_room, dropped };
    // The session resumed at a protocol level on the other side of 5.0 than the copy's (a
    // client may reconnect with another level; its session stays, MQTT-3.1.2-4 /
    // MQTT5-3.1.2-23): the PUBLISH is encoded again for this level, DUP set. Properties do not
    // exist before 5.0 and are dropped going down; none are added going up.
    [[nodiscard]] resent resend_at_this_level(std::span<const std::byte> copy, const frame& f,
                                              detail::copy_format format,
                                              std::uint16_t id) noexcept {
        auto& c = conn();
        decode_options o;
        o.version =
            format == detail::copy_format::v5 ? protocol_version::v5 : protocol_version::v3_1_1;
        o.sender = Role;
        const auto decoded = decode<publish_view, Profile>(copy, f, o);
        if (!decoded) return resent::dropped;
        publish_view p = *decoded;
        p.dup = true;
        p.packet_id = id;
        if (!c.v5()) p.properties = {};
        const auto eo = c.encode_opts();
        const auto size = encoded_size<Profile>(p, c.version_, eo);
        if (!size || *size > c.peer_.maximum_packet_size) return resent::dropped;
        if (!c.out_room(*size, false)) return resent::no_room;
        const auto n = encode<Profile>(p, c.version_, c.out_span(*size), eo);
        if (!n) return resent::dropped; // unreachable: measured above with the same options
        c.out_commit(*n);
        return resent::sent;
    }

  private:
    [[nodiscard]] conn_type& conn() noexcept { return static_cast<conn_type&>(*this); }
    [[nodiscard]] const conn_type& conn() const noexcept {
        return static_cast<const conn_type&>(*this);
    }

  protected:
    resend_source resend_fn_ = nullptr;
    void* resend_ctx_ = nullptr;
    // The resend cursor is `basic_connection::resend_cursor_`, with the other 16-bit fields.
};

} // namespace detail
} // namespace mqttwire
