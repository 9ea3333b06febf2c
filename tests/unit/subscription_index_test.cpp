// subscription_index: insert / erase / match, shared groups, the '$' rule, pruning, allocation
// behaviour (match never allocates; allocation failure leaves the index unchanged).

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <mqttwire/subscription_index.hpp>

namespace {

using mqttwire::errc;

// Counts allocations and live bytes made through it; can be told to fail (return null) after a
// number of allocations, as an allocator for -fno-exceptions builds may.
struct alloc_stats {
    std::size_t allocations = 0;
    std::size_t live_bytes = 0;
    std::size_t fail_after = static_cast<std::size_t>(-1);
};

template <class T> struct counting_allocator {
    using value_type = T;
    alloc_stats* stats;
    explicit counting_allocator(alloc_stats* s) noexcept : stats(s) {}
    template <class U>
    counting_allocator(const counting_allocator<U>& o) noexcept : stats(o.stats) {} // NOLINT
    T* allocate(std::size_t n) noexcept {
        if (stats->allocations >= stats->fail_after) return nullptr;
        ++stats->allocations;
        stats->live_bytes += n * sizeof(T);
        return static_cast<T*>(::operator new(n * sizeof(T), std::nothrow));
    }
    void deallocate(T* p, std::size_t n) noexcept {
        stats->live_bytes -= n * sizeof(T);
        ::operator delete(p);
    }
    template <class U> bool operator==(const counting_allocator<U>& o) const noexcept {
        return stats == o.stats;
    }
};

// A subscription: a client id and the QoS it asked for; the key is the client.
struct sub {
    int client;
    int qos;
};
struct client_of {
    int operator()(const sub& s) const noexcept { return s.client; }
};

using index_t = mqttwire::subscription_index<sub, client_of, counting_allocator<sub>>;

struct collected {
    std::vector<std::pair<int, int>> plain; // client, qos
    std::vector<std::pair<std::string, std::vector<int>>> groups;
};

collected collect(const index_t& idx, std::string_view topic) {
    collected c;
    idx.match(
        topic, [&](const sub& s) { c.plain.emplace_back(s.client, s.qos); },
        [&](const mqttwire::shared_group_view<sub>& g) {
            std::vector<int> members;
            for (const auto& m : g.members) members.push_back(m.client);
            std::sort(members.begin(), members.end());
            c.groups.emplace_back(std::string(g.share_name), members);
        });
    std::sort(c.plain.begin(), c.plain.end());
    std::sort(c.groups.begin(), c.groups.end());
    return c;
}
std::vector<int> clients(const index_t& idx, std::string_view topic) {
    std::vector<int> out;
    for (auto [c, q] : collect(idx, topic).plain) out.push_back(c);
    return out;
}

class subscription_index_test : public ::testing::Test {
  protected:
    alloc_stats stats;
    index_t idx{counting_allocator<sub>(&stats)};
    bool add(std::string_view f, int client, int qos = 0) {
        const auto r = idx.insert(f, sub{client, qos});
        EXPECT_TRUE(r.has_value()) << f;
        return r.has_value() && r.value();
    }
};

TEST_F(subscription_index_test, exact_plus_and_hash_filters_MQTT_4_7_1_2_MQTT_4_7_1_3) {
    add("sport/tennis/player1", 1);
    add("sport/tennis/+", 2);
    add("sport/#", 3);
    add("#", 4);
    add("+/+/+", 5);
    add("sport/tennis/player1/#", 6);
    add("sport/+/player2", 7);
    using v = std::vector<int>;
    EXPECT_EQ(clients(idx, "sport/tennis/player1"), (v{1, 2, 3, 4, 5, 6}));
    EXPECT_EQ(clients(idx, "sport/tennis/player2"), (v{2, 3, 4, 5, 7}));
    EXPECT_EQ(clients(idx, "sport"), (v{3, 4})) << "MQTT-4.7.1-2: '#' matches the parent";
    EXPECT_EQ(clients(idx, "sport/tennis/player1/ranking"), (v{3, 4, 6}));
    EXPECT_EQ(clients(idx, "other"), (v{4}));
    EXPECT_EQ(clients(idx, "//"), (v{4, 5})) << "MQTT-4.7.1-3: '+' matches empty levels";
    EXPECT_EQ(idx.size(), 7u);
}

TEST_F(subscription_index_test, dollar_topics_MQTT_4_7_2_1_MQTT5_4_7_2_1) {
    add("#", 1);
    add("+/monitor/Clients", 2);
    add("$SYS/#", 3);
    add("$SYS/monitor/+", 4);
    add("$SYS/monitor/Clients", 5);
    add("+/#", 6);
    using v = std::vector<int>;
    EXPECT_EQ(clients(idx, "$SYS/monitor/Clients"), (v{3, 4, 5}));
    EXPECT_EQ(clients(idx, "SYS/monitor/Clients"), (v{1, 2, 6}));
    EXPECT_EQ(clients(idx, "$SYS"), (v{3}));
    EXPECT_EQ(clients(idx, "$"), (v{}));
}

TEST_F(subscription_index_test, byte_exact_levels_MQTT_4_7_3_4) {
    add("ACCOUNTS/+", 1);
    add("Accounts/+", 2);
    add("caf\xc3\xa9", 3);
    using v = std::vector<int>;
    EXPECT_EQ(clients(idx, "Accounts/x"), (v{2}));
    EXPECT_EQ(clients(idx, "cafe\xcc\x81"), (v{})) << "MQTT5-4.7.3-4: no normalization";
    EXPECT_EQ(clients(idx, "caf\xc3\xa9"), (v{3}));
}

TEST_F(subscription_index_test, resubscribe_replaces_by_key_MQTT_3_8_4_3) {
    EXPECT_TRUE(add("a/+", 1, 0));
    EXPECT_FALSE(add("a/+", 1, 2)) << "same client, same filter: replaced (MQTT-3.8.4-3)";
    EXPECT_TRUE(add("a/+", 2, 1));
    EXPECT_EQ(idx.size(), 2u);
    const auto c = collect(idx, "a/b");
    EXPECT_EQ(c.plain, (std::vector<std::pair<int, int>>{{1, 2}, {2, 1}}));
}

TEST_F(subscription_index_test, invalid_filters_are_refused_MQTT_4_7_1_2_MQTT5_4_8_2_2) {
    for (std::string_view f : {"", "a/#/b", "a+", "#a", "$share//a", "$share/a+b/c",
                               "$share/g", "$share/g/"}) {
        const auto r = idx.insert(f, sub{1, 0});
        ASSERT_FALSE(r.has_value()) << f;
        EXPECT_EQ(r.error(), errc::topic_filter_invalid) << f;
    }
    EXPECT_EQ(idx.size(), 0u);
    EXPECT_EQ(stats.live_bytes, 0u);
}

TEST_F(subscription_index_test, shared_groups_hang_off_the_same_node_MQTT5_4_8_2_1) {
    add("$share/consumer1/sport/tennis/+", 1);
    add("$share/consumer1/sport/tennis/+", 2);
    add("$share/consumer2/sport/tennis/+", 3);
    add("sport/tennis/+", 4);
    add("$share/g/sport/tennis/player1", 5); // exact inner filter
    add("$share/g/#", 6);
    const auto c = collect(idx, "sport/tennis/player1");
    EXPECT_EQ(c.plain, (std::vector<std::pair<int, int>>{{4, 0}}));
    using g = std::vector<std::pair<std::string, std::vector<int>>>;
    EXPECT_EQ(c.groups, (g{{"consumer1", {1, 2}}, {"consumer2", {3}}, {"g", {5}}, {"g", {6}}}));
    // The inner filter follows the '$' rule (MQTT5-4.7.2-1).
    EXPECT_TRUE(collect(idx, "$SYS/x").groups.empty());
    // Unsubscribe compares the whole filter text, share name included (MQTT5-3.10.4-1).
    EXPECT_FALSE(idx.erase("$share/consumer3/sport/tennis/+", 1));
    EXPECT_FALSE(idx.erase("sport/tennis/+", 1));
    EXPECT_TRUE(idx.erase("$share/consumer1/sport/tennis/+", 1));
    EXPECT_EQ(collect(idx, "sport/tennis/x").groups,
              (g{{"consumer1", {2}}, {"consumer2", {3}}, {"g", {6}}}));
    EXPECT_EQ(idx.size(), 5u);
}

TEST_F(subscription_index_test, shared_option_off_treats_share_as_plain_filter_MQTT_4_7_2_1) {
    alloc_stats s2;
    index_t v311(counting_allocator<sub>(&s2), mqttwire::subscription_index_options{false});
    ASSERT_TRUE(v311.insert("$share/g/a", sub{1, 0}).has_value());
    EXPECT_EQ(clients(v311, "$share/g/a"), (std::vector<int>{1}));
    EXPECT_EQ(clients(v311, "a"), (std::vector<int>{}));
}

TEST_F(subscription_index_test, unsubscribe_compares_text_and_prunes_MQTT_3_10_4_1) {
    const std::size_t empty_bytes = stats.live_bytes;
    add("a/+/c/#", 1);
    add("a/+/c/#", 2);
    add("a/b/c", 3);
    add("a/+", 4);
    add("$SYS/+/x", 5);
    EXPECT_FALSE(idx.erase("a/b/c/#", 1)) << "no wildcard semantics in UNSUBSCRIBE";
    EXPECT_FALSE(idx.erase("a/+/c/#", 9)) << "other key";
    EXPECT_TRUE(idx.erase("a/+/c/#", 1));
    EXPECT_FALSE(idx.erase("a/+/c/#", 1));
    EXPECT_EQ(clients(idx, "a/b/c"), (std::vector<int>{2, 3}));
    EXPECT_TRUE(idx.erase("a/+/c/#", 2));
    EXPECT_TRUE(idx.erase("a/b/c", 3));
    EXPECT_TRUE(idx.erase("a/+", 4));
    EXPECT_TRUE(idx.erase("$SYS/+/x", 5));
    EXPECT_EQ(idx.size(), 0u);
    EXPECT_TRUE(collect(idx, "a/b/c").plain.empty());
    // Pruning: only the roots and the (empty) hash tables' slot arrays may remain.
    const std::size_t after = stats.live_bytes;
    add("a/+/c/#", 1);
    add("a/b/c", 3);
    EXPECT_TRUE(idx.erase("a/+/c/#", 1));
    EXPECT_TRUE(idx.erase("a/b/c", 3));
    EXPECT_EQ(stats.live_bytes, after) << "empty nodes and records are freed on erase";
    idx.clear();
    EXPECT_EQ(stats.live_bytes, empty_bytes);
}

TEST_F(subscription_index_test, match_never_allocates) {
    for (int i = 0; i < 500; ++i) {
        add("t" + std::to_string(i % 7) + "/d" + std::to_string(i) + "/temp", i);
        add("t" + std::to_string(i % 7) + "/+/temp", i);
        add("$share/g" + std::to_string(i % 3) + "/t1/#", i);
    }
    add("#", 1000);
    const std::size_t before = stats.allocations;
    std::size_t calls = 0;
    for (int i = 0; i < 500; ++i) {
        idx.match("t" + std::to_string(i % 7) + "/d" + std::to_string(i) + "/temp",
                  [&](const sub&) { ++calls; },
                  [&](const mqttwire::shared_group_view<sub>&) { ++calls; });
    }
    EXPECT_EQ(stats.allocations, before) << "match() allocated through the index allocator";
    EXPECT_GT(calls, 1000u);
}

TEST_F(subscription_index_test, allocation_failure_leaves_index_unchanged) {
    add("a/b", 1);
    add("x/+/y", 2);
    const std::size_t live = stats.live_bytes;
    const std::size_t size = idx.size();
    // Fail at each successive allocation of a complex insert; nothing may leak or change.
    for (std::size_t budget = 0; budget < 12; ++budget) {
        stats.fail_after = stats.allocations + budget;
        const auto r = idx.insert("$share/grp/q/+/r/s/#", sub{7, 1});
        stats.fail_after = static_cast<std::size_t>(-1);
        if (r.has_value()) {
            EXPECT_TRUE(idx.erase("$share/grp/q/+/r/s/#", 7));
            break;
        }
        EXPECT_EQ(r.error(), errc::quota_exceeded);
        EXPECT_EQ(idx.size(), size);
        EXPECT_EQ(stats.live_bytes, live) << "budget " << budget;
    }
    EXPECT_EQ(clients(idx, "a/b"), (std::vector<int>{1}));
    EXPECT_EQ(clients(idx, "x/z/y"), (std::vector<int>{2}));
}

TEST_F(subscription_index_test, deep_topics_need_no_stack) {
    // 30000 levels: the walk is iterative (parent pointers), no recursion, no level cap.
    std::string filter;
    for (int i = 0; i < 30000; ++i) filter += "+/";
    filter += "#";
    add(filter, 1);
    std::string topic(30000, '/');
    EXPECT_EQ(clients(idx, topic), (std::vector<int>{1}));
    EXPECT_TRUE(idx.erase(filter, 1));
}

TEST_F(subscription_index_test, move_keeps_subscriptions) {
    add("a/+", 1);
    add("a/b", 2);
    index_t moved(std::move(idx));
    EXPECT_EQ(clients(moved, "a/b"), (std::vector<int>{1, 2}));
    EXPECT_EQ(moved.size(), 2u);
}

TEST(subscription_index_default, std_allocator_and_identity_key) {
    mqttwire::subscription_index<int> idx;
    ASSERT_TRUE(idx.insert("salon/luz/cmd", 1).has_value());
    ASSERT_TRUE(idx.insert("salon/+/cmd", 2).has_value());
    std::vector<int> got;
    idx.match("salon/luz/cmd", [&](int v) { got.push_back(v); },
              [](const mqttwire::shared_group_view<int>&) {});
    std::sort(got.begin(), got.end());
    EXPECT_EQ(got, (std::vector<int>{1, 2}));
    EXPECT_TRUE(idx.erase("salon/+/cmd", 2));
}

} // namespace
