// WebSocket frames (RFC 6455 section 5): the header codec, masking, the whole-frame and Close
// encoders, and the SHA-1 and base64 the opening handshake is built on.

#include <gtest/gtest.h>

#include <array>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "test_support.hpp"

namespace mqttwire::test::websocket_frame_tests {
namespace {

using namespace std::string_view_literals;
using ws::frame_header;
using ws::opcode;

std::string hex_of(std::span<const std::byte> b) { return to_hex(b); }

std::string sha1_hex(std::string_view text) {
    detail::sha1 h;
    h.update(text);
    const auto d = h.finish();
    return to_hex(d);
}

std::string base64(std::string_view text) {
    std::string out(detail::base64_encoded_size(text.size()), '?');
    detail::base64_encode(std::as_bytes(std::span<const char>(text)), std::span<char>(out));
    return out;
}

// Encodes `h` into a buffer one byte larger than needed, checks the guard byte, and returns the
// bytes (or "error: <errc>").
std::string encode_header(const frame_header& h) {
    std::vector<std::byte> out(ws::max_frame_header_size + 1, std::byte{0xA5});
    const auto n = ws::encode_frame_header(h, out);
    if (!n) return failed(n.error());
    EXPECT_EQ(*n, ws::header_size(h));
    for (std::size_t i = *n; i < out.size(); ++i) EXPECT_EQ(out[i], std::byte{0xA5}) << i;
    return to_hex(std::span<const std::byte>(out).first(*n));
}

// ---------------------------------------------------------------------------------------------
// SHA-1: FIPS 180-2 appendix A and RFC 3174 section 7.3 test vectors
// ---------------------------------------------------------------------------------------------

TEST(websocket_sha1, fips_180_one_block) {
    EXPECT_EQ(sha1_hex("abc"), bytes_of("a9 99 3e 36 47 06 81 6a ba 3e 25 71 78 50 c2 6c 9c d0 d8 9d"));
}

TEST(websocket_sha1, fips_180_two_blocks) {
    EXPECT_EQ(sha1_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
              bytes_of("84 98 3e 44 1c 3b d2 6e ba ae 4a a1 f9 51 29 e5 e5 46 70 f1"));
}

TEST(websocket_sha1, fips_180_million_a) {
    const std::string a(1'000'000, 'a');
    EXPECT_EQ(sha1_hex(a), bytes_of("34 aa 97 3c d4 c4 da a4 f6 1e eb 2b db ad 27 31 65 34 01 6f"));
}

TEST(websocket_sha1, rfc_3174_test4_and_empty) {
    std::string t4;
    for (int i = 0; i < 10; ++i) t4 += "0123456701234567012345670123456701234567012345670123456701234567";
    EXPECT_EQ(sha1_hex(t4), bytes_of("de a3 56 a2 cd dd 90 c7 a7 ec ed c5 eb b5 63 93 4f 46 04 52"));
    EXPECT_EQ(sha1_hex(""), bytes_of("da 39 a3 ee 5e 6b 4b 0d 32 55 bf ef 95 60 18 90 af d8 07 09"));
}

// Message lengths around the padding boundary (55, 56, 63, 64 bytes) agree whether fed at once
// or in pieces.
TEST(websocket_sha1, pieces_equal_whole_around_block_edges) {
    for (std::size_t n : {55u, 56u, 57u, 63u, 64u, 65u, 119u, 120u}) {
        const std::string text(n, 'x');
        detail::sha1 pieces;
        for (std::size_t i = 0; i < n; i += 7) pieces.update(std::string_view(text).substr(i, 7));
        EXPECT_EQ(to_hex(pieces.finish()), sha1_hex(text)) << n;
    }
}

// ---------------------------------------------------------------------------------------------
// base64: RFC 4648 section 10 test vectors, and the strict decoder behind key validation
// ---------------------------------------------------------------------------------------------

TEST(websocket_base64, rfc_4648_vectors) {
    EXPECT_EQ(base64(""), "");
    EXPECT_EQ(base64("f"), "Zg==");
    EXPECT_EQ(base64("fo"), "Zm8=");
    EXPECT_EQ(base64("foo"), "Zm9v");
    EXPECT_EQ(base64("foob"), "Zm9vYg==");
    EXPECT_EQ(base64("fooba"), "Zm9vYmE=");
    EXPECT_EQ(base64("foobar"), "Zm9vYmFy");
}

TEST(websocket_base64, decode_exact_refuses_non_canonical_forms) {
    std::array<std::byte, 3> three{};
    std::array<std::byte, 1> one{};
    std::array<std::byte, 2> two{};
    EXPECT_EQ(detail::base64_decode_exact("Zm9v", three), 3);
    EXPECT_EQ(to_hex(three), "66 6f 6f");
    EXPECT_EQ(detail::base64_decode_exact("Zg==", one), 1);
    EXPECT_EQ(detail::base64_decode_exact("Zm8=", two), 2);
    EXPECT_EQ(detail::base64_decode_exact("Zh==", one), -1); // bits under the padding
    EXPECT_EQ(detail::base64_decode_exact("Zm9=", two), -1); // bits under the padding
    EXPECT_EQ(detail::base64_decode_exact("Zg=", one), -1);  // short
    EXPECT_EQ(detail::base64_decode_exact("Z===", one), -1); // padding too early
    EXPECT_EQ(detail::base64_decode_exact("Zg=a", one), -1); // data after padding
    EXPECT_EQ(detail::base64_decode_exact("Zm-v", three), -1); // outside the alphabet
    EXPECT_EQ(detail::base64_decode_exact("Zm9v", two), -1);  // three bytes, two expected
}

// ---------------------------------------------------------------------------------------------
// Header decoding: RFC 6455 section 5.7 examples
// ---------------------------------------------------------------------------------------------

TEST(websocket_frame, rfc_6455_5_7_unmasked_text_hello) {
    const auto b = annotated(R"(
        81            # FIN, opcode 1 (text)
        05            # MASK 0, length 5
        48 65 6c 6c 6f # "Hello"
    )");
    const auto h = ws::decode_frame_header(b);
    ASSERT_TRUE(h.has_value());
    EXPECT_TRUE(h->fin);
    EXPECT_EQ(h->rsv, 0);
    EXPECT_EQ(h->op, opcode::text);
    EXPECT_FALSE(h->masked);
    EXPECT_EQ(h->payload_length, 5u);
    EXPECT_EQ(ws::header_size(*h), 2u);
}

TEST(websocket_frame, rfc_6455_5_7_masked_text_hello) {
    const auto b = annotated(R"(
        81             # FIN, opcode 1 (text)
        85             # MASK 1, length 5
        37 fa 21 3d    # masking key
        7f 9f 4d 51 58 # "Hello" masked
    )");
    const auto h = ws::decode_frame_header(b);
    ASSERT_TRUE(h.has_value());
    EXPECT_TRUE(h->masked);
    EXPECT_EQ(to_hex(h->key), "37 fa 21 3d");
    EXPECT_EQ(ws::header_size(*h), 6u);
    auto payload = std::vector<std::byte>(b.begin() + 6, b.end());
    ws::apply_mask(payload, h->key);
    EXPECT_EQ(to_hex(payload), bytes_of("48 65 6c 6c 6f"));
}

TEST(websocket_frame, rfc_6455_5_7_fragmented_text) {
    const auto first = ws::decode_frame_header(annotated("01 03 48 65 6c")); // FIN 0, text, "Hel"
    const auto last = ws::decode_frame_header(annotated("80 02 6c 6f"));     // FIN 1, cont., "lo"
    ASSERT_TRUE(first.has_value() && last.has_value());
    EXPECT_FALSE(first->fin);
    EXPECT_EQ(first->op, opcode::text);
    EXPECT_TRUE(last->fin);
    EXPECT_EQ(last->op, opcode::continuation);
    EXPECT_EQ(last->payload_length, 2u);
}

TEST(websocket_frame, rfc_6455_5_7_ping_and_masked_pong) {
    const auto ping = ws::decode_frame_header(annotated("89 05 48 65 6c 6c 6f"));
    const auto pong = ws::decode_frame_header(annotated("8a 85 37 fa 21 3d 7f 9f 4d 51 58"));
    ASSERT_TRUE(ping.has_value() && pong.has_value());
    EXPECT_EQ(ping->op, opcode::ping);
    EXPECT_TRUE(ws::is_control(ping->op));
    EXPECT_EQ(pong->op, opcode::pong);
    EXPECT_TRUE(pong->masked);
}

TEST(websocket_frame, rfc_6455_5_7_binary_256_and_64k_lengths) {
    const auto h256 = ws::decode_frame_header(annotated("82 7e 01 00")); // 16-bit length 256
    const auto h64k = ws::decode_frame_header(annotated("82 7f 00 00 00 00 00 01 00 00"));
    ASSERT_TRUE(h256.has_value() && h64k.has_value());
    EXPECT_EQ(h256->payload_length, 256u);
    EXPECT_EQ(ws::header_size(*h256), 4u);
    EXPECT_EQ(h64k->payload_length, 65536u);
    EXPECT_EQ(ws::header_size(*h64k), 10u);
}

TEST(websocket_frame, every_prefix_of_a_header_is_incomplete) {
    const auto b = annotated("82 ff 00 00 00 00 00 01 00 00 | 01 02 03 04"); // 64-bit, masked
    for (std::size_t n = 0; n < b.size(); ++n)
        EXPECT_EQ(ws::decode_frame_header(std::span<const std::byte>(b).first(n)).error(),
                  errc::incomplete)
            << n;
    const auto h = ws::decode_frame_header(b);
    ASSERT_TRUE(h.has_value());
    EXPECT_EQ(ws::header_size(*h), ws::max_frame_header_size);
}

// RFC 6455 section 5.2: "the minimal number of bytes MUST be used to encode the length".
TEST(websocket_frame, non_minimal_lengths_are_malformed) {
    EXPECT_EQ(ws::decode_frame_header(annotated("82 7e 00 7d")).error(), errc::malformed_packet);
    EXPECT_EQ(ws::decode_frame_header(annotated("82 7e 00 00")).error(), errc::malformed_packet);
    EXPECT_EQ(ws::decode_frame_header(annotated("82 7f 00 00 00 00 00 00 ff ff")).error(),
              errc::malformed_packet);
    // The smallest value of each form is fine.
    EXPECT_TRUE(ws::decode_frame_header(annotated("82 7e 00 7e")).has_value());
    EXPECT_TRUE(ws::decode_frame_header(annotated("82 7f 00 00 00 00 00 01 00 00")).has_value());
}

// "the most significant bit MUST be 0"
TEST(websocket_frame, sixty_four_bit_length_with_top_bit_is_malformed) {
    EXPECT_EQ(ws::decode_frame_header(annotated("82 7f 80 00 00 00 00 00 00 00")).error(),
              errc::malformed_packet);
    const auto max = ws::decode_frame_header(annotated("82 7f 7f ff ff ff ff ff ff ff"));
    ASSERT_TRUE(max.has_value());
    EXPECT_EQ(max->payload_length, ws::max_payload_length);
}

TEST(websocket_frame, rsv_bits_and_opcodes_are_reported_as_read) {
    const auto h = ws::decode_frame_header(annotated("f3 00")); // FIN, RSV1-3, opcode 3
    ASSERT_TRUE(h.has_value());
    EXPECT_EQ(h->rsv, 7);
    EXPECT_EQ(static_cast<int>(h->op), 3);
    EXPECT_FALSE(ws::is_defined(h->op));
    EXPECT_TRUE(ws::is_control(static_cast<opcode>(0xB)));
    EXPECT_FALSE(ws::is_defined(static_cast<opcode>(0xB)));
}

// ---------------------------------------------------------------------------------------------
// Header encoding
// ---------------------------------------------------------------------------------------------

TEST(websocket_frame, encode_header_uses_the_shortest_length_form) {
    const auto server = [](std::uint64_t n) {
        return encode_header(ws::make_header(ws::role::server, opcode::binary, n));
    };
    EXPECT_EQ(server(0), "82 00");
    EXPECT_EQ(server(125), "82 7d");
    EXPECT_EQ(server(126), "82 7e 00 7e");
    EXPECT_EQ(server(65535), "82 7e ff ff");
    EXPECT_EQ(server(65536), "82 7f 00 00 00 00 00 01 00 00");
    EXPECT_EQ(server(ws::max_payload_length), "82 7f 7f ff ff ff ff ff ff ff");
}

TEST(websocket_frame, encode_header_client_carries_mask_and_key) {
    const ws::masking_key key{std::byte{0x37}, std::byte{0xfa}, std::byte{0x21}, std::byte{0x3d}};
    EXPECT_EQ(encode_header(ws::make_header(ws::role::client, opcode::binary, 5, key)),
              "82 85 37 fa 21 3d");
    EXPECT_EQ(encode_header(ws::make_header(ws::role::client, opcode::binary, 70000, key, false)),
              "02 ff 00 00 00 00 00 01 11 70 37 fa 21 3d");
    // A server header never carries a key, whatever is passed.
    EXPECT_EQ(encode_header(ws::make_header(ws::role::server, opcode::ping, 0, key)), "89 00");
}

TEST(websocket_frame, encode_header_refuses_what_a_strict_receiver_refuses) {
    auto h = ws::make_header(ws::role::server, opcode::binary, 1);
    h.rsv = 4;
    EXPECT_EQ(encode_header(h), failed(errc::invalid_argument));
    EXPECT_EQ(encode_header(ws::make_header(ws::role::server, static_cast<opcode>(3), 1)),
              failed(errc::invalid_argument));
    EXPECT_EQ(encode_header(ws::make_header(ws::role::server, opcode::ping, 126)),
              failed(errc::invalid_argument));
    EXPECT_EQ(encode_header(ws::make_header(ws::role::server, opcode::ping, 125)), "89 7d");
    EXPECT_EQ(encode_header(ws::make_header(ws::role::server, opcode::close, 0, {}, false)),
              failed(errc::invalid_argument));
    EXPECT_EQ(encode_header(ws::make_header(ws::role::server, opcode::binary,
                                            ws::max_payload_length + 1)),
              failed(errc::invalid_argument));
}

TEST(websocket_frame, encode_header_buffer_too_small_writes_nothing) {
    const auto h = ws::make_header(ws::role::client, opcode::binary, 300, {});
    for (std::size_t n = 0; n < ws::header_size(h); ++n) {
        std::vector<std::byte> out(n, std::byte{0x5A});
        EXPECT_EQ(ws::encode_frame_header(h, out).error(), errc::buffer_too_small) << n;
        for (const auto b : out) EXPECT_EQ(b, std::byte{0x5A});
    }
}

TEST(websocket_frame, encode_then_decode_gives_the_header_back) {
    const ws::masking_key key{std::byte{1}, std::byte{2}, std::byte{3}, std::byte{4}};
    for (const auto role : {ws::role::server, ws::role::client})
        for (const auto op : {opcode::continuation, opcode::binary, opcode::text, opcode::ping})
            for (const std::uint64_t n : {0ull, 1ull, 125ull, 126ull, 65535ull, 65536ull}) {
                if (ws::is_control(op) && n > 125) continue;
                const auto h = ws::make_header(role, op, n, key, n % 2 == 0);
                if (ws::is_control(op) && !h.fin) continue;
                std::array<std::byte, ws::max_frame_header_size> out{};
                const auto w = ws::encode_frame_header(h, out);
                ASSERT_TRUE(w.has_value());
                const auto d = ws::decode_frame_header(std::span<const std::byte>(out).first(*w));
                ASSERT_TRUE(d.has_value());
                EXPECT_EQ(*d, h);
            }
}

// ---------------------------------------------------------------------------------------------
// Whole frames, masking, Close frames
// ---------------------------------------------------------------------------------------------

// The client's masked "Hello" of RFC 6455 section 5.7, built by the encoder.
TEST(websocket_frame, encode_frame_masks_a_client_payload_rfc_6455_5_7) {
    const ws::masking_key key{std::byte{0x37}, std::byte{0xfa}, std::byte{0x21}, std::byte{0x3d}};
    const auto hello = annotated("48 65 6c 6c 6f");
    auto h = ws::make_header(ws::role::client, opcode::text, hello.size(), key);
    std::vector<std::byte> out(11);
    const auto n = ws::encode_frame(h, hello, out);
    ASSERT_TRUE(n.has_value());
    EXPECT_EQ(*n, 11u);
    EXPECT_EQ(hex_of(out), bytes_of("81 85 37 fa 21 3d 7f 9f 4d 51 58"));
    EXPECT_EQ(to_hex(hello), "48 65 6c 6c 6f"); // the caller's payload is only read
    h = ws::make_header(ws::role::server, opcode::binary, hello.size());
    EXPECT_EQ(*ws::frame_size(h), 7u);
    ASSERT_TRUE(ws::encode_frame(h, hello, out).has_value());
    EXPECT_EQ(hex_of(std::span<const std::byte>(out).first(7)), bytes_of("82 05 48 65 6c 6c 6f"));
}

TEST(websocket_frame, encode_frame_checks_length_and_buffer) {
    const auto payload = annotated("01 02 03");
    const auto h = ws::make_header(ws::role::server, opcode::binary, 4);
    std::vector<std::byte> out(16);
    EXPECT_EQ(ws::encode_frame(h, payload, out).error(), errc::invalid_argument);
    const auto ok = ws::make_header(ws::role::server, opcode::binary, 3);
    std::vector<std::byte> small(4, std::byte{0x5A});
    EXPECT_EQ(ws::encode_frame(ok, payload, small).error(), errc::buffer_too_small);
    for (const auto b : small) EXPECT_EQ(b, std::byte{0x5A});
}

// Masking a payload in pieces with the running offset equals masking it whole.
TEST(websocket_frame, apply_mask_carries_the_key_offset) {
    const ws::masking_key key{std::byte{0x11}, std::byte{0x22}, std::byte{0x33}, std::byte{0x44}};
    std::vector<std::byte> whole(37);
    for (std::size_t i = 0; i < whole.size(); ++i) whole[i] = static_cast<std::byte>(i * 7);
    auto pieces = whole;
    ws::apply_mask(whole, key);
    const std::size_t cuts[] = {0, 3, 4, 13, 30, 37};
    for (std::size_t c = 0; c + 1 < std::size(cuts); ++c)
        ws::apply_mask(std::span<std::byte>(pieces).subspan(cuts[c], cuts[c + 1] - cuts[c]), key,
                       cuts[c]);
    EXPECT_EQ(pieces, whole);
    EXPECT_EQ(whole[5], static_cast<std::byte>(35 ^ 0x22));
}

TEST(websocket_frame, close_frame_with_code_and_reason) {
    std::vector<std::byte> out(32);
    const auto n = ws::encode_close_frame(ws::role::server, ws::close_code::normal_closure, "bye", out);
    ASSERT_TRUE(n.has_value());
    EXPECT_EQ(hex_of(std::span<const std::byte>(out).first(*n)),
              bytes_of("88 05 | 03 e8 | 62 79 65")); // Close, 5 bytes: 1000, "bye"
    EXPECT_EQ(*ws::close_frame_size(ws::role::server, ws::close_code::normal_closure, "bye"), *n);
    const ws::masking_key key{std::byte{1}, std::byte{2}, std::byte{3}, std::byte{4}};
    const auto m = ws::encode_close_frame(ws::role::client, ws::close_code::going_away, {}, out, key);
    ASSERT_TRUE(m.has_value());
    // 1001 = 03 e9, masked with 01 02.
    EXPECT_EQ(hex_of(std::span<const std::byte>(out).first(*m)), bytes_of("88 82 01 02 03 04 02 eb"));
    const auto e = ws::encode_close_frame(ws::role::server, ws::close_code::none, {}, out);
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(hex_of(std::span<const std::byte>(out).first(*e)), "88 00");
}

TEST(websocket_frame, close_frame_refuses_codes_that_may_not_be_sent) {
    std::vector<std::byte> out(200);
    // (0 is close_code::none: the empty body.)
    for (const std::uint16_t c : std::initializer_list<std::uint16_t>{1, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535})
        EXPECT_EQ(ws::encode_close_frame(ws::role::server, static_cast<ws::close_code>(c), {}, out)
                      .error(),
                  errc::invalid_argument)
            << c;
    for (const std::uint16_t c : std::initializer_list<std::uint16_t>{1000, 1003, 1007, 1011, 1014, 3000, 4999})
        EXPECT_TRUE(
            ws::encode_close_frame(ws::role::server, static_cast<ws::close_code>(c), {}, out))
            << c;
    // A reason needs a code; it fits in 123 bytes (125 minus the code) and is UTF-8.
    EXPECT_EQ(ws::encode_close_frame(ws::role::server, ws::close_code::none, "x", out).error(),
              errc::invalid_argument);
    const std::string longest(123, 'r');
    EXPECT_EQ(*ws::encode_close_frame(ws::role::server, ws::close_code::normal_closure, longest, out),
              2u + 125u);
    EXPECT_EQ(ws::encode_close_frame(ws::role::server, ws::close_code::normal_closure,
                                     longest + "r", out)
                  .error(),
              errc::invalid_argument);
    EXPECT_EQ(ws::encode_close_frame(ws::role::server, ws::close_code::normal_closure, "\xc3", out)
                  .error(),
              errc::invalid_argument);
    std::vector<std::byte> small(3, std::byte{0x5A});
    EXPECT_EQ(ws::encode_close_frame(ws::role::server, ws::close_code::normal_closure, {}, small)
                  .error(),
              errc::buffer_too_small);
    for (const auto b : small) EXPECT_EQ(b, std::byte{0x5A});
}

TEST(websocket_frame, close_code_names_and_wire_rule) {
    EXPECT_EQ(ws::close_code_name(ws::close_code::message_too_big), "message_too_big"sv);
    EXPECT_EQ(ws::close_code_name(static_cast<ws::close_code>(4000)), "private"sv);
    EXPECT_FALSE(ws::may_appear_on_wire(ws::close_code::no_status_received));
    EXPECT_FALSE(ws::may_appear_on_wire(ws::close_code::tls_handshake));
    EXPECT_TRUE(ws::may_appear_on_wire(ws::close_code::bad_gateway));
}

} // namespace
} // namespace mqttwire::test::websocket_frame_tests
