#include "durable_store.hpp"

#include "durable_format.hpp"
#include "durable_hash.hpp"
#include "durable_index.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <limits>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

namespace mqttwire::broker {

namespace fmt = detail::durable_format;
using detail::durable_slot;
using steady = std::chrono::steady_clock;

namespace {

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
// Largest batch compaction writes: one write() of it is the longest thing a step cannot cut.
constexpr std::size_t compaction_batch = 256U << 10;
// The capacity the batch buffer keeps after a spike.
constexpr std::size_t keep_buffer_capacity = 1U << 20;

std::string describe_errno(std::string_view call, const std::string& file, int err) {
    std::string m(call);
    m += ' ';
    m += file;
    m += ": ";
    m += std::strerror(err);
    return m;
}

durable_status io_error(std::string_view call, const std::string& file, int err) {
    return {durable_errc::io_error, describe_errno(call, file, err)};
}

// 0 or the errno of the failed write().
int write_all(int fd, durable_bytes data) noexcept {
    while (!data.empty()) {
        const ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return errno;
        }
        if (n == 0) {
            return EIO; // a regular file never does this; do not spin if one does
        }
        data = data.subspan(static_cast<std::size_t>(n));
    }
    return 0;
}

int fsync_directory(const std::string& dir) noexcept {
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        return errno;
    }
    const int rc = ::fsync(fd) == 0 ? 0 : errno;
    ::close(fd);
    return rc;
}

std::string directory_of(const std::string& path) {
    const auto slash = path.rfind('/');
    if (slash == std::string::npos) {
        return ".";
    }
    return slash == 0 ? std::string("/") : path.substr(0, slash);
}

// A store file and its read-only shared mapping. Bytes written with write() are visible through
// the mapping at once (both are the page cache), so comparing a key costs no system call.
struct mapped_file {
    int fd = -1;
    std::byte* base = nullptr;
    std::size_t length = 0; // mapped (may exceed size: pages past the end are never touched)
    std::uint64_t size = 0; // bytes in the file

    mapped_file() = default;
    mapped_file(const mapped_file&) = delete;
    mapped_file& operator=(const mapped_file&) = delete;
    mapped_file(mapped_file&& o) noexcept
        : fd(std::exchange(o.fd, -1)), base(std::exchange(o.base, nullptr)),
          length(std::exchange(o.length, 0)), size(std::exchange(o.size, 0)) {}
    mapped_file& operator=(mapped_file&& o) noexcept {
        if (this != &o) {
            close();
            fd = std::exchange(o.fd, -1);
            base = std::exchange(o.base, nullptr);
            length = std::exchange(o.length, 0);
            size = std::exchange(o.size, 0);
        }
        return *this;
    }
    ~mapped_file() { close(); }

    [[nodiscard]] durable_bytes bytes() const noexcept {
        return {base, static_cast<std::size_t>(size)};
    }

    // Makes the mapping cover `need` bytes; 0 or an errno.
    int cover(std::uint64_t need) noexcept {
        if (need <= length) {
            return 0;
        }
        if (need > std::numeric_limits<std::size_t>::max() / 2) {
            return ENOMEM;
        }
        const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
        std::size_t want = std::max(
            {static_cast<std::size_t>(need), length * 2, static_cast<std::size_t>(1U << 20)});
        want = (want + page - 1) / page * page;
        void* p = base == nullptr ? ::mmap(nullptr, want, PROT_READ, MAP_SHARED, fd, 0)
                                  : ::mremap(base, length, want, MREMAP_MAYMOVE);
        if (p == MAP_FAILED) {
            return errno;
        }
        base = static_cast<std::byte*>(p);
        length = want;
        return 0;
    }

    // Drops this process's page-table entries for [0, upto): the pages stay in the page cache,
    // but no longer count in the broker's resident set.
    void release(std::uint64_t upto) const noexcept {
        const auto page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
        const std::uint64_t n = std::min<std::uint64_t>(upto, length) / page * page;
        if (base != nullptr && n > 0) {
            (void)::madvise(base, static_cast<std::size_t>(n), MADV_DONTNEED);
        }
    }

    void close() noexcept {
        if (base != nullptr) {
            ::munmap(base, length);
            base = nullptr;
            length = 0;
        }
        if (fd >= 0) {
            ::close(fd);
            fd = -1;
        }
        size = 0;
    }
};

struct record_view {
    std::uint8_t type = 0;
    std::uint8_t kind = 0;
    durable_bytes key;
    durable_bytes value;
    std::size_t size = 0;
};

// `at` starts with a record whose structure is known to be sound.
record_view read_record(durable_bytes at) noexcept {
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

enum class batch_state { sound, torn, damaged };

struct batch_check {
    batch_state state = batch_state::sound;
    std::uint64_t size = 0;    // whole batch; 0 when torn
    std::uint32_t records = 0; // as its header claims (verified when sound)
};

// Checks the batch at the start of `rest` (the rest of the file): complete, checksum, and
// records that exactly fill it.
batch_check check_batch(durable_bytes rest) noexcept {
    if (rest.size() < fmt::batch_header_size) {
        return {batch_state::torn, 0, 0};
    }
    const std::uint64_t len = fmt::load_u32(rest, 4);
    const std::uint32_t count = fmt::load_u32(rest, 8);
    if (len > rest.size() - fmt::batch_header_size) {
        return {batch_state::torn, 0, count};
    }
    const auto batch = rest.first(static_cast<std::size_t>(fmt::batch_header_size + len));
    const batch_check damaged{batch_state::damaged, batch.size(), count};
    if (len == 0 || count == 0 || detail::crc32c(batch.subspan(4)) != fmt::load_u32(rest, 0)) {
        return damaged;
    }
    std::size_t pos = fmt::batch_header_size;
    std::uint64_t n = 0;
    while (pos < batch.size()) {
        if (batch.size() - pos < fmt::record_header_size) {
            return damaged;
        }
        const auto type = std::to_integer<std::uint8_t>(batch[pos]);
        const std::uint64_t klen = fmt::load_u16(batch, pos + 2);
        const std::uint64_t vlen = fmt::load_u32(batch, pos + 4);
        if ((type != fmt::type_put && type != fmt::type_erase) ||
            (type == fmt::type_erase && vlen != 0) ||
            klen + vlen > batch.size() - pos - fmt::record_header_size) {
            return damaged;
        }
        pos += static_cast<std::size_t>(fmt::record_header_size + klen + vlen);
        ++n;
    }
    return n == count ? batch_check{batch_state::sound, batch.size(), count} : damaged;
}

bool starts_with(durable_bytes b, durable_bytes prefix) noexcept {
    return b.size() >= prefix.size() && std::equal(prefix.begin(), prefix.end(), b.begin());
}

void fill_batch_header(std::vector<std::byte>& batch, std::uint32_t records) noexcept {
    const std::span<std::byte> b(batch);
    fmt::store_u32(b, 4, static_cast<std::uint32_t>(batch.size() - fmt::batch_header_size));
    fmt::store_u32(b, 8, records);
    fmt::store_u32(b, 0, detail::crc32c(durable_bytes(b).subspan(4)));
}

void release_capacity(std::vector<std::byte>& v, std::size_t keep) {
    if (v.capacity() > keep) {
        std::vector<std::byte>().swap(v);
    }
}

} // namespace

// ---------------------------------------------------------------------------------------------

struct durable_store::impl {
    std::string path;
    std::string temp_path; // the compaction's new file; after the switch, briefly the old one
    std::string directory;
    durable_options options;
    std::uint64_t key0 = 0;
    std::uint64_t key1 = 0;
    mode_t file_mode = 0600;

    mapped_file file;
    std::vector<std::byte> batch; // batch header (filled at commit) then records; or empty
    std::uint32_t batch_records = 0;
    detail::durable_index index;
    std::uint64_t live_bytes = 0;
    std::uint64_t base_tag = tag_base_a;
    std::uint64_t base_end = fmt::header_size;
    std::uint64_t log_delta = 0;
    bool unusable = false;
    std::string unusable_reason;
    std::uint64_t released_at = 0; // file size when the mapping's pages were last let go

    struct compaction {
        mapped_file next;
        std::vector<std::byte> out; // a batch of copied records for the new file, or empty
        std::uint32_t out_records = 0;
        std::uint64_t new_tag = 0;
        std::uint64_t cut = 0; // the old file's size when compaction began
        std::uint64_t scan = fmt::header_size;
        std::uint64_t batch_end = fmt::header_size;
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
    ~impl() {
        join_retirer();
        if (comp) {
            if (comp->syncer.joinable()) {
                comp->syncer.join();
            }
            comp->next.close();
            (void)::unlink(temp_path.c_str());
        }
    }

    [[nodiscard]] std::uint32_t hash_of(std::uint8_t kind, durable_bytes key) const noexcept {
        return static_cast<std::uint32_t>(detail::siphash<1, 3>(key0, key1 ^ kind, key));
    }

    [[nodiscard]] static durable_bytes in(const mapped_file& f, const std::vector<std::byte>& buf,
                                          std::uint64_t phys) noexcept {
        if (phys < f.size) {
            return f.bytes().subspan(static_cast<std::size_t>(phys));
        }
        return durable_bytes(buf).subspan(static_cast<std::size_t>(phys - f.size));
    }

    [[nodiscard]] durable_bytes record_at(std::uint64_t loc) const noexcept {
        const std::uint64_t tag = loc_tag(loc);
        const std::uint64_t value = loc_value(loc);
        if (tag == tag_log) {
            return in(file, batch, (value - log_delta) & value_mask);
        }
        if (tag == base_tag) {
            return in(file, batch, value);
        }
        return in(comp->next, comp->out, value);
    }

    [[nodiscard]] std::uint64_t loc_of_file_offset(std::uint64_t phys) const noexcept {
        return phys < base_end ? make_loc(base_tag, phys) : make_loc(tag_log, phys + log_delta);
    }

    [[nodiscard]] const durable_slot* find(std::uint32_t h, std::uint8_t kind,
                                           durable_bytes key) const noexcept {
        return index.find(h, [&](const durable_slot& s) {
            const auto r = record_at(s.loc);
            return std::to_integer<std::uint8_t>(r[1]) == kind &&
                   fmt::load_u16(r, 2) == key.size() &&
                   std::equal(key.begin(), key.end(), r.begin() + fmt::record_header_size);
        });
    }
    [[nodiscard]] durable_slot* find(std::uint32_t h, std::uint8_t kind,
                                     durable_bytes key) noexcept {
        return const_cast<durable_slot*>(std::as_const(*this).find(h, kind, key));
    }

    [[nodiscard]] std::uint64_t dead_bytes() const noexcept {
        return file.size + batch.size() - fmt::header_size - live_bytes;
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

    // Appends a record to the batch being built; its offset in file coordinates.
    std::uint64_t append(std::uint8_t type, std::uint8_t kind, durable_bytes key,
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

    durable_status check_sizes(durable_bytes key, durable_bytes value) const {
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
    durable_status write_batch() {
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
    durable_status write_and_sync() {
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

    // ---- compaction ---------------------------------------------------------------------------

    void join_retirer() {
        if (retirer.joinable()) {
            retirer.join();
        }
        if (const int err = retire_error.exchange(0)) {
            warn("store " + path + ": compacted, but " +
                 describe_errno("fsync of the directory", directory, err) +
                 "; a power cut could have brought back the previous file");
        }
    }

    durable_status start_compaction() {
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

    durable_status note_failed_start(durable_status s) {
        retry_dead_floor = dead_bytes() + options.compact_min_dead_bytes;
        ++counters.compactions_abandoned;
        warn("compaction of store " + path + " could not start: " + s.message());
        return s;
    }

    // 0 or an errno.
    int flush_out() {
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

    template <class After> int grew_next(std::size_t n, After&& after) {
        compaction& c = *comp;
        c.next.size += n;
        counters.compaction_bytes_written += n;
        after();
        // No sync_file_range() to start writeback early: it blocks while the device queue is
        // full (steps of 280 ms were measured); the background fdatasync does that work.
        return c.next.cover(c.next.size);
    }

    // How much one step may do: at least `min_work` bytes (twice what the commit wrote, so
    // compaction outruns the log), then until `deadline` or `max_work`, whichever comes first.
    struct step_budget {
        std::uint64_t min_work = 0;
        std::uint64_t max_work = 0;
        steady::time_point deadline{};
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
            return ++clock_reads % every == 0 && steady::now() >= deadline;
        }
    };

    [[nodiscard]] step_budget budget_for(std::uint64_t written) const {
        const std::uint64_t min_work = 2 * written;
        return {min_work, std::max<std::uint64_t>(options.compact_step_bytes, min_work),
                steady::now() + options.compact_step_time};
    }

    [[nodiscard]] static step_budget unlimited() {
        constexpr auto all = std::numeric_limits<std::uint64_t>::max();
        return {all, all, steady::time_point::max()};
    }

    // One bounded step of compaction; the last one switches files.
    //
    // Only with no batch being built: a record is copied when the index points at it, and
    // the index must then describe committed state. An uncommitted overwrite or erase would
    // otherwise make the committed version look dead, and a crash before the commit would
    // lose it.
    durable_status step(step_budget budget) {
        const auto started = steady::now();
        auto s = step_work(budget);
        const auto took =
            std::chrono::duration_cast<std::chrono::nanoseconds>(steady::now() - started);
        counters.longest_compaction_step = std::max(counters.longest_compaction_step, took);
        return s;
    }

    durable_status step_work(step_budget& budget) {
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

    void start_sync() {
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
    void wait_for_sync() {
        if (comp && comp->syncer.joinable()) {
            comp->syncer.join();
        }
    }

    // The new file is flushed up to where the tail stood when the background flush began.
    // What commits appended after that is flushed here only with `sync`: without it, a power
    // cut may cost the last moments of commits anyway (the file then ends in a torn batch,
    // which open() cuts away), and the switch does not wait for the disk.
    durable_status switch_files() {
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
    durable_status abandon(durable_status why) {
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

    void maintain(std::uint64_t written) {
        if (!comp) {
            if (!options.auto_compact || !compaction_due() || !start_compaction()) {
                return;
            }
        }
        (void)step(budget_for(written));
    }

    // ---- opening --------------------------------------------------------------------------------

    durable_status create_empty() {
        const int fd = ::open(temp_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0) {
            return io_error("create", temp_path, errno);
        }
        const auto header = fmt::make_header();
        int err = write_all(fd, header);
        if (err == 0 && ::fdatasync(fd) != 0) {
            err = errno;
        }
        ::close(fd);
        if (err == 0 && ::rename(temp_path.c_str(), path.c_str()) != 0) {
            err = errno;
        }
        if (err != 0) {
            (void)::unlink(temp_path.c_str());
            return io_error("create", path, err);
        }
        (void)fsync_directory(directory);
        return {};
    }

    durable_status check_header() const {
        const auto b = file.bytes();
        const auto not_ours = [&](std::string why) {
            return durable_status{durable_errc::not_a_store,
                                  "store " + path + " " + std::move(why)};
        };
        const auto damaged = [&](std::string why) {
            return durable_status{durable_errc::damaged_header,
                                  "store " + path + ": the header is damaged (" + std::move(why) +
                                      "); the file is not used"};
        };
        if (b.empty()) {
            return not_ours("is an empty file, not an mqttwire store (a store starts with a "
                            "32-byte header); remove it to start an empty store");
        }
        if (!starts_with(b, fmt::signature)) {
            if (starts_with(b, fmt::mosquitto_db_signature)) {
                return not_ours("is mosquitto's persistence file (mosquitto.db), not an mqttwire "
                                "store; give the store a file name of its own");
            }
            if (starts_with(b, as_durable_bytes(std::string_view("SQLite format 3\0", 16)))) {
                return not_ours("is an SQLite database, not an mqttwire store");
            }
            return not_ours("is not an mqttwire store (it does not start with the store "
                            "signature)");
        }
        if (b.size() < fmt::header_crc_offset + 4) {
            return damaged("cut short at " + std::to_string(b.size()) + " bytes");
        }
        const std::size_t hlen = fmt::load_u32(b, 12);
        if (hlen < fmt::header_crc_offset + 4 || hlen > fmt::max_header_size || hlen > b.size()) {
            return damaged("impossible header length " + std::to_string(hlen));
        }
        if (fmt::header_crc(b.first(hlen)) != fmt::load_u32(b, fmt::header_crc_offset)) {
            return damaged("checksum mismatch");
        }
        const std::uint32_t v = fmt::load_u32(b, 8);
        if (v > fmt::version) {
            return {durable_errc::newer_format,
                    "store " + path + " was written in store format version " + std::to_string(v) +
                        ", newer than the version " + std::to_string(fmt::version) +
                        " this build reads; use the newer mqttwire-broker that wrote it (the "
                        "file is left untouched)"};
        }
        if (v == 0 || hlen != fmt::header_size) {
            return damaged("format version " + std::to_string(v) + " with a header of " +
                           std::to_string(hlen) + " bytes");
        }
        return {};
    }

    void apply(std::uint64_t at, const record_view& r, std::uint32_t h) {
        durable_slot* slot = find(h, r.kind, r.key);
        if (r.type == fmt::type_erase) {
            // An erase with nothing to erase is normal after a compaction (the put it undid
            // was not copied).
            if (slot != nullptr) {
                live_bytes -= slot->size;
                index.erase(*slot);
            }
            return;
        }
        if (slot == nullptr) {
            slot = &index.insert(h);
        } else {
            live_bytes -= slot->size;
        }
        slot->loc = make_loc(tag_log, at);
        slot->size = static_cast<std::uint32_t>(r.size);
        live_bytes += r.size;
    }

    // Loads the sound prefix of batches into the index; the offset where it ends.
    std::uint64_t load_prefix(durable_recovery& rec) {
        const auto bytes = file.bytes();
        std::uint64_t pos = fmt::header_size;
        std::uint64_t released = 0;
        // Records are applied a few behind the one being read: its hash is computed and its
        // index slot prefetched first, so the cache misses of a large index overlap instead of
        // being paid one after the other (load time for a million records: 1.9 s to 1.25 s).
        struct pending_record {
            std::uint64_t at;
            record_view r;
            std::uint32_t h;
        };
        struct prefetching {
            impl& s;
            std::array<pending_record, 16> ring{};
            std::size_t head = 0;
            std::size_t count = 0;
            void push(std::uint64_t at, const record_view& r) {
                if (count == ring.size()) {
                    pop();
                }
                const std::uint32_t h = s.hash_of(r.kind, r.key);
                s.index.prefetch(h);
                ring[(head + count) % ring.size()] = {at, r, h};
                ++count;
            }
            void pop() {
                const auto& p = ring[head];
                s.apply(p.at, p.r, p.h);
                head = (head + 1) % ring.size();
                --count;
            }
            void drain() {
                while (count > 0) {
                    pop();
                }
            }
        } pipeline{*this};
        while (pos < bytes.size()) {
            const auto b = check_batch(bytes.subspan(static_cast<std::size_t>(pos)));
            if (b.state != batch_state::sound) {
                break;
            }
            for_each_record(bytes, pos, pos + b.size,
                            [&](std::uint64_t at, const record_view& r) { pipeline.push(at, r); });
            pipeline.drain(); // a batch is applied whole before the next one is checked
            pos += b.size;
            ++rec.batches_loaded;
            if (pos - released > release_chunk) {
                file.release(pos);
                released = pos;
            }
        }
        return pos;
    }

    // Describes bytes [valid, end) in `rec` and its message (completed by open()).
    void describe_dropped(std::uint64_t valid, durable_recovery& rec) const {
        const auto bytes = file.bytes();
        rec.dropped_bytes = bytes.size() - valid;
        bool unverified = false;
        for (std::uint64_t pos = valid; pos < bytes.size();) {
            const auto b = check_batch(bytes.subspan(static_cast<std::size_t>(pos)));
            if (pos == valid) {
                rec.torn_tail = b.state == batch_state::torn;
            }
            ++rec.dropped_batches;
            rec.dropped_records += b.records;
            unverified = unverified || b.state != batch_state::sound;
            if (b.state == batch_state::torn) {
                break;
            }
            pos += b.size;
        }
        std::string m = "store " + path + ": ";
        m += rec.torn_tail ? "the file ends inside a batch (a write cut short, as by a power cut)"
                           : "the batch at offset " + std::to_string(valid) + " fails its checksum";
        m += ": dropped " + std::to_string(rec.dropped_bytes) + " bytes from offset " +
             std::to_string(valid) + " to the end (" + std::to_string(rec.dropped_batches) +
             (rec.dropped_batches == 1 ? " batch" : " batches") + ", " +
             std::to_string(rec.dropped_records) +
             (rec.dropped_records == 1 ? " record" : " records");
        if (unverified) {
            m += " by headers that could not be verified";
        }
        m += ") and truncated the file to " + std::to_string(valid) + " bytes";
        rec.message = std::move(m);
    }
};

// ---------------------------------------------------------------------------------------------

durable_store::durable_store(std::unique_ptr<impl> p) noexcept : impl_(std::move(p)) {}
durable_store::durable_store(durable_store&&) noexcept = default;
durable_store& durable_store::operator=(durable_store&&) noexcept = default;
durable_store::~durable_store() = default;

durable_result<durable_opened>
durable_store::open(const std::string& path, const durable_options& options, const loader& load) {
    const auto started = steady::now();
    constexpr std::uint64_t u32_max = std::numeric_limits<std::uint32_t>::max();
    if (options.max_batch_bytes > u32_max || options.max_batch_bytes < 64 ||
        options.max_value_bytes >
            u32_max - fmt::batch_header_size - fmt::record_header_size - fmt::max_key_size ||
        options.compact_step_bytes == 0 || path.empty()) {
        return durable_status{durable_errc::invalid_argument,
                              "store " + path +
                                  ": an option is out of range (max_batch_bytes "
                                  "64..4 GiB, max_value_bytes below 4 GiB - 64 KiB, "
                                  "compact_step_bytes > 0, a path)"};
    }
    auto p = std::make_unique<impl>();
    p->path = path;
    p->temp_path = path + ".compact";
    p->directory = directory_of(path);
    p->options = options;
    std::array<std::uint64_t, 2> keys{};
    if (::getrandom(keys.data(), sizeof keys, 0) != static_cast<ssize_t>(sizeof keys)) {
        // Without the kernel's randomness, the clock still keeps the keys from being known.
        keys[0] = static_cast<std::uint64_t>(steady::now().time_since_epoch().count());
        keys[1] = reinterpret_cast<std::uintptr_t>(p.get()) * 0x9E3779B97F4A7C15ULL;
    }
    p->key0 = keys[0];
    p->key1 = keys[1];

    durable_recovery rec;
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        if (errno != ENOENT) {
            return io_error("stat", path, errno);
        }
        if (auto s = p->create_empty(); !s) {
            return s;
        }
        rec.created = true;
    } else if (S_ISDIR(st.st_mode)) {
        return durable_status{durable_errc::not_a_store,
                              "store " + path +
                                  " is a directory; the store is a file in it "
                                  "(persistence_location plus persistence_file)"};
    } else if (!S_ISREG(st.st_mode)) {
        return durable_status{durable_errc::not_a_store,
                              "store " + path + " is not a regular file"};
    }

    p->file.fd = ::open(path.c_str(), O_RDWR | O_APPEND | O_CLOEXEC);
    if (p->file.fd < 0) {
        return io_error("open", path, errno);
    }
    if (::flock(p->file.fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK) {
            return durable_status{durable_errc::in_use,
                                  "store " + path +
                                      " is in use by another process (another "
                                      "broker has it open)"};
        }
        return io_error("flock", path, errno);
    }
    if (::fstat(p->file.fd, &st) != 0) {
        return io_error("fstat", path, errno);
    }
    p->file_mode = st.st_mode & 07777;
    p->file.size = static_cast<std::uint64_t>(st.st_size);
    rec.file_bytes = p->file.size;
    if (p->file.size > 0) {
        if (const int err = p->file.cover(p->file.size)) {
            return io_error("mmap", path, err);
        }
    }
    if (auto s = p->check_header(); !s) {
        return s;
    }
    // A compaction that a crash interrupted left its new file; the old one is complete.
    if (::unlink(p->temp_path.c_str()) != 0 && errno != ENOENT) {
        p->warn("store " + path + ": " + describe_errno("unlink", p->temp_path, errno));
    }

    p->index.resize_at_once(true);
    const std::uint64_t valid = p->load_prefix(rec);
    p->index.resize_at_once(false);
    rec.valid_bytes = valid;
    if (valid < p->file.size) {
        p->describe_dropped(valid, rec);
        // No fdatasync: if a power cut undoes the truncation, the next open finds the same
        // damaged tail and cuts it again; with `sync`, the next commit's fdatasync makes the
        // new size durable along with its batch.
        if (::ftruncate(p->file.fd, static_cast<off_t>(valid)) != 0) {
            return io_error("ftruncate", path, errno);
        }
        p->file.size = valid;
    }
    if (load) {
        // Live records in file order, without looking each record up again: the index marks
        // live offsets in a bitmap (one bit per 8 bytes of file: records are at least 8 bytes
        // long, so no two share a bit; a transient file size / 64 bytes), then one pass over
        // the file delivers the marked records.
        std::vector<std::uint64_t> marks((valid / 8 + 64) / 64);
        p->index.for_each([&](const durable_slot& slot) {
            const std::uint64_t bit = loc_value(slot.loc) / 8;
            marks[bit / 64] |= std::uint64_t{1} << (bit % 64);
        });
        std::uint64_t released = 0;
        for_each_record(
            p->file.bytes(), fmt::header_size, valid, [&](std::uint64_t at, const record_view& r) {
                const std::uint64_t bit = at / 8;
                if (r.type == fmt::type_put && (marks[bit / 64] >> (bit % 64) & 1U) != 0) {
                    load(durable_record{r.kind, r.key, r.value});
                    ++rec.records_loaded;
                }
                if (at - released > release_chunk) {
                    p->file.release(at);
                    released = at;
                }
            });
    } else {
        rec.records_loaded = p->index.size();
    }
    p->file.release(p->file.size);
    if (!rec.message.empty()) {
        rec.message += "; loaded " + std::to_string(rec.records_loaded) + " live records";
    }
    rec.load_time = std::chrono::duration_cast<std::chrono::nanoseconds>(steady::now() - started);
    return durable_opened{durable_store(std::move(p)), std::move(rec)};
}

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
