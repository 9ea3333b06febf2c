// Table tests for include/mqttwire/topic.hpp: validation, matching, shared subscriptions and
// the level iterator. Every row is taken from the text of MQTT 3.1.1 section 4.7 / MQTT 5.0
// sections 4.7 and 4.8.2 (their examples first) and cites the statement it checks.

#include <gtest/gtest.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <mqttwire.hpp>

namespace {

using mqttwire::errc;
using mqttwire::topic_matches;
using mqttwire::validate_topic_filter;
using mqttwire::validate_topic_name;

struct match_row {
    std::string_view filter;
    std::string_view name;
    bool matches;
    const char* cite;
};

// The spec's own examples (MQTT 3.1.1 4.7.1.2, 4.7.1.3, 4.7.2; MQTT 5.0 the same sections), then
// the edge cases brokers keep getting wrong.
constexpr match_row match_table[] = {
    // '#': "sport/tennis/player1/#" (4.7.1.2)
    {"sport/tennis/player1/#", "sport/tennis/player1", true, "MQTT-4.7.1-2 MQTT5-4.7.1-1"},
    {"sport/tennis/player1/#", "sport/tennis/player1/ranking", true, "MQTT-4.7.1-2"},
    {"sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon", true, "MQTT-4.7.1-2"},
    {"sport/#", "sport", true, "MQTT-4.7.1-2 MQTT5-4.7.1-1 (parent level)"},
    {"#", "sport/tennis", true, "MQTT-4.7.1-2"},
    {"#", "/", true, "MQTT-4.7.1-2"},
    {"a/#", "a/", true, "MQTT-4.7.1-2 (an empty last level)"},
    {"a/#", "ab", false, "MQTT-4.7.1-2 (levels, not prefixes)"},
    {"a/#", "b/a", false, "MQTT-4.7.1-2"},
    // '+': "sport/tennis/+" (4.7.1.3)
    {"sport/tennis/+", "sport/tennis/player1", true, "MQTT-4.7.1-3 MQTT5-4.7.1-2"},
    {"sport/tennis/+", "sport/tennis/player2", true, "MQTT-4.7.1-3"},
    {"sport/tennis/+", "sport/tennis/player1/ranking", false, "MQTT-4.7.1-3 (one level)"},
    {"sport/+", "sport", false, "MQTT-4.7.1-3"},
    {"sport/+", "sport/", true, "MQTT-4.7.1-3 (+ matches an empty level)"},
    {"+/+", "/finance", true, "MQTT-4.7.1-3"},
    {"/+", "/finance", true, "MQTT-4.7.1-3"},
    {"+", "/finance", false, "MQTT-4.7.1-3"},
    {"+/+", "/", true, "MQTT-4.7.1-3 (two empty levels; coreMQTT gets this wrong)"},
    {"+", "/", false, "MQTT-4.7.1-3"},
    {"+/#", "a", true, "MQTT-4.7.1-2 MQTT-4.7.1-3 (coreMQTT gets this wrong)"},
    {"+/+/#", "a", false, "MQTT-4.7.1-3"},
    {"+", "a", true, "MQTT-4.7.1-3"},
    {"a/+/c", "a//c", true, "MQTT-4.7.1-3"},
    {"a/+/+", "a/b", false, "MQTT-4.7.1-3"},
    {"+/b/#", "x/b", true, "MQTT-4.7.1-3 MQTT-4.7.1-2"},
    // '$' (4.7.2)
    {"#", "$SYS/broker/clients", false, "MQTT-4.7.2-1 MQTT5-4.7.2-1"},
    {"+/monitor/Clients", "$SYS/monitor/Clients", false, "MQTT-4.7.2-1 MQTT5-4.7.2-1"},
    {"$SYS/#", "$SYS/monitor/Clients", true, "MQTT-4.7.2-1 MQTT5-4.7.2-1"},
    {"$SYS/monitor/+", "$SYS/monitor/Clients", true, "MQTT-4.7.2-1 MQTT5-4.7.2-1"},
    {"$SYS/#", "$SYS", true, "MQTT-4.7.2-1"},
    {"+", "$", false, "MQTT-4.7.2-1"},
    {"+/#", "$a/b", false, "MQTT-4.7.2-1"},
    {"a/#", "a/$b", true, "MQTT-4.7.2-1 (only the first character of the name counts)"},
    {"a/+", "a/$b", true, "MQTT-4.7.2-1"},
    {"$a/+", "$a/b", true, "MQTT-4.7.2-1"},
    // Byte-exact comparison (4.7.3)
    {"ACCOUNTS", "Accounts", false, "MQTT-4.7.3-4 MQTT5-4.7.3-4 (case-sensitive)"},
    {"Accounts payable", "Accounts payable", true, "MQTT-4.7.3-4 (spaces are characters)"},
    {"a/b ", "a/b", false, "MQTT-4.7.3-4"},
    {"caf\xc3\xa9", "cafe\xcc\x81", false, "MQTT-4.7.3-4 MQTT5-4.7.3-4 (no Unicode normalization)"},
    {"caf\xc3\xa9/+", "caf\xc3\xa9/x", true, "MQTT-4.7.3-4"},
    {"a//b", "a/b", false, "MQTT-4.7.3-4 (empty levels count)"},
    {"/", "/", true, "MQTT-4.7.3-4"},
    {"a/b", "a/b/", false, "MQTT-4.7.3-4"},
    {"a/b/", "a/b", false, "MQTT-4.7.3-4"},
};

TEST(topic_table, matches_spec_examples_MQTT_4_7) {
    for (const auto& r : match_table) {
        EXPECT_EQ(topic_matches(r.filter, r.name), r.matches)
            << "filter '" << r.filter << "' name '" << r.name << "' (" << r.cite << ")";
        // The utf8_view overloads agree.
        EXPECT_EQ(topic_matches(mqttwire::utf8_view(r.filter), mqttwire::utf8_view(r.name)),
                  r.matches)
            << r.filter << " / " << r.name;
    }
}

// Empty filter or name: invalid, and the matcher says false rather than "equal" (MQTT-4.7.3-1).
TEST(topic_table, empty_arguments_never_match_MQTT_4_7_3_1) {
    EXPECT_FALSE(topic_matches("", ""));
    EXPECT_FALSE(topic_matches("#", ""));
    EXPECT_FALSE(topic_matches("", "a"));
}

struct validity_row {
    std::string_view text;
    bool valid_name;
    bool valid_filter;
    const char* cite;
};

constexpr validity_row validity_table[] = {
    {"sport/tennis/player1", true, true, "MQTT-4.7.3-4"},
    {"/", true, true, "4.7.1.1: '/' separates levels, empty levels are allowed"},
    {"//", true, true, "4.7.1.1"},
    {" ", true, true, "MQTT-4.7.3-1 (one character)"},
    {"", false, false, "MQTT-4.7.3-1 MQTT5-4.7.3-1"},
    {"#", false, true, "MQTT-4.7.1-1 MQTT5-4.7.0-1 MQTT-4.7.1-2"},
    {"+", false, true, "MQTT-4.7.1-1 MQTT5-4.7.0-1 MQTT-4.7.1-3"},
    {"sport/tennis/#", false, true, "MQTT-3.3.2-2 MQTT5-3.3.2-2 MQTT-4.7.1-2"},
    {"sport/tennis#", false, false, "MQTT-4.7.1-2 MQTT5-4.7.1-1 (not alone)"},
    {"sport/tennis/#/ranking", false, false, "MQTT-4.7.1-2 MQTT5-4.7.1-1 (not last)"},
    {"#/", false, false, "MQTT-4.7.1-2"},
    {"##", false, false, "MQTT-4.7.1-2"},
    {"+/tennis/#", false, true, "MQTT-4.7.1-3 MQTT5-4.7.1-2"},
    {"sport+", false, false, "MQTT-4.7.1-3 MQTT5-4.7.1-2 (not the whole level)"},
    {"sport/+player1", false, false, "MQTT-4.7.1-3"},
    {"+sport", false, false, "MQTT-4.7.1-3"},
    {"++", false, false, "MQTT-4.7.1-3"},
    {"+/+", false, true, "MQTT-4.7.1-3"},
    {"/+", false, true, "MQTT-4.7.1-3"},
    {"+/", false, true, "MQTT-4.7.1-3"},
    {"a/+/#", false, true, "MQTT-4.7.1-3"},
    {"$SYS/#", false, true, "MQTT-4.7.2-1 ($ is an ordinary character of a filter)"},
    {"$SYS", true, true, "MQTT-4.7.2-1"},
    {std::string_view("a\0b", 3), false, false, "MQTT-4.7.3-2 MQTT5-4.7.3-2 (U+0000)"},
    {std::string_view("\0", 1), false, false, "MQTT-4.7.3-2"},
    {"a/\xed\xa0\x80", false, false, "MQTT-1.5.3-1 MQTT5-1.5.4-1 (surrogate U+D800)"},
    {"\xc0\xaf", false, false, "MQTT-1.5.3-1 (overlong '/')"},
    {"\xf4\x90\x80\x80", false, false, "MQTT5-1.5.4-1 (above U+10FFFF)"},
    {"a\xff", false, false, "MQTT-1.5.3-1"},
    {"\xef\xbb\xbf" "a", true, true, "MQTT-1.5.3-3 MQTT5-1.5.4-3 (U+FEFF is kept)"},
    {"caf\xc3\xa9/\xf0\x9f\x8f\xa0", true, true, "MQTT-4.7.3-4 (UTF-8 levels)"},
    {"a\x01" "b", true, true, "1.5.3: control characters are SHOULD NOT, accepted by default"},
};

TEST(topic_table, validity_MQTT_4_7_1_and_MQTT_4_7_3) {
    for (const auto& r : validity_table) {
        EXPECT_EQ(validate_topic_name(r.text) == errc::success, r.valid_name)
            << "name '" << r.text << "' (" << r.cite << ")";
        EXPECT_EQ(validate_topic_filter(r.text) == errc::success, r.valid_filter)
            << "filter '" << r.text << "' (" << r.cite << ")";
        // A wrong name is reason code 0x90, a wrong filter 0x8F.
        if (!r.valid_name) {
            EXPECT_EQ(validate_topic_name(r.text), errc::topic_name_invalid);
        }
        if (!r.valid_filter) {
            EXPECT_EQ(validate_topic_filter(r.text), errc::topic_filter_invalid);
        }
    }
}

// Long texts exercise the 8-byte fast path: a wildcard or NUL at every offset must be found.
TEST(topic_table, wildcard_at_every_offset_MQTT_4_7_1_1_MQTT5_4_7_0_1) {
    for (std::size_t len = 1; len < 40; ++len) {
        for (std::size_t at = 0; at < len; ++at) {
            for (char c : {'+', '#', '\0'}) {
                std::string s(len, 'x');
                s[at] = c;
                EXPECT_EQ(validate_topic_name(s), errc::topic_name_invalid)
                    << "MQTT-4.7.1-1 / MQTT-4.7.3-2: len " << len << " at " << at;
            }
            std::string u(len, 'y');
            u[at] = '\xc3'; // a lead byte without its continuation
            EXPECT_EQ(validate_topic_name(u), errc::topic_name_invalid) << "MQTT-1.5.3-1";
        }
        EXPECT_EQ(validate_topic_name(std::string(len, 'z')), errc::success);
    }
}

TEST(topic_table, length_limit_65535_bytes_MQTT_4_7_3_3) {
    // MQTT-4.7.3-3 / MQTT5-4.7.3-3: at most 65535 bytes.
    std::string max(65535, 'a');
    EXPECT_EQ(validate_topic_name(max), errc::success);
    EXPECT_EQ(validate_topic_filter(max), errc::success);
    max += 'a';
    EXPECT_EQ(validate_topic_name(max), errc::topic_name_invalid);
    EXPECT_EQ(validate_topic_filter(max), errc::topic_filter_invalid);
    // 32768 levels: no recursion, no level cap (mosquitto caps levels).
    std::string levels(65535, '/');
    EXPECT_EQ(validate_topic_name(levels), errc::success);
    std::string plus_levels;
    while (plus_levels.size() + 2 <= 65535) plus_levels += "+/";
    plus_levels += "#";
    ASSERT_LE(plus_levels.size(), 65535u);
    EXPECT_EQ(validate_topic_filter(plus_levels), errc::success);
    EXPECT_TRUE(topic_matches(plus_levels, std::string(32767, '/')));
}

TEST(topic_table, should_level_utf8_rules_are_opt_in) {
    // Control characters and non-characters are SHOULD NOT (1.5.3 / 1.5.4): opt-in.
    const mqttwire::utf8_rules strict{true, true};
    EXPECT_EQ(validate_topic_name("a\x01", strict), errc::topic_name_invalid);
    EXPECT_EQ(validate_topic_name("a\x7f", strict), errc::topic_name_invalid);
    EXPECT_EQ(validate_topic_name("a\xef\xbf\xbf", strict), errc::topic_name_invalid);
    EXPECT_EQ(validate_topic_filter("a/\xc2\x85/+", strict), errc::topic_filter_invalid);
    EXPECT_EQ(validate_topic_name("a\x01"), errc::success);
    EXPECT_EQ(validate_topic_filter("a/\xc2\x85/+"), errc::success);
}

// MQTT5-3.3.2-14: the Response Topic is a Topic Name, so wildcards are refused.
TEST(topic_table, response_topic_has_no_wildcards_MQTT5_3_3_2_14) {
    EXPECT_EQ(validate_topic_name("reply/+"), errc::topic_name_invalid);
    EXPECT_EQ(validate_topic_name("reply/#"), errc::topic_name_invalid);
    EXPECT_EQ(validate_topic_name("reply/to/me"), errc::success);
}

// MQTT-3.8.3-2: a server without wildcard support rejects filters holding one.
TEST(topic_table, wildcard_detection_MQTT_3_8_3_2) {
    EXPECT_TRUE(mqttwire::topic_filter_has_wildcards("a/+"));
    EXPECT_TRUE(mqttwire::topic_filter_has_wildcards("#"));
    EXPECT_TRUE(mqttwire::topic_filter_has_wildcards("$share/g/a/#"));
    EXPECT_FALSE(mqttwire::topic_filter_has_wildcards("a/b"));
    EXPECT_FALSE(mqttwire::topic_filter_has_wildcards("$SYS/x"));
}

struct share_row {
    std::string_view filter;
    errc expect;
    std::string_view share_name;
    std::string_view inner;
    const char* cite;
};

constexpr share_row share_table[] = {
    {"$share/consumer1/sport/tennis/+", errc::success, "consumer1", "sport/tennis/+",
     "MQTT5-4.8.2-1 MQTT5-4.8.2-2 (spec example)"},
    {"$share/consumer2/sport/tennis/+", errc::success, "consumer2", "sport/tennis/+",
     "MQTT5-4.8.2-1"},
    {"$share/consumer1//finance", errc::success, "consumer1", "/finance",
     "MQTT5-4.8.2-2 (spec example: the filter is /finance)"},
    {"$share/g/#", errc::success, "g", "#", "MQTT5-4.8.2-2"},
    {"$share/g/$SYS/#", errc::success, "g", "$SYS/#", "MQTT5-4.8.2-2"},
    {"$share/g\xc3\xa9/a", errc::success, "g\xc3\xa9", "a", "MQTT5-4.8.2-1"},
    {"$share//a", errc::topic_filter_invalid, "", "", "MQTT5-4.8.2-1 (empty ShareName)"},
    {"$share/g", errc::topic_filter_invalid, "", "", "MQTT5-4.8.2-2 (no '/' after it)"},
    {"$share/g/", errc::topic_filter_invalid, "", "", "MQTT5-4.8.2-2 (no filter after '/')"},
    {"$share/", errc::topic_filter_invalid, "", "", "MQTT5-4.8.2-1"},
    {"$share/a+b/x", errc::topic_filter_invalid, "", "", "MQTT5-4.8.2-2 ('+' in ShareName)"},
    {"$share/+/x", errc::topic_filter_invalid, "", "", "MQTT5-4.8.2-2"},
    {"$share/#/x", errc::topic_filter_invalid, "", "", "MQTT5-4.8.2-2 ('#' in ShareName)"},
    {"$share/g/a/#/b", errc::topic_filter_invalid, "", "", "MQTT5-4.8.2-2 MQTT5-4.7.1-1"},
    {"$share/g/a+", errc::topic_filter_invalid, "", "", "MQTT5-4.8.2-2 MQTT5-4.7.1-2"},
    {"$share/g\xff/a", errc::topic_filter_invalid, "", "", "MQTT5-1.5.4-1 (ShareName UTF-8)"},
    {std::string_view("$share/g\0/a", 11), errc::topic_filter_invalid, "", "", "MQTT5-4.7.3-2"},
    {"$sharex/g/a", errc::invalid_argument, "", "", "MQTT5-4.8.2-1 (not a shared subscription)"},
    {"$SHARE/g/a", errc::invalid_argument, "", "", "MQTT5-4.8.2-1 (case-sensitive prefix)"},
    {"$share", errc::invalid_argument, "", "", "MQTT5-4.8.2-1"},
};

TEST(topic_table, shared_subscriptions_MQTT5_4_8_2) {
    for (const auto& r : share_table) {
        mqttwire::shared_subscription s{};
        EXPECT_EQ(mqttwire::parse_shared_subscription(r.filter, s), r.expect)
            << r.filter << " (" << r.cite << ")";
        if (r.expect == errc::success) {
            EXPECT_EQ(s.share_name, r.share_name) << r.filter;
            EXPECT_EQ(s.filter, r.inner) << r.filter;
        }
    }
    // The matcher applies to the inner filter: "$share/g/#" behaves like "#", '$' rule included.
    mqttwire::shared_subscription s{};
    ASSERT_EQ(mqttwire::parse_shared_subscription("$share/g/#", s), errc::success);
    EXPECT_TRUE(topic_matches(s.filter, "sport/tennis"));
    EXPECT_FALSE(topic_matches(s.filter, "$SYS/x")) << "MQTT5-4.7.2-1";
}

TEST(topic_table, level_iterator_splits_without_allocating) {
    const auto levels = [](std::string_view t) {
        std::vector<std::string_view> out;
        for (auto l : mqttwire::topic_levels(t)) out.push_back(l);
        return out;
    };
    using v = std::vector<std::string_view>;
    EXPECT_EQ(levels("sport/tennis/player1"), (v{"sport", "tennis", "player1"}));
    EXPECT_EQ(levels("/finance"), (v{"", "finance"})) << "4.7.1.1: a leading '/' is a level";
    EXPECT_EQ(levels("a//b"), (v{"a", "", "b"}));
    EXPECT_EQ(levels("/"), (v{"", ""}));
    EXPECT_EQ(levels("a/"), (v{"a", ""}));
    EXPECT_EQ(levels(""), (v{""}));
    EXPECT_EQ(levels("+/#"), (v{"+", "#"}));
}

// The utf8_view overloads take byte-backed views (decoded packets) at run time too.
TEST(topic_table, byte_backed_utf8_view_MQTT_3_3_2_2) {
    const std::byte bytes[] = {std::byte{'a'}, std::byte{'/'}, std::byte{'+'}};
    const mqttwire::utf8_view v{std::span<const std::byte>(bytes)};
    EXPECT_EQ(validate_topic_name(v), errc::topic_name_invalid) << "MQTT-3.3.2-2";
    EXPECT_EQ(validate_topic_filter(v), errc::success);
    EXPECT_TRUE(topic_matches(v, "a/x"));
    EXPECT_TRUE(topic_matches(v, mqttwire::utf8_view("a/")));
    EXPECT_FALSE(topic_matches("a/+", mqttwire::utf8_view("a")));
}

} // namespace
