#pragma once
// rapidcheck generators of VALID packets of every type at every protocol level (3.1, 3.1.1, 5.0).
//
// The codec's views never own bytes, so a generated packet is an `owned_packet`: a plain value
// description (`packet_spec`, std::string / std::vector only) plus the arrays and the
// `packet_view` built over it. Views are rebuilt by `bind()` whenever the holder is constructed,
// copied or moved (moving a short std::string moves its inline buffer, so even a move would
// leave dangling views). rapidcheck copies values freely while shrinking; that is safe here.
//
// Value space covered: every packet type at every level it exists in, every property allowed in
// every context (table 2-4) with valid values, repeatable properties repeated, every option bit
// (CONNECT flags, PUBLISH DUP/QoS/RETAIN, subscription options), every reason code allowed in
// each context (table 2-6), empty and 65535-byte strings, multi-byte UTF-8 (2, 3 and 4 bytes,
// U+FEFF), payloads up to a few hundred KiB.

#include <rapidcheck.h>

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include <mqttwire.hpp>

namespace mqttwire::gen {

// ---------------------------------------------------------------------------------------------
// Value description
// ---------------------------------------------------------------------------------------------

struct prop_spec {
    property_id id{};
    std::uint32_t integer = 0;
    std::string s1; ///< string / binary / user property name
    std::string s2; ///< user property value
};

struct packet_spec {
    packet_type type = packet_type::pingreq;
    protocol_version version = protocol_version::v5;
    std::uint16_t packet_id = 0;
    std::uint8_t reason = 0;
    bool flag = false; ///< CONNACK session present, CONNECT clean start, PUBLISH dup
    bool retain = false;
    std::uint8_t qos = 0;
    std::uint16_t keep_alive = 0;
    std::string text; ///< PUBLISH topic, CONNECT client id
    std::string payload;
    std::vector<prop_spec> props;
    // CONNECT
    bool has_will = false;
    std::uint8_t will_qos = 0;
    bool will_retain = false;
    std::string will_topic;
    std::string will_payload;
    std::vector<prop_spec> will_props;
    std::optional<std::string> user_name;
    std::optional<std::string> password;
    // SUBSCRIBE (filter, options byte), UNSUBSCRIBE filters, SUBACK / UNSUBACK codes
    std::vector<std::pair<std::string, std::uint8_t>> subs;
    std::vector<std::string> filters;
    std::vector<std::uint8_t> codes;
};

inline property to_property(const prop_spec& s) {
    const auto& info = property_info_of(s.id);
    switch (info.type) {
    case property_type::utf8_string: return {s.id, utf8_view(std::string_view(s.s1))};
    case property_type::binary_data: return {s.id, binary_view(std::string_view(s.s1))};
    case property_type::string_pair:
        return {s.id, utf8_view(std::string_view(s.s1)), utf8_view(std::string_view(s.s2))};
    default: return {s.id, s.integer};
    }
}

/// A generated packet with the storage its views point into.
class owned_packet {
  public:
    owned_packet() { bind(); }
    explicit owned_packet(packet_spec s) : spec_(std::move(s)) { bind(); }
    owned_packet(const owned_packet& o) : spec_(o.spec_) { bind(); }
    owned_packet(owned_packet&& o) noexcept : spec_(std::move(o.spec_)) { bind(); }
    owned_packet& operator=(const owned_packet& o) {
        if (this != &o) {
            spec_ = o.spec_;
            bind();
        }
        return *this;
    }
    owned_packet& operator=(owned_packet&& o) noexcept {
        if (this != &o) {
            spec_ = std::move(o.spec_);
            bind();
        }
        return *this;
    }

    [[nodiscard]] const packet_view& view() const noexcept { return view_; }
    [[nodiscard]] protocol_version version() const noexcept { return spec_.version; }
    [[nodiscard]] const packet_spec& spec() const noexcept { return spec_; }

  private:
    void bind() {
        props_.clear();
        will_props_.clear();
        subs_.clear();
        filters_.clear();
        codes_.clear();
        for (const auto& p : spec_.props) props_.push_back(to_property(p));
        for (const auto& p : spec_.will_props) will_props_.push_back(to_property(p));
        for (const auto& [f, o] : spec_.subs)
            subs_.push_back({utf8_view(std::string_view(f)), subscription_options::from_byte(o)});
        for (const auto& f : spec_.filters) filters_.emplace_back(std::string_view(f));
        for (const auto c : spec_.codes) codes_.push_back(static_cast<reason_code>(c));
        const properties_view props{std::span<const property>(props_)};
        const auto& s = spec_;
        const auto rc = static_cast<reason_code>(s.reason);
        switch (s.type) {
        case packet_type::connect: {
            connect_view p;
            p.version = s.version;
            p.clean_start = s.flag;
            p.keep_alive = s.keep_alive;
            p.client_id = utf8_view(std::string_view(s.text));
            if (s.has_will) {
                will_view w;
                w.qos = static_cast<qos>(s.will_qos);
                w.retain = s.will_retain;
                w.topic = utf8_view(std::string_view(s.will_topic));
                w.payload = binary_view(std::string_view(s.will_payload));
                w.properties = properties_view{std::span<const property>(will_props_)};
                p.will = w;
            }
            if (s.user_name) p.user_name = utf8_view(std::string_view(*s.user_name));
            if (s.password) p.password = binary_view(std::string_view(*s.password));
            p.properties = props;
            view_ = p;
            break;
        }
        case packet_type::connack: view_ = connack_view{s.flag, rc, props}; break;
        case packet_type::publish: {
            publish_view p;
            p.dup = s.flag;
            p.qos = static_cast<qos>(s.qos);
            p.retain = s.retain;
            p.topic = utf8_view(std::string_view(s.text));
            p.packet_id = s.packet_id;
            p.properties = props;
            p.payload = binary_view(std::string_view(s.payload));
            view_ = p;
            break;
        }
        case packet_type::puback: view_ = puback_view{s.packet_id, rc, props}; break;
        case packet_type::pubrec: view_ = pubrec_view{s.packet_id, rc, props}; break;
        case packet_type::pubrel: view_ = pubrel_view{s.packet_id, rc, props}; break;
        case packet_type::pubcomp: view_ = pubcomp_view{s.packet_id, rc, props}; break;
        case packet_type::subscribe:
            view_ = subscribe_view{s.packet_id, props,
                                   subscription_list(std::span<const subscription>(subs_))};
            break;
        case packet_type::suback:
            view_ = suback_view{s.packet_id, props,
                                reason_code_list(std::span<const reason_code>(codes_))};
            break;
        case packet_type::unsubscribe:
            view_ = unsubscribe_view{s.packet_id, props,
                                     topic_filter_list(std::span<const utf8_view>(filters_))};
            break;
        case packet_type::unsuback:
            view_ = unsuback_view{s.packet_id, props,
                                  reason_code_list(std::span<const reason_code>(codes_))};
            break;
        case packet_type::pingreq: view_ = pingreq_view{}; break;
        case packet_type::pingresp: view_ = pingresp_view{}; break;
        case packet_type::disconnect: view_ = disconnect_view{rc, props}; break;
        case packet_type::auth: view_ = auth_view{rc, props}; break;
        }
    }

    packet_spec spec_;
    std::vector<property> props_;
    std::vector<property> will_props_;
    std::vector<subscription> subs_;
    std::vector<utf8_view> filters_;
    std::vector<reason_code> codes_;
    packet_view view_;
};

// ---------------------------------------------------------------------------------------------
// Encoding helpers
// ---------------------------------------------------------------------------------------------

/// The level a packet is encoded and decoded at (CONNECT: its own).
inline std::vector<std::byte> encode_vec(const packet_view& p, protocol_version v) {
    const auto n = encoded_size(p, v);
    if (!n) return {};
    std::vector<std::byte> out(*n);
    const auto w = encode(p, v, out);
    if (!w || *w != *n) return {};
    return out;
}

inline std::string to_hex(std::span<const std::byte> b, std::size_t limit = 96) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string s;
    for (std::size_t i = 0; i < b.size() && i < limit; ++i) {
        const auto v = static_cast<unsigned>(b[i]);
        if (!s.empty()) s += ' ';
        s += digits[v >> 4];
        s += digits[v & 15];
    }
    if (b.size() > limit) s += " ... (" + std::to_string(b.size()) + " bytes)";
    return s;
}

inline std::ostream& operator<<(std::ostream& os, const owned_packet& p) {
    os << packet_type_name(p.spec().type) << " v" << static_cast<int>(p.version()) << ": "
       << to_hex(encode_vec(p.view(), p.version()));
    return os;
}

// ---------------------------------------------------------------------------------------------
// Generators (defined once, in codec_generators.cpp: their rapidcheck instantiations are the
// larger part of a property file's compile time)
// ---------------------------------------------------------------------------------------------

/// Mostly small values up to `max`, with the edges of each varint and 16-bit width.
rc::Gen<std::uint32_t> gen_uint(std::uint32_t max);
rc::Gen<std::uint32_t> gen_uint_in(std::uint32_t lo, std::uint32_t max);
/// One UTF-8 encoded code point valid under the default (MUST-level) rules.
rc::Gen<std::string> gen_code_point(std::string ascii = "abcXYZ019 -_.$/");
/// Valid UTF-8 text of up to ~100 code points.
rc::Gen<std::string> gen_short_utf8(std::string ascii = "abcXYZ019 -_.$/+#");
/// Valid UTF-8 text; occasionally empty, occasionally exactly 65535 bytes.
rc::Gen<std::string> gen_utf8(std::string ascii = "abcXYZ019 -_.$/+#");
/// Arbitrary bytes; occasionally 65535 bytes (Binary Data maximum).
rc::Gen<std::string> gen_binary();
/// A PUBLISH payload: usually small, sometimes large (up to 300 KiB).
rc::Gen<std::string> gen_payload();
/// A valid topic name.
rc::Gen<std::string> gen_topic_name();
/// A topic filter (any UTF-8 text is a codec-valid filter).
rc::Gen<std::string> gen_filter();
/// A valid value for property `id` (value rules of section 3 included).
rc::Gen<prop_spec> gen_property_value(property_id id);
/// A valid property block for `ctx`.
rc::Gen<std::vector<prop_spec>> gen_properties(property_context ctx);
rc::Gen<protocol_version> gen_version();
/// A valid packet of type `t` at level `v` (AUTH needs 5.0: callers pass v5).
rc::Gen<owned_packet> gen_packet(packet_type t, protocol_version v);
/// A valid packet of any type at level `v`.
rc::Gen<owned_packet> gen_packet_at(protocol_version v);
/// A valid packet of any type at any level.
rc::Gen<owned_packet> gen_any_packet();

// ---------------------------------------------------------------------------------------------
// A buffer whose last byte sits right before an inaccessible (PROT_NONE) page, so a decoder that
// reads one byte past its input faults at once, without a sanitizer (the technique of
// picohttpparser's test.c). Reads before the start are left to the ASan builds.
// ---------------------------------------------------------------------------------------------
class guard_page_buffer {
  public:
    explicit guard_page_buffer(std::size_t capacity) {
        page_ = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
        data_pages_ = (capacity + page_ - 1) / page_ + 1;
        total_ = (data_pages_ + 1) * page_;
        void* m = mmap(nullptr, total_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED) std::abort();
        base_ = static_cast<std::byte*>(m);
        if (mprotect(base_ + data_pages_ * page_, page_, PROT_NONE) != 0) std::abort();
    }
    guard_page_buffer(const guard_page_buffer&) = delete;
    guard_page_buffer& operator=(const guard_page_buffer&) = delete;
    ~guard_page_buffer() { munmap(base_, total_); }

    [[nodiscard]] std::size_t capacity() const noexcept { return data_pages_ * page_; }

    /// Copies `in` so that it ends exactly at the guard page and returns the copy.
    [[nodiscard]] std::span<const std::byte> place(std::span<const std::byte> in) {
        if (in.size() > capacity()) std::abort();
        std::byte* end = base_ + data_pages_ * page_;
        std::byte* start = end - in.size();
        if (!in.empty()) std::memcpy(start, in.data(), in.size());
        return {start, in.size()};
    }

  private:
    std::size_t page_ = 4096;
    std::size_t data_pages_ = 0;
    std::size_t total_ = 0;
    std::byte* base_ = nullptr;
};

} // namespace mqttwire::gen
