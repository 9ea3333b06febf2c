#pragma once
/// @file
/// @brief CONNECT (MQTT 3.1 section 3.1, MQTT 3.1.1 section 3.1, MQTT 5.0 section 3.1).
///
/// ```
/// 10 <remaining length>
/// 00 04 'M' 'Q' 'T' 'T' | 00 06 'M' 'Q' 'I' 's' 'd' 'p'   protocol name
/// <level: 5, 4 or 3; 0x83 / 0x84 from a bridge, see decode_options::bridge_levels>
/// <flags: user name | password | will retain | will QoS(2) | will | clean start | reserved 0>
/// <keep alive: 2 bytes>
/// [5.0: properties]
/// client id, [5.0: will properties], [will topic, will payload], [user name], [password]
/// ```

#include <cstdint>
#include <optional>

#include "../binary_view.hpp"
#include "../detail/codec.hpp"
#include "../optional_view.hpp"
#include "../properties.hpp"
#include "../topic.hpp"
#include "../utf8.hpp"
#include "../version.hpp"

namespace mqttwire {

/// @brief The will of a CONNECT.
struct will_view {
    mqttwire::qos qos = mqttwire::qos::at_most_once;
    bool retain = false;
    utf8_view topic{};
    binary_view payload{};
    properties_view properties{}; ///< Will Properties (5.0)
    [[nodiscard]] friend constexpr bool operator==(const will_view&,
                                                   const will_view&) noexcept = default;
};

/// @brief CONNECT. Views point into the decoded buffer.
struct connect_view {
    static constexpr packet_type type = packet_type::connect;
    // Bit-fields: the bridge flag shares the level's byte, so neither the view (nor with it any
    // decode result) grows, and a client, which never reads the level of a view, pays nothing.
    /// Protocol level found on decode. `encode` writes the level it is given instead.
    protocol_version version : 7 = protocol_version::v5;
    /// mosquitto's bridge flag: the top bit of the level byte (0x83, 0x84), set by a broker that
    /// bridges into this one. Decoded only with `decode_options::bridge_levels`; encoded only
    /// by profiles that also receive CONNECT (`codec_profile::from_client`: brokers, which are
    /// the ones that bridge), so a client profile carries no code for it.
    bool bridge : 1 = false;
    bool clean_start = true; ///< Clean Session in 3.1 / 3.1.1
    std::uint16_t keep_alive = 0;
    utf8_view client_id{};
    std::optional<will_view> will{};
    optional_view<utf8_view> user_name{};
    optional_view<binary_view> password{};
    properties_view properties{};
    [[nodiscard]] friend constexpr bool operator==(const connect_view&,
                                                   const connect_view&) noexcept = default;
};

namespace detail {

inline constexpr std::uint8_t connect_flag_reserved = 0x01;
inline constexpr std::uint8_t connect_flag_clean = 0x02;
inline constexpr std::uint8_t connect_flag_will = 0x04;
inline constexpr std::uint8_t connect_flag_will_retain = 0x20;
inline constexpr std::uint8_t connect_flag_password = 0x40;
inline constexpr std::uint8_t connect_flag_user_name = 0x80;

inline constexpr std::uint8_t bridge_level_flag = 0x80;

// The protocol names with their length prefixes and the level that goes with them, as written
// (read-only data, not code that builds them on the stack).
inline constexpr std::byte protocol_head_v3_1[] = {
    std::byte{0},   std::byte{6},   std::byte{'M'}, std::byte{'Q'}, std::byte{'I'},
    std::byte{'s'}, std::byte{'d'}, std::byte{'p'}, std::byte{3}};
inline constexpr std::byte protocol_head_v3_1_1[] = {std::byte{0},   std::byte{4},   std::byte{'M'},
                                                     std::byte{'Q'}, std::byte{'T'}, std::byte{'T'},
                                                     std::byte{4}};
inline constexpr std::byte protocol_head_v5[] = {std::byte{0},   std::byte{4},   std::byte{'M'},
                                                 std::byte{'Q'}, std::byte{'T'}, std::byte{'T'},
                                                 std::byte{5}};

// Reads the protocol name and level. A name other than "MQTT"/"MQIsdp", or a level that does not
// belong with the name, is refused (MQTT-3.1.2-1, MQTT5-3.1.2-1; 3.1.1 section 3.1.2.2).
// With `bridge_levels`, mosquitto's bridge levels 0x83 and 0x84 are taken under either name
// (mosquitto and mqtt-packet pair them freely); 5.0 bridges use subscription options instead,
// so 0x85 stays refused.
[[nodiscard]] constexpr errc read_protocol(reader& r, bool bridge_levels, protocol_version& out,
                                           bool& bridge) noexcept {
    std::span<const std::byte> name;
    if (const auto e = r.string(name); e != errc::success) return e;
    const int level = r.byte();
    if (level < 0) return errc::malformed_packet;
    const auto is = [&](std::string_view s) {
        if (name.size() != s.size()) return false;
        for (std::size_t i = 0; i < s.size(); ++i)
            if (static_cast<char>(name[i]) != s[i]) return false;
        return true;
    };
    if (bridge_levels && (level == (bridge_level_flag | 3) || level == (bridge_level_flag | 4)) &&
        (is("MQTT") || is("MQIsdp"))) {
        out = static_cast<protocol_version>(level & 0x7F);
        bridge = true;
        return errc::success;
    }
    if (is("MQTT") && (level == 4 || level == 5)) {
        out = static_cast<protocol_version>(level);
        return errc::success;
    }
    if (is("MQIsdp") && level == 3) {
        out = protocol_version::v3_1;
        return errc::success;
    }
    return errc::unsupported_protocol_version;
}

template <class Ctx>
[[nodiscard]] constexpr errc decode_body(reader& r, const Ctx& c,
                                         connect_view& out) noexcept {
    protocol_version version = protocol_version::v5;
    bool bridge = false;
    if (const auto e = read_protocol(r, c.opts.bridge_levels, version, bridge);
        e != errc::success)
        return e;
    out.version = version;
    out.bridge = bridge;
    // A level the program was built without is one it does not support.
    if (!Ctx::profile.has(version)) return errc::unsupported_protocol_version;
    const bool v5 = is_v5<Ctx::profile>(version);
    const int read_flags = r.byte();
    if (read_flags < 0) return errc::malformed_packet;
    const auto flags = static_cast<std::uint8_t>(read_flags);
    // MQTT-3.1.2-3 / MQTT5-3.1.2-3: the reserved flag is 0.
    if ((flags & connect_flag_reserved) != 0) return errc::malformed_packet;
    const bool has_will = (flags & connect_flag_will) != 0;
    const auto will_qos = static_cast<std::uint8_t>((flags >> 3) & 0x03u);
    const bool will_retain = (flags & connect_flag_will_retain) != 0;
    if (!has_will && (will_qos != 0 || will_retain)) {
        // MQTT-3.1.2-11, MQTT-3.1.2-13, MQTT-3.1.2-15; MQTT5-3.1.2-11, MQTT5-3.1.2-13.
        return errc::malformed_packet;
    }
    if (will_qos == 3) return errc::malformed_packet; // MQTT-3.1.2-14 / MQTT5-3.1.2-12
    const bool has_user = (flags & connect_flag_user_name) != 0;
    const bool has_password = (flags & connect_flag_password) != 0;
    // MQTT-3.1.2-22: no password without a user name before 5.0 (5.0 allows it).
    if (!v5 && has_password && !has_user) return errc::malformed_packet;
    out.clean_start = (flags & connect_flag_clean) != 0;
    if (const auto e = r.u16(out.keep_alive); e != errc::success) return e;
    if (v5) {
        if (const auto e = decode_properties(r, property_context::connect, c.opts, out.properties);
            e != errc::success)
            return e;
        if (const auto e = check_auth_pair(out.properties); e != errc::success) return e;
    }
    // Payload order: MQTT-3.1.3-1 / MQTT5-3.1.3-1. Client id first and always present
    // (MQTT-3.1.3-3, MQTT-3.1.3-4 / MQTT5-3.1.3-3, MQTT5-3.1.3-4).
    if (const auto e = r.utf8(out.client_id, c.opts.utf8); e != errc::success) return e;
    if (has_will) { // MQTT-3.1.2-9 / MQTT5-3.1.2-9
        will_view w;
        w.qos = static_cast<mqttwire::qos>(will_qos);
        w.retain = will_retain;
        if (v5) {
            if (const auto e = decode_properties(r, property_context::will, c.opts, w.properties);
                e != errc::success)
                return e;
        }
        // MQTT-3.1.3-10 / MQTT5-3.1.3-11: a UTF-8 string; and a topic name (no wildcards).
        if (const auto e = r.utf8(w.topic, c.opts.utf8); e != errc::success) return e;
        if (validate_topic_name(w.topic) != errc::success) return errc::topic_name_invalid;
        if (const auto e = r.binary(w.payload); e != errc::success) return e;
        if (c.opts.validate_payload_format &&
            w.properties.integer_or(property_id::payload_format_indicator, 0) == 1 &&
            validate_utf8(w.payload.bytes()) != errc::success)
            return errc::payload_format_invalid;
        out.will = w;
    }
    if (has_user) { // MQTT-3.1.2-19, MQTT-3.1.3-11 / MQTT5-3.1.2-17, MQTT5-3.1.3-12
        utf8_view u;
        if (const auto e = r.utf8(u, c.opts.utf8); e != errc::success) return e;
        out.user_name = u;
    }
    if (has_password) { // MQTT-3.1.2-21 / MQTT5-3.1.2-19
        binary_view p;
        if (const auto e = r.binary(p); e != errc::success) return e;
        out.password = p;
    }
    // MQTT-3.1.2-18, MQTT-3.1.2-20 / MQTT5-3.1.2-16, MQTT5-3.1.2-18: nothing else follows.
    return expect_end(r);
}

template <class W, class Ctx>
[[nodiscard]] constexpr errc encode_body(W& w, const connect_view& p, const Ctx& c) noexcept {
    const bool v5 = c.v5();
    // The protocol name and level as bytes: constants, nothing to validate or measure at run
    // time (only those of the profile's levels). A bridge's level has its top bit set, which
    // only profiles that receive CONNECT (brokers, which bridge) write.
    std::span<const std::byte> head(protocol_head_v3_1_1);
    if (Ctx::profile.v5 && (!Ctx::profile.v3 || c.version == protocol_version::v5))
        head = protocol_head_v5;
    else if (Ctx::profile.v3 && c.version == protocol_version::v3_1)
        head = protocol_head_v3_1;
    bool bridge = false;
    if constexpr (Ctx::profile.from_client) bridge = p.bridge;
    w.raw(bridge ? head.first(head.size() - 1) : head);
    if (bridge)
        w.u8(static_cast<std::uint8_t>(static_cast<unsigned>(c.version) | bridge_level_flag));
    std::uint8_t flags = 0;
    if (p.clean_start) flags |= connect_flag_clean;
    if (p.will) {
        if (static_cast<std::uint8_t>(p.will->qos) > 2) return errc::malformed_packet;
        flags = static_cast<std::uint8_t>(flags | connect_flag_will |
                                          (static_cast<std::uint8_t>(p.will->qos) << 3));
        if (p.will->retain) flags |= connect_flag_will_retain;
    }
    if (p.user_name) flags |= connect_flag_user_name;
    if (p.password) {
        if (!v5 && !p.user_name) return errc::malformed_packet; // MQTT-3.1.2-22
        flags |= connect_flag_password;
    }
    w.u8(flags);
    w.u16(p.keep_alive);
    if (v5) {
        if (w.validating()) {
            if (const auto e = check_auth_pair(p.properties); e != errc::success) return e;
        }
        if (const auto e = write_properties(w, p.properties, property_context::connect, {});
            e != errc::success)
            return e;
    }
    if (const auto e = w.utf8(p.client_id); e != errc::success) return e;
    if (p.will) {
        if (v5) {
            if (const auto e =
                    write_properties(w, p.will->properties, property_context::will, {});
                e != errc::success)
                return e;
        }
        // A length that does not fit (malformed, from the string writer) and ill-formed UTF-8
        // (malformed, MQTT-3.1.3-10 / MQTT5-3.1.3-11) first, then the topic-name rules: UTF-8
        // and topic rules in one pass.
        if (const auto e = w.checked_utf8(p.will->topic); e != errc::success) return e;
        if (w.validating()) {
            if (const auto e = topic_name_check(p.will->topic, {}); e != errc::success) return e;
        }
        if (const auto e = w.binary(p.will->payload); e != errc::success) return e;
    }
    if (p.user_name) {
        if (const auto e = w.utf8(*p.user_name); e != errc::success) return e;
    }
    if (p.password) {
        if (const auto e = w.binary(*p.password); e != errc::success) return e;
    }
    return errc::success;
}

} // namespace detail
} // namespace mqttwire
