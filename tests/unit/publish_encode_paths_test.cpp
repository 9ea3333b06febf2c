// PUBLISH without properties has its own encoder in fast builds (detail::encode_plain_publish):
// the size is a sum and the fields are stored directly. With encode options it is checked and
// measured by `fit`, then stored by detail::encode_fitted without its checks running again.
// These tests hold both to the general encoder (measure with the counting writer, then write with
// the span writer), which every other packet uses: same bytes, same size, same error, nothing
// written on failure or past the packet. Both share the copy and scan helpers, so the lengths
// around the plain encoder's inline copies are also held to bytes built field by field.

#include <gtest/gtest.h>

#include <array>
#include <cstddef>
#include <initializer_list>
#include <mqttwire.hpp>
#include <string>
#include <vector>

namespace {

using namespace mqttwire;

// The general encoder, as encode_into runs it for every other packet type.
result<std::size_t> general_encode(const publish_view& p, protocol_version v,
                                   std::span<std::byte> out) {
    const detail::encode_ctx<full_profile> c{v, {}, peer_role::unknown};
    const auto body = detail::measure_body(p, c);
    if (!body) return body;
    const std::size_t total = 1 + varint_size(static_cast<std::uint32_t>(*body)) + *body;
    if (out.size() < total) return errc::buffer_too_small;
    detail::span_sink sink{out.first(total)};
    detail::writer<detail::span_sink> w(sink);
    w.u8(detail::first_byte_of(p));
    w.varint(static_cast<std::uint32_t>(*body));
    if (const auto e = detail::encode_body(w, p, c); e != errc::success) return e;
    return sink.count;
}

struct outcome {
    errc error = errc::success;
    std::vector<std::byte> bytes;
};

enum class path { plain, fitted, general };

outcome run(const publish_view& p, protocol_version v, std::size_t room, path how) {
    std::vector<std::byte> out(room, std::byte{0xEE});
    const auto r = how == path::general ? general_encode(p, v, out)
                   : how == path::plain ? encode(p, v, out)
                                        : encode(p, v, out, encode_options{});
    outcome o;
    if (!r) {
        o.error = r.error();
        // A refused encode writes nothing.
        for (const auto b : out) EXPECT_EQ(b, std::byte{0xEE});
        return o;
    }
    o.bytes.assign(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(*r));
    // Nothing is written past the packet.
    for (std::size_t i = *r; i < out.size(); ++i) EXPECT_EQ(out[i], std::byte{0xEE}) << i;
    return o;
}

void expect_same(const publish_view& p, const std::string& what) {
    for (const auto v : {protocol_version::v3_1, protocol_version::v3_1_1, protocol_version::v5,
                         static_cast<protocol_version>(7)}) {
        const auto need = encoded_size(p, v);
        const std::size_t room = need ? *need : 64;
        for (const std::size_t r : {room, room > 0 ? room - 1 : 0, room + 3}) {
            const auto slow = run(p, v, r, path::general);
            for (const auto how : {path::plain, path::fitted}) {
                const auto fast = run(p, v, r, how);
                const char* name = how == path::plain ? "plain" : "fitted";
                EXPECT_EQ(fast.error, slow.error)
                    << what << ", " << name << ", level " << static_cast<int>(v) << ", room " << r
                    << ": " << errc_name(fast.error) << " vs " << errc_name(slow.error);
                EXPECT_EQ(fast.bytes, slow.bytes)
                    << what << ", " << name << ", level " << static_cast<int>(v);
                if (need && r >= room) {
                    EXPECT_EQ(fast.error, errc::success) << what << ", " << name;
                    EXPECT_EQ(fast.bytes.size(), *need) << what << ", " << name;
                }
            }
        }
    }
}

TEST(publish_encode_paths, agree_on_every_flag_and_length_boundary) {
    // Payload lengths that move the Remaining Length across its 1-, 2- and 3-byte forms
    // (127/128 and 16,383/16,384 bytes of body, MQTT-2.2.3 / MQTT5-1.5.5).
    std::vector<std::byte> big(20000, std::byte{'x'});
    const std::string long_topic(300, 't');
    int cases = 0;
    for (const char* topic :
         {"a", "home/livingroom/tmp", "sensors/\xC3\xA9t\xC3\xA9/temp", long_topic.c_str(), ""}) {
        for (const std::size_t n :
             std::initializer_list<std::size_t>{0, 1, 64, 120, 121, 122, 123, 124, 125, 126, 127,
                                                128, 16370, 16380, 16384, 20000}) {
            for (int q = 0; q <= 3; ++q) {
                for (int flags = 0; flags < 4; ++flags) {
                    publish_view p;
                    p.topic = topic;
                    p.payload = binary_view(std::span<const std::byte>(big).first(n));
                    p.qos = static_cast<qos>(q);
                    p.dup = (flags & 1) != 0;
                    p.retain = (flags & 2) != 0;
                    p.packet_id = static_cast<std::uint16_t>(flags == 3 ? 0 : 0x1234 + n);
                    expect_same(p, std::string("topic '") + topic + "', payload " +
                                       std::to_string(n) + ", qos " + std::to_string(q) +
                                       ", flags " + std::to_string(flags));
                    ++cases;
                }
            }
        }
    }
    EXPECT_EQ(cases, 5 * 16 * 4 * 4);
}

// The bytes of a PUBLISH without properties, built field by field (MQTT-3.3.1, 3.3.2, 3.3.3;
// 5.0: Property Length 0): a model that shares no code with either encoder.
std::vector<std::byte> publish_bytes(const publish_view& p, bool v5) {
    std::vector<std::byte> body;
    const auto put = [&](unsigned v) { body.push_back(static_cast<std::byte>(v)); };
    const std::string_view topic = p.topic.as_string_view();
    put(static_cast<unsigned>(topic.size() >> 8));
    put(static_cast<unsigned>(topic.size() & 0xFF));
    for (const char ch : topic) put(static_cast<unsigned char>(ch));
    if (p.qos != qos::at_most_once) {
        put(p.packet_id >> 8u);
        put(p.packet_id & 0xFFu);
    }
    if (v5) put(0);
    for (const auto b : p.payload.bytes()) body.push_back(b);
    std::vector<std::byte> out{static_cast<std::byte>(
        0x30u | (p.dup ? 8u : 0u) | static_cast<unsigned>(p.qos) << 1 | (p.retain ? 1u : 0u))};
    for (std::size_t n = body.size();; n >>= 7) {
        out.push_back(static_cast<std::byte>(n > 0x7F ? (n & 0x7F) | 0x80 : n));
        if (n <= 0x7F) break;
    }
    out.insert(out.end(), body.begin(), body.end());
    return out;
}

TEST(publish_encode_paths, agree_on_every_topic_and_payload_length_of_the_inline_copies) {
    // The plain encoder copies topics of up to 64 bytes and payloads of up to 64 inline, in 16-,
    // 8- and 4-byte chunks and a byte loop, and checks topics of 8 to 15 bytes as two 8-byte
    // halves of one vector: every length from 0 to 70 on either side, with a wildcard
    // (MQTT-3.3.2-2) or a byte that is not ASCII at the last position, where the overlapping
    // chunks end.
    std::vector<std::byte> body(200);
    for (std::size_t i = 0; i < body.size(); ++i) body[i] = static_cast<std::byte>(i * 7 + 1);
    const auto publish = [&](const std::string& topic, std::size_t payload, qos q) {
        publish_view p;
        p.topic = utf8_view(std::string_view(topic));
        p.payload = binary_view(std::span<const std::byte>(body).first(payload));
        p.qos = q;
        p.packet_id = q == qos::at_most_once ? 0 : 0x0102;
        return p;
    };
    for (std::size_t n = 0; n <= 70; ++n) {
        std::string topic;
        for (std::size_t i = 0; i < n; ++i)
            topic += static_cast<char>(i % 5 == 4 ? '/' : 'a' + i % 26);
        for (const std::size_t payload :
             {std::size_t{0}, std::size_t{3}, std::size_t{64}, std::size_t{65}, std::size_t{200}}) {
            const auto p = publish(topic, payload, qos::at_least_once);
            const auto what =
                "topic of " + std::to_string(n) + " bytes, payload " + std::to_string(payload);
            expect_same(p, what);
            if (n == 0) continue;
            for (const auto v : {protocol_version::v3_1_1, protocol_version::v5})
                EXPECT_EQ(run(p, v, 300, path::plain).bytes,
                          publish_bytes(p, v == protocol_version::v5))
                    << what;
        }
        if (n == 0) continue;
        for (const char last : {'+', '#', '\xC3'}) {
            std::string bad = topic;
            bad.back() = last;
            expect_same(publish(bad, 1, qos::at_most_once),
                        "topic of " + std::to_string(n) + " bytes ending in " +
                            std::to_string(static_cast<unsigned char>(last)));
        }
    }
    for (std::size_t payload = 0; payload <= 70; ++payload) {
        for (const std::string topic : {"t", "home/livingroom/tmp"}) {
            const auto p = publish(topic, payload, qos::at_most_once);
            const auto what = "payload of " + std::to_string(payload) + " bytes, topic " + topic;
            expect_same(p, what);
            EXPECT_EQ(run(p, protocol_version::v3_1_1, 300, path::plain).bytes,
                      publish_bytes(p, false))
                << what;
        }
    }
}

TEST(publish_encode_paths, agree_across_the_four_byte_remaining_length) {
    // A body of 2,097,151 bytes is the last with a three-byte Remaining Length and 2,097,152 the
    // first with four (MQTT-2.2.3, MQTT5-1.5.5); the fitted path derives the length from the
    // total size, so both sides of the boundary are checked byte for byte.
    const std::string topic = "t";
    const std::size_t fixed = 2 + topic.size() + 2; // Topic Name and Packet Identifier
    std::vector<std::byte> big(2097152 - fixed + 1, std::byte{'p'});
    for (const std::size_t body : {std::size_t{2097151}, std::size_t{2097152}}) {
        publish_view p;
        p.topic = utf8_view(std::string_view(topic));
        p.qos = qos::at_least_once;
        p.packet_id = 7;
        p.payload = binary_view(std::span<const std::byte>(big).first(body - fixed));
        const auto size = encoded_size(p, protocol_version::v3_1_1);
        ASSERT_TRUE(size);
        EXPECT_EQ(*size, 1 + (body < 2097152 ? 3u : 4u) + body);
        expect_same(p, "body of " + std::to_string(body) + " bytes");
    }
}

TEST(publish_encode_paths, agree_on_refused_topics_MQTT_3_3_2_2_MQTT_4_7_3_1) {
    // Wildcards (MQTT-3.3.2-2), ill-formed UTF-8 (MQTT-1.5.3-1), U+0000 (MQTT-1.5.3-2), and a
    // topic past 65,535 bytes (MQTT-1.5.3 length field).
    const std::string too_long(65536, 'a');
    const char bad_utf8[] = {'a', '/', static_cast<char>(0xC3), static_cast<char>(0x28), 0};
    const std::string with_nul("a\0b", 3);
    for (const std::string& t :
         {std::string("a/+/b"), std::string("#"), std::string(bad_utf8), with_nul, too_long}) {
        publish_view p;
        p.topic = utf8_view(std::string_view(t));
        p.payload = "x";
        expect_same(p, "refused topic of " + std::to_string(t.size()) + " bytes");
    }
}

TEST(publish_encode_paths, five_point_oh_with_properties_takes_the_general_encoder) {
    // The fast encoder only sees PUBLISHes without properties; with properties both entry
    // points give the general encoder's bytes (Property Length then the block, MQTT5 3.3.2.3).
    const property props[] = {{property_id::message_expiry_interval, 60}, user_property("k", "v")};
    publish_view p;
    p.topic = "a/b";
    p.payload = "on";
    p.qos = qos::at_least_once;
    p.packet_id = 9;
    p.properties = props;
    const auto fast = run(p, protocol_version::v5, 64, path::plain);
    const auto fitted = run(p, protocol_version::v5, 64, path::fitted);
    const auto slow = run(p, protocol_version::v5, 64, path::general);
    ASSERT_EQ(fast.error, errc::success);
    EXPECT_EQ(fast.bytes, slow.bytes);
    EXPECT_EQ(fitted.bytes, slow.bytes);
    // 0x32 and a one-byte Remaining Length of 22: topic "a/b" (5), packet id (2), Property
    // Length (1), Message Expiry Interval (5), User Property "k" "v" (7), payload "on" (2).
    EXPECT_EQ(fast.bytes.size(), 2u + 22u);
}

} // namespace
