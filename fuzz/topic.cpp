// Fuzz target: topic name / filter validation and matching, differential against a reference
// written from the spec text (section 4.7) and against libmosquitto 2.0
// (mosquitto_pub_topic_check, mosquitto_sub_topic_check, mosquitto_topic_matches_sub).
//
// Input: byte 0 = length of the filter (modulo the rest), then the filter, then the name.
//
// Checks:
//   * validate_topic_name / validate_topic_filter == the reference validators (every input);
//     the std::string_view and utf8_view overloads agree;
//   * for valid pairs, topic_matches == the reference matcher == mosquitto_topic_matches_sub;
//   * validation against libmosquitto, with the known, justified differences of
//     tests/unit/topic_mosquitto_diff_test.cpp: mosquitto's checks accept the empty string
//     (MQTT-4.7.3-1 says a topic has at least one character) and do not check UTF-8 (a topic is a
//     UTF-8 Encoded String, MQTT-1.5.3-1): we are only ever stricter, and only for those two
//     reasons; with utf8_rules{true, true} we agree exactly with
//     check && !empty && mosquitto_validate_utf8. Strings holding U+0000 cannot be passed to the
//     C functions (NUL-terminated) and are compared with the reference only;
//   * parse_shared_subscription: a parsed ShareName is non-empty and free of '/', '+', '#', and
//     the inner filter is valid (MQTT5-4.8.2-1, MQTT5-4.8.2-2).

#include <string>
#include <string_view>
#include <vector>

#include "fuzz_support.hpp"

#if defined(MQTTWIRE_HAVE_LIBMOSQUITTO)
#include <mosquitto.h>
#endif

namespace {
using namespace mqttwire;

std::vector<std::string_view> levels(std::string_view s) {
    std::vector<std::string_view> out;
    std::size_t pos = 0;
    while (true) {
        const auto e = s.find('/', pos);
        out.push_back(s.substr(pos, e == std::string_view::npos ? std::string_view::npos : e - pos));
        if (e == std::string_view::npos) return out;
        pos = e + 1;
    }
}

bool text_ok(std::string_view s) {
    // MQTT-4.7.3-1 (non-empty), MQTT-4.7.3-3 (65535 bytes), MQTT-1.5.3-1/-2 (UTF-8, no U+0000).
    return !s.empty() && s.size() <= 65535 && validate_utf8(s) == errc::success;
}

// MQTT-4.7.1-1 / MQTT5-4.7.0-1: no wildcard in a name.
bool reference_name_ok(std::string_view s) {
    return text_ok(s) && s.find_first_of("+#") == std::string_view::npos;
}

// MQTT-4.7.1-2 ('#' alone and last), MQTT-4.7.1-3 ('+' fills its level).
bool reference_filter_ok(std::string_view s) {
    if (!text_ok(s)) return false;
    const auto ls = levels(s);
    for (std::size_t i = 0; i < ls.size(); ++i) {
        const auto l = ls[i];
        if (l.find('#') != std::string_view::npos && (l != "#" || i + 1 != ls.size())) return false;
        if (l.find('+') != std::string_view::npos && l != "+") return false;
    }
    return true;
}

// Section 4.7.1 and MQTT-4.7.2-1: level by level; '#' matches the parent and any descendants;
// wildcards at the first level do not match names starting with '$'.
bool reference_matches(std::string_view filter, std::string_view name) {
    if (!name.empty() && name[0] == '$' && !filter.empty() && (filter[0] == '+' || filter[0] == '#'))
        return false;
    const auto f = levels(filter);
    const auto n = levels(name);
    std::size_t i = 0;
    for (; i < f.size(); ++i) {
        if (f[i] == "#") return true;
        if (i >= n.size()) return false;
        if (f[i] != "+" && f[i] != n[i]) return false;
    }
    return i == n.size();
}

#if defined(MQTTWIRE_HAVE_LIBMOSQUITTO)
bool mosq_utf8_ok(const std::string& s) {
    std::string padded = s;
    padded.append(3, '\0'); // see utf8_mosquitto.cpp: mosquitto may read past a truncated sequence
    return mosquitto_validate_utf8(padded.data(), static_cast<int>(s.size())) == MOSQ_ERR_SUCCESS;
}

void compare_validation(const std::string& s, bool ours, bool ours_strict, int theirs_rc) {
    const bool theirs = theirs_rc == MOSQ_ERR_SUCCESS;
    if (ours != theirs) {
        MQTTWIRE_FUZZ_CHECK(!ours && theirs);                       // only ever stricter
        MQTTWIRE_FUZZ_CHECK(s.empty() || validate_utf8(s) != errc::success); // and justified
    }
    const bool theirs_strict = theirs && !s.empty() && mosq_utf8_ok(s);
    MQTTWIRE_FUZZ_CHECK(ours_strict == theirs_strict);
}
#endif
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::size_t rest = size - 1;
    const std::size_t flen = rest == 0 ? 0 : data[0] % (rest + 1);
    const std::string filter(reinterpret_cast<const char*>(data + 1), flen);
    const std::string name(reinterpret_cast<const char*>(data + 1 + flen), rest - flen);

    const bool name_ok = validate_topic_name(name) == errc::success;
    const bool filter_ok = validate_topic_filter(filter) == errc::success;
    MQTTWIRE_FUZZ_CHECK(name_ok == reference_name_ok(name));
    MQTTWIRE_FUZZ_CHECK(filter_ok == reference_filter_ok(filter));
    MQTTWIRE_FUZZ_CHECK((validate_topic_name(utf8_view(std::string_view(name))) == errc::success) == name_ok);
    MQTTWIRE_FUZZ_CHECK((validate_topic_filter(utf8_view(std::string_view(filter))) == errc::success) ==
                        filter_ok);
    // A valid name is also a valid filter (it matches itself).
    if (name_ok) {
        MQTTWIRE_FUZZ_CHECK(validate_topic_filter(name) == errc::success);
        MQTTWIRE_FUZZ_CHECK(topic_matches(name, name));
    }
    const utf8_rules strict{true, true};
    const bool name_strict = validate_topic_name(name, strict) == errc::success;
    const bool filter_strict = validate_topic_filter(filter, strict) == errc::success;
    MQTTWIRE_FUZZ_CHECK(!name_strict || name_ok);
    MQTTWIRE_FUZZ_CHECK(!filter_strict || filter_ok);

    if (name_ok && filter_ok) {
        const bool ours = topic_matches(filter, name);
        MQTTWIRE_FUZZ_CHECK(ours == reference_matches(filter, name));
        MQTTWIRE_FUZZ_CHECK(topic_matches(utf8_view(std::string_view(filter)),
                                          utf8_view(std::string_view(name))) == ours);
#if defined(MQTTWIRE_HAVE_LIBMOSQUITTO)
        if (filter.find('\0') == std::string::npos && name.find('\0') == std::string::npos) {
            bool theirs = false;
            MQTTWIRE_FUZZ_CHECK(mosquitto_topic_matches_sub(filter.c_str(), name.c_str(), &theirs) ==
                                MOSQ_ERR_SUCCESS);
            MQTTWIRE_FUZZ_CHECK(ours == theirs);
        }
#endif
    }

    shared_subscription sh{};
    if (parse_shared_subscription(filter, sh) == errc::success) {
        MQTTWIRE_FUZZ_CHECK(is_shared_subscription(filter));
        MQTTWIRE_FUZZ_CHECK(!sh.share_name.empty());
        MQTTWIRE_FUZZ_CHECK(sh.share_name.find_first_of("/+#") == std::string_view::npos);
        MQTTWIRE_FUZZ_CHECK(validate_topic_filter(sh.filter) == errc::success);
        MQTTWIRE_FUZZ_CHECK(filter == "$share/" + std::string(sh.share_name) + "/" + std::string(sh.filter));
    }

#if defined(MQTTWIRE_HAVE_LIBMOSQUITTO)
    if (name.find('\0') == std::string::npos && name.size() <= 65536)
        compare_validation(name, name_ok, name_strict, mosquitto_pub_topic_check(name.c_str()));
    if (filter.find('\0') == std::string::npos && filter.size() <= 65536)
        compare_validation(filter, filter_ok, filter_strict, mosquitto_sub_topic_check(filter.c_str()));
#endif
    return 0;
}
