#pragma once
/// @file
/// @brief Where a session keeps its tables and buffers, and the bounds of each:
/// `fixed_storage` (arrays sized at compile time; never allocates) and `dynamic_storage`
/// (allocator-backed; grows on demand up to run-time limits and shrinks back after a spike).

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <type_traits>
#include <utility>

namespace mqttwire {

/// @brief The bounds of one session (DESIGN rule 9). Every table and buffer of a session is
/// bounded by one of these, whatever the peer sends.
struct session_limits {
    /// Outbound QoS 1 and 2 PUBLISHes awaiting acknowledgement (PUBREL included). The send quota
    /// is the smaller of this and the peer's Receive Maximum (MQTT5-4.9.0-1).
    std::uint16_t inflight = 16;
    /// SUBSCRIBE and UNSUBSCRIBE packets awaiting SUBACK / UNSUBACK.
    std::uint16_t requests = 4;
    /// Inbound QoS 2 packet identifiers awaiting PUBREL; the Receive Maximum announced in 5.0.
    std::uint16_t inbound_qos2 = 16;
    /// Inbound QoS 1/2 acknowledgements the embedder may defer (`defer()`), counted against the
    /// Receive Maximum. 0: none; `fixed_storage` then holds no table and no code for them.
    std::uint16_t deferred_acks = 0;
    /// The input buffer: the largest packet accepted, announced as Maximum Packet Size in 5.0.
    std::uint32_t input_bytes = 4096;
    /// Bytes encoded and not yet written by the transport.
    std::uint32_t output_bytes = 4096;
    /// Copies of unacknowledged PUBLISHes, resent after a reconnect. 0: no copies are kept and
    /// the embedder supplies the bytes when the session resends.
    std::uint32_t resend_bytes = 4096;
    /// Topic aliases accepted from the peer (5.0 Topic Alias Maximum), and bytes for their names.
    std::uint16_t aliases_in = 0;
    std::uint32_t alias_bytes_in = 0;
    /// Topic aliases this side assigns to its own PUBLISHes (client role, 5.0), and their bytes.
    std::uint16_t aliases_out = 0;
    std::uint32_t alias_bytes_out = 0;
    /// An Assigned Client Identifier received in CONNACK is kept when it fits.
    std::uint16_t client_id_bytes = 64;

    [[nodiscard]] friend constexpr bool operator==(const session_limits&,
                                                   const session_limits&) noexcept = default;
};

/// @brief The tables and buffers of a session, one per bounded resource.
enum class storage_part : std::uint8_t {
    records,         ///< outbound packet identifiers in use (in-flight PUBLISH, pending requests)
    resend,          ///< copies of unacknowledged PUBLISHes
    inbound_ids,     ///< inbound QoS 2 identifiers (an open-addressing table, half full at most)
    input,           ///< received bytes
    output,          ///< bytes to write
    aliases_in,      ///< inbound alias slots
    alias_bytes_in,  ///< their topic names
    aliases_out,     ///< outbound alias slots
    alias_bytes_out, ///< their topic names
    client_id,       ///< Assigned Client Identifier
    deferred_ids,    ///< inbound identifiers whose acknowledgement is deferred (half full at most)
    alias_properties, ///< the properties of a PUBLISH whose topic is replaced by an alias
};

namespace detail {

// Properties of an own PUBLISH that gets an outbound Topic Alias: its own (up to 8) and the alias.
inline constexpr std::size_t alias_property_slots = 9;

[[nodiscard]] constexpr std::size_t next_pow2(std::size_t n) noexcept {
    std::size_t p = 1;
    while (p < n) p <<= 1;
    return p;
}

// Elements of each part under `l`.
[[nodiscard]] constexpr std::size_t capacity_of(const session_limits& l, storage_part p) noexcept {
    switch (p) {
    case storage_part::records: return std::size_t{l.inflight} + l.requests;
    case storage_part::resend: return l.resend_bytes;
    case storage_part::inbound_ids:
        return l.inbound_qos2 == 0 ? 0 : next_pow2(std::size_t{l.inbound_qos2} * 2);
    case storage_part::input: return l.input_bytes;
    case storage_part::output: return l.output_bytes;
    case storage_part::aliases_in: return l.aliases_in;
    case storage_part::alias_bytes_in: return l.alias_bytes_in;
    case storage_part::aliases_out: return l.aliases_out;
    case storage_part::alias_bytes_out: return l.alias_bytes_out;
    case storage_part::client_id: return l.client_id_bytes;
    case storage_part::deferred_ids:
        return l.deferred_acks == 0 ? 0 : next_pow2(std::size_t{l.deferred_acks} * 2);
    case storage_part::alias_properties: return l.aliases_out == 0 ? 0 : alias_property_slots;
    }
    return 0;
}

// A buffer of N trivially copyable elements inside the object: `reserve` only says whether the
// request fits.
template <class T, std::size_t N> class fixed_buffer {
    static_assert(std::is_trivially_copyable_v<T>);

  public:
    template <class Storage> constexpr explicit fixed_buffer(const Storage&) noexcept {}
    [[nodiscard]] constexpr T* data() noexcept { return items_.data(); }
    [[nodiscard]] constexpr const T* data() const noexcept { return items_.data(); }
    [[nodiscard]] static constexpr std::size_t capacity() noexcept { return N; }
    [[nodiscard]] static constexpr std::size_t limit() noexcept { return N; }
    [[nodiscard]] static constexpr bool reserve(std::size_t n) noexcept { return n <= N; }
    static constexpr void shrink_to(std::size_t) noexcept {}
    static constexpr void release() noexcept {}

  private:
    std::array<T, N> items_{};
};

// Elements allocated through `Alloc` on demand: a pointer and a capacity, the limit given by the
// owner (which derives it from what it keeps anyway). 12 bytes on a 64-bit target; an owner that
// declares it `[[no_unique_address]]` puts its next members in the remaining 4. Allocation failure
// (a null pointer from an allocator built for -fno-exceptions) makes `reserve` return false;
// nothing is thrown.
template <class T, class Alloc> class heap_array {
    static_assert(std::is_trivially_copyable_v<T>);
    using alloc_t = typename std::allocator_traits<Alloc>::template rebind_alloc<T>;
    using traits = std::allocator_traits<alloc_t>;

  public:
    template <class A> explicit heap_array(const A& a) noexcept : alloc_(a) {}
    heap_array(const heap_array&) = delete;
    heap_array& operator=(const heap_array&) = delete;
    heap_array(heap_array&& o) noexcept
        : alloc_(o.alloc_), data_(std::exchange(o.data_, nullptr)), cap_(std::exchange(o.cap_, 0)) {}
    heap_array& operator=(heap_array&& o) noexcept {
        if (this != &o) {
            release();
            alloc_ = o.alloc_;
            data_ = std::exchange(o.data_, nullptr);
            cap_ = std::exchange(o.cap_, 0);
        }
        return *this;
    }
    ~heap_array() { release(); }

    [[nodiscard]] T* data() noexcept { return data_; }
    [[nodiscard]] const T* data() const noexcept { return data_; }
    [[nodiscard]] std::size_t capacity() const noexcept { return cap_; }

    // Capacity for at least n elements (doubling from 16, capped at `limit`); the first
    // `capacity()` elements keep their values, new ones are value-initialised unless `clear`
    // is false (a byte buffer whose bytes are always written before they are read).
    [[nodiscard]] bool reserve(std::size_t n, std::size_t limit, bool clear = true) noexcept {
        if (n <= cap_) return true;
        if (n > limit) return false;
        std::size_t cap = cap_ < 16 ? 16 : std::size_t{cap_} * 2;
        if (cap < n) cap = n;
        if (cap > limit) cap = limit;
        return reallocate(cap, cap_, clear);
    }
    // Gives memory back: keeps the first `keep` elements and at most `keep` capacity (rounded up
    // to 16 elements); 0 keeps nothing allocated.
    void shrink_to(std::size_t keep) noexcept {
        if (keep == 0) {
            release();
            return;
        }
        const std::size_t cap = keep < 16 ? 16 : keep;
        if (cap_ <= cap) return;
        (void)reallocate(cap, keep);
    }
    void release() noexcept {
        if (data_ != nullptr) traits::deallocate(alloc_, data_, cap_);
        data_ = nullptr;
        cap_ = 0;
    }
    // An empty array with the same allocator (to grow into, then `swap`).
    [[nodiscard]] heap_array empty_like() const noexcept { return heap_array(alloc_); }
    void swap(heap_array& o) noexcept {
        std::swap(alloc_, o.alloc_);
        std::swap(data_, o.data_);
        std::swap(cap_, o.cap_);
    }

  private:
    bool reallocate(std::size_t cap, std::size_t keep, bool clear = true) noexcept {
        T* fresh = traits::allocate(alloc_, cap);
        if (fresh == nullptr) return false;
        if (data_ != nullptr) {
            if (keep > 0) std::memcpy(static_cast<void*>(fresh), data_, keep * sizeof(T));
            traits::deallocate(alloc_, data_, cap_);
        } else {
            keep = 0;
        }
        // Only the new elements are initialised: a byte buffer of a large packet is cleared
        // in one call, not element by element (instrumented builds take that one at a time).
        if constexpr (std::is_same_v<T, std::byte>) {
            if (clear && cap > keep) std::memset(static_cast<void*>(fresh + keep), 0, cap - keep);
        } else {
            for (std::size_t i = keep; i < cap; ++i) ::new (static_cast<void*>(fresh + i)) T{};
        }
        data_ = fresh;
        cap_ = static_cast<std::uint32_t>(cap);
        return true;
    }

    [[no_unique_address]] alloc_t alloc_;
    T* data_ = nullptr;
    std::uint32_t cap_ = 0; // every limit of `session_limits` fits 32 bits
};

// A buffer that allocates through `Alloc` on demand, up to `limit` elements, and gives memory
// back when asked (`shrink_to`, `release`): a `heap_array` that keeps its limit (16 bytes: a
// pointer and two counts; the allocator takes no room when it is stateless).
template <class T, class Alloc, bool Clear = true> class dynamic_buffer {
  public:
    dynamic_buffer(const Alloc& a, std::size_t limit) noexcept
        : items_(a), limit_(static_cast<std::uint32_t>(limit < max_elements ? limit : max_elements)) {}
    template <class Storage>
    dynamic_buffer(const Storage& s, storage_part part) noexcept
        : dynamic_buffer(s.allocator(), capacity_of(s.limits(), part)) {}

    [[nodiscard]] T* data() noexcept { return items_.data(); }
    [[nodiscard]] const T* data() const noexcept { return items_.data(); }
    [[nodiscard]] std::size_t capacity() const noexcept { return items_.capacity(); }
    [[nodiscard]] std::size_t limit() const noexcept { return limit_; }

    // Capacity for at least n elements (doubling, capped at the limit); the first `capacity()`
    // elements keep their values, new ones are value-initialised (left as they are when not
    // `Clear`).
    [[nodiscard]] bool reserve(std::size_t n) noexcept { return items_.reserve(n, limit_, Clear); }
    // Gives memory back: keeps the first `keep` elements and at most `keep` capacity (rounded up
    // to 16 elements).
    void shrink_to(std::size_t keep) noexcept { items_.shrink_to(keep); }
    void release() noexcept { items_.release(); }

  private:
    static constexpr std::size_t max_elements = 0xFFFFFFFFu;

    [[no_unique_address]] heap_array<T, Alloc> items_;
    std::uint32_t limit_ = 0;
};

// The input and output buffers are not cleared when they grow: the transport writes received
// bytes before they are framed, and the encoders write output before it is sent. Clearing a
// read's room cost more than the read's own processing for a connection sending small packets.
template <class T, class Alloc, storage_part P>
class dynamic_part
    : public dynamic_buffer<T, Alloc, P != storage_part::input && P != storage_part::output> {
  public:
    template <class Storage>
    explicit dynamic_part(const Storage& s) noexcept
        : dynamic_buffer<T, Alloc, P != storage_part::input && P != storage_part::output>(s, P) {}
};

// The elements of a session table whose owner derives the limit from its own fields: the
// storage's array with fixed storage; a `heap_array` (no limit kept) with allocator-backed
// storage. Owners declare it `[[no_unique_address]]`.
template <class T, class Storage, storage_part P, bool Heap = Storage::allocates> class table_buffer {
  public:
    constexpr explicit table_buffer(const Storage& s) noexcept : items_(s) {}
    [[nodiscard]] constexpr T* data() noexcept { return items_.data(); }
    [[nodiscard]] constexpr const T* data() const noexcept { return items_.data(); }
    [[nodiscard]] constexpr std::size_t capacity() const noexcept { return items_.capacity(); }
    [[nodiscard]] constexpr bool reserve(std::size_t n, std::size_t) noexcept {
        return items_.reserve(n);
    }
    constexpr void shrink_to(std::size_t keep) noexcept { items_.shrink_to(keep); }

  private:
    typename Storage::template buffer<T, P> items_;
};

template <class T, class Storage, storage_part P>
class table_buffer<T, Storage, P, true>
    : public heap_array<T, std::remove_cvref_t<decltype(std::declval<const Storage&>().allocator())>> {
    using base =
        heap_array<T, std::remove_cvref_t<decltype(std::declval<const Storage&>().allocator())>>;

  public:
    explicit table_buffer(const Storage& s) noexcept : base(s.allocator()) {}
    table_buffer(base&& b) noexcept : base(std::move(b)) {}
    [[nodiscard]] table_buffer empty_like() const noexcept { return table_buffer(base::empty_like()); }
};

} // namespace detail

/// @brief Storage sized at compile time: every table and buffer is an array inside the session
/// objects, so a session never allocates. The choice of microcontrollers.
///
/// @code
/// using storage = mqttwire::fixed_storage<mqttwire::session_limits{
///     .inflight = 4, .requests = 2, .inbound_qos2 = 4, .input_bytes = 512, .output_bytes = 512,
///     .resend_bytes = 512}>;
/// @endcode
template <session_limits L> struct fixed_storage {
    /// @brief The limits (constant).
    [[nodiscard]] static constexpr session_limits limits() noexcept { return L; }
    template <class T, storage_part P>
    using buffer = detail::fixed_buffer<T, detail::capacity_of(L, P)>;
    static constexpr bool allocates = false;
    /// @brief Whether sessions keep copies of their unacknowledged PUBLISH packets: with
    /// `resend_bytes` 0 the copy ring takes no space at all.
    static constexpr bool keeps_copies = L.resend_bytes > 0;
};

/// @brief Allocator-backed storage with limits chosen at run time: tables and buffers start
/// empty, grow as traffic needs up to the limits, and byte buffers shrink back once drained. The
/// choice of servers with many mostly idle connections.
///
/// `KeepsCopies` false: the sessions never keep copies of what they send (`resend_bytes` is
/// taken as 0, the embedder re-encodes through a `resend_source`), and the copy ring takes no
/// space in each `session_state`: what a broker that keeps its messages anyway wants.
template <class Allocator = std::allocator<std::byte>, bool KeepsCopies = true>
class dynamic_storage {
  public:
    explicit dynamic_storage(session_limits limits = {}, const Allocator& alloc = Allocator()) noexcept
        : limits_(limits), alloc_(alloc) {
        if constexpr (!KeepsCopies) limits_.resend_bytes = 0;
    }
    [[nodiscard]] constexpr session_limits limits() const noexcept { return limits_; }
    [[nodiscard]] Allocator allocator() const noexcept { return alloc_; }
    template <class T, storage_part P> using buffer = detail::dynamic_part<T, Allocator, P>;
    static constexpr bool allocates = true;
    static constexpr bool keeps_copies = KeepsCopies;

  private:
    session_limits limits_;
    Allocator alloc_;
};

} // namespace mqttwire
