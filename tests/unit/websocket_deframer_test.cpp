// The WebSocket deframer (websocket/deframer.hpp): frames in, the byte stream of binary messages
// and the control events out, for both roles; every failure with its close code (RFC 6455
// sections 5, 7.1.7, 7.4; MQTT 3.1.1 and 5.0 section 6), every limit attacked, replies, and
// MQTT packets framed independently of WebSocket frames.

#include <gtest/gtest.h>

#include <array>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "test_support.hpp"
#include "websocket_trace.hpp"

namespace mqttwire::test::websocket_deframer_tests {
namespace {

using namespace std::string_view_literals;
using ws::close_code;
using ws::deframe_event;
using ws::opcode;

constexpr ws::deframer_options server{};
constexpr ws::deframer_options client{.local = ws::role::client};

const ws::masking_key key{std::byte{0x37}, std::byte{0xfa}, std::byte{0x21}, std::byte{0x3d}};

// A frame as `sender` sends it (masked with `key` for a client), built by the encoder.
std::vector<std::byte> frame(ws::role sender, opcode op, std::span<const std::byte> payload,
                             bool fin = true) {
    const auto h = ws::make_header(sender, op, payload.size(), key, fin);
    std::vector<std::byte> out(*ws::frame_size(h));
    EXPECT_TRUE(ws::encode_frame(h, payload, out).has_value());
    return out;
}
std::vector<std::byte> from_client(opcode op, std::string_view text, bool fin = true) {
    return frame(ws::role::client, op, std::as_bytes(std::span<const char>(text)), fin);
}
std::vector<std::byte> from_server(opcode op, std::string_view text, bool fin = true) {
    return frame(ws::role::server, op, std::as_bytes(std::span<const char>(text)), fin);
}
std::vector<std::byte> cat(std::initializer_list<std::vector<std::byte>> parts) {
    std::vector<std::byte> out;
    for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
}
std::string text(const std::vector<std::byte>& b) {
    return {reinterpret_cast<const char*>(b.data()), b.size()};
}

// Deframes `wire` whole, byte by byte, in place and through a 3-byte output; all four agree
// with each other and with the reference, and none stalls. Returns the whole-input trace.
ws_trace run(const ws::deframer_options& o, const std::vector<std::byte>& wire) {
    const auto whole = ws_deframe(o, wire);
    const std::size_t one[] = {1};
    const std::size_t odd[] = {3, 1, 7, 2};
    EXPECT_FALSE(whole.stalled);
    EXPECT_EQ(ws_deframe(o, wire, one), whole);
    EXPECT_EQ(ws_deframe(o, wire, odd), whole);
    EXPECT_EQ(ws_deframe(o, wire, odd, ws_feed::separate, 3), whole);
    EXPECT_EQ(ws_reference_deframe(o, wire), whole);
    return whole;
}

// The close code a frame sequence fails with (none when it does not fail).
close_code failure(const ws::deframer_options& o, const std::vector<std::byte>& wire) {
    const auto t = run(o, wire);
    if (t.events.empty() || t.events.back().kind != deframe_event::fail) return close_code::none;
    EXPECT_TRUE(t.ended);
    return t.events.back().code;
}

// ---------------------------------------------------------------------------------------------
// Data
// ---------------------------------------------------------------------------------------------

TEST(websocket_deframer, server_unmasks_client_binary_frames) {
    const auto t = run(server, from_client(opcode::binary, "Hello"));
    EXPECT_EQ(text(t.data), "Hello");
    EXPECT_TRUE(t.events.empty());
    EXPECT_FALSE(t.ended);
}

// The masked "Hello" bytes of RFC 6455 section 5.7, sent as binary.
TEST(websocket_deframer, rfc_6455_5_7_masked_bytes_unmask) {
    const auto t = run(server, annotated("82 85 37 fa 21 3d 7f 9f 4d 51 58"));
    EXPECT_EQ(text(t.data), "Hello");
}

TEST(websocket_deframer, client_reads_unmasked_server_frames) {
    const auto t = run(client, annotated("82 05 48 65 6c 6c 6f"));
    EXPECT_EQ(text(t.data), "Hello");
}

// RFC 6455 section 5.4: a fragmented message is one stream; control frames may interleave.
TEST(websocket_deframer, fragments_and_interleaved_ping_make_one_stream) {
    const auto wire = cat({from_client(opcode::binary, "Hel", false),
                           from_client(opcode::ping, "p1"),
                           from_client(opcode::continuation, "l", false),
                           from_client(opcode::continuation, "o", true),
                           from_client(opcode::binary, "!")});
    const auto t = run(server, wire);
    EXPECT_EQ(text(t.data), "Hello!");
    ASSERT_EQ(t.events.size(), 1u);
    EXPECT_EQ(t.events[0].kind, deframe_event::ping);
    EXPECT_EQ(text(t.events[0].payload), "p1");
}

TEST(websocket_deframer, empty_frames_carry_nothing) {
    const auto wire = cat({from_client(opcode::binary, "", false),
                           from_client(opcode::continuation, "ab", false),
                           from_client(opcode::continuation, "", true),
                           from_client(opcode::binary, "")});
    const auto t = run(server, wire);
    EXPECT_EQ(text(t.data), "ab");
    EXPECT_TRUE(t.events.empty());
}

// In place: the payloads slide over their headers in the caller's buffer.
TEST(websocket_deframer, decodes_in_place_over_the_headers) {
    auto buf = cat({from_client(opcode::binary, "abc"), from_client(opcode::binary, "defg")});
    ws::deframer d;
    const auto r = d.decode(buf, buf);
    EXPECT_EQ(r.consumed, buf.size());
    EXPECT_EQ(r.produced, 7u);
    EXPECT_EQ(r.event, deframe_event::none);
    EXPECT_EQ(text(std::vector<std::byte>(buf.begin(), buf.begin() + 7)), "abcdefg");
}

// A full output stops the call; the rest follows into the next output, key offset intact.
TEST(websocket_deframer, full_output_stops_and_resumes) {
    const auto wire = from_client(opcode::binary, "0123456789");
    ws::deframer d;
    std::array<std::byte, 4> out{};
    std::string got;
    std::size_t at = 0;
    int calls = 0;
    while (at < wire.size() && ++calls < 100) {
        const auto r = d.decode(std::span<const std::byte>(wire).subspan(at), out);
        // Either the output is full or the input is used up.
        EXPECT_TRUE(r.produced == out.size() || at + r.consumed == wire.size());
        got += text(std::vector<std::byte>(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(r.produced)));
        at += r.consumed;
    }
    EXPECT_EQ(calls, 3);
    EXPECT_EQ(got, "0123456789");
}

// Data decoded before an event comes back with it.
TEST(websocket_deframer, data_before_an_event_is_returned_with_it) {
    auto buf = cat({from_client(opcode::binary, "abc"), from_client(opcode::ping, "x"),
                    from_client(opcode::binary, "d")});
    ws::deframer d;
    const auto r = d.decode(buf, buf);
    EXPECT_EQ(r.event, deframe_event::ping);
    EXPECT_EQ(r.produced, 3u);
    EXPECT_EQ(r.consumed, 9u + 7u);
    const auto rest = d.decode(std::span<const std::byte>(buf).subspan(r.consumed),
                               std::span<std::byte>(buf).subspan(r.produced));
    EXPECT_EQ(rest.produced, 1u);
    EXPECT_EQ(text(std::vector<std::byte>(buf.begin(), buf.begin() + 4)), "abcd");
}

// The longest header (64-bit length and key) arriving one byte at a time is buffered whole.
TEST(websocket_deframer, fourteen_byte_header_split_everywhere) {
    std::vector<std::byte> payload(70000);
    for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<std::byte>(i % 251);
    const auto wire = frame(ws::role::client, opcode::binary, payload);
    ASSERT_EQ(wire.size(), 14u + payload.size());
    for (std::size_t cut = 1; cut <= 14; ++cut) {
        const std::size_t chunks[] = {cut, 14 - cut + 1, 1000};
        EXPECT_EQ(ws_deframe(server, wire, chunks).data, payload) << cut;
    }
}

// ---------------------------------------------------------------------------------------------
// Failures, each with its close code (RFC 6455 section 7.4.1)
// ---------------------------------------------------------------------------------------------

// Section 5.1: "The server MUST close the connection upon receiving a frame that is not
// masked" and the client "if it detects a masked frame".
TEST(websocket_deframer, unmasked_client_frame_fails_1002) {
    EXPECT_EQ(failure(server, from_server(opcode::binary, "abc")), close_code::protocol_error);
    EXPECT_EQ(failure(server, from_server(opcode::ping, "")), close_code::protocol_error);
    auto lenient = server;
    lenient.accept_wrong_masking = true;
    EXPECT_EQ(text(run(lenient, from_server(opcode::binary, "abc")).data), "abc");
}

TEST(websocket_deframer, masked_server_frame_fails_1002) {
    EXPECT_EQ(failure(client, from_client(opcode::binary, "abc")), close_code::protocol_error);
    auto lenient = client;
    lenient.accept_wrong_masking = true;
    EXPECT_EQ(text(run(lenient, from_client(opcode::binary, "abc")).data), "abc");
}

// Section 5.2: RSV bits without a negotiated extension.
TEST(websocket_deframer, rsv_bits_fail_1002) {
    for (const std::uint8_t bit : std::initializer_list<std::uint8_t>{0x40, 0x20, 0x10}) {
        auto f = from_client(opcode::binary, "abc");
        f[0] |= std::byte{bit};
        EXPECT_EQ(failure(server, f), close_code::protocol_error) << int{bit};
    }
}

TEST(websocket_deframer, reserved_opcodes_fail_1002) {
    for (const std::uint8_t op : std::initializer_list<std::uint8_t>{3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF}) {
        auto f = from_client(opcode::binary, "");
        f[0] = std::byte{static_cast<std::uint8_t>(0x80 | op)};
        EXPECT_EQ(failure(server, f), close_code::protocol_error) << int{op};
    }
}

// Section 5.5: control frames are never fragmented and carry at most 125 bytes. The longest
// allowed passes; one more fails from the header.
TEST(websocket_deframer, control_frame_limits_1002) {
    auto ping = from_client(opcode::ping, "x");
    ping[0] = std::byte{0x09}; // FIN 0
    EXPECT_EQ(failure(server, ping), close_code::protocol_error);
    const std::string p125(125, 'p');
    const auto t = run(server, from_client(opcode::ping, p125));
    ASSERT_EQ(t.events.size(), 1u);
    EXPECT_EQ(text(t.events[0].payload), p125);
    // Length 126 in the 7-bit field (the 16-bit form) and 126 bytes following.
    const auto big = annotated("89 fe 00 7e 00 00 00 00");
    EXPECT_EQ(failure(server, big), close_code::protocol_error);
    const auto t2 = run(server, big);
    EXPECT_EQ(ws_deframe(server, std::span<const std::byte>(big).first(2)).events.size(), 1u);
    EXPECT_TRUE(t2.ended);
}

// Section 5.4: a continuation needs a started message; a new message cannot start inside one.
TEST(websocket_deframer, continuation_without_message_fails_1002) {
    EXPECT_EQ(failure(server, from_client(opcode::continuation, "x")), close_code::protocol_error);
    // ... also after a message has ended.
    EXPECT_EQ(failure(server, cat({from_client(opcode::binary, "a"),
                                   from_client(opcode::continuation, "x")})),
              close_code::protocol_error);
}

TEST(websocket_deframer, new_data_frame_inside_fragmented_message_fails_1002) {
    EXPECT_EQ(failure(server, cat({from_client(opcode::binary, "a", false),
                                   from_client(opcode::binary, "b")})),
              close_code::protocol_error);
    auto lenient = server;
    lenient.accept_text_frames = true;
    EXPECT_EQ(failure(lenient, cat({from_client(opcode::binary, "a", false),
                                    from_client(opcode::text, "b")})),
              close_code::protocol_error);
}

TEST(websocket_deframer, sixty_four_bit_length_top_bit_fails_1002) {
    const auto f = annotated("82 ff 80 00 00 00 00 00 00 01 | 01 02 03 04");
    EXPECT_EQ(failure(server, f), close_code::protocol_error);
    auto lenient = server;
    lenient.accept_non_minimal_length = true;
    EXPECT_EQ(failure(lenient, f), close_code::protocol_error); // never accepted
}

// Section 5.2: "the minimal number of bytes MUST be used to encode the length".
TEST(websocket_deframer, non_minimal_lengths_fail_1002) {
    // 3 bytes in the 16-bit form; 200 bytes in the 64-bit form.
    auto sixteen = annotated("82 fe 00 03 | 00 00 00 00 | 61 62 63");
    std::vector<std::byte> sixty_four = annotated("82 ff 00 00 00 00 00 00 00 c8 | 00 00 00 00");
    sixty_four.resize(sixty_four.size() + 200, std::byte{0x61});
    EXPECT_EQ(failure(server, sixteen), close_code::protocol_error);
    EXPECT_EQ(failure(server, sixty_four), close_code::protocol_error);
    auto lenient = server;
    lenient.accept_non_minimal_length = true;
    EXPECT_EQ(text(run(lenient, sixteen).data), "abc");
    EXPECT_EQ(run(lenient, sixty_four).data.size(), 200u);
}

// MQTT-6.0.0-1 / MQTT5-6.0.0-1: MQTT Control Packets travel in binary frames; any other data
// frame makes the recipient close the connection (1003: a type of data it cannot accept).
TEST(websocket_deframer, text_frame_fails_1003_MQTT_6_0_0_1_MQTT5_6_0_0_1) {
    EXPECT_EQ(failure(server, from_client(opcode::text, "\x10\x0c")), close_code::unsupported_data);
    EXPECT_EQ(failure(client, from_server(opcode::text, "x")), close_code::unsupported_data);
    // The RFC 6455 section 5.7 examples are text: refused as sent, readable with the leniency.
    const auto rfc_masked = annotated("81 85 37 fa 21 3d 7f 9f 4d 51 58");
    const auto rfc_fragmented = annotated("01 03 48 65 6c | 80 02 6c 6f");
    EXPECT_EQ(failure(server, rfc_masked), close_code::unsupported_data);
    EXPECT_EQ(failure(client, rfc_fragmented), close_code::unsupported_data);
    auto lenient_server = server;
    lenient_server.accept_text_frames = true;
    auto lenient_client = client;
    lenient_client.accept_text_frames = true;
    EXPECT_EQ(text(run(lenient_server, rfc_masked).data), "Hello");
    EXPECT_EQ(text(run(lenient_client, rfc_fragmented).data), "Hello");
}

// The maximum message size counts a whole fragmented message and is checked from each header,
// before its payload arrives.
TEST(websocket_deframer, message_over_maximum_fails_1009) {
    auto o = server;
    o.max_message_size = 10;
    EXPECT_EQ(text(run(o, from_client(opcode::binary, "0123456789")).data), "0123456789");
    EXPECT_EQ(failure(o, from_client(opcode::binary, "0123456789A")), close_code::message_too_big);
    // 6 + 4 fits, 6 + 5 does not.
    EXPECT_EQ(text(run(o, cat({from_client(opcode::binary, "012345", false),
                               from_client(opcode::continuation, "6789")}))
                       .data),
              "0123456789");
    EXPECT_EQ(failure(o, cat({from_client(opcode::binary, "012345", false),
                              from_client(opcode::continuation, "6789A")})),
              close_code::message_too_big);
    // Each message counts from zero: ten messages of 10 bytes are fine.
    std::vector<std::byte> many;
    for (int i = 0; i < 10; ++i) {
        const auto f = from_client(opcode::binary, "0123456789");
        many.insert(many.end(), f.begin(), f.end());
    }
    EXPECT_EQ(run(o, many).data.size(), 100u);
    // Only the header of a 2^62-byte frame: refused at once.
    o.max_message_size = ws::deframer_options{}.max_message_size;
    const auto huge = annotated("82 ff 40 00 00 00 00 00 00 00 | 01 02 03 04");
    EXPECT_EQ(failure(o, huge), close_code::message_too_big);
}

// Section 5.5.1: a Close body is empty or starts with a 2-byte code.
TEST(websocket_deframer, close_with_one_byte_body_fails_1002) {
    EXPECT_EQ(failure(server, frame(ws::role::client, opcode::close, annotated("03"))),
              close_code::protocol_error);
}

// Section 7.4: codes below 1000, 1004-1006, 1015, 1016-2999 and from 5000 may not be sent.
TEST(websocket_deframer, close_codes_that_may_not_be_sent_fail_1002) {
    for (const std::uint16_t c : std::initializer_list<std::uint16_t>{0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000,
                                  65535}) {
        const std::array<std::byte, 2> body{static_cast<std::byte>(c >> 8),
                                            static_cast<std::byte>(c & 0xFF)};
        EXPECT_EQ(failure(server, frame(ws::role::client, opcode::close, body)),
                  close_code::protocol_error)
            << c;
    }
    for (const std::uint16_t c : std::initializer_list<std::uint16_t>{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012,
                                  1013, 1014, 3000, 4000, 4999}) {
        const std::array<std::byte, 2> body{static_cast<std::byte>(c >> 8),
                                            static_cast<std::byte>(c & 0xFF)};
        const auto t = run(server, frame(ws::role::client, opcode::close, body));
        ASSERT_EQ(t.events.size(), 1u) << c;
        EXPECT_EQ(t.events[0].kind, deframe_event::close) << c;
        EXPECT_EQ(static_cast<std::uint16_t>(t.events[0].code), c);
    }
}

// Section 8.1: the reason is UTF-8 (1007 otherwise). U+0000 is UTF-8, unlike in MQTT strings.
TEST(websocket_deframer, close_reason_not_utf8_fails_1007) {
    const auto bad = frame(ws::role::client, opcode::close, annotated("03 e8 | c3 28"));
    EXPECT_EQ(failure(server, bad), close_code::invalid_payload);
    const auto surrogate = frame(ws::role::client, opcode::close, annotated("03 e8 | ed a0 80"));
    EXPECT_EQ(failure(server, surrogate), close_code::invalid_payload);
    const auto good = frame(ws::role::client, opcode::close, annotated("03 e8 | 00 c3 a9 00"));
    const auto t = run(server, good);
    ASSERT_EQ(t.events.size(), 1u);
    EXPECT_EQ(t.events[0].kind, deframe_event::close);
    EXPECT_EQ(to_hex(t.events[0].payload), "00 c3 a9 00");
}

// A failure is found from the first two header bytes when they suffice: nothing else is read.
TEST(websocket_deframer, fails_from_two_bytes_without_waiting_for_the_rest) {
    ws::deframer d;
    const auto b = annotated("c2 ff"); // RSV1 set; a 64-bit length and a key would follow
    const auto r = d.decode(b, {});
    EXPECT_EQ(r.event, deframe_event::fail);
    EXPECT_EQ(r.code, close_code::protocol_error);
    EXPECT_EQ(r.consumed, 2u);
    EXPECT_TRUE(d.ended());
}

// ---------------------------------------------------------------------------------------------
// Control frames and replies
// ---------------------------------------------------------------------------------------------

std::vector<std::byte> reply(const ws::deframer& d, const ws::deframe_result& r,
                             ws::masking_key k = {}) {
    const auto size = d.reply_size(r);
    EXPECT_TRUE(size.has_value());
    std::vector<std::byte> out(*size + 1, std::byte{0xA5});
    const auto n = d.write_reply(r, out, k);
    EXPECT_TRUE(n.has_value());
    EXPECT_EQ(*n, *size);
    EXPECT_EQ(out.back(), std::byte{0xA5});
    if (*size > 0) {
        std::vector<std::byte> small(*size - 1, std::byte{0x5A});
        EXPECT_EQ(d.write_reply(r, small, k).error(), errc::buffer_too_small);
        for (const auto b : small) EXPECT_EQ(b, std::byte{0x5A});
    }
    out.pop_back();
    return out;
}

// Section 5.5.2: a Pong answers a Ping with the same payload.
TEST(websocket_deframer, ping_is_answered_with_pong_carrying_its_payload) {
    ws::deframer d;
    auto wire = from_client(opcode::ping, "Hello");
    const auto r = d.decode(wire, wire);
    ASSERT_EQ(r.event, deframe_event::ping);
    EXPECT_EQ(text({r.payload.begin(), r.payload.end()}), "Hello");
    // RFC 6455 section 5.7: an unmasked Ping with "Hello" is the server's form of the answer.
    EXPECT_EQ(to_hex(reply(d, r)), bytes_of("8a 05 48 65 6c 6c 6f"));
    // A client answers masked: the masked Pong of section 5.7.
    ws::deframer c(client);
    auto ping = annotated("89 05 48 65 6c 6c 6f");
    const auto rc = c.decode(ping, ping);
    ASSERT_EQ(rc.event, deframe_event::ping);
    EXPECT_EQ(to_hex(reply(c, rc, key)), bytes_of("8a 85 37 fa 21 3d 7f 9f 4d 51 58"));
}

TEST(websocket_deframer, pong_is_reported_and_needs_no_answer) {
    ws::deframer d;
    auto wire = from_client(opcode::pong, "");
    const auto r = d.decode(wire, wire);
    EXPECT_EQ(r.event, deframe_event::pong);
    EXPECT_TRUE(r.payload.empty());
    EXPECT_TRUE(reply(d, r).empty());
}

// Section 5.5.1: a received Close is echoed with its code, and the stream ends there.
TEST(websocket_deframer, close_is_echoed_and_ends_the_stream) {
    const auto wire = cat({from_client(opcode::binary, "ab"),
                           frame(ws::role::client, opcode::close, annotated("03 e9 | 62 79 65")),
                           from_client(opcode::binary, "ignored"), annotated("ff ff ff")});
    const auto t = run(server, wire);
    EXPECT_EQ(text(t.data), "ab");
    ASSERT_EQ(t.events.size(), 1u);
    EXPECT_EQ(t.events[0].kind, deframe_event::close);
    EXPECT_EQ(t.events[0].code, close_code::going_away);
    EXPECT_EQ(text(t.events[0].payload), "bye");
    EXPECT_TRUE(t.ended);

    ws::deframer d;
    auto close = frame(ws::role::client, opcode::close, annotated("03 e9 | 62 79 65"));
    const auto r = d.decode(close, close);
    EXPECT_EQ(to_hex(reply(d, r)), bytes_of("88 02 03 e9")); // the code, no reason
    // Afterwards everything is discarded, with no event.
    auto more = from_client(opcode::ping, "x");
    const auto after = d.decode(more, more);
    EXPECT_EQ(after.event, deframe_event::none);
    EXPECT_EQ(after.consumed, more.size());
    EXPECT_EQ(after.produced, 0u);
}

TEST(websocket_deframer, empty_close_reports_1005_and_is_echoed_empty) {
    ws::deframer d;
    auto close = from_client(opcode::close, "");
    const auto r = d.decode(close, close);
    ASSERT_EQ(r.event, deframe_event::close);
    EXPECT_EQ(r.code, close_code::no_status_received);
    EXPECT_EQ(to_hex(reply(d, r)), "88 00");
}

// After this end sent its Close, the peer's Close is the answer: no echo.
TEST(websocket_deframer, no_echo_after_our_close) {
    ws::deframer d;
    d.note_close_sent();
    auto close = frame(ws::role::client, opcode::close, annotated("03 e8"));
    const auto r = d.decode(close, close);
    ASSERT_EQ(r.event, deframe_event::close);
    EXPECT_TRUE(reply(d, r).empty());
}

// Section 7.1.7: failing the connection sends a Close with the code first.
TEST(websocket_deframer, failure_reply_is_a_close_with_the_code) {
    ws::deframer d;
    auto text_frame = from_client(opcode::text, "x");
    const auto r = d.decode(text_frame, text_frame);
    ASSERT_EQ(r.event, deframe_event::fail);
    EXPECT_EQ(to_hex(reply(d, r)), bytes_of("88 02 03 eb")); // 1003
    ws::deframer c(client);
    auto masked = from_client(opcode::binary, "x");
    const auto rc = c.decode(masked, masked);
    ASSERT_EQ(rc.event, deframe_event::fail);
    // 1002 = 03 ea, masked with 37 fa.
    EXPECT_EQ(to_hex(reply(c, rc, key)), bytes_of("88 82 37 fa 21 3d 34 10"));
    // Nothing follows a failure.
    const auto after = d.decode(masked, masked);
    EXPECT_EQ(after.event, deframe_event::none);
    EXPECT_EQ(after.produced, 0u);
}

// Every reply a server writes is a frame a strict client deframer accepts, and the reverse.
TEST(websocket_deframer, replies_reparse_at_the_peer) {
    const std::pair<ws::deframer_options, std::vector<std::byte>> cases[] = {
        {server, from_client(opcode::ping, "abc")},
        {server, frame(ws::role::client, opcode::close, annotated("0f a0"))},
        {server, from_client(opcode::text, "")},
        {client, from_server(opcode::ping, std::string(125, 'z'))},
        {client, from_server(opcode::close, "")},
        {client, from_client(opcode::binary, "")},
    };
    for (const auto& [o, wire] : cases) {
        ws::deframer d(o);
        auto buf = wire;
        const auto r = d.decode(buf, buf);
        ASSERT_NE(r.event, deframe_event::none);
        const auto answer = reply(d, r, key);
        ws::deframer_options peer{.local = o.local == ws::role::server ? ws::role::client
                                                                      : ws::role::server};
        const auto t = ws_deframe(peer, answer);
        ASSERT_EQ(t.events.size(), 1u);
        EXPECT_NE(t.events[0].kind, deframe_event::fail);
        if (r.event == deframe_event::ping) {
            EXPECT_EQ(t.events[0].kind, deframe_event::pong);
            EXPECT_EQ(t.events[0].payload, std::vector<std::byte>(r.payload.begin(), r.payload.end()));
        } else {
            EXPECT_EQ(t.events[0].kind, deframe_event::close);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// MQTT over the stream
// ---------------------------------------------------------------------------------------------

// MQTT-6.0.0-2 / MQTT5-6.0.0-2: a frame may hold part of a packet or several packets; the
// receiver frames packets from the stream, not from WebSocket frames.
TEST(websocket_deframer, mqtt_packets_span_and_share_frames_MQTT_6_0_0_2_MQTT5_6_0_0_2) {
    const auto connect = annotated(R"(
        10 10                   # CONNECT, remaining length 16
        00 04 4d 51 54 54 04    # "MQTT", level 4
        02 00 3c                # clean session, keep alive 60
        00 04 64 65 76 31       # client identifier "dev1"
    )");
    const auto publish = annotated("30 11 | 00 0d 73 61 6c 6f 6e 2f 6c 75 7a 2f 63 6d 64 | 4f 4e");
    const auto pingreq = annotated("c0 00");
    const auto stream = cat({connect, publish, pingreq, pingreq});
    // Frames cut inside CONNECT's fixed header, inside its body and at its end; then the
    // PUBLISH and a PINGREQ share a frame, and the last PINGREQ is split in two frames.
    const std::size_t cuts[] = {0, 1, 9, 18, 39, 40, 41};
    ASSERT_EQ(stream.size(), 41u);
    std::vector<std::byte> wire;
    for (std::size_t c = 0; c + 1 < std::size(cuts); ++c) {
        const auto part = std::span<const std::byte>(stream).subspan(cuts[c], cuts[c + 1] - cuts[c]);
        const auto f = frame(ws::role::client, c == 0 ? opcode::binary : opcode::continuation, part,
                             c + 2 == std::size(cuts));
        wire.insert(wire.end(), f.begin(), f.end());
    }
    const auto t = run(server, wire);
    ASSERT_EQ(t.data, stream);
    std::vector<std::size_t> sizes;
    std::span<const std::byte> rest(t.data);
    while (!rest.empty()) {
        const auto f = next_frame(rest);
        ASSERT_EQ(f.status, errc::success);
        sizes.push_back(f.size);
        rest = rest.subspan(f.size);
    }
    EXPECT_EQ(sizes, (std::vector<std::size_t>{connect.size(), publish.size(), 2, 2}));
    const auto p = decode_packet(std::span<const std::byte>(t.data).subspan(connect.size(), publish.size()),
                                 {.version = protocol_version::v3_1_1});
    ASSERT_TRUE(p.has_value());
    EXPECT_EQ(std::get<publish_view>(p->packet).topic, "salon/luz/cmd");
}

} // namespace
} // namespace mqttwire::test::websocket_deframer_tests
