#pragma once
// The reference broker's protocol logic, without I/O: bytes in, bytes and close requests out.
// The event loop (server.hpp) owns the sockets; everything MQTT happens here, built on the
// mqttwire core for every byte on the wire and on subscription_index/retained_index for routing.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <mqttwire.hpp>

namespace mqttwire::broker {

class password_file;
class acl_file;

using clock = std::chrono::steady_clock;
using conn_id = std::uint64_t;

/// Broker policy, from the configuration file (config.hpp) and the command line.
struct settings {
    bool allow_anonymous = true;
    const password_file* passwords = nullptr; ///< null: no password file
    const acl_file* acl = nullptr;            ///< null: everything allowed
    std::uint32_t max_packet_size = 0;        ///< 0: the protocol maximum
    std::uint16_t max_inflight_messages = 20; ///< per client, when it sets no Receive Maximum
    std::size_t max_queued_messages = 1000;   ///< per session; 0: unlimited
    std::uint16_t max_keepalive = 65535;
    bool retain_available = true;
    std::optional<std::chrono::seconds> persistent_client_expiration;
    std::uint16_t topic_alias_maximum = 10;  ///< what the broker accepts from 5.0 clients
    std::uint16_t receive_maximum = 65535;    ///< QoS>0 PUBLISHes a 5.0 client may have unacked
    std::chrono::seconds connect_timeout{10}; ///< a connection that sends no CONNECT is dropped
    bool verbose = false;
};

/// Log lines go through this (the server prints them to stderr).
using log_sink = std::function<void(std::string_view)>;

/// An application message the broker owns: retained, in flight, or queued for a session.
struct message {
    std::string topic;
    std::vector<std::byte> payload;
    mqttwire::qos qos = mqttwire::qos::at_most_once;
    bool retain = false;
    /// Properties forwarded unchanged (Payload Format Indicator, Content Type, Response Topic,
    /// Correlation Data, User Properties), as a validated wire block.
    std::vector<std::byte> properties;
    properties_view property_view; ///< validated view of `properties` (rebased on each use)
    [[nodiscard]] properties_view forwarded_properties() const {
        return property_view.rebased(properties);
    }
    std::optional<clock::time_point> expires; ///< from Message Expiry Interval
};
using message_ptr = std::shared_ptr<const message>;

struct session;

/// What the subscription index stores per subscription.
struct subscriber {
    session* owner = nullptr;
    subscription_options options{};
    std::uint32_t subscription_id = 0; ///< 0: none
};
struct subscriber_key {
    session* operator()(const subscriber& s) const noexcept { return s.owner; }
};

class broker {
  public:
    broker(settings s, log_sink log);
    ~broker();
    broker(const broker&) = delete;
    broker& operator=(const broker&) = delete;

    /// A new network connection.
    conn_id accept(clock::time_point now);
    /// Bytes read from `id`.
    void receive(conn_id id, std::span<const std::byte> bytes, clock::time_point now);
    /// The network connection is gone (EOF, error, or closed after should_close()).
    void connection_lost(conn_id id, clock::time_point now);
    /// Timers: keep-alive, CONNECT timeout, will delay, session and message expiry.
    void tick(clock::time_point now);
    /// Closes every connection cleanly (5.0 clients get DISCONNECT 0x8B).
    void shutdown(clock::time_point now);

    /// Bytes waiting to be written to `id`.
    [[nodiscard]] std::span<const std::byte> pending_output(conn_id id) const;
    void output_written(conn_id id, std::size_t n);
    /// True when `id` should be closed once its pending output is written.
    [[nodiscard]] bool should_close(conn_id id) const;
    /// Connections whose output or close state changed since the last call.
    [[nodiscard]] std::vector<conn_id> take_dirty();

    [[nodiscard]] std::size_t connection_count() const { return conns_.size(); }
    [[nodiscard]] std::size_t session_count() const { return sessions_.size(); }
    [[nodiscard]] std::size_t retained_count() const { return retained_.size(); }

    struct connection;

  private:
    connection* find(conn_id id) const;
    void mark_dirty(connection& c);
    void log(std::string_view msg) const;
    void logv(const connection& c, std::string_view msg) const;

    // Packets.
    void process(connection& c, clock::time_point now);
    errc on_packet(connection& c, const packet_view& p, std::span<const std::byte> raw,
                   clock::time_point now);
    void on_connect(connection& c, const connect_view& p, clock::time_point now);
    errc on_publish(connection& c, const publish_view& p, clock::time_point now);
    errc on_puback(connection& c, std::uint16_t id);
    errc on_pubrec(connection& c, const pubrec_view& p);
    errc on_pubrel(connection& c, const pubrel_view& p);
    errc on_pubcomp(connection& c, std::uint16_t id);
    errc on_subscribe(connection& c, const subscribe_view& p, clock::time_point now);
    errc on_unsubscribe(connection& c, const unsubscribe_view& p);
    errc on_disconnect(connection& c, const disconnect_view& p, clock::time_point now);

    // Output.
    template <class P> void send(connection& c, const P& p);
    void refuse_connect(connection& c, protocol_version v, reason_code v5, connect_return_code v3);
    void protocol_violation(connection& c, errc e, clock::time_point now, std::string_view why);
    void close_connection(connection& c, clock::time_point now, bool publish_will);

    // Routing.
    message_ptr own(const publish_view& p, std::string_view topic, clock::time_point now) const;
    void route(const publish_view& p, std::string_view topic, session* from,
               clock::time_point now);
    void route_owned(const message_ptr& m, session* from, clock::time_point now);
    void deliver(session& s, std::string_view topic, const publish_view* live,
                 const message_ptr& owned, mqttwire::qos q, bool retain,
                 std::span<const std::uint32_t> sub_ids, clock::time_point now);
    void pump(session& s, clock::time_point now);
    static std::uint16_t next_packet_id(session& s);
    bool write_publish(connection& c, const message& m, mqttwire::qos q, bool retain, bool dup,
                       std::uint16_t packet_id, std::span<const std::uint32_t> sub_ids,
                       clock::time_point now);
    void store_retained(const message_ptr& m);
    void send_retained(session& s, std::string_view filter, const subscription_options& o,
                       std::uint32_t sub_id, clock::time_point now);

    // Sessions and wills.
    void end_session(session& s, clock::time_point now);
    void publish_will(session& s, clock::time_point now);
    bool authorised(const session& s, std::string_view topic, int access) const;

    settings settings_;
    log_sink log_;
    conn_id next_conn_ = 1;
    std::unordered_map<conn_id, std::unique_ptr<connection>> conns_;
    std::unordered_map<std::string, std::unique_ptr<session>> sessions_;
    subscription_index<subscriber, subscriber_key> subs_;
    std::unordered_map<std::string, message_ptr> retained_owner_;
    retained_index<const message*> retained_;
    std::unordered_map<const void*, std::size_t> share_cursor_;
    std::vector<conn_id> dirty_;
    std::uint64_t assigned_ids_ = 0;

    // Scratch space reused across messages so routing does not allocate once warm.
    struct target {
        session* s;
        mqttwire::qos q;
        bool retain_as_published;
        std::size_t first_id;
        std::size_t id_count;
    };
    std::vector<target> targets_;
    std::vector<std::uint32_t> target_ids_;
    std::vector<property> props_;
    std::vector<std::byte> encoded_;
};

} // namespace mqttwire::broker
