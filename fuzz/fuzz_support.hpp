#pragma once
// Shared by the fuzz targets: reading choices from the front of an input, the decode options a
// target derives from them, and the decode -> encode -> decode check.
//
// A target never prints on success and calls std::abort() (through MQTTWIRE_FUZZ_CHECK) on a
// violated law, so libFuzzer stores the input as a crash-* reproducer and the replay program
// exits non-zero.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <variant>
#include <vector>

#include <mqttwire.hpp>

#define MQTTWIRE_FUZZ_CHECK(cond)                                                              \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);      \
            std::abort();                                                                      \
        }                                                                                      \
    } while (0)

namespace mqttwire::fuzz {

/// Consumes bytes from the front of the input; past the end it yields zeros.
class input {
  public:
    input(const std::uint8_t* data, std::size_t size) noexcept : data_(data), size_(size) {}
    std::uint8_t byte() noexcept { return pos_ < size_ ? data_[pos_++] : 0; }
    std::uint16_t u16() noexcept {
        const auto hi = byte();
        return static_cast<std::uint16_t>(hi << 8 | byte());
    }
    /// The rest of the input as bytes (a view into the fuzzer's buffer: reads past it are
    /// caught by ASan, since libFuzzer allocates exactly `size` bytes).
    std::span<const std::byte> rest() noexcept {
        const auto* p = reinterpret_cast<const std::byte*>(data_) + pos_;
        const std::size_t n = size_ - pos_;
        pos_ = size_;
        return {p, n};
    }
    std::span<const std::byte> take(std::size_t n) noexcept {
        n = std::min(n, size_ - pos_);
        const auto* p = reinterpret_cast<const std::byte*>(data_) + pos_;
        pos_ += n;
        return {p, n};
    }
    [[nodiscard]] std::size_t remaining() const noexcept { return size_ - pos_; }

  private:
    const std::uint8_t* data_;
    std::size_t size_;
    std::size_t pos_ = 0;
};

/// Two option bytes: level (3.1, 3.1.1, 5.0), sender, SHOULD-level UTF-8 rules, payload format
/// validation and a maximum packet size (none, or a small limit that the input can exceed).
///   byte 0: bits 0-1 level (0: 3.1, 1: 3.1.1, 2-3: 5.0; 3 also takes bridge levels in CONNECT); bits 2-3 sender (0/3 unknown,
///           1 client, 2 server); bit 4 reject control characters; bit 5 reject non-characters;
///           bit 6 validate_payload_format; bit 7 a maximum packet size from byte 1
///   byte 1: maximum packet size = 2 + 4 * byte (when bit 7 of byte 0 is set)
inline decode_options read_options(input& in) noexcept {
    const auto b = in.byte();
    const auto m = in.byte();
    decode_options o;
    switch (b & 3u) {
    case 0: o.version = protocol_version::v3_1; break;
    case 1: o.version = protocol_version::v3_1_1; break;
    default: o.version = protocol_version::v5; break;
    }
    // Level bits 3: 5.0 as for 2, and mosquitto's bridge levels accepted in CONNECT.
    o.bridge_levels = (b & 3u) == 3u;
    switch ((b >> 2) & 3u) {
    case 1: o.sender = peer_role::client; break;
    case 2: o.sender = peer_role::server; break;
    default: o.sender = peer_role::unknown; break;
    }
    o.utf8.reject_control_characters = (b & 0x10u) != 0;
    o.utf8.reject_noncharacters = (b & 0x20u) != 0;
    o.validate_payload_format = (b & 0x40u) != 0;
    if ((b & 0x80u) != 0) o.max_packet_size = 2u + 4u * m;
    return o;
}

/// The level a decoded packet is re-encoded at: CONNECT carries its own.
inline protocol_version level_of(const packet_view& p, protocol_version connection) noexcept {
    if (const auto* c = std::get_if<connect_view>(&p)) return c->version;
    return connection;
}

/// Encodes `p` at `v` checking encoded_size == bytes written and the buffer_too_small contract
/// one byte short (guard byte untouched). Aborts when a decoded packet cannot be encoded: the
/// encoder must accept everything the decoder accepts.
inline std::vector<std::byte> encode_checked(const packet_view& p, protocol_version v) {
    const auto size = encoded_size(p, v);
    MQTTWIRE_FUZZ_CHECK(size.has_value());
    std::vector<std::byte> out(*size + 1, std::byte{0xA5});
    const auto n = encode(p, v, std::span<std::byte>(out.data(), *size));
    MQTTWIRE_FUZZ_CHECK(n.has_value() && *n == *size);
    MQTTWIRE_FUZZ_CHECK(out[*size] == std::byte{0xA5});
    if (*size > 0) {
        std::vector<std::byte> small(*size, std::byte{0x5A});
        const auto r = encode(p, v, std::span<std::byte>(small.data(), *size - 1));
        MQTTWIRE_FUZZ_CHECK(!r.has_value() && r.error() == errc::buffer_too_small);
        for (const auto b : small) MQTTWIRE_FUZZ_CHECK(b == std::byte{0x5A});
    }
    out.resize(*size);
    return out;
}

/// decode -> encode -> decode: the second decode succeeds, occupies every re-encoded byte, and
/// gives the same packet; the re-encoding is never longer than the input packet (non-canonical
/// inputs re-encode shorter), and re-encoding it again gives the same bytes (canonical).
inline void check_round_trip(const decoded_packet& d, const decode_options& o) {
    const auto v = level_of(d.packet, o.version);
    const auto bytes = encode_checked(d.packet, v);
    // A bridge CONNECT may pair either protocol name with either bridge level (mqtt-packet's
    // vectors do); the encoder writes the name that belongs to the level, up to 2 bytes longer.
    const auto* c = std::get_if<connect_view>(&d.packet);
    const std::size_t renamed = c != nullptr && c->bridge ? 2 : 0;
    MQTTWIRE_FUZZ_CHECK(bytes.size() <= d.size + renamed);
    decode_options o2 = o;
    o2.version = v;
    o2.max_packet_size = max_packet_size_limit;
    const auto d2 = decode_packet(std::span<const std::byte>(bytes), o2);
    MQTTWIRE_FUZZ_CHECK(d2.has_value());
    MQTTWIRE_FUZZ_CHECK(d2->size == bytes.size());
    MQTTWIRE_FUZZ_CHECK(d2->packet == d.packet);
    const auto again = encode_checked(d2->packet, v);
    MQTTWIRE_FUZZ_CHECK(again == bytes);
}

} // namespace mqttwire::fuzz
