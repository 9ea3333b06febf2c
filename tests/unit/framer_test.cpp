// The framer: where the next packet of a byte stream ends, before anything is decoded or
// buffered (framer.hpp). The Remaining Length is a Variable Byte Integer of at most four bytes
// (MQTT 3.1.1 section 2.2.3, MQTT 5.0 section 1.5.5) in its shortest form (MQTT5-1.5.5-1); a
// receiver's Maximum Packet Size counts every byte of the packet, fixed header included
// (MQTT 5.0 section 3.1.2.11.4), and is enforced as soon as the length is known.

#include <gtest/gtest.h>

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace mqttwire::test::framer_tests {
namespace {

using namespace std::string_view_literals;

std::string_view status(const frame& f) { return errc_name(f.status); }

// ---------------------------------------------------------------------------------------------
// One packet
// ---------------------------------------------------------------------------------------------

TEST(framer, empty_buffer_needs_more) {
    const auto f = next_frame({}, max_packet_size_limit);
    EXPECT_EQ(status(f), "incomplete"sv);
    EXPECT_EQ(f.size, 0u);
}

// Before the Remaining Length is complete the size is unknown: incomplete with size 0.
TEST(framer, header_incomplete_size_unknown) {
    for (const auto* text : {"82", "30 80", "30 ff ff", "30 80 80 80"}) {
        const auto b = hex(text);
        const auto f = next_frame(b, max_packet_size_limit);
        EXPECT_EQ(status(f), "incomplete"sv) << text;
        EXPECT_EQ(f.size, 0u) << text;
    }
}

// Once the header is readable, an incomplete packet reports the whole packet's size.
TEST(framer, header_complete_body_missing_reports_exact_size) {
    // SUBSCRIBE 3.1.1: 82 06 | 00 0a 00 01 61 00 -> 8 bytes.
    const auto all = hex("82 06 00 0a 00 01 61 00");
    for (std::size_t n = 2; n < all.size(); ++n) {
        const auto f = next_frame(std::span<const std::byte>(all).first(n), max_packet_size_limit);
        EXPECT_EQ(status(f), "incomplete"sv) << n;
        EXPECT_EQ(f.size, 8u) << n;
        EXPECT_EQ(f.header_size, 2u) << n;
    }
    const auto f = next_frame(all, max_packet_size_limit);
    EXPECT_EQ(status(f), "success"sv);
    EXPECT_EQ(f.size, 8u);
    EXPECT_EQ(f.header_size, 2u);
}

TEST(framer, bytes_after_the_packet_are_not_its_own) {
    const auto b = hex("c0 00 d0 00 82");
    const auto f = next_frame(b, max_packet_size_limit);
    EXPECT_EQ(status(f), "success"sv);
    EXPECT_EQ(f.size, 2u);
    EXPECT_EQ(f.header_size, 2u);
}

// Remaining Length at every width boundary (MQTT 5.0 section 1.5.5 table 1-1): header size and
// packet size, with no body buffered yet.
TEST(framer, remaining_length_widths) {
    struct row {
        const char* header;
        std::size_t header_size;
        std::size_t remaining;
    };
    for (const auto& r : {row{"30 00", 2, 0}, row{"30 7f", 2, 127}, row{"30 80 01", 3, 128},
                          row{"30 ff 7f", 3, 16'383}, row{"30 80 80 01", 4, 16'384},
                          row{"30 ff ff 7f", 4, 2'097'151}, row{"30 80 80 80 01", 5, 2'097'152},
                          row{"30 ff ff ff 7f", 5, 268'435'455}}) {
        const auto b = hex(r.header);
        const auto f = next_frame(b, max_packet_size_limit);
        EXPECT_EQ(status(f), r.remaining == 0 ? "success"sv : "incomplete"sv) << r.header;
        EXPECT_EQ(f.header_size, r.header_size) << r.header;
        EXPECT_EQ(f.size, r.header_size + r.remaining) << r.header;
    }
}

// The largest packet MQTT can express: 268,435,455 bytes of Remaining Length behind a 5-byte
// fixed header, which is exactly max_packet_size_limit.
TEST(framer, maximum_remaining_length) {
    EXPECT_EQ(max_packet_size_limit, 268'435'460u);
    const auto b = hex("30 ff ff ff 7f");
    const auto f = next_frame(b, max_packet_size_limit);
    EXPECT_EQ(status(f), "incomplete"sv);
    EXPECT_EQ(f.size, 268'435'460u);
    EXPECT_EQ(f.header_size, 5u);
    EXPECT_EQ(status(next_frame(b)), "incomplete"sv) << "the default limit is the protocol's";
    EXPECT_EQ(status(next_frame(b, 268'435'459u)), "packet_too_large"sv);
}

// ---------------------------------------------------------------------------------------------
// Malformed lengths
// ---------------------------------------------------------------------------------------------

// Four length bytes all with the continuation bit: a fifth would follow, which the Variable Byte
// Integer does not allow (at most four bytes).
TEST(framer, fifth_length_byte_is_malformed) {
    for (const auto* text :
         {"30 80 80 80 80", "30 ff ff ff ff", "30 80 80 80 80 01", "82 ff ff ff ff 7f 00 0a"}) {
        const auto b = hex(text);
        EXPECT_EQ(status(next_frame(b, max_packet_size_limit)), "malformed_packet"sv) << text;
    }
}

// MQTT5-1.5.5-1: the encoded value uses the fewest bytes (applied to every level).
TEST(framer, non_minimal_length_is_malformed_MQTT5_1_5_5_1) {
    for (const auto* text :
         {"c0 80 00", "30 80 00", "30 ff 80 00", "30 80 80 00", "30 80 80 80 00", "30 81 80 00"}) {
        const auto b = hex(text);
        EXPECT_EQ(status(next_frame(b, max_packet_size_limit)), "malformed_packet"sv) << text;
    }
    // The minimal forms next to them are fine.
    const auto ok = hex("30 80 01");
    EXPECT_EQ(status(next_frame(ok, max_packet_size_limit)), "incomplete"sv);
}

// ---------------------------------------------------------------------------------------------
// Maximum Packet Size
// ---------------------------------------------------------------------------------------------

// Refused from the header alone: nothing of the body needs to be buffered.
TEST(framer, too_large_as_soon_as_the_header_is_readable) {
    const auto header = hex("30 ff ff 03"); // PUBLISH, remaining length 65535: 65539 bytes
    EXPECT_EQ(status(next_frame(header, 1000)), "packet_too_large"sv);
    EXPECT_EQ(status(next_frame(header, 65'538)), "packet_too_large"sv);
    const auto at_limit = next_frame(header, 65'539);
    EXPECT_EQ(status(at_limit), "incomplete"sv);
    EXPECT_EQ(at_limit.size, 65'539u);
    // While the length is still incomplete, nothing is known yet.
    const auto partial = hex("30 ff ff");
    EXPECT_EQ(status(next_frame(partial, 1000)), "incomplete"sv);
}

// The limit counts the whole packet, fixed header included (MQTT 5.0 section 3.1.2.11.4).
TEST(framer, limit_counts_the_fixed_header) {
    const auto b = hex("82 06 00 0a 00 01 61 00"); // 8 bytes
    const auto f = next_frame(b, 8);
    EXPECT_EQ(status(f), "success"sv);
    EXPECT_EQ(f.size, 8u);
    EXPECT_EQ(status(next_frame(b, 7)), "packet_too_large"sv);
    EXPECT_EQ(status(next_frame(std::span<const std::byte>(b).first(2), 7)), "packet_too_large"sv);
    const auto ping = hex("c0 00");
    EXPECT_EQ(status(next_frame(ping, 2)), "success"sv);
    EXPECT_EQ(status(next_frame(ping, 1)), "packet_too_large"sv);
}

TEST(framer, framer_object_applies_its_limit) {
    const framer f{8};
    EXPECT_EQ(f.max_packet_size(), 8u);
    const auto b = hex("82 06 00 0a 00 01 61 00 c0 00");
    const auto first = f.next(b);
    EXPECT_EQ(status(first), "success"sv);
    EXPECT_EQ(first.size, 8u);
    const auto big = hex("82 07 00 0a 00 01 61 00 00");
    EXPECT_EQ(status(f.next(big)), "packet_too_large"sv);
    const framer unlimited;
    EXPECT_EQ(unlimited.max_packet_size(), max_packet_size_limit);
    EXPECT_EQ(status(unlimited.next(big)), "success"sv);
}

// ---------------------------------------------------------------------------------------------
// Streams
// ---------------------------------------------------------------------------------------------

// Five packets, hand-encoded (MQTT 3.1.1); the PUBLISH has a two-byte Remaining Length so that
// splits fall inside a multi-byte header too.
std::vector<std::vector<std::byte>> stream_packets() {
    std::string publish = "30 82 01 00 01 74"; // PUBLISH QoS 0, remaining length 130, topic "t"
    for (int i = 0; i < 127; ++i) publish += " 78"; // 127 bytes of payload "x"
    return {
        hex("c0 00"),                   // PINGREQ
        hex("82 06 00 0a 00 01 61 01"), // SUBSCRIBE id 10, "a" QoS 1
        hex(publish),                   // PUBLISH "t", 127 bytes
        hex("90 03 00 0a 01"),          // SUBACK id 10, granted QoS 1
        hex("b0 02 00 0b"),             // UNSUBACK id 11
    };
}

std::vector<std::byte> concat(const std::vector<std::vector<std::byte>>& packets) {
    std::vector<std::byte> out;
    for (const auto& p : packets) out.insert(out.end(), p.begin(), p.end());
    return out;
}

// A receiver: appends each chunk to its buffer, takes every complete frame out of it, and
// checks that an incomplete frame with a known size names the size of the packet that comes
// out next.
std::vector<std::vector<std::byte>> receive(std::span<const std::byte> stream,
                                            const std::vector<std::size_t>& cuts) {
    const framer f;
    std::vector<std::byte> buffer;
    std::vector<std::vector<std::byte>> out;
    std::size_t announced = 0;
    std::size_t pos = 0;
    auto feed = [&](std::size_t end) {
        buffer.insert(buffer.end(), stream.begin() + static_cast<std::ptrdiff_t>(pos),
                      stream.begin() + static_cast<std::ptrdiff_t>(end));
        pos = end;
        while (true) {
            const auto fr = f.next(buffer);
            if (fr.status == errc::incomplete) {
                if (fr.size != 0) {
                    EXPECT_GT(fr.size, buffer.size());
                    if (announced != 0) {
                        EXPECT_EQ(fr.size, announced) << "size changed";
                    }
                    announced = fr.size;
                }
                return;
            }
            if (fr.status != errc::success) {
                ADD_FAILURE() << "framer: " << errc_name(fr.status);
                buffer.clear();
                return;
            }
            if (announced != 0) {
                EXPECT_EQ(fr.size, announced);
            }
            announced = 0;
            const auto n = static_cast<std::ptrdiff_t>(fr.size);
            out.emplace_back(buffer.begin(), buffer.begin() + n);
            buffer.erase(buffer.begin(), buffer.begin() + n);
        }
    };
    for (const auto c : cuts) feed(c);
    feed(stream.size());
    EXPECT_TRUE(buffer.empty()) << buffer.size() << " bytes left over";
    return out;
}

// Several packets back to back in one buffer: walk them with next_frame.
TEST(framer, walks_packets_back_to_back) {
    const auto packets = stream_packets();
    const auto stream = concat(packets);
    std::span<const std::byte> rest(stream);
    std::size_t i = 0;
    while (!rest.empty()) {
        const auto f = next_frame(rest, max_packet_size_limit);
        ASSERT_EQ(status(f), "success"sv) << "packet " << i;
        ASSERT_LT(i, packets.size());
        EXPECT_EQ(f.size, packets[i].size()) << "packet " << i;
        EXPECT_EQ(to_hex(rest.first(f.size)), to_hex(packets[i]));
        // Each frame is one whole packet for the decoder too.
        const auto d = decode_packet(rest.first(f.size), {.version = protocol_version::v3_1_1});
        ASSERT_TRUE(d.has_value()) << errc_name(d.error());
        EXPECT_EQ(d->size, f.size);
        rest = rest.subspan(f.size);
        ++i;
    }
    EXPECT_EQ(i, packets.size());
    EXPECT_EQ(packets[2].size(), 133u) << "3-byte header + 130";
}

TEST(framer, stream_in_one_chunk) {
    const auto packets = stream_packets();
    const auto stream = concat(packets);
    EXPECT_EQ(receive(stream, {}), packets);
}

// Split at every possible point: the same packets come out.
TEST(framer, stream_split_at_every_point) {
    const auto packets = stream_packets();
    const auto stream = concat(packets);
    for (std::size_t i = 0; i <= stream.size(); ++i) EXPECT_EQ(receive(stream, {i}), packets) << i;
}

// Split at every pair of points (the grind of Boost.Beast's parser tests).
TEST(framer, stream_split_at_every_pair_of_points) {
    const auto packets = stream_packets();
    const auto stream = concat(packets);
    for (std::size_t i = 0; i <= stream.size(); ++i)
        for (std::size_t j = i; j <= stream.size(); ++j)
            ASSERT_EQ(receive(stream, {i, j}), packets) << i << ", " << j;
}

TEST(framer, stream_byte_by_byte) {
    const auto packets = stream_packets();
    const auto stream = concat(packets);
    std::vector<std::size_t> cuts;
    for (std::size_t i = 1; i < stream.size(); ++i) cuts.push_back(i);
    EXPECT_EQ(receive(stream, cuts), packets);
}

// Packets produced by the encoder frame the same way.
TEST(framer, stream_of_encoded_packets) {
    subscription subs[] = {{"salon/+/cmd", {.max_qos = qos::at_least_once}}};
    subscribe_view sub{};
    sub.packet_id = 1;
    sub.subscriptions = subs;
    reason_code rcs[] = {reason_code::granted_qos_1};
    suback_view ack{};
    ack.packet_id = 1;
    ack.reasons = rcs;
    utf8_view fs[] = {"salon/+/cmd"};
    unsubscribe_view unsub{};
    unsub.packet_id = 2;
    unsub.filters = fs;
    unsuback_view unack{};
    unack.packet_id = 2;
    reason_code ucs[] = {reason_code::success};
    unack.reasons = ucs;

    std::vector<std::vector<std::byte>> packets;
    const auto add = [&](const packet_view& p) {
        const auto size = encoded_size(p, protocol_version::v5);
        ASSERT_TRUE(size.has_value());
        std::vector<std::byte> out(*size);
        ASSERT_TRUE(encode(p, protocol_version::v5, out).has_value());
        packets.push_back(out);
    };
    add(sub);
    add(ack);
    add(pingreq_view{});
    add(unsub);
    add(unack);
    const auto stream = concat(packets);
    for (std::size_t i = 0; i <= stream.size(); ++i) EXPECT_EQ(receive(stream, {i}), packets) << i;
    std::vector<std::size_t> cuts;
    for (std::size_t i = 1; i < stream.size(); ++i) cuts.push_back(i);
    EXPECT_EQ(receive(stream, cuts), packets);
}

// A malformed length in the middle of a stream is reported at that packet, not before.
TEST(framer, malformed_length_after_good_packets) {
    const auto stream = hex("c0 00 c0 80 00");
    std::span<const std::byte> rest(stream);
    const auto first = next_frame(rest, max_packet_size_limit);
    EXPECT_EQ(status(first), "success"sv);
    rest = rest.subspan(first.size);
    EXPECT_EQ(status(next_frame(rest, max_packet_size_limit)), "malformed_packet"sv);
}

} // namespace
} // namespace mqttwire::test::framer_tests
