#pragma once
/// @file
/// @brief `client<Storage>`: the client role of a connection. CONNECT/CONNACK and every limit
/// the server sets, SUBSCRIBE/UNSUBSCRIBE matched to their answers, keep-alive, outbound topic
/// aliases; the QoS flows, resending and inbound aliases come from `basic_connection`.
///
/// @code
/// mqttwire::session_state<storage> state;           // outlives connections
/// mqttwire::client<storage> c(state);
/// (void)c.connect({.version = mqttwire::protocol_version::v3_1_1, .client_id = "pc",
///                  .clean_start = false, .keep_alive = 30}, now);
/// // loop: write c.output(), read into c.input_space(), then
/// while (auto ev = c.next(now)) {
///     if (ev.kind == mqttwire::event_kind::connected) (void)c.subscribe("pc/cmd", qos::at_least_once, now);
///     if (ev.kind == mqttwire::event_kind::message) handle(ev.message->topic, ev.message->payload);
/// }
/// @endcode

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>

#include "../errc.hpp"
#include "../packet.hpp"
#include "../result.hpp"
#include "../topic.hpp"
#include "../profile.hpp"
#include "connection.hpp"

namespace mqttwire {

/// @brief What the client puts in CONNECT, and its own timeouts.
struct connect_options {
    protocol_version version = protocol_version::v3_1_1;
    /// Client Identifier; empty asks the server to assign one (5.0: kept from CONNACK, see
    /// `client::assigned_client_id()`). Before 5.0 an empty one needs `clean_start`
    /// (MQTT-3.1.3-7).
    utf8_view client_id{};
    /// Clean Start (Clean Session before 5.0): discard the session state on both sides
    /// (MQTT-3.1.2-6 / MQTT5-3.1.2-4).
    bool clean_start = true;
    /// Keep Alive in seconds; 0 turns keep-alive off.
    std::uint16_t keep_alive = 60;
    std::optional<utf8_view> user_name{};
    std::optional<binary_view> password{};
    std::optional<will_view> will{};
    /// 5.0 Session Expiry Interval in seconds (0: the session ends with the connection).
    std::uint32_t session_expiry = 0;
    /// Further CONNECT properties (5.0): User Property, Authentication Method, Request Problem
    /// Information... The session adds Session Expiry Interval, Receive Maximum, Maximum
    /// Packet Size and Topic Alias Maximum from its limits; giving one of those is an error.
    properties_view properties{};
    /// mosquitto's bridge flag (levels 0x83 / 0x84 before 5.0): this client is a broker
    /// bridging out. Sent only by profiles that also receive CONNECT (`codec_profile::
    /// from_client`, a broker's); a client profile has no code for it and sends the plain level.
    bool bridge = false;
    /// How long to wait for CONNACK.
    std::chrono::milliseconds connack_timeout{30'000};
    /// How long to wait for an answer to PINGREQ; 0: one keep-alive period.
    std::chrono::milliseconds ping_timeout{0};
};

namespace detail {
// MQTT 3.1.1 CONNACK return codes as the 5.0 reason codes of the same meaning.
[[nodiscard]] constexpr reason_code from_return_code(reason_code rc) noexcept {
    switch (static_cast<std::uint8_t>(rc)) {
    case 0: return reason_code::success;
    case 1: return reason_code::unsupported_protocol_version;
    case 2: return reason_code::client_identifier_not_valid;
    case 3: return reason_code::server_unavailable;
    case 4: return reason_code::bad_user_name_or_password;
    default: return reason_code::not_authorized;
    }
}

[[nodiscard]] constexpr bool has_wildcard(std::string_view filter) noexcept {
    return filter.find_first_of("+#") != std::string_view::npos;
}
} // namespace detail

/// @brief The client role. See `basic_connection` for the transport side and the events.
/// `Profile` chooses the levels the codec links (`client_v3_profile`: 3.1 and 3.1.1 only).
///
/// Bounds: those of `Storage` (`session_limits`); the Assigned Client Identifier is kept when
/// it fits `client_id_bytes`.
template <class Storage, codec_profile Profile = client_profile>
class client : public basic_connection<client<Storage, Profile>, peer_role::client, Storage, Profile> {
    using base = basic_connection<client<Storage, Profile>, peer_role::client, Storage, Profile>;
    friend base;
    friend detail::outbound_publish<client, peer_role::client, Storage, Profile>;
    friend detail::inbound_flow<client, peer_role::client, Storage, Profile>;
    using ms = std::chrono::milliseconds;

  public:
    using state_type = session_state<Storage>;

    /// @brief A client working on `state`, which must outlive it.
    explicit client(state_type& state, const Storage& storage = Storage()) noexcept
        : base(storage), aliases_out_(storage), client_id_(storage) {
        this->state_ = &state;
        // What this side accepts, announced in 5.0 (sections 3.1.2.11.3 to 3.1.2.11.5).
        const auto limits = storage.limits();
        this->inbound_receive_maximum_ =
            limits.inbound_qos2 == 0 ? std::uint16_t{1} : limits.inbound_qos2;
        max_in_ = std::min<std::uint32_t>(limits.input_bytes, max_packet_size_limit);
    }

    /// @brief Starts a connection on a fresh transport: CONNECT goes to the output buffer.
    /// @return `errc::invalid_argument` while a connection is under way, for an unknown version,
    /// or for a property the session sets itself; `errc::client_identifier_not_valid` for an
    /// empty Client Identifier without Clean Session before 5.0 (MQTT-3.1.3-7);
    /// `errc::would_block` when CONNECT does not fit the output buffer; codec errors.
    [[nodiscard]] errc connect(const connect_options& o, ms now) noexcept {
        this->advance(now);
        if (this->status_ != connection_status::idle && this->status_ != connection_status::closed)
            return errc::invalid_argument;
        if (!is_known_version(o.version) || !Profile.has(o.version)) return errc::invalid_argument;
        if (o.version != protocol_version::v5 && o.client_id.empty() && !o.clean_start)
            return errc::client_identifier_not_valid;
        this->reset_connection();
        role_reset();
        this->version_ = o.version;
        const bool v5 = this->v5();
        this->alias_in_max_ = v5 ? this->aliases_in_.max() : 0;
        connect_view c;
        c.clean_start = o.clean_start;
        c.keep_alive = o.keep_alive;
        c.client_id = o.client_id;
        c.will = o.will;
        c.user_name = o.user_name;
        c.password = o.password;
        if constexpr (Profile.from_client) c.bridge = o.bridge && !v5;
        std::array<property, Profile.v5 ? 4 + max_connect_properties : 0> props{};
        if constexpr (Profile.v5) {
          if (v5) {
            std::size_t n = 0;
            for (const auto id : {property_id::session_expiry_interval, property_id::receive_maximum,
                                  property_id::maximum_packet_size, property_id::topic_alias_maximum})
                if (o.properties.contains(id)) return errc::invalid_argument;
            if (o.properties.size() > max_connect_properties) return errc::invalid_argument;
            if (o.session_expiry != 0)
                props[n++] = {property_id::session_expiry_interval, o.session_expiry};
            if (this->inbound_receive_maximum_ < 65535)
                props[n++] = {property_id::receive_maximum, this->inbound_receive_maximum_};
            if (max_in_ < max_packet_size_limit)
                props[n++] = {property_id::maximum_packet_size, max_in_};
            if (this->aliases_in_.max() != 0)
                props[n++] = {property_id::topic_alias_maximum, this->aliases_in_.max()};
            for (const auto& p : o.properties) props[n++] = p;
            c.properties = std::span<const property>(props.data(), n);
          }
        }
        if (o.clean_start) this->state_->clear(); // MQTT-3.1.2-6 / MQTT5-3.1.2-4
        if (const auto e = this->send_control(c); e != errc::success) return e;
        this->status_ = connection_status::connecting;
        clean_ = o.clean_start;
        auth_ = v5 && o.properties.contains(property_id::authentication_method);
        this->peer_.keep_alive = o.keep_alive;
        this->peer_.session_expiry = v5 ? o.session_expiry : (o.clean_start ? 0 : 0xFFFFFFFFu);
        connack_timeout_ = o.connack_timeout;
        ping_timeout_ = o.ping_timeout;
        connect_sent_ = this->now_;
        return errc::success;
    }

    /// @brief SUBSCRIBE to `subscriptions` (one SUBACK answers it: event `subscribed`).
    /// @return the packet identifier, or: `errc::not_connected`; `errc::would_block` (output
    /// full or `session_limits::requests` pending); `errc::topic_filter_invalid`;
    /// `errc::wildcard_subscriptions_not_supported`, `errc::shared_subscriptions_not_supported`,
    /// `errc::subscription_identifiers_not_supported` (5.0: ruled out in CONNACK);
    /// `errc::packet_too_large`; codec errors.
    [[nodiscard]] result<std::uint16_t> subscribe(std::span<const subscription> subscriptions,
                                                  ms now, properties_view properties = {}) noexcept {
        this->advance(now);
        if (this->status_ != connection_status::connected) return errc::not_connected;
        if (subscriptions.empty() || subscriptions.size() > 0xFFFF) return errc::invalid_argument;
        const bool v5 = this->v5();
        for (const auto& s : subscriptions) {
            const auto f = s.filter.as_string_view();
            if (validate_topic_filter(f) != errc::success) return errc::topic_filter_invalid;
            shared_subscription shared{};
            const bool is_shared = v5 && is_shared_subscription(f);
            if (is_shared && parse_shared_subscription(f, shared) != errc::success)
                return errc::topic_filter_invalid;
            if (v5 && is_shared && !this->peer_.shared_subscriptions)
                return errc::shared_subscriptions_not_supported;
            if (v5 && detail::has_wildcard(f) && !this->peer_.wildcard_subscriptions)
                return errc::wildcard_subscriptions_not_supported;
        }
        if (v5 && properties.contains(property_id::subscription_identifier) &&
            !this->peer_.subscription_identifiers)
            return errc::subscription_identifiers_not_supported;
        subscribe_view s;
        s.packet_id = 1;
        s.properties = properties;
        s.subscriptions = subscriptions;
        return send_request(s, outbound_state::subscribe, subscriptions.size());
    }
    /// @brief SUBSCRIBE to one filter with a maximum QoS.
    [[nodiscard]] result<std::uint16_t> subscribe(utf8_view filter, qos max_qos, ms now) noexcept {
        subscription s;
        s.filter = filter;
        s.options.max_qos = max_qos;
        return subscribe(std::span<const subscription>(&s, 1), now);
    }

    /// @brief UNSUBSCRIBE from `filters` (event `unsubscribed` when answered).
    [[nodiscard]] result<std::uint16_t> unsubscribe(std::span<const utf8_view> filters, ms now,
                                                    properties_view properties = {}) noexcept {
        this->advance(now);
        if (this->status_ != connection_status::connected) return errc::not_connected;
        if (filters.empty() || filters.size() > 0xFFFF) return errc::invalid_argument;
        for (const auto& f : filters)
            if (validate_topic_filter(f) != errc::success) return errc::topic_filter_invalid;
        unsubscribe_view u;
        u.packet_id = 1;
        u.properties = properties;
        u.filters = filters;
        return send_request(u, outbound_state::unsubscribe, filters.size());
    }
    /// @overload
    [[nodiscard]] result<std::uint16_t> unsubscribe(utf8_view filter, ms now) noexcept {
        return unsubscribe(std::span<const utf8_view>(&filter, 1), now);
    }

    /// @brief The Client Identifier the server assigned in CONNACK (5.0), empty when none was
    /// assigned or it did not fit `session_limits::client_id_bytes`. Pass it as
    /// `connect_options::client_id` to resume the session.
    [[nodiscard]] utf8_view assigned_client_id() const noexcept {
        return utf8_view(std::span<const std::byte>(client_id_.data(), client_id_length_));
    }

  private:
    static constexpr std::size_t max_connect_properties = 8;

    template <class P>
    [[nodiscard]] result<std::uint16_t> send_request(P& p, outbound_state kind,
                                                     std::size_t count) noexcept {
        const auto eo = this->encode_opts();
        const auto size = encoded_size(p, this->version_, eo);
        if (!size) return size.error();
        if (!this->out_room(*size, true)) return errc::would_block;
        const auto id = this->allocate_outbound(kind);
        if (id == 0) return errc::would_block;
        this->find_outbound(id)->count = static_cast<std::uint16_t>(count);
        p.packet_id = id;
        const auto n = encode(p, this->version_, this->out_span(*size), eo);
        if (!n) {
            this->release_outbound(id);
            return n.error();
        }
        this->out_commit(*n);
        return id;
    }

    // ------------------------------------------------------------------------------------------
    // Hooks of basic_connection

    void role_reset() noexcept {
        last_sent_ = this->now_;
        aliases_out_.start(0);
        ping_outstanding_ = false;
        auth_ = false;
    }

    void role_closed() noexcept {
        aliases_out_.start(0); // MQTT5-3.3.2-7
        ping_outstanding_ = false;
        // A session that lasts only as long as the connection ends with it (MQTT-3.1.2-6,
        // MQTT5-3.1.2-23 the other way round).
        if (this->peer_.session_expiry == 0) this->state_->clear();
    }

    [[nodiscard]] bool first_byte_ok(std::byte) const noexcept { return true; }
    [[nodiscard]] std::uint32_t inbound_limit() const noexcept { return max_in_; }
    [[nodiscard]] static constexpr bool bridge_levels() noexcept { return false; }
    [[nodiscard]] std::size_t answer_size(const packet_view&) const noexcept {
        return detail::answer_reserve;
    }
    [[nodiscard]] session_event decode_failed(errc e, std::span<const std::byte>) noexcept {
        return this->violation(e);
    }
    [[nodiscard]] static errc check_inbound_publish(const publish_view&) noexcept {
        return errc::success;
    }
    [[nodiscard]] static bool will_applies() noexcept { return false; }
    void role_answer_default() noexcept {}

    [[nodiscard]] ms ping_timeout() const noexcept {
        return ping_timeout_.count() > 0 ? ping_timeout_ : ms(std::int64_t{this->peer_.keep_alive} * 1000);
    }

    [[nodiscard]] session_event role_timers() noexcept {
        const auto now = this->now_;
        if (this->status_ == connection_status::connecting) {
            if (now >= detail::add_saturating(connect_sent_, connack_timeout_))
                this->begin_close(reason_code::unspecified_error, close_initiator::local, false);
            return {};
        }
        const std::uint16_t ka = this->peer_.keep_alive;
        if (ka == 0) return {};
        if (ping_outstanding_) {
            // No packet at all for a whole timeout since the PINGREQ: the server is gone. Any
            // packet shows it is alive (its PINGRESP may be queued behind what it sends).
            if (now >= detail::add_saturating(std::max(ping_sent_, this->last_received_),
                                              ping_timeout()))
                this->begin_close(reason_code::keep_alive_timeout, close_initiator::local, false);
            return {};
        }
        // MQTT-3.1.2-23 / MQTT5-3.1.2-20: a PINGREQ when nothing was sent for a keep-alive period.
        if (now >= detail::add_saturating(this->last_sent_, ms(std::int64_t{ka} * 1000))) {
            if (this->send_control(pingreq_view{}) == errc::success) {
                ping_outstanding_ = true;
                ping_sent_ = now;
            }
        }
        return {};
    }

    [[nodiscard]] std::optional<ms> role_deadline() const noexcept {
        if (this->status_ == connection_status::connecting)
            return detail::add_saturating(connect_sent_, connack_timeout_);
        if (this->status_ != connection_status::connected || this->peer_.keep_alive == 0)
            return std::nullopt;
        if (ping_outstanding_)
            return detail::add_saturating(std::max(ping_sent_, this->last_received_), ping_timeout());
        return detail::add_saturating(this->last_sent_,
                                      ms(std::int64_t{this->peer_.keep_alive} * 1000));
    }

    [[nodiscard]] session_event role_packet() noexcept {
        const auto& pkt = this->packet();
        const bool connected = this->status_ == connection_status::connected;
        switch (type_of(pkt)) {
        case packet_type::connack:
            // MQTT-3.2.0-1 / MQTT5-3.2.0-2: one CONNACK, first.
            if (connected) return this->violation(errc::protocol_error);
            return on_connack(std::get<connack_view>(pkt));
        case packet_type::suback: {
            if (!connected) return this->violation(errc::protocol_error);
            const auto& a = std::get<suback_view>(pkt);
            return on_answer(a.packet_id, outbound_state::subscribe, a.reasons.size(), true,
                             event_kind::subscribed);
        }
        case packet_type::unsuback: {
            if (!connected) return this->violation(errc::protocol_error);
            const auto& a = std::get<unsuback_view>(pkt);
            return on_answer(a.packet_id, outbound_state::unsubscribe, a.reasons.size(),
                             this->v5(), event_kind::unsubscribed);
        }
        case packet_type::pingresp:
            ping_outstanding_ = false;
            return {};
        case packet_type::disconnect: {
            // 5.0 only (the decoder refuses a server's DISCONNECT before 5.0).
            const auto& d = std::get<disconnect_view>(pkt);
            this->begin_close(d.reason, close_initiator::peer, false);
            return {};
        }
        case packet_type::auth:
            // MQTT5-4.12.0-6: no AUTH unless CONNECT named an Authentication Method.
            if (!auth_) return this->violation(errc::protocol_error);
            return this->event_of(event_kind::auth);
        default: return this->violation(errc::protocol_error);
        }
    }

    [[nodiscard]] session_event on_connack(const connack_view& a) noexcept {
        const bool v5 = this->v5();
        if (a.reason != reason_code::success) {
            // MQTT-3.2.2-5 / MQTT5-3.2.2-7: refused; the server closes.
            this->begin_close(v5 ? a.reason : detail::from_return_code(a.reason),
                              close_initiator::peer, false);
            return {};
        }
        // MQTT5-3.2.2-4: Session Present when this side started clean is a Protocol Error.
        if (a.session_present && clean_) return this->violation(errc::protocol_error);
        auto& peer = this->peer_;
        if constexpr (Profile.v5) {
            if (v5) read_connack_limits(a.properties, peer);
        }
        this->status_ = connection_status::connected;
        auto ev = this->event_of(event_kind::connected);
        ev.session_present = a.session_present;
        if (!a.session_present && !this->state_->empty()) {
            // MQTT5-3.2.2-5: the server has no session, so neither keeps this side.
            ev.discarded = static_cast<std::uint16_t>(this->state_->inflight());
            this->state_->clear();
        }
        if (a.session_present) ev.discarded = this->start_resend();
        return ev;
    }

    // The limits of a 5.0 CONNACK (section 3.2.2.3); absent ones keep the protocol's defaults.
    void read_connack_limits(const properties_view& p, peer_limits& peer) noexcept {
        peer.receive_maximum =
            static_cast<std::uint16_t>(p.integer_or(property_id::receive_maximum, 65535));
        peer.maximum_qos = static_cast<qos>(p.integer_or(property_id::maximum_qos, 2));
        peer.retain_available = p.integer_or(property_id::retain_available, 1) == 1;
        peer.maximum_packet_size =
            p.integer_or(property_id::maximum_packet_size, max_packet_size_limit);
        peer.topic_alias_maximum =
            static_cast<std::uint16_t>(p.integer_or(property_id::topic_alias_maximum, 0));
        aliases_out_.start(peer.topic_alias_maximum);
        peer.wildcard_subscriptions =
            p.integer_or(property_id::wildcard_subscription_available, 1) == 1;
        peer.subscription_identifiers =
            p.integer_or(property_id::subscription_identifier_available, 1) == 1;
        peer.shared_subscriptions =
            p.integer_or(property_id::shared_subscription_available, 1) == 1;
        // MQTT5-3.1.2-21 / MQTT5-3.2.2-21: the Server Keep Alive replaces the client's.
        peer.keep_alive = static_cast<std::uint16_t>(
            p.integer_or(property_id::server_keep_alive, peer.keep_alive));
        peer.session_expiry =
            p.integer_or(property_id::session_expiry_interval, peer.session_expiry);
        if (const auto id = p.find(property_id::assigned_client_identifier)) {
            const auto bytes = id->string.bytes();
            client_id_length_ = 0;
            if (client_id_.reserve(bytes.size()) && bytes.size() <= client_id_.limit()) {
                if (!bytes.empty()) std::memcpy(client_id_.data(), bytes.data(), bytes.size());
                client_id_length_ = bytes.size();
            }
        }
    }

    [[nodiscard]] session_event on_answer(std::uint16_t id, outbound_state want, std::size_t codes,
                                          bool check_count, event_kind kind) noexcept {
        const auto* r = this->find_outbound(id);
        // MQTT-2.3.1-7 / MQTT5-2.2.1-6: the answer carries the request's identifier.
        if (r == nullptr || r->state != want) return this->violation(errc::protocol_error);
        // MQTT-3.9.3-1 / MQTT5-3.9.3-1, MQTT5-3.11.3-1: one code per filter.
        if (check_count && codes != r->count) return this->violation(errc::protocol_error);
        this->release_outbound(id);
        return this->event_of(kind, id);
    }

    // Outbound topic aliases (5.0, when both this side's limits and the server allow them):
    // a topic gets an alias on first use, later PUBLISHes send the alias alone
    // (MQTT5-3.2.2-17, MQTT5-3.2.2-18: never above the server's Topic Alias Maximum, none when
    // it is 0). A PUBLISH that names its own Topic Alias is left alone.
    [[nodiscard]] bool apply_alias(publish_view& wire) noexcept {
        return this->alias_into(aliases_out_, wire);
    }
    void alias_not_sent(std::span<const std::byte> topic) noexcept {
        // The PUBLISH that was to establish a mapping did not go out: forget the mapping, or a
        // later PUBLISH would use an alias the server never learned.
        aliases_out_.not_sent(topic);
    }
    // PUBLISHes encoded by the caller go by name.
    [[nodiscard]] static constexpr bool aliases_usable() noexcept { return false; }
    [[nodiscard]] static constexpr topic_alias_choice choose_alias(std::span<const std::byte>) noexcept {
        return {};
    }

    detail::outbound_aliases<Storage> aliases_out_;
    typename Storage::template buffer<std::byte, storage_part::client_id> client_id_;
    std::size_t client_id_length_ = 0;
    ms last_sent_{0}; // keep-alive: a PINGREQ after a period with nothing sent
    ms connect_sent_{0};
    ms ping_sent_{0};
    ms connack_timeout_{30'000};
    ms ping_timeout_{0};
    std::uint32_t max_in_ = 0;
    bool ping_outstanding_ = false;
    bool clean_ = true;
    bool auth_ = false;
};

} // namespace mqttwire
