// Fuzz target: the WebSocket deframer and the opening handshake (include/mqttwire/websocket/).
//
// Input: byte 0 = mode and options, byte 1 = a limit, byte 2 = number k of chunk-size bytes
// (k = byte % 16), then k chunk sizes (0 means 1; cycled), then the bytes.
//   byte 0 bit 7 clear: deframer. bit 0 role (0 server, 1 client); bit 1 accept_wrong_masking;
//     bit 2 accept_text_frames; bit 3 accept_non_minimal_length; bit 4 max_message_size =
//     16 * byte 1; bit 5 note_close_sent before the first byte; bit 6 chunks go through a
//     separate output buffer of 1 + byte 1 % 64 bytes instead of in place.
//   byte 0 bit 7 set: handshake. bit 0: the bytes are a server's response to the client whose
//     nonce is 16 zero bytes (client side), else a client's request (server side); bit 1
//     accept_missing_subprotocol; max_head_size = 64 * (byte 1 + 1), max_header_count =
//     byte 1 % 70.
//
// Deframer laws: no crash or out-of-bounds access; chunked, whole and byte-by-byte feeding give
// the same stream and events; that outcome equals the reference deframer of
// tests/unit/websocket_trace.hpp (plain byte-by-byte unmasking, one frame after another); no
// event follows a Close or a failure, and `ended()` holds exactly after one; the reply to every
// event has the size `reply_size` announced, is refused one byte short without a write, and
// re-parses at the peer (a deframer of the other role) as the answer it must be.
// Handshake laws: chunked == whole; every refusal of a request has an HTTP response; an
// accepted request gets a 101 response that the client side verifies.

#include <algorithm>
#include <vector>

#include "../tests/unit/websocket_trace.hpp"
#include "fuzz_support.hpp"

namespace {

using namespace mqttwire;

// The peer's view of `reply`: exactly the event answering `r`.
void check_reply(const ws::deframer& d, const ws::deframe_result& r, bool close_sent) {
    const auto size = d.reply_size(r);
    MQTTWIRE_FUZZ_CHECK(size.has_value());
    const ws::masking_key key{std::byte{0x9e}, std::byte{0x37}, std::byte{0x79}, std::byte{0xb9}};
    std::vector<std::byte> out(*size + 1, std::byte{0xA5});
    const auto n = d.write_reply(r, out, key);
    MQTTWIRE_FUZZ_CHECK(n.has_value() && *n == *size && out[*size] == std::byte{0xA5});
    if (*size > 0) {
        std::vector<std::byte> small(*size - 1, std::byte{0x5A});
        MQTTWIRE_FUZZ_CHECK(d.write_reply(r, small, key).error() == errc::buffer_too_small);
        for (const auto b : small) MQTTWIRE_FUZZ_CHECK(b == std::byte{0x5A});
    }
    out.resize(*size);
    if (out.empty()) {
        // Only a Pong, and a Close or failure after this end's own Close, go unanswered.
        MQTTWIRE_FUZZ_CHECK(r.event == ws::deframe_event::pong ||
                            (close_sent && (r.event == ws::deframe_event::close ||
                                            r.event == ws::deframe_event::fail)));
        return;
    }
    ws::deframer_options peer;
    peer.local = d.options().local == ws::role::server ? ws::role::client : ws::role::server;
    const auto t = test::ws_deframe(peer, out);
    MQTTWIRE_FUZZ_CHECK(t.data.empty() && t.events.size() == 1 && !t.stalled);
    const auto& e = t.events[0];
    switch (r.event) {
    case ws::deframe_event::ping:
        MQTTWIRE_FUZZ_CHECK(e.kind == ws::deframe_event::pong);
        MQTTWIRE_FUZZ_CHECK(std::equal(e.payload.begin(), e.payload.end(), r.payload.begin(),
                                       r.payload.end()));
        break;
    case ws::deframe_event::close:
        MQTTWIRE_FUZZ_CHECK(e.kind == ws::deframe_event::close && e.code == r.code);
        break;
    case ws::deframe_event::fail:
        MQTTWIRE_FUZZ_CHECK(e.kind == ws::deframe_event::close && e.code == r.code);
        break;
    default: MQTTWIRE_FUZZ_CHECK(false);
    }
}

void fuzz_deframer(std::uint8_t flags, std::uint8_t limit, std::span<const std::size_t> chunks,
                   std::span<const std::byte> wire) {
    ws::deframer_options o;
    o.local = (flags & 1u) != 0 ? ws::role::client : ws::role::server;
    o.accept_wrong_masking = (flags & 2u) != 0;
    o.accept_text_frames = (flags & 4u) != 0;
    o.accept_non_minimal_length = (flags & 8u) != 0;
    if ((flags & 16u) != 0) o.max_message_size = 16u * limit;
    const bool closed_first = (flags & 32u) != 0;
    const auto mode = (flags & 64u) != 0 ? test::ws_feed::separate : test::ws_feed::in_place;
    const std::size_t capacity = 1u + limit % 64u;

    const auto make = [&] {
        ws::deframer d(o);
        if (closed_first) d.note_close_sent();
        return d;
    };
    auto d_whole = make();
    const auto whole = test::ws_deframe(d_whole, wire, {}, mode, capacity);
    MQTTWIRE_FUZZ_CHECK(!whole.stalled);
    MQTTWIRE_FUZZ_CHECK(whole == test::ws_reference_deframe(o, wire));
    auto d_chunked = make();
    MQTTWIRE_FUZZ_CHECK(test::ws_deframe(d_chunked, wire, chunks, mode, capacity) == whole);
    static constexpr std::size_t one[] = {1};
    auto d_bytes = make();
    MQTTWIRE_FUZZ_CHECK(test::ws_deframe(d_bytes, wire, one,
                                         mode == test::ws_feed::in_place ? test::ws_feed::separate
                                                                         : test::ws_feed::in_place,
                                         capacity) == whole);
    for (std::size_t i = 0; i < whole.events.size(); ++i) {
        const auto k = whole.events[i].kind;
        const bool final_event = k == ws::deframe_event::close || k == ws::deframe_event::fail;
        MQTTWIRE_FUZZ_CHECK(final_event == (i + 1 == whole.events.size() && whole.ended));
    }

    // Replies: replay the whole input event by event with a live deframer.
    auto d = make();
    std::vector<std::byte> buf(wire.begin(), wire.end());
    std::size_t in_at = 0;
    std::size_t out_at = 0;
    while (in_at < buf.size()) {
        const auto r = d.decode(std::span<const std::byte>(buf).subspan(in_at),
                                std::span<std::byte>(buf).subspan(out_at));
        MQTTWIRE_FUZZ_CHECK(r.consumed > 0 && r.produced <= r.consumed);
        in_at += r.consumed;
        out_at += r.produced;
        if (r.event != ws::deframe_event::none) check_reply(d, r, closed_first);
    }
    MQTTWIRE_FUZZ_CHECK(out_at == whole.data.size());
}

// Feeds growing prefixes of `text` until the parser decides, then the whole text (a decided
// parser repeats its answer).
ws::handshake_errc parse_in_chunks(auto& parser, std::string_view text,
                                   std::span<const std::size_t> chunks) {
    std::size_t have = 0;
    std::size_t k = 0;
    while (have < text.size() && !chunks.empty()) {
        have = std::min(text.size(), have + std::max<std::size_t>(chunks[k++ % chunks.size()], 1));
        if (parser.parse(text.substr(0, have)) != ws::handshake_errc::incomplete) break;
    }
    return parser.parse(text);
}

void fuzz_handshake(std::uint8_t flags, std::uint8_t limit, std::span<const std::size_t> chunks,
                    std::span<const std::byte> bytes) {
    const std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    const std::size_t max_head = 64u * (limit + 1u);
    const std::size_t max_headers = limit % 70u;
    const bool lenient = (flags & 2u) != 0;
    if ((flags & 1u) != 0) {
        ws::client_handshake_options o;
        o.host = "h";
        o.max_head_size = max_head;
        o.max_header_count = max_headers;
        o.accept_missing_subprotocol = lenient;
        const ws::client_nonce nonce{};
        ws::upgrade_response_parser whole(o, nonce);
        const auto e = whole.parse(text);
        ws::upgrade_response_parser split(o, nonce);
        MQTTWIRE_FUZZ_CHECK(parse_in_chunks(split, text, chunks) == e);
        if (e == ws::handshake_errc::success) {
            MQTTWIRE_FUZZ_CHECK(whole.response().status == 101);
            MQTTWIRE_FUZZ_CHECK(whole.response().head_size <= std::min(text.size(), max_head));
        }
        return;
    }
    ws::handshake_options o;
    o.max_head_size = max_head;
    o.max_header_count = max_headers;
    o.accept_missing_subprotocol = lenient;
    ws::upgrade_request_parser whole(o);
    const auto e = whole.parse(text);
    ws::upgrade_request_parser split(o);
    MQTTWIRE_FUZZ_CHECK(parse_in_chunks(split, text, chunks) == e);
    if (e == ws::handshake_errc::incomplete) {
        MQTTWIRE_FUZZ_CHECK(text.size() < max_head);
        return;
    }
    if (e != ws::handshake_errc::success) {
        const auto n = ws::error_response_size(e);
        MQTTWIRE_FUZZ_CHECK(n.has_value());
        std::vector<std::byte> out(*n);
        MQTTWIRE_FUZZ_CHECK(*ws::write_error_response(e, out) == *n);
        return;
    }
    const auto& r = whole.request();
    MQTTWIRE_FUZZ_CHECK(r.head_size <= std::min(text.size(), max_head));
    MQTTWIRE_FUZZ_CHECK(ws::valid_client_key(r.key));
    const auto size = ws::accept_response_size(r);
    MQTTWIRE_FUZZ_CHECK(size.has_value());
    std::vector<std::byte> response(*size);
    MQTTWIRE_FUZZ_CHECK(*ws::write_accept_response(r, response) == *size);
    // The client that sent this key (its nonce is the key decoded) verifies the answer.
    ws::client_nonce nonce{};
    MQTTWIRE_FUZZ_CHECK(detail::base64_decode_exact(r.key, nonce) == 16);
    const std::string_view offered[] = {r.subprotocol};
    ws::client_handshake_options c;
    c.host = "h";
    c.subprotocols = r.subprotocol.empty() ? std::span<const std::string_view>{}
                                           : std::span<const std::string_view>(offered);
    c.accept_missing_subprotocol = r.subprotocol.empty();
    ws::upgrade_response_parser client(c, nonce);
    MQTTWIRE_FUZZ_CHECK(client.parse(std::span<const std::byte>(response)) ==
                        ws::handshake_errc::success);
    MQTTWIRE_FUZZ_CHECK(client.response().subprotocol == r.subprotocol);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::input in(data, size);
    const auto flags = in.byte();
    const auto limit = in.byte();
    const std::size_t k = in.byte() % 16u;
    std::vector<std::size_t> chunks;
    for (const auto b : in.take(k)) chunks.push_back(static_cast<std::size_t>(b));
    const auto rest = in.rest();
    if ((flags & 0x80u) != 0) fuzz_handshake(flags, limit, chunks, rest);
    else fuzz_deframer(flags, limit, chunks, rest);
    return 0;
}
