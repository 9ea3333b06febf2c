// The reference broker's session and routing layer. Statement ids in comments name the rule of
// MQTT 3.1.1 (`MQTT-…`) or 5.0 (`MQTT5-…`) that a piece of code implements.

#include "broker.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <set>
#include <string>

#include "auth.hpp"

namespace mqttwire::broker {

namespace {

constexpr std::uint32_t never_expires = 0xFFFFFFFF;
// Packets before CONNECT is accepted are held to this size (mosquitto CVE-2023-0809 class: an
// unauthenticated peer must not make the broker buffer a large packet).
constexpr std::uint32_t pre_connect_limit = 1u << 20;

std::string_view text(const utf8_view& v) { return v.as_string_view(); }

bool is_v5(protocol_version v) { return v == protocol_version::v5; }

mqttwire::qos min_qos(mqttwire::qos a, mqttwire::qos b) { return a < b ? a : b; }
mqttwire::qos max_qos(mqttwire::qos a, mqttwire::qos b) { return a < b ? b : a; }

// The protocol level byte of a CONNECT that did not decode, if it can be read.
std::optional<std::uint8_t> peek_connect_level(std::span<const std::byte> pkt) {
    const auto f = next_frame(pkt);
    if (f.status != errc::success || pkt.size() < f.header_size + 2) return std::nullopt;
    const std::size_t name_len = (static_cast<std::size_t>(pkt[f.header_size]) << 8) |
                                 static_cast<std::size_t>(pkt[f.header_size + 1]);
    const std::size_t at = f.header_size + 2 + name_len;
    if (at >= pkt.size()) return std::nullopt;
    return static_cast<std::uint8_t>(pkt[at]);
}

// Appends `prop` in wire form to the message's forwarded property block.
void keep_property(message& m, const property& prop) {
    const property one[1] = {prop};
    const auto n = property_block_size(one, property_context::publish);
    if (!n) return;
    const auto at = m.properties.size();
    m.properties.resize(at + *n);
    (void)encode_property_block(one, property_context::publish,
                                std::span<std::byte>(m.properties).subspan(at));
    const auto v = decode_property_block(m.properties, property_context::publish);
    m.property_view = v ? *v : properties_view{};
}

} // namespace

struct outgoing {
    std::uint16_t packet_id = 0;
    message_ptr msg;
    mqttwire::qos qos = mqttwire::qos::at_least_once;
    bool retain = false;
    bool released = false; // PUBREC received, PUBREL sent
    std::vector<std::uint32_t> sub_ids;
};

struct queued {
    message_ptr msg;
    mqttwire::qos qos = mqttwire::qos::at_least_once;
    bool retain = false;
    std::vector<std::uint32_t> sub_ids;
};

// A std::deque that allocates on first use: libstdc++'s std::deque allocates its map and a
// 512-byte block when default-constructed, which made two of them about 1.2 KB of every idle
// session. Only the members the broker uses.
template <class T> class lazy_deque {
  public:
    using iterator = typename std::deque<T>::iterator;
    [[nodiscard]] bool empty() const noexcept { return !d_ || d_->empty(); }
    [[nodiscard]] std::size_t size() const noexcept { return d_ ? d_->size() : 0; }
    iterator begin() noexcept { return d_ ? d_->begin() : iterator{}; }
    iterator end() noexcept { return d_ ? d_->end() : iterator{}; }
    T& front() { return d_->front(); }
    void pop_front() { d_->pop_front(); }
    iterator erase(iterator it) { return d_->erase(it); }
    void push_back(T&& v) {
        if (!d_) d_ = std::make_unique<std::deque<T>>();
        d_->push_back(std::move(v));
    }
    void clear() noexcept { d_.reset(); }

  private:
    std::unique_ptr<std::deque<T>> d_;
};

struct session {
    std::string client_id;
    protocol_version version = protocol_version::v5;
    broker::connection* conn = nullptr;
    std::optional<std::string> user;
    std::uint32_t expiry_interval = 0; // seconds; never_expires: kept forever
    std::optional<clock::time_point> expires_at;
    std::map<std::string, subscriber, std::less<>> subscriptions;
    lazy_deque<outgoing> inflight;
    lazy_deque<queued> queue;
    std::uint16_t last_packet_id = 0;
    std::set<std::uint16_t> awaiting_pubrel; // incoming QoS 2 identifiers (PUBREC sent)
    message_ptr will;
    std::uint32_t will_delay = 0;
    std::optional<std::uint32_t> will_expiry; // Message Expiry Interval of the will
    std::optional<clock::time_point> will_at;
    std::uint64_t route_mark = 0;
    std::size_t route_index = 0;
};

struct broker::connection {
    conn_id id = 0;
    enum class state { awaiting_connect, connected, closing } st = state::awaiting_connect;
    std::vector<std::byte> in;
    std::vector<std::byte> out;
    std::size_t out_pos = 0;
    bool dirty = false;
    session* s = nullptr;
    protocol_version version = protocol_version::v5;
    clock::time_point opened{};
    clock::time_point last_packet{};
    std::uint16_t keep_alive = 0;
    std::uint16_t send_window = 65535;      // client's Receive Maximum, or max_inflight_messages
    std::uint32_t client_max_packet = 0;    // client's Maximum Packet Size; 0: none
    bool problem_information = true;        // client's Request Problem Information
    std::vector<std::string> aliases;       // topic aliases from the client (index = alias)
};

namespace {
std::uint64_t g_route_seq = 0;
}

broker::broker(settings s, log_sink log)
    : settings_(std::move(s)), log_(std::move(log)) {}

broker::~broker() = default;

broker::connection* broker::find(conn_id id) const {
    const auto it = conns_.find(id);
    return it == conns_.end() ? nullptr : it->second.get();
}

void broker::mark_dirty(connection& c) {
    if (!c.dirty) {
        c.dirty = true;
        dirty_.push_back(c.id);
    }
}

void broker::log(std::string_view msg) const {
    if (log_) log_(msg);
}

void broker::logv(const connection& c, std::string_view msg) const {
    if (!settings_.verbose || !log_) return;
    std::string line = "client ";
    line += c.s != nullptr ? c.s->client_id : "#" + std::to_string(c.id);
    line += ": ";
    line += msg;
    log_(line);
}

conn_id broker::accept(clock::time_point now) {
    auto c = std::make_unique<connection>();
    c->id = next_conn_++;
    c->opened = now;
    c->last_packet = now;
    const auto id = c->id;
    conns_.emplace(id, std::move(c));
    return id;
}

std::span<const std::byte> broker::pending_output(conn_id id) const {
    const connection* c = find(id);
    if (c == nullptr) return {};
    return std::span<const std::byte>(c->out).subspan(c->out_pos);
}

void broker::output_written(conn_id id, std::size_t n) {
    connection* c = find(id);
    if (c == nullptr) return;
    c->out_pos += n;
    if (c->out_pos >= c->out.size()) {
        c->out.clear();
        c->out_pos = 0;
    }
}

bool broker::should_close(conn_id id) const {
    const connection* c = find(id);
    return c == nullptr || c->st == connection::state::closing;
}

std::vector<conn_id> broker::take_dirty() {
    std::vector<conn_id> out;
    out.swap(dirty_);
    for (auto id : out)
        if (connection* c = find(id)) c->dirty = false;
    return out;
}

// ------------------------------------------------------------------------------------------
// Input

void broker::receive(conn_id id, std::span<const std::byte> bytes, clock::time_point now) {
    connection* c = find(id);
    if (c == nullptr || c->st == connection::state::closing) return;
    c->in.insert(c->in.end(), bytes.begin(), bytes.end());
    process(*c, now);
}

void broker::process(connection& c, clock::time_point now) {
    std::size_t off = 0;
    while (c.st != connection::state::closing) {
        const auto avail = std::span<const std::byte>(c.in).subspan(off);
        const bool before_connect = c.st == connection::state::awaiting_connect;
        std::uint32_t limit = settings_.max_packet_size == 0 ? max_packet_size_limit
                                                            : settings_.max_packet_size;
        if (before_connect) limit = std::min(limit, pre_connect_limit);
        // MQTT-3.1.0-1 / MQTT5-3.1.0-1: the first packet from a client is CONNECT; anything
        // else closes the connection, decided from its first byte.
        if (before_connect && !avail.empty() &&
            (static_cast<std::uint8_t>(avail[0]) >> 4) != 1) {
            logv(c, "first packet is not CONNECT; closing");
            close_connection(c, now, false);
            break;
        }
        const auto f = next_frame(avail, limit);
        if (f.status == errc::incomplete) break;
        if (f.status != errc::success) {
            // Oversized packets are refused from the fixed header, before they are buffered
            // (MQTT5-3.2.2-? Maximum Packet Size; 0x95).
            protocol_violation(c, f.status, now, f.status == errc::packet_too_large
                                                     ? "packet exceeds maximum packet size"
                                                     : "malformed fixed header");
            break;
        }
        const auto pkt = avail.first(f.size);
        off += f.size;
        c.last_packet = now;
        decode_options o;
        o.version = c.version;
        o.max_packet_size = limit;
        o.sender = peer_role::client;
        const auto r = decode_packet(pkt, o);
        if (!r) {
            if (before_connect) {
                // MQTT-3.1.4-1 / MQTT5-3.1.4-1: a non-conforming CONNECT is refused. 3.1.1 closes
                // without CONNACK, except for an unsupported protocol level (MQTT-3.1.2-2:
                // CONNACK 0x01); 5.0 may send CONNACK with the reason first (MQTT5-3.1.4-1).
                const auto level = peek_connect_level(pkt);
                if (r.error() == errc::unsupported_protocol_version) {
                    if (level && *level == 5)
                        refuse_connect(c, protocol_version::v5,
                                       reason_code::unsupported_protocol_version,
                                       connect_return_code::unacceptable_protocol_version);
                    else if (level && *level != 3 && *level != 4)
                        refuse_connect(c, protocol_version::v3_1_1,
                                       reason_code::unsupported_protocol_version,
                                       connect_return_code::unacceptable_protocol_version);
                    else
                        close_connection(c, now, false); // MQTT-3.1.2-1: wrong protocol name
                } else if (level && *level == 5) {
                    auto rc = static_cast<reason_code>(r.error());
                    if (!is_allowed(rc, reason_context::connack)) rc = reason_code::malformed_packet;
                    refuse_connect(c, protocol_version::v5, rc,
                                   connect_return_code::unacceptable_protocol_version);
                } else {
                    close_connection(c, now, false);
                }
                logv(c, std::string("invalid CONNECT: ") + std::string(errc_name(r.error())));
                break;
            }
            protocol_violation(c, r.error(), now, errc_name(r.error()));
            break;
        }
        const errc e = on_packet(c, r->packet, pkt, now);
        if (e != errc::success) {
            protocol_violation(c, e, now, errc_name(e));
            break;
        }
    }
    if (c.st == connection::state::closing) {
        c.in.clear();
        c.in.shrink_to_fit();
    } else if (off > 0) {
        c.in.erase(c.in.begin(), c.in.begin() + static_cast<std::ptrdiff_t>(off));
    }
}

errc broker::on_packet(connection& c, const packet_view& p, std::span<const std::byte>,
                       clock::time_point now) {
    if (c.st == connection::state::awaiting_connect) {
        on_connect(c, std::get<connect_view>(p), now);
        return errc::success;
    }
    switch (type_of(p)) {
    case packet_type::connect:
        return errc::protocol_error; // MQTT-3.1.0-2 / MQTT5-3.1.0-2: a second CONNECT
    case packet_type::publish: return on_publish(c, std::get<publish_view>(p), now);
    case packet_type::puback: return on_puback(c, std::get<puback_view>(p).packet_id);
    case packet_type::pubrec: return on_pubrec(c, std::get<pubrec_view>(p));
    case packet_type::pubrel: return on_pubrel(c, std::get<pubrel_view>(p));
    case packet_type::pubcomp: return on_pubcomp(c, std::get<pubcomp_view>(p).packet_id);
    case packet_type::subscribe: return on_subscribe(c, std::get<subscribe_view>(p), now);
    case packet_type::unsubscribe: return on_unsubscribe(c, std::get<unsubscribe_view>(p));
    case packet_type::pingreq: // MQTT-3.12.4-1 / MQTT5-3.12.4-1
        send(c, pingresp_view{});
        return errc::success;
    case packet_type::disconnect: return on_disconnect(c, std::get<disconnect_view>(p), now);
    case packet_type::auth:
        // No enhanced authentication is offered, so an AUTH can only be a Protocol Error
        // (MQTT5-4.12.0-? : AUTH without an Authentication Method in CONNECT).
        return errc::protocol_error;
    default: return errc::protocol_error; // decode_options::sender refuses server packets
    }
}

// ------------------------------------------------------------------------------------------
// CONNECT

void broker::refuse_connect(connection& c, protocol_version v, reason_code v5,
                            connect_return_code v3) {
    connack_view a;
    a.session_present = false; // MQTT-3.2.2-4 / MQTT5-3.2.2-6
    a.reason = is_v5(v) ? v5 : static_cast<reason_code>(v3);
    c.version = v;
    send(c, a);
    // MQTT-3.2.2-5 / MQTT5-3.2.2-7: close after a refusing CONNACK.
    c.st = connection::state::closing;
    mark_dirty(c);
}

void broker::on_connect(connection& c, const connect_view& p, clock::time_point now) {
    const protocol_version v = p.version;
    c.version = v;
    const bool v5 = is_v5(v);
    std::string client_id(text(p.client_id));

    if (v == protocol_version::v3_1 && (client_id.empty() || client_id.size() > 23)) {
        // MQTT 3.1 section 3.1: the Client Identifier is 1 to 23 characters.
        refuse_connect(c, v, reason_code::client_identifier_not_valid,
                       connect_return_code::identifier_rejected);
        return;
    }
    if (client_id.empty()) {
        if (!v5 && !p.clean_start) {
            // MQTT-3.1.3-8: a zero-byte ClientId needs CleanSession=1 (return code 0x02).
            refuse_connect(c, v, reason_code::client_identifier_not_valid,
                           connect_return_code::identifier_rejected);
            return;
        }
        // MQTT-3.1.3-6 / MQTT5-3.1.3-6: the server assigns a unique identifier.
        do {
            client_id = "mqttwire-" + std::to_string(++assigned_ids_);
        } while (sessions_.count(client_id) != 0);
    }
    if (v5 && p.properties.contains(property_id::authentication_method)) {
        // MQTT5-4.12.0-1: an unsupported Authentication Method gets CONNACK 0x8C.
        refuse_connect(c, v, reason_code::bad_authentication_method,
                       connect_return_code::not_authorized);
        return;
    }
    // Authentication: a user name is checked against the password file when there is one;
    // without a user name the client is anonymous.
    if (p.user_name) {
        if (settings_.passwords != nullptr) {
            // A user in a password file needs its password; unknown users are refused.
            if (!p.password || !settings_.passwords->check(text(*p.user_name), p.password->bytes())) {
                logv(c, "bad user name or password");
                refuse_connect(c, v, reason_code::bad_user_name_or_password,
                               connect_return_code::bad_user_name_or_password);
                return;
            }
        }
    } else if (!settings_.allow_anonymous) {
        logv(c, "anonymous client refused");
        refuse_connect(c, v, reason_code::not_authorized, connect_return_code::not_authorized);
        return;
    }
    if (p.will && p.will->retain && !settings_.retain_available) {
        // MQTT5-3.2.2-13: a retained will without retain support is refused (0x9A).
        refuse_connect(c, v, reason_code::retain_not_supported,
                       connect_return_code::not_authorized);
        return;
    }

    // Session takeover: MQTT-3.1.4-2 / MQTT5-3.1.4-3.
    session* s = nullptr;
    bool present = false;
    if (auto it = sessions_.find(client_id); it != sessions_.end()) {
        s = it->second.get();
        if (s->conn != nullptr) {
            connection& old = *s->conn;
            if (is_v5(old.version)) {
                disconnect_view d;
                d.reason = reason_code::session_taken_over;
                send(old, d);
            }
            logv(old, "session taken over");
            // The old connection closes without ending the session it hands over. Its will goes
            // out now only if it has no delay; a delayed one is cancelled by the new connection
            // (MQTT5-3.1.3-9).
            old.st = connection::state::closing;
            old.s = nullptr;
            mark_dirty(old);
            s->conn = nullptr;
            if (s->will && s->will_delay == 0) publish_will(*s, now);
        }
        s->will.reset();
        s->will_at.reset();
        if (p.clean_start) {
            end_session(*s, now); // MQTT-3.1.2-6 / MQTT5-3.1.2-4: discard the old session
            s = nullptr;
        } else {
            present = true; // MQTT-3.2.2-2 / MQTT5-3.2.2-3
        }
    }
    if (s == nullptr) {
        auto fresh = std::make_unique<session>();
        fresh->client_id = client_id;
        s = fresh.get();
        sessions_.emplace(client_id, std::move(fresh));
    }
    s->version = v;
    s->conn = &c;
    s->expires_at.reset();
    s->user = p.user_name ? std::optional<std::string>(std::string(text(*p.user_name)))
                          : std::nullopt;
    c.s = s;
    c.st = connection::state::connected;

    if (v5) {
        s->expiry_interval = p.properties.integer_or(property_id::session_expiry_interval, 0);
        c.send_window = static_cast<std::uint16_t>(
            p.properties.integer_or(property_id::receive_maximum, 65535));
        c.client_max_packet = p.properties.integer_or(property_id::maximum_packet_size, 0);
        c.problem_information =
            p.properties.integer_or(property_id::request_problem_information, 1) == 1;
    } else {
        s->expiry_interval = p.clean_start ? 0 : never_expires;
        c.send_window = settings_.max_inflight_messages == 0 ? 65535
                                                             : settings_.max_inflight_messages;
    }

    if (p.will) {
        auto m = std::make_shared<message>();
        m->topic = std::string(text(p.will->topic));
        const auto pb = p.will->payload.bytes();
        m->payload.assign(pb.begin(), pb.end());
        m->qos = p.will->qos;
        m->retain = p.will->retain;
        s->will_delay = 0;
        s->will_expiry.reset();
        if (v5) {
            for (const auto& prop : p.will->properties) {
                if (prop.id == property_id::will_delay_interval)
                    s->will_delay = prop.integer;
                else if (prop.id == property_id::message_expiry_interval)
                    s->will_expiry = prop.integer; // counted from publication (publish_will)
                else
                    keep_property(*m, prop); // MQTT5-3.1.3-10: User Properties keep their order
            }
        }
        s->will = std::move(m);
    } else {
        s->will.reset();
    }

    // Keep alive: MQTT-3.1.2-24 / MQTT5-3.1.2-22 (enforced at 1.5 times in tick()); a 5.0 client
    // asking for more than max_keepalive is told the server's value (MQTT5-3.2.2-21).
    c.keep_alive = p.keep_alive;
    std::optional<std::uint16_t> server_keep_alive;
    if (v5 && (p.keep_alive > settings_.max_keepalive ||
               (p.keep_alive == 0 && settings_.max_keepalive < 65535))) {
        server_keep_alive = settings_.max_keepalive;
        c.keep_alive = settings_.max_keepalive;
    }

    connack_view a;
    a.session_present = present;
    a.reason = reason_code::success;
    std::array<property, 8> props{};
    std::size_t n = 0;
    if (v5) {
        if (settings_.receive_maximum != 65535)
            props[n++] = {property_id::receive_maximum, settings_.receive_maximum};
        if (!settings_.retain_available) props[n++] = {property_id::retain_available, 0};
        if (settings_.max_packet_size != 0)
            props[n++] = {property_id::maximum_packet_size, settings_.max_packet_size};
        if (p.client_id.empty())
            props[n++] = {property_id::assigned_client_identifier, utf8_view(s->client_id)};
        if (settings_.topic_alias_maximum != 0)
            props[n++] = {property_id::topic_alias_maximum, settings_.topic_alias_maximum};
        if (server_keep_alive) props[n++] = {property_id::server_keep_alive, *server_keep_alive};
        a.properties = std::span<const property>(props.data(), n);
    }
    send(c, a);
    logv(c, std::string("connected (") +
                (v == protocol_version::v5 ? "5.0" : v == protocol_version::v3_1_1 ? "3.1.1" : "3.1") +
                (present ? ", session resumed)" : ")"));

    // MQTT-4.4.0-1 / MQTT5-4.4.0-1: resend unacknowledged PUBLISH (DUP=1) and PUBREL in order.
    for (auto& o : s->inflight) {
        if (o.released) {
            pubrel_view r;
            r.packet_id = o.packet_id;
            send(c, r);
        } else {
            (void)write_publish(c, *o.msg, o.qos, o.retain, true, o.packet_id, o.sub_ids, now);
        }
    }
    pump(*s, now);
}

// ------------------------------------------------------------------------------------------
// PUBLISH and acknowledgements

errc broker::on_publish(connection& c, const publish_view& p, clock::time_point now) {
    session& s = *c.s;
    std::string_view topic = text(p.topic);
    if (is_v5(c.version)) {
        if (const auto alias = p.properties.find(property_id::topic_alias)) {
            // MQTT5-3.3.2-9 ff.: an alias above our Topic Alias Maximum is refused (0x94).
            if (alias->integer > settings_.topic_alias_maximum) return errc::topic_alias_invalid;
            if (c.aliases.empty()) // allocated on first use: most clients never send an alias
                c.aliases.resize(static_cast<std::size_t>(settings_.topic_alias_maximum) + 1);
            auto& slot = c.aliases[alias->integer];
            if (!topic.empty()) {
                slot.assign(topic);
            } else {
                // MQTT5 section 3.3.2.3.4: an alias never set is a Protocol Error.
                if (slot.empty()) return errc::protocol_error;
                topic = slot;
            }
        }
    }
    if (p.retain && !settings_.retain_available) {
        // MQTT5-3.3.1-? : RETAIN=1 after Retain Available 0 is answered with 0x9A.
        return static_cast<errc>(reason_code::retain_not_supported);
    }
    if (p.qos == mqttwire::qos::exactly_once) {
        if (s.awaiting_pubrel.count(p.packet_id) != 0) {
            // MQTT-4.3.3-2 / MQTT5-4.3.3-? : a resent QoS 2 PUBLISH is not delivered twice.
            pubrec_view r;
            r.packet_id = p.packet_id;
            send(c, r);
            return errc::success;
        }
        // MQTT5-3.3.4-9: more unacknowledged QoS 2 PUBLISHes than our Receive Maximum (0x93).
        if (is_v5(c.version) && s.awaiting_pubrel.size() >= settings_.receive_maximum)
            return errc::receive_maximum_exceeded;
    }
    const bool allowed = authorised(s, topic, static_cast<int>(acl_access::write));
    std::size_t receivers = 0;
    if (allowed) {
        route(p, topic, &s, now);
        receivers = targets_.size();
        if (p.retain) {
            if (p.payload.empty()) {
                // MQTT-3.3.1-10/11 / MQTT5-3.3.1-6/7: an empty retained message removes it.
                if (retained_owner_.erase(std::string(topic)) != 0) (void)retained_.erase(topic);
            } else {
                auto m = own(p, topic, now);
                auto mut = std::const_pointer_cast<message>(m);
                mut->retain = true;
                store_retained(m);
            }
        }
    } else {
        logv(c, "PUBLISH to '" + std::string(topic) + "' not authorised");
    }
    // Unauthorised PUBLISH is acknowledged and dropped (MQTT-3.3.5-2; 5.0 gives 0x87).
    const reason_code rc = !allowed                        ? reason_code::not_authorized
                           : receivers == 0 && is_v5(c.version) ? reason_code::no_matching_subscribers
                                                                : reason_code::success;
    if (p.qos == mqttwire::qos::at_least_once) {
        puback_view a; // MQTT-4.3.2-2 / MQTT5-4.3.2-2
        a.packet_id = p.packet_id;
        a.reason = rc;
        send(c, a);
    } else if (p.qos == mqttwire::qos::exactly_once) {
        pubrec_view r; // MQTT-4.3.3-2 / MQTT5-4.3.3-2
        r.packet_id = p.packet_id;
        r.reason = rc;
        send(c, r);
        if (static_cast<std::uint8_t>(rc) < 0x80) s.awaiting_pubrel.insert(p.packet_id);
    }
    return errc::success;
}

errc broker::on_puback(connection& c, std::uint16_t id) {
    session& s = *c.s;
    const auto it = std::find_if(s.inflight.begin(), s.inflight.end(), [id](const outgoing& o) {
        return o.packet_id == id && o.qos == mqttwire::qos::at_least_once;
    });
    if (it != s.inflight.end()) s.inflight.erase(it); // MQTT-4.3.2-? : the id is free again
    pump(s, c.last_packet);
    return errc::success;
}

errc broker::on_pubrec(connection& c, const pubrec_view& p) {
    session& s = *c.s;
    const auto it = std::find_if(s.inflight.begin(), s.inflight.end(), [&](const outgoing& o) {
        return o.packet_id == p.packet_id && o.qos == mqttwire::qos::exactly_once;
    });
    pubrel_view r;
    r.packet_id = p.packet_id;
    if (it == s.inflight.end()) {
        r.reason = reason_code::packet_identifier_not_found;
        send(c, r);
        return errc::success;
    }
    if (static_cast<std::uint8_t>(p.reason) >= 0x80) {
        // MQTT5-4.3.3-? : a PUBREC with an error code ends the exchange.
        s.inflight.erase(it);
        pump(s, c.last_packet);
        return errc::success;
    }
    it->released = true; // MQTT-4.3.3-? : PUBREL follows PUBREC
    send(c, r);
    return errc::success;
}

errc broker::on_pubrel(connection& c, const pubrel_view& p) {
    session& s = *c.s;
    pubcomp_view r;
    r.packet_id = p.packet_id;
    if (s.awaiting_pubrel.erase(p.packet_id) == 0 && is_v5(c.version))
        r.reason = reason_code::packet_identifier_not_found;
    send(c, r);
    return errc::success;
}

errc broker::on_pubcomp(connection& c, std::uint16_t id) {
    session& s = *c.s;
    const auto it = std::find_if(s.inflight.begin(), s.inflight.end(), [id](const outgoing& o) {
        return o.packet_id == id && o.released;
    });
    if (it != s.inflight.end()) s.inflight.erase(it);
    pump(s, c.last_packet);
    return errc::success;
}

// ------------------------------------------------------------------------------------------
// SUBSCRIBE / UNSUBSCRIBE

errc broker::on_subscribe(connection& c, const subscribe_view& p, clock::time_point now) {
    session& s = *c.s;
    const bool v5 = is_v5(c.version);
    const std::uint32_t sub_id = p.properties.integer_or(property_id::subscription_identifier, 0);
    std::vector<reason_code> codes;
    codes.reserve(p.subscriptions.size());
    struct pending_retained {
        std::string filter;
        subscription_options options;
    };
    std::vector<pending_retained> retained;
    for (const auto& entry : p.subscriptions) {
        const std::string_view filter = text(entry.filter);
        const auto& o = entry.options;
        // MQTT-4.7.1-2/3, MQTT-4.7.3-1: an invalid filter fails that entry only (0x80 / 0x8F).
        if (validate_topic_filter(filter) != errc::success) {
            codes.push_back(v5 ? reason_code::topic_filter_invalid : reason_code::unspecified_error);
            continue;
        }
        shared_subscription shared{};
        const bool is_shared = is_shared_subscription(filter);
        if (is_shared && parse_shared_subscription(filter, shared) != errc::success) {
            codes.push_back(v5 ? reason_code::topic_filter_invalid : reason_code::unspecified_error);
            continue;
        }
        if (!authorised(s, filter, static_cast<int>(acl_access::subscribe))) {
            logv(c, "SUBSCRIBE to '" + std::string(filter) + "' not authorised");
            codes.push_back(v5 ? reason_code::not_authorized : reason_code::unspecified_error);
            continue;
        }
        const auto added = subs_.insert(filter, subscriber{&s, o, sub_id});
        if (!added) {
            codes.push_back(v5 ? reason_code::quota_exceeded : reason_code::unspecified_error);
            continue;
        }
        // MQTT-3.8.4-3 / MQTT5-3.8.4-3: the same filter again replaces the subscription.
        s.subscriptions[std::string(filter)] = subscriber{&s, o, sub_id};
        // MQTT-3.9.3-? / MQTT5-3.8.4-? : the granted QoS is the requested maximum (all are
        // supported).
        codes.push_back(static_cast<reason_code>(o.max_qos));
        // Retained messages: Retain Handling 0 always, 1 only for a new subscription, 2 never
        // (MQTT5-3.3.1-9..11); never for a shared subscription (MQTT5 section 4.8.2).
        const bool send_ret = !is_shared &&
                              (o.retain_handling == retain_handling::send_on_subscribe ||
                               (o.retain_handling == retain_handling::send_if_new_subscription &&
                                added.value()));
        if (send_ret) retained.push_back({std::string(filter), o});
    }
    suback_view a;
    a.packet_id = p.packet_id; // MQTT-3.8.4-2 / MQTT5-3.8.4-2
    a.reasons = std::span<const reason_code>(codes); // MQTT-3.8.4-5 / MQTT5-3.8.4-6
    send(c, a);
    for (const auto& r : retained) send_retained(s, r.filter, r.options, sub_id, now);
    return errc::success;
}

errc broker::on_unsubscribe(connection& c, const unsubscribe_view& p) {
    session& s = *c.s;
    std::vector<reason_code> codes;
    for (const auto& f : p.filters) {
        const std::string_view filter = text(f);
        // MQTT-3.10.4-1 / MQTT5-3.10.4-1: the filter text is compared character by character.
        const bool removed = subs_.erase(filter, &s);
        if (removed) {
            const auto it = s.subscriptions.find(filter);
            if (it != s.subscriptions.end()) s.subscriptions.erase(it);
        }
        codes.push_back(removed ? reason_code::success : reason_code::no_subscription_existed);
    }
    unsuback_view a;
    a.packet_id = p.packet_id; // MQTT-3.10.4-4 / MQTT5-3.10.4-4
    a.reasons = std::span<const reason_code>(codes);
    send(c, a);
    return errc::success;
}

errc broker::on_disconnect(connection& c, const disconnect_view& p, clock::time_point now) {
    session& s = *c.s;
    if (is_v5(c.version)) {
        if (const auto exp = p.properties.find(property_id::session_expiry_interval)) {
            // MQTT5-3.14.2-? : a session that was to end at disconnect cannot be extended.
            if (s.expiry_interval == 0 && exp->integer != 0) return errc::protocol_error;
            s.expiry_interval = exp->integer;
        }
    }
    // MQTT-3.14.4-3 / MQTT5-3.14.4-3: a normal DISCONNECT discards the will; 5.0's 0x04 asks for
    // it to be published.
    const bool with_will = p.reason == reason_code::disconnect_with_will_message;
    logv(c, "disconnected");
    close_connection(c, now, with_will);
    return errc::success;
}

// ------------------------------------------------------------------------------------------
// Output

template <class P> void broker::send(connection& c, const P& p) {
    encode_options eo;
    eo.sender = peer_role::server;
    if (c.client_max_packet != 0) eo.max_packet_size = c.client_max_packet;
    const auto size = encoded_size(p, c.version, eo);
    if (!size) {
        log("internal: cannot encode a " + std::string(packet_type_name(P::type)) + ": " +
            std::string(errc_name(size.error())));
        return;
    }
    const auto at = c.out.size();
    c.out.resize(at + *size);
    const auto n = encode(p, c.version, std::span<std::byte>(c.out).subspan(at), eo);
    if (!n) c.out.resize(at);
    mark_dirty(c);
}

void broker::protocol_violation(connection& c, errc e, clock::time_point now,
                                std::string_view why) {
    if (c.st == connection::state::closing) return;
    logv(c, std::string("protocol error: ") + std::string(why));
    if (c.st == connection::state::connected && is_v5(c.version)) {
        // MQTT5-4.13.1-1: DISCONNECT with the reason code, then close.
        disconnect_view d;
        d.reason = static_cast<reason_code>(e);
        if (!is_allowed(d.reason, reason_context::disconnect))
            d.reason = e == errc::protocol_error ? reason_code::protocol_error
                                                 : reason_code::malformed_packet;
        const property reason_string[] = {{property_id::reason_string, why}};
        d.properties = reason_string;
        send(c, d);
    }
    // MQTT-4.8.0-1 / MQTT5-4.13.1-1: a protocol error closes the connection; the will is
    // published (abnormal loss, MQTT-3.1.2-8 / MQTT5-3.1.2-8).
    close_connection(c, now, true);
}

void broker::close_connection(connection& c, clock::time_point now, bool publish_will_now) {
    if (c.st == connection::state::closing) return;
    c.st = connection::state::closing;
    mark_dirty(c);
    session* s = c.s;
    c.s = nullptr;
    if (s == nullptr) return;
    s->conn = nullptr;
    if (s->will) {
        if (!publish_will_now) {
            s->will.reset();
        } else if (s->will_delay == 0 || s->expiry_interval == 0) {
            publish_will(*s, now);
        } else {
            // MQTT5-3.1.3-9: published after the Will Delay Interval, or when the session ends.
            s->will_at = now + std::chrono::seconds(s->will_delay);
        }
    }
    if (s->expiry_interval == 0) {
        end_session(*s, now); // MQTT-3.1.2-6 / MQTT5-3.1.2-? : the session ends with the connection
        return;
    }
    if (s->expiry_interval != never_expires) {
        s->expires_at = now + std::chrono::seconds(s->expiry_interval);
    } else if (settings_.persistent_client_expiration) {
        s->expires_at = now + *settings_.persistent_client_expiration;
    }
}

void broker::connection_lost(conn_id id, clock::time_point now) {
    connection* c = find(id);
    if (c == nullptr) return;
    if (c->st != connection::state::closing) {
        logv(*c, "connection lost");
        close_connection(*c, now, true); // abnormal: MQTT-3.1.2-8 / MQTT5-3.1.2-8
    }
    conns_.erase(id);
}

void broker::shutdown(clock::time_point now) {
    for (auto& [id, c] : conns_) {
        if (c->st == connection::state::connected && is_v5(c->version)) {
            disconnect_view d;
            d.reason = reason_code::server_shutting_down;
            send(*c, d);
        }
        if (c->st != connection::state::closing) close_connection(*c, now, false);
    }
}

// ------------------------------------------------------------------------------------------
// Routing

// MQTT-2.3.1-4 / MQTT5-2.2.1-4: a non-zero packet identifier not in use by this session.
std::uint16_t broker::next_packet_id(session& s) {
    std::uint16_t id = s.last_packet_id;
    do {
        id = static_cast<std::uint16_t>(id == 65535 ? 1 : id + 1);
    } while (std::any_of(s.inflight.begin(), s.inflight.end(),
                         [id](const outgoing& o) { return o.packet_id == id; }));
    s.last_packet_id = id;
    return id;
}

message_ptr broker::own(const publish_view& p, std::string_view topic,
                        clock::time_point now) const {
    auto m = std::make_shared<message>();
    m->topic.assign(topic);
    const auto pb = p.payload.bytes();
    m->payload.assign(pb.begin(), pb.end());
    m->qos = p.qos;
    m->retain = p.retain;
    for (const auto& prop : p.properties) {
        switch (prop.id) {
        case property_id::topic_alias:
        case property_id::subscription_identifier: continue;
        case property_id::message_expiry_interval:
            m->expires = now + std::chrono::seconds(prop.integer);
            continue;
        default: keep_property(*m, prop);
        }
    }
    return m;
}

void broker::route(const publish_view& p, std::string_view topic, session* from,
                   clock::time_point now) {
    targets_.clear();
    target_ids_.clear();
    const std::uint64_t mark = ++g_route_seq;
    std::vector<std::pair<std::size_t, std::uint32_t>> ids; // (target, subscription id)
    const auto add = [&](const subscriber& sub) {
        session* s = sub.owner;
        if (sub.options.no_local && s == from) return; // MQTT5-3.8.3-3
        if (!authorised(*s, topic, static_cast<int>(acl_access::read))) return;
        const auto q = min_qos(p.qos, sub.options.max_qos); // MQTT-3.8.4-6 / MQTT5-3.8.4-8
        if (s->route_mark != mark) {
            s->route_mark = mark;
            s->route_index = targets_.size();
            targets_.push_back({s, q, sub.options.retain_as_published, 0, 0});
        } else {
            // MQTT-3.3.5-1 / MQTT5-3.3.4-2: overlapping subscriptions deliver once, at the
            // highest QoS, with every Subscription Identifier (MQTT5-3.3.4-3).
            auto& t = targets_[s->route_index];
            t.q = max_qos(t.q, q);
            t.retain_as_published = t.retain_as_published || sub.options.retain_as_published;
        }
        if (sub.subscription_id != 0) ids.emplace_back(s->route_index, sub.subscription_id);
    };
    subs_.match(
        topic, add, [&](const shared_group_view<subscriber>& g) {
            // Shared subscriptions: one member per message, round robin, preferring members that
            // are connected (MQTT5 section 4.8.2).
            auto& cursor = share_cursor_[g.id];
            const std::size_t n = g.members.size();
            std::size_t pick = cursor % n;
            for (std::size_t k = 0; k < n; ++k) {
                const std::size_t i = (cursor + k) % n;
                if (g.members[i].owner->conn != nullptr) {
                    pick = i;
                    break;
                }
            }
            cursor = pick + 1;
            add(g.members[pick]);
        });
    if (!ids.empty()) {
        std::stable_sort(ids.begin(), ids.end(),
                         [](const auto& a, const auto& b) { return a.first < b.first; });
        for (const auto& [t, id] : ids) {
            auto& tg = targets_[t];
            if (tg.id_count == 0) tg.first_id = target_ids_.size();
            target_ids_.push_back(id);
            ++tg.id_count;
        }
    }
    message_ptr owned;
    // Encode once per distinct wire form (protocol family, QoS, RETAIN): subscribers without
    // Subscription Identifiers get a copy of the same bytes, with only the packet identifier
    // patched for QoS > 0.
    struct wire_form {
        bool v5;
        mqttwire::qos q;
        bool retain;
        std::size_t at;
        std::size_t size;
        std::size_t id_at; // offset of the packet identifier (QoS > 0)
    };
    std::array<wire_form, 12> forms; // only [0, form_count) is read
    std::size_t form_count = 0;
    encoded_.clear();
    bool props_ready = false;
    for (const auto& t : targets_) {
        const std::span<const std::uint32_t> sub_ids(target_ids_.data() + t.first_id, t.id_count);
        // MQTT-3.3.1-9 / MQTT5-3.3.1-12: RETAIN is 0 when forwarding to existing subscribers,
        // unless Retain As Published (MQTT5-3.3.1-13).
        const bool retain = t.retain_as_published && p.retain;
        if (t.q != mqttwire::qos::at_most_once && !owned) owned = own(p, topic, now);
        session& s = *t.s;
        connection* c = s.conn;
        const bool direct = c != nullptr && c->st == connection::state::connected &&
                            sub_ids.empty() &&
                            (t.q == mqttwire::qos::at_most_once ||
                             (s.queue.empty() && s.inflight.size() < c->send_window));
        if (!direct) {
            deliver(s, topic, &p, owned, t.q, retain, sub_ids, now);
            continue;
        }
        const bool v5 = is_v5(c->version);
        wire_form* f = nullptr;
        for (std::size_t i = 0; i < form_count; ++i)
            if (forms[i].v5 == v5 && forms[i].q == t.q && forms[i].retain == retain) f = &forms[i];
        if (f == nullptr) {
            if (!props_ready) {
                props_.clear();
                for (const auto& prop : p.properties)
                    if (prop.id != property_id::topic_alias) props_.push_back(prop);
                props_ready = true;
            }
            publish_view out = p;
            out.dup = false; // MQTT-3.3.1-3 / MQTT5-3.3.1-3
            out.qos = t.q;
            out.retain = retain;
            out.packet_id = t.q == mqttwire::qos::at_most_once ? 0 : 1;
            out.topic = utf8_view(topic); // the alias, if any, resolved
            out.properties = std::span<const property>(props_);
            const auto size = encoded_size(out, c->version);
            if (!size) continue;
            const auto at = encoded_.size();
            encoded_.resize(at + *size);
            if (!encode(out, c->version, std::span<std::byte>(encoded_).subspan(at))) continue;
            const auto header = next_frame(std::span<const std::byte>(encoded_).subspan(at));
            forms[form_count] = {v5, t.q, retain, at, *size, header.header_size + 2 + topic.size()};
            f = &forms[form_count];
            if (form_count + 1 < forms.size()) ++form_count;
        }
        if (c->client_max_packet != 0 && f->size > c->client_max_packet)
            continue; // MQTT5-3.1.2-24, MQTT5-3.1.2-25: too large for it, treated as delivered
        const auto bytes = std::span<const std::byte>(encoded_).subspan(f->at, f->size);
        const auto at = c->out.size();
        c->out.insert(c->out.end(), bytes.begin(), bytes.end());
        if (t.q != mqttwire::qos::at_most_once) {
            const std::uint16_t id = next_packet_id(s);
            c->out[at + f->id_at] = static_cast<std::byte>(id >> 8);
            c->out[at + f->id_at + 1] = static_cast<std::byte>(id & 0xFF);
            s.inflight.push_back({id, owned, t.q, retain, false, {}});
        }
        mark_dirty(*c);
    }
}

void broker::route_owned(const message_ptr& m, session* from, clock::time_point now) {
    // Wills: build a view of the owned message and route it like a PUBLISH.
    publish_view p;
    p.topic = utf8_view(m->topic);
    p.qos = m->qos;
    p.retain = m->retain;
    p.payload = binary_view(std::span<const std::byte>(m->payload));
    const auto stored = m->forwarded_properties();
    std::vector<property> props(stored.begin(), stored.end());
    if (m->expires) // MQTT5-3.3.2-6: what remains of the will's Message Expiry Interval
        props.push_back({property_id::message_expiry_interval,
                         static_cast<std::uint32_t>(std::max<long long>(
                             1, std::chrono::ceil<std::chrono::seconds>(*m->expires - now).count()))});
    p.properties = std::span<const property>(props);
    route(p, m->topic, from, now);
    if (m->retain) {
        if (m->payload.empty()) {
            if (retained_owner_.erase(m->topic) != 0) (void)retained_.erase(m->topic);
        } else {
            store_retained(m);
        }
    }
}

void broker::store_retained(const message_ptr& m) {
    auto& slot = retained_owner_[m->topic];
    slot = m;
    (void)retained_.insert_or_assign(m->topic, slot.get());
}

void broker::send_retained(session& s, std::string_view filter, const subscription_options& o,
                           std::uint32_t sub_id, clock::time_point now) {
    std::vector<const message*> found;
    retained_.match(filter, [&](const message* m) { found.push_back(m); });
    for (const message* m : found) {
        const auto it = retained_owner_.find(m->topic);
        if (it == retained_owner_.end()) continue;
        if (m->expires && *m->expires <= now) continue; // MQTT5-3.3.2-5: expired
        if (!authorised(s, m->topic, static_cast<int>(acl_access::read))) continue;
        const std::uint32_t ids[1] = {sub_id};
        // MQTT-3.3.1-8 / MQTT5-3.3.1-? : retained messages sent on subscribe keep RETAIN=1.
        deliver(s, m->topic, nullptr, it->second, min_qos(m->qos, o.max_qos), true,
                std::span<const std::uint32_t>(ids, sub_id != 0 ? 1 : 0), now);
    }
}

void broker::deliver(session& s, std::string_view topic, const publish_view* live,
                     const message_ptr& owned, mqttwire::qos q, bool retain,
                     std::span<const std::uint32_t> sub_ids, clock::time_point now) {
    connection* c = s.conn;
    const bool online = c != nullptr && c->st == connection::state::connected;
    if (q == mqttwire::qos::at_most_once) {
        if (!online) return; // QoS 0 is not queued for offline sessions (MQTT-3.1.2-5 allows)
        if (live != nullptr) {
            props_.clear();
            for (const auto& prop : live->properties)
                if (prop.id != property_id::topic_alias) props_.push_back(prop);
            for (auto id : sub_ids) props_.push_back({property_id::subscription_identifier, id});
            publish_view out = *live;
            out.dup = false;
            out.qos = q;
            out.retain = retain;
            out.packet_id = 0;
            out.topic = utf8_view(topic); // the alias, if any, resolved
            out.properties = std::span<const property>(props_);
            encode_options eo;
            eo.sender = peer_role::server;
            const auto size = encoded_size(out, c->version);
            if (!size) return;
            if (c->client_max_packet != 0 && *size > c->client_max_packet)
                return; // MQTT5-3.1.2-25: too large for the client, treated as delivered
            const auto at = c->out.size();
            c->out.resize(at + *size);
            if (!encode(out, c->version, std::span<std::byte>(c->out).subspan(at)))
                c->out.resize(at);
            mark_dirty(*c);
        } else if (owned) {
            (void)write_publish(*c, *owned, q, retain, false, 0, sub_ids, now);
        }
        return;
    }
    if (!owned) return;
    if (online && s.queue.empty() && s.inflight.size() < c->send_window) {
        const std::uint16_t id = next_packet_id(s);
        if (!write_publish(*c, *owned, q, retain, false, id, sub_ids, now)) return;
        s.inflight.push_back(
            {id, owned, q, retain, false, std::vector<std::uint32_t>(sub_ids.begin(), sub_ids.end())});
        return;
    }
    if (settings_.max_queued_messages != 0 && s.queue.size() >= settings_.max_queued_messages) {
        log("session " + s.client_id + ": queue full (" +
            std::to_string(settings_.max_queued_messages) + "), dropping a message to '" +
            owned->topic + "'");
        return;
    }
    s.queue.push_back({owned, q, retain, std::vector<std::uint32_t>(sub_ids.begin(), sub_ids.end())});
}

void broker::pump(session& s, clock::time_point now) {
    connection* c = s.conn;
    if (c == nullptr || c->st != connection::state::connected) return;
    while (!s.queue.empty() && s.inflight.size() < c->send_window) {
        queued q = std::move(s.queue.front());
        s.queue.pop_front();
        if (q.msg->expires && *q.msg->expires <= now) continue; // MQTT5-3.3.2-5
        const std::uint16_t id = next_packet_id(s);
        if (!write_publish(*c, *q.msg, q.qos, q.retain, false, id, q.sub_ids, now)) continue;
        s.inflight.push_back({id, q.msg, q.qos, q.retain, false, std::move(q.sub_ids)});
    }
}

bool broker::write_publish(connection& c, const message& m, mqttwire::qos q, bool retain,
                           bool dup, std::uint16_t packet_id,
                           std::span<const std::uint32_t> sub_ids, clock::time_point now) {
    props_.clear();
    for (const auto& prop : m.forwarded_properties())
        props_.push_back(prop);
    if (m.expires) {
        // MQTT5-3.3.2-6: the forwarded Message Expiry Interval is what remains.
        const auto left = std::chrono::ceil<std::chrono::seconds>(*m.expires - now).count();
        if (left <= 0 && !dup) return false;
        props_.push_back({property_id::message_expiry_interval,
                          static_cast<std::uint32_t>(std::max<long long>(left, 1))});
    }
    for (auto id : sub_ids) props_.push_back({property_id::subscription_identifier, id});
    publish_view p;
    p.dup = dup;
    p.qos = q;
    p.retain = retain;
    p.topic = utf8_view(m.topic);
    p.packet_id = packet_id;
    p.payload = binary_view(std::span<const std::byte>(m.payload));
    p.properties = std::span<const property>(props_);
    const auto size = encoded_size(p, c.version);
    if (!size) return false;
    if (c.client_max_packet != 0 && *size > c.client_max_packet)
        return false; // MQTT5-3.1.2-25: discarded as if delivered
    const auto at = c.out.size();
    c.out.resize(at + *size);
    if (!encode(p, c.version, std::span<std::byte>(c.out).subspan(at))) {
        c.out.resize(at);
        return false;
    }
    mark_dirty(c);
    return true;
}

// ------------------------------------------------------------------------------------------
// Sessions, wills, timers

void broker::publish_will(session& s, clock::time_point now) {
    if (!s.will) return;
    message_ptr w = std::move(s.will);
    s.will.reset();
    s.will_at.reset();
    if (s.will_expiry) {
        auto timed = std::make_shared<message>(*w);
        timed->expires = now + std::chrono::seconds(*s.will_expiry);
        w = std::move(timed);
    }
    if (!authorised(s, w->topic, static_cast<int>(acl_access::write))) return;
    route_owned(w, &s, now);
}

void broker::end_session(session& s, clock::time_point now) {
    if (s.will) publish_will(s, now); // MQTT5-3.1.3-9: a pending will goes out when it ends
    for (const auto& [filter, sub] : s.subscriptions) (void)subs_.erase(filter, &s);
    if (s.conn != nullptr) s.conn->s = nullptr;
    const std::string id = s.client_id;
    sessions_.erase(id);
}

void broker::tick(clock::time_point now) {
    for (auto& [id, cp] : conns_) {
        connection& c = *cp;
        if (c.st == connection::state::awaiting_connect) {
            if (now - c.opened > settings_.connect_timeout) {
                logv(c, "no CONNECT in time; closing");
                close_connection(c, now, false);
            }
        } else if (c.st == connection::state::connected && c.keep_alive != 0) {
            // MQTT-3.1.2-24 / MQTT5-3.1.2-22: one and a half times the Keep Alive.
            const auto limit = std::chrono::milliseconds(std::uint64_t{c.keep_alive} * 1500);
            if (now - c.last_packet > limit) {
                if (is_v5(c.version)) {
                    disconnect_view d;
                    d.reason = reason_code::keep_alive_timeout;
                    send(c, d);
                }
                logv(c, "keep alive expired");
                close_connection(c, now, true);
            }
        }
    }
    std::vector<session*> ending;
    for (auto& [cid, sp] : sessions_) {
        session& s = *sp;
        if (s.conn != nullptr) continue;
        if (s.will_at && *s.will_at <= now) publish_will(s, now);
        if (s.expires_at && *s.expires_at <= now) ending.push_back(&s);
    }
    for (session* s : ending) {
        log("session " + s->client_id + " expired");
        end_session(*s, now);
    }
}

bool broker::authorised(const session& s, std::string_view topic, int access) const {
    if (settings_.acl == nullptr) return true;
    std::optional<std::string_view> user;
    if (s.user) user = *s.user;
    return settings_.acl->allowed(s.client_id, user, topic, static_cast<acl_access>(access));
}

} // namespace mqttwire::broker
