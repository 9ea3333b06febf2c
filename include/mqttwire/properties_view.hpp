#pragma once
/// @file
/// @brief `properties_view`: the properties of one packet (or of a will), over the validated
/// wire bytes of a decoded packet or over caller-provided `property` values to encode;
/// non-allocating iteration and look-up.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "config.hpp"
#include "detail/property_reader.hpp"
#include "detail/reader.hpp"
#include "detail/wire_list.hpp"
#include "errc.hpp"
#include "options.hpp"
#include "property.hpp"
#include "property_table.hpp"

namespace mqttwire {

class properties_view;

namespace detail {
struct properties_access;

// Decodes one entry of a validated property block: identifier, then value.
struct property_entry_traits {
    [[nodiscard]] static constexpr errc read(reader& r, property& out) noexcept {
        return read_property(r, out);
    }
};

// Walks the properties of a view: the caller's array in place, or a validated wire block
// decoded one entry at a time. `next()` is the next property, or nullptr at the end (also where
// a hand-built block does not decode, instead of reading out of bounds). The pointer is valid
// until the next call.
// An aggregate made by `of`: one function, where a constructor would be emitted twice.
class property_walk {
  public:
    [[nodiscard]] static constexpr property_walk of(const properties_view& v) noexcept;
    [[nodiscard]] constexpr const property* next() noexcept {
        if (!values_.empty()) {
            if (index_ >= values_.size()) return nullptr;
            return &values_[index_++];
        }
        if (reader_.empty() || read_property(reader_, current_) != errc::success) return nullptr;
        return &current_;
    }

  private:
    std::span<const property> values_;
    std::size_t index_ = 0;
    reader reader_;
    property current_;
};

// Bit of `id` in a properties_view's presence mask: its index in property_table (27 bits).
[[nodiscard]] constexpr std::uint32_t presence_bit(property_id id) noexcept {
    const auto* r = find_rule(static_cast<std::uint32_t>(id));
    return r == nullptr ? 0u : std::uint32_t{1} << r->bit;
}
} // namespace detail

/// @brief The properties of one packet (or of a will): a view over the validated wire bytes of
/// a decoded packet, or over caller-provided `property` values to encode.
///
/// Iteration yields `property` values and never allocates. `contains` is O(1) for decoded
/// blocks; `find` and `count` walk the block. Four words: a pointer, a length, a presence mask
/// and the entry count with the block's context.
class properties_view {
    static constexpr std::uint32_t count_mask = (std::uint32_t{1} << 27) - 1;
    static constexpr unsigned ctx_shift = 27;
    static constexpr std::uint32_t wire_bit = std::uint32_t{1} << 31;

  public:
    using iterator = detail::list_iterator<property, detail::property_entry_traits>;

    constexpr properties_view() noexcept : values_(nullptr) {}
    /// @brief Properties to encode, in wire order.
    constexpr properties_view(std::span<const property> values) noexcept // NOLINT
        : values_(values.data()), length_(values.size()) {}
    template <std::size_t N>
    constexpr properties_view(const property (&values)[N]) noexcept // NOLINT
        : properties_view(std::span<const property>(values)) {}

    [[nodiscard]] constexpr iterator begin() const noexcept { return at(0); }
    [[nodiscard]] constexpr iterator end() const noexcept { return at(size()); }
    [[nodiscard]] constexpr std::size_t size() const noexcept {
        return is_wire() ? (bits_ & count_mask) : length_;
    }
    [[nodiscard]] constexpr bool empty() const noexcept { return size() == 0; }

    /// @brief True when a property with identifier `id` is present.
    [[nodiscard]] constexpr bool contains(property_id id) const noexcept {
        if (is_wire()) return (present_ & detail::presence_bit(id)) != 0;
        for (const auto& p : values())
            if (p.id == id) return true;
        return false;
    }
    /// @brief The first property with identifier `id`.
    [[nodiscard]] constexpr std::optional<property> find(property_id id) const noexcept {
        if (is_wire() && !contains(id)) return std::nullopt;
        for (auto w = detail::property_walk::of(*this); const auto* p = w.next();)
            if (p->id == id) return *p;
        return std::nullopt;
    }
    /// @brief The integer value of `id`, or `fallback` when absent.
    [[nodiscard]] constexpr std::uint32_t integer_or(property_id id,
                                                     std::uint32_t fallback) const noexcept {
        if (!detail::small_code && is_wire() && !contains(id)) return fallback;
        for (auto w = detail::property_walk::of(*this); const auto* p = w.next();)
            if (p->id == id) return p->integer;
        return fallback;
    }
    /// @brief How many properties have identifier `id`.
    [[nodiscard]] constexpr std::size_t count(property_id id) const noexcept {
        std::size_t n = 0;
        for (auto w = detail::property_walk::of(*this); const auto* p = w.next();)
            if (p->id == id) ++n;
        return n;
    }

    /// @brief The raw block of a decoded view, without its Property Length (empty for
    /// value-backed views).
    [[nodiscard]] constexpr std::span<const std::byte> wire() const noexcept {
        if (!is_wire()) return {};
        return {wire_, length_};
    }
    [[nodiscard]] constexpr bool is_wire() const noexcept { return (bits_ & wire_bit) != 0; }
    /// @brief Where a decoded block was validated (meaningless for value-backed views).
    [[nodiscard]] constexpr property_context wire_context() const noexcept {
        return static_cast<property_context>((bits_ >> ctx_shift) & 0x0Fu);
    }

    /// @brief The same decoded block read from `copy`, a byte-for-byte copy of `wire()` (e.g.
    /// kept by a broker after the input buffer is gone). Precondition: `copy` holds the same
    /// bytes; an empty view is returned when the sizes differ.
    [[nodiscard]] constexpr properties_view
    rebased(std::span<const std::byte> copy) const noexcept {
        if (!is_wire() || copy.size() != length_) return {};
        properties_view v = *this;
        v.wire_ = copy.data();
        return v;
    }

    /// @brief Same properties in the same order.
    [[nodiscard]] friend constexpr bool operator==(const properties_view& a,
                                                   const properties_view& b) noexcept {
        if (a.size() != b.size()) return false;
        auto ib = b.begin();
        for (const auto& p : a) {
            if (!(p == *ib)) return false;
            ++ib;
        }
        return true;
    }

  private:
    friend struct detail::properties_access;
    friend class detail::property_walk;
    [[nodiscard]] constexpr iterator at(std::size_t index) const noexcept {
        if (is_wire()) return iterator(wire(), size(), index);
        return iterator(values_, length_, index);
    }
    [[nodiscard]] constexpr std::span<const property> values() const noexcept {
        if (is_wire()) return {};
        return {values_, length_};
    }
    // In place: the decoder writes into the view it was given instead of copying a new one in.
    constexpr void set_wire(std::span<const std::byte> block, std::size_t count,
                            std::uint32_t present, property_context ctx) noexcept {
        wire_ = block.data();
        length_ = block.size();
        present_ = present;
        bits_ = static_cast<std::uint32_t>(count & count_mask) |
                static_cast<std::uint32_t>(static_cast<std::uint32_t>(ctx) << ctx_shift) | wire_bit;
    }

    union {
        const std::byte* wire_;
        const property* values_;
    };
    std::size_t length_ = 0;    ///< wire: bytes of the block; values: number of properties
    std::uint32_t present_ = 0; ///< wire: presence_bit of every identifier in the block
    std::uint32_t bits_ = 0;    ///< wire: count (bits 0-26), context (27-30), wire flag (31)
};

namespace detail {

constexpr property_walk property_walk::of(const properties_view& v) noexcept {
    property_walk w;
    if (v.is_wire())
        w.reader_ = reader(v.wire());
    else
        w.values_ = v.values();
    return w;
}

struct properties_access {
    static constexpr void set_wire(properties_view& v, std::span<const std::byte> block,
                                   std::size_t count, std::uint32_t present,
                                   property_context ctx) noexcept {
        v.set_wire(block, count, present, ctx);
    }
    // The caller's values of a value-backed view (empty for a decoded one).
    [[nodiscard]] static constexpr std::span<const property>
    values(const properties_view& v) noexcept {
        return v.values();
    }
};

// Calls `f(property)` for each property of `props`, stopping at the first error: in place over
// the caller's array, by decoding a wire block one entry at a time.
template <class F>
[[nodiscard]] constexpr errc for_each_property(const properties_view& props, F f) noexcept {
    for (auto w = property_walk::of(props); const auto* p = w.next();)
        if (const auto e = f(*p); e != errc::success) return e;
    return errc::success;
}

// Decodes a Property Length and the block after it (MQTT 5.0 section 2.2.2), every entry
// checked (check_property_entries), into `out` (in place).
[[nodiscard]] constexpr errc decode_property_length_and_block(reader& r, property_context ctx,
                                                              const decode_options& opts,
                                                              properties_view& out) noexcept {
    // No initialiser: varint sets it before it is read (a store less in size-optimised builds).
    std::uint32_t length;
    if (const auto e = r.varint(length); e != errc::success) return e;
    reader block;
    if (const auto e = r.sub(length, block); e != errc::success) return e;
    std::uint32_t present = 0;
    std::size_t count = 0;
    if (const auto e = check_property_entries(block, ctx, opts, present, count); e != errc::success)
        return e;
    properties_access::set_wire(out, block.rest(), count, present, ctx);
    return errc::success;
}

// The same with the entries checked inline (check_property_entries_inline): the PUBLISH
// decoder's hot path in fast builds.
[[nodiscard]] MQTTWIRE_FORCE_INLINE constexpr errc
decode_property_block_inline(reader& r, property_context ctx, const decode_options& opts,
                             properties_view& out) noexcept {
    std::uint32_t length = 0;
    if (const auto e = r.varint(length); e != errc::success) return e;
    reader block;
    if (const auto e = r.sub(length, block); e != errc::success) return e;
    std::uint32_t present = 0;
    std::size_t count = 0;
    if (const auto e = check_property_entries_inline(block, ctx, opts, present, count);
        e != errc::success)
        return e;
    properties_access::set_wire(out, block.rest(), count, present, ctx);
    return errc::success;
}

// The same; in fast builds Property Length 0 (the common case) is taken inline.
[[nodiscard]] MQTTWIRE_FORCE_INLINE constexpr errc
decode_properties(reader& r, property_context ctx, const decode_options& opts,
                  properties_view& out) noexcept {
    if constexpr (!small_code) {
        const auto bytes = r.data();
        const std::size_t at = r.position();
        if (at < bytes.size() && bytes[at] == std::byte{0}) {
            std::uint8_t zero = 0;
            (void)r.u8(zero);
            properties_access::set_wire(out, bytes.subspan(at + 1, 0), 0, 0, ctx);
            return errc::success;
        }
    }
    return decode_property_length_and_block(r, ctx, opts, out);
}

} // namespace detail
} // namespace mqttwire
