// Properties of the matcher and the validators against a slow, obviously-correct reference
// written from the text of MQTT 3.1.1 / 5.0 section 4.7 (split into levels, compare level by
// level), on a small alphabet that produces empty levels, wildcards and '$'.

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <mqttwire/topic.hpp>

namespace {

std::vector<std::string> split(const std::string& s) {
    std::vector<std::string> out(1);
    for (char c : s) {
        if (c == '/') out.emplace_back();
        else out.back() += c;
    }
    return out;
}

// Reference: valid filter? (4.7.1.2 '#' alone and last; 4.7.1.3 '+' alone; 4.7.3 non-empty)
bool ref_valid_filter(const std::string& f) {
    if (f.empty()) return false;
    const auto levels = split(f);
    for (std::size_t i = 0; i < levels.size(); ++i) {
        const auto& l = levels[i];
        if (l.find('#') != std::string::npos && (l != "#" || i + 1 != levels.size()))
            return false;
        if (l.find('+') != std::string::npos && l != "+") return false;
    }
    return true;
}
bool ref_valid_name(const std::string& n) {
    return !n.empty() && n.find_first_of("+#") == std::string::npos;
}

// Reference matcher: level by level, '#' swallows the rest including the parent level, '+' one
// level; a filter starting with a wildcard never matches a name starting with '$'.
bool ref_matches(const std::string& f, const std::string& n) {
    if (!n.empty() && n[0] == '$' && (f[0] == '+' || f[0] == '#')) return false;
    const auto fl = split(f);
    const auto nl = split(n);
    for (std::size_t i = 0; i < fl.size(); ++i) {
        if (fl[i] == "#") return true; // this level and everything below, parent included
        if (i >= nl.size()) return false;
        if (fl[i] != "+" && fl[i] != nl[i]) return false;
    }
    return fl.size() == nl.size();
}

// Names: letters, '/', '$'. Filters: names with wildcards sprinkled in.
rc::Gen<std::string> gen_small_name() {
    return rc::gen::suchThat(
        rc::gen::map(rc::gen::container<std::vector<char>>(rc::gen::elementOf(std::string("ab/$"))),
                     [](const std::vector<char>& v) { return std::string(v.begin(), v.end()); }),
        [](const std::string& s) { return !s.empty() && s.size() <= 12; });
}
rc::Gen<std::string> gen_small_filter() {
    return rc::gen::suchThat(
        rc::gen::map(rc::gen::container<std::vector<char>>(
                         rc::gen::elementOf(std::string("ab/$+#+//"))),
                     [](const std::vector<char>& v) { return std::string(v.begin(), v.end()); }),
        [](const std::string& s) { return s.size() <= 12; });
}

RC_GTEST_PROP(topic_properties, validators_equal_reference_MQTT_4_7_1_2_MQTT_4_7_1_3, ()) {
    const auto f = *gen_small_filter();
    RC_ASSERT((mqttwire::validate_topic_filter(f) == mqttwire::errc::success) ==
              ref_valid_filter(f));
    RC_ASSERT((mqttwire::validate_topic_name(f) == mqttwire::errc::success) == ref_valid_name(f));
}

RC_GTEST_PROP(topic_properties, matcher_equals_reference_MQTT_4_7_2_1_MQTT5_4_7_2_1, ()) {
    const auto f = *rc::gen::suchThat(gen_small_filter(), ref_valid_filter);
    const auto n = *gen_small_name();
    RC_ASSERT(mqttwire::topic_matches(f, n) == ref_matches(f, n));
}

// Filters derived from a name by swapping levels for '+' or cutting with '#' (mostly matching).
RC_GTEST_PROP(topic_properties, derived_filters_match_MQTT_4_7_1_3, ()) {
    const auto n = *gen_small_name();
    auto levels = split(n);
    std::string f;
    const auto cut = *rc::gen::inRange<std::size_t>(0, levels.size() + 1);
    for (std::size_t i = 0; i < levels.size() && i <= cut; ++i) {
        if (i != 0) f += '/';
        if (i == cut) {
            f += '#';
            break;
        }
        f += *rc::gen::arbitrary<bool>() ? std::string("+") : levels[i];
    }
    RC_ASSERT(mqttwire::validate_topic_filter(f) == mqttwire::errc::success);
    RC_ASSERT(mqttwire::topic_matches(f, n) == ref_matches(f, n));
    if (n[0] != '$') RC_ASSERT(mqttwire::topic_matches(f, n)); // MQTT-4.7.2-1 aside, it matches
}

RC_GTEST_PROP(topic_properties, valid_name_matches_itself_MQTT_4_7_3_4, ()) {
    const auto n = *gen_small_name();
    RC_ASSERT(mqttwire::validate_topic_name(n) == mqttwire::errc::success);
    RC_ASSERT(mqttwire::validate_topic_filter(n) == mqttwire::errc::success);
    RC_ASSERT(mqttwire::topic_matches(n, n));
}

RC_GTEST_PROP(topic_properties, hash_matches_every_name_not_starting_with_dollar_MQTT_4_7_2_1,
              ()) {
    const auto n = *gen_small_name();
    RC_ASSERT(mqttwire::topic_matches("#", n) == (n[0] != '$'));
}

RC_GTEST_PROP(topic_properties, parent_hash_matches_parent_MQTT_4_7_1_2, ()) {
    const auto n = *gen_small_name();
    RC_ASSERT(mqttwire::topic_matches(n + "/#", n));
    RC_ASSERT(mqttwire::topic_matches(n + "/#", n + "/"));
    RC_ASSERT(!mqttwire::topic_matches(n + "/+", n));
}

RC_GTEST_PROP(topic_properties, levels_round_trip, ()) {
    const auto f = *gen_small_filter();
    std::string joined;
    bool first = true;
    std::size_t count = 0;
    for (auto l : mqttwire::topic_levels(f)) {
        if (!first) joined += '/';
        joined += l;
        first = false;
        ++count;
    }
    RC_ASSERT(joined == f);
    RC_ASSERT(count == split(f).size());
}

} // namespace
