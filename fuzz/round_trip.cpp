// Fuzz target: decode -> encode -> decode must agree.
//
// Input: two option bytes (fuzz_support.hpp), then packet bytes. Whenever they decode, the
// packet is re-encoded at its level (CONNECT: its own) and decoded again: the second decode
// must succeed with the same packet, use every re-encoded byte, and the re-encoding must be no
// longer than the input packet (non-canonical inputs, e.g. an ack with an explicit Success
// reason and no properties, re-encode shorter) and be a fixed point. Encoding into a buffer one
// byte short must fail with buffer_too_small without writing. Any disagreement aborts.
//
// Also re-encodes with encode_options (the receiver's Maximum Packet Size and the sender's
// role): what comes out fits the limit and decodes.

#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace mqttwire;
    fuzz::input in(data, size);
    const auto opts = fuzz::read_options(in);
    const auto limit_byte = in.byte();
    const auto bytes = in.rest();
    const auto r = decode_packet(bytes, opts);
    if (!r) return 0;
    fuzz::check_round_trip(*r, opts);

    // Encoding under a receiver's limit: Reason String, then User Properties may be dropped
    // (MQTT5-3.2.2-19/20 and twins); the result never exceeds the limit and decodes.
    const auto v = fuzz::level_of(r->packet, opts.version);
    encode_options eo;
    eo.max_packet_size = 2u + static_cast<std::uint32_t>(limit_byte) * 2u;
    const auto n = encoded_size(r->packet, v, eo);
    if (!n) {
        MQTTWIRE_FUZZ_CHECK(n.error() == errc::packet_too_large);
        return 0;
    }
    MQTTWIRE_FUZZ_CHECK(*n <= eo.max_packet_size);
    std::vector<std::byte> out(*n);
    const auto w = encode(r->packet, v, out, eo);
    MQTTWIRE_FUZZ_CHECK(w.has_value() && *w == *n);
    decode_options o2;
    o2.version = v;
    o2.bridge_levels = opts.bridge_levels; // a bridge CONNECT (level | 0x80) re-encodes as one
    const auto d = decode_packet(std::span<const std::byte>(out), o2);
    MQTTWIRE_FUZZ_CHECK(d.has_value() && d->size == out.size());
    MQTTWIRE_FUZZ_CHECK(type_of(d->packet) == type_of(r->packet));
    return 0;
}
