#pragma once
/// @file
/// @brief The receiving half of the QoS 1 and 2 flows of `basic_connection`: inbound PUBLISH
/// (topic aliases, duplicates, Receive Maximum), its answer (now, deferred, or held back), and
/// the acknowledgements of this side's own PUBLISHes (PUBACK, PUBREC, PUBREL, PUBCOMP).

#include <cstddef>
#include <cstdint>

#include "../errc.hpp"
#include "../packet.hpp"
#include "../profile.hpp"
#include "../result.hpp"
#include "connection_io.hpp"
#include "event.hpp"
#include "state.hpp"

namespace mqttwire {
namespace detail {

enum class pending_kind : std::uint8_t { none, connect, ack, subscribe, unsubscribe };

struct pending_answer {
    pending_kind kind = pending_kind::none;
    mqttwire::qos qos = mqttwire::qos::at_most_once;
    std::uint16_t packet_id = 0;
    std::uint16_t count = 0;
};

template <class Derived, peer_role Role, class Storage, codec_profile Profile> class inbound_flow {
    using conn_type = basic_connection<Derived, Role, Storage, Profile>;
    friend conn_type;

  public:
    /// @brief Answers the last `message` event of QoS 1 or 2: PUBACK or PUBREC with `rc`
    /// (5.0; ignored before 5.0). Without this call the next `next()` answers Success. A code of
    /// 0x80 or more ends a QoS 2 exchange: the identifier is not remembered (MQTT5-4.3.3-9).
    void acknowledge(reason_code rc = reason_code::success) noexcept {
        auto& c = conn();
        if (c.pending_.kind != detail::pending_kind::ack) return;
        c.last_message_size_ = 0;
        const auto id = c.pending_.packet_id;
        const auto q = c.pending_.qos;
        c.pending_ = {};
        (void)c.send_ack(id, q, rc);
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
        auto& c = conn();
        if (c.pending_.kind != detail::pending_kind::ack) return errc::invalid_argument;
        if (!c.owed_.insert(c.pending_.packet_id, c.pending_.qos)) return errc::quota_exceeded;
        c.last_message_size_ = 0;
        const auto id = c.pending_.packet_id;
        c.pending_ = {};
        c.reserved_ = 0;
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
        auto& c = conn();
        if (c.status_ != connection_status::connected) return errc::not_connected;
        const qos q = c.owed_.qos_of(packet_id);
        if (q == qos::at_most_once) return errc::packet_identifier_not_found;
        if (!c.out_room(detail::answer_reserve, true)) return errc::would_block;
        if (const auto e = c.send_ack(packet_id, q, rc); e != errc::success) return e;
        c.owed_.erase(packet_id);
        return errc::success;
    }
    /// @brief Acknowledgements deferred and not sent yet.
    [[nodiscard]] std::size_t deferred() const noexcept { return conn().owed_.size(); }

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
        auto& c = conn();
        const auto* p = c.has_packet() ? std::get_if<publish_view>(&c.packet()) : nullptr;
        if (c.last_message_size_ == 0 || p == nullptr ||
            c.status_ != connection_status::connected ||
            (c.pending_.kind != detail::pending_kind::ack && p->qos != qos::at_most_once))
            return errc::invalid_argument;
        c.in_begin_ -= c.last_message_size_;
        c.last_message_size_ = 0;
        c.pending_ = {};
        c.reserved_ = 0;
        c.held_ = true;
        return errc::success;
    }
    /// @brief Processes input again after `hold_input()`.
    void resume_input() noexcept { conn().held_ = false; }
    /// @brief True between `hold_input()` and `resume_input()`.
    [[nodiscard]] bool input_held() const noexcept { return conn().held_; }

  protected:
    inbound_flow() noexcept = default;

    // PUBACK or PUBREC for an inbound PUBLISH; a QoS 2 identifier accepted is remembered until
    // PUBREL.
    [[nodiscard]] errc send_ack(std::uint16_t id, qos q, reason_code rc) noexcept {
        auto& c = conn();
        if (!c.v5()) rc = reason_code::success;
        if (q == qos::at_least_once) {
            puback_view a; // MQTT-4.3.2-2 / MQTT5-4.3.2-4
            a.packet_id = id;
            a.reason = rc;
            return c.send_control(a);
        }
        pubrec_view a; // MQTT-4.3.3-2 / MQTT5-4.3.3-8
        a.packet_id = id;
        a.reason = rc;
        const auto e = c.send_control(a);
        if (e == errc::success && static_cast<std::uint8_t>(rc) < 0x80)
            (void)c.state_->inbound_.insert(id);
        return e;
    }

    [[nodiscard]] session_event on_publish(publish_view& p) noexcept {
        auto& c = conn();
        if (c.status_ != connection_status::connected) return c.violation(errc::protocol_error);
        if (c.v5() && p.properties.contains(property_id::topic_alias)) {
            // The topic of an alias alone is filled in where the PUBLISH was decoded.
            const auto alias = p.properties.integer_or(property_id::topic_alias, 0);
            // MQTT5-3.3.2-10 / MQTT5-3.3.2-12: accepted from 1 to the maximum announced; beyond
            // it is a Topic Alias invalid (0x94).
            if (alias == 0 || alias > c.alias_in_max_)
                return c.violation(errc::topic_alias_invalid);
            const auto a = static_cast<std::uint16_t>(alias);
            if (!p.topic.empty()) {
                if (const auto e = c.aliases_in_.set(a, p.topic.bytes()); e != errc::success)
                    return c.violation(e);
            } else if (!c.aliases_in_.get(a, p.topic)) {
                // MQTT 5.0 section 3.3.2.3.4: an alias with no mapping is a Protocol Error.
                return c.violation(errc::protocol_error);
            }
        }
        if (const auto e = c.derived().check_inbound_publish(p); e != errc::success)
            return c.violation(e);
        // The event is built where it is returned (one object, no copy through the stack: a
        // copy of it right after its fields were stored stalled every QoS 0 PUBLISH).
        if (p.qos == qos::at_most_once) return message_event(p);
        if (const qos owed = c.owed_.qos_of(p.packet_id); owed != qos::at_most_once) {
            // The answer to this identifier is deferred: the same message again (MQTT5-4.3.2-5
            // and MQTT5-4.3.3-10 the other way round), answered when the embedder acknowledges
            // it. With another QoS the identifier was reused while in use (MQTT-2.3.1-2 /
            // MQTT5-2.2.1-3, MQTT5-2.2.1-4).
            return owed == p.qos ? session_event{} : c.violation(errc::protocol_error);
        }
        if (p.qos == qos::exactly_once && c.state_->inbound_.contains(p.packet_id)) {
            // MQTT-4.3.3-2 / MQTT5-4.3.3-10: a PUBLISH whose identifier awaits PUBREL is the same
            // message again: PUBREC again, no second delivery.
            pubrec_view a;
            a.packet_id = p.packet_id;
            (void)c.send_control(a);
            return {};
        }
        // Receive Maximum: more unanswered QoS 1/2 PUBLISHes than announced, deferred ones
        // included (MQTT5-3.3.4-9 for a server's own sends; the receiver answers 0x93, section
        // 3.3.4). Before 5.0 nothing was announced, and a full table of QoS 2 identifiers
        // (deferred ones will need a place) ends the connection: a message that cannot be
        // delivered exactly once is not accepted.
        const std::size_t qos2 = c.state_->inbound_.size() + c.owed_.qos2();
        if ((c.v5() ? c.state_->inbound_.size() + c.owed_.size() : qos2) + 1 >
                c.inbound_receive_maximum_ ||
            (p.qos == qos::exactly_once && qos2 >= c.state_->inbound_.max_size()))
            return c.violation(errc::receive_maximum_exceeded);
        c.pending_ = {detail::pending_kind::ack, p.qos, p.packet_id, 0};
        c.reserved_ = detail::answer_reserve;
        return message_event(p);
    }

    [[nodiscard]] session_event message_event(const publish_view& p) noexcept {
        session_event ev = conn().event_of(event_kind::message, p.packet_id);
        ev.message = &p;
        return ev;
    }

    [[nodiscard]] session_event on_puback(const puback_view& a) noexcept {
        auto& c = conn();
        const auto* r = c.state_->out_.find(a.packet_id);
        if (r == nullptr) return {}; // an acknowledgement of nothing in flight: ignored
        if (r->state != outbound_state::publish_qos1) return c.violation(errc::protocol_error);
        c.release_outbound(a.packet_id); // MQTT-4.3.2-1 / MQTT5-4.3.2-3: acknowledged, id free
        auto ev = c.event_of(event_kind::published, a.packet_id);
        ev.reason = a.reason;
        return ev;
    }

    [[nodiscard]] session_event on_pubrec(const pubrec_view& a) noexcept {
        auto& c = conn();
        auto* r = c.state_->out_.find(a.packet_id);
        pubrel_view rel;
        rel.packet_id = a.packet_id;
        if (r == nullptr) {
            // 5.0 section 3.6.2.1: PUBREL 0x92 for an identifier not in flight.
            if (c.v5()) rel.reason = reason_code::packet_identifier_not_found;
            (void)c.send_control(rel);
            return {};
        }
        if (r->state == outbound_state::pubrel) { // the PUBREC again: PUBREL again
            (void)c.send_control(rel);
            return {};
        }
        if (r->state != outbound_state::publish_qos2) return c.violation(errc::protocol_error);
        if (static_cast<std::uint8_t>(a.reason) >= 0x80) {
            // MQTT5-4.4.0-2: acknowledged with an error, not retransmitted; quota back.
            c.release_outbound(a.packet_id);
            auto ev = c.event_of(event_kind::published, a.packet_id);
            ev.reason = a.reason;
            return ev;
        }
        // MQTT-4.3.3-1 / MQTT5-4.3.3-4, MQTT5-4.3.3-6: PUBREL now; the PUBLISH is never sent
        // again, so its copy goes.
        if (r->ref != detail::no_ref) {
            c.state_->copies_.release(r->ref);
            r->ref = detail::no_ref;
        }
        r->state = outbound_state::pubrel;
        if (c.resend_cursor_ == a.packet_id) c.resend_cursor_ = c.state_->out_.next(a.packet_id);
        c.state_->out_.move_to_back(a.packet_id); // MQTT-4.6.0-4 / MQTT5-4.6.0-4
        (void)c.send_control(rel);
        return c.event_of(event_kind::released, a.packet_id);
    }

    [[nodiscard]] session_event on_pubrel(const pubrel_view& a) noexcept {
        auto& c = conn();
        pubcomp_view comp; // MQTT-4.3.3-2 / MQTT5-4.3.3-11
        comp.packet_id = a.packet_id;
        const bool known = c.state_->inbound_.erase(a.packet_id);
        if (!known && c.v5()) comp.reason = reason_code::packet_identifier_not_found;
        (void)c.send_control(comp);
        return known ? c.event_of(event_kind::peer_released, a.packet_id) : session_event{};
    }

    [[nodiscard]] session_event on_pubcomp(const pubcomp_view& a) noexcept {
        auto& c = conn();
        const auto* r = c.state_->out_.find(a.packet_id);
        if (r == nullptr) return {};
        if (r->state != outbound_state::pubrel) return c.violation(errc::protocol_error);
        c.release_outbound(a.packet_id); // MQTT5-4.3.3-5: the exchange is complete
        auto ev = c.event_of(event_kind::published, a.packet_id);
        ev.reason = a.reason;
        return ev;
    }

  private:
    [[nodiscard]] conn_type& conn() noexcept { return static_cast<conn_type&>(*this); }
    [[nodiscard]] const conn_type& conn() const noexcept {
        return static_cast<const conn_type&>(*this);
    }
};

} // namespace detail
} // namespace mqttwire
