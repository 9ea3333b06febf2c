// Fuzz target: decode_packet on arbitrary bytes under options chosen by the input.
//
// Input: two option bytes (fuzz_support.hpp: level, sender, UTF-8 rules, payload format
// validation, maximum packet size), then the bytes to decode. The packet bytes are the tail of
// libFuzzer's exactly-sized buffer, so any read past them is an ASan report.
//
// Checks: no crash, UB or out-of-bounds read; an error is never `success`; a decoded packet
// occupies between 2 and input-size bytes and no more than max_packet_size; a decoded packet
// encodes (encoded_size == bytes written) and decoding is a function of the packet's own bytes
// (decoding exactly `size` bytes gives the same packet); every strict prefix of those bytes is
// `incomplete` or the same early error (size limit, first-byte and header checks).

#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace mqttwire;
    fuzz::input in(data, size);
    const auto opts = fuzz::read_options(in);
    const auto bytes = in.rest();
    const auto r = decode_packet(bytes, opts);
    if (!r) {
        MQTTWIRE_FUZZ_CHECK(r.error() != errc::success);
        MQTTWIRE_FUZZ_CHECK(r.error() != errc::buffer_too_small);
        return 0;
    }
    MQTTWIRE_FUZZ_CHECK(r->size >= 2 && r->size <= bytes.size());
    MQTTWIRE_FUZZ_CHECK(r->size <= opts.max_packet_size);
    const auto exact = decode_packet(bytes.first(r->size), opts);
    MQTTWIRE_FUZZ_CHECK(exact.has_value() && exact->size == r->size && exact->packet == r->packet);
    // Truncations: incomplete, never a different packet (a few lengths, to stay fast).
    for (const std::size_t len : {std::size_t{0}, std::size_t{1}, r->size / 2, r->size - 1}) {
        const auto p = decode_packet(bytes.first(len), opts);
        MQTTWIRE_FUZZ_CHECK(!p.has_value());
        MQTTWIRE_FUZZ_CHECK(p.error() == errc::incomplete);
    }
    (void)fuzz::encode_checked(r->packet, fuzz::level_of(r->packet, opts.version));
    return 0;
}
