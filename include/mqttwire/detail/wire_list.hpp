#pragma once
// One iterator for the codec's lists (properties, SUBSCRIBE/SUBACK/UNSUBSCRIBE/UNSUBACK entries):
// over a caller's array of values, or over validated wire bytes decoded one entry at a time.

#include <cstddef>
#include <span>
#include <type_traits>

#include "../errc.hpp"
#include "reader.hpp"

namespace mqttwire::detail {

// `Traits::read(reader&, T&)` decodes one entry of a validated block. Lists of one-byte entries
// (`Traits::entry_size`, `Traits::from_byte`, a `T` whose one byte is its wire form) read entry i
// as byte i when dereferenced and yield it by value: nothing to decode ahead, so the iterator is
// a position over the bytes of either array.
template <class T, class Traits> class list_iterator {
    static constexpr bool byte_entries = requires { Traits::entry_size; };
    using reference = std::conditional_t<byte_entries, T, const T&>;

  public:
    using value_type = T;
    using difference_type = std::ptrdiff_t;

    constexpr list_iterator() noexcept = default;
    // A position only (an end iterator): iterators compare by position.
    constexpr explicit list_iterator(std::size_t index) noexcept : index_(index) {}
    // Over caller values.
    constexpr list_iterator(const T* values, std::size_t count, std::size_t index) noexcept
        : values_(values), count_(count), index_(index) {
        if constexpr (byte_entries) {
            // At run time one-byte values are read as their bytes, like wire entries: one path.
            if (!std::is_constant_evaluated())
                reader_ = reader(std::as_bytes(std::span<const T>(values, count)));
        }
        load();
    }
    // Over validated wire bytes holding `count` entries.
    constexpr list_iterator(std::span<const std::byte> wire, std::size_t count,
                            std::size_t index) noexcept
        : count_(count), index_(index), reader_(wire), is_wire_(true) {
        load();
    }

    [[nodiscard]] constexpr reference operator*() const noexcept {
        if constexpr (byte_entries) {
            static_assert(Traits::entry_size == 1 && sizeof(T) == 1 &&
                          std::is_trivially_copyable_v<T>);
            // The block was validated on decode; a hand-built view shorter than its count
            // yields T{} past its end instead of reading out of bounds.
            if (std::is_constant_evaluated() && !is_wire_)
                return index_ < count_ ? std::span<const T>(values_, count_)[index_] : T{};
            const auto bytes = reader_.data();
            return index_ < bytes.size()
                       ? Traits::from_byte(static_cast<std::uint8_t>(bytes[index_]))
                       : T{};
        } else {
            return current_;
        }
    }
    [[nodiscard]] constexpr const T* operator->() const noexcept
        requires(!byte_entries)
    {
        return &current_;
    }
    constexpr list_iterator& operator++() noexcept {
        ++index_;
        load();
        return *this;
    }
    constexpr list_iterator operator++(int) noexcept {
        auto c = *this;
        ++*this;
        return c;
    }
    [[nodiscard]] friend constexpr bool operator==(const list_iterator& a,
                                                   const list_iterator& b) noexcept {
        return a.index_ == b.index_;
    }

  private:
    // The iterator copies what it needs instead of pointing at its view, so iterating a
    // temporary view stays valid (also in constant evaluation).
    constexpr void load() noexcept {
        if constexpr (!byte_entries) {
            if (index_ >= count_) return;
            if (!is_wire_) {
                current_ = std::span<const T>(values_, count_)[index_];
                return;
            }
            // The block was validated on decode; a failure here can only come from a hand-built
            // view, and ends the iteration instead of reading out of bounds.
            if (Traits::read(reader_, current_) != errc::success) index_ = count_;
        }
    }

    const T* values_ = nullptr;
    std::size_t count_ = 0;
    std::size_t index_ = 0;
    reader reader_{};
    bool is_wire_ = false;
    T current_{};
};

} // namespace mqttwire::detail
