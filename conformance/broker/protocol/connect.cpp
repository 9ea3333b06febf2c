// CONNECT: identification, authentication, session takeover and CONNACK. Statement ids in
// comments name the rule of MQTT 3.1.1 (`MQTT-…`) or 5.0 (`MQTT5-…`) that a piece of code
// implements.

#include <algorithm>
#include <array>
#include <string>

#include "protocol/handler.hpp"

namespace mqttwire::broker {

namespace {

bool is_v5(protocol_version v) { return v == protocol_version::v5; }

} // namespace

void protocol_handler::refuse(connection& c, reason_code rc) {
    // CONNACK with `rc` (3.1.1: the closest return code), Session Present 0 (MQTT-3.2.2-4 /
    // MQTT5-3.2.2-6), then close (MQTT-3.2.2-5 / MQTT5-3.2.2-7); the session reports it closed.
    (void)c.proto.refuse(rc);
}

void protocol_handler::on_connect(connection& c, const connect_view& p, clock::time_point now) {
    // The session checked what the protocol rules out by itself: the Client Identifier of 3.1
    // (1 to 23 characters), an empty one with CleanSession 0 (MQTT-3.1.3-8), a will the
    // broker cannot honour (retain, QoS: MQTT5-3.2.2-12, MQTT5-3.2.2-13).
    const protocol_version v = p.version;
    c.bridge = p.bridge;
    const bool v5 = is_v5(v);
    std::string client_id(p.client_id.as_string_view());

    if (client_id.empty()) {
        // allow_zero_length_clientid false (mosquitto.conf(5)): the server does not accept an
        // empty ClientId (MQTT-3.1.3-6 lets it choose), answering 0x02 / 0x85 (MQTT-3.1.3-9,
        // MQTT5-3.1.3-8).
        if (!p_.cfg.allow_zero_length_clientid) {
            refuse(c, reason_code::client_identifier_not_valid);
            return;
        }
        // MQTT-3.1.3-6 / MQTT5-3.1.3-6: the server assigns a unique identifier.
        client_id = p_.sessions.assign_id();
    }
    if (v5 && p.properties.contains(property_id::authentication_method)) {
        // MQTT5-4.12.0-1: an unsupported Authentication Method gets CONNACK 0x8C.
        refuse(c, reason_code::bad_authentication_method);
        return;
    }
    if (const auto refused =
            c.trusted ? std::nullopt : p_.pol.authenticate(p, c.policy, &c.identity)) {
        detail(c, *refused == reason_code::not_authorized ? "anonymous client refused"
                                                          : "bad user name or password");
        refuse(c, *refused);
        return;
    }
    if (p.will && p_.cfg.max_topic_levels != 0 &&
        topic_levels(p.will->topic.as_string_view()) > p_.cfg.max_topic_levels) {
        // The will topic is held to the same level cap as PUBLISH topics (0x90).
        refuse(c, reason_code::topic_name_invalid);
        return;
    }

    // Session takeover: MQTT-3.1.4-2 / MQTT5-3.1.4-3.
    session* s = p_.sessions.find(client_id);
    bool present = false;
    if (s != nullptr) {
        if (s->conn != nullptr) take_over(*s->conn, client_id, now);
        p_.sessions.take_over(*s, now);
        if (p.clean_start) {
            p_.sessions.end(*s, now); // MQTT-3.1.2-6 / MQTT5-3.1.2-4: discard the old session
            s = nullptr;
        } else {
            present = true; // MQTT-3.2.2-2 / MQTT5-3.2.2-3
        }
    }
    if (s == nullptr) s = &p_.sessions.create(client_id);
    s->version = v;
    s->trusted = c.trusted;
    s->user = c.identity    ? c.identity
              : p.user_name ? optional_text(std::string(p.user_name->as_string_view()))
                            : optional_text();
    s->policy = c.policy;
    s->expiry_interval =
        v5 ? p.properties.integer_or(property_id::session_expiry_interval, 0)
           : (p.clean_start ? 0 : never_expires);
    keep_will(*s, p);

    accept_options a;
    a.session_present = present; // MQTT-3.2.2-1..3 / MQTT5-3.2.2-2, MQTT5-3.2.2-3
    if (p.client_id.empty()) a.assigned_client_id = utf8_view(s->client_id); // MQTT5-3.2.2-16
    p_.sessions.attach(*s, c);
    c.s = s;
    c.st = connection::state::connected;
    p_.out.resuming(*s, now);
    // CONNACK with the limits the broker announces; with Session Present the session resends
    // unacknowledged PUBLISHes (DUP 1) and PUBRELs in order (MQTT-4.4.0-1 / MQTT5-4.4.0-1).
    if (const errc e = c.proto.accept(s->state, a); e != errc::success) {
        detail(c, std::string("cannot accept: ") + std::string(errc_name(e)));
        (void)c.proto.disconnect(reason_code::unspecified_error);
        return;
    }
    accepted(c, p, present);
    p_.sessions.saved(*s);
    p_.out.pump(*s, now); // then what was queued while it was away
}

void protocol_handler::take_over(connection& old, std::string_view client_id,
                                 clock::time_point now) {
    // The old connection closes (5.0: DISCONNECT 0x8E, MQTT5-3.1.4-3) without ending the session
    // it hands over: its closed event finds no session.
    detail(old, "session taken over");
    announce_end(old, client_id, "already connected, closing old connection");
    old.s = nullptr;
    end_connection(old, reason_code::session_taken_over, now, false, {});
}

void protocol_handler::keep_will(session& s, const connect_view& p) {
    s.will.reset();
    if (!p.will) return;
    auto m = std::make_shared<message>();
    m->topic = std::string(p.will->topic.as_string_view());
    const auto pb = p.will->payload.bytes();
    m->payload.assign(pb.begin(), pb.end());
    m->qos = p.will->qos;
    m->retain = p.will->retain;
    auto w = std::make_unique<session_will>();
    if (is_v5(p.version)) {
        for (const auto& prop : p.will->properties) {
            if (prop.id == property_id::will_delay_interval)
                w->delay = prop.integer;
            else if (prop.id == property_id::message_expiry_interval)
                w->expiry = prop.integer; // counted from publication
            else
                keep_property(*m, prop); // MQTT5-3.1.3-10: User Properties keep their order
        }
    }
    w->msg = std::move(m);
    s.will = std::move(w);
}

void protocol_handler::accepted(connection& c, const connect_view& p, bool present) {
    announce(c, p);
    detail(c, std::string(c.bridge ? "bridge connected (" : "connected (") +
                  (c.version() == protocol_version::v5       ? "5.0"
                   : c.version() == protocol_version::v3_1_1 ? "3.1.1"
                                                             : "3.1") +
                  (present ? ", session resumed)" : ")"));
}

void protocol_handler::announce(connection& c, const connect_view& p) {
    const optional_text peer = std::move(c.peer); // needed for this line only
    if (!p_.cfg.connection_messages || !p_.log.wants(log_type::notice) || c.s == nullptr) return;
    c.announced = true;
    // mosquitto's shape: p1 = MQTT 3.1, p2 = 3.1.1, p5 = 5.0; c = Clean Start; k = Keep Alive.
    const int level = c.version() == protocol_version::v5       ? 5
                      : c.version() == protocol_version::v3_1_1 ? 2
                                                                : 1;
    std::string line = "New client connected from ";
    line += peer ? std::string_view(*peer) : std::string_view("unknown");
    line += " as ";
    line += c.s->client_id;
    line += " (p" + std::to_string(level) + ", c" + (p.clean_start ? "1" : "0") + ", k" +
            std::to_string(c.proto.peer().keep_alive);
    if (p.user_name) {
        line += ", u'";
        line += p.user_name->as_string_view();
        line += '\'';
    }
    line += ").";
    p_.log.typed(log_type::notice, line);
}

void protocol_handler::announce_end(connection& c, std::string_view client_id,
                                    std::string_view how) {
    if (!c.announced) return;
    c.announced = false;
    std::string line = "Client ";
    line += client_id;
    line += ' ';
    line += how;
    line += '.';
    p_.log.typed(log_type::notice, line);
}

} // namespace mqttwire::broker
