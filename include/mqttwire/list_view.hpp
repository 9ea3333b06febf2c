#pragma once
/// @file
/// @brief `list_view<T, Traits>`: the entry lists of SUBSCRIBE, SUBACK, UNSUBSCRIBE and UNSUBACK.
/// On the decode side a list is a view over validated wire bytes; on the encode side it is a
/// view over a caller's `std::span<const T>`. Iteration yields `T` by value and never allocates.

#include <cstddef>
#include <span>

#include "detail/reader.hpp"
#include "detail/wire_list.hpp"
#include "errc.hpp"

namespace mqttwire {

template <class T, class Traits> class list_view {
    static constexpr std::size_t wire_flag = ~(~std::size_t{0} >> 1);

  public:
    using value_type = T;
    using iterator = detail::list_iterator<T, Traits>;

    constexpr list_view() noexcept : values_(nullptr) {}
    /// @brief Values to encode.
    constexpr list_view(std::span<const T> values) noexcept // NOLINT(google-explicit-constructor)
        : values_(values.data()), count_(values.size()) {}
    template <std::size_t N>
    constexpr list_view(const T (&values)[N]) noexcept // NOLINT
        : list_view(std::span<const T>(values)) {}
    /// @brief Wraps validated wire bytes holding `count` entries.
    [[nodiscard]] static constexpr list_view from_wire(std::span<const std::byte> bytes,
                                                       std::size_t count) noexcept {
        list_view v;
        v.wire_ = bytes.data();
        v.wire_size_ = bytes.size();
        v.count_ = count | wire_flag;
        return v;
    }

    [[nodiscard]] constexpr iterator begin() const noexcept { return at(0); }
    [[nodiscard]] constexpr iterator end() const noexcept { return iterator(size()); }
    [[nodiscard]] constexpr std::size_t size() const noexcept { return count_ & ~wire_flag; }
    [[nodiscard]] constexpr bool empty() const noexcept { return size() == 0; }
    /// @brief Entry `i` (O(i) for decoded lists of variable-size entries).
    [[nodiscard]] constexpr T operator[](std::size_t i) const noexcept {
        auto it = begin();
        for (std::size_t k = 0; k < i && it != end(); ++k) ++it;
        return it == end() ? T{} : *it;
    }
    [[nodiscard]] constexpr bool is_wire() const noexcept { return (count_ & wire_flag) != 0; }
    /// @brief The caller's values of a value-backed list (empty for a decoded one).
    [[nodiscard]] constexpr std::span<const T> values() const noexcept {
        if (is_wire()) return {};
        return {values_, size()};
    }
    /// @brief The entries' wire bytes of a decoded list (empty for value-backed lists).
    [[nodiscard]] constexpr std::span<const std::byte> wire() const noexcept {
        if (!is_wire()) return {};
        return {wire_, wire_size_};
    }

    [[nodiscard]] friend constexpr bool operator==(const list_view& a,
                                                   const list_view& b) noexcept {
        if (a.size() != b.size()) return false;
        auto ib = b.begin();
        for (const auto& x : a) {
            if (!(x == *ib)) return false;
            ++ib;
        }
        return true;
    }

  private:
    [[nodiscard]] constexpr iterator at(std::size_t index) const noexcept {
        if (is_wire()) return iterator(wire(), size(), index);
        return iterator(values_, size(), index);
    }

    // A pointer and a size each way; the top bit of `count_` says which member is active.
    union {
        const std::byte* wire_;
        const T* values_;
    };
    std::size_t wire_size_ = 0;
    std::size_t count_ = 0;
};

namespace detail {

// Calls `f(entry)` for each entry of `list`, stopping at the first error: straight over the
// caller's values, or decoding a decoded list's wire entries. With `Wire` false (a codec_profile
// whose receiver never decodes this packet type, so it can hold no decoded list of it to
// re-encode) a decoded list is refused and the wire reader is not linked.
template <bool Wire, class T, class Traits, class F>
[[nodiscard]] constexpr errc for_each_entry(const list_view<T, Traits>& list,
                                            const F& f) noexcept {
    if (list.is_wire()) {
        if constexpr (Wire) {
            for (const auto& x : list)
                if (const auto e = f(x); e != errc::success) return e;
            return errc::success;
        } else {
            return errc::invalid_argument;
        }
    }
    for (const auto& x : list.values())
        if (const auto e = f(x); e != errc::success) return e;
    return errc::success;
}

} // namespace detail
} // namespace mqttwire
