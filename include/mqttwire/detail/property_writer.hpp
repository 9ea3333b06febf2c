#pragma once
// Writing MQTT 5.0 property blocks (section 2.2.2), driven by the table of property_table.hpp:
// each property is checked by the rules the decoder applies (check_property), measured and
// written by its wire type. The counting pass checks and measures; the writing pass measures
// again (no checks) and writes.

#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>

#include "../config.hpp"
#include "../errc.hpp"
#include "../properties_view.hpp"
#include "../property.hpp"
#include "../property_table.hpp"
#include "../varint.hpp"
#include "property_reader.hpp"
#include "writer.hpp"

namespace mqttwire::detail {

/// Which optional properties an encoder leaves out to fit a Maximum Packet Size.
struct property_filter {
    bool drop_reason_string = false;
    bool drop_user_properties = false;
    [[nodiscard]] constexpr bool keeps(property_id id) const noexcept {
        if (id == property_id::reason_string) return !drop_reason_string;
        if (id == property_id::user_property) return !drop_user_properties;
        return true;
    }
    [[nodiscard]] constexpr bool any() const noexcept {
        return drop_reason_string || drop_user_properties;
    }
};

// Bytes property `p` takes on the wire, its identifier included (one byte: every identifier is
// below 0x80), for a property check_property accepted.
[[nodiscard]] constexpr std::size_t property_size(const property& p) noexcept {
    const auto t = type_of(p.id);
    if (t <= property_type::four_byte_integer)
        return 1 + (std::size_t{1} << static_cast<unsigned>(t));
    if (t == property_type::variable_byte_integer) return 1 + varint_size(p.integer);
    if (t == property_type::binary_data) return 3 + p.binary.size();
    std::size_t n = 3 + p.string.size();
    if (t == property_type::string_pair) n += 2 + p.value.size();
    return n;
}

// Writes property `p` (accepted by check_property in the counting pass) of wire type `t`. Inlined
// into put_property in fast builds, so that one is compiled as before this overload; the
// size-optimised walk passes the type of the row it has already found.
template <class W>
[[nodiscard]] MQTTWIRE_FORCE_INLINE constexpr errc put_property(W& w, const property& p,
                                                                property_type t) noexcept {
    w.u8(static_cast<std::uint8_t>(p.id));
    if (t <= property_type::four_byte_integer) {
        if constexpr (small_code) { // 1 << t bytes, big-endian
            for (unsigned n = 1u << static_cast<unsigned>(t); n-- > 0;)
                w.u8(static_cast<std::uint8_t>(p.integer >> (8 * n)));
        } else if (t == property_type::four_byte_integer) {
            w.u32(p.integer);
        } else if (t == property_type::two_byte_integer) {
            w.u16(static_cast<std::uint16_t>(p.integer));
        } else {
            w.u8(static_cast<std::uint8_t>(p.integer));
        }
        return errc::success;
    }
    if (t == property_type::variable_byte_integer) {
        w.varint(p.integer);
        return errc::success;
    }
    if (t == property_type::binary_data) return w.length_prefixed(p.binary.text());
    if (const auto e = w.length_prefixed(p.string.text()); e != errc::success) return e;
    return t == property_type::string_pair ? w.length_prefixed(p.value.text()) : errc::success;
}
// The same, the type looked up from the identifier.
template <class W> [[nodiscard]] constexpr errc put_property(W& w, const property& p) noexcept {
    return put_property(w, p, type_of(p.id));
}

// One walk over the properties of a block to encode in context `ctx`: with `check`, each is
// checked first by the decoder's rules (check_property; a decoded block of the same context was
// checked on decode); then each one `filter` keeps is written (or counted, by a counting
// writer). The first error is returned. One function for checking, measuring and writing.
template <class W>
[[nodiscard]] constexpr errc put_property_entries(W& w, const properties_view& props,
                                                  property_context ctx, property_filter filter,
                                                  bool check) noexcept {
    const bool same_block = props.is_wire() && props.wire_context() == ctx;
    if (!small_code && same_block && !filter.any()) {
        w.raw(props.wire()); // validated on decode: copied as it is
        return errc::success;
    }
    // Fast builds skip the checks where a pass has made them already (`check` false: the writing
    // pass) or the decoder has (a decoded block of the same context, with rules no less strict);
    // size-optimised builds run them on every walk, where they pass again.
    check = small_code || (check && !same_block);
    std::uint32_t present = 0;
    const auto bit = ctx_bit(ctx);
    for (auto walk = property_walk::of(props); const auto* p = walk.next();) {
        if constexpr (small_code) { // always checked: the row is found once, for both
            const property_rule* rule = find_rule(static_cast<std::uint32_t>(p->id));
            if (rule == nullptr) return errc::malformed_packet;
            if (const auto e = place_property(*rule, bit, present); e != errc::success) return e;
            if (const auto e = check_value(*p, *rule, {}); e != errc::success) return e;
            if (filter.keeps(p->id)) {
                if (const auto e = put_property(w, *p, rule->type()); e != errc::success)
                    return e;
            }
            continue;
        }
        if (check) {
            if (const auto e = check_property(*p, bit, present, {}); e != errc::success) return e;
        }
        if (filter.keeps(p->id)) {
            if (const auto e = put_property(w, *p); e != errc::success) return e;
        }
    }
    return errc::success;
}

// Checks a property list for an encoder: the same rules the decoder applies.
[[nodiscard]] constexpr errc check_properties(const properties_view& props,
                                              property_context ctx) noexcept {
    counting_sink c;
    writer<counting_sink> w(c);
    return put_property_entries(w, props, ctx, {}, true);
}

// MQTT 5.0 sections 3.1.2.11.9/3.1.2.11.10, 3.2.2.3.17/18, 3.15.2.2.2/3: Authentication Data
// without an Authentication Method is a Protocol Error.
[[nodiscard]] constexpr errc check_auth_pair(const properties_view& p) noexcept {
    return p.contains(property_id::authentication_data) &&
                   !p.contains(property_id::authentication_method)
               ? errc::protocol_error
               : errc::success;
}

// Property Length followed by the properties. The counting pass checks and measures them (and
// skips their bytes); the writing pass measures them again, without checks, and writes them.
// Size-optimised builds count with the flex sink too: one instantiation of the entries.
template <class W>
[[nodiscard]] constexpr errc write_properties(W& w, const properties_view& props,
                                              property_context ctx,
                                              property_filter filter) noexcept {
    if (!small_code && props.empty() && props.wire().empty()) { // Property Length 0: no walks
        w.u8(0);
        return errc::success;
    }
    if (!small_code && !props.is_wire()) {
        // Caller values in a fast build: checked (counting pass) and measured in one walk over
        // the array, the sizes summed without a writer.
        std::size_t length = 0;
        std::uint32_t present = 0;
        const auto bit = ctx_bit(ctx);
        const bool validating = w.validating();
        const auto values = properties_access::values(props);
        for (const auto& p : values) {
            if (validating) {
                if (const auto e = check_property(p, bit, present, {}); e != errc::success)
                    return e;
            }
            if (filter.keeps(p.id)) length += property_size(p);
        }
        if (length > varint_max) return errc::packet_too_large;
        w.varint(static_cast<std::uint32_t>(length));
        if (validating) {
            w.sink().skip(length);
            return errc::success;
        }
        for (const auto& p : values) {
            if (!filter.keeps(p.id)) continue;
            if (const auto e = put_property(w, p); e != errc::success) return e;
        }
        return errc::success;
    }
    using count_sink = std::conditional_t<small_code, flex_sink, recount_sink>;
    count_sink c;
    writer<count_sink> cw(c);
    const bool validating = w.validating();
    if (const auto e = put_property_entries(cw, props, ctx, filter, validating); e != errc::success)
        return e;
    if (c.count > varint_max) return errc::packet_too_large;
    w.varint(static_cast<std::uint32_t>(c.count));
    if (!small_code && validating) { // size-optimised builds count the entries again instead
        w.sink().skip(c.count);
        return errc::success;
    }
    return put_property_entries(w, props, ctx, filter, false);
}

} // namespace mqttwire::detail
