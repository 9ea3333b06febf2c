#pragma once
// The durable store's log as its parts see it: where a record is (the encoding of
// durable_slot::loc), reading records out of sound batches, and completing a batch's header.

#include "durable_format.hpp"
#include "durable_hash.hpp"
#include "durable_index.hpp"
#include "durable_store.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace mqttwire::broker::durable_engine {

namespace fmt = detail::durable_format;
using detail::durable_slot;
using steady = std::chrono::steady_clock;

// ---------------------------------------------------------------------------------------------
// Where a record is: durable_slot::loc = tag (2 bits) | value (62 bits).
//
//   tag_log          value is a log position: physical offset in the current file (or in the
//                    batch being built, past its end) plus log_delta. Log positions survive a
//                    compaction unchanged, because the tail of the old file is copied verbatim
//                    after the compacted part; only log_delta changes.
//   base tag         value is a physical offset in the part of the current file that the last
//                    compaction wrote.
//   the other base   during a compaction: a physical offset in the new file.
//
// The two base tags swap roles at every compaction, so switching files relabels nothing: no
// walk over the index at the moment the broker is waiting.
// ---------------------------------------------------------------------------------------------
constexpr unsigned tag_shift = 62;
constexpr std::uint64_t value_mask = (std::uint64_t{1} << tag_shift) - 1;
constexpr std::uint64_t tag_log = 1;
constexpr std::uint64_t tag_base_a = 2;
constexpr std::uint64_t tag_base_b = 3;

constexpr std::uint64_t make_loc(std::uint64_t tag, std::uint64_t value) noexcept {
    return (tag << tag_shift) | (value & value_mask);
}
constexpr std::uint64_t loc_tag(std::uint64_t loc) noexcept { return loc >> tag_shift; }
constexpr std::uint64_t loc_value(std::uint64_t loc) noexcept { return loc & value_mask; }

// How much of the mapping is read at start-up, or written later, before this process lets go of
// its pages.
constexpr std::size_t release_chunk = 16U << 20;

struct record_view {
    std::uint8_t type = 0;
    std::uint8_t kind = 0;
    durable_bytes key;
    durable_bytes value;
    std::size_t size = 0;
};

// `at` starts with a record whose structure is known to be sound.
inline record_view read_record(durable_bytes at) noexcept {
    const std::size_t klen = fmt::load_u16(at, 2);
    const std::size_t vlen = fmt::load_u32(at, 4);
    return {std::to_integer<std::uint8_t>(at[0]), std::to_integer<std::uint8_t>(at[1]),
            at.subspan(fmt::record_header_size, klen),
            at.subspan(fmt::record_header_size + klen, vlen),
            fmt::record_header_size + klen + vlen};
}

// Calls f(offset, record) for every record of the sound batches in bytes[from, to).
template <class F>
void for_each_record(durable_bytes bytes, std::uint64_t from, std::uint64_t to, F&& f) {
    std::uint64_t pos = from;
    while (pos < to) {
        const std::uint64_t end = pos + fmt::batch_header_size + fmt::load_u32(bytes, pos + 4);
        pos += fmt::batch_header_size;
        while (pos < end) {
            const auto r = read_record(bytes.subspan(pos));
            f(pos, r);
            pos += r.size;
        }
    }
}

inline void fill_batch_header(std::vector<std::byte>& batch, std::uint32_t records) noexcept {
    const std::span<std::byte> b(batch);
    fmt::store_u32(b, 4, static_cast<std::uint32_t>(batch.size() - fmt::batch_header_size));
    fmt::store_u32(b, 8, records);
    fmt::store_u32(b, 0, detail::crc32c(durable_bytes(b).subspan(4)));
}

inline void release_capacity(std::vector<std::byte>& v, std::size_t keep) {
    if (v.capacity() > keep) {
        std::vector<std::byte>().swap(v);
    }
}

} // namespace mqttwire::broker::durable_engine
