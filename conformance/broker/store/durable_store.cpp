// The durable store's operations: put and erase into the batch being built, commit (one write(),
// fdatasync with `sync`, then a compaction step), explicit compaction, reads and statistics.
#include "durable_store.hpp"
#include "durable_store_impl.hpp"

#include <cerrno>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include <sys/types.h>
#include <unistd.h>

namespace mqttwire::broker {

using namespace durable_engine;

namespace {

// The capacity the batch buffer keeps after a spike.
constexpr std::size_t keep_buffer_capacity = 1U << 20;

} // namespace

// Appends a record to the batch being built; its offset in file coordinates.
std::uint64_t durable_store::impl::append(std::uint8_t type, std::uint8_t kind, durable_bytes key,
                                          durable_bytes value) {
    if (batch.empty()) {
        batch.resize(fmt::batch_header_size);
        batch_records = 0;
    }
    const std::uint64_t phys = file.size + batch.size();
    const std::size_t at = batch.size();
    batch.resize(at + fmt::record_header_size + key.size() + value.size());
    const std::span<std::byte> b(batch);
    b[at] = std::byte{type};
    b[at + 1] = std::byte{kind};
    fmt::store_u16(b, at + 2, static_cast<std::uint16_t>(key.size()));
    fmt::store_u32(b, at + 4, static_cast<std::uint32_t>(value.size()));
    std::copy(key.begin(), key.end(), b.begin() + static_cast<std::ptrdiff_t>(at + 8));
    std::copy(value.begin(), value.end(),
              b.begin() + static_cast<std::ptrdiff_t>(at + 8 + key.size()));
    ++batch_records;
    return phys;
}

durable_status durable_store::impl::check_sizes(durable_bytes key, durable_bytes value) const {
    if (unusable) {
        return unusable_status();
    }
    if (key.size() > fmt::max_key_size) {
        return {durable_errc::too_large, "store " + path + ": a key of " +
                                             std::to_string(key.size()) +
                                             " bytes exceeds the limit of 65535"};
    }
    if (value.size() > options.max_value_bytes) {
        return {durable_errc::too_large,
                "store " + path + ": a value of " + std::to_string(value.size()) +
                    " bytes exceeds the limit of " + std::to_string(options.max_value_bytes)};
    }
    return {};
}

// Writes the batch being built with one write(). On failure the file is cut back to its
// last complete batch and the batch is kept for a retry.
durable_status durable_store::impl::write_batch() {
    if (batch.empty()) {
        return {};
    }
    fill_batch_header(batch, batch_records);
    if (const int err = write_all(file.fd, batch)) {
        if (::ftruncate(file.fd, static_cast<off_t>(file.size)) != 0) {
            unusable = true;
            unusable_reason = describe_errno("ftruncate", path, errno);
        }
        return io_error("write", path, err);
    }
    file.size += batch.size();
    counters.bytes_written += batch.size();
    ++counters.batches_written;
    if (const int err = file.cover(file.size)) {
        unusable = true;
        unusable_reason = describe_errno("mmap", path, err);
        return unusable_status();
    }
    // Key comparisons touch pages of the mapping, which then count in the broker's
    // resident set; letting go of them now and then keeps that from creeping up to the
    // file's size (they stay in the page cache). Not during a compaction: its scan maps
    // every page of the old file, and dropping them all inside a commit cost milliseconds;
    // the switch drops that mapping anyway.
    if (!comp && file.size - released_at > release_chunk) {
        file.release(file.size);
        released_at = file.size;
    }
    batch.clear();
    batch_records = 0;
    release_capacity(batch, keep_buffer_capacity);
    return {};
}

// commit() without the compaction step.
durable_status durable_store::impl::write_and_sync() {
    if (unusable) {
        return unusable_status();
    }
    if (batch.empty()) {
        return {};
    }
    if (auto st = write_batch(); !st) {
        return st;
    }
    if (options.sync) {
        if (::fdatasync(file.fd) != 0) {
            // Linux may have dropped the unwritten pages: nothing is known about the file.
            unusable = true;
            unusable_reason = describe_errno("fdatasync", path, errno);
            return unusable_status();
        }
        ++counters.syncs;
    }
    return {};
}

// ---------------------------------------------------------------------------------------------

durable_store::durable_store(std::unique_ptr<impl> p) noexcept : impl_(std::move(p)) {}
durable_store::durable_store(durable_store&&) noexcept = default;
durable_store& durable_store::operator=(durable_store&&) noexcept = default;
durable_store::~durable_store() = default;

durable_status durable_store::put(std::uint8_t kind, durable_bytes key, durable_bytes value) {
    impl& s = *impl_;
    if (auto st = s.check_sizes(key, value); !st) {
        return st;
    }
    const std::size_t size = fmt::record_header_size + key.size() + value.size();
    if (!s.batch.empty() && s.batch.size() + size > s.options.max_batch_bytes) {
        if (auto st = s.write_batch(); !st) {
            return st;
        }
    }
    const std::uint32_t h = s.hash_of(kind, key);
    durable_slot* slot = s.find(h, kind, key);
    const std::uint64_t at = s.append(fmt::type_put, kind, key, value);
    if (slot == nullptr) {
        slot = &s.index.insert(h);
    } else {
        s.live_bytes -= slot->size;
    }
    slot->loc = make_loc(tag_log, at + s.log_delta);
    slot->size = static_cast<std::uint32_t>(size);
    s.live_bytes += size;
    return {};
}

durable_status durable_store::erase(std::uint8_t kind, durable_bytes key) {
    impl& s = *impl_;
    if (auto st = s.check_sizes(key, {}); !st) {
        return st;
    }
    const std::size_t size = fmt::record_header_size + key.size();
    if (!s.batch.empty() && s.batch.size() + size > s.options.max_batch_bytes) {
        if (auto st = s.write_batch(); !st) {
            return st;
        }
    }
    durable_slot* slot = s.find(s.hash_of(kind, key), kind, key);
    if (slot == nullptr) {
        return {};
    }
    (void)s.append(fmt::type_erase, kind, key, {});
    s.live_bytes -= slot->size;
    s.index.erase(*slot);
    return {};
}

durable_status durable_store::commit() {
    impl& s = *impl_;
    const std::uint64_t written = s.batch.size();
    if (auto st = s.write_and_sync(); !st) {
        return st;
    }
    s.maintain(written);
    return {};
}

durable_status durable_store::compact() {
    impl& s = *impl_;
    if (auto st = s.write_and_sync(); !st) {
        return st;
    }
    // A compaction already running began at an earlier cut: the tail it copies may hold dead
    // records. It is finished first, then a fresh one leaves only the live records.
    const int rounds = s.comp ? 2 : 1;
    for (int round = 0; round < rounds; ++round) {
        if (!s.comp) {
            if (auto st = s.start_compaction(); !st) {
                return st;
            }
        }
        while (s.comp) {
            if (auto st = s.step(impl::unlimited()); !st) {
                return st;
            }
            s.wait_for_sync();
        }
    }
    return {};
}

durable_status durable_store::compact_step() {
    impl& s = *impl_;
    if (s.unusable) {
        return s.unusable_status();
    }
    if (!s.batch.empty()) {
        return {};
    }
    if (!s.comp) {
        if (!s.compaction_due()) {
            return {};
        }
        if (auto st = s.start_compaction(); !st) {
            return st;
        }
    }
    // An idle turn: compact_step_bytes at most, or the time slice (16 records at least).
    return s.step(impl::step_budget{0, s.options.compact_step_bytes,
                                    steady::now() + s.options.compact_step_time});
}

std::optional<durable_bytes> durable_store::get(std::uint8_t kind, durable_bytes key) const {
    const impl& s = *impl_;
    if (key.size() > fmt::max_key_size) {
        return std::nullopt;
    }
    const durable_slot* slot = s.find(s.hash_of(kind, key), kind, key);
    if (slot == nullptr) {
        return std::nullopt;
    }
    return read_record(s.record_at(slot->loc)).value;
}

durable_stats durable_store::stats() const noexcept {
    const impl& s = *impl_;
    durable_stats st = s.counters;
    st.live_records = s.index.size();
    st.live_bytes = s.live_bytes;
    st.file_bytes = s.file.size;
    st.pending_bytes = s.batch.size();
    st.dead_bytes = s.dead_bytes();
    st.index_bytes = s.index.memory_bytes();
    st.compacting = s.comp != nullptr;
    return st;
}

const std::string& durable_store::path() const noexcept { return impl_->path; }

} // namespace mqttwire::broker
