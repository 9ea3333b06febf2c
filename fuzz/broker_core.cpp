// Fuzz target: the reference broker's sans-I/O core (conformance/broker/core/broker.hpp) driven
// by several connections' byte streams, lost connections, slow and stuck readers and clock
// jumps, with small bounds so that every bound is reached.
//
// Input layout:
//   byte 0        settings: bit 0 queue_overflow drop (else block), bit 1 Retain Available 0,
//                 bit 2 max_inflight_messages 0 (the client's Receive Maximum)
//   then operations until the input ends, each `op conn [args]`:
//     op % 8 == 0  open a connection (at most 8 live)
//              1  bytes to connection `conn`: a length byte, then that many bytes
//              2  bytes to connection `conn`: a 2-byte length (little endian, at most 8192)
//              3  connection `conn` is lost (EOF or reset)
//              4  connection `conn` reads everything written to it
//              5  connection `conn` reads `16 * byte` bytes (a slow reader)
//              6  the clock jumps forward: `byte` (0..255) times 2^(op >> 5) milliseconds
//              7  a turn of the event loop: tick() (resumed input, due timers)
//   `conn` picks among live connections (modulo their number).
//
// What must hold after every operation: no crash or sanitizer report; every per-connection and
// per-session bound (broker::check_bounds: input, output, queue, in flight, subscriptions);
// the bytes a connection reads frame as MQTT packets; connections the broker closes are
// dropped as the event loop does.

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

#include "core/broker.hpp"

namespace {

using namespace mqttwire;
using namespace mqttwire::broker;

constexpr std::size_t max_live = 8;
constexpr std::size_t max_chunk = 8192;

[[noreturn]] void fail(const std::string& why) {
    std::fprintf(stderr, "broker_core: %s\n", why.c_str());
    std::abort();
}

settings fuzz_settings(std::uint8_t bits) {
    settings s;
    s.overflow = (bits & 1) != 0 ? queue_overflow::drop : queue_overflow::block;
    s.retain_available = (bits & 2) == 0;
    s.max_inflight_messages = (bits & 4) != 0 ? 0 : 4;
    s.max_packet_size = 4096;
    s.max_connect_size = 1024;
    s.max_output_buffer = 8192;
    s.max_queued_messages = 16;
    s.max_queued_bytes = 16384;
    s.max_inflight_bytes = (bits & 4) != 0 ? 32768 : 0;
    s.max_subscriptions = 8;
    s.max_subscription_bytes = 256;
    s.max_topic_levels = 8;
    s.topic_alias_maximum = 4;
    s.receive_maximum = 8;
    s.connect_timeout = std::chrono::seconds(2);
    s.slow_consumer_timeout = std::chrono::seconds(1);
    s.persistent_client_expiration = std::chrono::seconds(30);
    return s;
}

struct peer {
    conn_id id;
    std::vector<std::byte> received; // what this client read, not yet framed
};

class driver {
  public:
    explicit driver(std::uint8_t bits) : b_(fuzz_settings(bits), {}) {}

    void run(std::span<const std::uint8_t> in) {
        std::size_t at = 0;
        const auto next = [&]() -> std::uint8_t { return at < in.size() ? in[at++] : 0; };
        while (at < in.size()) {
            const std::uint8_t op = next();
            const std::uint8_t which = next();
            peer* p = peers_.empty() ? nullptr : &peers_[which % peers_.size()];
            switch (op % 8) {
            case 0:
                if (peers_.size() < max_live) peers_.push_back({b_.accept(now_), {}});
                break;
            case 1:
            case 2: {
                std::size_t n = next();
                if (op % 8 == 2) n = std::min<std::size_t>(n | std::size_t{next()} << 8, max_chunk);
                n = std::min(n, in.size() - at);
                const auto bytes = std::as_bytes(in.subspan(at, n));
                at += n;
                if (p != nullptr) b_.receive(p->id, bytes, now_);
                break;
            }
            case 3:
                if (p != nullptr) lose(p->id);
                break;
            case 4:
                if (p != nullptr) take(*p, b_.pending_output(p->id).size());
                break;
            case 5:
                if (p != nullptr) take(*p, std::size_t{next()} * 16);
                break;
            case 6:
                now_ += std::chrono::milliseconds(std::uint64_t{next()} << (op >> 5));
                b_.tick(now_);
                break;
            case 7: b_.tick(now_); break;
            }
            event_loop();
            if (const auto over = b_.check_bounds(max_chunk); !over.empty()) fail(over);
        }
        b_.shutdown(now_);
        event_loop();
    }

  private:
    // The client reads `n` bytes: they must frame as MQTT packets.
    void take(peer& p, std::size_t n) {
        const auto out = b_.pending_output(p.id);
        n = std::min(n, out.size());
        p.received.insert(p.received.end(), out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n));
        b_.output_written(p.id, n, now_);
        std::size_t off = 0;
        while (off < p.received.size()) {
            const auto f = next_frame(std::span<const std::byte>(p.received).subspan(off));
            if (f.status == errc::incomplete) break;
            if (f.status != errc::success)
                fail("the broker wrote bytes that are not an MQTT packet: " +
                     std::string(errc_name(f.status)));
            off += f.size;
        }
        p.received.erase(p.received.begin(), p.received.begin() + static_cast<std::ptrdiff_t>(off));
    }

    void lose(conn_id id) {
        b_.connection_lost(id, now_);
        std::erase_if(peers_, [id](const peer& q) { return q.id == id; });
    }

    // What the event loop does after each event: connections to close are closed after one
    // last write (the client takes what fits: nothing here), the others stay.
    void event_loop() {
        b_.take_dirty(dirty_);
        for (const conn_id id : dirty_)
            if (b_.should_close(id)) lose(id);
    }

    mqttwire::broker::broker b_;
    clock::time_point now_ = clock::time_point{} + std::chrono::hours(1000);
    std::vector<peer> peers_;
    std::vector<conn_id> dirty_;
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    driver d(data[0]);
    d.run(std::span<const std::uint8_t>(data + 1, size - 1));
    return 0;
}
