#pragma once
/// @file
/// @brief MQTT 5.0 properties (section 2.2.2): identifiers, wire types, where each may appear,
/// decoding with O(1) duplicate detection, non-allocating iteration and look-up, and encoding.
///
/// ```
/// +-----------------------------+----------+-------+----------+-------+-----
/// | Property Length (var. int.) | id (vbi) | value | id (vbi) | value | ...
/// +-----------------------------+----------+-------+----------+-------+-----
/// ```
///
/// One table (`property_table.hpp`: identifier -> wire type, where it may appear, whether it
/// may repeat, its value rule) drives one reader (`detail/property_reader.hpp`) and one writer
/// (`detail/property_writer.hpp`); `property.hpp` is one property, `properties_view.hpp` a block.

#include <cstddef>
#include <span>

#include "detail/property_reader.hpp"
#include "detail/property_writer.hpp"
#include "detail/reader.hpp"
#include "detail/writer.hpp"
#include "errc.hpp"
#include "options.hpp"
#include "properties_view.hpp"
#include "property.hpp"
#include "property_table.hpp"
#include "result.hpp"
#include "varint.hpp"

namespace mqttwire {

/// @brief Validates a property block (the bytes after a Property Length) as the properties of
/// `ctx`, with every rule `decode_packet` applies to it, and returns a view over it.
/// @return the view (pointing into `block`), or `errc::malformed_packet` /
/// `errc::protocol_error` / `errc::topic_alias_invalid` as for a packet holding that block.
[[nodiscard]] constexpr result<properties_view>
decode_property_block(std::span<const std::byte> block, property_context ctx,
                      const decode_options& opts = {}) noexcept {
    if (block.size() > varint_max) return errc::malformed_packet; // no Property Length fits
    properties_view out;
    std::uint32_t present = 0;
    std::size_t count = 0;
    if (const auto e =
            detail::check_property_entries(detail::reader(block), ctx, opts, present, count);
        e != errc::success)
        return e;
    detail::properties_access::set_wire(out, block, count, present, ctx);
    return out;
}

/// @brief The number of bytes `encode_property_block` writes: the entries of `props`, without a
/// Property Length.
/// @return the size, or `errc::malformed_packet` / `errc::protocol_error` /
/// `errc::invalid_argument` for a property the encoder refuses in `ctx`.
[[nodiscard]] constexpr result<std::size_t> property_block_size(const properties_view& props,
                                                                property_context ctx) noexcept {
    detail::counting_sink c;
    detail::writer<detail::counting_sink> w(c);
    if (const auto e = detail::put_property_entries(w, props, ctx, {}, true); e != errc::success)
        return e;
    return c.count;
}

/// @brief Writes the entries of `props` (no Property Length) into `out`, after the same checks
/// as `encode`. E.g. a broker keeping the properties it forwards.
/// @return bytes written, `errc::buffer_too_small` (nothing written), or the errors of
/// `property_block_size`.
[[nodiscard]] constexpr result<std::size_t>
encode_property_block(const properties_view& props, property_context ctx,
                      std::span<std::byte> out) noexcept {
    const auto size = property_block_size(props, ctx);
    if (!size) return size;
    if (out.size() < *size) return errc::buffer_too_small;
    detail::span_sink sink{out.first(*size)};
    detail::writer<detail::span_sink> w(sink);
    if (const auto e = detail::put_property_entries(w, props, ctx, {}, false); e != errc::success)
        return e;
    return sink.count;
}

} // namespace mqttwire
