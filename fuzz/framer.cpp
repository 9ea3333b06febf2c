// Fuzz target: the framer over a stream delivered in chunks whose sizes come from the input.
//
// Input: byte 0 = number k of chunk-size bytes (k = byte % 16), byte 1 selects the maximum
// packet size (0: none; else 2 + 16 * byte), then k chunk sizes (0 means 1; cycled), then the
// stream.
//
// A receiver appends each chunk to a buffer and calls next_frame until it needs more bytes.
// Checks: the frames (sizes and final status) are exactly those found when the whole stream is
// framed at once (chunking never changes the result); a successful frame fits the buffer and is
// at least its header; `incomplete` with a known size asks for more bytes than are buffered;
// an error is final (malformed_packet or packet_too_large) and packet_too_large is reported as
// soon as the Remaining Length is readable (at most 5 bytes buffered past the frame start,
// before the body arrives). Each complete frame is then decoded at every level: a success uses
// exactly the frame.

#include <vector>

#include "fuzz_support.hpp"

namespace {

using namespace mqttwire;

struct outcome {
    std::vector<std::size_t> frames;
    errc final_status = errc::incomplete;
    bool operator==(const outcome&) const = default;
};

outcome run(std::span<const std::byte> stream, std::span<const std::byte> chunks,
            std::uint32_t limit) {
    outcome out;
    std::vector<std::byte> buffered;
    std::size_t pos = 0;
    std::size_t k = 0;
    while (pos < stream.size()) {
        std::size_t c = chunks.empty() ? stream.size() : static_cast<std::size_t>(chunks[k++ % chunks.size()]);
        if (c == 0) c = 1;
        c = std::min(c, stream.size() - pos);
        buffered.insert(buffered.end(), stream.begin() + static_cast<std::ptrdiff_t>(pos),
                        stream.begin() + static_cast<std::ptrdiff_t>(pos + c));
        pos += c;
        while (true) {
            const auto f = next_frame(buffered, limit);
            if (f.status == errc::incomplete) {
                if (f.size != 0) {
                    MQTTWIRE_FUZZ_CHECK(f.size > buffered.size());
                    MQTTWIRE_FUZZ_CHECK(f.header_size >= 2 && f.header_size <= 5);
                    MQTTWIRE_FUZZ_CHECK(f.size <= limit);
                } else {
                    MQTTWIRE_FUZZ_CHECK(buffered.size() <= 4);
                }
                break;
            }
            if (f.status != errc::success) {
                MQTTWIRE_FUZZ_CHECK(f.status == errc::malformed_packet ||
                                    f.status == errc::packet_too_large);
                // Refused as soon as the header is readable: never more than 5 header bytes
                // needed (plus whatever else the chunk happened to bring).
                const auto early = next_frame(std::span<const std::byte>(buffered).first(
                                                  std::min<std::size_t>(buffered.size(), 5)),
                                              limit);
                MQTTWIRE_FUZZ_CHECK(early.status == f.status);
                out.final_status = f.status;
                return out;
            }
            MQTTWIRE_FUZZ_CHECK(f.size >= f.header_size && f.header_size >= 2);
            MQTTWIRE_FUZZ_CHECK(f.size <= buffered.size() && f.size <= limit);
            out.frames.push_back(f.size);
            buffered.erase(buffered.begin(), buffered.begin() + static_cast<std::ptrdiff_t>(f.size));
        }
    }
    out.final_status = buffered.empty() ? errc::success : errc::incomplete;
    return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::input in(data, size);
    const std::size_t k = in.byte() % 16u;
    const auto m = in.byte();
    const std::uint32_t limit = m == 0 ? max_packet_size_limit : 2u + 16u * m;
    const auto chunks = in.take(k);
    const auto stream = in.rest();
    const auto chunked = run(stream, chunks, limit);
    const auto whole = run(stream, {}, limit);
    MQTTWIRE_FUZZ_CHECK(chunked == whole);
    static constexpr std::byte one_byte[1] = {std::byte{1}};
    const auto bytewise = run(stream, one_byte, limit);
    MQTTWIRE_FUZZ_CHECK(bytewise == whole);
    // Each frame decodes to exactly its own size, or fails without claiming more bytes.
    std::size_t at = 0;
    for (const auto n : whole.frames) {
        const auto frame = stream.subspan(at, n);
        for (const auto v : {protocol_version::v3_1, protocol_version::v3_1_1, protocol_version::v5}) {
            decode_options o;
            o.version = v;
            const auto d = decode_packet(frame, o);
            if (d) MQTTWIRE_FUZZ_CHECK(d->size == n);
            else MQTTWIRE_FUZZ_CHECK(d.error() != errc::incomplete);
        }
        at += n;
    }
    return 0;
}
