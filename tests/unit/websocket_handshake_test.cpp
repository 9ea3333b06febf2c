// The WebSocket opening handshake (RFC 6455 section 4; MQTT 3.1.1 and 5.0 section 6): the
// server's incremental request parser and its responses, the client's request writer and
// response verifier, every refusal, every limit attacked.

#include <gtest/gtest.h>

#include <array>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "test_support.hpp"

namespace mqttwire::test::websocket_handshake_tests {
namespace {

using namespace std::string_view_literals;
using ws::handshake_errc;

// RFC 6455 section 1.3: the sample nonce and its key.
constexpr std::string_view sample_key = "dGhlIHNhbXBsZSBub25jZQ==";
constexpr std::string_view sample_accept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

ws::client_nonce sample_nonce() {
    ws::client_nonce n{};
    const std::string_view s = "the sample nonce";
    for (std::size_t i = 0; i < 16; ++i) n[i] = static_cast<std::byte>(s[i]);
    return n;
}

// A request as an MQTT client sends it (the fields paho-mqtt sends, in its order).
std::string request(std::string_view extra = "", std::string_view protocol = "mqtt") {
    std::string r = "GET /mqtt HTTP/1.1\r\n"
                    "Host: localhost:8080\r\n"
                    "Upgrade: websocket\r\n"
                    "Connection: Upgrade\r\n"
                    "Origin: http://localhost:8080\r\n";
    if (!protocol.empty()) r += "Sec-WebSocket-Protocol: " + std::string(protocol) + "\r\n";
    r += "Sec-WebSocket-Key: " + std::string(sample_key) + "\r\n"
         "Sec-WebSocket-Version: 13\r\n";
    r += extra;
    return r + "\r\n";
}

handshake_errc parse(std::string_view head, const ws::handshake_options& o = {}) {
    ws::upgrade_request_parser p(o);
    return p.parse(head);
}

std::string text(std::span<const std::byte> b) {
    return {reinterpret_cast<const char*>(b.data()), b.size()};
}

std::string accept_response(const ws::upgrade_request& r) {
    const auto size = ws::accept_response_size(r);
    EXPECT_TRUE(size.has_value());
    std::vector<std::byte> out(*size);
    const auto n = ws::write_accept_response(r, out);
    EXPECT_TRUE(n.has_value());
    EXPECT_EQ(*n, *size);
    return text(out);
}

std::string error_response(handshake_errc e) {
    const auto size = ws::error_response_size(e);
    if (!size) return failed(size.error());
    std::vector<std::byte> out(*size);
    EXPECT_EQ(*ws::write_error_response(e, out), *size);
    return text(out);
}

// ---------------------------------------------------------------------------------------------
// Keys
// ---------------------------------------------------------------------------------------------

TEST(websocket_handshake, rfc_6455_1_3_sample_key_and_accept) {
    const auto key = ws::client_key(sample_nonce());
    EXPECT_EQ(std::string_view(key.data(), key.size()), sample_key);
    const auto accept = ws::accept_key(sample_key);
    EXPECT_EQ(std::string_view(accept.data(), accept.size()), sample_accept);
    EXPECT_TRUE(ws::valid_client_key(sample_key));
}

// Section 4.1: the key is base64 of 16 bytes, so 24 characters ending in "==".
TEST(websocket_handshake, client_key_must_be_base64_of_16_bytes) {
    EXPECT_FALSE(ws::valid_client_key(""));
    EXPECT_FALSE(ws::valid_client_key("dGhlIHNhbXBsZSBub25jZQ="));   // 23 characters
    EXPECT_FALSE(ws::valid_client_key("dGhlIHNhbXBsZSBub25jZQ==="));  // 25
    EXPECT_FALSE(ws::valid_client_key("dGhlIHNhbXBsZSBub25jZR=="));   // bits under padding
    EXPECT_FALSE(ws::valid_client_key("dGhlIHNhbXBsZSBub25jZQ.="));   // outside the alphabet
    EXPECT_FALSE(ws::valid_client_key("dGhlIHNhbXBsZSBub25jZQab"));   // 18 bytes
    EXPECT_TRUE(ws::valid_client_key("AAAAAAAAAAAAAAAAAAAAAA=="));
}

// ---------------------------------------------------------------------------------------------
// Server: accepted requests
// ---------------------------------------------------------------------------------------------

// MQTT-6.0.0-4 / MQTT5-6.0.0-4: the server selects "mqtt" and returns it in the 101 response.
TEST(websocket_handshake, accepts_an_mqtt_client_request_MQTT_6_0_0_4_MQTT5_6_0_0_4) {
    const auto head = request();
    ws::upgrade_request_parser p;
    ASSERT_EQ(p.parse(head), handshake_errc::success);
    const auto& r = p.request();
    EXPECT_EQ(r.target, "/mqtt");
    EXPECT_EQ(r.host, "localhost:8080");
    EXPECT_EQ(r.origin, "http://localhost:8080");
    EXPECT_EQ(r.key, sample_key);
    EXPECT_EQ(r.subprotocol, "mqtt");
    EXPECT_EQ(r.head_size, head.size());
    EXPECT_EQ(accept_response(r), "HTTP/1.1 101 Switching Protocols\r\n"
                                  "Upgrade: websocket\r\n"
                                  "Connection: Upgrade\r\n"
                                  "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
                                  "Sec-WebSocket-Protocol: mqtt\r\n"
                                  "\r\n");
}

// What Chromium and Firefox send for `new WebSocket(url, ["mqtt"])`: header names in other
// cases, `Connection: keep-alive, Upgrade`, extensions offered (and ignored).
TEST(websocket_handshake, accepts_browser_requests) {
    const std::string firefox = "GET /ws?x=1 HTTP/1.1\r\n"
                                "host: broker.local:9001\r\n"
                                "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:115.0)\r\n"
                                "Accept: */*\r\n"
                                "sec-websocket-version: 13\r\n"
                                "Origin: http://broker.local\r\n"
                                "Sec-WebSocket-Protocol: mqtt\r\n"
                                "Sec-WebSocket-Extensions: permessage-deflate\r\n"
                                "sec-websocket-key: " + std::string(sample_key) + "\r\n"
                                "Connection: keep-alive, Upgrade\r\n"
                                "Pragma: no-cache\r\n"
                                "UPGRADE: WebSocket\r\n"
                                "\r\n";
    ws::upgrade_request_parser p;
    ASSERT_EQ(p.parse(firefox), handshake_errc::success);
    EXPECT_EQ(p.request().target, "/ws?x=1"); // any path
    EXPECT_EQ(p.request().subprotocol, "mqtt");
    // No extension is accepted.
    EXPECT_EQ(accept_response(p.request()).find("Extensions"), std::string::npos);
}

// The server's order of preference decides, not the client's; the fields may repeat.
TEST(websocket_handshake, subprotocol_is_chosen_from_the_server_list) {
    const auto selected = [](std::string_view extra, std::string_view protocol,
                             const ws::handshake_options& o = {}) {
        ws::upgrade_request_parser p(o);
        const auto head = request(extra, protocol);
        return p.parse(head) == handshake_errc::success ? std::string(p.request().subprotocol)
                                                        : "refused";
    };
    EXPECT_EQ(selected("", "mqttv3.1"), "mqttv3.1");
    EXPECT_EQ(selected("", "mqttv3.1, mqtt"), "mqtt");
    EXPECT_EQ(selected("", "chat,  ,mqtt"), "mqtt");
    EXPECT_EQ(selected("Sec-WebSocket-Protocol: mqtt\r\n", "mqttv3.1"), "mqtt");
    EXPECT_EQ(selected("", "MQTT"), "refused"); // case-sensitive
    const std::string_view only_v31[] = {"mqttv3.1"};
    EXPECT_EQ(selected("", "mqtt, mqttv3.1", {.subprotocols = only_v31}), "mqttv3.1");
}

// Deciding what happens when no listed subprotocol is offered: refused (400) by default; with
// `accept_missing_subprotocol`, a request without the field is accepted and answered without
// one; a request offering only other subprotocols stays refused.
TEST(websocket_handshake, no_listed_subprotocol) {
    EXPECT_EQ(parse(request("", "")), handshake_errc::no_subprotocol);
    EXPECT_EQ(parse(request("", "chat, superchat")), handshake_errc::no_subprotocol);
    const ws::handshake_options lenient{.accept_missing_subprotocol = true};
    ws::upgrade_request_parser p(lenient);
    const auto head = request("", "");
    ASSERT_EQ(p.parse(head), handshake_errc::success);
    EXPECT_TRUE(p.request().subprotocol.empty());
    EXPECT_EQ(accept_response(p.request()).find("Sec-WebSocket-Protocol"), std::string::npos);
    EXPECT_EQ(parse(request("", "chat"), lenient), handshake_errc::no_subprotocol);
    EXPECT_EQ(error_response(handshake_errc::no_subprotocol),
              "HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
}

// ---------------------------------------------------------------------------------------------
// Server: incremental parsing
// ---------------------------------------------------------------------------------------------

// Byte by byte: `incomplete` until the blank line, then the same result as at once; frames
// that follow the head are not part of it.
TEST(websocket_handshake, byte_by_byte_is_incomplete_until_the_blank_line) {
    const auto head = request();
    const std::string buffered = head + "\x82\x85\x01\x02\x03\x04";
    ws::upgrade_request_parser p;
    for (std::size_t n = 0; n < head.size(); ++n)
        ASSERT_EQ(p.parse(std::string_view(buffered).substr(0, n)), handshake_errc::incomplete) << n;
    ASSERT_EQ(p.parse(std::string_view(buffered).substr(0, head.size())), handshake_errc::success);
    EXPECT_EQ(p.request().head_size, head.size());
    // Further calls give the same answer.
    EXPECT_EQ(p.parse(buffered), handshake_errc::success);
    EXPECT_EQ(p.request().head_size, head.size());
    EXPECT_EQ(p.request().subprotocol, "mqtt");
}

TEST(websocket_handshake, byte_overload_parses_the_same) {
    const auto head = request();
    ws::upgrade_request_parser p;
    ASSERT_EQ(p.parse(std::as_bytes(std::span<const char>(head))), handshake_errc::success);
    EXPECT_EQ(p.request().key, sample_key);
}

// ---------------------------------------------------------------------------------------------
// Server: refusals and their responses
// ---------------------------------------------------------------------------------------------

TEST(websocket_handshake, request_line_rules) {
    const auto line = [](std::string_view first) {
        std::string head = request();
        head.replace(0, head.find("\r\n"), first);
        return parse(head);
    };
    EXPECT_EQ(line("GET / HTTP/1.1"), handshake_errc::success);
    EXPECT_EQ(line("GET /a/b/c?d=e HTTP/1.1"), handshake_errc::success);
    EXPECT_EQ(line("POST /mqtt HTTP/1.1"), handshake_errc::method_not_allowed);
    EXPECT_EQ(line("get /mqtt HTTP/1.1"), handshake_errc::method_not_allowed); // case-sensitive
    EXPECT_EQ(line("GET /mqtt HTTP/1.0"), handshake_errc::http_version_not_supported);
    EXPECT_EQ(line("GET /mqtt HTTP/2.0"), handshake_errc::http_version_not_supported);
    EXPECT_EQ(line("GET /mqtt HTTP/1.2"), handshake_errc::success);
    EXPECT_EQ(line("GET /mqtt  HTTP/1.1"), handshake_errc::malformed);
    EXPECT_EQ(line("GET  /mqtt HTTP/1.1"), handshake_errc::malformed);
    EXPECT_EQ(line("GET /mqtt HTTP/1.1 "), handshake_errc::malformed);
    EXPECT_EQ(line("GET /mqtt"), handshake_errc::malformed);
    EXPECT_EQ(line("GET /mqtt http/1.1"), handshake_errc::malformed);
    EXPECT_EQ(line("GET /m\x01qtt HTTP/1.1"), handshake_errc::malformed);
    EXPECT_EQ(line(""), handshake_errc::malformed);
    EXPECT_EQ(error_response(handshake_errc::method_not_allowed),
              "HTTP/1.1 405 Method Not Allowed\r\nAllow: GET\r\nConnection: close\r\n"
              "Content-Length: 0\r\n\r\n");
    EXPECT_EQ(error_response(handshake_errc::http_version_not_supported).substr(0, 12),
              "HTTP/1.1 505");
}

TEST(websocket_handshake, header_field_syntax) {
    EXPECT_EQ(parse(request("X-Name : v\r\n")), handshake_errc::malformed);   // space before ':'
    EXPECT_EQ(parse(request("NoColon\r\n")), handshake_errc::malformed);
    EXPECT_EQ(parse(request(": empty-name\r\n")), handshake_errc::malformed);
    EXPECT_EQ(parse(request("X(y): v\r\n")), handshake_errc::malformed);    // not a token
    EXPECT_EQ(parse(request("X: a\x01z\r\n")), handshake_errc::malformed);  // control character
    EXPECT_EQ(parse(request("X: a\r\n continued\r\n")), handshake_errc::malformed); // obs-fold
    EXPECT_EQ(parse(request("X: a\nY: b\r\n")), handshake_errc::malformed); // bare LF
    EXPECT_EQ(parse(request("X: a\rb\r\n")), handshake_errc::malformed);    // bare CR
    EXPECT_EQ(parse(request("X:\r\n")), handshake_errc::success);           // empty value
    EXPECT_EQ(parse(request("X: caf\xc3\xa9\r\n")), handshake_errc::success); // obs-text
}

TEST(websocket_handshake, host_is_required_once) {
    std::string head = request();
    const auto at = head.find("Host:");
    head.erase(at, head.find("\r\n", at) + 2 - at);
    EXPECT_EQ(parse(head), handshake_errc::missing_host);
    EXPECT_EQ(parse(request("Host: other\r\n")), handshake_errc::malformed);
}

TEST(websocket_handshake, upgrade_and_connection_must_ask_for_websocket) {
    const auto without = [](std::string_view field, std::string_view replacement) {
        std::string head = request();
        const auto at = head.find(field);
        head.replace(at, head.find("\r\n", at) + 2 - at, replacement);
        return parse(head);
    };
    EXPECT_EQ(without("Upgrade:", ""), handshake_errc::not_websocket_upgrade);
    EXPECT_EQ(without("Upgrade:", "Upgrade: h2c\r\n"), handshake_errc::not_websocket_upgrade);
    EXPECT_EQ(without("Upgrade:", "Upgrade: h2c, websocket\r\n"), handshake_errc::success);
    EXPECT_EQ(without("Connection:", ""), handshake_errc::not_websocket_upgrade);
    EXPECT_EQ(without("Connection:", "Connection: keep-alive\r\n"),
              handshake_errc::not_websocket_upgrade);
    EXPECT_EQ(without("Connection:", "Connection: upgraded\r\n"),
              handshake_errc::not_websocket_upgrade);
    EXPECT_EQ(without("Connection:", "Connection: keep-alive,UPGRADE\r\n"), handshake_errc::success);
    EXPECT_EQ(error_response(handshake_errc::not_websocket_upgrade).substr(0, 12), "HTTP/1.1 400");
}

// Section 4.2.2: another version gets 426 and `Sec-WebSocket-Version: 13` (section 4.4).
TEST(websocket_handshake, version_other_than_13_gets_426) {
    const auto version = [](std::string_view value) {
        std::string head = request();
        const auto at = head.find("Sec-WebSocket-Version:");
        head.replace(at, head.find("\r\n", at) + 2 - at, value);
        return parse(head);
    };
    EXPECT_EQ(version("Sec-WebSocket-Version: 8\r\n"), handshake_errc::unsupported_websocket_version);
    EXPECT_EQ(version("Sec-WebSocket-Version: 13, 8\r\n"),
              handshake_errc::unsupported_websocket_version);
    EXPECT_EQ(version(""), handshake_errc::unsupported_websocket_version);
    EXPECT_EQ(version("Sec-WebSocket-Version:   13  \r\n"), handshake_errc::success);
    EXPECT_EQ(error_response(handshake_errc::unsupported_websocket_version),
              "HTTP/1.1 426 Upgrade Required\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
              "Connection: close\r\nContent-Length: 0\r\n\r\n");
}

TEST(websocket_handshake, key_must_be_one_valid_key) {
    std::string head = request();
    const auto at = head.find("Sec-WebSocket-Key:");
    const auto line_end = head.find("\r\n", at) + 2;
    std::string none = head;
    none.erase(at, line_end - at);
    EXPECT_EQ(parse(none), handshake_errc::bad_key);
    std::string wrong = head;
    wrong.replace(at, line_end - at, "Sec-WebSocket-Key: c2hvcnQ=\r\n");
    EXPECT_EQ(parse(wrong), handshake_errc::bad_key);
    EXPECT_EQ(parse(request("Sec-WebSocket-Key: " + std::string(sample_key) + "\r\n")),
              handshake_errc::bad_key); // twice
}

TEST(websocket_handshake, a_body_is_refused) {
    EXPECT_EQ(parse(request("Content-Length: 0\r\n")), handshake_errc::success);
    EXPECT_EQ(parse(request("Content-Length: 5\r\n")), handshake_errc::unexpected_body);
    EXPECT_EQ(parse(request("Content-Length:\r\n")), handshake_errc::unexpected_body);
    EXPECT_EQ(parse(request("Transfer-Encoding: chunked\r\n")), handshake_errc::unexpected_body);
}

TEST(websocket_handshake, error_responses_write_nothing_when_short_or_meaningless) {
    EXPECT_EQ(error_response(handshake_errc::success), failed(errc::invalid_argument));
    EXPECT_EQ(error_response(handshake_errc::incomplete), failed(errc::invalid_argument));
    EXPECT_EQ(error_response(handshake_errc::bad_accept), failed(errc::invalid_argument));
    const auto size = *ws::error_response_size(handshake_errc::malformed);
    std::vector<std::byte> small(size - 1, std::byte{0x5A});
    EXPECT_EQ(ws::write_error_response(handshake_errc::malformed, small).error(),
              errc::buffer_too_small);
    for (const auto b : small) EXPECT_EQ(b, std::byte{0x5A});
    // The 101 response refuses a request that was never accepted, and short buffers.
    EXPECT_EQ(ws::accept_response_size(ws::upgrade_request{}).error(), errc::invalid_argument);
    ws::upgrade_request bad_protocol{.key = sample_key, .subprotocol = "mqtt\r\nX: y"};
    EXPECT_EQ(ws::accept_response_size(bad_protocol).error(), errc::invalid_argument);
    ws::upgrade_request ok{.key = sample_key, .subprotocol = "mqtt"};
    std::vector<std::byte> short_out(*ws::accept_response_size(ok) - 1, std::byte{0x5A});
    EXPECT_EQ(ws::write_accept_response(ok, short_out).error(), errc::buffer_too_small);
    for (const auto b : short_out) EXPECT_EQ(b, std::byte{0x5A});
}

// ---------------------------------------------------------------------------------------------
// Server: limits
// ---------------------------------------------------------------------------------------------

// A head of exactly the limit is accepted; without a blank line within the limit the request
// is refused as soon as the limit is buffered, however the bytes arrive.
TEST(websocket_handshake, head_size_limit_8k) {
    const auto base = request();
    const std::size_t limit = ws::handshake_options{}.max_head_size;
    ASSERT_EQ(limit, 8192u);
    const std::string filler_field = "X-Filler: ";
    const std::size_t pad = limit - base.size() - filler_field.size() - 2;
    const auto exact = request(filler_field + std::string(pad, 'a') + "\r\n");
    ASSERT_EQ(exact.size(), limit);
    EXPECT_EQ(parse(exact), handshake_errc::success);
    const auto over = request(filler_field + std::string(pad + 1, 'a') + "\r\n");
    EXPECT_EQ(parse(over), handshake_errc::head_too_large);
    // An endless head: refused once 8192 bytes are in, not before.
    const std::string endless = "GET / HTTP/1.1\r\nX: " + std::string(20000, 'a');
    ws::upgrade_request_parser p;
    EXPECT_EQ(p.parse(std::string_view(endless).substr(0, limit - 1)), handshake_errc::incomplete);
    EXPECT_EQ(p.parse(std::string_view(endless).substr(0, limit)), handshake_errc::head_too_large);
    EXPECT_EQ(error_response(handshake_errc::head_too_large).substr(0, 12), "HTTP/1.1 431");
    // A smaller configured limit.
    EXPECT_EQ(parse(base, {.max_head_size = base.size() - 1}), handshake_errc::head_too_large);
    EXPECT_EQ(parse(base, {.max_head_size = base.size()}), handshake_errc::success);
}

TEST(websocket_handshake, header_count_limit) {
    // request() has 7 fields; add up to the default 64.
    std::string extra;
    for (int i = 0; i < 64 - 7; ++i) extra += "X-" + std::to_string(i) + ": v\r\n";
    EXPECT_EQ(parse(request(extra)), handshake_errc::success);
    EXPECT_EQ(parse(request(extra + "X-last: v\r\n")), handshake_errc::too_many_headers);
    EXPECT_EQ(parse(request(), {.max_header_count = 6}), handshake_errc::too_many_headers);
    EXPECT_EQ(parse(request(), {.max_header_count = 7}), handshake_errc::success);
}

// ---------------------------------------------------------------------------------------------
// Client
// ---------------------------------------------------------------------------------------------

// MQTT-6.0.0-3 / MQTT5-6.0.0-3: the client offers "mqtt".
TEST(websocket_handshake, client_request_offers_mqtt_MQTT_6_0_0_3_MQTT5_6_0_0_3) {
    const ws::client_handshake_options o{.host = "server.example.com"};
    const auto size = ws::upgrade_request_size(o);
    ASSERT_TRUE(size.has_value());
    std::vector<std::byte> out(*size);
    ASSERT_EQ(*ws::write_upgrade_request(o, sample_nonce(), out), *size);
    EXPECT_EQ(text(out), "GET /mqtt HTTP/1.1\r\n"
                         "Host: server.example.com\r\n"
                         "Upgrade: websocket\r\n"
                         "Connection: Upgrade\r\n"
                         "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                         "Sec-WebSocket-Version: 13\r\n"
                         "Sec-WebSocket-Protocol: mqtt\r\n"
                         "\r\n");
    // The server side accepts it.
    ws::upgrade_request_parser p;
    ASSERT_EQ(p.parse(std::span<const std::byte>(out)), handshake_errc::success);
    EXPECT_EQ(p.request().subprotocol, "mqtt");
}

TEST(websocket_handshake, client_request_options_and_refusals) {
    const std::string_view both[] = {"mqtt", "mqttv3.1"};
    const ws::client_handshake_options o{
        .host = "h:1", .target = "/", .origin = "http://h", .subprotocols = both};
    std::vector<std::byte> out(*ws::upgrade_request_size(o));
    ASSERT_TRUE(ws::write_upgrade_request(o, sample_nonce(), out).has_value());
    const auto t = text(out);
    EXPECT_NE(t.find("Sec-WebSocket-Protocol: mqtt, mqttv3.1\r\n"), std::string::npos);
    EXPECT_NE(t.find("Origin: http://h\r\n"), std::string::npos);
    // Nothing that could break the head out of its lines is written.
    const std::string_view bad_protocol[] = {"mqtt,x"};
    for (const auto& bad : {ws::client_handshake_options{.host = ""},
                            ws::client_handshake_options{.host = "h\r\nX: y"},
                            ws::client_handshake_options{.host = "h", .target = "/a b"},
                            ws::client_handshake_options{.host = "h", .target = ""},
                            ws::client_handshake_options{.host = "h", .origin = "o\n"},
                            ws::client_handshake_options{.host = "h", .subprotocols = bad_protocol}})
        EXPECT_EQ(ws::upgrade_request_size(bad).error(), errc::invalid_argument);
    std::vector<std::byte> small(out.size() - 1, std::byte{0x5A});
    EXPECT_EQ(ws::write_upgrade_request(o, sample_nonce(), small).error(), errc::buffer_too_small);
    for (const auto b : small) EXPECT_EQ(b, std::byte{0x5A});
}

std::string response(std::string_view status = "HTTP/1.1 101 Switching Protocols",
                     std::string_view extra = "", std::string_view accept = sample_accept,
                     std::string_view protocol = "mqtt") {
    std::string r = std::string(status) + "\r\n"
                    "Upgrade: websocket\r\n"
                    "Connection: Upgrade\r\n";
    if (!accept.empty()) r += "Sec-WebSocket-Accept: " + std::string(accept) + "\r\n";
    if (!protocol.empty()) r += "Sec-WebSocket-Protocol: " + std::string(protocol) + "\r\n";
    return r + std::string(extra) + "\r\n";
}

handshake_errc verify(std::string_view head, const ws::client_handshake_options& o = {.host = "h"}) {
    ws::upgrade_response_parser p(o, sample_nonce());
    return p.parse(head);
}

TEST(websocket_handshake, client_verifies_the_101_response) {
    const std::string head = response() + "\x82\x02\x20\x02"; // a CONNACK frame right behind
    ws::upgrade_response_parser p({.host = "h"}, sample_nonce());
    for (std::size_t n = 0; n + 4 < head.size(); ++n)
        ASSERT_EQ(p.parse(std::string_view(head).substr(0, n)), handshake_errc::incomplete) << n;
    ASSERT_EQ(p.parse(head), handshake_errc::success);
    EXPECT_EQ(p.response().status, 101);
    EXPECT_EQ(p.response().subprotocol, "mqtt");
    EXPECT_EQ(p.response().head_size, head.size() - 4);
    // The server's own writer produces an acceptable response.
    ws::upgrade_request_parser server;
    const auto client_request = request();
    ASSERT_EQ(server.parse(client_request), handshake_errc::success);
    EXPECT_EQ(verify(accept_response(server.request())), handshake_errc::success);
}

TEST(websocket_handshake, client_refusals) {
    EXPECT_EQ(verify(response("HTTP/1.1 426 Upgrade Required")), handshake_errc::bad_status);
    ws::upgrade_response_parser p({.host = "h"}, sample_nonce());
    const auto forbidden = response("HTTP/1.1 403 Forbidden");
    EXPECT_EQ(p.parse(forbidden), handshake_errc::bad_status);
    EXPECT_EQ(p.response().status, 403);
    EXPECT_EQ(verify(response("HTTP/1.1 101")), handshake_errc::success); // no reason phrase
    EXPECT_EQ(verify(response("HTTP/1.0 101 Switching Protocols")),
              handshake_errc::http_version_not_supported);
    EXPECT_EQ(verify(response("HTTP/1.1 1O1 Switching")), handshake_errc::malformed);
    EXPECT_EQ(verify(response("HTTP/1.1 1010")), handshake_errc::malformed);
    EXPECT_EQ(verify(response("HTTP/1.1 101", "", "")), handshake_errc::bad_accept);
    EXPECT_EQ(verify(response("HTTP/1.1 101", "", "x3pPLMBiTxaQ9kYGzzhZRbK+xOo=")),
              handshake_errc::bad_accept);
    EXPECT_EQ(verify(response("HTTP/1.1 101",
                              "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n")),
              handshake_errc::bad_accept); // twice
    EXPECT_EQ(verify(response("HTTP/1.1 101", "Sec-WebSocket-Extensions: permessage-deflate\r\n")),
              handshake_errc::unexpected_extension);
    EXPECT_EQ(verify(response("HTTP/1.1 101", "", sample_accept, "mqttv3.1")),
              handshake_errc::bad_subprotocol); // not offered
    EXPECT_EQ(verify(response("HTTP/1.1 101", "", sample_accept, "")),
              handshake_errc::bad_subprotocol);
    EXPECT_EQ(verify(response("HTTP/1.1 101", "", sample_accept, ""),
                     {.host = "h", .accept_missing_subprotocol = true}),
              handshake_errc::success);
    std::string no_upgrade = response();
    no_upgrade.erase(no_upgrade.find("Upgrade: websocket\r\n"), 20);
    EXPECT_EQ(verify(no_upgrade), handshake_errc::not_websocket_upgrade);
    EXPECT_EQ(verify(std::string(9000, 'a')), handshake_errc::head_too_large);
}

TEST(websocket_handshake, errc_names_and_statuses) {
    EXPECT_EQ(ws::handshake_errc_name(handshake_errc::bad_key), "bad_key"sv);
    EXPECT_EQ(ws::http_status_of(handshake_errc::too_many_headers), 431);
    EXPECT_EQ(ws::http_status_of(handshake_errc::unsupported_websocket_version), 426);
    EXPECT_EQ(ws::http_status_of(handshake_errc::success), 0);
}

} // namespace
} // namespace mqttwire::test::websocket_handshake_tests
