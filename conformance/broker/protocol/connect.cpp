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

void protocol_handler::refuse_connect(connection& c, protocol_version v, reason_code v5,
                                      connect_return_code v3) {
    connack_view a;
    a.session_present = false; // MQTT-3.2.2-4 / MQTT5-3.2.2-6
    a.reason = is_v5(v) ? v5 : static_cast<reason_code>(v3);
    c.version = v;
    p_.writer.send(c, a);
    // MQTT-3.2.2-5 / MQTT5-3.2.2-7: close after a refusing CONNACK.
    c.st = connection::state::closing;
    p_.conns.mark_dirty(c);
}

void protocol_handler::on_connect(connection& c, const connect_view& p, clock::time_point now) {
    const protocol_version v = p.version;
    c.version = v;
    c.bridge = p.bridge;
    const bool v5 = is_v5(v);
    std::string client_id(p.client_id.as_string_view());

    if (v == protocol_version::v3_1 && (client_id.empty() || client_id.size() > 23)) {
        // MQTT 3.1 section 3.1: the Client Identifier is 1 to 23 characters.
        refuse_connect(c, v, reason_code::client_identifier_not_valid,
                       connect_return_code::identifier_rejected);
        return;
    }
    if (client_id.empty()) {
        // allow_zero_length_clientid false (mosquitto.conf(5)): the server does not accept an
        // empty ClientId (MQTT-3.1.3-6 lets it choose), answering 0x02 / 0x85 (MQTT-3.1.3-9,
        // MQTT5-3.1.3-8).
        if ((!v5 && !p.clean_start) || !p_.cfg.allow_zero_length_clientid) {
            // MQTT-3.1.3-8: a zero-byte ClientId needs CleanSession=1 (return code 0x02).
            refuse_connect(c, v, reason_code::client_identifier_not_valid,
                           connect_return_code::identifier_rejected);
            return;
        }
        // MQTT-3.1.3-6 / MQTT5-3.1.3-6: the server assigns a unique identifier.
        client_id = p_.sessions.assign_id();
    }
    if (v5 && p.properties.contains(property_id::authentication_method)) {
        // MQTT5-4.12.0-1: an unsupported Authentication Method gets CONNACK 0x8C.
        refuse_connect(c, v, reason_code::bad_authentication_method,
                       connect_return_code::not_authorized);
        return;
    }
    if (const auto refused =
            c.trusted ? std::nullopt : p_.pol.authenticate(p, c.policy, &c.identity)) {
        detail(c, *refused == reason_code::not_authorized ? "anonymous client refused"
                                                          : "bad user name or password");
        refuse_connect(c, v, *refused,
                       *refused == reason_code::not_authorized
                           ? connect_return_code::not_authorized
                           : connect_return_code::bad_user_name_or_password);
        return;
    }
    if (p.will && p.will->retain && !p_.cfg.retain_available) {
        // MQTT5-3.2.2-13: a retained will without retain support is refused (0x9A).
        refuse_connect(c, v, reason_code::retain_not_supported,
                       connect_return_code::not_authorized);
        return;
    }
    if (p.will && p_.cfg.max_topic_levels != 0 &&
        topic_levels(p.will->topic.as_string_view()) > p_.cfg.max_topic_levels) {
        // The will topic is held to the same level cap as PUBLISH topics (0x90).
        refuse_connect(c, v, reason_code::topic_name_invalid, connect_return_code::not_authorized);
        return;
    }

    // Session takeover: MQTT-3.1.4-2 / MQTT5-3.1.4-3.
    session* s = p_.sessions.find(client_id);
    bool present = false;
    if (s != nullptr) {
        if (s->conn != nullptr) {
            connection& old = *s->conn;
            if (is_v5(old.version)) {
                disconnect_view d;
                d.reason = reason_code::session_taken_over;
                p_.writer.send(old, d);
            }
            detail(old, "session taken over");
            announce_end(old, client_id, "already connected, closing old connection");
            // The old connection closes without ending the session it hands over.
            old.st = connection::state::closing;
            old.s = nullptr;
            p_.conns.mark_dirty(old);
        }
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
    p_.sessions.attach(*s, c);
    c.s = s;
    c.st = connection::state::connected;
    // MQTT5-3.3.4-9: never more QoS>0 PUBLISHes in flight than the client's Receive Maximum,
    // and never more than max_inflight_messages, whatever the client allows.
    const std::uint32_t window =
        v5 ? p.properties.integer_or(property_id::receive_maximum, 65535) : 65535;
    c.send_window = static_cast<std::uint16_t>(
        p_.cfg.max_inflight_messages == 0
            ? window
            : std::min<std::uint32_t>(window, p_.cfg.max_inflight_messages));
    if (v5) {
        s->expiry_interval = p.properties.integer_or(property_id::session_expiry_interval, 0);
        c.client_max_packet = p.properties.integer_or(property_id::maximum_packet_size, 0);
        c.problem_information =
            p.properties.integer_or(property_id::request_problem_information, 1) == 1;
        start_aliases_out(c, p);
    } else {
        s->expiry_interval = p.clean_start ? 0 : never_expires;
    }
    keep_will(*s, p);
    accept_connect(c, *s, p, present);
    p_.sessions.saved(*s);

    // MQTT-4.4.0-1 / MQTT5-4.4.0-1: resend unacknowledged PUBLISH (DUP=1) and PUBREL in order.
    p_.out.resend(*s, now);
}

void protocol_handler::start_aliases_out(connection& c, const connect_view& p) {
    // MQTT5-3.1.2-26 / MQTT5-3.1.2-27: aliases only up to the client's Topic Alias Maximum,
    // none when it sent none. The table is sized for what this client can use.
    const auto allowed =
        static_cast<std::uint16_t>(p.properties.integer_or(property_id::topic_alias_maximum, 0));
    const std::uint16_t n = std::min(allowed, p_.cfg.max_topic_alias_out);
    c.aliases_out.reset();
    if (n == 0 || p_.cfg.topic_alias_out_slot_bytes == 0) return;
    session_limits l;
    l.aliases_out = n;
    l.alias_bytes_out = std::uint32_t{n} * p_.cfg.topic_alias_out_slot_bytes;
    topic_alias_policy policy;
    policy.maximum = n;
    policy.min_topic_length = p_.cfg.topic_alias_out_min_length;
    policy.replace = p_.cfg.topic_alias_out_replace;
    c.aliases_out =
        std::make_unique<topic_alias_sender<dynamic_storage<>>>(dynamic_storage<>(l), policy);
    c.aliases_out->start(allowed);
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
    s.will_delay = 0;
    s.will_expiry.reset();
    if (is_v5(p.version)) {
        for (const auto& prop : p.will->properties) {
            if (prop.id == property_id::will_delay_interval)
                s.will_delay = prop.integer;
            else if (prop.id == property_id::message_expiry_interval)
                s.will_expiry = prop.integer; // counted from publication
            else
                keep_property(*m, prop); // MQTT5-3.1.3-10: User Properties keep their order
        }
    }
    s.will = std::move(m);
}

void protocol_handler::accept_connect(connection& c, session& s, const connect_view& p,
                                      bool present) {
    const bool v5 = is_v5(c.version);
    // Keep alive: MQTT-3.1.2-24 / MQTT5-3.1.2-22 (enforced at 1.5 times by the keep_alive
    // timer); a 5.0 client asking for more than max_keepalive is told the server's value
    // (MQTT5-3.2.2-21).
    c.keep_alive = p.keep_alive;
    std::optional<std::uint16_t> server_keep_alive;
    if (v5 && (p.keep_alive > p_.cfg.max_keepalive ||
               (p.keep_alive == 0 && p_.cfg.max_keepalive < 65535))) {
        server_keep_alive = p_.cfg.max_keepalive;
        c.keep_alive = p_.cfg.max_keepalive;
    }
    if (c.keep_alive != 0)
        p_.timers.schedule(timer_kind::keep_alive, c.id,
                           c.last_packet +
                               std::chrono::milliseconds(std::uint64_t{c.keep_alive} * 1500),
                           c.timers);

    connack_view a;
    a.session_present = present;
    a.reason = reason_code::success;
    std::array<property, 8> props{};
    std::size_t n = 0;
    if (v5) {
        if (p_.cfg.receive_maximum != 65535)
            props[n++] = {property_id::receive_maximum, p_.cfg.receive_maximum};
        if (!p_.cfg.retain_available) props[n++] = {property_id::retain_available, 0};
        if (p_.cfg.max_packet_size != 0)
            props[n++] = {property_id::maximum_packet_size, p_.cfg.max_packet_size};
        if (p.client_id.empty())
            props[n++] = {property_id::assigned_client_identifier, utf8_view(s.client_id)};
        if (p_.cfg.topic_alias_maximum != 0)
            props[n++] = {property_id::topic_alias_maximum, p_.cfg.topic_alias_maximum};
        if (server_keep_alive) props[n++] = {property_id::server_keep_alive, *server_keep_alive};
        a.properties = std::span<const property>(props.data(), n);
    }
    p_.writer.send(c, a);
    announce(c, p);
    detail(c, std::string(c.bridge ? "bridge connected (" : "connected (") +
                  (c.version == protocol_version::v5       ? "5.0"
                   : c.version == protocol_version::v3_1_1 ? "3.1.1"
                                                           : "3.1") +
                  (present ? ", session resumed)" : ")"));
}

void protocol_handler::announce(connection& c, const connect_view& p) {
    if (!p_.cfg.connection_messages || !p_.log.wants(log_type::notice) || c.s == nullptr) return;
    c.announced = true;
    // mosquitto's shape: p1 = MQTT 3.1, p2 = 3.1.1, p5 = 5.0; c = Clean Start; k = Keep Alive.
    const int level = c.version == protocol_version::v5       ? 5
                      : c.version == protocol_version::v3_1_1 ? 2
                                                              : 1;
    std::string line = "New client connected from ";
    line += c.peer.empty() ? std::string_view("unknown") : std::string_view(c.peer);
    line += " as ";
    line += c.s->client_id;
    line += " (p" + std::to_string(level) + ", c" + (p.clean_start ? "1" : "0") + ", k" +
            std::to_string(c.keep_alive);
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
