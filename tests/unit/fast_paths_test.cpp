// The run-time fast paths of fast builds agree with the rules they stand for: the first-byte
// table (check_first_byte, MQTT-2.2.2-1, MQTT-2.2.2-2, MQTT5-2.1.3-1), the word-at-a-time Topic
// Name scan (both forms) at every length and position around its vector and word boundaries
// (MQTT-4.7.1-1, MQTT-4.7.3-1, MQTT-4.7.3-2, MQTT-1.5.3-1 and 5.0 twins), and the inline
// property-block check of the PUBLISH decoder (MQTT 5.0 section 2.2.2.2, MQTT5-3.3.2-8,
// MQTT5-3.3.2-14).

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace mqttwire::test::fast_path_tests {
namespace {

using namespace std::string_view_literals;

// MQTT-2.2.2-2 / MQTT5-2.1.3-1: the table and the type-by-type rules give the same answer for
// every first byte at every level, an unknown level (treated as 3.1.1) included.
TEST(fast_paths, first_byte_table_matches_the_rules_MQTT5_2_1_3_1) {
    for (const unsigned level : {3u, 4u, 5u, 0u, 9u}) {
        const auto v = static_cast<protocol_version>(level);
        for (unsigned b = 0; b < 256; ++b) {
            const auto byte = static_cast<std::uint8_t>(b);
            EXPECT_EQ(check_first_byte(byte, v), detail::first_byte_rules(byte, v))
                << "level " << level << " byte " << b;
        }
    }
}

bool plain_by_bytes(std::span<const std::byte> s) {
    for (const auto b : s)
        if (!detail::is_plain_topic_byte(static_cast<std::uint8_t>(b))) return false;
    return !s.empty();
}

// MQTT-4.7.3-2 (U+0000), MQTT-4.7.1-1 (wildcards in a Topic Name), MQTT-1.5.3-1 (non-ASCII
// takes the full validator): one refused byte at any position of a topic of any length up to 70
// bytes is seen, across the 8- and 16-byte steps and the overlapping last word or vector.
TEST(fast_paths, plain_topic_scan_every_length_and_position_MQTT_4_7_3_2) {
    for (std::size_t n = 0; n <= 70; ++n) {
        std::vector<std::byte> t(n, std::byte{'a'});
        EXPECT_EQ(detail::is_plain_topic(t), n != 0) << n;
        EXPECT_EQ(detail::is_plain_topic<true>(t), n != 0) << n;
        for (std::size_t at = 0; at < n; ++at) {
            for (const unsigned bad : {0x00u, 0x2Bu, 0x23u, 0x80u, 0xFFu, 0x7Fu, 0x2Fu}) {
                auto u = t;
                u[at] = static_cast<std::byte>(bad);
                EXPECT_EQ(detail::is_plain_topic(u), plain_by_bytes(u))
                    << "length " << n << " at " << at << " byte " << bad;
                EXPECT_EQ(detail::is_plain_topic<true>(u), plain_by_bytes(u))
                    << "vector halves, length " << n << " at " << at << " byte " << bad;
            }
        }
    }
}

// A 5.0 PUBLISH (topic "a/b", QoS 0) with the property block `props`, through decode_packet.
errc publish_v5_with(std::string_view props) {
    const auto block = hex(props);
    std::vector<std::byte> b = hex("30 00 00 03 61 2f 62");
    b.push_back(static_cast<std::byte>(block.size()));
    b.insert(b.end(), block.begin(), block.end());
    b.push_back(std::byte{'x'});
    b[1] = static_cast<std::byte>(b.size() - 2);
    const auto r = decode_packet(b, {.version = protocol_version::v5});
    return r ? errc::success : r.error();
}

// Section 2.2.2.2 and table 2-4: the inline check of the PUBLISH decoder refuses what the shared
// one refuses.
TEST(fast_paths, publish_property_block_rules_MQTT5_3_3_2_8) {
    EXPECT_EQ(publish_v5_with("02 00 00 0e 10"), errc::success); // Message Expiry
    EXPECT_EQ(publish_v5_with("02 00 00 0e 10 02 00 00 00 01"), errc::protocol_error); // twice
    EXPECT_EQ(publish_v5_with("0b 01 0b 02"), errc::success);  // Subscription Identifier twice
    EXPECT_EQ(publish_v5_with("0b 00"), errc::protocol_error); // Subscription Identifier 0
    EXPECT_EQ(publish_v5_with("11 00 00 00 01"), errc::malformed_packet); // Session Expiry
    EXPECT_EQ(publish_v5_with("00"), errc::malformed_packet);             // no such identifier
    EXPECT_EQ(publish_v5_with("23 00 00"), errc::topic_alias_invalid);    // Topic Alias 0
    EXPECT_EQ(publish_v5_with("23 00 05"), errc::success);
    EXPECT_EQ(publish_v5_with("01 02"), errc::protocol_error); // Payload Format Indicator 2
    EXPECT_EQ(publish_v5_with("08 00 03 61 2f 23"), errc::protocol_error); // Response Topic a/#
    EXPECT_EQ(publish_v5_with("08 00 03 61 2f 62"), errc::success);
    EXPECT_EQ(publish_v5_with("26 00 01 6b 00 01 76 26 00 01 6b 00 01 76"), errc::success);
    EXPECT_EQ(publish_v5_with("26 00 01 6b 00 01 00"), errc::malformed_packet);    // U+0000
    EXPECT_EQ(publish_v5_with("26 00 02 c0 80 00 01 76"), errc::malformed_packet); // overlong
    EXPECT_EQ(publish_v5_with("26 00 08 73 6f 75 72 63 65 2d ed 00 01 76"),
              errc::malformed_packet); // truncated sequence at the end of an 8-byte key
    EXPECT_EQ(publish_v5_with("02 00 00 0e"), errc::malformed_packet); // truncated integer
    EXPECT_EQ(publish_v5_with("26 00 05 6b"), errc::malformed_packet); // string past the block
}

} // namespace
} // namespace mqttwire::test::fast_path_tests
