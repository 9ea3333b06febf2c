#pragma once
// Helpers shared by the unit tests: hex parsing and the annotated vector files of tests/vectors.
//
// Vector file format (one or more blocks per file, '#' starts a comment anywhere on a line):
//
//   vector <name>
//     cite <statement ids...>      e.g. MQTT-3.3.1-4 (3.1.1) or MQTT5-3.3.1-4 (5.0); a rule
//                                  without a numbered statement cites its section: 5.0§3.15.2
//     version 3.1 | 3.1.1 | 5.0    the connection's level (CONNECT carries its own)
//     expect ok | <errc name>      e.g. malformed_packet, protocol_error
//     canonical no                 optional: valid, but not the encoder's shortest form
//     sender client | server       optional: decode_options::sender
//     max_packet_size <n>          optional: decode_options::max_packet_size
//     bridge_levels yes            optional: decode_options::bridge_levels
//     hex <bytes>                  one or more lines, annotated field by field
//   end

#include <gtest/gtest.h>

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <map>
#include <mqttwire.hpp>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#ifndef MQTTWIRE_VECTORS_DIR
#error "MQTTWIRE_VECTORS_DIR must name tests/vectors"
#endif

namespace mqttwire::test {

// The protocol levels, as the tests spell them.
inline constexpr auto v31 = protocol_version::v3_1;
inline constexpr auto v311 = protocol_version::v3_1_1;
inline constexpr auto v5 = protocol_version::v5;

// A row of a reason code table of the specification: the value and its name.
struct named_code {
    std::uint8_t code;
    std::string_view name;
};

inline std::vector<std::byte> hex(std::string_view text) {
    std::vector<std::byte> out;
    int hi = -1;
    for (char c : text) {
        int v = -1;
        if (c >= '0' && c <= '9') v = c - '0';
        else if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
        else continue;
        if (hi < 0) {
            hi = v;
        } else {
            out.push_back(static_cast<std::byte>(hi * 16 + v));
            hi = -1;
        }
    }
    EXPECT_LT(hi, 0) << "odd number of hex digits in: " << text;
    return out;
}

inline std::string to_hex(std::span<const std::byte> b) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string s;
    for (auto x : b) {
        const auto v = static_cast<unsigned>(x);
        if (!s.empty()) s += ' ';
        s += digits[v >> 4];
        s += digits[v & 15];
    }
    return s;
}

struct vector {
    std::string file;
    int line = 0;
    std::string name;
    std::vector<std::string> cites;
    protocol_version version = protocol_version::v5;
    std::string expect = "ok";
    bool canonical = true;
    decode_options options{};
    std::vector<std::byte> bytes;

    [[nodiscard]] bool valid() const { return expect == "ok"; }
    [[nodiscard]] std::string where() const { return file + ":" + std::to_string(line); }
};

inline bool parse_version(const std::string& s, protocol_version& v) {
    if (s == "3.1") v = protocol_version::v3_1;
    else if (s == "3.1.1") v = protocol_version::v3_1_1;
    else if (s == "5.0" || s == "5") v = protocol_version::v5;
    else return false;
    return true;
}

// The next whitespace-separated word of `rest`, removed from it ("" at the end). The vectors
// are parsed in every test process at start-up, so this stays cheap: no stream per line.
inline std::string_view next_word(std::string_view& rest) {
    constexpr std::string_view space = " \t\r";
    const auto from = rest.find_first_not_of(space);
    if (from == std::string_view::npos) {
        rest = {};
        return {};
    }
    rest.remove_prefix(from);
    const auto to = std::min(rest.find_first_of(space), rest.size());
    const auto word = rest.substr(0, to);
    rest.remove_prefix(to);
    return word;
}

// The next line of `text` without its comment, removed from `text`.
inline std::string_view next_line(std::string_view& text) {
    const auto eol = std::min(text.find('\n'), text.size());
    auto line = text.substr(0, eol);
    text.remove_prefix(std::min(eol + 1, text.size()));
    if (const auto hash = line.find('#'); hash != std::string_view::npos)
        line = line.substr(0, hash);
    return line;
}

// Parses one file; malformed files fail the calling test with the line number.
inline std::vector<vector> parse_vector_file(const std::string& path, std::string_view text) {
    std::vector<vector> out;
    int n = 0;
    vector* cur = nullptr;
    std::string hex_text;
    while (!text.empty()) {
        ++n;
        auto line = next_line(text);
        const auto key = next_word(line);
        if (key.empty()) continue;
        if (key == "vector") {
            EXPECT_EQ(cur, nullptr) << path << ":" << n << ": vector inside vector";
            out.emplace_back();
            cur = &out.back();
            cur->file = path;
            cur->line = n;
            cur->name = next_word(line);
            hex_text.clear();
            continue;
        }
        if (cur == nullptr) {
            ADD_FAILURE() << path << ":" << n << ": '" << key << "' outside a vector block";
            continue;
        }
        if (key == "end") {
            cur->bytes = hex(hex_text);
            cur->options.version = cur->version;
            cur = nullptr;
        } else if (key == "cite") {
            for (auto id = next_word(line); !id.empty(); id = next_word(line))
                cur->cites.emplace_back(id);
        } else if (key == "version") {
            const std::string v{next_word(line)};
            EXPECT_TRUE(parse_version(v, cur->version)) << path << ":" << n << ": version " << v;
        } else if (key == "expect") {
            cur->expect = next_word(line);
        } else if (key == "canonical") {
            cur->canonical = next_word(line) != "no";
        } else if (key == "sender") {
            const auto v = next_word(line);
            cur->options.sender = v == "client" ? peer_role::client
                                  : v == "server" ? peer_role::server
                                                  : peer_role::unknown;
        } else if (key == "max_packet_size") {
            const std::string v{next_word(line)};
            std::uint32_t size = 0;
            const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), size);
            EXPECT_TRUE(ec == std::errc{} && end == v.data() + v.size() && !v.empty())
                << path << ":" << n << ": max_packet_size " << v;
            cur->options.max_packet_size = size;
        } else if (key == "bridge_levels") {
            cur->options.bridge_levels = next_word(line) == "yes";
        } else if (key == "hex") {
            hex_text += line;
            hex_text += ' ';
        } else {
            ADD_FAILURE() << path << ":" << n << ": unknown key '" << key << "'";
        }
    }
    EXPECT_EQ(cur, nullptr) << path << ": missing 'end'";
    return out;
}

// Global allocations so far in this test program (operator new is replaced in vectors_test.cpp).
std::size_t allocation_count() noexcept;

// Where a vector is, found without parsing (every test process lists them at start-up, and
// most need one file at most).
struct vector_name {
    std::string file; ///< e.g. "publish.vec"
    std::string name;
};

// The names of the `vector` lines of `text` (what parse_vector_file would name), in order.
inline void scan_vector_names(const std::string& file, std::string_view text,
                              std::vector<vector_name>& out) {
    while (!text.empty()) {
        auto line = next_line(text);
        if (next_word(line) == "vector") out.push_back({file, std::string(next_word(line))});
    }
}

// Every vector of tests/vectors/*.vec by file and name, in file order.
const std::vector<vector_name>& vector_names();
// The vectors of one file (e.g. "publish.vec"), parsed on first use.
const std::vector<vector>& vectors_in(const std::string& file);
// All vectors of tests/vectors/*.vec, loaded once.
const std::vector<vector>& all_vectors();

// The vector called `name`; fails the test when absent.
inline const vector& vec(std::string_view name) {
    for (const auto& n : vector_names()) {
        if (n.name != name) continue;
        for (const auto& v : vectors_in(n.file))
            if (v.name == name) return v;
    }
    ADD_FAILURE() << "no vector named " << name;
    static const vector none{};
    return none;
}

// Decodes vector `name` and returns the packet as a P; fails the test if it does not decode to P.
template <class P> P decode_as(const vector& v) {
    const auto r = decode_packet(v.bytes, v.options);
    EXPECT_TRUE(r.has_value()) << v.name << ": " << errc_name(r.error());
    if (!r) return P{};
    const auto* p = std::get_if<P>(&r->packet);
    EXPECT_NE(p, nullptr) << v.name << ": decoded as packet type " << (r->packet.index() + 1);
    return p ? *p : P{};
}

inline errc decode_error(const vector& v) { return decode_packet(v.bytes, v.options).error(); }

// Hex bytes with '#' comments to the end of each line (hex() alone would read the letters a-f of
// a comment as digits).
inline std::vector<std::byte> annotated(std::string_view text) {
    std::string clean;
    bool comment = false;
    for (const char ch : text) {
        if (ch == '#') {
            comment = true;
        } else if (ch == '\n') {
            comment = false;
            clean += ' ';
        } else if (!comment) {
            clean += ch;
        }
    }
    return hex(clean);
}

// Annotated hex text in the canonical form of to_hex ("10 0e 00 04 ...").
inline std::string bytes_of(std::string_view text) { return to_hex(annotated(text)); }
inline std::string bytes_of(const vector& v) { return to_hex(v.bytes); }
// How the encode helpers of the packet tests spell a refusal.
inline std::string failed(errc e) { return "error: " + std::string(errc_name(e)); }

// Encodes `p` at level `v` (under `o` when given) the way every packet test does: into a buffer
// of exactly `encoded_size` bytes with guard bytes after it. Checks that encoded_size and encode
// agree (size or error), that nothing is written past the size, and that a refused encode writes
// nothing. Returns the bytes as hex, or failed(error).
template <class P>
std::string encoded(const P& p, protocol_version v, const encode_options* o = nullptr) {
    constexpr std::byte guard{0x5A};
    const auto size = o ? encoded_size(p, v, *o) : encoded_size(p, v);
    const std::size_t room = size ? *size : 64;
    std::vector<std::byte> out(room + 8, guard);
    const auto body = std::span<std::byte>(out).first(room);
    const auto n = o ? encode(p, v, body, *o) : encode(p, v, body);
    EXPECT_EQ(errc_name(size.error()), errc_name(n.error())) << "encoded_size and encode disagree";
    for (std::size_t i = n ? *n : 0; i < out.size(); ++i)
        if (out[i] != guard) {
            ADD_FAILURE() << (n ? "encode wrote past its size at " : "a refused encode wrote at ")
                          << i;
            break;
        }
    if (!n) return failed(n.error());
    EXPECT_EQ(*n, *size);
    return to_hex(std::span<const std::byte>(out.data(), *n));
}
template <class P>
std::string encoded(const P& p, protocol_version v, const encode_options& o) {
    return encoded(p, v, &o);
}
// `encoded` under a Maximum Packet Size of `max`; also checks that what is written fits it.
template <class P>
std::string encoded_within(const P& p, protocol_version v, std::uint32_t max) {
    const encode_options o{.max_packet_size = max};
    if (const auto size = encoded_size(p, v, o)) {
        EXPECT_LE(*size, max) << "over the Maximum Packet Size";
    }
    return encoded(p, v, &o);
}

inline std::string str(const utf8_view& s) { return std::string(s.as_string_view()); }
inline std::string str(const binary_view& s) { return std::string(s.as_string_view()); }

} // namespace mqttwire::test
