// Opening a durable store: the options checked, the file created or refused (a directory,
// another program's file, a damaged header, a newer format, a store another process holds),
// locked and mapped, its records loaded and given to the caller in the order they were
// written.
#include "durable_store_impl.hpp"

#include <array>
#include <cerrno>
#include <limits>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

namespace mqttwire::broker {

using namespace durable_engine;

namespace {

bool starts_with(durable_bytes b, durable_bytes prefix) noexcept {
    return b.size() >= prefix.size() && std::equal(prefix.begin(), prefix.end(), b.begin());
}

} // namespace

durable_status durable_store::impl::create_empty() {
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

durable_status durable_store::impl::check_header() const {
    const auto b = file.bytes();
    const auto not_ours = [&](std::string why) {
        return durable_status{durable_errc::not_a_store, "store " + path + " " + std::move(why)};
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

} // namespace mqttwire::broker
