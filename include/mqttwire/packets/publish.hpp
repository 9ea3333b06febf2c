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
#include <span>
#include <type_traits>

#include "../binary_view.hpp"
#include "../config.hpp"
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

// Topic rules shared by decode and encode.
[[nodiscard]] constexpr errc check_publish_topic(const publish_view& p, bool v5) noexcept {
    if (p.topic.empty()) {
        // MQTT5 section 3.3.2.1: a zero-length Topic Name needs a Topic Alias; before 5.0 a
        // topic name is at least one character (MQTT-4.7.3-1).
        if (v5) return p.properties.contains(property_id::topic_alias) ? errc::success
                                                                       : errc::protocol_error;
        return errc::topic_name_invalid;
    }
    return topic_name_check(p.topic, {});
}

// Everything after the topic, in the general case: a topic that is not plain ASCII (or rules
// that look at every byte), or a 5.0 packet. The string rules come first (malformed, as
// reader::utf8 reports them), the topic rules after the properties, in the order the checks have
// always run. It gets the body and the position after the topic, not the fast path's reader,
// which so never leaves registers.
template <class Ctx>
[[nodiscard]] constexpr errc decode_publish_rest(std::span<const std::byte> body,
                                                 std::size_t position, const Ctx& c,
                                                 publish_view& out, bool plain_topic) noexcept {
    reader r(body, position);
    const errc topic = plain_topic ? errc::success : topic_name_check(out.topic, c.opts.utf8);
    if (topic == errc::malformed_packet) return topic; // the string rules first
    if (out.qos != mqttwire::qos::at_most_once) {
        // MQTT-2.3.1-1 / MQTT5-2.2.1-3: non-zero; MQTT-2.3.1-5 / MQTT5-2.2.1-2: QoS > 0 only.
        if (const auto e = read_packet_id(r, out.packet_id); e != errc::success) return e;
    }
    if (c.v5()) {
        // Fast builds check the block inline here (PUBLISH is the hot packet); the other
        // packet types share one out-of-line copy.
        if (const auto e =
                small_code ? decode_properties(r, property_context::publish, c.opts, out.properties)
                           : decode_property_block_inline(r, property_context::publish, c.opts,
                                                          out.properties);
            e != errc::success)
            return e;
        // MQTT5-3.3.4-6: a client never sends a Subscription Identifier.
        if (c.opts.sender == peer_role::client &&
            out.properties.contains(property_id::subscription_identifier))
            return errc::protocol_error;
    }
    if (topic != errc::success) {
        // An empty topic is valid in 5.0 with a Topic Alias (check_publish_topic says).
        if (const auto e = out.topic.empty() ? check_publish_topic(out, c.v5()) : topic;
            e != errc::success)
            return e;
    }
    const auto payload = r.rest();
    out.payload = binary_view(payload);
    if (c.v5() && c.opts.validate_payload_format &&
        out.properties.integer_or(property_id::payload_format_indicator, 0) == 1 &&
        validate_utf8(payload) != errc::success)
        return errc::payload_format_invalid; // MQTT 5.0 section 3.3.2.3.2
    return errc::success;
}

// The common case inline: a 3.1.1 PUBLISH whose topic is plain ASCII without wildcards, which
// makes it a valid Topic Name and well-formed UTF-8 at once (MQTT-3.3.2-2 / MQTT5-3.3.2-2,
// MQTT-1.5.3-1 / MQTT5-1.5.4-1); everything else goes to decode_publish_rest.
template <class Ctx>
[[nodiscard]] MQTTWIRE_FORCE_INLINE constexpr errc decode_body(reader& r, const Ctx& c,
                                                              publish_view& out) noexcept {
    out.dup = (c.flags & 0x08u) != 0;
    out.qos = static_cast<mqttwire::qos>((c.flags >> 1) & 0x03u);
    out.retain = (c.flags & 0x01u) != 0;
    // MQTT-3.3.2-1 / MQTT5-3.3.2-1: the topic name comes first and is a UTF-8 string.
    std::span<const std::byte> topic_bytes;
    if (const auto e = r.string(topic_bytes); e != errc::success) return e;
    out.topic = utf8_view(topic_bytes);
    bool plain = !small_code && !std::is_constant_evaluated() &&
                       !c.opts.utf8.reject_control_characters && is_plain_topic(topic_bytes);
    if (!plain || c.v5()) return decode_publish_rest(r.data(), r.position(), c, out, plain);
    if (out.qos != mqttwire::qos::at_most_once) {
        if (const auto e = read_packet_id(r, out.packet_id); e != errc::success) return e;
    }
    out.payload = binary_view(r.rest());
    return errc::success;
}

template <class W, class Ctx>
[[nodiscard]] constexpr errc encode_body(W& w, const publish_view& p, const Ctx& c) noexcept {
    if (w.validating()) {
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

// The Remaining Length of a PUBLISH without properties, as a sum (unchecked).
template <class Ctx>
[[nodiscard]] constexpr std::size_t plain_publish_body(const publish_view& p,
                                                      const Ctx& c) noexcept {
    const bool with_id = p.qos != mqttwire::qos::at_most_once;
    return 2 + p.topic.size() + (with_id ? 2u : 0u) + (c.v5() ? 1u : 0u) + p.payload.size();
}

// A PUBLISH without properties in a fast build at run time, the common case of a client's and a
// broker's hot loop: the same checks as the counting pass of encode_body, in the same order,
// then the Remaining Length into `length`. `Ctx` is the general encoder's context.
// `TopicChecked`: the caller has found the topic plain (is_plain_topic), so it is valid.
template <bool TopicChecked = false, class Ctx>
[[nodiscard]] MQTTWIRE_FORCE_INLINE errc plain_publish_length(const publish_view& p, const Ctx& c,
                                                              std::uint32_t& length) noexcept {
    if (!Ctx::profile.has(c.version)) return errc::invalid_argument;
    if (static_cast<std::uint8_t>(p.qos) > 2) return errc::malformed_packet; // MQTT-3.3.1-4
    if (p.dup && p.qos == mqttwire::qos::at_most_once) return errc::malformed_packet;
    // check_publish_topic with the topic rules inline: only an empty 5.0 topic needs more (its
    // Topic Alias); an empty one before 5.0 is what topic_name_check says (MQTT-4.7.3-1).
    if constexpr (!TopicChecked) {
        if (const auto e = c.v5() && p.topic.empty() ? check_publish_topic(p, true)
                                                     : topic_name_check(p.topic, {});
            e != errc::success)
            return e;
    }
    const bool with_id = p.qos != mqttwire::qos::at_most_once;
    if (with_id && p.packet_id == 0) return errc::protocol_error; // MQTT-2.3.1-1
    if (p.topic.size() > 0xFFFFu) return errc::malformed_packet;
    const std::size_t body = plain_publish_body(p, c);
    if (body > varint_max) return errc::packet_too_large;
    length = static_cast<std::uint32_t>(body);
    return errc::success;
}

// Stores a PUBLISH without properties that plain_publish_length has accepted with Remaining
// Length `length` into `to` (exactly its encoded size: one bounds check for the whole packet
// instead of one per field), up to its payload; returns where the payload goes. `ShortTopic`:
// the topic has at most 64 bytes and is copied inline (copy_short).
template <bool ShortTopic, class Ctx>
MQTTWIRE_FORCE_INLINE std::size_t write_plain_publish_head(const publish_view& p, const Ctx& c,
                                                           std::uint32_t length,
                                                           std::span<std::byte> to) noexcept {
    const std::size_t topic = p.topic.size();
    std::size_t at = 0;
    to[at++] = static_cast<std::byte>(0x30u | header_flags(p));
    for (std::uint32_t v = length;; v >>= 7) {
        to[at++] = static_cast<std::byte>(v > 0x7Fu ? (v & 0x7Fu) | 0x80u : v);
        if (v <= 0x7Fu) break;
    }
    to[at++] = static_cast<std::byte>(topic >> 8);
    to[at++] = static_cast<std::byte>(topic & 0xFFu);
    if constexpr (ShortTopic)
        copy_short(p.topic.bytes(), to.subspan(at, topic));
    else
        copy_bytes(p.topic.bytes(), to.subspan(at, topic));
    at += topic;
    if (p.qos != mqttwire::qos::at_most_once) {
        to[at++] = static_cast<std::byte>(p.packet_id >> 8);
        to[at++] = static_cast<std::byte>(p.packet_id & 0xFFu);
    }
    if (c.v5()) to[at++] = std::byte{0}; // Property Length 0
    return at;
}

// The whole PUBLISH of write_plain_publish_head: `to` is exactly its size, which is returned.
template <class Ctx>
inline std::size_t write_plain_publish(const publish_view& p, const Ctx& c, std::uint32_t length,
                                       std::span<std::byte> to) noexcept {
    const std::size_t at = write_plain_publish_head<false>(p, c, length, to);
    copy_bytes(p.payload.bytes(), to.subspan(at));
    return to.size();
}

// Checks, size, then the bytes (nothing written when it does not fit): any topic.
template <class Ctx>
[[nodiscard]] MQTTWIRE_RARE result<std::size_t>
encode_plain_publish_any(const publish_view& p, const Ctx& c, std::span<std::byte> out) noexcept {
    std::uint32_t length = 0;
    if (const auto e = plain_publish_length(p, c, length); e != errc::success) return e;
    const std::size_t total = 1 + varint_size(length) + length;
    if (out.size() < total) return errc::buffer_too_small;
    return write_plain_publish(p, c, length, out.first(total));
}

// Copies a payload of more than 64 bytes into `to` and returns the packet's size `total`.
[[nodiscard]] MQTTWIRE_TAIL inline result<std::size_t>
copy_payload(std::span<const std::byte> from, std::span<std::byte> to, std::size_t total) noexcept {
    copy_bytes(from, to);
    return total;
}

// encode_plain_publish_any for the common topic, plain ASCII of at most 64 bytes, with the same
// checks and outcome. It calls nothing: any other topic, and a payload of more than 64 bytes, are
// left to the functions above by tail calls, so it needs no saved registers (fast builds on 64-bit
// targets; everywhere else the general path).
template <class Ctx>
[[nodiscard]] inline result<std::size_t>
encode_plain_publish(const publish_view& p, const Ctx& c, std::span<std::byte> out) noexcept {
    if (!word_scans || p.topic.size() > 64 || !is_plain_topic<true>(p.topic.bytes()))
        return encode_plain_publish_any(p, c, out);
    std::uint32_t length = 0;
    if (const auto e = plain_publish_length<true>(p, c, length); e != errc::success) return e;
    const std::size_t total = 1 + varint_size(length) + length;
    if (out.size() < total) return errc::buffer_too_small;
    const auto to = out.first(total);
    const std::size_t at = write_plain_publish_head<true>(p, c, length, to);
    if (p.payload.size() > 64) return copy_payload(p.payload.bytes(), to.subspan(at), total);
    copy_short(p.payload.bytes(), to.subspan(at));
    return total;
}

} // namespace detail
} // namespace mqttwire
