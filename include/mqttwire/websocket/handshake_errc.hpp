#pragma once
/// @file
/// @brief Outcomes of the WebSocket opening handshake (RFC 6455 section 4), on either side, and
/// the HTTP status a server answers each refusal with.

#include <cstdint>
#include <string_view>

namespace mqttwire::ws {

/// @brief Why a handshake is not (yet) accepted.
enum class handshake_errc : std::uint8_t {
    success = 0,
    /// The blank line that ends the head has not arrived: read more.
    incomplete,
    /// No blank line within the head size limit (HTTP 431).
    head_too_large,
    /// More header fields than the limit (HTTP 431).
    too_many_headers,
    /// The request or status line or a header field is not HTTP/1.1 syntax, or a field that
    /// must appear once appears twice (HTTP 400).
    malformed,
    /// The request method is not GET (HTTP 405).
    method_not_allowed,
    /// Not HTTP/1.1 or a later 1.x (HTTP 505).
    http_version_not_supported,
    /// No Host header field (HTTP 400).
    missing_host,
    /// A body announced (Content-Length other than 0, or Transfer-Encoding): the bytes after
    /// the head must be WebSocket frames (HTTP 400).
    unexpected_body,
    /// `Upgrade` does not list `websocket` or `Connection` does not list `upgrade` (HTTP 400).
    not_websocket_upgrade,
    /// `Sec-WebSocket-Version` missing or not 13 (HTTP 426 with `Sec-WebSocket-Version: 13`).
    unsupported_websocket_version,
    /// `Sec-WebSocket-Key` missing, repeated, or not the base64 form of 16 bytes (HTTP 400).
    bad_key,
    /// None of the server's subprotocols offered (HTTP 400).
    no_subprotocol,
    /// Client side: the server's status is not 101 (`upgrade_response::status` has it).
    bad_status,
    /// Client side: `Sec-WebSocket-Accept` missing or not the one the key calls for.
    bad_accept,
    /// Client side: the server selected a subprotocol the client did not offer, or none.
    bad_subprotocol,
    /// Client side: the server selected an extension the client did not offer.
    unexpected_extension,
};

/// @brief A short, stable, lower-case name for `e` (the enumerator's name).
[[nodiscard]] constexpr std::string_view handshake_errc_name(handshake_errc e) noexcept {
    switch (e) {
    case handshake_errc::success: return "success";
    case handshake_errc::incomplete: return "incomplete";
    case handshake_errc::head_too_large: return "head_too_large";
    case handshake_errc::too_many_headers: return "too_many_headers";
    case handshake_errc::malformed: return "malformed";
    case handshake_errc::method_not_allowed: return "method_not_allowed";
    case handshake_errc::http_version_not_supported: return "http_version_not_supported";
    case handshake_errc::missing_host: return "missing_host";
    case handshake_errc::unexpected_body: return "unexpected_body";
    case handshake_errc::not_websocket_upgrade: return "not_websocket_upgrade";
    case handshake_errc::unsupported_websocket_version: return "unsupported_websocket_version";
    case handshake_errc::bad_key: return "bad_key";
    case handshake_errc::no_subprotocol: return "no_subprotocol";
    case handshake_errc::bad_status: return "bad_status";
    case handshake_errc::bad_accept: return "bad_accept";
    case handshake_errc::bad_subprotocol: return "bad_subprotocol";
    case handshake_errc::unexpected_extension: return "unexpected_extension";
    }
    return "unknown";
}

/// @brief The HTTP status a server refuses a request with for `e`: 400, 405, 426, 431 or 505;
/// 0 for `success`, `incomplete` and the client-side outcomes.
[[nodiscard]] constexpr std::uint16_t http_status_of(handshake_errc e) noexcept {
    switch (e) {
    case handshake_errc::head_too_large:
    case handshake_errc::too_many_headers: return 431;
    case handshake_errc::malformed:
    case handshake_errc::missing_host:
    case handshake_errc::unexpected_body:
    case handshake_errc::not_websocket_upgrade:
    case handshake_errc::bad_key:
    case handshake_errc::no_subprotocol: return 400;
    case handshake_errc::method_not_allowed: return 405;
    case handshake_errc::http_version_not_supported: return 505;
    case handshake_errc::unsupported_websocket_version: return 426;
    case handshake_errc::success:
    case handshake_errc::incomplete:
    case handshake_errc::bad_status:
    case handshake_errc::bad_accept:
    case handshake_errc::bad_subprotocol:
    case handshake_errc::unexpected_extension: return 0;
    }
    return 0;
}

} // namespace mqttwire::ws
