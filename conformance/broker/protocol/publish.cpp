// PUBLISH from a client and the acknowledgements of the broker's own PUBLISHes. The session
// (mqttwire::server) resolves topic aliases, refuses what the protocol refuses, answers a
// resent QoS 2 PUBLISH without delivering it twice and keeps the packet identifiers; the broker
// decides the reason code of each acknowledgement. Statement ids in comments name the rule of
// MQTT 3.1.1 (`MQTT-…`) or 5.0 (`MQTT5-…`) that a piece of code implements.

#include <string>

#include "protocol/handler.hpp"

namespace mqttwire::broker {

void protocol_handler::acknowledge(connection& c, const publish_view& p, reason_code rc) {
    if (p.qos == mqttwire::qos::at_most_once) return;
    // PUBACK (MQTT-4.3.2-2 / MQTT5-4.3.2-4) or PUBREC (MQTT-4.3.3-2 / MQTT5-4.3.3-8) with `rc`
    // (5.0); an accepted QoS 2 identifier is kept until PUBREL, and with the session when it
    // is kept across restarts.
    c.proto.acknowledge(rc);
    if (p.qos == mqttwire::qos::exactly_once && static_cast<std::uint8_t>(rc) < 0x80 &&
        c.s->persistent())
        p_.sessions.saved_pubrel(*c.s, p.packet_id, true);
}

void protocol_handler::on_message(connection& c, const publish_view& p, std::string_view topic,
                                  clock::time_point now) {
    session& s = *c.s;
    const bool v5 = c.v5();
    if (p_.cfg.max_topic_levels != 0 && topic_levels(topic) > p_.cfg.max_topic_levels) {
        // A topic deeper than max_topic_levels is not accepted (the 0x90 Topic Name invalid
        // case "correctly formed but not accepted by this Server", MQTT 5.0 section 3.4.2.1).
        // 5.0: QoS 1/2 are answered with 0x90, QoS 0 ends with DISCONNECT 0x90; 3.1.x has no
        // way to refuse a PUBLISH, so the connection is closed as mosquitto does.
        detail(c, "PUBLISH topic has more than " + std::to_string(p_.cfg.max_topic_levels) +
                      " levels");
        if (v5 && p.qos != mqttwire::qos::at_most_once) {
            acknowledge(c, p, reason_code::topic_name_invalid);
            return;
        }
        // Given back unanswered, so that no PUBACK tells the client it was accepted.
        (void)c.proto.hold_input();
        end_connection(c, reason_code::topic_name_invalid, now, true, {});
        return;
    }
    if (p_.cfg.message_size_limit != 0 && p.payload.size() > p_.cfg.message_size_limit) {
        // message_size_limit (mosquitto semantics): not forwarded, the QoS flow completes;
        // 5.0 gets 0x83 Implementation specific error.
        p_.stats.count_drop(drop_reason::size_limit);
        detail(c, "PUBLISH payload over message_size_limit; not forwarded");
        acknowledge(c, p, v5 ? reason_code::implementation_specific_error : reason_code::success);
        return;
    }
    const bool allowed = p_.pol.may_publish(s, topic);
    std::size_t receivers = 0;
    if (allowed) {
        const auto outcome = p_.routes.publish(publication(p, topic), origin{&s, &c}, now);
        if (outcome.held_by != nullptr) {
            // A subscriber's queue is full: this PUBLISH waits, unanswered and in the session's
            // input, for room; it is reported again once the client is resumed.
            (void)c.proto.hold_input();
            p_.out.hold(*outcome.held_by, c);
            p_.conns.mark_dirty(c); // stop reading it
            return;
        }
        receivers = outcome.receivers;
    } else {
        detail(c, "PUBLISH to '" + std::string(topic) + "' not authorised");
    }
    ++p_.stats.publish_received;
    // Unauthorised PUBLISH is acknowledged and dropped (MQTT-3.3.5-2; 5.0 gives 0x87).
    const reason_code rc = !allowed                  ? reason_code::not_authorized
                           : receivers == 0 && v5 ? reason_code::no_matching_subscribers
                                                  : reason_code::success;
    acknowledge(c, p, rc);
}

void protocol_handler::on_published(connection& c, std::uint16_t id, clock::time_point now) {
    // MQTT-4.3.2-1 / MQTT5-4.3.2-3 (PUBACK), MQTT-4.3.3-1 / MQTT5-4.3.3-4 (PUBCOMP, or a
    // PUBREC with a failure code, MQTT5-4.4.0-2): the message is done, its identifier free.
    session& s = *c.s;
    if (p_.out.acknowledged(s, id, now)) p_.conns.update_stall(c, p_.out.queue_full(s), true, now);
}

void protocol_handler::on_released(connection& c, std::uint16_t id) {
    // MQTT-4.3.3-1 / MQTT5-4.3.3-4: PUBREC received, PUBREL sent; only the PUBREL is resent now.
    p_.out.released(*c.s, id);
}

void protocol_handler::on_peer_released(connection& c, std::uint16_t id) {
    // MQTT-4.3.3-2 / MQTT5-4.3.3-11: PUBREL received, PUBCOMP sent; the identifier is free.
    if (c.s->persistent()) p_.sessions.saved_pubrel(*c.s, id, false);
}

} // namespace mqttwire::broker
