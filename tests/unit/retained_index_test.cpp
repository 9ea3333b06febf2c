// retained_index: a filter walk over stored topic names (+, #, '$' rule), replace, erase,
// pruning and allocation behaviour.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <mqttwire/retained_index.hpp>

namespace {

using mqttwire::errc;

struct live_bytes {
    std::size_t allocations = 0;
    std::size_t bytes = 0;
};
template <class T> struct tracking_allocator {
    using value_type = T;
    live_bytes* stats;
    explicit tracking_allocator(live_bytes* s) noexcept : stats(s) {}
    template <class U>
    tracking_allocator(const tracking_allocator<U>& o) noexcept : stats(o.stats) {} // NOLINT
    T* allocate(std::size_t n) noexcept {
        ++stats->allocations;
        stats->bytes += n * sizeof(T);
        return static_cast<T*>(::operator new(n * sizeof(T), std::nothrow));
    }
    void deallocate(T* p, std::size_t n) noexcept {
        stats->bytes -= n * sizeof(T);
        ::operator delete(p);
    }
    template <class U> bool operator==(const tracking_allocator<U>& o) const noexcept {
        return stats == o.stats;
    }
};

using index_t = mqttwire::retained_index<std::string, tracking_allocator<std::string>>;

std::vector<std::string> found(const index_t& idx, std::string_view filter) {
    std::vector<std::string> out;
    idx.match(filter, [&](const std::string& v) { out.push_back(v); });
    std::sort(out.begin(), out.end());
    return out;
}

class retained_index_test : public ::testing::Test {
  protected:
    live_bytes stats;
    index_t idx{tracking_allocator<std::string>(&stats)};
    void put(std::string_view t) {
        const auto r = idx.insert_or_assign(t, std::string(t));
        ASSERT_TRUE(r.has_value()) << t;
    }
    void SetUp() override {
        for (std::string_view t : {"sport", "sport/tennis", "sport/tennis/player1",
                                   "sport/tennis/player1/ranking", "sport/tennis/player2",
                                   "sport/golf", "/finance", "/", "a//b", "$SYS/monitor/Clients",
                                   "$SYS", "$other/x", "Sport"})
            put(t);
    }
};

using v = std::vector<std::string>;

TEST_F(retained_index_test, hash_visits_parent_and_subtree_MQTT_4_7_1_2) {
    EXPECT_EQ(found(idx, "sport/tennis/player1/#"),
              (v{"sport/tennis/player1", "sport/tennis/player1/ranking"}));
    EXPECT_EQ(found(idx, "sport/#"), (v{"sport", "sport/golf", "sport/tennis",
                                        "sport/tennis/player1", "sport/tennis/player1/ranking",
                                        "sport/tennis/player2"}));
    EXPECT_EQ(found(idx, "#"), (v{"/", "/finance", "Sport", "a//b", "sport", "sport/golf",
                                  "sport/tennis", "sport/tennis/player1",
                                  "sport/tennis/player1/ranking", "sport/tennis/player2"}))
        << "MQTT-4.7.2-1: no $ topics";
}

TEST_F(retained_index_test, plus_visits_one_level_MQTT_4_7_1_3) {
    EXPECT_EQ(found(idx, "sport/tennis/+"), (v{"sport/tennis/player1", "sport/tennis/player2"}));
    EXPECT_EQ(found(idx, "+"), (v{"Sport", "sport"}));
    EXPECT_EQ(found(idx, "+/+"), (v{"/", "/finance", "sport/golf", "sport/tennis"}));
    EXPECT_EQ(found(idx, "/+"), (v{"/", "/finance"}));
    EXPECT_EQ(found(idx, "a/+/b"), (v{"a//b"}));
    EXPECT_EQ(found(idx, "+/tennis/#"),
              (v{"sport/tennis", "sport/tennis/player1", "sport/tennis/player1/ranking",
                 "sport/tennis/player2"}));
    EXPECT_EQ(found(idx, "+/+/+/+/+"), (v{}));
}

TEST_F(retained_index_test, dollar_topics_MQTT_4_7_2_1_MQTT5_4_7_2_1) {
    EXPECT_EQ(found(idx, "+/monitor/Clients"), (v{}));
    EXPECT_EQ(found(idx, "$SYS/#"), (v{"$SYS", "$SYS/monitor/Clients"}));
    EXPECT_EQ(found(idx, "$SYS/monitor/+"), (v{"$SYS/monitor/Clients"}));
    EXPECT_EQ(found(idx, "$other/x"), (v{"$other/x"}));
}

TEST_F(retained_index_test, exact_and_case_MQTT_4_7_3_4) {
    EXPECT_EQ(found(idx, "Sport"), (v{"Sport"}));
    EXPECT_EQ(found(idx, "SPORT"), (v{}));
    ASSERT_NE(idx.find("sport/golf"), nullptr);
    EXPECT_EQ(*idx.find("sport/golf"), "sport/golf");
    EXPECT_EQ(idx.find("sport/go"), nullptr);
}

TEST_F(retained_index_test, replace_erase_and_prune_MQTT_3_3_1_6) {
    const std::size_t n = idx.size();
    const auto r = idx.insert_or_assign("sport/golf", "new");
    ASSERT_TRUE(r.has_value());
    EXPECT_FALSE(r.value()) << "replaced";
    EXPECT_EQ(*idx.find("sport/golf"), "new");
    EXPECT_EQ(idx.size(), n);
    // An empty retained payload removes the retained message (MQTT-3.3.1-6 / MQTT-3.3.1-10).
    EXPECT_TRUE(idx.erase("sport/tennis/player1/ranking"));
    EXPECT_FALSE(idx.erase("sport/tennis/player1/ranking"));
    EXPECT_FALSE(idx.erase("sport/tennis/player3"));
    EXPECT_EQ(found(idx, "sport/tennis/player1/#"), (v{"sport/tennis/player1"}));
    EXPECT_TRUE(idx.erase("sport/tennis")) << "an inner node keeps its children";
    EXPECT_EQ(found(idx, "sport/+/+"), (v{"sport/tennis/player1", "sport/tennis/player2"}));
    const std::size_t before = stats.bytes;
    put("deep/a/b/c/d");
    EXPECT_TRUE(idx.erase("deep/a/b/c/d"));
    EXPECT_EQ(stats.bytes, before) << "empty nodes are pruned";
    idx.clear();
    EXPECT_EQ(stats.bytes, 0u);
}

TEST_F(retained_index_test, invalid_names_refused_MQTT_4_7_1_1) {
    for (std::string_view t : {"", "a/+", "#", "a/#"}) {
        const auto r = idx.insert_or_assign(t, "x");
        ASSERT_FALSE(r.has_value()) << t;
        EXPECT_EQ(r.error(), errc::topic_name_invalid);
    }
}

TEST_F(retained_index_test, match_never_allocates) {
    const std::size_t before = stats.allocations;
    std::size_t calls = 0;
    for (std::string_view f : {"#", "+/+", "sport/#", "$SYS/#", "+/tennis/+", "a/+/b"})
        idx.match(f, [&](const std::string&) { ++calls; });
    EXPECT_EQ(stats.allocations, before);
    EXPECT_GT(calls, 10u);
}

} // namespace
