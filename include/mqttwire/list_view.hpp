#pragma once
/// @file
/// @brief `list_view<T, Traits>`: the entry lists of SUBSCRIBE, SUBACK, UNSUBSCRIBE and UNSUBACK.
/// On the decode side a list is a view over validated wire bytes; on the encode side it is a
/// view over a caller's `std::span<const T>`. Iteration yields `T` by value and never allocates.

#include <cstddef>
#include <span>

#include "detail/reader.hpp"
#include "errc.hpp"

namespace mqttwire {

template <class T, class Traits> class list_view {
  public:
    using value_type = T;

    constexpr list_view() noexcept = default;
    /// @brief Values to encode.
    constexpr list_view(std::span<const T> values) noexcept // NOLINT(google-explicit-constructor)
        : values_(values), count_(values.size()) {}
    template <std::size_t N>
    constexpr list_view(const T (&values)[N]) noexcept // NOLINT
        : list_view(std::span<const T>(values)) {}

    /// @brief Wraps validated wire bytes holding `count` entries.
    [[nodiscard]] static constexpr list_view from_wire(std::span<const std::byte> bytes,
                                                       std::size_t count) noexcept {
        list_view v;
        v.wire_ = bytes;
        v.count_ = count;
        v.is_wire_ = true;
        return v;
    }

    class iterator {
      public:
        using value_type = T;
        using difference_type = std::ptrdiff_t;
        constexpr iterator() noexcept = default;
        [[nodiscard]] constexpr const T& operator*() const noexcept { return current_; }
        [[nodiscard]] constexpr const T* operator->() const noexcept { return &current_; }
        constexpr iterator& operator++() noexcept {
            ++index_;
            load();
            return *this;
        }
        constexpr iterator operator++(int) noexcept {
            auto c = *this;
            ++*this;
            return c;
        }
        [[nodiscard]] friend constexpr bool operator==(const iterator& a,
                                                       const iterator& b) noexcept {
            return a.index_ == b.index_;
        }

      private:
        friend class list_view;
        // The iterator copies what it needs instead of pointing at the view, so iterating a
        // temporary view stays valid (also in constant evaluation).
        constexpr iterator(const list_view& v, std::size_t index) noexcept
            : values_(v.values_), count_(v.count_), index_(index), reader_(v.wire_),
              is_wire_(v.is_wire_) {
            load();
        }
        constexpr void load() noexcept {
            if (index_ >= count_) return;
            if (!is_wire_) {
                current_ = values_[index_];
                return;
            }
            // Validated on decode; a failure ends the iteration rather than read out of bounds.
            if (Traits::read(reader_, current_) != errc::success) index_ = count_;
        }
        std::span<const T> values_{};
        std::size_t count_ = 0;
        std::size_t index_ = 0;
        detail::reader reader_{};
        bool is_wire_ = false;
        T current_{};
    };

    [[nodiscard]] constexpr iterator begin() const noexcept { return {*this, 0}; }
    [[nodiscard]] constexpr iterator end() const noexcept { return {*this, count_}; }
    [[nodiscard]] constexpr std::size_t size() const noexcept { return count_; }
    [[nodiscard]] constexpr bool empty() const noexcept { return count_ == 0; }
    /// @brief Entry `i` (O(i) for decoded lists of variable-size entries).
    [[nodiscard]] constexpr T operator[](std::size_t i) const noexcept {
        auto it = begin();
        for (std::size_t k = 0; k < i && it != end(); ++k) ++it;
        return it == end() ? T{} : *it;
    }
    [[nodiscard]] constexpr bool is_wire() const noexcept { return is_wire_; }
    [[nodiscard]] constexpr std::span<const std::byte> wire() const noexcept { return wire_; }

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
    std::span<const std::byte> wire_{};
    std::span<const T> values_{};
    std::size_t count_ = 0;
    bool is_wire_ = false;
};

} // namespace mqttwire
