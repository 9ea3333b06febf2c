// Compaction of the durable store: the live records copied into a new file in bounded steps
// that ride on commits, the tail of the old file copied verbatim, the new file flushed on a
// thread of its own, then the two files switched; or, on an error, the compaction given up and
// the store left in its current file.
#include "durable_store_impl.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <limits>
#include <system_error>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace mqttwire::broker {

using namespace durable_engine;

namespace {

// Largest batch compaction writes: one write() of it is the longest thing a step cannot cut.
constexpr std::size_t compaction_batch = 256U << 10;

} // namespace

durable_store::impl::~impl() {
    join_retirer();
    if (comp) {
        if (comp->syncer.joinable()) {
            comp->syncer.join();
        }
        comp->next.close();
        (void)::unlink(temp_path.c_str());
    }
}

void durable_store::impl::join_retirer() {
    if (retirer.joinable()) {
        retirer.join();
    }
    if (const int err = retire_error.exchange(0)) {
        warn("store " + path + ": compacted, but " +
             describe_errno("fsync of the directory", directory, err) +
             "; a power cut could have brought back the previous file");
    }
}

durable_status durable_store::impl::start_compaction() {
    join_retirer();
    const int fd =
        ::open(temp_path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, file_mode);
    if (fd < 0) {
        return note_failed_start(io_error("open", temp_path, errno));
    }
    auto started = std::make_unique<compaction>();
    compaction& c = *started;
    c.next.fd = fd;
    (void)::fchmod(fd, file_mode);
    // Locked before it takes the store's name, so a second broker never sees it unlocked.
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        const int err = errno;
        c.next.close();
        (void)::unlink(temp_path.c_str());
        return note_failed_start(io_error("flock", temp_path, err));
    }
    const auto header = fmt::make_header();
    if (const int err = write_all(fd, header); err != 0) {
        c.next.close();
        (void)::unlink(temp_path.c_str());
        return note_failed_start(io_error("write", temp_path, err));
    }
    c.next.size = header.size();
    if (const int err = c.next.cover(c.next.size); err != 0) {
        c.next.close();
        (void)::unlink(temp_path.c_str());
        return note_failed_start(io_error("mmap", temp_path, err));
    }
    c.new_tag = base_tag == tag_base_a ? tag_base_b : tag_base_a;
    c.cut = file.size;
    comp = std::move(started);
    return {};
}

durable_status durable_store::impl::note_failed_start(durable_status s) {
    retry_dead_floor = dead_bytes() + options.compact_min_dead_bytes;
    ++counters.compactions_abandoned;
    warn("compaction of store " + path + " could not start: " + s.message());
    return s;
}

// 0 or an errno.
int durable_store::impl::flush_out() {
    compaction& c = *comp;
    if (c.out.empty()) {
        return 0;
    }
    fill_batch_header(c.out, c.out_records);
    if (const int err = write_all(c.next.fd, c.out)) {
        return err;
    }
    return grew_next(c.out.size(), [&] {
        c.out.clear();
        c.out_records = 0;
        release_capacity(c.out, 2 * compaction_batch);
    });
}

template <class After> int durable_store::impl::grew_next(std::size_t n, After&& after) {
    compaction& c = *comp;
    c.next.size += n;
    counters.compaction_bytes_written += n;
    after();
    // No sync_file_range() to start writeback early: it blocks while the device queue is
    // full (steps of 280 ms were measured); the background fdatasync does that work.
    return c.next.cover(c.next.size);
}

durable_store::impl::step_budget durable_store::impl::budget_for(std::uint64_t written) const {
    const std::uint64_t min_work = 2 * written;
    return {min_work, std::max<std::uint64_t>(options.compact_step_bytes, min_work),
            steady::now() + options.compact_step_time};
}

durable_store::impl::step_budget durable_store::impl::unlimited() {
    constexpr auto all = std::numeric_limits<std::uint64_t>::max();
    return {all, all, steady::time_point::max()};
}

// One bounded step of compaction; the last one switches files.
//
// Only with no batch being built: a record is copied when the index points at it, and
// the index must then describe committed state. An uncommitted overwrite or erase would
// otherwise make the committed version look dead, and a crash before the commit would
// lose it.
durable_status durable_store::impl::step(step_budget budget) {
    const auto started = steady::now();
    auto s = step_work(budget);
    const auto took = std::chrono::duration_cast<std::chrono::nanoseconds>(steady::now() - started);
    counters.longest_compaction_step = std::max(counters.longest_compaction_step, took);
    return s;
}

durable_status durable_store::impl::step_work(step_budget& budget) {
    compaction& c = *comp;
    const auto bytes = file.bytes();
    std::uint64_t work = 0;
    while (!c.tailing && !budget.spent(work)) {
        if (c.scan == c.cut) {
            if (const int err = flush_out()) {
                return abandon(io_error("write", temp_path, err));
            }
            c.copied_end = c.next.size;
            c.tailing = true;
            c.tail = c.cut;
            break;
        }
        if (c.scan == c.batch_end) {
            c.batch_end = c.scan + fmt::batch_header_size + fmt::load_u32(bytes, c.scan + 4);
            c.scan += fmt::batch_header_size;
            work += fmt::batch_header_size;
            continue;
        }
        const auto rest = bytes.subspan(static_cast<std::size_t>(c.scan));
        const auto r = read_record(rest);
        if (r.type == fmt::type_put) {
            durable_slot* slot = find(hash_of(r.kind, r.key), r.kind, r.key);
            // Live means: the index still points at exactly this version.
            if (slot != nullptr && slot->loc == loc_of_file_offset(c.scan)) {
                if (c.out.empty()) {
                    c.out.resize(fmt::batch_header_size);
                    c.out_records = 0;
                }
                const std::uint64_t phys = c.next.size + c.out.size();
                c.out.insert(c.out.end(), rest.begin(),
                             rest.begin() + static_cast<std::ptrdiff_t>(r.size));
                ++c.out_records;
                slot->loc = make_loc(c.new_tag, phys);
                if (c.out.size() >= std::min(options.compact_step_bytes, compaction_batch)) {
                    if (const int err = flush_out()) {
                        c.scan += r.size;
                        return abandon(io_error("write", temp_path, err));
                    }
                }
            }
        }
        c.scan += r.size;
        work += r.size;
    }
    if (!c.tailing) {
        return {};
    }
    // Appending to the new file while the background fdatasync runs would wait for the
    // pages under writeback (20 ms blocks were measured): the tail waits in the old file.
    if (c.sync_started && c.sync_result.load(std::memory_order_acquire) < 0) {
        return {};
    }
    // The tail is copied verbatim, in pieces so that the budget is checked between them.
    constexpr std::uint64_t piece = 64U << 10;
    while (c.tail < file.size && !budget.spent(work, 1)) {
        const std::uint64_t n = std::min({file.size - c.tail, piece, budget.max_work - work});
        const auto chunk =
            bytes.subspan(static_cast<std::size_t>(c.tail), static_cast<std::size_t>(n));
        if (const int err = write_all(c.next.fd, chunk)) {
            return abandon(io_error("write", temp_path, err));
        }
        c.tail += n;
        work += n;
        if (const int err = grew_next(static_cast<std::size_t>(n), [] {})) {
            return abandon(io_error("mmap", temp_path, err));
        }
    }
    if (c.tail < file.size) {
        return {};
    }
    // The tail has caught up: flush the new file in the background; once that is done,
    // copy what commits appended meanwhile, then switch.
    if (!c.sync_started) {
        start_sync();
        return {};
    }
    if (c.syncer.joinable()) {
        c.syncer.join();
    }
    if (const int err = c.sync_result.load(std::memory_order_acquire); err != 0) {
        return abandon(io_error("fdatasync", temp_path, err));
    }
    return switch_files();
}

void durable_store::impl::start_sync() {
    compaction& c = *comp;
    c.sync_started = true;
    const auto run = [fd = c.next.fd, result = &c.sync_result] {
        result->store(::fdatasync(fd) == 0 ? 0 : errno, std::memory_order_release);
    };
    try {
        c.syncer = std::thread(run);
    } catch (const std::system_error&) {
        run(); // no thread to be had: flush here, blocking
    }
}

// For compact(), which blocks anyway.
void durable_store::impl::wait_for_sync() {
    if (comp && comp->syncer.joinable()) {
        comp->syncer.join();
    }
}

// The new file is flushed up to where the tail stood when the background flush began.
// What commits appended after that is flushed here only with `sync`: without it, a power
// cut may cost the last moments of commits anyway (the file then ends in a torn batch,
// which open() cuts away), and the switch does not wait for the disk.
durable_status durable_store::impl::switch_files() {
    const auto started = steady::now();
    compaction& c = *comp;
    if (options.sync && ::fdatasync(c.next.fd) != 0) {
        return abandon(io_error("fdatasync", temp_path, errno));
    }
    // Exchanging the two names, rather than renaming over the old file, keeps ext4 from
    // flushing the new file's unwritten blocks inside rename() (its replace-by-rename rule:
    // 7 ms measured). What that flush would protect is already flushed by the background
    // fdatasync, or deliberately not (see above). The old file, now under temp_path, is
    // removed by the retiring thread; if a crash comes first, open() removes it.
    bool exchanged =
        ::renameat2(AT_FDCWD, temp_path.c_str(), AT_FDCWD, path.c_str(), RENAME_EXCHANGE) == 0;
    if (!exchanged && (errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)) {
        return abandon(io_error("rename", temp_path, errno));
    }
    if (!exchanged && ::rename(temp_path.c_str(), path.c_str()) != 0) {
        return abandon(io_error("rename", temp_path, errno));
    }
    // The new file is the store from here on.
    const std::uint64_t new_delta = (c.cut + log_delta - c.copied_end) & value_mask;
    mapped_file old = std::move(file);
    file = std::move(c.next);
    released_at = 0;
    base_tag = c.new_tag;
    base_end = c.copied_end;
    log_delta = new_delta;
    comp.reset();
    ++counters.compactions;
    // With `sync`, the next commit's acknowledgement must not depend on a rename that a
    // power cut could undo: the directory is flushed before going on. Without it, the
    // retiring thread does that too.
    if (options.sync) {
        if (const int err = fsync_directory(directory)) {
            retire_error.store(err);
        }
    }
    join_retirer();
    const auto retire = [this, sync_dir = !options.sync, exchanged](mapped_file& f) {
        if (exchanged) {
            (void)::unlink(temp_path.c_str());
        }
        if (sync_dir) {
            if (const int err = fsync_directory(directory)) {
                retire_error.store(err);
            }
        }
        f.close();
    };
    auto job = [retire, f = std::move(old)]() mutable { retire(f); };
    try {
        retirer = std::thread(std::move(job));
    } catch (const std::system_error&) {
        // No thread to be had: the file was closed when the thread's copy of the job was
        // destroyed; the rest (unlink, directory fsync) happens here, blocking.
        job();
    }
    counters.last_compaction_switch =
        std::chrono::duration_cast<std::chrono::nanoseconds>(steady::now() - started);
    return {};
}

// Gives up the compaction in progress: points the records already copied back at their
// old versions (the last put of each key before the scan position is the one copied, since
// a later version would have made it dead) and removes the new file.
durable_status durable_store::impl::abandon(durable_status why) {
    compaction& c = *comp;
    if (c.syncer.joinable()) {
        c.syncer.join();
    }
    for_each_record(file.bytes(), fmt::header_size, std::min(c.batch_end, c.cut),
                    [&](std::uint64_t at, const record_view& r) {
                        if (r.type != fmt::type_put || at >= c.scan) {
                            return;
                        }
                        durable_slot* slot = find(hash_of(r.kind, r.key), r.kind, r.key);
                        if (slot != nullptr && loc_tag(slot->loc) == c.new_tag) {
                            slot->loc = loc_of_file_offset(at);
                        }
                    });
    c.next.close();
    (void)::unlink(temp_path.c_str());
    comp.reset();
    ++counters.compactions_abandoned;
    retry_dead_floor = dead_bytes() + options.compact_min_dead_bytes;
    warn("compaction of store " + path + " abandoned (" + why.message() +
         "); the store goes on in its current file");
    return why;
}

void durable_store::impl::maintain(std::uint64_t written) {
    if (!comp) {
        if (!options.auto_compact || !compaction_due() || !start_compaction()) {
            return;
        }
    }
    (void)step(budget_for(written));
}

} // namespace mqttwire::broker
