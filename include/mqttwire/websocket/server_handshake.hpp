#pragma once
/// @file
/// @brief The server side of the WebSocket opening handshake (RFC 6455 section 4.2; MQTT 3.1.1
/// and 5.0 section 6): an incremental, bounded parser of the client's upgrade request and the
/// writers of the 101 response and of the refusals.

#include <cstddef>
#include <cstdint>
#include <ranges>
#include <span>
#include <string_view>

#include "../detail/http.hpp"
#include "../detail/ws_head.hpp"
#include "../errc.hpp"
#include "../result.hpp"
#include "handshake_errc.hpp"
#include "handshake_key.hpp"

namespace mqttwire::ws {

/// @brief The subprotocols a server selects from by default, in order of preference:
/// "mqtt" (MQTT-6.0.0-4 / MQTT5-6.0.0-4), then "mqttv3.1", which older 3.1 clients offer.
inline constexpr std::string_view default_subprotocols[] = {"mqtt", "mqttv3.1"};

/// @brief Limits and choices of `upgrade_request_parser`.
struct handshake_options {
    /// The longest request head, request line and blank line included; a longer one is refused
    /// as soon as that many bytes are buffered without a blank line (HTTP 431).
    std::size_t max_head_size = 8192;
    /// The most header fields accepted (HTTP 431 beyond).
    std::size_t max_header_count = 64;
    /// The subprotocols this server speaks, most preferred first; the first of them the client
    /// offers is selected (the client's order does not matter). Names compare case-sensitively.
    /// The strings must outlive the parser: the request points at the selected one.
    std::span<const std::string_view> subprotocols = default_subprotocols;
    /// A request without any `Sec-WebSocket-Protocol` field is refused with 400 by default,
    /// since an MQTT client must offer "mqtt" (MQTT-6.0.0-3 / MQTT5-6.0.0-3). With this flag it
    /// is accepted and the 101 response names no subprotocol, which RFC 6455 section 4.2.2
    /// allows and which is what libwebsockets-based brokers (mosquitto 2.0) do. A client that
    /// offers only subprotocols outside the list is refused either way: answering it without
    /// one would make a browser fail the connection anyway.
    bool accept_missing_subprotocol = false;
};

/// @brief What an accepted upgrade request said. The views point into the buffer given to
/// `upgrade_request_parser::parse` (and `subprotocol` into `handshake_options::subprotocols`).
struct upgrade_request {
    /// The request-target as sent (any path is accepted; the embedder may route on it).
    std::string_view target{};
    std::string_view host{};
    /// Empty when the client sent no `Origin` (browsers always do; check it if you serve
    /// browsers from known pages only).
    std::string_view origin{};
    /// `Sec-WebSocket-Key`, checked to be base64 of 16 bytes.
    std::string_view key{};
    /// The selected subprotocol; empty when none was offered and that was accepted.
    std::string_view subprotocol{};
    /// Bytes of the head including its blank line. Bytes after it belong to the WebSocket
    /// stream.
    std::size_t head_size = 0;
};

/// @brief Parses a client's opening handshake as its bytes arrive.
///
/// Call `parse` with everything received so far (the same buffer, growing) until it returns
/// something other than `handshake_errc::incomplete`; each byte is scanned once for the blank
/// line, and nothing is copied. Checks (RFC 6455 section 4.2.1, RFC 7230): a GET request line
/// with any request-target and HTTP/1.1 or later; header fields in HTTP syntax, names compared
/// case-insensitively, at most `max_header_count`; exactly one Host; `Upgrade` listing
/// `websocket` and `Connection` listing `upgrade` (case-insensitive list elements, as browsers
/// send `Connection: keep-alive, Upgrade`); exactly one `Sec-WebSocket-Key` that is base64 of
/// 16 bytes; `Sec-WebSocket-Version: 13`; no body; a subprotocol from the caller's list.
/// `Sec-WebSocket-Extensions` is ignored: no extension is ever accepted.
///
/// Example:
/// @code
/// ws::upgrade_request_parser p;
/// const auto e = p.parse(received);          // all bytes so far
/// if (e == ws::handshake_errc::incomplete) return;  // read more
/// auto n = e == ws::handshake_errc::success ? ws::write_accept_response(p.request(), out)
///                                           : ws::write_error_response(e, out);
/// @endcode
class upgrade_request_parser {
  public:
    constexpr explicit upgrade_request_parser(const handshake_options& options = {}) noexcept
        : options_(options) {}

    /// @brief Parses `buffered`, all bytes received so far on the connection. The views of
    /// `request()` point into it: keep those bytes in place while using them (the overload for
    /// temporaries is deleted).
    /// @return `handshake_errc::success` (see `request()`), `incomplete`, or the refusal;
    /// once not `incomplete`, the same answer on every later call.
    [[nodiscard]] constexpr handshake_errc parse(std::string_view buffered) noexcept {
        return reader_.read(buffered, options_.max_head_size, request_.head_size,
                            [this](std::string_view head) {
                                const auto e = parse_head(head);
                                if (e != handshake_errc::success) request_ = {};
                                return e;
                            });
    }
    /// @overload (not usable in constant evaluation)
    [[nodiscard]] handshake_errc parse(std::span<const std::byte> buffered) noexcept {
        return parse(detail::ws_chars(buffered));
    }
    /// @brief Deleted: the request's views would point into a destroyed temporary.
    template <class Range>
        requires(std::ranges::contiguous_range<Range> && !std::ranges::borrowed_range<Range>)
    handshake_errc parse(Range&&) = delete;

    /// @brief The accepted request; meaningful after `parse` returned `success`.
    [[nodiscard]] constexpr const upgrade_request& request() const noexcept { return request_; }
    [[nodiscard]] constexpr handshake_errc status() const noexcept { return reader_.status(); }

  private:
    [[nodiscard]] constexpr handshake_errc parse_head(std::string_view head) noexcept;

    handshake_options options_;
    detail::ws_head_reader reader_{};
    upgrade_request request_{};
};

constexpr handshake_errc upgrade_request_parser::parse_head(std::string_view head) noexcept {
    using detail::ascii_iequal;
    // request-line = method SP request-target SP HTTP-version (RFC 7230 section 3.1.1)
    const auto request_line = [this](std::string_view line) {
        const std::size_t sp1 = line.find(' ');
        if (sp1 == std::string_view::npos) return handshake_errc::malformed;
        const auto method = detail::sv_head(line, sp1);
        const auto rest = detail::sv_tail(line, sp1 + 1);
        const std::size_t sp2 = rest.find(' ');
        if (sp2 == std::string_view::npos) return handshake_errc::malformed;
        const auto target = detail::sv_head(rest, sp2);
        int major = 0;
        int minor = 0;
        if (!detail::http_token(method) || !detail::http_visible(target) ||
            !detail::http_parse_version(detail::sv_tail(rest, sp2 + 1), major, minor))
            return handshake_errc::malformed;
        // RFC 6455 section 4.2.1 item 1: an HTTP/1.1 or higher GET request.
        if (major != 1 || minor < 1) return handshake_errc::http_version_not_supported;
        if (method != "GET") return handshake_errc::method_not_allowed;
        request_.target = target;
        return handshake_errc::success;
    };

    bool host = false, upgrade = false, connection = false, body = false;
    bool version_seen = false, version_ok = true, protocol_offered = false;
    std::size_t keys = 0;
    std::size_t best = options_.subprotocols.size();
    const auto field = [&](std::string_view name, std::string_view value) {
        if (ascii_iequal(name, "Host")) {
            // RFC 7230 section 5.4: more than one Host is a bad request.
            if (host) return handshake_errc::malformed;
            host = true;
            request_.host = value;
        } else if (ascii_iequal(name, "Upgrade")) {
            upgrade = upgrade || detail::http_list_has_ci(value, "websocket");
        } else if (ascii_iequal(name, "Connection")) {
            connection = connection || detail::http_list_has_ci(value, "upgrade");
        } else if (ascii_iequal(name, "Sec-WebSocket-Key")) {
            ++keys;
            request_.key = value;
        } else if (ascii_iequal(name, "Sec-WebSocket-Version")) {
            version_seen = true;
            version_ok = version_ok && value == "13";
        } else if (ascii_iequal(name, "Sec-WebSocket-Protocol")) {
            // May repeat; together the fields form one list (RFC 6455 section 11.3.4).
            protocol_offered = true;
            if (!detail::http_token_list(value)) return handshake_errc::malformed;
            const auto ours = options_.subprotocols;
            (void)detail::http_list_any(value, [&best, ours](std::string_view offered) {
                for (std::size_t i = 0; i < best; ++i)
                    if (ours[i] == offered) best = i;
                return false;
            });
        } else if (ascii_iequal(name, "Origin")) {
            if (!request_.origin.empty()) return handshake_errc::malformed;
            request_.origin = value;
        } else if (ascii_iequal(name, "Content-Length")) {
            body = body || value.empty() || value.find_first_not_of('0') != std::string_view::npos;
        } else if (ascii_iequal(name, "Transfer-Encoding")) {
            body = true;
        }
        return handshake_errc::success;
    };
    if (const auto e = detail::ws_walk_head(head, options_.max_header_count, request_line, field);
        e != handshake_errc::success)
        return e;

    if (!host || request_.host.empty()) return handshake_errc::missing_host;
    if (body) return handshake_errc::unexpected_body;
    if (!upgrade || !connection) return handshake_errc::not_websocket_upgrade;
    // Section 4.2.2: a version other than 13 gets 426 and the version this server speaks.
    if (!version_seen || !version_ok) return handshake_errc::unsupported_websocket_version;
    // Section 4.1: exactly one key, base64 of a 16-byte nonce.
    if (keys != 1 || !valid_client_key(request_.key)) return handshake_errc::bad_key;
    // MQTT-6.0.0-4 / MQTT5-6.0.0-4: the server selects "mqtt" (first in the default list).
    if (best < options_.subprotocols.size()) {
        request_.subprotocol = options_.subprotocols[best];
    } else if (protocol_offered || !options_.accept_missing_subprotocol) {
        return handshake_errc::no_subprotocol;
    }
    return handshake_errc::success;
}

} // namespace mqttwire::ws

namespace mqttwire::detail {

[[nodiscard]] constexpr std::size_t ws_accept_response(const ws::upgrade_request& r,
                                                       std::span<std::byte>* out) noexcept {
    const auto accept = ws::accept_key(r.key);
    return http_write(out, [&](http_writer& w) {
        w << "HTTP/1.1 101 Switching Protocols\r\n"
          << "Upgrade: websocket\r\n"
          << "Connection: Upgrade\r\n"
          << "Sec-WebSocket-Accept: " << std::string_view(accept.data(), accept.size()) << "\r\n";
        if (!r.subprotocol.empty()) w << "Sec-WebSocket-Protocol: " << r.subprotocol << "\r\n";
        w << "\r\n";
    });
}

[[nodiscard]] constexpr std::size_t ws_error_response(std::uint16_t status,
                                                      std::span<std::byte>* out) noexcept {
    std::string_view line{};
    switch (status) {
    case 400: line = "HTTP/1.1 400 Bad Request\r\n"; break;
    case 405: line = "HTTP/1.1 405 Method Not Allowed\r\nAllow: GET\r\n"; break;
    case 426:
        line = "HTTP/1.1 426 Upgrade Required\r\nUpgrade: websocket\r\n"
               "Sec-WebSocket-Version: 13\r\n";
        break;
    case 431: line = "HTTP/1.1 431 Request Header Fields Too Large\r\n"; break;
    case 505: line = "HTTP/1.1 505 HTTP Version Not Supported\r\n"; break;
    default: return 0;
    }
    return http_write(out, [line](http_writer& w) {
        w << line << "Connection: close\r\nContent-Length: 0\r\n\r\n";
    });
}

} // namespace mqttwire::detail

namespace mqttwire::ws {

/// @brief Bytes of the 101 response `write_accept_response` writes for `r`.
/// @return `errc::invalid_argument` when `r` is not an accepted request (a key that is not
/// base64 of 16 bytes, a subprotocol that is not a token).
[[nodiscard]] constexpr result<std::size_t> accept_response_size(const upgrade_request& r) noexcept {
    if (!valid_client_key(r.key)) return errc::invalid_argument;
    if (!r.subprotocol.empty() && !detail::http_token(r.subprotocol)) return errc::invalid_argument;
    return detail::ws_accept_response(r, nullptr);
}

/// @brief Writes the 101 Switching Protocols response that accepts `r`: `Upgrade`,
/// `Connection`, `Sec-WebSocket-Accept` and, when one was selected, `Sec-WebSocket-Protocol`
/// (MQTT-6.0.0-4 / MQTT5-6.0.0-4). After it, both ends speak WebSocket frames.
/// @return the bytes written; `errc::invalid_argument` as for `accept_response_size`;
/// `errc::buffer_too_small` with nothing written.
[[nodiscard]] constexpr result<std::size_t> write_accept_response(const upgrade_request& r,
                                                                  std::span<std::byte> out) noexcept {
    const auto size = accept_response_size(r);
    if (!size) return size;
    if (out.size() < *size) return errc::buffer_too_small;
    return detail::ws_accept_response(r, &out);
}

/// @brief Bytes of the refusal `write_error_response` writes for `e`.
/// @return `errc::invalid_argument` for an `e` without an HTTP status (`http_status_of` 0).
[[nodiscard]] constexpr result<std::size_t> error_response_size(handshake_errc e) noexcept {
    const auto n = detail::ws_error_response(http_status_of(e), nullptr);
    if (n == 0) return errc::invalid_argument;
    return n;
}

/// @brief Writes the HTTP refusal for `e` (status from `http_status_of`): 426 carries
/// `Sec-WebSocket-Version: 13` (RFC 6455 section 4.4), 405 `Allow: GET`; every refusal asks to
/// close the connection and has an empty body.
/// @return the bytes written; `errc::invalid_argument` as for `error_response_size`;
/// `errc::buffer_too_small` with nothing written.
[[nodiscard]] constexpr result<std::size_t> write_error_response(handshake_errc e,
                                                                 std::span<std::byte> out) noexcept {
    const auto size = error_response_size(e);
    if (!size) return size;
    if (out.size() < *size) return errc::buffer_too_small;
    return detail::ws_error_response(http_status_of(e), &out);
}

} // namespace mqttwire::ws
