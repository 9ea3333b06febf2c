#pragma once
// The durable store's state (durable_store::impl) and the member functions its parts share. The
// parts: durable_store.cpp (the public operations, building and writing batches),
// durable_compaction.cpp, durable_open.cpp (opening and checking a file) and durable_load.cpp
// (loading its sound batches, describing a dropped tail).

#include "durable_file.hpp"
#include "durable_log.hpp"
#include "durable_store.hpp"

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <sys/types.h>

namespace mqttwire::broker {

struct durable_store::impl {
    std::string path;
    std::string temp_path; // the compaction's new file; after the switch, briefly the old one
    std::string directory;
    durable_options options;
    std::uint64_t key0 = 0;
    std::uint64_t key1 = 0;
    mode_t file_mode = 0600;

    durable_engine::mapped_file file;
    std::vector<std::byte> batch; // batch header (filled at commit) then records; or empty
    std::uint32_t batch_records = 0;
    detail::durable_index index;
    std::uint64_t live_bytes = 0;
    std::uint64_t base_tag = durable_engine::tag_base_a;
    std::uint64_t base_end = durable_engine::fmt::header_size;
    std::uint64_t log_delta = 0;
    bool unusable = false;
    std::string unusable_reason;
    std::uint64_t released_at = 0; // file size when the mapping's pages were last let go

    struct compaction {
        durable_engine::mapped_file next;
        std::vector<std::byte> out; // a batch of copied records for the new file, or empty
        std::uint32_t out_records = 0;
        std::uint64_t new_tag = 0;
        std::uint64_t cut = 0; // the old file's size when compaction began
        std::uint64_t scan = durable_engine::fmt::header_size;
        std::uint64_t batch_end = durable_engine::fmt::header_size;
        bool tailing = false;         // copying [cut, end) of the old file verbatim
        std::uint64_t copied_end = 0; // end of the compacted part in the new file
        std::uint64_t tail = 0;       // next old-file byte to copy
        // fdatasync of the new file, on a thread of its own: flushing a file of hundreds of
        // megabytes takes long, and commits go on meanwhile (sync_result: -1 while running,
        // then 0 or an errno).
        std::thread syncer;
        std::atomic<int> sync_result{-1};
        bool sync_started = false;
    };
    std::unique_ptr<compaction> comp;
    std::uint64_t retry_dead_floor = 0; // after an abandoned compaction
    // Lets go of the previous file after a switch: unmapping and closing the last descriptor
    // of an unlinked file of hundreds of megabytes (which frees its blocks) took a third of a
    // second for 480 MiB here; the event loop need not wait for it.
    std::thread retirer;
    std::atomic<int> retire_error{0}; // errno of the directory fsync done there
    durable_stats counters;

    impl() = default;
    impl(const impl&) = delete;
    impl& operator=(const impl&) = delete;
    ~impl();

    [[nodiscard]] std::uint32_t hash_of(std::uint8_t kind, durable_bytes key) const noexcept {
        return static_cast<std::uint32_t>(detail::siphash<1, 3>(key0, key1 ^ kind, key));
    }

    [[nodiscard]] static durable_bytes in(const durable_engine::mapped_file& f,
                                          const std::vector<std::byte>& buf,
                                          std::uint64_t phys) noexcept {
        if (phys < f.size) {
            return f.bytes().subspan(static_cast<std::size_t>(phys));
        }
        return durable_bytes(buf).subspan(static_cast<std::size_t>(phys - f.size));
    }

    [[nodiscard]] durable_bytes record_at(std::uint64_t loc) const noexcept {
        const std::uint64_t tag = durable_engine::loc_tag(loc);
        const std::uint64_t value = durable_engine::loc_value(loc);
        if (tag == durable_engine::tag_log) {
            return in(file, batch, (value - log_delta) & durable_engine::value_mask);
        }
        if (tag == base_tag) {
            return in(file, batch, value);
        }
        return in(comp->next, comp->out, value);
    }

    [[nodiscard]] std::uint64_t loc_of_file_offset(std::uint64_t phys) const noexcept {
        return phys < base_end
                   ? durable_engine::make_loc(base_tag, phys)
                   : durable_engine::make_loc(durable_engine::tag_log, phys + log_delta);
    }

    [[nodiscard]] const durable_engine::durable_slot* find(std::uint32_t h, std::uint8_t kind,
                                                           durable_bytes key) const noexcept {
        return index.find(h, [&](const durable_engine::durable_slot& s) {
            const auto r = record_at(s.loc);
            return std::to_integer<std::uint8_t>(r[1]) == kind &&
                   durable_engine::fmt::load_u16(r, 2) == key.size() &&
                   std::equal(key.begin(), key.end(),
                              r.begin() + durable_engine::fmt::record_header_size);
        });
    }
    [[nodiscard]] durable_engine::durable_slot* find(std::uint32_t h, std::uint8_t kind,
                                                     durable_bytes key) noexcept {
        return const_cast<durable_engine::durable_slot*>(std::as_const(*this).find(h, kind, key));
    }

    [[nodiscard]] std::uint64_t dead_bytes() const noexcept {
        return file.size + batch.size() - durable_engine::fmt::header_size - live_bytes;
    }

    [[nodiscard]] bool compaction_due() const noexcept {
        const std::uint64_t dead = dead_bytes();
        return dead > options.compact_min_dead_bytes && dead >= retry_dead_floor &&
               dead * 100 > live_bytes * options.compact_dead_percent;
    }

    [[nodiscard]] durable_status unusable_status() const {
        return {durable_errc::unusable, "store " + path + " is unusable after an I/O error (" +
                                            unusable_reason + "); reopen it"};
    }

    void warn(const std::string& line) const {
        if (options.on_warning) {
            options.on_warning(line);
        }
    }

    // ---- building and writing batches (durable_store.cpp) -------------------------------------

    std::uint64_t append(std::uint8_t type, std::uint8_t kind, durable_bytes key,
                         durable_bytes value);
    durable_status check_sizes(durable_bytes key, durable_bytes value) const;
    durable_status write_batch();
    durable_status write_and_sync();

    // ---- compaction (durable_compaction.cpp) --------------------------------------------------

    // How much one step may do: at least `min_work` bytes (twice what the commit wrote, so
    // compaction outruns the log), then until `deadline` or `max_work`, whichever comes first.
    struct step_budget {
        std::uint64_t min_work = 0;
        std::uint64_t max_work = 0;
        durable_engine::steady::time_point deadline{};
        std::uint32_t clock_reads = 0;

        // `every`: how many calls share one clock read (a read costs a few tens of
        // nanoseconds; a record is scanned in about a microsecond).
        bool spent(std::uint64_t work, std::uint32_t every = 16) {
            if (work >= max_work) {
                return true;
            }
            if (work < min_work) {
                return false;
            }
            return ++clock_reads % every == 0 && durable_engine::steady::now() >= deadline;
        }
    };

    void join_retirer();
    durable_status start_compaction();
    durable_status note_failed_start(durable_status s);
    int flush_out();
    template <class After> int grew_next(std::size_t n, After&& after);
    [[nodiscard]] step_budget budget_for(std::uint64_t written) const;
    [[nodiscard]] static step_budget unlimited();
    durable_status step(step_budget budget);
    durable_status step_work(step_budget& budget);
    void start_sync();
    void wait_for_sync();
    durable_status switch_files();
    durable_status abandon(durable_status why);
    void maintain(std::uint64_t written);

    // ---- opening (durable_open.cpp) and loading (durable_load.cpp) ----------------------------

    durable_status create_empty();
    durable_status check_header() const;
    void apply(std::uint64_t at, const durable_engine::record_view& r, std::uint32_t h);
    std::uint64_t load_prefix(durable_recovery& rec);
    void describe_dropped(std::uint64_t valid, durable_recovery& rec) const;
};

} // namespace mqttwire::broker
