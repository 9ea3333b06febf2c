#pragma once
/// @file
/// @brief `server<Storage>`: the server role of a connection, the per-connection half of a
/// broker. It refuses what the spec refuses by itself (a first packet that is not CONNECT, a
/// CONNECT that does not decode, a second CONNECT, a will the server cannot honour, a peer over
/// its limits, a silent peer) and asks the embedder for everything that is policy:
///
/// | event | the embedder answers | default at the next `next()` |
/// | --- | --- | --- |
/// | `connect_request` | `accept(state, {session_present, ...})` or `refuse(reason)` | refuse (0x80 / 3.1.1 0x03) |
/// | `message` QoS 1/2 | `acknowledge(reason)` (routing decides 0x10, 0x87, ...) | Success |
/// | `subscribe_request` | `answer_subscribe(codes)` (granted QoS or failure per filter) | 0x80 for every filter |
/// | `unsubscribe_request` | `answer_unsubscribe(codes)` | 0x80 for every filter (5.0) |
/// | `closed` | publishes the will when `publish_will` (with its delay) | — |
///
/// Sessions (subscriptions, queues, expiry, takeover) are the embedder's: it keeps one
/// `session_state` per Client Identifier and hands it to `accept()`. A takeover is
/// `disconnect(reason_code::session_taken_over)` on the old connection (MQTT5-3.1.4-3).

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "../errc.hpp"
#include "../framer.hpp"
#include "../packet.hpp"
#include "../profile.hpp"
#include "connection.hpp"
#include "server_options.hpp"

namespace mqttwire {

/// @brief The server role. See `basic_connection` for the transport side and the events.
template <class Storage, codec_profile Profile = server_profile>
class server : public basic_connection<server<Storage, Profile>, peer_role::server, Storage, Profile> {
    using base = basic_connection<server<Storage, Profile>, peer_role::server, Storage, Profile>;
    friend base;
    friend detail::outbound_publish<server, peer_role::server, Storage, Profile>;
    friend detail::inbound_flow<server, peer_role::server, Storage, Profile>;
    using ms = std::chrono::milliseconds;

  public:
    using state_type = session_state<Storage>;

    /// @brief A server connection accepted by the transport at `now`; CONNECT is awaited.
    explicit server(ms now, const server_options& options = {},
                    const Storage& storage = Storage()) noexcept
        : base(storage), aliases_out_(storage, options.topic_aliases_out),
          maximum_packet_size_(options.maximum_packet_size),
          pre_connect_packet_size_(options.pre_connect_packet_size),
          connect_timeout_(clamp_timeout(options.connect_timeout)),
          receive_maximum_(options.receive_maximum),
          topic_alias_maximum_(options.topic_alias_maximum),
          max_keep_alive_(options.max_keep_alive), maximum_qos_(options.maximum_qos),
          retain_available_(options.retain_available),
          wildcard_subscriptions_(options.wildcard_subscriptions),
          subscription_identifiers_(options.subscription_identifiers),
          shared_subscriptions_(options.shared_subscriptions),
          bridge_levels_(options.bridge_levels) {
        this->advance(now);
        this->status_ = connection_status::connecting;
        this->last_received_ = now;
        this->inbound_receive_maximum_ = std::max<std::uint16_t>(
            1, std::min<std::uint16_t>(receive_maximum_, storage.limits().inbound_qos2));
    }

    /// @brief Accepts the pending CONNECT: CONNACK 0x00 (MQTT-3.1.4-4 / MQTT5-3.1.4-5) with the
    /// limits this server announces, then the resend of `state`'s in-flight messages when
    /// `session_present`. `state` must outlive the connection (or the next `accept`).
    /// @return `errc::not_connected` without a pending CONNECT; `errc::would_block` when the
    /// CONNACK does not fit the output buffer; codec errors for `o.properties`.
    [[nodiscard]] errc accept(state_type& state, const accept_options& o = {}) noexcept {
        // The CONNECT is read where it was decoded: gone once the input was given more bytes.
        if (this->pending_.kind != detail::pending_kind::connect || !this->has_packet())
            return errc::not_connected;
        const auto& c = std::get<connect_view>(this->packet());
        const bool v5 = this->v5();
        auto& peer = this->peer_;
        peer.keep_alive = c.keep_alive;
        std::optional<std::uint16_t> server_keep_alive;
        if (v5) {
            const auto& p = c.properties;
            peer.receive_maximum =
                static_cast<std::uint16_t>(p.integer_or(property_id::receive_maximum, 65535));
            peer.maximum_packet_size =
                p.integer_or(property_id::maximum_packet_size, max_packet_size_limit);
            peer.topic_alias_maximum =
                static_cast<std::uint16_t>(p.integer_or(property_id::topic_alias_maximum, 0));
            aliases_out_.start(peer.topic_alias_maximum);
            peer.problem_information =
                p.integer_or(property_id::request_problem_information, 1) == 1;
            peer.session_expiry = p.integer_or(property_id::session_expiry_interval, 0);
            // MQTT5-3.2.2-21 / MQTT5-3.2.2-22: the client's value unless the server sends one.
            if (c.keep_alive > max_keep_alive_ || (c.keep_alive == 0 && max_keep_alive_ < 65535)) {
                server_keep_alive = max_keep_alive_;
                peer.keep_alive = max_keep_alive_;
            }
        } else {
            peer.session_expiry = c.clean_start ? 0 : 0xFFFFFFFFu;
        }
        connack_view a;
        a.session_present = o.session_present; // MQTT-3.2.2-1..3 / MQTT5-3.2.2-2, MQTT5-3.2.2-3
        std::array<property, 11 + max_connack_properties> props{};
        std::size_t n = 0;
        if (v5) {
            if (o.properties.size() > max_connack_properties) return errc::invalid_argument;
            if (this->inbound_receive_maximum_ < 65535)
                props[n++] = {property_id::receive_maximum, this->inbound_receive_maximum_};
            if (maximum_qos_ != qos::exactly_once) // MQTT5-3.2.2-9
                props[n++] = {property_id::maximum_qos, static_cast<std::uint8_t>(maximum_qos_)};
            if (!retain_available_) props[n++] = {property_id::retain_available, 0};
            if (const auto in_max = max_in(); in_max < max_packet_size_limit)
                props[n++] = {property_id::maximum_packet_size, in_max};
            if (!o.assigned_client_id.empty())
                props[n++] = {property_id::assigned_client_identifier, o.assigned_client_id};
            if (const auto am = alias_max(); am != 0) props[n++] = {property_id::topic_alias_maximum, am};
            if (!wildcard_subscriptions_)
                props[n++] = {property_id::wildcard_subscription_available, 0};
            if (!subscription_identifiers_)
                props[n++] = {property_id::subscription_identifier_available, 0};
            if (!shared_subscriptions_)
                props[n++] = {property_id::shared_subscription_available, 0};
            if (server_keep_alive) props[n++] = {property_id::server_keep_alive, *server_keep_alive};
            for (const auto& p : o.properties) props[n++] = p;
            a.properties = std::span<const property>(props.data(), n);
        }
        if (const auto e = this->send_control(a); e != errc::success) return e;
        this->pending_ = {};
        this->reserved_ = 0;
        this->state_ = &state;
        if (!o.session_present) state.clear();
        this->status_ = connection_status::connected;
        accepted_ = true;
        if (o.session_present) (void)this->start_resend(); // MQTT-4.4.0-1 / MQTT5-4.4.0-1
        return errc::success;
    }

    /// @brief Refuses the pending CONNECT: CONNACK with `rc` (before 5.0 the closest return
    /// code), Session Present 0 (MQTT-3.2.2-4 / MQTT5-3.2.2-6), then close (MQTT-3.2.2-5 /
    /// MQTT5-3.2.2-7); nothing after the CONNECT is processed (MQTT-3.1.4-5 / MQTT5-3.1.4-6).
    /// @return `errc::not_connected` without a pending CONNECT; `errc::invalid_argument` for a
    /// code that is not a refusal.
    [[nodiscard]] errc refuse(reason_code rc) noexcept {
        if (this->pending_.kind != detail::pending_kind::connect) return errc::not_connected;
        if (static_cast<std::uint8_t>(rc) < 0x80 || !is_allowed(rc, reason_context::connack))
            return errc::invalid_argument;
        this->pending_ = {};
        send_refusal(this->version_, rc);
        return errc::success;
    }

    /// @brief Answers the pending SUBSCRIBE: one code per filter, in order (MQTT-3.8.4-5 /
    /// MQTT5-3.8.4-6), the granted QoS or a failure (before 5.0: 0x00-0x02 or 0x80).
    /// @return `errc::not_connected` without a pending SUBSCRIBE; `errc::invalid_argument` for a
    /// wrong number of codes; codec errors for codes the version does not have.
    [[nodiscard]] errc answer_subscribe(std::span<const reason_code> codes,
                                        properties_view properties = {}) noexcept {
        if (this->pending_.kind != detail::pending_kind::subscribe) return errc::not_connected;
        if (codes.size() != this->pending_.count) return errc::invalid_argument;
        suback_view a; // MQTT-3.8.4-1, MQTT-3.8.4-2 / MQTT5-3.8.4-1, MQTT5-3.8.4-2
        a.packet_id = this->pending_.packet_id;
        a.reasons = codes;
        if (this->peer_.problem_information) a.properties = properties; // MQTT5-3.1.2-29
        return answer(a);
    }

    /// @brief Answers the pending UNSUBSCRIBE (MQTT-3.10.4-4, MQTT-3.10.4-5 / MQTT5-3.10.4-4,
    /// MQTT5-3.10.4-5); 5.0 needs one code per filter, earlier versions none.
    [[nodiscard]] errc answer_unsubscribe(std::span<const reason_code> codes = {},
                                          properties_view properties = {}) noexcept {
        if (this->pending_.kind != detail::pending_kind::unsubscribe) return errc::not_connected;
        const bool v5 = this->v5();
        if (v5 && codes.size() != this->pending_.count) return errc::invalid_argument;
        unsuback_view a;
        a.packet_id = this->pending_.packet_id;
        if (v5) a.reasons = codes;
        if (this->peer_.problem_information) a.properties = properties;
        return answer(a);
    }

    /// @brief The server's options, as given to the constructor (a `connect_timeout` as it is
    /// kept: see `server_options::connect_timeout`). Returned by value: a connection keeps them
    /// packed, without the padding of `server_options`.
    [[nodiscard]] server_options options() const noexcept {
        server_options o;
        o.receive_maximum = receive_maximum_;
        o.maximum_qos = maximum_qos_;
        o.retain_available = retain_available_;
        o.maximum_packet_size = maximum_packet_size_;
        o.topic_alias_maximum = topic_alias_maximum_;
        o.topic_aliases_out = aliases_out_.policy();
        o.wildcard_subscriptions = wildcard_subscriptions_;
        o.subscription_identifiers = subscription_identifiers_;
        o.shared_subscriptions = shared_subscriptions_;
        o.max_keep_alive = max_keep_alive_;
        o.connect_timeout = ms(connect_timeout_);
        o.pre_connect_packet_size = pre_connect_packet_size_;
        o.bridge_levels = bridge_levels_;
        return o;
    }

  private:
    static constexpr std::size_t max_connack_properties = 8;

    [[nodiscard]] static std::uint32_t clamp_timeout(ms t) noexcept {
        if (t.count() <= 0) return 0;
        return t.count() >= 0xFFFFFFFF ? 0xFFFFFFFFu : static_cast<std::uint32_t>(t.count());
    }
    // The largest packet accepted once connected, announced as Maximum Packet Size (5.0).
    [[nodiscard]] std::uint32_t max_in() const noexcept {
        return std::min<std::uint32_t>(static_cast<std::uint32_t>(this->in_.limit()),
                                       maximum_packet_size_);
    }
    // The Topic Alias Maximum announced (5.0).
    [[nodiscard]] std::uint16_t alias_max() const noexcept {
        return std::min<std::uint16_t>(topic_alias_maximum_, this->aliases_in_.max());
    }

    template <class P> [[nodiscard]] errc answer(const P& a) noexcept {
        if (const auto e = this->send_control(a); e != errc::success) return e;
        this->pending_ = {};
        this->reserved_ = 0;
        return errc::success;
    }

    void send_refusal(protocol_version v, reason_code rc) noexcept {
        this->version_ = v;
        connack_view a;
        a.reason = v == protocol_version::v5 ? rc : detail::to_return_code(rc);
        (void)this->send_control(a);
        this->begin_close(rc, close_initiator::local, false);
    }

    // ------------------------------------------------------------------------------------------
    // Hooks of basic_connection

    [[nodiscard]] bool first_byte_ok(std::byte b) noexcept {
        if (got_connect_ || (static_cast<std::uint8_t>(b) >> 4) == 1) return true;
        // MQTT-3.1.0-1 / MQTT5-3.1.0-1: the first packet is CONNECT; anything else closes.
        this->begin_close(reason_code::protocol_error, close_initiator::local, false);
        this->close_error_ = errc::protocol_error;
        return false;
    }
    [[nodiscard]] std::uint32_t inbound_limit() const noexcept {
        return got_connect_ ? max_in() : std::min(max_in(), pre_connect_packet_size_);
    }
    [[nodiscard]] bool bridge_levels() const noexcept { return bridge_levels_; }
    [[nodiscard]] std::size_t answer_size(const packet_view& p) const noexcept {
        // SUBACK / UNSUBACK: fixed header, identifier, property length, one code per entry.
        if (const auto* s = std::get_if<subscribe_view>(&p)) return 8 + s->subscriptions.size();
        if (const auto* u = std::get_if<unsubscribe_view>(&p)) return 8 + u->filters.size();
        return detail::answer_reserve;
    }
    [[nodiscard]] bool will_applies() const noexcept { return accepted_; }

    [[nodiscard]] session_event decode_failed(errc e, std::span<const std::byte> pkt) noexcept {
        if (got_connect_) return this->violation(e);
        // MQTT-3.1.4-1 / MQTT5-3.1.4-1: a CONNECT that does not conform is refused. Before 5.0
        // the connection closes without CONNACK, except for an unsupported protocol level
        // (MQTT-3.1.2-2: return code 0x01); 5.0 may send a CONNACK with the reason first.
        const auto level = detail::peek_connect_level(pkt);
        if (e == errc::unsupported_protocol_version) {
            if (level == 5)
                send_refusal(protocol_version::v5, reason_code::unsupported_protocol_version);
            else if (level != 0 && level != 3 && level != 4)
                send_refusal(protocol_version::v3_1_1, reason_code::unsupported_protocol_version);
            else // MQTT-3.1.2-1: not MQTT at all
                this->begin_close(reason_code::unsupported_protocol_version, close_initiator::local,
                                  false);
        } else if (level == 5) {
            auto rc = static_cast<reason_code>(e);
            if (is_codec_only(e) || !is_allowed(rc, reason_context::connack))
                rc = reason_code::malformed_packet;
            send_refusal(protocol_version::v5, rc);
        } else {
            this->begin_close(detail::disconnect_reason(e), close_initiator::local, false);
        }
        this->close_error_ = e;
        return this->finish_close();
    }

    [[nodiscard]] errc check_inbound_publish(const publish_view& p) const noexcept {
        if (p.qos > maximum_qos_) return errc::qos_not_supported;         // MQTT5-3.2.2-11
        if (p.retain && !retain_available_) return errc::retain_not_supported; // MQTT5-3.2.2-14
        return errc::success;
    }

    // Outbound topic aliases (5.0): as the policy chooses, never above the client's Topic Alias
    // Maximum (MQTT5-3.1.2-26) and none when it sent none (MQTT5-3.1.2-27). A PUBLISH that
    // names its own Topic Alias is left alone.
    [[nodiscard]] bool aliases_usable() const noexcept { return aliases_out_.usable() != 0; }
    [[nodiscard]] topic_alias_choice choose_alias(std::span<const std::byte> topic) noexcept {
        return aliases_out_.choose(topic);
    }
    [[nodiscard]] bool apply_alias(publish_view& wire) noexcept {
        return this->alias_into(aliases_out_, wire);
    }
    void alias_not_sent(std::span<const std::byte> topic) noexcept { aliases_out_.not_sent(topic); }

    void role_answer_default() noexcept {
        switch (this->pending_.kind) {
        case detail::pending_kind::connect:
            this->pending_ = {};
            send_refusal(this->version_, reason_code::unspecified_error);
            break;
        case detail::pending_kind::subscribe:
        case detail::pending_kind::unsubscribe: {
            // One failure code per entry, written straight into the output (no table needed
            // for up to 65,535 codes): type, remaining length, identifier, properties, codes.
            const bool sub = this->pending_.kind == detail::pending_kind::subscribe;
            const bool v5 = this->v5();
            const std::size_t codes = sub || v5 ? this->pending_.count : 0;
            const std::size_t body = 2 + (v5 ? 1 : 0) + codes;
            std::array<std::byte, 4> length{};
            std::size_t len_bytes = 0;
            for (std::size_t v = body;;) {
                length[len_bytes] = static_cast<std::byte>(v & 0x7F);
                v >>= 7;
                if (v != 0) length[len_bytes] |= std::byte{0x80};
                ++len_bytes;
                if (v == 0) break;
            }
            const std::size_t size = 1 + len_bytes + body;
            if (!this->out_room(size, false)) break;
            auto out = this->out_span(size);
            out[0] = std::byte{static_cast<std::uint8_t>(sub ? 0x90 : 0xB0)};
            for (std::size_t i = 0; i < len_bytes; ++i) out[1 + i] = length[i];
            detail::put_u16(out.data() + 1 + len_bytes, this->pending_.packet_id);
            std::size_t at = 3 + len_bytes;
            if (v5) out[at++] = std::byte{0};
            for (std::size_t i = 0; i < codes; ++i) out[at++] = std::byte{0x80};
            this->out_commit(size);
            break;
        }
        default: break;
        }
    }

    [[nodiscard]] session_event role_timers() noexcept {
        const auto now = this->now_;
        if (!got_connect_) {
            if (now >= detail::add_saturating(this->last_received_, ms(connect_timeout_)))
                this->begin_close(reason_code::maximum_connect_time, close_initiator::local, false);
            return {};
        }
        const std::uint16_t ka = this->peer_.keep_alive;
        if (this->status_ != connection_status::connected || ka == 0) return {};
        // MQTT-3.1.2-24 / MQTT5-3.1.2-22: nothing from the client for one and a half times the
        // keep-alive: closed as if the network had failed (5.0: DISCONNECT 0x8D first).
        if (now >= detail::add_saturating(this->last_received_, ms(std::int64_t{ka} * 1500))) {
            if (this->v5()) {
                disconnect_view d;
                d.reason = reason_code::keep_alive_timeout;
                (void)this->send_control(d);
            }
            this->begin_close(reason_code::keep_alive_timeout, close_initiator::local, true);
        }
        return {};
    }

    [[nodiscard]] std::optional<ms> role_deadline() const noexcept {
        // Before CONNECT, `last_received_` is when the connection was accepted.
        if (!got_connect_) return detail::add_saturating(this->last_received_, ms(connect_timeout_));
        if (this->status_ != connection_status::connected || this->peer_.keep_alive == 0)
            return std::nullopt;
        return detail::add_saturating(this->last_received_,
                                      ms(std::int64_t{this->peer_.keep_alive} * 1500));
    }

    void role_closed() noexcept {}

    [[nodiscard]] session_event role_packet() noexcept {
        const auto& pkt = this->packet();
        switch (type_of(pkt)) {
        case packet_type::connect:
            // MQTT-3.1.0-2 / MQTT5-3.1.0-2: a second CONNECT is a Protocol Error.
            if (got_connect_) return this->violation(errc::protocol_error);
            return on_connect(std::get<connect_view>(pkt));
        case packet_type::subscribe: {
            const auto& s = std::get<subscribe_view>(pkt);
            this->pending_ = {detail::pending_kind::subscribe, qos::at_most_once, s.packet_id,
                              static_cast<std::uint16_t>(s.subscriptions.size())};
            this->reserve_answer(answer_size(pkt));
            return this->event_of(event_kind::subscribe_request, s.packet_id);
        }
        case packet_type::unsubscribe: {
            const auto& u = std::get<unsubscribe_view>(pkt);
            this->pending_ = {detail::pending_kind::unsubscribe, qos::at_most_once, u.packet_id,
                              static_cast<std::uint16_t>(u.filters.size())};
            this->reserve_answer(answer_size(pkt));
            return this->event_of(event_kind::unsubscribe_request, u.packet_id);
        }
        case packet_type::pingreq: // MQTT-3.12.4-1 / MQTT5-3.12.4-1
            (void)this->send_control(pingresp_view{});
            return {};
        case packet_type::disconnect: return on_disconnect(std::get<disconnect_view>(pkt));
        case packet_type::auth:
            // MQTT5-4.12.0-7: no AUTH from a client whose CONNECT named no method.
            if (!auth_) return this->violation(errc::protocol_error);
            return this->event_of(event_kind::auth);
        default: return this->violation(errc::protocol_error);
        }
    }

    [[nodiscard]] session_event on_connect(const connect_view& c) noexcept {
        got_connect_ = true;
        this->version_ = c.version;
        this->alias_in_max_ = c.version == protocol_version::v5 ? alias_max() : 0;
        const bool v5 = c.version == protocol_version::v5;
        auth_ = v5 && c.properties.contains(property_id::authentication_method);
        if (c.version == protocol_version::v3_1 &&
            (c.client_id.empty() || c.client_id.size() > 23)) {
            // MQTT 3.1 section 3.1: a Client Identifier has 1 to 23 characters.
            send_refusal(c.version, reason_code::client_identifier_not_valid);
            return {};
        }
        if (!v5 && c.client_id.empty() && !c.clean_start) {
            // MQTT-3.1.3-8: an empty ClientId with CleanSession 0 gets return code 0x02.
            send_refusal(c.version, reason_code::client_identifier_not_valid);
            return {};
        }
        if (c.will && c.will->retain && !retain_available_) { // MQTT5-3.2.2-13
            send_refusal(c.version, reason_code::retain_not_supported);
            return {};
        }
        if (c.will && c.will->qos > maximum_qos_) { // MQTT5-3.2.2-12
            send_refusal(c.version, reason_code::qos_not_supported);
            return {};
        }
        client_expiry_ = v5 ? c.properties.integer_or(property_id::session_expiry_interval, 0) : 0;
        this->pending_ = {detail::pending_kind::connect, qos::at_most_once, 0, 0};
        return this->event_of(event_kind::connect_request);
    }

    [[nodiscard]] session_event on_disconnect(const disconnect_view& d) noexcept {
        if (const auto e = d.properties.find(property_id::session_expiry_interval)) {
            // 5.0 section 3.14.2.2.2: a session that was to end with the connection cannot be
            // extended by DISCONNECT (Protocol Error).
            if (client_expiry_ == 0 && e->integer != 0) return this->violation(errc::protocol_error);
            this->close_expiry_ = e->integer;
            this->has_close_expiry_ = true;
        }
        // MQTT-3.14.4-3 / MQTT5-3.14.4-3: DISCONNECT 0x00 discards the will; any other code
        // (0x04 asks for it) leaves it due.
        this->begin_close(d.reason, close_initiator::peer, d.reason != reason_code::success);
        return {};
    }

    // The options are kept packed (`options()` rebuilds them); the Maximum Packet Size and
    // Topic Alias Maximum announced are computed from them and the storage's limits.
    [[no_unique_address]] detail::outbound_aliases<Storage> aliases_out_;
    std::uint32_t maximum_packet_size_;
    std::uint32_t pre_connect_packet_size_;
    std::uint32_t connect_timeout_; // milliseconds
    std::uint32_t client_expiry_ = 0;
    std::uint16_t receive_maximum_;
    std::uint16_t topic_alias_maximum_;
    std::uint16_t max_keep_alive_;
    qos maximum_qos_;
    bool retain_available_ : 1;
    bool wildcard_subscriptions_ : 1;
    bool subscription_identifiers_ : 1;
    bool shared_subscriptions_ : 1;
    bool bridge_levels_ : 1;
    bool got_connect_ = false;
    bool accepted_ = false;
    bool auth_ = false;
};

} // namespace mqttwire
