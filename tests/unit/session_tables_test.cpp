// The bounded tables behind the session layer, each against a simple model, at and beyond its
// limit: outbound packet identifiers, inbound QoS 2 identifiers, the resend ring, topic aliases.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <deque>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "session_support.hpp"

namespace mqttwire::test {
namespace {

using fixed8 = fixed_storage<session_limits{.inflight = 8, .requests = 2, .inbound_qos2 = 8,
                                            .resend_bytes = 200, .aliases_out = 3,
                                            .alias_bytes_out = 24}>;

TEST(outbound_table, allocates_within_budgets_and_reuses_freed_ids_oldest_first) {
    detail::outbound_table<fixed8> t{fixed8{}};
    std::vector<std::uint16_t> ids;
    for (int i = 0; i < 8; ++i) ids.push_back(t.allocate(outbound_state::publish_qos1));
    EXPECT_EQ(ids, (std::vector<std::uint16_t>{1, 2, 3, 4, 5, 6, 7, 8}));
    EXPECT_EQ(t.allocate(outbound_state::publish_qos2), 0) << "PUBLISH budget used up";
    EXPECT_EQ(t.allocate(outbound_state::subscribe), 9) << "requests have their own";
    EXPECT_EQ(t.allocate(outbound_state::unsubscribe), 10);
    EXPECT_EQ(t.allocate(outbound_state::subscribe), 0);
    t.release(5);
    t.release(2);
    EXPECT_EQ(t.allocate(outbound_state::publish_qos1), 5) << "freed longest ago first";
    EXPECT_EQ(t.allocate(outbound_state::publish_qos1), 2);
    // Send order: 1 3 4 6 7 8 9 10 5 2
    std::vector<std::uint16_t> order;
    for (auto id = t.front(); id != 0; id = t.next(id)) order.push_back(id);
    EXPECT_EQ(order, (std::vector<std::uint16_t>{1, 3, 4, 6, 7, 8, 9, 10, 5, 2}));
    t.move_to_back(3);
    order.clear();
    for (auto id = t.front(); id != 0; id = t.next(id)) order.push_back(id);
    EXPECT_EQ(order.back(), 3);
    EXPECT_EQ(t.publishes(), 8);
    EXPECT_EQ(t.requests(), 2);
}

TEST(outbound_table, random_operations_match_a_model) {
    dynamic_storage<> st(session_limits{.inflight = 300, .requests = 20});
    detail::outbound_table<dynamic_storage<>> t{st};
    std::map<std::uint16_t, outbound_state> model;
    std::deque<std::uint16_t> order;
    std::mt19937 rng(12);
    for (int step = 0; step < 20000; ++step) {
        const int op = static_cast<int>(rng() % 3);
        if (op < 2) {
            const auto s = rng() % 5 == 0 ? outbound_state::subscribe : outbound_state::publish_qos2;
            const auto id = t.allocate(s);
            std::size_t used = 0;
            for (const auto& [k, v] : model) used += (is_publish_state(v) == is_publish_state(s));
            if (used >= (is_publish_state(s) ? 300u : 20u)) {
                EXPECT_EQ(id, 0);
                continue;
            }
            ASSERT_NE(id, 0);
            ASSERT_LE(id, 320);
            ASSERT_EQ(model.count(id), 0u) << "id " << id << " handed out while in use";
            model[id] = s;
            order.push_back(id);
        } else if (!model.empty()) {
            auto it = model.begin();
            std::advance(it, static_cast<long>(rng() % model.size()));
            t.release(it->first);
            order.erase(std::find(order.begin(), order.end(), it->first));
            model.erase(it);
        }
    }
    std::vector<std::uint16_t> got;
    for (auto id = t.front(); id != 0; id = t.next(id)) got.push_back(id);
    EXPECT_EQ(got, std::vector<std::uint16_t>(order.begin(), order.end()));
}

TEST(id_set, matches_a_model_and_refuses_past_its_limit) {
    for (const bool dynamic : {false, true}) {
        dynamic_storage<> st(session_limits{.inbound_qos2 = 1000});
        detail::id_set<dynamic_storage<>> dset{st};
        detail::id_set<fixed8> fset{fixed8{}};
        const std::size_t limit = dynamic ? 1000 : 8;
        std::set<std::uint16_t> model;
        std::mt19937 rng(dynamic ? 7u : 8u);
        for (int step = 0; step < 50000; ++step) {
            const auto id = static_cast<std::uint16_t>(1 + rng() % (dynamic ? 3000 : 20));
            const bool add = rng() % 2 == 0;
            if (add) {
                const bool ok = dynamic ? dset.insert(id) : fset.insert(id);
                const bool want = model.count(id) != 0 || model.size() < limit;
                ASSERT_EQ(ok, want) << step;
                if (ok) model.insert(id);
            } else {
                const bool erased = dynamic ? dset.erase(id) : fset.erase(id);
                ASSERT_EQ(erased, model.erase(id) == 1) << step;
            }
            const auto probe = static_cast<std::uint16_t>(1 + rng() % 3000);
            ASSERT_EQ(dynamic ? dset.contains(probe) : fset.contains(probe),
                      model.count(probe) == 1);
            ASSERT_EQ(dynamic ? dset.size() : fset.size(), model.size());
        }
        EXPECT_FALSE(fset.insert(0)) << "0 is never a packet identifier";
    }
}

TEST(resend_ring, random_copies_match_a_model_and_never_exceed_the_ring) {
    detail::resend_ring<fixed8> ring{fixed8{}};
    std::map<std::uint32_t, std::vector<std::byte>> live;
    std::mt19937 rng(3);
    std::size_t stored = 0;
    std::size_t refused = 0;
    for (int step = 0; step < 20000; ++step) {
        if (rng() % 2 == 0) {
            std::vector<std::byte> bytes(rng() % 60);
            for (auto& b : bytes) b = static_cast<std::byte>(rng());
            const auto ref = ring.store(bytes);
            std::size_t used = 0;
            for (const auto& [r, b] : live) used += b.size() + 4;
            if (ref == detail::no_ref) {
                ++refused; // full: space comes back once the oldest copies are released
                continue;
            }
            ++stored;
            EXPECT_LE(used + bytes.size() + 4, 200u);
            live[ref] = bytes;
        } else if (!live.empty()) {
            auto it = live.begin();
            std::advance(it, static_cast<long>(rng() % live.size()));
            ring.release(it->first);
            live.erase(it);
        }
        for (const auto& [r, b] : live) {
            const auto got = ring.get(r);
            ASSERT_EQ(std::vector<std::byte>(got.begin(), got.end()), b) << "copy overwritten";
        }
    }
    EXPECT_GT(stored, 5000u);
    EXPECT_GT(refused, 0u);
    std::vector<std::byte> too_big(197);
    for (const auto& [r, b] : live) ring.release(r);
    EXPECT_TRUE(ring.empty());
    EXPECT_EQ(ring.store(too_big), detail::no_ref) << "197 + 4 bytes exceed 200";
    EXPECT_NE(ring.store(std::vector<std::byte>(196)), detail::no_ref);
}

TEST(alias_table, least_recently_used_alias_is_replaced_and_long_topics_are_not_aliased) {
    detail::alias_table<fixed8, storage_part::aliases_out, storage_part::alias_bytes_out> t{
        fixed8{}};
    EXPECT_EQ(t.max(), 3);
    EXPECT_EQ(t.slot_bytes(), 8u);
    const auto b = [](std::string_view s) { return std::as_bytes(std::span(s.data(), s.size())); };
    EXPECT_EQ(t.assign(b("a"), 3), 1);
    EXPECT_EQ(t.assign(b("b"), 3), 2);
    EXPECT_EQ(t.assign(b("c"), 3), 3);
    EXPECT_EQ(t.find(b("a"), 3), 1); // a is now the most recently used
    EXPECT_EQ(t.assign(b("d"), 3), 2) << "b was least recently used";
    EXPECT_EQ(t.find(b("b"), 3), 0);
    EXPECT_EQ(t.find(b("c"), 2), 0) << "alias 3 is not usable when the peer allows 2";
    EXPECT_EQ(t.assign(b("123456789"), 3), 0) << "longer than a slot";
    EXPECT_EQ(t.assign(b("a"), 0), 0) << "the peer allows none";
    EXPECT_EQ(t.set(0, b("x")), errc::topic_alias_invalid);
    EXPECT_EQ(t.set(4, b("x")), errc::topic_alias_invalid);
    EXPECT_EQ(t.set(1, b("123456789")), errc::quota_exceeded);
}

} // namespace
} // namespace mqttwire::test
