#pragma once
// An outgoing bridge: one `connection` block of the configuration, kept up by the event loop.
//
// Two session-layer clients carry it. The remote one speaks to the other broker over a
// non-blocking TCP socket (reconnecting with backoff, addresses in turn). The local one is a
// 5.0 client inside this broker (broker::accept_trusted): its bytes go straight to the broker
// core, so what comes in is published through the router with the bridge's session as origin,
// and what goes out comes from that session's subscriptions (No Local: what the bridge itself
// published locally is never sent back out; Retain As Published: retained state crosses as
// retained). The remote side gets the same two options (5.0) or the bridge flag in CONNECT
// (try_private, levels 0x83 / 0x84), so no message loops between the two brokers.
//
// Messages waiting for the other side sit in a queue per direction, bounded in count and bytes;
// a full queue stops the side feeding it (the broker then holds or queues for the bridge's
// session under its own bounds, the remote broker for its client).
//
// A QoS 1/2 message from the remote broker is acknowledged there only once this broker has it:
// the remote client defers its PUBACK / PUBREC (session layer `defer()`) until the local client's
// PUBLISH of the crossed message is acknowledged (its `published` event: PUBACK, or PUBCOMP);
// one that crosses at QoS 0 is acknowledged at once. So a message the remote broker counts as
// delivered is in this broker's hands, whatever dies in between.
//
// A host name is resolved off the loop (bridge/host_lookup.hpp): one lookup at a time, given
// `bridge_limits::resolve_time`; meanwhile the loop watches the lookup's eventfd in place of a
// socket. An address skips the resolver.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include <mqttwire/session.hpp>

#include "bridge/bridge_config.hpp"
#include "bridge/host_lookup.hpp"
#include "core/broker.hpp"
#include "net/server.hpp"
#include "net/tls_engine.hpp"

namespace mqttwire::broker {

/// Bounds of one bridge (per direction for the queues).
struct bridge_limits {
    std::size_t queued_messages = 1000;
    std::size_t queued_bytes = 16u << 20;
    /// The largest packet either client accepts, and its output and resend buffers.
    std::uint32_t packet_bytes = 16u << 20;
    std::uint16_t inflight = 100;
    /// How long a host name lookup may take before the attempt counts as failed (the lookup
    /// itself runs on until the resolver returns; see remote_open).
    std::chrono::milliseconds resolve_time{10000};
};

class bridge final : public outgoing {
  public:
    /// `host_name` makes the default client id (`<host name>.<connection name>`); `tls`, from
    /// tls_context_for(cfg), carries the remote connection over TLS (null: plain TCP).
    bridge(const bridge_config& cfg, broker& b, log_sink log, const std::string& host_name,
           std::shared_ptr<const net::tls_context> tls = nullptr, bridge_limits limits = {});

    /// @brief The client TLS context of `cfg` (bridge_cafile, bridge_capath, bridge_certfile,
    /// bridge_keyfile), its files read and checked now; null when the bridge uses plain TCP.
    [[nodiscard]] static net::tls_result<std::shared_ptr<const net::tls_context>>
    tls_context_for(const bridge_config& cfg);
    ~bridge() override;
    bridge(const bridge&) = delete;
    bridge& operator=(const bridge&) = delete;

    // outgoing
    [[nodiscard]] int fd() const override;
    [[nodiscard]] std::uint64_t generation() const override { return generation_; }
    [[nodiscard]] bool wants_read() const override;
    [[nodiscard]] bool wants_write() const override;
    void ready(bool readable, bool writable, clock::time_point now) override;
    void turn(clock::time_point now) override;
    [[nodiscard]] std::optional<clock::time_point> deadline() const override;
    void shutdown(clock::time_point now) override;

    [[nodiscard]] bool connected() const noexcept;
    [[nodiscard]] const std::string& remote_client_id() const noexcept { return remote_id_; }
    [[nodiscard]] const std::string& notification_topic() const noexcept { return state_topic_; }

  private:
    using storage = dynamic_storage<>;
    // The full profile: a broker's client, which may send the bridge flag in CONNECT.
    using link = client<storage, full_profile>;
    using ms = std::chrono::milliseconds;

    struct held {
        std::string topic;
        std::vector<std::byte> payload;
        mqttwire::qos qos = mqttwire::qos::at_most_once;
        bool retain = false;
        // From the remote broker: its packet identifier whose acknowledgement waits for this
        // broker's, on remote connection number `remote_link` (0: nothing waits).
        std::uint16_t remote_id = 0;
        std::uint32_t remote_link = 0;
        [[nodiscard]] std::size_t bytes() const noexcept { return topic.size() + payload.size(); }
    };
    // A remote acknowledgement owed: identifier, connection, the code to send.
    struct owed_remote {
        std::uint16_t id = 0;
        std::uint32_t link = 0;
        reason_code reason = reason_code::success;
    };
    struct queue {
        std::deque<held> items;
        std::size_t bytes = 0;
    };
    // resolving: a host name lookup runs (lookup_), then connecting (the socket), open.
    enum class remote_state : std::uint8_t { waiting, resolving, connecting, open };

    [[nodiscard]] ms to_ms(clock::time_point t) const;
    [[nodiscard]] bool full(const queue& q) const noexcept;
    void push(queue& q, held h);

    // Local side.
    void local_start(clock::time_point now);
    void local_pump(clock::time_point now);
    void local_event(const session_event& ev, clock::time_point now);
    void publish_state(bool up, clock::time_point now);
    void publish_remote_state(bool up, clock::time_point now);
    void subscribe(link& side, bool remote, bool loop_options, clock::time_point now);
    held* cross(const publish_view& m, bool inbound, queue& to);
    // The local broker answered (or refused for good) a crossed message: the remote broker's
    // acknowledgement goes now, or is retried when the output is full.
    void acknowledge_remote(owed_remote o);
    void lost_local_session(clock::time_point now);

    // Remote side.
    void remote_open(clock::time_point now);
    void remote_resolved(clock::time_point now);
    void remote_connect(clock::time_point now, const addrinfo& to);
    void remote_connected_socket(clock::time_point now);
    void remote_pump(clock::time_point now);
    void remote_event(const session_event& ev, clock::time_point now);
    void remote_failed(clock::time_point now, const std::string& why, bool next_address);
    void close_socket();
    void socket_read(clock::time_point now);
    bool tls_plaintext(clock::time_point now);
    void schedule_restart(clock::time_point now);
    bool remote_flush();

    // Queues to the other side.
    void drain(queue& q, link& to, clock::time_point now);

    const bridge_config cfg_;
    broker& broker_;
    log_sink log_;
    bridge_limits limits_;
    std::string remote_id_;
    std::string local_id_;
    std::string state_topic_;
    std::vector<std::string> remote_filters_; // the in/both filters, for SUBSCRIBE
    std::vector<std::string> local_filters_;  // the out/both filters

    storage storage_;
    session_state<storage> local_state_;
    session_state<storage> remote_state_;
    link local_;
    link remote_;
    conn_id local_conn_ = 0;
    bool local_up_ = false;
    bool local_more_ = false; // the last pump stopped at its share with work left

    std::shared_ptr<const net::tls_context> tls_context_;
    std::optional<net::tls_engine> tls_; // on the current socket, when TLS is configured
    int fd_ = -1;
    // The lookup of the current address's host while resolving; after its time limit it is
    // kept (not watched) until it ends, so that no second one starts meanwhile.
    host_lookup lookup_;
    clock::time_point resolve_by_{};
    std::uint64_t generation_ = 0; // of fd(): the socket's or the lookup's descriptor
    remote_state state_ = remote_state::waiting;
    bool remote_up_ = false;  // CONNACK accepted
    bool use_private_ = true; // the bridge flag, until a broker refuses it
    std::size_t address_ = 0;
    clock::time_point restart_at_{};
    std::chrono::milliseconds backoff_{0};
    std::minstd_rand rng_;
    clock::time_point epoch_;
    bool stopping_ = false;

    queue to_remote_;
    queue to_local_;
    std::uint64_t dropped_ = 0;

    // Deferred remote acknowledgements: by the local packet identifier of the crossed message
    // in flight (at most `inflight`), and those waiting for room in the remote output (at most
    // the remote client's deferred ones). Connections are numbered so that an identifier of a
    // connection that ended is never acknowledged on the next one, where it may name another
    // message.
    std::unordered_map<std::uint16_t, owed_remote> crossing_;
    std::vector<owed_remote> remote_acks_;
    std::uint32_t remote_link_ = 0;
};

} // namespace mqttwire::broker
