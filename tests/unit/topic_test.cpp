// Topic names and filters (MQTT 3.1.1 section 4.7, MQTT 5.0 sections 4.7 and 4.8.2): basic
// table tests of validate_topic_name, validate_topic_filter, topic_matches,
// parse_shared_subscription and topic_levels. The examples are the specs' own where they have
// one (4.7.1.2, 4.7.1.3, 4.7.2, 4.7.3, 4.8.2).

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "test_support.hpp"

namespace mqttwire::test::topic_tests {
namespace {

using namespace std::string_view_literals;

std::string printable(std::string_view s) {
    std::string out = "\"";
    for (const char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (u >= 0x20 && u < 0x7F) {
            out += c;
        } else {
            static constexpr char digits[] = "0123456789abcdef";
            out += "\\x";
            out += digits[u >> 4];
            out += digits[u & 15];
        }
    }
    if (s.size() > 40) out = "<" + std::to_string(s.size()) + " bytes>";
    return out + "\"";
}

const std::string longest(65535, 'a');  // the longest UTF-8 Encoded String
const std::string too_long(65536, 'a'); // one byte more than a 2-byte length can say

// =============================================================================================
// validate_topic_name
// =============================================================================================

TEST(topic_name, valid) {
    for (const std::string_view name :
         {"a"sv, "/"sv, "//"sv, "a/b"sv, "/finance"sv, "finance/"sv, "sport/tennis/player1"sv,
          "$SYS/monitor/Clients"sv, "Accounts payable"sv, " "sv, "caf\xc3\xa9"sv,
          "\xef\xbb\xbf"sv /* U+FEFF is kept, MQTT-1.5.3-3 */, "\xf0\x9f\x92\xa1"sv /* U+1F4A1 */,
          std::string_view(longest)}) {
        EXPECT_EQ(errc_name(validate_topic_name(name)), "success"sv) << printable(name);
    }
}

// MQTT-4.7.1-1 / MQTT5-4.7.0-1: wildcards never appear in a Topic Name.
TEST(topic_name, wildcards_invalid_MQTT_4_7_1_1_MQTT5_4_7_0_1) {
    for (const std::string_view name : {"+"sv, "#"sv, "a/+"sv, "a/#"sv, "+/a"sv, "sport/tennis/#"sv,
                                        "a+b"sv, "a#b"sv, "sport/+/player1"sv}) {
        EXPECT_EQ(errc_name(validate_topic_name(name)), "topic_name_invalid"sv) << printable(name);
    }
}

// MQTT-4.7.3-1 / MQTT5-4.7.3-1: at least one character.
TEST(topic_name, empty_invalid_MQTT_4_7_3_1_MQTT5_4_7_3_1) {
    EXPECT_EQ(errc_name(validate_topic_name(""sv)), "topic_name_invalid"sv);
}

// MQTT-4.7.3-2 / MQTT5-4.7.3-2: no U+0000; and the UTF-8 rules (MQTT-1.5.3-1).
TEST(topic_name, nul_and_ill_formed_utf8_invalid_MQTT_4_7_3_2_MQTT5_4_7_3_2) {
    for (const std::string_view name :
         {"\0"sv, "a\0b"sv, "a/\0"sv, "\xc0\xaf"sv /* overlong '/' */,
          "\xed\xa0\x80"sv /* U+D800 */, "\xff"sv, "a\x80"sv, "\xe2\x82"sv /* truncated */,
          "\xf4\x90\x80\x80"sv /* > U+10FFFF */}) {
        EXPECT_EQ(errc_name(validate_topic_name(name)), "topic_name_invalid"sv) << printable(name);
    }
}

// MQTT-4.7.3-3 / MQTT5-4.7.3-3: at most 65535 bytes.
TEST(topic_name, longer_than_65535_invalid_MQTT_4_7_3_3_MQTT5_4_7_3_3) {
    EXPECT_EQ(errc_name(validate_topic_name(std::string_view(longest))), "success"sv);
    EXPECT_EQ(errc_name(validate_topic_name(std::string_view(too_long))), "topic_name_invalid"sv);
}

TEST(topic_name, utf8_view_overloads) {
    EXPECT_EQ(errc_name(validate_topic_name(utf8_view("salon/luz/stat"))), "success"sv);
    EXPECT_EQ(errc_name(validate_topic_name(utf8_view("salon/+/stat"))), "topic_name_invalid"sv);
    const auto bytes = hex("61 2f 62 2f 2b"); // "a/b/+", byte-backed as after a decode
    EXPECT_EQ(errc_name(validate_topic_name(utf8_view(std::span<const std::byte>(bytes)))),
              "topic_name_invalid"sv);
    EXPECT_EQ(errc_name(validate_topic_name(utf8_view(std::span<const std::byte>(bytes).first(3)))),
              "success"sv);
}

// =============================================================================================
// validate_topic_filter
// =============================================================================================

// MQTT-4.7.1-2 / MQTT5-4.7.1-1 and MQTT-4.7.1-3 / MQTT5-4.7.1-2: the spec's valid examples
// (sections 4.7.1.2 and 4.7.1.3) and more placements of whole-level wildcards.
TEST(topic_filter, valid_MQTT_4_7_1_2_MQTT_4_7_1_3_MQTT5_4_7_1_1_MQTT5_4_7_1_2) {
    for (const std::string_view filter : {"#"sv,
                                          "sport/#"sv,
                                          "sport/tennis/#"sv,
                                          "sport/tennis/player1/#"sv,
                                          "+"sv,
                                          "+/tennis/#"sv,
                                          "sport/+/player1"sv,
                                          "+/+"sv,
                                          "/+"sv,
                                          "+/"sv,
                                          "sport/+"sv,
                                          "/#"sv,
                                          "+/#"sv,
                                          "a/+/#"sv,
                                          "+/+/+"sv,
                                          "a//b"sv,
                                          "/"sv,
                                          "a"sv,
                                          "$SYS/#"sv,
                                          "$SYS/monitor/+"sv,
                                          "$share/g/a"sv,
                                          "caf\xc3\xa9/+"sv,
                                          std::string_view(longest)}) {
        EXPECT_EQ(errc_name(validate_topic_filter(filter)), "success"sv) << printable(filter);
    }
}

// MQTT-4.7.1-2 / MQTT5-4.7.1-1: '#' alone in its level and last. Spec examples:
// "sport/tennis#" and "sport/tennis/#/ranking" are invalid.
TEST(topic_filter, misplaced_hash_invalid_MQTT_4_7_1_2_MQTT5_4_7_1_1) {
    for (const std::string_view filter :
         {"sport/tennis#"sv, "sport/tennis/#/ranking"sv, "#/"sv, "##"sv, "a#"sv, "a/#b"sv, "#/a"sv,
          "a/#/"sv, "+#"sv, "#+"sv}) {
        EXPECT_EQ(errc_name(validate_topic_filter(filter)), "topic_filter_invalid"sv)
            << printable(filter);
    }
}

// MQTT-4.7.1-3 / MQTT5-4.7.1-2: '+' fills its whole level. Spec example: "sport+" is invalid.
TEST(topic_filter, partial_level_plus_invalid_MQTT_4_7_1_3_MQTT5_4_7_1_2) {
    for (const std::string_view filter :
         {"sport+"sv, "a/b+"sv, "+a"sv, "a/+b/c"sv, "++"sv, "+/++"sv, "a+/b"sv}) {
        EXPECT_EQ(errc_name(validate_topic_filter(filter)), "topic_filter_invalid"sv)
            << printable(filter);
    }
}

// MQTT-4.7.3-1, MQTT-4.7.3-2, MQTT-4.7.3-3 and the 5.0 twins.
TEST(topic_filter, empty_nul_utf8_length_invalid_MQTT_4_7_3_1_MQTT_4_7_3_2_MQTT5_4_7_3_2) {
    for (const std::string_view filter : {""sv, "\0"sv, "a/\0/b"sv, "\xc0\xaf"sv, "\xed\xbf\xbf"sv,
                                          "+/\xff"sv, std::string_view(too_long)}) {
        EXPECT_EQ(errc_name(validate_topic_filter(filter)), "topic_filter_invalid"sv)
            << printable(filter);
    }
}

TEST(topic_filter, utf8_view_overloads) {
    EXPECT_EQ(errc_name(validate_topic_filter(utf8_view("salon/+/stat"))), "success"sv);
    EXPECT_EQ(errc_name(validate_topic_filter(utf8_view("salon/#/stat"))),
              "topic_filter_invalid"sv);
    // Byte-backed, as a decoded SUBSCRIBE gives it: "a/#/b" and "a/#".
    const auto bytes = hex("61 2f 23 2f 62");
    const std::span<const std::byte> b(bytes);
    EXPECT_EQ(errc_name(validate_topic_filter(utf8_view(b))), "topic_filter_invalid"sv);
    EXPECT_EQ(errc_name(validate_topic_filter(utf8_view(b.first(3)))), "success"sv);
}

// =============================================================================================
// topic_matches
// =============================================================================================

struct match_case {
    std::string_view filter;
    std::string_view name;
    bool matches;
};

void check(std::initializer_list<match_case> cases) {
    for (const auto& c : cases) {
        // The table holds valid arguments only (topic_matches' precondition).
        ASSERT_EQ(errc_name(validate_topic_filter(c.filter)), "success"sv) << printable(c.filter);
        ASSERT_EQ(errc_name(validate_topic_name(c.name)), "success"sv) << printable(c.name);
        EXPECT_EQ(topic_matches(c.filter, c.name), c.matches)
            << printable(c.filter) << " vs " << printable(c.name);
        // Same answer through the utf8_view overloads, char- and byte-backed.
        const auto fb = std::span<const std::byte>(
            reinterpret_cast<const std::byte*>(c.filter.data()), c.filter.size()); // NOLINT
        const auto nb = std::span<const std::byte>(
            reinterpret_cast<const std::byte*>(c.name.data()), c.name.size()); // NOLINT
        EXPECT_EQ(topic_matches(utf8_view(c.filter), utf8_view(c.name)), c.matches);
        EXPECT_EQ(topic_matches(utf8_view(fb), utf8_view(nb)), c.matches);
        EXPECT_EQ(topic_matches(utf8_view(fb), c.name), c.matches);
        EXPECT_EQ(topic_matches(c.filter, utf8_view(nb)), c.matches);
    }
}

// 3.1.1 / 5.0 section 4.7.1.2: '#' matches the parent level and any number of child levels.
TEST(topic_matches, multi_level_wildcard_spec_examples_MQTT_4_7_1_2_MQTT5_4_7_1_1) {
    check({
        {"sport/tennis/player1/#", "sport/tennis/player1", true},
        {"sport/tennis/player1/#", "sport/tennis/player1/ranking", true},
        {"sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon", true},
        {"sport/#", "sport", true},
        {"sport/tennis/player1/#", "sport/tennis/player2", false},
        {"sport/tennis/player1/#", "sport/tennis", false},
        {"sport/tennis/player1/#", "sport/tennis/player", false},
        {"#", "sport", true},
        {"#", "sport/tennis/player1", true},
        {"#", "/", true},
        {"#", "/finance", true},
        {"/#", "/", true},
        {"/#", "/finance", true},
        {"/#", "finance", false},
        {"+/#", "a", true},
        {"+/#", "a/b/c", true},
        {"a/+/#", "a/b", true},
        {"a/+/#", "a", false},
    });
}

// 3.1.1 / 5.0 section 4.7.1.3: '+' matches exactly one level, also an empty one.
TEST(topic_matches, single_level_wildcard_spec_examples_MQTT_4_7_1_3_MQTT5_4_7_1_2) {
    check({
        {"sport/tennis/+", "sport/tennis/player1", true},
        {"sport/tennis/+", "sport/tennis/player2", true},
        {"sport/tennis/+", "sport/tennis/player1/ranking", false},
        {"sport/+", "sport", false},
        {"sport/+", "sport/", true},
        {"+/+", "/finance", true},
        {"/+", "/finance", true},
        {"+", "/finance", false},
        {"+/+", "/", true},
        {"+", "a", true},
        {"+/tennis/#", "sport/tennis/player1", true},
        {"+/tennis/#", "sport/tennis", true},
        {"+/tennis/#", "sport/golf", false},
        {"a/+/b", "a//b", true},
        {"a/+/b", "a/x/y/b", false},
        {"+/+/+", "a/b", false},
        {"+/", "a/", true},
        {"+/", "a", false},
    });
}

// MQTT-4.7.2-1 / MQTT5-4.7.2-1: filters starting with a wildcard do not match names starting
// with '$'; section 4.7.2's examples.
TEST(topic_matches, dollar_topics_MQTT_4_7_2_1_MQTT5_4_7_2_1) {
    check({
        {"#", "$SYS/x", false},
        {"#", "$SYS", false},
        {"+", "$SYS", false},
        {"+/monitor/Clients", "$SYS/monitor/Clients", false},
        {"+/#", "$SYS/monitor", false},
        {"$SYS/#", "$SYS/a", true},
        {"$SYS/#", "$SYS/monitor/Clients", true},
        {"$SYS/monitor/+", "$SYS/monitor/Clients", true},
        {"$SYS", "$SYS", true},
        // Only the first character of the name counts.
        {"a/+", "a/$x", true},
        {"+/+", "x/$y", true},
        {"#", "a/$SYS", true},
    });
}

// MQTT-4.7.3-4 / MQTT5-4.7.3-4: raw bytes, no case folding, no normalization; section 4.7.3's
// examples ("ACCOUNTS" and "Accounts" differ, "/finance" and "finance" differ).
TEST(topic_matches, exact_bytes_MQTT_4_7_3_4_MQTT5_4_7_3_4) {
    check({
        {"ACCOUNTS", "Accounts", false},
        {"Accounts", "Accounts", true},
        {"Accounts payable", "Accounts payable", true},
        {"accounts/#", "Accounts/x", false},
        {"/finance", "finance", false},
        {"finance", "/finance", false},
        {"a/b", "a/b/", false},
        {"a/b/", "a/b/", true},
        {"a/b", "a//b", false},
        {"sport/ten", "sport/tennis", false},
        {"sport/tennis", "sport/ten", false},
        {"caf\xc3\xa9", "caf\xc3\xa9", true},   // U+00E9 precomposed
        {"caf\xc3\xa9", "cafe\xcc\x81", false}, // e + U+0301 combining: not normalized
        {"+", "cafe\xcc\x81", true},
    });
}

// =============================================================================================
// Shared subscriptions (MQTT 5.0 section 4.8.2)
// =============================================================================================

TEST(shared_subscription, spec_examples_MQTT5_4_8_2_1_MQTT5_4_8_2_2) {
    struct row {
        std::string_view text;
        std::string_view share_name;
        std::string_view filter;
    };
    for (const auto& r : {row{"$share/consumer1/sport/tennis/+", "consumer1", "sport/tennis/+"},
                          row{"$share/consumer2/sport/tennis/+", "consumer2", "sport/tennis/+"},
                          row{"$share/g/a/b", "g", "a/b"}, row{"$share/g/#", "g", "#"},
                          row{"$share/g//", "g", "/"}, row{"$share/$g/+", "$g", "+"}}) {
        EXPECT_TRUE(is_shared_subscription(r.text)) << r.text;
        shared_subscription s{};
        ASSERT_EQ(errc_name(parse_shared_subscription(r.text, s)), "success"sv) << r.text;
        EXPECT_EQ(s.share_name, r.share_name) << r.text;
        EXPECT_EQ(s.filter, r.filter) << r.text;
        // The views point into the original text.
        EXPECT_EQ(s.filter.data() + s.filter.size(), r.text.data() + r.text.size());
    }
    shared_subscription s{};
    ASSERT_EQ(parse_shared_subscription("$share/consumer1/sport/tennis/+"sv, s), errc::success);
    EXPECT_TRUE(topic_matches(s.filter, "sport/tennis/player1"sv));
}

// MQTT5-4.8.2-1: the ShareName has at least one character.
TEST(shared_subscription, empty_share_name_MQTT5_4_8_2_1) {
    shared_subscription s{};
    EXPECT_EQ(errc_name(parse_shared_subscription("$share//a"sv, s)), "topic_filter_invalid"sv);
    EXPECT_EQ(errc_name(parse_shared_subscription("$share/"sv, s)), "topic_filter_invalid"sv);
}

// MQTT5-4.8.2-2: no '/', '+' or '#' in the ShareName, then '/', then a valid Topic Filter.
TEST(shared_subscription, bad_share_name_or_filter_MQTT5_4_8_2_2) {
    for (const std::string_view text :
         {"$share/g"sv, "$share/g/"sv, "$share/g+/a"sv, "$share/+/a"sv, "$share/#/a"sv,
          "$share/a#/b"sv, "$share/g/a/#/b"sv, "$share/g/sport+"sv, "$share/g/\xff"sv}) {
        shared_subscription s{};
        EXPECT_EQ(errc_name(parse_shared_subscription(text, s)), "topic_filter_invalid"sv)
            << printable(text);
    }
}

TEST(shared_subscription, not_shared) {
    for (const std::string_view text :
         {"a/b"sv, "$SHARE/g/a"sv, "$share"sv, "$sharefoo/a"sv, "share/g/a"sv, "#"sv}) {
        EXPECT_FALSE(is_shared_subscription(text)) << text;
        shared_subscription s{};
        EXPECT_EQ(errc_name(parse_shared_subscription(text, s)), "invalid_argument"sv) << text;
    }
}

// =============================================================================================
// topic_levels
// =============================================================================================

std::vector<std::string> levels(std::string_view t) {
    std::vector<std::string> out;
    for (const auto l : topic_levels(t)) out.emplace_back(l);
    return out;
}

using strings = std::vector<std::string>;

TEST(topic_levels, splits_on_slash) {
    EXPECT_EQ(levels("a/b/c"), (strings{"a", "b", "c"}));
    EXPECT_EQ(levels("sport/tennis/player1/#"), (strings{"sport", "tennis", "player1", "#"}));
    EXPECT_EQ(levels("a"), (strings{"a"}));
    EXPECT_EQ(levels("#"), (strings{"#"}));
    EXPECT_EQ(levels("$SYS/monitor/Clients"), (strings{"$SYS", "monitor", "Clients"}));
}

// Empty levels are levels (section 4.7.1.1: a topic level may be zero length).
TEST(topic_levels, empty_levels) {
    EXPECT_EQ(levels("a//b"), (strings{"a", "", "b"}));
    EXPECT_EQ(levels("/"), (strings{"", ""}));
    EXPECT_EQ(levels("/finance"), (strings{"", "finance"}));
    EXPECT_EQ(levels("finance/"), (strings{"finance", ""}));
    EXPECT_EQ(levels("/a/"), (strings{"", "a", ""}));
    EXPECT_EQ(levels("//"), (strings{"", "", ""}));
    EXPECT_EQ(levels(""), (strings{""}));
}

TEST(topic_levels, views_into_the_text) {
    const std::string_view t = "salon/luz/cmd";
    auto it = topic_levels(t).begin();
    EXPECT_EQ((*it).data(), t.data());
    ++it;
    EXPECT_EQ((*it).data(), t.data() + 6);
    EXPECT_EQ(*it, "luz");
}

} // namespace
} // namespace mqttwire::test::topic_tests
