#pragma once
/// @file
/// @brief The client side of the WebSocket opening handshake (RFC 6455 section 4.1; MQTT 3.1.1
/// and 5.0 section 6): the upgrade request writer and an incremental verifier of the server's
/// response.

#include <array>
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

/// @brief The subprotocol list an MQTT client offers by default: "mqtt" (MQTT-6.0.0-3 /
/// MQTT5-6.0.0-3).
inline constexpr std::string_view mqtt_subprotocols[] = {"mqtt"};

/// @brief What the client asks for and how it reads the answer.
struct client_handshake_options {
    /// The `Host` field: the server's host name, with `:port` when not the default port.
    std::string_view host{};
    /// The request-target. Brokers commonly serve MQTT at "/mqtt"; some accept any path.
    std::string_view target = "/mqtt";
    /// Sent as `Origin` when not empty.
    std::string_view origin{};
    /// Offered in `Sec-WebSocket-Protocol`, in this order; not sent when empty.
    std::span<const std::string_view> subprotocols = mqtt_subprotocols;
    /// Limits of the response head, as on the server side.
    std::size_t max_head_size = 8192;
    std::size_t max_header_count = 64;
    /// Accept a 101 response that selects no subprotocol (RFC 6455 allows it; MQTT-6.0.0-4 /
    /// MQTT5-6.0.0-4 say the server returns "mqtt", so by default it fails with
    /// `handshake_errc::bad_subprotocol`).
    bool accept_missing_subprotocol = false;
};

} // namespace mqttwire::ws

namespace mqttwire::detail {

[[nodiscard]] constexpr std::size_t ws_upgrade_request(const ws::client_handshake_options& o,
                                                       const ws::client_nonce& nonce,
                                                       std::span<std::byte>* out) noexcept {
    const auto key = ws::client_key(nonce);
    return http_write(out, [&](http_writer& w) {
        w << "GET " << o.target << " HTTP/1.1\r\n"
          << "Host: " << o.host << "\r\n"
          << "Upgrade: websocket\r\n"
          << "Connection: Upgrade\r\n"
          << "Sec-WebSocket-Key: " << std::string_view(key.data(), key.size()) << "\r\n"
          << "Sec-WebSocket-Version: 13\r\n";
        if (!o.subprotocols.empty()) {
            w << "Sec-WebSocket-Protocol: ";
            for (std::size_t i = 0; i < o.subprotocols.size(); ++i)
                w << (i == 0 ? "" : ", ") << o.subprotocols[i];
            w << "\r\n";
        }
        if (!o.origin.empty()) w << "Origin: " << o.origin << "\r\n";
        w << "\r\n";
    });
}

// What a request writer refuses to put on the wire: empty or non-visible host and target, an
// origin with spaces or control characters, subprotocols that are not tokens (any of which
// could also smuggle a CRLF into the head).
[[nodiscard]] constexpr bool ws_request_writable(const ws::client_handshake_options& o) noexcept {
    if (!http_visible(o.host) || !http_visible(o.target)) return false;
    if (!o.origin.empty() && !http_visible(o.origin)) return false;
    for (const auto p : o.subprotocols)
        if (!http_token(p)) return false;
    return true;
}

} // namespace mqttwire::detail

namespace mqttwire::ws {

/// @brief Bytes of the request `write_upgrade_request` writes for `o`.
/// @return `errc::invalid_argument` for an empty host or target, or a host, target, origin or
/// subprotocol with characters a head cannot carry.
[[nodiscard]] constexpr result<std::size_t> upgrade_request_size(
    const client_handshake_options& o) noexcept {
    if (!detail::ws_request_writable(o)) return errc::invalid_argument;
    return detail::ws_upgrade_request(o, {}, nullptr);
}

/// @brief Writes the opening handshake: `GET target HTTP/1.1` with `Host`, `Upgrade`,
/// `Connection`, `Sec-WebSocket-Key` (base64 of `nonce`), `Sec-WebSocket-Version: 13`,
/// `Sec-WebSocket-Protocol` listing the subprotocols ("mqtt" by default, MQTT-6.0.0-3 /
/// MQTT5-6.0.0-3) and `Origin` when set.
/// @return the bytes written; `errc::invalid_argument` as for `upgrade_request_size`;
/// `errc::buffer_too_small` with nothing written.
[[nodiscard]] constexpr result<std::size_t> write_upgrade_request(const client_handshake_options& o,
                                                                  const client_nonce& nonce,
                                                                  std::span<std::byte> out) noexcept {
    const auto size = upgrade_request_size(o);
    if (!size) return size;
    if (out.size() < *size) return errc::buffer_too_small;
    return detail::ws_upgrade_request(o, nonce, &out);
}

/// @brief What an accepted (or refused) server response said. Views point into the buffer
/// given to `upgrade_response_parser::parse` or into the options' subprotocol list.
struct upgrade_response {
    /// The HTTP status (101 when accepted; e.g. 426 for a version refusal).
    std::uint16_t status = 0;
    /// The selected subprotocol (one the client offered), empty when none was selected.
    std::string_view subprotocol{};
    /// Bytes of the head including its blank line; the server's frames may follow at once.
    std::size_t head_size = 0;
};

/// @brief Verifies a server's answer to the opening handshake as its bytes arrive (RFC 6455
/// section 4.1, the client's checks): status 101, `Upgrade: websocket`, `Connection: upgrade`,
/// the `Sec-WebSocket-Accept` the nonce calls for, no extension, and a subprotocol the client
/// offered.
///
/// Example:
/// @code
/// ws::upgrade_response_parser p(options, nonce);  // the options and nonce of the request
/// const auto e = p.parse(received);
/// if (e == ws::handshake_errc::success) start_deframing(received.subspan(p.response().head_size));
/// @endcode
class upgrade_response_parser {
  public:
    constexpr upgrade_response_parser(const client_handshake_options& options,
                                      const client_nonce& nonce) noexcept
        : options_(options) {
        const auto key = client_key(nonce);
        expected_ = accept_key(std::string_view(key.data(), key.size()));
    }

    /// @brief Parses `buffered`, all bytes received so far after the request was sent.
    /// @return `handshake_errc::success` (see `response()`), `incomplete`, `head_too_large`,
    /// `too_many_headers`, `malformed`, `http_version_not_supported`, `bad_status`,
    /// `not_websocket_upgrade`, `bad_accept`, `unexpected_extension` or `bad_subprotocol`;
    /// once not `incomplete`, the same answer on every later call.
    [[nodiscard]] constexpr handshake_errc parse(std::string_view buffered) noexcept {
        return reader_.read(buffered, options_.max_head_size, response_.head_size,
                            [this](std::string_view head) { return parse_head(head); });
    }
    /// @overload (not usable in constant evaluation)
    [[nodiscard]] handshake_errc parse(std::span<const std::byte> buffered) noexcept {
        return parse(detail::ws_chars(buffered));
    }
    /// @brief Deleted: the response's views would point into a destroyed temporary.
    template <class Range>
        requires(std::ranges::contiguous_range<Range> && !std::ranges::borrowed_range<Range>)
    handshake_errc parse(Range&&) = delete;

    [[nodiscard]] constexpr const upgrade_response& response() const noexcept { return response_; }
    [[nodiscard]] constexpr handshake_errc status() const noexcept { return reader_.status(); }

  private:
    [[nodiscard]] constexpr handshake_errc parse_head(std::string_view head) noexcept;

    client_handshake_options options_;
    std::array<char, 28> expected_{};
    detail::ws_head_reader reader_{};
    upgrade_response response_{};
};

constexpr handshake_errc upgrade_response_parser::parse_head(std::string_view head) noexcept {
    using detail::ascii_iequal;
    // status-line = HTTP-version SP status-code SP reason-phrase (RFC 7230 section 3.1.2); a
    // missing reason (no second space) is read as an empty one.
    const auto status_line = [this](std::string_view line) {
        const std::size_t sp = line.find(' ');
        if (sp == std::string_view::npos) return handshake_errc::malformed;
        int major = 0;
        int minor = 0;
        if (!detail::http_parse_version(detail::sv_head(line, sp), major, minor))
            return handshake_errc::malformed;
        const auto code = detail::sv_head(detail::sv_tail(line, sp + 1), 3);
        if (code.size() != 3 || (line.size() > sp + 4 && line[sp + 4] != ' '))
            return handshake_errc::malformed;
        std::uint16_t status = 0;
        for (const char c : code) {
            if (c < '0' || c > '9') return handshake_errc::malformed;
            status = static_cast<std::uint16_t>(status * 10 + (c - '0'));
        }
        response_.status = status;
        if (major != 1 || minor < 1) return handshake_errc::http_version_not_supported;
        if (status != 101) return handshake_errc::bad_status;
        return handshake_errc::success;
    };

    bool upgrade = false, connection = false, extension = false, accept_ok = false;
    std::size_t accepts = 0, protocols = 0;
    std::string_view selected{};
    const auto field = [&](std::string_view name, std::string_view value) {
        if (ascii_iequal(name, "Upgrade")) {
            upgrade = upgrade || detail::http_list_has_ci(value, "websocket");
        } else if (ascii_iequal(name, "Connection")) {
            connection = connection || detail::http_list_has_ci(value, "upgrade");
        } else if (ascii_iequal(name, "Sec-WebSocket-Accept")) {
            ++accepts;
            accept_ok = value == std::string_view(expected_.data(), expected_.size());
        } else if (ascii_iequal(name, "Sec-WebSocket-Extensions")) {
            extension = extension || !value.empty();
        } else if (ascii_iequal(name, "Sec-WebSocket-Protocol")) {
            ++protocols;
            selected = value;
        }
        return handshake_errc::success;
    };
    if (const auto e = detail::ws_walk_head(head, options_.max_header_count, status_line, field);
        e != handshake_errc::success)
        return e;

    if (!upgrade || !connection) return handshake_errc::not_websocket_upgrade;
    if (accepts != 1 || !accept_ok) return handshake_errc::bad_accept;
    // Section 4.1: an extension or a subprotocol the client did not ask for fails the
    // connection.
    if (extension) return handshake_errc::unexpected_extension;
    if (protocols == 0) {
        if (!options_.accept_missing_subprotocol) return handshake_errc::bad_subprotocol;
        return handshake_errc::success;
    }
    if (protocols > 1) return handshake_errc::bad_subprotocol;
    for (const auto offered : options_.subprotocols) {
        if (offered == selected) {
            response_.subprotocol = offered;
            return handshake_errc::success;
        }
    }
    return handshake_errc::bad_subprotocol;
}

} // namespace mqttwire::ws
