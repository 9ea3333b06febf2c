#pragma once
// Building blocks shared by subscription_index and retained_index: allocator plumbing for nodes
// that carry their label inline, a small vector with one inline slot, and an open-addressing
// table of pointers (linear probing, backward-shift deletion, no tombstones).
//
// Allocation failure: every allocating function reports failure by returning false/nullptr when
// the allocator returns a null pointer (allocators used with -fno-exceptions may do so); callers
// turn that into errc::quota_exceeded. std::allocator never returns null: without exceptions a
// failed operator new terminates the program, as everywhere else in such builds.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <new>
#include <string_view>
#include <type_traits>
#include <utility>

namespace mqttwire::detail {

template <class Alloc, class T>
using rebind_alloc_t = typename std::allocator_traits<Alloc>::template rebind_alloc<T>;

template <class Alloc>
inline constexpr bool raw_pointer_allocator_v =
    std::is_pointer_v<typename std::allocator_traits<Alloc>::pointer>;

// Allocates `n` objects of T through `a` (rebound); nullptr on failure.
template <class T, class Alloc> [[nodiscard]] T* allocate_array(Alloc& a, std::size_t n) noexcept {
    rebind_alloc_t<Alloc, T> r(a);
    return std::allocator_traits<rebind_alloc_t<Alloc, T>>::allocate(r, n);
}
template <class T, class Alloc> void deallocate_array(Alloc& a, T* p, std::size_t n) noexcept {
    rebind_alloc_t<Alloc, T> r(a);
    std::allocator_traits<rebind_alloc_t<Alloc, T>>::deallocate(r, p, n);
}

// A storage unit with the alignment of Node, so that a node and its label bytes are one block.
template <class Node> struct alignas(Node) node_unit {
    std::byte b[alignof(Node)];
};
template <class Node> [[nodiscard]] constexpr std::size_t node_units(std::size_t label) noexcept {
    return (sizeof(Node) + label + alignof(Node) - 1) / alignof(Node);
}

// Node types have a `std::uint16_t label_len` and keep their label bytes right after the object.
template <class Node> [[nodiscard]] inline std::string_view label_of(const Node* n) noexcept {
    return {reinterpret_cast<const char*>(n) + sizeof(Node), n->label_len}; // NOLINT
}

template <class Node, class Alloc, class... Args>
[[nodiscard]] Node* new_labelled(Alloc& a, std::string_view label, Args&&... args) noexcept {
    auto* mem = allocate_array<node_unit<Node>>(a, node_units<Node>(label.size()));
    if (mem == nullptr) return nullptr;
    Node* n = ::new (static_cast<void*>(mem)) Node(std::forward<Args>(args)...);
    n->label_len = static_cast<std::uint16_t>(label.size());
    if (!label.empty())
        std::memcpy(reinterpret_cast<char*>(mem) + sizeof(Node), label.data(), label.size());
    return n;
}
template <class Node, class Alloc> void delete_labelled(Alloc& a, Node* n) noexcept {
    const std::size_t units = node_units<Node>(n->label_len);
    n->~Node();
    deallocate_array(a, reinterpret_cast<node_unit<Node>*>(n), units); // NOLINT
}

// 64-bit finalizer (splitmix64): spreads pointer bits and weak low bits over the table index.
[[nodiscard]] constexpr std::uint64_t mix64(std::uint64_t h) noexcept {
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebull;
    h ^= h >> 31;
    return h;
}
[[nodiscard]] inline std::size_t text_hash(std::string_view s) noexcept {
    return static_cast<std::size_t>(mix64(std::hash<std::string_view>{}(s)));
}
// Hash of the edge (parent node, child label).
[[nodiscard]] inline std::size_t edge_hash(const void* parent, std::string_view label) noexcept {
    return static_cast<std::size_t>(
        mix64(std::hash<std::string_view>{}(label) ^
              (static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(parent)) *
               0x9e3779b97f4a7c15ull)));
}

// A vector with room for one element inline: most filters have one subscriber, so the common
// case costs no second allocation. Never moved once constructed (it lives inside a node);
// the allocator is passed to each call that may allocate or free.
template <class T> class small_vec {
  public:
    small_vec() noexcept = default;
    small_vec(const small_vec&) = delete;
    small_vec& operator=(const small_vec&) = delete;
    ~small_vec() = default; // release() must run first (the owner has the allocator)

    [[nodiscard]] std::uint32_t size() const noexcept { return size_; }
    [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
    [[nodiscard]] T* data() noexcept { return cap_ == 1 ? inline_ptr() : heap_ptr(); }
    [[nodiscard]] const T* data() const noexcept {
        return cap_ == 1 ? inline_ptr() : heap_ptr();
    }
    [[nodiscard]] T& operator[](std::size_t i) noexcept { return data()[i]; }
    [[nodiscard]] const T& operator[](std::size_t i) const noexcept { return data()[i]; }

    // False when the allocator failed (nothing changed).
    template <class Alloc> [[nodiscard]] bool push_back(Alloc& a, T&& v) noexcept {
        if (size_ == cap_) {
            const std::uint32_t cap = cap_ == 1 ? 4u : cap_ * 2u;
            T* mem = allocate_array<T>(a, cap);
            if (mem == nullptr) return false;
            T* old = data();
            for (std::uint32_t i = 0; i < size_; ++i) {
                std::construct_at(mem + i, std::move(old[i]));
                std::destroy_at(old + i);
            }
            if (cap_ != 1) deallocate_array(a, old, cap_);
            set_heap(mem);
            cap_ = cap;
        }
        std::construct_at(data() + size_, std::move(v));
        ++size_;
        return true;
    }

    // Removes element i (the last one takes its place); frees the heap block when empty.
    template <class Alloc> void erase_at(Alloc& a, std::size_t i) noexcept {
        T* d = data();
        if (i + 1 != size_) d[i] = std::move(d[size_ - 1]);
        std::destroy_at(d + size_ - 1);
        --size_;
        if (size_ == 0 && cap_ != 1) {
            deallocate_array(a, d, cap_);
            cap_ = 1;
        }
    }

    template <class Alloc> void release(Alloc& a) noexcept {
        T* d = data();
        std::destroy(d, d + size_);
        if (cap_ != 1) deallocate_array(a, d, cap_);
        size_ = 0;
        cap_ = 1;
    }

  private:
    static constexpr std::size_t storage_size = std::max(sizeof(T), sizeof(T*));
    static constexpr std::size_t storage_align = std::max(alignof(T), alignof(T*));
    [[nodiscard]] T* inline_ptr() noexcept {
        return std::launder(reinterpret_cast<T*>(storage_)); // NOLINT
    }
    [[nodiscard]] const T* inline_ptr() const noexcept {
        return std::launder(reinterpret_cast<const T*>(storage_)); // NOLINT
    }
    [[nodiscard]] T* heap_ptr() const noexcept {
        T* p = nullptr;
        std::memcpy(&p, storage_, sizeof p);
        return p;
    }
    void set_heap(T* p) noexcept { std::memcpy(storage_, &p, sizeof p); }

    alignas(storage_align) std::byte storage_[storage_size];
    std::uint32_t size_ = 0;
    std::uint32_t cap_ = 1; // 1: the element (if any) is inline
};

// Open-addressing table of T* with their hashes. Capacity a power of two, load at most 3/4.
template <class T> class pointer_table {
  public:
    struct slot {
        std::size_t hash;
        T* ptr;
    };

    pointer_table() noexcept = default;
    pointer_table(pointer_table&& o) noexcept
        : slots_(std::exchange(o.slots_, nullptr)), mask_(std::exchange(o.mask_, 0)),
          size_(std::exchange(o.size_, 0)) {}
    pointer_table& operator=(pointer_table&& o) noexcept {
        std::swap(slots_, o.slots_);
        std::swap(mask_, o.mask_);
        std::swap(size_, o.size_);
        return *this;
    }
    pointer_table(const pointer_table&) = delete;
    pointer_table& operator=(const pointer_table&) = delete;
    ~pointer_table() = default; // release() must run first

    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    [[nodiscard]] std::size_t capacity() const noexcept { return slots_ ? mask_ + 1 : 0; }

    template <class Eq> [[nodiscard]] T* find(std::size_t h, Eq&& eq) const noexcept {
        if (slots_ == nullptr) return nullptr;
        for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
            const slot& s = slots_[i];
            if (s.ptr == nullptr) return nullptr;
            if (s.hash == h && eq(static_cast<const T*>(s.ptr))) return s.ptr;
        }
    }

    // Precondition: p is not in the table. False when the allocator failed.
    template <class Alloc> [[nodiscard]] bool insert(Alloc& a, std::size_t h, T* p) noexcept {
        if ((size_ + 1) * 4 > capacity() * 3 && !rehash(a, capacity() == 0 ? 8 : capacity() * 2))
            return false;
        place(h, p);
        ++size_;
        return true;
    }

    // Precondition: p is in the table under hash h.
    void erase(std::size_t h, const T* p) noexcept {
        std::size_t i = h & mask_;
        while (slots_[i].ptr != p) i = (i + 1) & mask_;
        // Backward-shift deletion keeps every probe sequence intact without tombstones.
        std::size_t j = i;
        while (true) {
            j = (j + 1) & mask_;
            if (slots_[j].ptr == nullptr) break;
            const std::size_t home = slots_[j].hash & mask_;
            // Move slot j into the hole unless its home lies cyclically in (i, j].
            const bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
            if (!stays) {
                slots_[i] = slots_[j];
                i = j;
            }
        }
        slots_[i] = slot{0, nullptr};
        --size_;
    }

    template <class F> void for_each(F&& f) const noexcept {
        for (std::size_t i = 0; i < capacity(); ++i)
            if (slots_[i].ptr != nullptr) f(slots_[i].ptr);
    }

    template <class Alloc> void release(Alloc& a) noexcept {
        if (slots_ != nullptr) deallocate_array(a, slots_, mask_ + 1);
        slots_ = nullptr;
        mask_ = 0;
        size_ = 0;
    }

  private:
    void place(std::size_t h, T* p) noexcept {
        std::size_t i = h & mask_;
        while (slots_[i].ptr != nullptr) i = (i + 1) & mask_;
        slots_[i] = slot{h, p};
    }
    template <class Alloc> [[nodiscard]] bool rehash(Alloc& a, std::size_t cap) noexcept {
        slot* fresh = allocate_array<slot>(a, cap);
        if (fresh == nullptr) return false;
        for (std::size_t i = 0; i < cap; ++i) fresh[i] = slot{0, nullptr};
        slot* old = slots_;
        const std::size_t old_cap = capacity();
        slots_ = fresh;
        mask_ = cap - 1;
        for (std::size_t i = 0; i < old_cap; ++i)
            if (old[i].ptr != nullptr) place(old[i].hash, old[i].ptr);
        if (old != nullptr) deallocate_array(a, old, old_cap);
        return true;
    }

    slot* slots_ = nullptr;
    std::size_t mask_ = 0;
    std::size_t size_ = 0;
};

// Start of the topic level that ends at `end` (a '/' position or text.size()).
[[nodiscard]] inline std::size_t level_start_before(std::string_view text,
                                                    std::size_t end) noexcept {
    while (end > 0 && text[end - 1] != '/') --end;
    return end;
}
// End of the level starting at `pos` (the next '/' or text.size()).
[[nodiscard]] inline std::size_t level_end_from(std::string_view text, std::size_t pos) noexcept {
    const auto e = text.find('/', pos);
    return e == std::string_view::npos ? text.size() : e;
}

} // namespace mqttwire::detail
