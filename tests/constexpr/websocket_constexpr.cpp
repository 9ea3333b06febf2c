// The WebSocket layer at compile time (DESIGN.md rule 4): SHA-1, the accept key, both sides of
// the handshake, frame headers, encoders and the deframer, all inside static_assert. Compiling
// this file is the test; an out-of-bounds access or any UB on these paths is a compile error.

#include <array>
#include <cstddef>
#include <cstdint>
#include <mqttwire.hpp>
#include <span>
#include <string_view>

namespace {

using namespace mqttwire;
using namespace std::string_view_literals;

template <class... T> consteval std::array<std::byte, sizeof...(T)> bytes(T... v) {
    return {static_cast<std::byte>(v)...};
}

template <std::size_t N>
constexpr bool same(std::span<const std::byte> a, const std::array<std::byte, N>& b) {
    if (a.size() != N) return false;
    for (std::size_t i = 0; i < N; ++i)
        if (a[i] != b[i]) return false;
    return true;
}

constexpr bool same_text(std::span<const std::byte> a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (a[i] != static_cast<std::byte>(b[i])) return false;
    return true;
}

template <std::size_t N> constexpr std::string_view view(const std::array<char, N>& a) {
    return {a.data(), N};
}

// --- SHA-1 (FIPS 180-2 appendix A) and the keys of RFC 6455 section 1.3 ---------------------

constexpr bool sha1_abc() {
    detail::sha1 h;
    h.update("abc"sv);
    return same(h.finish(), bytes(0xa9, 0x99, 0x3e, 0x36, 0x47, 0x06, 0x81, 0x6a, 0xba, 0x3e,
                                  0x25, 0x71, 0x78, 0x50, 0xc2, 0x6c, 0x9c, 0xd0, 0xd8, 0x9d));
}
static_assert(sha1_abc());

static_assert(view(ws::accept_key("dGhlIHNhbXBsZSBub25jZQ==")) == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");

constexpr ws::client_nonce sample_nonce() {
    ws::client_nonce n{};
    constexpr std::string_view s = "the sample nonce";
    for (std::size_t i = 0; i < 16; ++i) n[i] = static_cast<std::byte>(s[i]);
    return n;
}
static_assert(view(ws::client_key(sample_nonce())) == "dGhlIHNhbXBsZSBub25jZQ==");
static_assert(ws::valid_client_key("dGhlIHNhbXBsZSBub25jZQ=="));
static_assert(!ws::valid_client_key("dGhlIHNhbXBsZSBub25jZR=="));

// --- Server handshake ---------------------------------------------------------------------------

constexpr std::string_view request = "GET /mqtt HTTP/1.1\r\n"
                                     "Host: localhost\r\n"
                                     "Upgrade: websocket\r\n"
                                     "Connection: keep-alive, Upgrade\r\n"
                                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                     "Sec-WebSocket-Protocol: mqttv3.1, mqtt\r\n"
                                     "Sec-WebSocket-Version: 13\r\n"
                                     "\r\n";

constexpr bool server_accepts() {
    ws::upgrade_request_parser p;
    // Incomplete until the blank line.
    if (p.parse(request.substr(0, request.size() - 1)) != ws::handshake_errc::incomplete)
        return false;
    if (p.parse(request) != ws::handshake_errc::success) return false;
    const auto& r = p.request();
    // MQTT-6.0.0-4 / MQTT5-6.0.0-4: the server selects "mqtt".
    if (r.subprotocol != "mqtt" || r.target != "/mqtt" || r.head_size != request.size())
        return false;
    std::array<std::byte, 256> out{};
    const auto n = ws::write_accept_response(r, out);
    return n.has_value() && same_text(std::span<const std::byte>(out).first(*n),
                                      "HTTP/1.1 101 Switching Protocols\r\n"
                                      "Upgrade: websocket\r\n"
                                      "Connection: Upgrade\r\n"
                                      "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
                                      "Sec-WebSocket-Protocol: mqtt\r\n"
                                      "\r\n");
}
static_assert(server_accepts());

constexpr ws::handshake_errc server_parse(std::string_view head) {
    ws::upgrade_request_parser p;
    return p.parse(head);
}
static_assert(server_parse("POST / HTTP/1.1\r\n\r\n") == ws::handshake_errc::method_not_allowed);
static_assert(server_parse("GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n"
                           "Connection: upgrade\r\nSec-WebSocket-Version: 8\r\n\r\n") ==
              ws::handshake_errc::unsupported_websocket_version);
static_assert(ws::http_status_of(ws::handshake_errc::unsupported_websocket_version) == 426);
static_assert(*ws::error_response_size(ws::handshake_errc::malformed) ==
              "HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"sv.size());

// --- Client handshake ---------------------------------------------------------------------------

constexpr bool client_round_trip() {
    const ws::client_handshake_options o{.host = "localhost"};
    std::array<std::byte, 512> req{};
    const auto n = ws::write_upgrade_request(o, sample_nonce(), req);
    if (!n) return false;
    // The request as chars, for the server parser.
    std::array<char, 512> text{};
    for (std::size_t i = 0; i < *n; ++i) text[i] = static_cast<char>(req[i]);
    ws::upgrade_request_parser server;
    if (server.parse(std::string_view(text.data(), *n)) != ws::handshake_errc::success)
        return false;
    std::array<std::byte, 256> resp{};
    const auto m = ws::write_accept_response(server.request(), resp);
    if (!m) return false;
    for (std::size_t i = 0; i < *m; ++i) text[i] = static_cast<char>(resp[i]);
    ws::upgrade_response_parser client(o, sample_nonce());
    return client.parse(std::string_view(text.data(), *m)) == ws::handshake_errc::success &&
           client.response().subprotocol == "mqtt" && client.response().head_size == *m;
}
static_assert(client_round_trip());

// --- Frame headers and encoders (RFC 6455 section 5.7) ------------------------------------------

constexpr auto masked_hello = bytes(0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58);
constexpr ws::masking_key rfc_key{std::byte{0x37}, std::byte{0xfa}, std::byte{0x21},
                                  std::byte{0x3d}};

static_assert(ws::decode_frame_header(masked_hello)->payload_length == 5);
static_assert(ws::decode_frame_header(masked_hello)->op == ws::opcode::text);
static_assert(ws::decode_frame_header(bytes(0x82, 0x7e, 0x00)).error() == errc::incomplete);
static_assert(ws::decode_frame_header(bytes(0x82, 0x7e, 0x00, 0x7d)).error() ==
              errc::malformed_packet);

constexpr bool encode_masked_hello() {
    constexpr auto hello = bytes(0x48, 0x65, 0x6c, 0x6c, 0x6f);
    std::array<std::byte, 11> out{};
    const auto h = ws::make_header(ws::role::client, ws::opcode::text, 5, rfc_key);
    const auto n = ws::encode_frame(h, hello, out);
    return n.has_value() && *n == 11 && same(out, masked_hello);
}
static_assert(encode_masked_hello());
static_assert(*ws::close_frame_size(ws::role::server, ws::close_code::normal_closure, "bye") == 7);
static_assert(ws::encode_frame_header(ws::make_header(ws::role::server, ws::opcode::ping, 126),
                                      std::span<std::byte>{})
                  .error() == errc::invalid_argument);

// --- Deframer -----------------------------------------------------------------------------------

// Two client frames (a binary "Hel" with FIN 0, a ping, the "lo" continuation), deframed in
// place in one buffer.
constexpr bool deframe_in_place() {
    auto buf = bytes(0x02, 0x83, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d,  // "Hel"
                     0x89, 0x81, 0x01, 0x02, 0x03, 0x04, 0x79,             // ping "x"
                     0x80, 0x82, 0x37, 0xfa, 0x21, 0x3d, 0x5b, 0x95);      // "lo"
    ws::deframer d;
    const auto r = d.decode(buf, buf);
    if (r.event != ws::deframe_event::ping || r.produced != 3 || r.consumed != 16) return false;
    if (!same_text(r.payload, "x")) return false;
    std::array<std::byte, 8> pong{};
    const auto n = d.write_reply(r, pong);
    if (!n || !same(std::span<const std::byte>(pong).first(*n), bytes(0x8a, 0x01, 0x78)))
        return false;
    const auto rest = d.decode(std::span<const std::byte>(buf).subspan(r.consumed),
                               std::span<std::byte>(buf).subspan(r.produced));
    return rest.produced == 2 && rest.event == ws::deframe_event::none &&
           same_text(std::span<const std::byte>(buf).first(5), "Hello") && !d.ended();
}
static_assert(deframe_in_place());

template <std::size_t N>
constexpr ws::close_code fails_with(std::array<std::byte, N> wire, ws::deframer_options o = {}) {
    ws::deframer d(o);
    const auto r = d.decode(wire, wire);
    return r.event == ws::deframe_event::fail ? r.code : ws::close_code::none;
}
// MQTT-6.0.0-1 / MQTT5-6.0.0-1: a text frame closes the connection.
static_assert(fails_with(masked_hello) == ws::close_code::unsupported_data);
static_assert(fails_with(bytes(0x82, 0x01, 0x00)) == ws::close_code::protocol_error); // unmasked
static_assert(fails_with(bytes(0x82, 0x01, 0x00), {.local = ws::role::client}) ==
              ws::close_code::none);
static_assert(fails_with(bytes(0x82, 0x85, 0, 0, 0, 0, 1, 2, 3, 4, 5),
                         {.max_message_size = 4}) == ws::close_code::message_too_big);
static_assert(fails_with(bytes(0x88, 0x82, 0, 0, 0, 0, 0x03, 0xed)) ==
              ws::close_code::protocol_error); // close code 1005 may not be sent

} // namespace
