#pragma once
/// @file
/// @brief The handshake keys of RFC 6455 section 4: `Sec-WebSocket-Key` (base64 of a 16-byte
/// nonce) and `Sec-WebSocket-Accept` (base64 of SHA-1 of the key and a fixed GUID).

#include <array>
#include <cstddef>
#include <string_view>

#include "../detail/base64.hpp"
#include "../detail/sha1.hpp"

namespace mqttwire::ws {

/// @brief The GUID RFC 6455 section 1.3 appends to the key.
inline constexpr std::string_view handshake_guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// @brief The client's 16-byte nonce; pick it at random for every connection.
using client_nonce = std::array<std::byte, 16>;

/// @brief The `Sec-WebSocket-Key` value for `nonce` (24 characters).
[[nodiscard]] constexpr std::array<char, 24> client_key(const client_nonce& nonce) noexcept {
    std::array<char, 24> out{};
    detail::base64_encode(nonce, out);
    return out;
}

/// @brief True when `key` is the canonical base64 form of 16 bytes, as `Sec-WebSocket-Key` must
/// be (RFC 6455 section 4.1).
[[nodiscard]] constexpr bool valid_client_key(std::string_view key) noexcept {
    client_nonce nonce{};
    return detail::base64_decode_exact(key, nonce) == 16;
}

/// @brief The `Sec-WebSocket-Accept` value for `key` (28 characters):
/// base64(SHA-1(key + GUID)), RFC 6455 section 4.2.2.
/// Example: `accept_key("dGhlIHNhbXBsZSBub25jZQ==")` is `"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="`.
[[nodiscard]] constexpr std::array<char, 28> accept_key(std::string_view key) noexcept {
    detail::sha1 h;
    h.update(key);
    h.update(handshake_guid);
    const auto digest = h.finish();
    std::array<char, 28> out{};
    detail::base64_encode(digest, out);
    return out;
}

} // namespace mqttwire::ws
