// PUBLISH from a client and the acknowledgements of both directions. Statement ids in comments
// name the rule of MQTT 3.1.1 (`MQTT-…`) or 5.0 (`MQTT5-…`) that a piece of code implements.

#include <string>

#include "protocol/handler.hpp"

namespace mqttwire::broker {

namespace {

bool is_v5(protocol_version v) { return v == protocol_version::v5; }

} // namespace

errc protocol_handler::resolve_alias(connection& c, const publish_view& p, std::string_view& topic) {
    const auto alias = p.properties.find(property_id::topic_alias);
    if (!alias) return errc::success;
    // MQTT5-3.3.2-9 ff.: an alias above our Topic Alias Maximum is refused (0x94).
    if (alias->integer > p_.cfg.topic_alias_maximum) return errc::topic_alias_invalid;
    if (c.aliases.empty()) // allocated on first use: most clients never send an alias
        c.aliases.resize(static_cast<std::size_t>(p_.cfg.topic_alias_maximum) + 1);
    auto& slot = c.aliases[alias->integer];
    if (!topic.empty()) {
        slot.assign(topic);
    } else {
        // MQTT5 section 3.3.2.3.4: an alias never set is a Protocol Error.
        if (slot.empty()) return errc::protocol_error;
        topic = slot;
    }
    return errc::success;
}

void protocol_handler::acknowledge(connection& c, const publish_view& p, reason_code rc) {
    if (p.qos == mqttwire::qos::at_least_once) {
        puback_view a; // MQTT-4.3.2-2 / MQTT5-4.3.2-2
        a.packet_id = p.packet_id;
        a.reason = rc;
        p_.writer.send(c, a);
    } else if (p.qos == mqttwire::qos::exactly_once) {
        pubrec_view r; // MQTT-4.3.3-2 / MQTT5-4.3.3-2
        r.packet_id = p.packet_id;
        r.reason = rc;
        p_.writer.send(c, r);
        if (static_cast<std::uint8_t>(rc) < 0x80) {
            session& s = *c.s;
            s.traffic().awaiting_pubrel.insert(p.packet_id);
            if (s.persistent()) p_.sessions.saved_pubrel(s, p.packet_id, true);
        }
    }
}

errc protocol_handler::on_publish(connection& c, const publish_view& p, clock::time_point now) {
    session& s = *c.s;
    std::string_view topic = p.topic.as_string_view();
    if (is_v5(c.version))
        if (const errc e = resolve_alias(c, p, topic); e != errc::success) return e;
    if (p.retain && !p_.cfg.retain_available) {
        // MQTT5-3.3.1-? : RETAIN=1 after Retain Available 0 is answered with 0x9A.
        return static_cast<errc>(reason_code::retain_not_supported);
    }
    if (p.qos == mqttwire::qos::exactly_once) {
        const session_traffic* t = s.traffic_if_any();
        if (t != nullptr && t->awaiting_pubrel.count(p.packet_id) != 0) {
            // MQTT-4.3.3-2 / MQTT5-4.3.3-? : a resent QoS 2 PUBLISH is not delivered twice.
            pubrec_view r;
            r.packet_id = p.packet_id;
            p_.writer.send(c, r);
            return errc::success;
        }
        // MQTT5-3.3.4-9: more unacknowledged QoS 2 PUBLISHes than our Receive Maximum (0x93).
        if (is_v5(c.version) && t != nullptr &&
            t->awaiting_pubrel.size() >= p_.cfg.receive_maximum)
            return errc::receive_maximum_exceeded;
    }
    if (p_.cfg.max_topic_levels != 0 && topic_levels(topic) > p_.cfg.max_topic_levels) {
        // A topic deeper than max_topic_levels is not accepted (the 0x90 Topic Name invalid
        // case "correctly formed but not accepted by this Server", MQTT 5.0 section 3.4.2.1).
        // 5.0: QoS 1/2 are answered with 0x90, QoS 0 ends with DISCONNECT 0x90; 3.1.x has no
        // way to refuse a PUBLISH, so the connection is closed as mosquitto does.
        detail(c, "PUBLISH topic has more than " + std::to_string(p_.cfg.max_topic_levels) +
                      " levels");
        if (!is_v5(c.version) || p.qos == mqttwire::qos::at_most_once)
            return errc::topic_name_invalid;
        acknowledge(c, p, reason_code::topic_name_invalid);
        return errc::success;
    }
    if (p_.cfg.message_size_limit != 0 && p.payload.size() > p_.cfg.message_size_limit) {
        // message_size_limit (mosquitto semantics): not forwarded, the QoS flow completes;
        // 5.0 gets 0x83 Implementation specific error.
        p_.stats.count_drop(drop_reason::size_limit);
        detail(c, "PUBLISH payload over message_size_limit; not forwarded");
        acknowledge(c, p, is_v5(c.version) ? reason_code::implementation_specific_error
                                           : reason_code::success);
        return errc::success;
    }
    const bool allowed = p_.pol.may_publish(s, topic);
    std::size_t receivers = 0;
    if (allowed) {
        const auto outcome = p_.routes.publish(publication(p, topic), origin{&s, &c}, now);
        if (outcome.held_by != nullptr) {
            // A subscriber's queue is full: this PUBLISH waits (unacknowledged) for room.
            p_.out.hold(*outcome.held_by, c);
            p_.conns.mark_dirty(c); // stop reading it
            return errc::success;
        }
        receivers = outcome.receivers;
    } else {
        detail(c, "PUBLISH to '" + std::string(topic) + "' not authorised");
    }
    ++p_.stats.publish_received;
    // Unauthorised PUBLISH is acknowledged and dropped (MQTT-3.3.5-2; 5.0 gives 0x87).
    const reason_code rc = !allowed ? reason_code::not_authorized
                           : receivers == 0 && is_v5(c.version) ? reason_code::no_matching_subscribers
                                                                : reason_code::success;
    acknowledge(c, p, rc);
    return errc::success;
}

errc protocol_handler::on_puback(connection& c, std::uint16_t id, clock::time_point now) {
    session& s = *c.s;
    if (p_.out.on_puback(s, id, now)) // MQTT-4.3.2-1 / MQTT5-4.3.2-3: the id is free again
        p_.conns.update_stall(c, p_.out.queue_full(s), true, now);
    return errc::success;
}

errc protocol_handler::on_pubrec(connection& c, const pubrec_view& p, clock::time_point now) {
    session& s = *c.s;
    pubrel_view r;
    r.packet_id = p.packet_id;
    switch (p_.out.on_pubrec(s, p.packet_id, static_cast<std::uint8_t>(p.reason) >= 0x80, now)) {
    case outbox::pubrec_outcome::unknown:
        r.reason = reason_code::packet_identifier_not_found;
        p_.writer.send(c, r);
        break;
    case outbox::pubrec_outcome::ended: // MQTT5-4.3.3-4: no PUBREL after a failed PUBREC
        p_.conns.update_stall(c, p_.out.queue_full(s), true, now);
        break;
    case outbox::pubrec_outcome::release: // MQTT-4.3.3-1 / MQTT5-4.3.3-4: PUBREL follows
        p_.writer.send(c, r);
        p_.conns.update_stall(c, p_.out.queue_full(s), true, now);
        break;
    }
    return errc::success;
}

errc protocol_handler::on_pubrel(connection& c, const pubrel_view& p) {
    session& s = *c.s;
    pubcomp_view r;
    r.packet_id = p.packet_id;
    session_traffic* t = s.traffic_if_any();
    const bool known = t != nullptr && t->awaiting_pubrel.erase(p.packet_id) != 0;
    if (known && s.persistent()) p_.sessions.saved_pubrel(s, p.packet_id, false);
    if (!known && is_v5(c.version)) r.reason = reason_code::packet_identifier_not_found;
    p_.writer.send(c, r);
    return errc::success;
}

errc protocol_handler::on_pubcomp(connection& c, std::uint16_t id, clock::time_point now) {
    session& s = *c.s;
    if (p_.out.on_pubcomp(s, id, now)) p_.conns.update_stall(c, p_.out.queue_full(s), true, now);
    return errc::success;
}

} // namespace mqttwire::broker
