#pragma once
// The sans-I/O test harness of the broker core: clients are connection ids, packets are encoded
// into receive() and decoded from pending_output(), time is advanced by hand.

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <string>
#include <vector>

#include "core/broker.hpp"

using namespace mqttwire;
using namespace mqttwire::broker;
using namespace std::chrono_literals;

namespace {

struct client {
    conn_id id = 0;
    protocol_version version = protocol_version::v3_1_1;
};

// A received packet, owning its bytes so the view stays valid.
struct received {
    std::vector<std::byte> bytes;
    packet_view packet;
};

class harness {
  public:
    explicit harness(settings s = {}) : b_(s, [this](std::string_view l) { log_.emplace_back(l); }) {}
    harness(settings s, store& st)
        : b_(s, [this](std::string_view l) { log_.emplace_back(l); }, st) {}

    client open(protocol_version v) {
        const auto id = b_.accept(now);
        return {id, v};
    }

    template <class P> void send(const client& c, const P& p) {
        std::vector<std::byte> buf(encoded_size(p, c.version).value());
        ASSERT_TRUE(encode(p, c.version, buf).has_value());
        b_.receive(c.id, buf, now);
    }
    void send_bytes(const client& c, std::vector<std::byte> bytes) { b_.receive(c.id, bytes, now); }

    // Connects with `id` and returns the CONNACK.
    client connect(const std::string& id, protocol_version v = protocol_version::v3_1_1,
                   bool clean = true, std::uint16_t keep_alive = 0,
                   std::span<const property> props = {}) {
        client c = open(v);
        connect_view p;
        p.client_id = std::string_view(id_storage_.emplace_back(id));
        p.clean_start = clean;
        p.keep_alive = keep_alive;
        p.properties = props;
        send(c, p);
        return c;
    }

    // Takes every packet the broker wrote to `c`.
    std::vector<received> read(const client& c) {
        std::vector<received> out;
        auto pending = b_.pending_output(c.id);
        std::vector<std::byte> all(pending.begin(), pending.end());
        b_.output_written(c.id, pending.size());
        std::size_t off = 0;
        while (off < all.size()) {
            const auto f = next_frame(std::span<const std::byte>(all).subspan(off));
            EXPECT_EQ(f.status, errc::success);
            if (f.status != errc::success) break;
            out.push_back({std::vector<std::byte>(all.begin() + static_cast<std::ptrdiff_t>(off),
                                                  all.begin() + static_cast<std::ptrdiff_t>(off + f.size)),
                           {}});
            off += f.size;
        }
        for (auto& r : out) {
            decode_options o;
            o.version = c.version;
            o.sender = peer_role::server;
            const auto d = decode_packet(r.bytes, o);
            EXPECT_TRUE(d.has_value()) << errc_name(d.error());
            if (d) r.packet = d->packet;
        }
        return out;
    }

    template <class P> P only(const client& c) {
        auto got = read(c);
        EXPECT_EQ(got.size(), 1u);
        if (got.size() != 1) return P{};
        const P* p = std::get_if<P>(&got[0].packet);
        EXPECT_NE(p, nullptr) << "packet type " << got[0].packet.index() + 1;
        kept_.push_back(std::move(got[0]));
        return p ? *std::get_if<P>(&kept_.back().packet) : P{};
    }

    bool closing(const client& c) const { return b_.should_close(c.id); }
    /// Bytes the broker has written for `c` and the client has not read.
    std::size_t unread(const client& c) const { return b_.pending_output(c.id).size(); }
    /// The client reads `n` bytes without looking at them (a slow reader).
    void read_bytes(const client& c, std::size_t n) {
        b_.output_written(c.id, std::min(n, unread(c)), now);
    }
    /// Whether the event loop would read from `c` (false while it is paused).
    bool reading(const client& c) const { return b_.wants_input(c.id); }
    void tick() { b_.tick(now); }
    /// Runs turns until nothing is due now (input held over from a turn's packet budget).
    void settle() {
        for (int i = 0; i < 100000; ++i) {
            const auto next = b_.next_deadline();
            if (!next || *next > now) return;
            b_.tick(now);
        }
    }
    void lose(const client& c) { b_.connection_lost(c.id, now); }
    void advance(std::chrono::milliseconds d) {
        now += d;
        b_.tick(now);
    }

    mqttwire::broker::broker& core() { return b_; }
    clock::time_point now = clock::time_point{} + 1000h;
    std::vector<std::string> log_;

  private:
    mqttwire::broker::broker b_;
    std::deque<std::string> id_storage_;
    std::deque<received> kept_;
};

subscribe_view subscribe_one(std::uint16_t id, const char* filter, qos q,
                             std::vector<subscription>& storage) {
    storage.push_back({filter, {q}});
    subscribe_view s;
    s.packet_id = id;
    s.subscriptions = std::span<const subscription>(&storage.back(), 1);
    return s;
}

publish_view make_publish(const char* topic, const char* payload, qos q = qos::at_most_once,
                          std::uint16_t id = 0, bool retain = false) {
    publish_view p;
    p.topic = topic;
    p.payload = payload;
    p.qos = q;
    p.packet_id = id;
    p.retain = retain;
    return p;
}

std::string payload_of(const publish_view& p) { return std::string(p.payload.as_string_view()); }

/// The PUBLISHes among `got` (views into its packets' bytes).
inline std::vector<publish_view> publishes_of(const std::vector<received>& got) {
    std::vector<publish_view> out;
    for (const auto& r : got)
        if (const auto* p = std::get_if<publish_view>(&r.packet)) out.push_back(*p);
    return out;
}

} // namespace
