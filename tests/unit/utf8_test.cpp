// UTF-8 Encoded Strings (MQTT 3.1.1 section 1.5.3, MQTT 5.0 section 1.5.4): validate_utf8 at
// every boundary of the encoding, against a reference built from the Unicode well-formed byte
// sequence table (Unicode chapter 3, table 3-7; RFC 3629 section 4), plus the SHOULD-level opt-in
// rules and the 65535-byte length limit of the writer.

#include <gtest/gtest.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "test_support.hpp"

namespace mqttwire::test {
namespace {

constexpr auto ok = errc::success;
constexpr auto bad = errc::malformed_packet;

// validate_utf8 through all three overloads, which must agree.
errc check(std::string_view s, utf8_rules rules = {}) {
    const auto a = validate_utf8(s, rules);
    const auto b = validate_utf8(
        std::span<const std::byte>(reinterpret_cast<const std::byte*>(s.data()), s.size()), rules);
    const auto c = validate_utf8(utf8_view(s), rules);
    EXPECT_EQ(a, b) << "string_view and span overloads disagree";
    EXPECT_EQ(a, c) << "string_view and utf8_view overloads disagree";
    return a;
}

errc strict_controls(std::string_view s) {
    return check(s, utf8_rules{.reject_control_characters = true});
}
errc strict_nonchars(std::string_view s) {
    return check(s, utf8_rules{.reject_noncharacters = true});
}

std::string sv(const char* s, std::size_t n) { return std::string(s, n); }

// Unicode table 3-7 "Well-Formed UTF-8 Byte Sequences", plus MQTT's ban on U+0000
// (MQTT-1.5.3-2 / MQTT5-1.5.4-2).
bool reference_valid(const std::vector<std::uint8_t>& b) {
    struct range {
        std::uint8_t lo, hi;
    };
    struct form {
        std::size_t n;
        std::array<range, 4> r;
    };
    static const form forms[] = {
        {1, {{{0x01, 0x7F}}}}, // 00 excluded: U+0000
        {2, {{{0xC2, 0xDF}, {0x80, 0xBF}}}},
        {3, {{{0xE0, 0xE0}, {0xA0, 0xBF}, {0x80, 0xBF}}}},
        {3, {{{0xE1, 0xEC}, {0x80, 0xBF}, {0x80, 0xBF}}}},
        {3, {{{0xED, 0xED}, {0x80, 0x9F}, {0x80, 0xBF}}}},
        {3, {{{0xEE, 0xEF}, {0x80, 0xBF}, {0x80, 0xBF}}}},
        {4, {{{0xF0, 0xF0}, {0x90, 0xBF}, {0x80, 0xBF}, {0x80, 0xBF}}}},
        {4, {{{0xF1, 0xF3}, {0x80, 0xBF}, {0x80, 0xBF}, {0x80, 0xBF}}}},
        {4, {{{0xF4, 0xF4}, {0x80, 0x8F}, {0x80, 0xBF}, {0x80, 0xBF}}}},
    };
    std::size_t i = 0;
    while (i < b.size()) {
        bool matched = false;
        for (const auto& f : forms) {
            if (b.size() - i < f.n) continue;
            bool all = true;
            for (std::size_t k = 0; k < f.n && all; ++k)
                all = b[i + k] >= f.r[k].lo && b[i + k] <= f.r[k].hi;
            if (all) {
                i += f.n;
                matched = true;
                break;
            }
        }
        if (!matched) return false;
    }
    return true;
}

std::string encode_code_point(std::uint32_t cp) {
    std::string s;
    auto put = [&s](std::uint32_t v) {
        s.push_back(static_cast<char>(static_cast<unsigned char>(v)));
    };
    if (cp < 0x80) {
        put(cp);
    } else if (cp < 0x800) {
        put(0xC0 | (cp >> 6));
        put(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        put(0xE0 | (cp >> 12));
        put(0x80 | ((cp >> 6) & 0x3F));
        put(0x80 | (cp & 0x3F));
    } else {
        put(0xF0 | (cp >> 18));
        put(0x80 | ((cp >> 12) & 0x3F));
        put(0x80 | ((cp >> 6) & 0x3F));
        put(0x80 | (cp & 0x3F));
    }
    return s;
}

// ---------------------------------------------------------------------------------------------
// Boundaries of each sequence length
// ---------------------------------------------------------------------------------------------

TEST(utf8, empty_string_is_valid) { EXPECT_EQ(check(""), ok); }

TEST(utf8, boundaries_of_each_length) {
    EXPECT_EQ(check("\x7f"), ok);              // U+007F, last 1-byte
    EXPECT_EQ(check("\xc2\x80"), ok);          // U+0080, first 2-byte
    EXPECT_EQ(check("\xdf\xbf"), ok);          // U+07FF, last 2-byte
    EXPECT_EQ(check("\xe0\xa0\x80"), ok);      // U+0800, first 3-byte
    EXPECT_EQ(check("\xef\xbf\xbf"), ok);      // U+FFFF, last 3-byte
    EXPECT_EQ(check("\xf0\x90\x80\x80"), ok);  // U+10000, first 4-byte
    EXPECT_EQ(check("\xf4\x8f\xbf\xbf"), ok);  // U+10FFFF, the last code point
    EXPECT_EQ(check("\xf4\x90\x80\x80"), bad); // U+110000: beyond Unicode (MQTT-1.5.3-1)
    EXPECT_EQ(check("\xf7\xbf\xbf\xbf"), bad); // U+1FFFFF
}

TEST(utf8, surrogates_are_ill_formed) {
    // MQTT-1.5.3-1 / MQTT5-1.5.4-1: no encodings of U+D800..U+DFFF.
    EXPECT_EQ(check("\xed\x9f\xbf"), ok);              // U+D7FF, just below
    EXPECT_EQ(check("\xed\xa0\x80"), bad);             // U+D800
    EXPECT_EQ(check("\xed\xaf\xbf"), bad);             // U+DBFF
    EXPECT_EQ(check("\xed\xb0\x80"), bad);             // U+DC00
    EXPECT_EQ(check("\xed\xbf\xbf"), bad);             // U+DFFF
    EXPECT_EQ(check("\xee\x80\x80"), ok);              // U+E000, just above
    EXPECT_EQ(check("\xed\xa0\xbd\xed\xb8\x80"), bad); // a surrogate pair (CESU-8) for U+1F600
    EXPECT_EQ(check("\xf0\x9f\x98\x80"), ok);          // U+1F600 correctly encoded
}

TEST(utf8, overlong_forms_are_ill_formed) {
    // MQTT-1.5.3-1 / MQTT5-1.5.4-1 (well-formed as defined by Unicode / RFC 3629).
    EXPECT_EQ(check("\xc0\x80"), bad);                 // U+0000 in 2 bytes (MQTT-1.5.3-2 too)
    EXPECT_EQ(check("\xc0\xaf"), bad);                 // '/' in 2 bytes
    EXPECT_EQ(check("\xc1\xbf"), bad);                 // U+007F in 2 bytes
    EXPECT_EQ(check("\xe0\x80\x80"), bad);             // U+0000 in 3 bytes
    EXPECT_EQ(check("\xe0\x80\xaf"), bad);             // '/' in 3 bytes
    EXPECT_EQ(check("\xe0\x9f\xbf"), bad);             // U+07FF in 3 bytes
    EXPECT_EQ(check("\xf0\x80\x80\x80"), bad);         // U+0000 in 4 bytes
    EXPECT_EQ(check("\xf0\x80\x80\xaf"), bad);         // '/' in 4 bytes
    EXPECT_EQ(check("\xf0\x8f\xbf\xbf"), bad);         // U+FFFF in 4 bytes
    EXPECT_EQ(check("\xf8\x88\x80\x80\x80"), bad);     // 5-byte form (RFC 2279, gone)
    EXPECT_EQ(check("\xfc\x84\x80\x80\x80\x80"), bad); // 6-byte form
}

TEST(utf8, truncated_sequences) {
    EXPECT_EQ(check("\xc2"), bad);
    EXPECT_EQ(check("\xe0\xa0"), bad);
    EXPECT_EQ(check("\xe2\x82"), bad);
    EXPECT_EQ(check("\xf0\x90\x80"), bad);
    EXPECT_EQ(check("\xf0\x9d\x84"), bad);
    EXPECT_EQ(check("\xc2"
                    "A"),
              bad); // a lead byte followed by ASCII
    EXPECT_EQ(check("\xe2\x82"
                    "A"),
              bad);
    EXPECT_EQ(check("a\xf0\x9d\x84"), bad); // cut at the end of a longer string
    EXPECT_EQ(check("\xf0\x9d\x84\x9e"
                    "b"),
              ok);
}

TEST(utf8, lone_continuation_bytes) {
    EXPECT_EQ(check("\x80"), bad);
    EXPECT_EQ(check("\xbf"), bad);
    EXPECT_EQ(check("\x80\x80"), bad);
    EXPECT_EQ(check("a\x80"
                    "b"),
              bad);
    EXPECT_EQ(check("\xc2\x80\x80"), bad); // one continuation too many
}

TEST(utf8, bytes_f5_to_ff_never_occur) {
    for (unsigned b = 0xF5; b <= 0xFF; ++b) {
        const char c = static_cast<char>(static_cast<unsigned char>(b));
        EXPECT_EQ(check(std::string(1, c)), bad) << b;
        EXPECT_EQ(check(std::string(1, c) + "\x80\x80\x80"), bad) << b;
        EXPECT_EQ(check("a" + std::string(1, c)), bad) << b;
    }
    EXPECT_EQ(check("\xc0"), bad);
    EXPECT_EQ(check("\xc1"), bad);
}

TEST(utf8, nul_is_rejected) {
    // MQTT-1.5.3-2 / MQTT5-1.5.4-2
    EXPECT_EQ(check(sv("\0", 1)), bad);
    EXPECT_EQ(check(sv("a\0", 2)), bad);
    EXPECT_EQ(check(sv("a\0b", 3)), bad);
    EXPECT_EQ(check(sv("\xc3\xbc\0", 3)), bad);
}

TEST(utf8, bom_is_an_ordinary_character) {
    // MQTT-1.5.3-3 / MQTT5-1.5.4-3: EF BB BF is U+FEFF wherever it appears.
    EXPECT_EQ(check("\xef\xbb\xbf"), ok);
    EXPECT_EQ(check("\xef\xbb\xbf"
                    "a/b"),
              ok);
    EXPECT_EQ(check("a\xef\xbb\xbf"
                    "b"),
              ok);
    EXPECT_EQ(check("a/b\xef\xbb\xbf"), ok);
    EXPECT_EQ(check("\xef\xbb\xbf\xef\xbb\xbf"), ok);
    EXPECT_EQ(check("\xef\xbb"), bad); // but a cut one is still ill-formed
    // Kept by the decoder: a topic starting with it decodes to exactly those bytes.
    const auto bytes = hex("30 08 00 06 ef bb bf 61 2f 62"); // 3.1.1 PUBLISH, topic BOM "a/b"
    const auto r = decode_packet(bytes, {.version = protocol_version::v3_1_1});
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(to_hex(std::get<publish_view>(r->packet).topic.bytes()), "ef bb bf 61 2f 62");
}

// ---------------------------------------------------------------------------------------------
// SHOULD-level rules: control characters and non-characters (5.0 section 1.5.4, "MAY treat it
// as a Malformed Packet"); off by default
// ---------------------------------------------------------------------------------------------

TEST(utf8, control_characters_accepted_by_default) {
    EXPECT_EQ(check("\x01"), ok);
    EXPECT_EQ(check("\t"), ok);
    EXPECT_EQ(check("\x1f"), ok);
    EXPECT_EQ(check("\x7f"), ok);
    EXPECT_EQ(check("\xc2\x80"), ok); // U+0080
    EXPECT_EQ(check("\xc2\x9f"), ok); // U+009F
}

TEST(utf8, control_characters_rejected_on_request) {
    EXPECT_EQ(strict_controls("\x01"), bad);     // U+0001
    EXPECT_EQ(strict_controls("\t"), bad);       // U+0009
    EXPECT_EQ(strict_controls("\x1f"), bad);     // U+001F
    EXPECT_EQ(strict_controls("\x7f"), bad);     // U+007F
    EXPECT_EQ(strict_controls("\xc2\x80"), bad); // U+0080
    EXPECT_EQ(strict_controls("\xc2\x9f"), bad); // U+009F
    EXPECT_EQ(strict_controls("a\x1b"
                              "b"),
              bad);
    // Neighbours stay valid.
    EXPECT_EQ(strict_controls(" "), ok);        // U+0020
    EXPECT_EQ(strict_controls("~"), ok);        // U+007E
    EXPECT_EQ(strict_controls("\xc2\xa0"), ok); // U+00A0
    EXPECT_EQ(strict_controls("salon/luz/cmd"), ok);
    // Non-characters are a separate switch.
    EXPECT_EQ(strict_controls("\xef\xbf\xbf"), ok);
}

TEST(utf8, noncharacters_accepted_by_default_rejected_on_request) {
    struct c {
        const char* s;
        bool nonchar;
        const char* what;
    };
    const c cases[] = {
        {"\xef\xb7\x8f", false, "U+FDCF"},      {"\xef\xb7\x90", true, "U+FDD0"},
        {"\xef\xb7\xaf", true, "U+FDEF"},       {"\xef\xb7\xb0", false, "U+FDF0"},
        {"\xef\xbf\xbd", false, "U+FFFD"},      {"\xef\xbf\xbe", true, "U+FFFE"},
        {"\xef\xbf\xbf", true, "U+FFFF"},       {"\xf0\x9f\xbf\xbd", false, "U+1FFFD"},
        {"\xf0\x9f\xbf\xbe", true, "U+1FFFE"},  {"\xf0\x9f\xbf\xbf", true, "U+1FFFF"},
        {"\xf3\xbf\xbf\xbf", true, "U+FFFFF"},  {"\xf4\x8f\xbf\xbe", true, "U+10FFFE"},
        {"\xf4\x8f\xbf\xbf", true, "U+10FFFF"}, {"\xef\xbb\xbf", false, "U+FEFF"},
    };
    for (const auto& x : cases) {
        EXPECT_EQ(check(x.s), ok) << x.what;
        EXPECT_EQ(strict_nonchars(x.s), x.nonchar ? bad : ok) << x.what;
    }
    // Every U+xFFFE / U+xFFFF of the 17 planes.
    for (std::uint32_t plane = 0; plane <= 0x10; ++plane) {
        for (std::uint32_t low : {0xFFFEu, 0xFFFFu}) {
            const auto s = encode_code_point(plane << 16 | low);
            EXPECT_EQ(check(s), ok) << plane;
            EXPECT_EQ(strict_nonchars(s), bad) << plane;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Exhaustive comparison with the reference
// ---------------------------------------------------------------------------------------------

TEST(utf8, every_code_point) {
    // Every scalar value except U+0000 is valid; every surrogate is not.
    std::size_t wrong = 0;
    for (std::uint32_t cp = 0; cp <= 0x10FFFF; ++cp) {
        const bool want = cp != 0 && !(cp >= 0xD800 && cp <= 0xDFFF);
        if ((check(encode_code_point(cp)) == ok) != want && ++wrong < 10)
            ADD_FAILURE() << "U+" << std::hex << cp;
    }
    EXPECT_EQ(wrong, 0u);
}

TEST(utf8, every_one_and_two_byte_string) {
    std::size_t wrong = 0;
    for (unsigned a = 0; a < 256; ++a) {
        std::vector<std::uint8_t> one{static_cast<std::uint8_t>(a)};
        std::string s1(1, static_cast<char>(static_cast<unsigned char>(a)));
        if ((validate_utf8(s1) == ok) != reference_valid(one) && ++wrong < 10)
            ADD_FAILURE() << std::hex << a;
        for (unsigned b = 0; b < 256; ++b) {
            std::vector<std::uint8_t> two{static_cast<std::uint8_t>(a),
                                          static_cast<std::uint8_t>(b)};
            std::string s2{static_cast<char>(static_cast<unsigned char>(a)),
                           static_cast<char>(static_cast<unsigned char>(b))};
            if ((validate_utf8(s2) == ok) != reference_valid(two) && ++wrong < 10)
                ADD_FAILURE() << std::hex << a << " " << b;
        }
    }
    EXPECT_EQ(wrong, 0u);
}

TEST(utf8, every_three_byte_string_with_a_lead_byte_c0_to_ff) {
    // (Leads 00..7F and 80..BF are settled by their first byte or the first two, covered above.)
    std::size_t wrong = 0;
    std::vector<std::uint8_t> three(3);
    std::string s(3, '\0');
    for (unsigned a = 0xC0; a < 256; ++a) {
        for (unsigned b = 0; b < 256; ++b) {
            for (unsigned c = 0; c < 256; ++c) {
                three = {static_cast<std::uint8_t>(a), static_cast<std::uint8_t>(b),
                         static_cast<std::uint8_t>(c)};
                s[0] = static_cast<char>(three[0]);
                s[1] = static_cast<char>(three[1]);
                s[2] = static_cast<char>(three[2]);
                if ((validate_utf8(s) == ok) != reference_valid(three) && ++wrong < 10)
                    ADD_FAILURE() << std::hex << a << " " << b << " " << c;
            }
        }
    }
    EXPECT_EQ(wrong, 0u);
}

TEST(utf8, every_four_byte_string_with_a_four_byte_lead) {
    std::size_t wrong = 0;
    std::vector<std::uint8_t> four(4);
    std::string s(4, '\0');
    for (unsigned a = 0xF0; a < 0xF8; ++a) {
        // Continuation bytes 80..BF and one byte either side.
        for (unsigned b = 0x7F; b <= 0xC0; ++b) {
            for (unsigned c = 0x7F; c <= 0xC0; ++c) {
                for (unsigned d = 0x7F; d <= 0xC0; ++d) {
                    four = {static_cast<std::uint8_t>(a), static_cast<std::uint8_t>(b),
                            static_cast<std::uint8_t>(c), static_cast<std::uint8_t>(d)};
                    for (std::size_t k = 0; k < 4; ++k) s[k] = static_cast<char>(four[k]);
                    if ((validate_utf8(s) == ok) != reference_valid(four) && ++wrong < 10)
                        ADD_FAILURE() << std::hex << a << " " << b << " " << c << " " << d;
                }
            }
        }
    }
    EXPECT_EQ(wrong, 0u);
}

TEST(utf8, usable_in_constant_expressions) {
    using namespace std::string_view_literals;
    static_assert(validate_utf8("a/b"sv) == errc::success);
    static_assert(validate_utf8("\xed\xa0\x80"sv) == errc::malformed_packet);
    static_assert(validate_utf8("\0"sv) == errc::malformed_packet);
    static_assert(validate_utf8("\xef\xbb\xbf"sv) == errc::success);
    SUCCEED();
}

// ---------------------------------------------------------------------------------------------
// Length: 65535 bytes is the longest UTF-8 Encoded String (a two-byte length prefix)
// ---------------------------------------------------------------------------------------------

std::string encode_publish(const publish_view& p, protocol_version v) {
    std::vector<std::byte> out(140'000);
    const auto n = encode(p, v, std::span<std::byte>(out));
    if (!n) return "error:" + std::string(errc_name(n.error()));
    return "ok:" + std::to_string(*n);
}

TEST(utf8_length, topic_of_65535_bytes_is_the_longest) {
    // MQTT-4.7.3-3 / MQTT5-4.7.3-3: topic names encode to at most 65535 bytes.
    const std::string longest(65535, 't');
    const std::string too_long(65536, 't');
    publish_view p;
    p.topic = std::string_view(longest);
    // 3.1.1: RL = 2 + 65535 = 65537 (3 length bytes) -> 1 + 3 + 65537.
    EXPECT_EQ(encode_publish(p, protocol_version::v3_1_1), "ok:65541");
    // 5.0: one more byte for the Property Length.
    EXPECT_EQ(encode_publish(p, protocol_version::v5), "ok:65542");
    p.topic = std::string_view(too_long);
    EXPECT_EQ(encode_publish(p, protocol_version::v3_1_1).substr(0, 6), "error:");
    EXPECT_EQ(encode_publish(p, protocol_version::v5).substr(0, 6), "error:");
}

TEST(utf8_length, string_properties_of_65535_bytes_are_the_longest) {
    // 5.0 section 1.5.4: "the maximum size of a UTF-8 Encoded String is 65,535 bytes";
    // section 1.5.6: Binary Data likewise.
    const std::string longest(65535, 'x');
    const std::string too_long(65536, 'x');
    publish_view p;
    p.topic = "a";
    {
        const property props[] = {{property_id::content_type, std::string_view(longest)}};
        p.properties = properties_view(props);
        // Properties: 1 + 2 + 65535 = 65538 (PL 3 bytes); RL = 3 + 3 + 65538 = 65544 (3 bytes).
        EXPECT_EQ(encode_publish(p, protocol_version::v5), "ok:65548");
    }
    {
        const property props[] = {{property_id::content_type, std::string_view(too_long)}};
        p.properties = properties_view(props);
        EXPECT_EQ(encode_publish(p, protocol_version::v5).substr(0, 6), "error:");
    }
    {
        const property props[] = {user_property(std::string_view(longest), "")};
        p.properties = properties_view(props);
        EXPECT_EQ(encode_publish(p, protocol_version::v5).substr(0, 3), "ok:");
    }
    {
        const property props[] = {user_property("", std::string_view(too_long))};
        p.properties = properties_view(props);
        EXPECT_EQ(encode_publish(p, protocol_version::v5).substr(0, 6), "error:");
    }
    {
        const property props[] = {{property_id::correlation_data, std::string_view(longest)}};
        p.properties = properties_view(props);
        EXPECT_EQ(encode_publish(p, protocol_version::v5).substr(0, 3), "ok:");
    }
    {
        const property props[] = {{property_id::correlation_data, std::string_view(too_long)}};
        p.properties = properties_view(props);
        EXPECT_EQ(encode_publish(p, protocol_version::v5).substr(0, 6), "error:");
    }
}

TEST(utf8_length, longest_string_decodes) {
    // A 65535-byte Content Type read back from the wire.
    std::vector<std::byte> bytes = hex("30 88 80 04 00 01 61 82 80 04 03 ff ff");
    // RL 65544 = 3 (topic "a") + 3 (PL) + 65538 (03 ff ff + 65535 bytes): 88 80 04.
    // PL 65538: 82 80 04.
    bytes.insert(bytes.end(), 65535, std::byte{'x'});
    const auto r = decode_packet(bytes, {.version = protocol_version::v5});
    ASSERT_TRUE(r.has_value()) << errc_name(r.error());
    const auto& p = std::get<publish_view>(r->packet);
    EXPECT_EQ(p.properties.find(property_id::content_type)->string.size(), 65535u);
    EXPECT_TRUE(p.payload.empty());
}

} // namespace
} // namespace mqttwire::test
