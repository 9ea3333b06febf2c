#pragma once
// Reading and checking MQTT 5.0 properties (section 2.2.2), driven by the one table of
// property_table.hpp: an entry's wire type says how to read its value, its row says where it may
// appear, whether it may repeat and which value rule applies. The same checks run on a decoded
// entry and on a value given to the encoder (check_property), so both paths accept the same
// properties.

#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>

#include "../config.hpp"
#include "../errc.hpp"
#include "../options.hpp"
#include "../property.hpp"
#include "../topic.hpp"
#include "../utf8.hpp"
#include "../varint.hpp"
#include "reader.hpp"
#include "scan.hpp"

namespace mqttwire::detail {

// How the property checks take the UTF-8 rules: by reference in size-optimised builds (the
// decode loop passes the options' own, with no repacking into a register), by value in fast
// builds (where the checks are inlined, or take a temporary for the encoder's defaults).
using rules_arg = std::conditional_t<small_code, const utf8_rules&, utf8_rules>;

// Reads a value of wire type `t` into `out` (its kind and value; the identifier is the
// caller's), bounded by the reader. Only what the wire format itself bounds is checked here; the
// rules are check_property's.
[[nodiscard]] MQTTWIRE_FORCE_INLINE constexpr errc read_value(reader& r, property_type t,
                                                              property& out) noexcept {
    out.kind = kind_of(t);
    if (t <= property_type::four_byte_integer) {
        if constexpr (!small_code) {
            if (t == property_type::four_byte_integer) return r.u32(out.integer);
            if (t == property_type::two_byte_integer) {
                std::uint16_t v = 0;
                const auto e = r.u16(v);
                out.integer = v;
                return e;
            }
            std::uint8_t v = 0;
            const auto e = r.u8(v);
            out.integer = v;
            return e;
        } else { // Byte, Two and Four Byte Integer: 1 << t bytes, big-endian
            std::uint32_t v = 0;
            for (unsigned n = 1u << static_cast<unsigned>(t); n > 0; --n) {
                const int b = r.byte();
                if (b < 0) return errc::malformed_packet;
                v = v << 8 | static_cast<std::uint32_t>(b);
            }
            out.integer = v;
            return errc::success;
        }
    }
    if (t == property_type::variable_byte_integer) return r.varint(out.integer);
    std::span<const std::byte> s;
    if (const auto e = r.string(s); e != errc::success) return e;
    if (t == property_type::binary_data) {
        out.binary = binary_view(s);
        return errc::success;
    }
    out.string = utf8_view(s);
    if (t != property_type::string_pair) return errc::success;
    if (const auto e = r.string(s); e != errc::success) return e;
    out.value = utf8_view(s);
    return errc::success;
}

// Reads one entry of a property block (identifier, then value) into `out`; an identifier no
// property has is malformed. Iteration of a decoded block and validation both read with this.
[[nodiscard]] constexpr errc read_property(reader& r, property& out) noexcept {
    // Every field reset, one at a time (assigning a temporary makes g++ build it and copy it).
    out.id = {};
    out.kind = property_value_kind::none;
    out.integer = 0;
    out.string = {};
    out.value = {};
    out.binary = {};
    // Every identifier is below 0x80: a multi-byte one is unknown or non-minimal. No byte left
    // (-1) is no identifier either: the same Malformed Packet.
    const int id = r.byte();
    const property_rule* rule = find_rule(static_cast<std::uint32_t>(id));
    if (rule == nullptr) return errc::malformed_packet;
    out.id = static_cast<property_id>(id);
    return read_value(r, rule->type(), out);
}

// A UTF-8 Encoded String of a property: at most 65535 bytes, well-formed (MQTT5-1.5.4-1,
// MQTT5-1.5.4-2; MQTT5-1.5.7-1 for both halves of a pair). Plain ASCII, the common case, is
// checked inline in fast builds.
[[nodiscard]] constexpr errc check_property_string(const utf8_view& s, rules_arg rules) noexcept {
    if (s.size() > 0xFFFFu) return errc::malformed_packet;
    if (!small_code && !std::is_constant_evaluated() && !rules.reject_control_characters &&
        is_plain_text(s.bytes()))
        return errc::success;
    return validate_utf8(s, rules);
}

// Section 2.2.2.2: a property not valid for the packet type (context bit `bit`) is a Malformed
// Packet; one that may appear once but appears twice is a Protocol Error (`present` collects the
// presence bits of the block so far: O(1) per property).
[[nodiscard]] constexpr errc place_property(const property_rule& rule, std::uint16_t bit,
                                            std::uint32_t& present) noexcept {
    if ((rule.allowed & bit) == 0) return errc::malformed_packet;
    const std::uint32_t mask = std::uint32_t{1} << rule.bit;
    if ((present & mask) != 0 && !rule.repeats(bit)) return errc::protocol_error;
    present |= mask;
    return errc::success;
}

// The rules of the value of property `p` (whose row is `rule`), for both paths: a decoded entry
// always has the kind and range of its wire type, a value to encode may not.
[[nodiscard]] constexpr errc check_value(const property& p, const property_rule& rule,
                                         rules_arg rules) noexcept {
    const auto t = static_cast<unsigned>(rule.type());
    // A value given for another wire type (e.g. an integer for Content Type): the four integer
    // types hold an integer, the others a string, binary data or a pair (kind_of).
    const auto kind = static_cast<unsigned>(p.kind);
    if (kind != 0 && kind != (t < 4 ? 1u : t - 2)) return errc::invalid_argument;
    if (t < 4) {
        // The bits above the type's width are 0 (Four Byte Integer: all 32 bits are its own);
        // a Variable Byte Integer has 28 bits (varint_max).
        if (t != 2 && (p.integer >> (t == 3 ? 28u : 8u << t)) != 0) return errc::malformed_packet;
    } else if (t == static_cast<unsigned>(property_type::binary_data)) {
        // Size-optimised builds leave the length to the writer, which every value checked here
        // reaches next (put_property: the same Malformed Packet); a decoded value always fits.
        if (!small_code && p.binary.size() > 0xFFFFu) return errc::malformed_packet;
    } else {
        if (const auto e = check_property_string(p.string, rules); e != errc::success) return e;
        if (t == static_cast<unsigned>(property_type::string_pair)) {
            if (const auto e = check_property_string(p.value, rules); e != errc::success) return e;
        }
    }
    // The value rules of section 3 (value_rule_of in property_table.hpp cites them).
    const auto v = rule.rule();
    if (v == value_rule::topic)
        return topic_name_check(p.string, {}) == errc::success ? errc::success
                                                               : errc::protocol_error;
    if (v == value_rule::none) return errc::success;
    if (v == value_rule::boolean ? p.integer <= 1 : p.integer != 0) return errc::success;
    return v == value_rule::alias ? errc::topic_alias_invalid : errc::protocol_error;
}

// The rules of property `p` in a block of the context whose bit is `bit` (the encoder's check):
// an identifier no property has is malformed (section 2.2.2.2), then its place, then its value.
[[nodiscard]] constexpr errc check_property(const property& p, std::uint16_t bit,
                                            std::uint32_t& present, rules_arg rules) noexcept {
    const property_rule* rule = find_rule(static_cast<std::uint32_t>(p.id));
    if (rule == nullptr) return errc::malformed_packet;
    if (const auto e = place_property(*rule, bit, present); e != errc::success) return e;
    return check_value(p, *rule, rules);
}

// Fast builds: one entry of a block read and checked without building a `property` (the rules
// of place_property and check_value, in the same order; a decoded value always has the kind and
// range of its wire type).
[[nodiscard]] MQTTWIRE_FORCE_INLINE constexpr errc check_wire_entry(reader& walk, std::uint16_t bit,
                                                                    std::uint32_t& present,
                                                                    utf8_rules rules) noexcept {
    std::uint8_t id = 0;
    if (const auto e = walk.u8(id); e != errc::success) return e;
    // Every identifier is below 0x80: a multi-byte one is unknown or non-minimal. Unassigned
    // identifiers appear nowhere (allowed == 0).
    if (id >= property_rules.size()) return errc::malformed_packet;
    const property_rule rule = property_rules[id];
    if (const auto e = place_property(rule, bit, present); e != errc::success) return e;
    std::uint32_t integer = 0;
    switch (rule.type()) {
    case property_type::byte: {
        std::uint8_t v = 0;
        if (const auto e = walk.u8(v); e != errc::success) return e;
        integer = v;
        break;
    }
    case property_type::two_byte_integer: {
        std::uint16_t v = 0;
        if (const auto e = walk.u16(v); e != errc::success) return e;
        integer = v;
        break;
    }
    case property_type::four_byte_integer: { // one big-endian load
        std::span<const std::byte> b;
        if (const auto e = walk.bytes(4, b); e != errc::success) return e;
        integer = static_cast<std::uint32_t>(b[0]) << 24 | static_cast<std::uint32_t>(b[1]) << 16 |
                  static_cast<std::uint32_t>(b[2]) << 8 | static_cast<std::uint32_t>(b[3]);
        break;
    }
    case property_type::variable_byte_integer:
        if (const auto e = walk.varint(integer); e != errc::success) return e;
        break;
    case property_type::binary_data: {
        std::uint16_t length = 0;
        std::span<const std::byte> data;
        if (const auto e = walk.u16(length); e != errc::success) return e;
        return walk.bytes(length, data);
    }
    default: { // a UTF-8 string, or a pair of them (MQTT5-1.5.7-1)
        utf8_view text;
        if (const auto e = walk.utf8(text, rules); e != errc::success) return e;
        if (rule.type() == property_type::string_pair) return walk.utf8(text, rules);
        // MQTT5-3.3.2-14: a Response Topic is a Topic Name (no wildcards).
        if (rule.rule() == value_rule::topic && topic_name_check(text, {}) != errc::success)
            return errc::protocol_error;
        return errc::success;
    }
    }
    const auto v = rule.rule();
    if (v == value_rule::none) return errc::success;
    if (v == value_rule::boolean ? integer <= 1 : integer != 0) return errc::success;
    return v == value_rule::alias ? errc::topic_alias_invalid : errc::protocol_error;
}

// Checks every entry of a property block (its Property Length already read) as the properties
// of `ctx`: each identifier, its place (table 2-4), duplicates and its value. Counts the entries
// and collects their presence bits. Inline, for the PUBLISH decoder's hot path (no call, the
// block's reader in registers); other packets call check_property_entries.
[[nodiscard]] MQTTWIRE_FORCE_INLINE constexpr errc
check_property_entries_inline(reader walk, property_context ctx, const decode_options& opts,
                              std::uint32_t& present, std::size_t& count) noexcept {
    // Locals while walking (the out-parameters could alias the walk's bytes for the compiler).
    std::uint32_t seen = 0;
    std::size_t n = 0;
    const auto bit = ctx_bit(ctx);
    while (!walk.empty()) {
        if constexpr (small_code) { // the value reader and checks shared with iteration and encode
            property p;
            // No byte left (-1) finds no row either: the same Malformed Packet.
            const int id = walk.byte();
            const property_rule* rule = find_rule(static_cast<std::uint32_t>(id));
            if (rule == nullptr) return errc::malformed_packet;
            if (const auto e = place_property(*rule, bit, seen); e != errc::success) return e;
            p.id = static_cast<property_id>(id);
            if (const auto e = read_value(walk, rule->type(), p); e != errc::success) return e;
            if (const auto e = check_value(p, *rule, opts.utf8); e != errc::success) return e;
        } else { // fast builds: the value read into locals and checked by its row, inline
            if (const auto e = check_wire_entry(walk, bit, seen, opts.utf8); e != errc::success)
                return e;
        }
        ++n;
    }
    present = seen;
    count = n;
    return errc::success;
}

// The same, as one function shared by every packet type.
[[nodiscard]] constexpr errc check_property_entries(reader walk, property_context ctx,
                                                    const decode_options& opts,
                                                    std::uint32_t& present,
                                                    std::size_t& count) noexcept {
    return check_property_entries_inline(walk, ctx, opts, present, count);
}

} // namespace mqttwire::detail
