#pragma once
/// @file
/// @brief The broker's durable store engine: an append-only log of checksummed batches with an
/// in-memory index and incremental compaction (format: durable_format.hpp; reasoning and
/// measurements: README.md in this folder).
///
/// The broker maps its state onto records identified by (kind, key) with an opaque value
/// (retained message: kind R, key the topic; session: kind S, key the client identifier; queued
/// message: kind Q, key session number and message number; ...). During an event-loop turn it
/// calls put() and erase(); at the end of the turn it calls commit() once, and only then sends
/// the acknowledgements that depend on them:
///
/// ```
/// auto opened = durable_store::open("/var/lib/mosquitto/mqttwire.store", {},
///                                   [&](const durable_record& r) { restore(r); });
/// if (!opened) { log(opened.status().message()); return 1; }
/// auto& [store, recovery] = opened.value();
/// if (!recovery.message.empty()) log(recovery.message);
/// ...
/// (void)store.put(kind_retained, as_durable_bytes(topic), payload);
/// if (auto s = store.commit(); !s) { log(s.message()); /* do not acknowledge */ }
/// ```
///
/// **Guarantees.** When commit() returns success, every put and erase before it has reached
/// the operating system with one write() (kill -9 loses nothing); with `durable_options::sync`
/// it has also reached the disk (fdatasync; power loss loses nothing). A batch is atomic: after
/// any crash it is loaded entirely or not at all, and batches are loaded in order (a prefix of
/// the committed batches, at least every batch whose commit() returned).
///
/// **Bounds.** Memory: the index (16 bytes per slot, 21 to 43 bytes per live record whatever
/// the key length), the batch being built (at most `max_batch_bytes` before it is written in
/// parts), one compaction buffer (256 KiB), and a read-only mapping of the file (page cache,
/// not heap). Disk: compaction starts when dead bytes exceed both `compact_min_dead_bytes` and
/// `compact_dead_percent` of the live bytes, so the file stays below the live data times
/// (1 + percent/100), or live data plus compact_min_dead_bytes, plus what commits write while
/// a compaction runs. Keys are at most 65,535 bytes, values at most `max_value_bytes`.
///
/// **Threads.** The broker's event loop owns the store; it is not thread-safe. Compaction uses
/// short-lived threads of its own only to fdatasync its new file and to close the old one, so
/// that neither wait falls on the event loop.
///
/// A moved-from store may only be destroyed or assigned to. Destroying a store discards the
/// batch being built (as a crash would): commit() first.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace mqttwire::broker {

using durable_bytes = std::span<const std::byte>;

/// @brief The bytes of `s` (keys and values are bytes; topics and identifiers are text).
[[nodiscard]] inline durable_bytes as_durable_bytes(std::string_view s) noexcept {
    return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

enum class durable_errc : std::uint8_t {
    ok = 0,
    io_error,         ///< a system call failed; the message names it, the file and errno
    not_a_store,      ///< the path holds something that is not a store of ours
    damaged_header,   ///< our signature, but the header fails its checksum
    newer_format,     ///< written by a newer format version than this build reads
    in_use,           ///< another process has the store open
    too_large,        ///< a key or value over its limit (nothing was changed)
    invalid_argument, ///< an option out of range
    unusable,         ///< an earlier I/O error left the file in an unknown state; reopen it
};

/// @brief Success, or an error code with a one-line message for the log.
class [[nodiscard]] durable_status {
  public:
    durable_status() = default;
    durable_status(durable_errc code, std::string message)
        : code_(code), message_(std::move(message)) {}

    [[nodiscard]] bool ok() const noexcept { return code_ == durable_errc::ok; }
    explicit operator bool() const noexcept { return ok(); }
    [[nodiscard]] durable_errc code() const noexcept { return code_; }
    [[nodiscard]] const std::string& message() const noexcept { return message_; }

  private:
    durable_errc code_ = durable_errc::ok;
    std::string message_;
};

/// @brief A value, or the status that explains why there is none.
template <class T> class [[nodiscard]] durable_result {
  public:
    durable_result(T value) : value_(std::move(value)) {}
    durable_result(durable_status status) : status_(std::move(status)) {}

    [[nodiscard]] bool has_value() const noexcept { return value_.has_value(); }
    explicit operator bool() const noexcept { return has_value(); }
    [[nodiscard]] T& value() & { return *value_; }
    [[nodiscard]] T&& value() && { return std::move(*value_); }
    [[nodiscard]] const durable_status& status() const noexcept { return status_; }

  private:
    std::optional<T> value_;
    durable_status status_;
};

/// @brief One live record as the loader sees it. The spans point into the file's mapping and
/// are valid only during the callback.
struct durable_record {
    std::uint8_t kind = 0;
    durable_bytes key;
    durable_bytes value;
};

struct durable_options {
    /// fdatasync before commit() returns (our directive `persistence_sync true`): survives power
    /// loss, at the price of one disk flush per commit.
    bool sync = false;
    /// Compaction starts when dead bytes exceed this ...
    std::uint64_t compact_min_dead_bytes = 64ULL << 20;
    /// ... and also exceed this percentage of the live bytes.
    std::uint32_t compact_dead_percent = 100;
    /// Start compaction from commit() when the two bounds above are crossed.
    bool auto_compact = true;
    /// Most work of one compaction step (bytes scanned or copied). Each commit() does one
    /// step of at least twice what it wrote
    /// (so compaction outruns the log's growth) ...
    std::size_t compact_step_bytes = 1U << 20;
    /// ... and stops after this much time once it has done that minimum: the pause compaction
    /// adds to an event-loop turn.
    std::chrono::microseconds compact_step_time{1000};
    /// A batch is written in parts (each atomic) when it grows beyond this. At most 4 GiB.
    std::size_t max_batch_bytes = 64U << 20;
    /// Largest value accepted: the largest MQTT packet (256 MiB) plus room for properties.
    std::uint32_t max_value_bytes = (256U << 20) + (64U << 10);
    /// Receives one line per event worth logging that is not an error of the call in progress
    /// (a compaction abandoned because the disk is full, ...). May be empty.
    std::function<void(std::string_view)> on_warning;
};

/// @brief What open() found and did.
struct durable_recovery {
    std::uint64_t records_loaded = 0; ///< live records given to the loader
    std::uint64_t batches_loaded = 0;
    std::uint64_t file_bytes = 0;    ///< the file's size when opened
    std::uint64_t valid_bytes = 0;   ///< the prefix kept (the file is truncated to it)
    std::uint64_t dropped_bytes = 0; ///< file_bytes - valid_bytes
    std::uint64_t dropped_batches = 0;
    /// Records in the dropped part: exact for batches that pass their checksum, as claimed by
    /// the header of a damaged batch (and 0 for a header cut short).
    std::uint64_t dropped_records = 0;
    bool torn_tail = false; ///< the file ends inside a batch (a write cut short)
    bool created = false;   ///< there was no store at the path; an empty one was created
    std::chrono::nanoseconds load_time{0};
    /// One line for the log when something was dropped, else empty.
    std::string message;
};

struct durable_stats {
    std::uint64_t live_records = 0;
    std::uint64_t live_bytes = 0;    ///< sum of the live records' sizes on disk
    std::uint64_t file_bytes = 0;    ///< committed bytes in the file
    std::uint64_t pending_bytes = 0; ///< bytes of the batch being built
    std::uint64_t dead_bytes = 0;    ///< file + pending - header - live
    std::uint64_t index_bytes = 0;   ///< heap memory of the index
    std::uint64_t batches_written = 0;
    std::uint64_t bytes_written = 0; ///< by commits (compaction is counted apart)
    std::uint64_t syncs = 0;         ///< fdatasync calls made for `sync`
    std::uint64_t compactions = 0;   ///< completed
    std::uint64_t compactions_abandoned = 0;
    std::uint64_t compaction_bytes_written = 0;
    bool compacting = false;
    std::chrono::nanoseconds longest_compaction_step{0}; ///< includes the switch to the new file
    std::chrono::nanoseconds last_compaction_switch{0};  ///< final copy, fdatasync, rename
};

class durable_store;

/// @brief What open() gives: the store and the report of what it found.
struct durable_opened;

class durable_store {
  public:
    using loader = std::function<void(const durable_record&)>;

    /// @brief Opens the store file at `path`, creating it (and nothing else: the directory must
    /// exist) when absent, and gives every live record to `load`, in the order in which their
    /// current versions were written.
    ///
    /// A tail that is torn or fails its checksum is dropped, reported in
    /// `durable_recovery::message` and truncated away. Errors: `not_a_store` (a directory, an
    /// empty file, another program's file such as mosquitto.db), `damaged_header`,
    /// `newer_format` (names both versions), `in_use` (another process holds the store's lock),
    /// `invalid_argument`, `io_error`.
    [[nodiscard]] static durable_result<durable_opened>
    open(const std::string& path, const durable_options& options, const loader& load);

    durable_store(durable_store&&) noexcept;
    durable_store& operator=(durable_store&&) noexcept;
    durable_store(const durable_store&) = delete;
    durable_store& operator=(const durable_store&) = delete;
    ~durable_store();

    /// @brief Adds (or replaces) the record (kind, key) in the batch being built.
    /// Errors: `too_large` (key over 65,535 bytes or value over max_value_bytes; nothing
    /// changed), `unusable`, or the `io_error` of writing out a batch grown past
    /// max_batch_bytes.
    durable_status put(std::uint8_t kind, durable_bytes key, durable_bytes value);

    /// @brief Removes the record (kind, key) in the batch being built; a key that is not live
    /// costs nothing. Errors as for put().
    durable_status erase(std::uint8_t kind, durable_bytes key);

    /// @brief Writes the batch with one write() (and fdatasync when `sync`), then does one
    /// bounded compaction step when one is due or running.
    ///
    /// On `io_error` the file is cut back to its last complete batch and the batch is kept, so
    /// a later commit() retries it; if even that fails the store becomes `unusable`.
    /// Compaction problems never fail a commit: they go to `on_warning`.
    durable_status commit();

    /// @brief Commits the batch being built, then compacts to the end: afterwards the file
    /// holds only the live records. Blocks for the whole compaction (see README.md for times).
    durable_status compact();

    /// @brief One bounded compaction step (`compact_step_bytes`), starting a compaction when
    /// one is due; for turns in which there is nothing to commit. Does nothing while a batch is
    /// being built (compaction must see committed state only) or when nothing is due.
    durable_status compact_step();

    /// @brief The live value of (kind, key), including uncommitted puts; the span is valid
    /// until the next non-const call.
    [[nodiscard]] std::optional<durable_bytes> get(std::uint8_t kind, durable_bytes key) const;

    [[nodiscard]] bool contains(std::uint8_t kind, durable_bytes key) const {
        return get(kind, key).has_value();
    }

    [[nodiscard]] durable_stats stats() const noexcept;
    [[nodiscard]] const std::string& path() const noexcept;

  private:
    struct impl;
    explicit durable_store(std::unique_ptr<impl> p) noexcept;
    std::unique_ptr<impl> impl_;
};

struct durable_opened {
    durable_store store;
    durable_recovery recovery;
};

} // namespace mqttwire::broker
