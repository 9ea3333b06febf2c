#pragma once
/// @file
/// @brief The sending half of the QoS flows of `basic_connection`: `publish()` (encoded here,
/// its copy kept for resending) and `publish_encoded()` (a broker's encode-once fan-out), both
/// with outbound topic aliases where the role uses them.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "../errc.hpp"
#include "../framer.hpp"
#include "../packet.hpp"
#include "../profile.hpp"
#include "../result.hpp"
#include "alias_sender.hpp"
#include "resend.hpp"
#include "state.hpp"

namespace mqttwire::detail {

template <class Derived, peer_role Role, class Storage, codec_profile Profile>
class outbound_publish {
    using conn_type = basic_connection<Derived, Role, Storage, Profile>;
    friend conn_type;

  public:
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
        auto& c = conn();
        c.advance(now);
        if (const auto e = c.check_publish(p.qos, p.retain); e != errc::success) return e;
        publish_view wire = p;
        wire.dup = false; // MQTT-4.3.1-1, MQTT-4.3.2-1 / MQTT5-4.3.2-2, MQTT5-4.3.3-2
        wire.packet_id = p.qos == qos::at_most_once ? 0 : 1; // measured with a placeholder
        // The client may replace the topic by an alias; the copy for resending always keeps the
        // topic name, since aliases die with their connection (MQTT5-3.3.2-7).
        bool aliased = c.derived().apply_alias(wire);
        const auto fail = [&](errc e) {
            if (aliased) c.derived().alias_not_sent(p.topic.bytes());
            return e;
        };
        const auto eo = c.encode_opts();
        // Checked and measured once: the bytes are written below with the same context.
        detail::encode_ctx<Profile> ctx{c.version_};
        auto size = detail::fit(wire, c.version_, eo, ctx);
        if (!size && aliased && size.error() == errc::packet_too_large) {
            // Setting the alias made it too large for the peer: by name, if that fits.
            c.derived().alias_not_sent(p.topic.bytes());
            aliased = false;
            wire.topic = p.topic;
            wire.properties = p.properties;
            size = detail::fit(wire, c.version_, eo, ctx);
        }
        if (!size) return fail(size.error());
        if (!c.out_room(*size, true)) return fail(errc::would_block);
        std::uint16_t id = 0;
        if (p.qos != qos::at_most_once) {
            id =
                c.state_->out_.allocate(p.qos == qos::at_least_once ? outbound_state::publish_qos1
                                                                    : outbound_state::publish_qos2);
            if (id == 0) return fail(errc::would_block);
            wire.packet_id = id;
        }
        const auto out = c.out_span(*size);
        const auto n = detail::encode_fitted(wire, ctx, *size, out);
        if (!n) { // unreachable: measured above with the same options
            if (id != 0) c.state_->release(id);
            return fail(n.error());
        }
        if (id != 0 && c.state_->keeps_copies()) {
            std::uint32_t ref = detail::no_ref;
            if (!aliased) {
                ref = c.state_->copies_.store(out.first(*n));
            } else {
                publish_view keep = p;
                keep.dup = false;
                keep.packet_id = id;
                const auto keep_size = encoded_size<Profile>(keep, c.version_);
                if (keep_size) ref = c.state_->copies_.allocate(*keep_size);
                if (ref != detail::no_ref &&
                    !encode<Profile>(keep, c.version_, c.state_->copies_.get(ref))) {
                    c.state_->copies_.release(ref);
                    ref = detail::no_ref;
                }
            }
            if (ref == detail::no_ref) { // no room for the copy: not sent, try later
                c.state_->out_.release(id);
                return fail(errc::would_block);
            }
            c.state_->out_.find(id)->ref = ref;
            c.state_->out_.find(id)->format = c.copy_format_now();
        }
        c.out_commit(*n);
        return id;
    }

    /// @brief Sends a PUBLISH that is already encoded (a broker's fan-out encodes a message
    /// once per wire form): the bytes are copied and, for QoS 1/2, the packet identifier is
    /// written into the copy. Precondition: `packet` is one valid PUBLISH for this connection's
    /// protocol version, without Topic Alias, DUP 0.
    /// @return as `publish()`; `errc::invalid_argument` when `packet` is not one whole PUBLISH.
    [[nodiscard]] result<std::uint16_t> publish_encoded(std::span<const std::byte> packet,
                                                        std::chrono::milliseconds now) noexcept {
        auto& c = conn();
        c.advance(now);
        const auto f = next_frame(packet);
        if (f.status != errc::success || f.size != packet.size() ||
            (static_cast<std::uint8_t>(packet[0]) >> 4) != 3)
            return errc::invalid_argument;
        const auto q = static_cast<qos>((static_cast<std::uint8_t>(packet[0]) >> 1) & 3u);
        if (static_cast<std::uint8_t>(q) > 2) return errc::invalid_argument;
        const bool retain = (static_cast<std::uint8_t>(packet[0]) & 1u) != 0;
        if (const auto e = c.check_publish(q, retain); e != errc::success) return e;
        const std::size_t id_at =
            q == qos::at_most_once ? 0 : detail::publish_id_offset(packet, f.header_size);
        if (q != qos::at_most_once && id_at == 0) return errc::invalid_argument;
        // The wire form may name the topic by alias (server role, 5.0); the copy kept for
        // resending never does, since aliases end with the connection (MQTT5-3.3.2-7).
        topic_alias_choice alias{};
        publish_layout layout{};
        std::size_t wire_size = packet.size();
        std::size_t wire_id_at = id_at;
        if (c.v5() && c.derived().aliases_usable()) {
            const auto l = read_publish_layout(packet);
            if (!l) return errc::invalid_argument;
            layout = *l;
            alias = c.derived().choose_alias(packet.subspan(l->topic_at, l->topic_size));
            if (alias.alias != 0) {
                const auto a = detail::splice_alias(packet, layout, alias, {});
                if (!a) return c.fail_alias(packet, layout, alias, a.error());
                wire_size = a->size;
                wire_id_at = a->id_at;
            }
        }
        if (wire_size > c.peer_.maximum_packet_size && alias.alias != 0) {
            // Setting the alias made it too large for the peer: by name, if that fits.
            (void)c.fail_alias(packet, layout, alias, errc::packet_too_large);
            alias = {};
            wire_size = packet.size();
            wire_id_at = id_at;
        }
        if (wire_size > c.peer_.maximum_packet_size) return errc::packet_too_large;
        if (!c.out_room(wire_size, true))
            return c.fail_alias(packet, layout, alias, errc::would_block);
        std::uint16_t id = 0;
        if (q != qos::at_most_once) {
            id = c.state_->out_.allocate(q == qos::at_least_once ? outbound_state::publish_qos1
                                                                 : outbound_state::publish_qos2);
            if (id == 0) return c.fail_alias(packet, layout, alias, errc::would_block);
            if (c.state_->keeps_copies()) {
                const auto ref = c.state_->copies_.store(packet);
                if (ref == detail::no_ref) {
                    c.state_->out_.release(id);
                    return c.fail_alias(packet, layout, alias, errc::would_block);
                }
                detail::put_u16(c.state_->copies_.get(ref).data() + id_at, id);
                c.state_->out_.find(id)->ref = ref;
                c.state_->out_.find(id)->format = c.copy_format_now();
            }
        }
        auto out = c.out_span(wire_size);
        if (alias.alias != 0)
            (void)detail::splice_alias(packet, layout, alias, out); // measured above
        else
            std::memcpy(out.data(), packet.data(), packet.size());
        if (id != 0) detail::put_u16(out.data() + wire_id_at, id);
        c.out_commit(wire_size);
        return id;
    }

  protected:
    outbound_publish() noexcept = default;

    // Names `wire`'s topic by alias as `aliases` (`detail::outbound_aliases`) chooses (5.0;
    // MQTT5-3.3.2-12): its properties are copied to the aliases' scratch with the Topic Alias
    // added. A PUBLISH that names its own Topic Alias, or has more properties than the scratch
    // holds, goes as it is.
    template <class Aliases>
    [[nodiscard]] bool alias_into(Aliases& aliases, publish_view& wire) noexcept {
        constexpr std::size_t slots = detail::alias_scratch<Storage>();
        if constexpr (slots == 0) {
            (void)aliases;
            (void)wire;
            return false;
        } else {
            if (!conn().v5() || aliases.usable() == 0 || wire.topic.empty() ||
                wire.properties.contains(property_id::topic_alias) ||
                wire.properties.size() + 1 > slots)
                return false;
            const auto pick = aliases.choose(wire.topic.bytes());
            if (pick.alias == 0) return false;
            property* const scratch = aliases.scratch();
            if (scratch == nullptr) {
                aliases.not_sent(wire.topic.bytes());
                return false;
            }
            const std::span<property> props(scratch, slots);
            std::size_t n = 0;
            for (const auto& p : wire.properties) props[n++] = p;
            props[n++] = {property_id::topic_alias, pick.alias};
            wire.properties = std::span<const property>(props.first(n));
            if (!pick.with_topic) wire.topic = {};
            return true;
        }
    }

    // A PUBLISH given encoded was not sent: an alias it was to set is forgotten.
    [[nodiscard]] errc fail_alias(std::span<const std::byte> packet, const publish_layout& l,
                                  topic_alias_choice alias, errc e) noexcept {
        auto& c = conn();
        if (alias.alias != 0) c.derived().alias_not_sent(packet.subspan(l.topic_at, l.topic_size));
        return e;
    }

  private:
    [[nodiscard]] conn_type& conn() noexcept { return static_cast<conn_type&>(*this); }
    [[nodiscard]] const conn_type& conn() const noexcept {
        return static_cast<const conn_type&>(*this);
    }
};

} // namespace mqttwire::detail
