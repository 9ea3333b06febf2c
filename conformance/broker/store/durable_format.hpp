#pragma once
/// @file
/// @brief The durable store's file format, version 1 (all integers little-endian).
///
/// ```
/// file    := header batch*
///
/// header  (32 bytes; the first 20 keep this layout in every future version)
///   0   8  signature 89 'M' 'Q' 'W' 'S' 0D 0A 1A  (non-ASCII first byte and CR LF SUB, as in
///                                                  PNG, so text-mode copies are detected)
///   8   4  format version (1)
///  12   4  header length in bytes (32 in version 1)
///  16   4  CRC-32C of bytes [0, 16) followed by bytes [20, header length)
///  20  12  zero
///
/// batch   (what one commit() wrote with one write(); all of it or none of it is loaded)
///   0   4  CRC-32C of bytes [4, 12 + payload length)
///   4   4  payload length (> 0)
///   8   4  record count (> 0)
///  12      record{count}, exactly filling the payload
///
/// record
///   0   1  type: 1 put, 2 erase
///   1   1  kind (the caller's)
///   2   2  key length
///   4   4  value length (0 for erase)
///   8      key, then value
/// ```
/// A record's identity is (kind, key); the last put or erase of an identity in file order wins.

#include "durable_hash.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace mqttwire::broker::detail::durable_format {

inline constexpr std::array<std::byte, 8> signature = {
    std::byte{0x89}, std::byte{'M'},  std::byte{'Q'},  std::byte{'W'},
    std::byte{'S'},  std::byte{0x0D}, std::byte{0x0A}, std::byte{0x1A}};
inline constexpr std::uint32_t version = 1;
inline constexpr std::size_t header_size = 32;
inline constexpr std::size_t header_crc_offset = 16;
/// Headers longer than this are refused as damaged before their checksum is computed.
inline constexpr std::size_t max_header_size = 4096;
inline constexpr std::size_t batch_header_size = 12;
inline constexpr std::size_t record_header_size = 8;
inline constexpr std::size_t max_key_size = 0xFFFF;
inline constexpr std::uint8_t type_put = 1;
inline constexpr std::uint8_t type_erase = 2;

[[nodiscard]] constexpr std::uint16_t load_u16(std::span<const std::byte> b,
                                               std::size_t at) noexcept {
    return static_cast<std::uint16_t>(std::to_integer<unsigned>(b[at]) |
                                      std::to_integer<unsigned>(b[at + 1]) << 8);
}

[[nodiscard]] constexpr std::uint32_t load_u32(std::span<const std::byte> b,
                                               std::size_t at) noexcept {
    return static_cast<std::uint32_t>(load_le64(b.subspan(at, 4)));
}

constexpr void store_u16(std::span<std::byte> b, std::size_t at, std::uint16_t v) noexcept {
    b[at] = static_cast<std::byte>(v & 0xFFU);
    b[at + 1] = static_cast<std::byte>(v >> 8);
}

constexpr void store_u32(std::span<std::byte> b, std::size_t at, std::uint32_t v) noexcept {
    for (std::size_t i = 0; i < 4; ++i) {
        b[at + i] = static_cast<std::byte>((v >> (8 * i)) & 0xFFU);
    }
}

/// @brief The header checksum: bytes [0, 16) and [20, header length) of `header`.
[[nodiscard]] inline std::uint32_t header_crc(std::span<const std::byte> header) noexcept {
    const auto head = crc32c(header.first(header_crc_offset));
    return crc32c(header.subspan(header_crc_offset + 4), head);
}

/// @brief A valid header claiming `format_version` (tests use other versions to make files
/// from the future).
[[nodiscard]] inline std::array<std::byte, header_size>
make_header(std::uint32_t format_version = version) noexcept {
    std::array<std::byte, header_size> h{};
    for (std::size_t i = 0; i < signature.size(); ++i) {
        h[i] = signature[i];
    }
    store_u32(h, 8, format_version);
    store_u32(h, 12, static_cast<std::uint32_t>(header_size));
    store_u32(h, header_crc_offset, header_crc(h));
    return h;
}

/// @brief mosquitto's persistence file (mosquitto.db) starts with these 15 bytes; recognising
/// them turns "not a store" into a message that says what the file is.
inline constexpr std::array<std::byte, 15> mosquitto_db_signature = {
    std::byte{0x00}, std::byte{0xB5}, std::byte{0x00}, std::byte{'m'}, std::byte{'o'},
    std::byte{'s'},  std::byte{'q'},  std::byte{'u'},  std::byte{'i'}, std::byte{'t'},
    std::byte{'t'},  std::byte{'o'},  std::byte{' '},  std::byte{'d'}, std::byte{'b'}};

} // namespace mqttwire::broker::detail::durable_format
