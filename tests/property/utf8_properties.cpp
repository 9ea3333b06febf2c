// The run-time UTF-8 and topic validators take 8-byte ASCII fast paths; these properties check
// them against a reference written from the Unicode well-formed byte table (Unicode 15, table
// 3-7) and the topic rules of MQTT section 4.7, over strings long enough to cross 8-byte words
// at every alignment and to mix ASCII runs with multi-byte sequences, NUL, surrogates,
// overlongs and stray bytes.
//   MQTT-1.5.3-1, MQTT-1.5.3-2 / MQTT5-1.5.4-1, MQTT5-1.5.4-2: well-formed, no U+0000.
//   MQTT-4.7.1-1, MQTT-4.7.3-1 / MQTT5-4.7.0-1, MQTT5-4.7.3-1: topic names.

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <mqttwire/topic.hpp>
#include <mqttwire/utf8.hpp>

namespace {

// Table 3-7: each row is (first byte range, then second byte range, then continuation bytes).
bool reference_utf8(const std::string& s) {
    const auto* b = reinterpret_cast<const unsigned char*>(s.data());
    const std::size_t n = s.size();
    std::size_t i = 0;
    while (i < n) {
        const unsigned c = b[i];
        if (c == 0x00) return false; // U+0000 (MQTT)
        if (c < 0x80) {
            ++i;
            continue;
        }
        auto in = [&](std::size_t k, unsigned lo, unsigned hi) {
            return i + k < n && b[i + k] >= lo && b[i + k] <= hi;
        };
        if (c >= 0xC2 && c <= 0xDF) {
            if (!in(1, 0x80, 0xBF)) return false;
            i += 2;
        } else if (c == 0xE0) {
            if (!in(1, 0xA0, 0xBF) || !in(2, 0x80, 0xBF)) return false;
            i += 3;
        } else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) {
            if (!in(1, 0x80, 0xBF) || !in(2, 0x80, 0xBF)) return false;
            i += 3;
        } else if (c == 0xED) { // excludes the surrogates D800..DFFF
            if (!in(1, 0x80, 0x9F) || !in(2, 0x80, 0xBF)) return false;
            i += 3;
        } else if (c == 0xF0) {
            if (!in(1, 0x90, 0xBF) || !in(2, 0x80, 0xBF) || !in(3, 0x80, 0xBF)) return false;
            i += 4;
        } else if (c >= 0xF1 && c <= 0xF3) {
            if (!in(1, 0x80, 0xBF) || !in(2, 0x80, 0xBF) || !in(3, 0x80, 0xBF)) return false;
            i += 4;
        } else if (c == 0xF4) {
            if (!in(1, 0x80, 0x8F) || !in(2, 0x80, 0xBF) || !in(3, 0x80, 0xBF)) return false;
            i += 4;
        } else {
            return false;
        }
    }
    return true;
}

bool reference_topic_name(const std::string& s) {
    if (s.empty() || s.size() > 65535 || !reference_utf8(s)) return false;
    return s.find_first_of("+#") == std::string::npos;
}

// Pieces that exercise every branch: ASCII runs of various lengths, wildcards, separators and
// the edges of each UTF-8 row, valid and not.
rc::Gen<std::string> mixed_text() {
    static const std::vector<std::string> pieces = {
        "a", "ab", "abcdefg", "abcdefghijklmnop", "/", "+", "#", "$", std::string(1, '\0'),
        "\x7f", "\xc2\x80", "\xdf\xbf", "\xc0\x80", "\xc1\xbf", "\xe0\xa0\x80", "\xe0\x9f\xbf",
        "\xed\x9f\xbf", "\xed\xa0\x80", "\xef\xbb\xbf", "\xef\xbf\xbf", "\xf0\x90\x80\x80",
        "\xf0\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf", "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\x80",
        "\xbf", "\xc2", "\xe2\x82", "\xf0\x9f\x98", "\xff"};
    return rc::gen::map(rc::gen::container<std::vector<std::string>>(rc::gen::elementOf(pieces)),
                        [](const std::vector<std::string>& parts) {
                            std::string s;
                            for (const auto& p : parts) s += p;
                            return s;
                        });
}

RC_GTEST_PROP(utf8_fast_path, agrees_with_the_unicode_table, ()) {
    const auto s = *mixed_text();
    const bool ours = mqttwire::validate_utf8(std::string_view(s)) == mqttwire::errc::success;
    RC_ASSERT(ours == reference_utf8(s));
    // The same verdict for the byte overload, at every start offset (alignment).
    for (std::size_t off = 0; off < 8 && off <= s.size(); ++off) {
        const std::string tail = s.substr(off);
        const auto bytes = std::span<const std::byte>(
            reinterpret_cast<const std::byte*>(tail.data()), tail.size());
        RC_ASSERT((mqttwire::validate_utf8(bytes) == mqttwire::errc::success) ==
                  reference_utf8(tail));
    }
}

RC_GTEST_PROP(topic_fast_path, agrees_with_the_reference_rules, ()) {
    const auto s = *mixed_text();
    const bool ours = mqttwire::validate_topic_name(std::string_view(s)) == mqttwire::errc::success;
    RC_ASSERT(ours == reference_topic_name(s));
}

} // namespace
