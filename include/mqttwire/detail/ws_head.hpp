#pragma once
// What the server's and the client's handshake parsers share: the head found incrementally under
// its size limit and parsed once (later calls repeat the answer), and its start line and header
// fields walked under the field-count limit.

#include <cstddef>
#include <span>
#include <string_view>

#include "../websocket/handshake_errc.hpp"
#include "http.hpp"

namespace mqttwire::detail {

class ws_head_reader {
  public:
    // `parse_head(head)` sees the head without its blank line, so every line of it, the last
    // included, ends with CRLF; on success `head_size` becomes the size with the blank line.
    template <class ParseHead>
    [[nodiscard]] constexpr ws::handshake_errc read(std::string_view buffered,
                                                    std::size_t max_size, std::size_t& head_size,
                                                    ParseHead parse_head) noexcept {
        if (status_ != ws::handshake_errc::incomplete) return status_;
        std::size_t size = 0;
        switch (scanner_.scan(buffered, max_size, size)) {
        case http_head_scanner::status::incomplete: return status_;
        case http_head_scanner::status::too_large:
            return status_ = ws::handshake_errc::head_too_large;
        case http_head_scanner::status::complete: break;
        }
        status_ = parse_head(sv_head(buffered, size - 2));
        if (status_ == ws::handshake_errc::success) head_size = size;
        return status_;
    }
    [[nodiscard]] constexpr ws::handshake_errc status() const noexcept { return status_; }

  private:
    http_head_scanner scanner_{};
    ws::handshake_errc status_ = ws::handshake_errc::incomplete;
};

// Calls `start(line)` for the start line, then `field(name, value)` for each header field, at
// most `max_fields` of them; stops at the first answer other than success.
template <class Start, class Field>
[[nodiscard]] constexpr ws::handshake_errc ws_walk_head(std::string_view head,
                                                        std::size_t max_fields, Start start,
                                                        Field field) noexcept {
    http_lines lines(head);
    std::string_view line;
    if (lines.next(line) != http_lines::status::line) return ws::handshake_errc::malformed;
    if (const auto e = start(line); e != ws::handshake_errc::success) return e;
    std::size_t count = 0;
    while (true) {
        switch (lines.next(line)) {
        case http_lines::status::end: return ws::handshake_errc::success;
        case http_lines::status::malformed: return ws::handshake_errc::malformed;
        case http_lines::status::line: break;
        }
        if (++count > max_fields) return ws::handshake_errc::too_many_headers;
        std::string_view name;
        std::string_view value;
        if (!http_parse_field(line, name, value)) return ws::handshake_errc::malformed;
        if (const auto e = field(name, value); e != ws::handshake_errc::success) return e;
    }
}

// The bytes a transport read as the characters of a head (not usable in constant evaluation).
[[nodiscard]] inline std::string_view ws_chars(std::span<const std::byte> bytes) noexcept {
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()}; // NOLINT
}

} // namespace mqttwire::detail
