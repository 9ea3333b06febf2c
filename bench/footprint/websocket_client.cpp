// A device speaking MQTT over WebSockets (websocket.hpp): write the opening handshake, verify
// the server's answer, deframe what follows in place (answering pings and closes) and frame the
// MQTT packets it carries, then send one packet in a masked binary frame.
#include <array>
#include <cstddef>
#include <span>

#include <mqttwire/framer.hpp>
#include <mqttwire/websocket.hpp>

#include "footprint.h"

namespace ws = mqttwire::ws;

int main() {
    footprint_fill();
    const auto input = std::as_writable_bytes(std::span(footprint_input));
    std::array<std::byte, 256> out{};

    ws::client_nonce nonce{};
    for (std::size_t i = 0; i < nonce.size(); ++i) nonce[i] = input[i];
    const ws::client_handshake_options options{.host = "broker.local"};
    const auto request = ws::write_upgrade_request(options, nonce, out);
    footprint_use(request ? *request : 0);

    ws::upgrade_response_parser response(options, nonce);
    const auto head = input.first(footprint_byte(16) % 128);
    footprint_use(static_cast<unsigned long>(response.parse(head)));

    ws::deframer d({.local = ws::role::client});
    const ws::masking_key key{input[17], input[18], input[19], input[20]};
    auto buf = input.subspan(128);
    std::size_t in_at = 0;
    std::size_t out_at = 0;
    while (in_at < buf.size() && !d.ended()) {
        const auto r = d.decode(buf.subspan(in_at), buf.subspan(out_at));
        in_at += r.consumed;
        out_at += r.produced;
        if (r.event != ws::deframe_event::none) {
            const auto n = d.write_reply(r, out, key);
            footprint_use(n ? *n : 0);
        }
    }
    std::span<const std::byte> stream = buf.first(out_at);
    while (!stream.empty()) {
        const auto f = mqttwire::next_frame(stream, 128);
        if (f.status != mqttwire::errc::success) break;
        footprint_use(f.size);
        stream = stream.subspan(f.size);
    }

    const auto packet = input.subspan(21, footprint_byte(21) % 64);
    const auto h = ws::make_header(ws::role::client, ws::opcode::binary, packet.size(), key);
    const auto sent = ws::encode_frame(h, packet, out);
    footprint_use(sent ? *sent : 0);
    return 0;
}
