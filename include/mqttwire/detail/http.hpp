#pragma once
// The slice of HTTP/1.1 (RFC 7230) the WebSocket opening handshake needs: finding the end of a
// message head incrementally under a size limit, splitting it into lines and header fields,
// comma-separated lists, case-insensitive comparison, and a writer that measures and writes
// through one code path. No allocation; everything points into the caller's head.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace mqttwire::detail {

// Slices that cannot throw: std::string_view::substr reports a bad position with an exception,
// which would pull libstdc++'s throw helpers into a -fno-exceptions build.
[[nodiscard]] constexpr std::string_view sv_head(std::string_view s, std::size_t n) noexcept {
    s.remove_suffix(n < s.size() ? s.size() - n : 0);
    return s;
}
[[nodiscard]] constexpr std::string_view sv_tail(std::string_view s, std::size_t from) noexcept {
    s.remove_prefix(from < s.size() ? from : s.size());
    return s;
}

[[nodiscard]] constexpr char ascii_lower(char c) noexcept {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

[[nodiscard]] constexpr bool ascii_iequal(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
    return true;
}

// tchar of RFC 7230 section 3.2.6: the characters of a token (field names, methods, list
// elements such as "websocket" or "mqtt").
[[nodiscard]] constexpr bool http_tchar(char c) noexcept {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+': case '-':
    case '.': case '^': case '_': case '`': case '|': case '~': return true;
    default: return false;
    }
}

[[nodiscard]] constexpr bool http_token(std::string_view s) noexcept {
    if (s.empty()) return false;
    for (const char c : s)
        if (!http_tchar(c)) return false;
    return true;
}

// field-vchar / SP / HTAB (RFC 7230 section 3.2): no control characters other than HTAB.
[[nodiscard]] constexpr bool http_value_char(char c) noexcept {
    const auto u = static_cast<unsigned char>(c);
    return u == '\t' || (u >= 0x20 && u != 0x7F);
}

[[nodiscard]] constexpr bool http_ows(char c) noexcept { return c == ' ' || c == '\t'; }

[[nodiscard]] constexpr std::string_view http_trim(std::string_view s) noexcept {
    while (!s.empty() && http_ows(s.front())) s.remove_prefix(1);
    while (!s.empty() && http_ows(s.back())) s.remove_suffix(1);
    return s;
}

// "HTTP/" DIGIT "." DIGIT (RFC 7230 section 2.6).
[[nodiscard]] constexpr bool http_parse_version(std::string_view v, int& major,
                                                int& minor) noexcept {
    const auto digit = [](char c) { return c >= '0' && c <= '9'; };
    if (v.size() != 8 || !v.starts_with("HTTP/") || !digit(v[5]) || v[6] != '.' ||
        !digit(v[7]))
        return false;
    major = v[5] - '0';
    minor = v[7] - '0';
    return true;
}

// Visible ASCII without spaces: what a request-target, a host or an origin may contain here.
[[nodiscard]] constexpr bool http_visible(std::string_view s) noexcept {
    if (s.empty()) return false;
    for (const char c : s)
        if (c <= 0x20 || c >= 0x7F) return false;
    return true;
}

// Finds the blank line that ends a message head, looking at each byte once however the head
// arrives. `buffered` is everything received so far and only grows between calls.
class http_head_scanner {
  public:
    enum class status : std::uint8_t { incomplete, complete, too_large };

    // On `complete`, `size` is the head's length including the blank line.
    [[nodiscard]] constexpr status scan(std::string_view buffered, std::size_t limit,
                                        std::size_t& size) noexcept {
        if (buffered.size() < scanned_) scanned_ = 0; // a different buffer: start over
        const std::size_t end = buffered.size() < limit ? buffered.size() : limit;
        // Resume three bytes back: the terminator may straddle two calls.
        std::size_t i = scanned_ >= 3 ? scanned_ - 3 : 0;
        for (; i + 4 <= end; ++i) {
            if (buffered[i + 3] != '\n') continue;
            if (buffered[i] == '\r' && buffered[i + 1] == '\n' && buffered[i + 2] == '\r') {
                size = i + 4;
                scanned_ = size;
                return status::complete;
            }
        }
        scanned_ = end;
        return buffered.size() >= limit ? status::too_large : status::incomplete;
    }

  private:
    std::size_t scanned_ = 0;
};

// The CRLF-terminated lines of a head whose blank line has been found (`head` excludes it).
// A bare CR or LF inside a line makes `next` fail.
class http_lines {
  public:
    constexpr explicit http_lines(std::string_view head) noexcept : head_(head) {}

    enum class status : std::uint8_t { line, end, malformed };

    [[nodiscard]] constexpr status next(std::string_view& line) noexcept {
        if (pos_ >= head_.size()) return status::end;
        const std::size_t eol = head_.find("\r\n", pos_);
        const std::size_t stop = eol == std::string_view::npos ? head_.size() : eol;
        line = sv_head(sv_tail(head_, pos_), stop - pos_);
        pos_ = eol == std::string_view::npos ? head_.size() : eol + 2;
        for (const char c : line)
            if (c == '\r' || c == '\n') return status::malformed;
        return status::line;
    }

  private:
    std::string_view head_;
    std::size_t pos_ = 0;
};

// `name: value` (RFC 7230 section 3.2): a token, a colon right after it (no whitespace, section
// 3.2.4), optional whitespace, a value of field characters. Obsolete line folding (a line that
// starts with whitespace) is refused, as section 3.2.4 allows.
[[nodiscard]] constexpr bool http_parse_field(std::string_view line, std::string_view& name,
                                              std::string_view& value) noexcept {
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) return false;
    name = sv_head(line, colon);
    if (!http_token(name)) return false;
    value = sv_tail(line, colon + 1);
    for (const char c : value)
        if (!http_value_char(c)) return false;
    value = http_trim(value);
    return true;
}

// Calls `f(element)` for each non-empty element of a comma-separated list (RFC 7230 section 7:
// empty elements and the whitespace around elements are ignored); stops early when `f` returns
// true, and returns whether it did.
template <class F>
[[nodiscard]] constexpr bool http_list_any(std::string_view value, F f) noexcept {
    while (!value.empty()) {
        const std::size_t comma = value.find(',');
        const auto element = http_trim(sv_head(value, comma));
        if (!element.empty() && f(element)) return true;
        if (comma == std::string_view::npos) break;
        value.remove_prefix(comma + 1);
    }
    return false;
}

[[nodiscard]] constexpr bool http_list_has_ci(std::string_view value,
                                              std::string_view token) noexcept {
    return http_list_any(value, [token](std::string_view e) { return ascii_iequal(e, token); });
}

// Every element of the list is a token (subprotocol lists, section 4.1 of RFC 6455).
[[nodiscard]] constexpr bool http_token_list(std::string_view value) noexcept {
    return !http_list_any(value, [](std::string_view e) { return !http_token(e); });
}

// Measures (no output) or writes text into bytes; the head writers run once to measure and once
// to write, so the size they report is the size they write.
class http_writer {
  public:
    constexpr http_writer() noexcept = default;
    constexpr explicit http_writer(std::span<std::byte> out) noexcept : out_(out), writing_(true) {}

    constexpr http_writer& operator<<(std::string_view s) noexcept {
        if (writing_)
            for (std::size_t i = 0; i < s.size(); ++i)
                out_[count_ + i] = static_cast<std::byte>(s[i]);
        count_ += s.size();
        return *this;
    }
    [[nodiscard]] constexpr std::size_t count() const noexcept { return count_; }

  private:
    std::span<std::byte> out_{};
    std::size_t count_ = 0;
    bool writing_ = false;
};

// The two passes over `emit(writer&)`: the size, then the bytes when `out` holds them. Returns
// the size, or 0 with nothing written when `out` is too small (a head is never empty).
template <class Emit>
[[nodiscard]] constexpr std::size_t http_write(std::span<std::byte>* out, Emit emit) noexcept {
    http_writer measure;
    emit(measure);
    const std::size_t size = measure.count();
    if (out == nullptr) return size;
    if (out->size() < size) return 0;
    http_writer w(out->first(size));
    emit(w);
    return size;
}

} // namespace mqttwire::detail
