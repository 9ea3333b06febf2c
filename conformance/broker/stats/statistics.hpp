#pragma once
// The broker's counters: what `$SYS/broker/...` publishes in mosquitto (clients, messages,
// bytes, subscriptions, retained messages, dropped messages, load averages). Plain integers
// updated where the event happens; nothing here allocates or takes time per message beyond an
// increment.

#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <string>

namespace mqttwire::broker {

/// Why a message was not delivered to a subscriber that wanted it.
enum class drop_reason : std::uint8_t {
    output_full,      ///< QoS 0 for a client whose output buffer was at its bound
    queue_full,       ///< QoS 1/2 for an online client, queue_overflow drop
    offline_queue_full, ///< QoS 1/2 for an offline session at its queue bound
    too_large,        ///< larger than the client's Maximum Packet Size (MQTT5-3.1.2-25)
    expired,          ///< Message Expiry Interval passed while queued (MQTT5-3.3.2-5)
    size_limit,       ///< payload over message_size_limit (refused on input)
};
inline constexpr std::size_t drop_reasons = 6;

/// mosquitto-style load average: an exponentially weighted per-minute rate.
class load_average {
  public:
    explicit constexpr load_average(double minutes) noexcept : minutes_(minutes) {}
    /// `delta` events happened over `interval`.
    void update(std::uint64_t delta, std::chrono::duration<double> interval) noexcept {
        const double per_minute = static_cast<double>(delta) * 60.0 / interval.count();
        const double k = std::exp(-interval.count() / (60.0 * minutes_));
        value_ = value_ * k + per_minute * (1.0 - k);
    }
    [[nodiscard]] double value() const noexcept { return value_; }

  private:
    double minutes_;
    double value_ = 0;
};

struct loads {
    load_average m1{1}, m5{5}, m15{15};
    std::uint64_t last = 0; ///< counter value at the previous update
    void update(std::uint64_t counter, std::chrono::duration<double> interval) noexcept {
        const std::uint64_t d = counter - last;
        last = counter;
        m1.update(d, interval);
        m5.update(d, interval);
        m15.update(d, interval);
    }
};

struct statistics {
    // Gauges.
    std::uint64_t clients_connected = 0;
    std::uint64_t clients_disconnected = 0; ///< sessions kept while offline
    std::uint64_t clients_maximum = 0;      ///< highest clients_connected seen
    std::uint64_t subscriptions = 0;
    std::uint64_t retained = 0;
    std::uint64_t connections = 0;          ///< sockets, CONNECT or not

    // Counters since start.
    std::uint64_t connections_total = 0;
    std::uint64_t packets_received = 0;
    std::uint64_t packets_sent = 0;
    std::uint64_t publish_received = 0;
    std::uint64_t publish_sent = 0;
    std::uint64_t bytes_received = 0;
    std::uint64_t bytes_sent = 0;
    std::array<std::uint64_t, drop_reasons> dropped{};
    std::uint64_t slow_consumers_disconnected = 0;
    std::uint64_t publishers_paused = 0; ///< times a publisher was held for a full queue
    std::uint64_t connections_refused = 0; ///< max_connections or out of descriptors

    // Loads, refreshed by the broker's housekeeping timer.
    loads load_publish_received, load_publish_sent, load_bytes_received, load_bytes_sent,
        load_connections, load_dropped;
    loads load_packets_received, load_packets_sent; ///< every packet ($SYS .../load/messages)

    [[nodiscard]] std::uint64_t clients_total() const noexcept {
        return clients_connected + clients_disconnected;
    }
    [[nodiscard]] std::uint64_t dropped_total() const noexcept {
        std::uint64_t n = 0;
        for (auto d : dropped) n += d;
        return n;
    }
    void count_drop(drop_reason r, std::uint64_t n = 1) noexcept {
        dropped[static_cast<std::size_t>(r)] += n;
    }
    void client_connected() noexcept {
        ++clients_connected;
        if (clients_connected > clients_maximum) clients_maximum = clients_connected;
    }

    void update_loads(std::chrono::duration<double> interval) noexcept {
        load_publish_received.update(publish_received, interval);
        load_publish_sent.update(publish_sent, interval);
        load_bytes_received.update(bytes_received, interval);
        load_bytes_sent.update(bytes_sent, interval);
        load_connections.update(connections_total, interval);
        load_dropped.update(dropped_total(), interval);
        load_packets_received.update(packets_received, interval);
        load_packets_sent.update(packets_sent, interval);
    }

    /// One line for the log: the figures `$SYS` would publish.
    [[nodiscard]] std::string summary() const;
};

} // namespace mqttwire::broker
