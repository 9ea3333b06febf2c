#pragma once
/// @file
/// @brief PUBLISH (MQTT 3.1.1 section 3.3, MQTT 5.0 section 3.3).
///
/// ```
/// 3<DUP QoS QoS RETAIN> <remaining length>
/// <topic name: 2-byte length + UTF-8>
/// [QoS > 0: packet identifier, 2 bytes]
/// [5.0: properties]
/// <payload: the rest of the packet>
/// ```

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <type_traits>

#include "../detail/string_slice.hpp"
#include "../binary_view.hpp"
#include "../detail/codec.hpp"
#include "../properties.hpp"
#include "../topic.hpp"
#include "../utf8.hpp"
#include "../version.hpp"

namespace mqttwire {

/// @brief PUBLISH. Topic and payload point into the decoded buffer.
struct publish_view {
    static constexpr packet_type type = packet_type::publish;
    bool dup = false;
    mqttwire::qos qos = mqttwire::qos::at_most_once;
    bool retain = false;
    utf8_view topic{};
    std::uint16_t packet_id = 0; ///< present only when qos > 0 (MQTT-2.3.1-5, MQTT5-2.2.1-2)
    properties_view properties{};
    binary_view payload{};
    [[nodiscard]] friend constexpr bool operator==(const publish_view&,
                                                   const publish_view&) noexcept = default;
};

namespace detail {

[[nodiscard]] constexpr std::uint8_t header_flags(const publish_view& p) noexcept {
    return static_cast<std::uint8_t>((p.dup ? 0x08u : 0u) |
                                     (static_cast<unsigned>(p.qos) & 0x03u) << 1 |
                                     (p.retain ? 0x01u : 0u));
}

// Run-time fast path: true when `t` has 8..65535 bytes, all plain ASCII other than U+0000, '+'
// and '#' (whole words, the last one overlapping the one before). Such a text is a valid Topic
// Name under the mandatory rules and the non-character rule, so the general validator is not
// needed; anything else (short, non-ASCII, a wildcard, control characters to reject) takes it.
// Per word: a high bit (non-ASCII), a zero byte, or a byte that is '+' or '#' once bit 3 is set
// (0x23 | 0x08 == 0x2B: one SWAR zero-byte test finds both wildcards).
[[nodiscard]] inline bool plain_ascii_topic(std::string_view t) noexcept {
    const std::size_t n = t.size();
    if (n < 8 || n > max_topic_length) return false;
    constexpr std::uint64_t ones = 0x0101010101010101ull;
    constexpr std::uint64_t highs = 0x8080808080808080ull;
    const auto has_zero = [](std::uint64_t x) { return (x - ones) & ~x; };
    const auto bad = [&](std::size_t at) {
        std::uint64_t v = 0;
        std::memcpy(&v, detail::slice(t, at, 8).data(), sizeof v);
        return (v | has_zero(v) | has_zero((v | ones * 0x08u) ^ (ones * '+'))) & highs;
    };
    std::uint64_t any = 0;
    for (std::size_t i = 0; n - i > 8; i += 8) any |= bad(i);
    return (any | bad(n - 8)) == 0;
}

[[nodiscard]] constexpr bool topic_name_ok_general(const utf8_view& t, utf8_rules rules) noexcept {
    if (std::is_constant_evaluated()) return validate_topic_name_impl(t, 0, rules) == errc::success;
    const auto s = t.as_string_view();
    return validate_topic_name_impl(s, plain_ascii_prefix(s), rules) == errc::success;
}

// True when `t` is a valid Topic Name under `rules` (UTF-8 included). The fast path is kept
// apart from the general one so that it stays small enough to be inlined.
[[nodiscard]] constexpr bool topic_name_ok(const utf8_view& t, utf8_rules rules) noexcept {
    if (!std::is_constant_evaluated() && !rules.reject_control_characters &&
        plain_ascii_topic(t.as_string_view()))
        return true;
    return topic_name_ok_general(t, rules);
}

// Topic rules shared by decode and encode.
[[nodiscard]] constexpr errc check_publish_topic(const publish_view& p, bool v5) noexcept {
    if (p.topic.empty()) {
        // MQTT5 section 3.3.2.1: a zero-length Topic Name needs a Topic Alias; before 5.0 a
        // topic name is at least one character (MQTT-4.7.3-1).
        if (v5) return p.properties.contains(property_id::topic_alias) ? errc::success
                                                                       : errc::protocol_error;
        return errc::topic_name_invalid;
    }
    // Ill-formed UTF-8 is malformed (MQTT-3.3.2-1 / MQTT5-3.3.2-1); a wildcard in a Topic Name
    // is a Topic Name error (MQTT-3.3.2-2 / MQTT5-3.3.2-2). A valid Topic Name is well-formed
    // UTF-8, so the common case takes one pass; only a refused name is looked at twice to tell
    // which error it is.
    if (topic_name_ok(p.topic, {})) return errc::success;
    if (validate_utf8(p.topic) != errc::success) return errc::malformed_packet;
    return validate_topic_name(p.topic);
}

[[nodiscard]] constexpr errc decode_body(reader& r, const decode_ctx& c,
                                         publish_view& out) noexcept {
    out.dup = (c.flags & 0x08u) != 0;
    out.qos = static_cast<mqttwire::qos>((c.flags >> 1) & 0x03u);
    out.retain = (c.flags & 0x01u) != 0;
    // MQTT-3.3.2-1 / MQTT5-3.3.2-1: the topic name comes first and is a UTF-8 string.
    std::uint16_t topic_length = 0;
    if (const auto e = r.u16(topic_length); e != errc::success) return e;
    std::span<const std::byte> topic_bytes;
    if (const auto e = r.bytes(topic_length, topic_bytes); e != errc::success) return e;
    out.topic = utf8_view(topic_bytes);
    // One pass in the common case: a valid Topic Name (no wildcard, not empty) is also
    // well-formed UTF-8 under the same rules, so the string is not validated a second and third
    // time. Otherwise the string rules first (malformed, as reader::utf8 reports them), and the
    // topic rules after the properties, in the order the checks always ran.
    const bool topic_ok = topic_name_ok(out.topic, c.opts.utf8);
    if (!topic_ok && validate_utf8(topic_bytes, c.opts.utf8) != errc::success)
        return errc::malformed_packet;
    if (out.qos != mqttwire::qos::at_most_once) {
        // MQTT-2.3.1-1 / MQTT5-2.2.1-3: non-zero; MQTT-2.3.1-5 / MQTT5-2.2.1-2: only for QoS>0.
        if (const auto e = read_packet_id(r, out.packet_id); e != errc::success) return e;
    }
    if (c.v5()) {
        if (const auto e = decode_properties(r, property_context::publish, c.opts, out.properties);
            e != errc::success)
            return e;
        // MQTT5-3.3.4-6: a client never sends a Subscription Identifier.
        if (c.opts.sender == peer_role::client &&
            out.properties.contains(property_id::subscription_identifier))
            return errc::protocol_error;
    }
    if (!topic_ok) {
        if (const auto e = check_publish_topic(out, c.v5()); e != errc::success) return e;
    }
    out.payload = binary_view(r.rest());
    if (c.v5() && c.opts.validate_payload_format &&
        out.properties.integer_or(property_id::payload_format_indicator, 0) == 1 &&
        validate_utf8(out.payload.bytes()) != errc::success)
        return errc::payload_format_invalid; // MQTT 5.0 section 3.3.2.3.2
    return errc::success;
}

template <class W>
[[nodiscard]] constexpr errc encode_body(W& w, const publish_view& p, const encode_ctx& c) noexcept {
    if constexpr (W::counting) {
        if (static_cast<std::uint8_t>(p.qos) > 2) return errc::malformed_packet; // MQTT-3.3.1-4
        // MQTT-3.3.1-2 / MQTT5-3.3.1-2: DUP is 0 for QoS 0.
        if (p.dup && p.qos == mqttwire::qos::at_most_once) return errc::malformed_packet;
        if (const auto e = check_publish_topic(p, c.v5()); e != errc::success) return e;
        if (p.qos != mqttwire::qos::at_most_once) {
            if (const auto e = check_packet_id(p.packet_id); e != errc::success) return e;
        }
        if (c.v5() && c.sender == peer_role::client &&
            p.properties.contains(property_id::subscription_identifier))
            return errc::protocol_error; // MQTT5-3.3.4-6
    }
    // The counting pass has validated the topic (check_publish_topic, UTF-8 included).
    if (const auto e = w.checked_utf8(p.topic); e != errc::success) return e;
    if (p.qos != mqttwire::qos::at_most_once) w.u16(p.packet_id);
    if (c.v5()) {
        if (const auto e = write_properties(w, p.properties, property_context::publish, {});
            e != errc::success)
            return e;
    }
    w.raw(p.payload.text());
    return errc::success;
}

} // namespace detail
} // namespace mqttwire
