#pragma once
// The event loop of mqttwire-broker: epoll over transports (net/transport.hpp), non-blocking
// sockets, batched reads, one write per connection per turn for everything the broker queued,
// reading paused for connections the broker holds back, deadlines from the broker's timer heap.
// Accepting is bounded too: max_connections, and running out of descriptors is logged once and
// handled without spinning (a reserve descriptor sheds the excess connections, and accepting
// pauses briefly if even that fails).

#include <signal.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/broker.hpp"
#include "net/transport.hpp"

namespace mqttwire::broker {

/// Blocks SIGINT, SIGTERM and SIGHUP in the calling thread and returns them as a set: server::run
/// reads them from a signalfd. main() calls it first, so a signal that arrives while the broker
/// starts waits for the loop's orderly stop instead of ending the process.
sigset_t block_stop_signals() noexcept;

/// An outgoing connection the loop drives beside the accepted ones (a bridge to another
/// broker): it owns its socket and opens it again when it likes; the loop waits on fd() for
/// what it wants, calls ready() when that comes, turn() once per loop turn after the broker's
/// timers, and wakes up for deadline(). A descriptor may only change inside those calls (the
/// loop re-registers it right after them; `generation()` tells a new socket that reused the
/// number of a closed one).
class outgoing {
  public:
    virtual ~outgoing() = default;
    [[nodiscard]] virtual int fd() const = 0; ///< -1: no socket now
    [[nodiscard]] virtual std::uint64_t generation() const = 0;
    [[nodiscard]] virtual bool wants_read() const = 0;
    [[nodiscard]] virtual bool wants_write() const = 0;
    virtual void ready(bool readable, bool writable, clock::time_point now) = 0;
    virtual void turn(clock::time_point now) = 0;
    [[nodiscard]] virtual std::optional<clock::time_point> deadline() const = 0;
    /// The loop stops: end the connection cleanly.
    virtual void shutdown(clock::time_point now) = 0;
};

class server {
  public:
    server(broker& b, log_sink log, std::int64_t max_connections = -1);
    ~server();
    server(const server&) = delete;
    server& operator=(const server&) = delete;

    /// Binds and listens; port 0 picks a free port (see bound_ports()). Accepted sockets become
    /// transports through `make` (plain TCP by default).
    [[nodiscard]] bool listen(const std::string& address, std::uint16_t port, std::string& error,
                              transport_factory make = {});
    /// As above, for a listener with its own authentication and access rules (`policy`
    /// outlives the server; null: the broker-wide settings).
    [[nodiscard]] bool listen(const std::string& address, std::uint16_t port, std::string& error,
                              transport_factory make, const listener_policy* policy);
    /// How long a transport's own handshake (TLS, WebSocket upgrade) may take from accept();
    /// then the connection is closed with a log line (default 10 s).
    void set_handshake_timeout(std::chrono::milliseconds t) { handshake_timeout_ = t; }
    /// Called by run() on SIGHUP, between two turns of the loop (main.cpp runs its reload hooks:
    /// certificates, password file, ACL, log file); without one SIGHUP is ignored.
    void on_reload(std::function<void()> f) { on_reload_ = std::move(f); }
    [[nodiscard]] std::vector<std::uint16_t> bound_ports() const;
    /// Drives `o` (which must outlive the server) from the next loop turn on.
    void add_outgoing(outgoing& o) { outgoing_.push_back({&o, -1, 0, 0}); }

    /// Makes what the broker changed durable: called before any output is written (so no
    /// acknowledgement leaves before the records it answers for) and once at the end of every
    /// turn with `end_of_turn` (a retained QoS 0 PUBLISH has no answer but is kept by then).
    /// Returns false when that failed: nothing more is written and run() stops, returning 1.
    using durability = std::function<bool(bool end_of_turn)>;
    void on_output(durability d) { durability_ = std::move(d); }

    /// Runs until SIGINT or SIGTERM, then closes every connection cleanly and logs the
    /// statistics. Returns 0, or 1 when the loop could not be set up or durability failed.
    int run();

  private:
    struct listener {
        int fd = -1;
        transport_factory make;
        const listener_policy* policy = nullptr;
    };
    struct link {
        std::unique_ptr<transport> t;
        conn_id id = 0;
        std::uint32_t events = 0; // what epoll watches now
        bool want_out = false;    // a write would block: wait for EPOLLOUT
        bool identity_given = false; // the transport's identity went to the broker
        bool handshaking = false;    // accepted with a layer's handshake to run (TLS, WebSocket)
        bool on_buffered = false;    // listed in buffered_
    };
    struct handshake_deadline {
        clock::time_point at;
        conn_id id = 0;
    };

    void accept_from(listener& l, clock::time_point now);
    bool shed_one(int listen_fd);
    void read_from(link& l, clock::time_point now);
    void flush(conn_id id, clock::time_point now);
    void flush_dirty(clock::time_point now);
    void update_interest(link& l);
    void drop(conn_id id, clock::time_point now);
    [[nodiscard]] link* find(conn_id id);
    void set_accepting(bool on);
    [[nodiscard]] int wait_ms(clock::time_point now) const;
    [[nodiscard]] bool durable(bool end_of_turn);
    void expire_handshakes(clock::time_point now);
    void handshake_done(clock::time_point now);
    void release_heap_after_burst(clock::time_point now);
    void read_buffered(clock::time_point now);
    [[nodiscard]] bool buffered_ready() const;
    struct outgoing_entry {
        outgoing* o;
        int fd;                  // registered with epoll; -1: none
        std::uint64_t generation;
        std::uint32_t events;
    };
    void watch(outgoing_entry& e);

    // epoll data: descriptors of connections as they are; listeners, the signal descriptor and
    // outgoing connections tagged in the high bits.
    static constexpr std::uint64_t listener_tag = std::uint64_t{1} << 63;
    static constexpr std::uint64_t signal_tag = std::uint64_t{1} << 62;
    static constexpr std::uint64_t outgoing_tag = std::uint64_t{1} << 61;

    broker& broker_;
    log_sink log_;
    std::int64_t max_connections_;
    int epoll_ = -1;
    int signal_fd_ = -1;
    int reserve_fd_ = -1;
    std::vector<listener> listeners_;
    std::vector<link> links_;   // by descriptor (descriptors are small and dense)
    std::vector<int> fd_of_;    // by broker::slot_of(connection id); -1: none
    std::size_t open_links_ = 0;
    std::vector<conn_id> dirty_;
    std::vector<std::byte> buf_;
    bool accepting_ = true;
    clock::time_point accept_again_at_{};
    bool out_of_descriptors_ = false;
    bool at_max_connections_ = false;
    std::uint64_t refused_ = 0;
    durability durability_;
    bool durability_failed_ = false;
    std::chrono::milliseconds handshake_timeout_{10000};
    // One timeout for every connection, so deadlines are in accept order: a FIFO, O(1) each.
    std::deque<handshake_deadline> handshakes_;
    // Handshakes completed since the heap was last given back, and when to give it back: a
    // quiet second after the last one (see release_heap_after_burst).
    std::uint32_t handshakes_since_release_ = 0;
    std::optional<clock::time_point> release_heap_at_;
    std::function<void()> on_reload_;
    // Connections whose transport holds decoded input the socket will not signal again (a TLS
    // record decrypted beyond one read): read again without waiting.
    std::vector<conn_id> buffered_;
    std::vector<conn_id> buffered_scratch_;
    std::vector<outgoing_entry> outgoing_;
};

} // namespace mqttwire::broker
