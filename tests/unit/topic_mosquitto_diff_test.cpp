// Differential test against libmosquitto (2.0): mosquitto_topic_matches_sub,
// mosquitto_sub_topic_check, mosquitto_pub_topic_check, over many random cases from a small
// alphabet that produces wildcards in every position, empty levels, '$' and non-ASCII bytes.
//
// Every difference is classified by a spec statement; anything unclassified fails the test.
// Known, justified differences (libmosquitto 2.0.11):
//   * mosquitto_pub_topic_check / mosquitto_sub_topic_check accept the empty string; an empty
//     topic is invalid (MQTT-4.7.3-1 / MQTT5-4.7.3-1).
//   * they do not check UTF-8 (mosquitto checks it separately, mosquitto_validate_utf8); a topic
//     is a UTF-8 Encoded String (MQTT-1.5.3-1 / MQTT5-1.5.4-1, section 4.7.3), so we reject
//     ill-formed UTF-8. Against pub_topic_check && mosquitto_validate_utf8 the only remaining
//     difference is that mosquitto_validate_utf8 also refuses control characters and
//     non-characters, which the specs make SHOULD NOT (1.5.3 / 1.5.4): with
//     utf8_rules{true, true} we agree exactly.
//   * U+0000 cannot be passed to the C functions (NUL-terminated); MQTT-4.7.3-2 is covered by
//     topic_table_test.

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>

#include <mqttwire/topic.hpp>

#if defined(MQTTWIRE_HAVE_LIBMOSQUITTO)
#include <mosquitto.h>

namespace {

using mqttwire::errc;

// Small alphabet: separators, wildcards, '$', two letters, a 2-byte UTF-8 sequence and stray
// bytes that make ill-formed UTF-8.
std::string random_text(std::mt19937_64& rng, std::size_t max_len) {
    static constexpr std::string_view pieces[] = {"/", "/", "+", "#", "$", "a", "a", "b",
                                                  "B", "\xc3\xa9", "\xc3", "\x01", "\xef\xbf\xbf"};
    std::uniform_int_distribution<std::size_t> len(0, max_len);
    std::uniform_int_distribution<std::size_t> pick(0, std::size(pieces) - 1);
    std::string s;
    const std::size_t n = len(rng);
    for (std::size_t i = 0; i < n; ++i) {
        // Mostly ASCII, so that many cases are valid.
        const std::size_t k = pick(rng);
        if (k >= 10 && (rng() % 4) != 0) s += 'a';
        else s += pieces[k];
    }
    return s;
}

bool utf8_ok(std::string_view s, mqttwire::utf8_rules rules = {}) {
    return mqttwire::validate_utf8(s, rules) == errc::success;
}

// Why (by statement) a validation verdict of ours may differ from libmosquitto's.
const char* justify_validation(std::string_view s) {
    if (s.empty()) return "MQTT-4.7.3-1";
    if (!utf8_ok(s)) return "MQTT-1.5.3-1";
    return nullptr;
}

constexpr int cases = 200000;

TEST(topic_mosquitto_diff, pub_topic_check_MQTT_4_7_1_1_MQTT_3_3_2_2) {
    std::mt19937_64 rng(0x5eed0001);
    int justified = 0;
    for (int i = 0; i < cases; ++i) {
        const std::string s = random_text(rng, 12);
        const bool ours = mqttwire::validate_topic_name(s) == errc::success;
        const bool theirs = mosquitto_pub_topic_check(s.c_str()) == MOSQ_ERR_SUCCESS;
        if (ours != theirs) {
            const char* why = justify_validation(s);
            ASSERT_NE(why, nullptr) << "unjustified difference for '" << s << "': ours " << ours;
            ASSERT_FALSE(ours) << s; // we are only ever stricter
            ++justified;
        }
        // With the SHOULD-level rules on, we agree with pub_topic_check && validate_utf8.
        const bool ours_strict =
            mqttwire::validate_topic_name(s, mqttwire::utf8_rules{true, true}) == errc::success;
        const bool theirs_strict =
            theirs && !s.empty() &&
            mosquitto_validate_utf8(s.c_str(), static_cast<int>(s.size())) == MOSQ_ERR_SUCCESS;
        ASSERT_EQ(ours_strict, theirs_strict) << "'" << s << "'";
    }
    EXPECT_GT(justified, 0); // the generator does reach the known differences
}

TEST(topic_mosquitto_diff, sub_topic_check_MQTT_4_7_1_2_MQTT_4_7_1_3) {
    std::mt19937_64 rng(0x5eed0002);
    for (int i = 0; i < cases; ++i) {
        const std::string s = random_text(rng, 12);
        const bool ours = mqttwire::validate_topic_filter(s) == errc::success;
        const bool theirs = mosquitto_sub_topic_check(s.c_str()) == MOSQ_ERR_SUCCESS;
        if (ours != theirs) {
            ASSERT_NE(justify_validation(s), nullptr) << "unjustified difference for '" << s
                                                      << "': ours " << ours;
            ASSERT_FALSE(ours) << s;
        }
        const bool ours_strict =
            mqttwire::validate_topic_filter(s, mqttwire::utf8_rules{true, true}) == errc::success;
        const bool theirs_strict =
            theirs && !s.empty() &&
            mosquitto_validate_utf8(s.c_str(), static_cast<int>(s.size())) == MOSQ_ERR_SUCCESS;
        ASSERT_EQ(ours_strict, theirs_strict) << "'" << s << "'";
    }
}

// Build a filter from a name by replacing levels with '+' / cutting with '#', so that about
// half of the pairs match; plus fully random pairs.
std::string derive_filter(std::mt19937_64& rng, std::string_view name) {
    std::string f;
    std::size_t pos = 0;
    while (true) {
        const auto e = name.find('/', pos);
        const auto level = name.substr(pos, e == std::string_view::npos ? name.npos : e - pos);
        const auto r = rng() % 10;
        if (r == 0) return f + "#";
        f += r < 3 ? std::string_view("+") : level;
        if (e == std::string_view::npos) break;
        f += '/';
        pos = e + 1;
    }
    if (rng() % 8 == 0) f += "/#";
    return f;
}

TEST(topic_mosquitto_diff, topic_matches_sub_MQTT_4_7_2_1_MQTT_4_7_3_4) {
    std::mt19937_64 rng(0x5eed0003);
    int compared = 0;
    int matched = 0;
    for (int i = 0; i < cases * 3; ++i) {
        const std::string name = random_text(rng, 10);
        const std::string filter = (i % 2) ? derive_filter(rng, name) : random_text(rng, 10);
        // topic_matches' contract is valid arguments (DESIGN 2); libmosquitto returns an error
        // for some invalid ones. Compare on valid pairs.
        if (mqttwire::validate_topic_name(name) != errc::success ||
            mqttwire::validate_topic_filter(filter) != errc::success)
            continue;
        bool theirs = false;
        ASSERT_EQ(mosquitto_topic_matches_sub(filter.c_str(), name.c_str(), &theirs),
                  MOSQ_ERR_SUCCESS)
            << filter << " / " << name;
        const bool ours = mqttwire::topic_matches(filter, name);
        ASSERT_EQ(ours, theirs) << "filter '" << filter << "' name '" << name << "'";
        ++compared;
        matched += ours ? 1 : 0;
    }
    EXPECT_GT(compared, cases / 2);
    EXPECT_GT(matched, compared / 10);
}

// The spec examples that libmosquitto must agree on as well (a sanity check of the harness).
TEST(topic_mosquitto_diff, spec_examples_agree_MQTT_4_7_1_2) {
    for (auto [f, n] : {std::pair{"sport/#", "sport"}, {"+/+", "/"}, {"+/#", "a"},
                        {"#", "$SYS/x"}, {"$SYS/#", "$SYS"}, {"a/+", "a"}}) {
        bool theirs = false;
        ASSERT_EQ(mosquitto_topic_matches_sub(f, n, &theirs), MOSQ_ERR_SUCCESS);
        EXPECT_EQ(mqttwire::topic_matches(f, n), theirs) << f << " / " << n;
    }
}

} // namespace

#else
TEST(topic_mosquitto_diff, DISABLED_needs_libmosquitto) {}
#endif
