#pragma once
/// @file
/// @brief The broker's persistent store (`persistence true`): the store interface (store.hpp)
/// on the durable engine (durable_store.hpp), so that retained messages and persistent sessions
/// survive SIGTERM and kill -9.
///
/// Records (kinds are bytes; integers big-endian in keys, so that a key reads in order):
///
/// | kind | key | value |
/// | --- | --- | --- |
/// | `R` retained | topic | message (below) |
/// | `S` session | client identifier | session number (4), the rest of session_record |
/// | `M` message body | message number (8) | message, stored once for every session that holds it |
/// | `Q` queue entry | session number (4) + arrival number (8) | message number, QoS, RETAIN, PUBREL sent, packet identifier, Subscription Identifiers |
/// | `P` QoS 2 received | session number (4) + packet identifier (2) | empty |
///
/// A message is: flags (QoS, RETAIN, whether it expires), its expiry as a wall-clock time in
/// milliseconds since 1970, the topic, the forwarded property block and the payload. Deadlines
/// (message expiry, session expiry, will delay) are stored as wall-clock times, so the time a
/// broker was down counts against them.
///
/// **Ordering.** Every change goes into the engine's batch as it happens; commit() writes the
/// batch with one write() (and fdatasync with `persistence_sync true`). The event loop calls it
/// before it writes any output and at the end of every turn, so no PUBACK, PUBREC or PUBCOMP
/// leaves before the records it answers for reached the operating system.
///
/// **Memory** beyond the engine's index (21 to 43 bytes per record): retained messages stay in
/// memory, as in the in-memory store (they are served from there); per persistent session, its
/// client identifier, number and its stored messages (per queued or in-flight message one hash
/// entry of about 48 bytes: body number, flags, packet identifier; the broker's queue bounds
/// bound them) and its inbound QoS 2 identifiers; per stored message body, one hash entry
/// (about 60 bytes) and a reference to the body the broker's queues already hold. Start-up
/// decodes sessions and bodies one at a time from the file's mapping instead of holding them
/// all.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "store/durable_store.hpp"
#include "store/memory_store.hpp"
#include "store/store.hpp"

namespace mqttwire::broker {

class durable_broker_store final : public store {
  public:
    struct options {
        durable_options engine;
        /// The broker's clock (tests run on simulated time); wall-clock times come from
        /// std::chrono::system_clock.
        std::function<clock::time_point()> now = [] { return clock::now(); };
        /// Lines worth logging (records that could not be decoded, a compaction abandoned).
        log_sink log;
    };

    /// @brief Opens (or creates) the store file at `path` and loads it. Refusals (another
    /// program's file such as mosquitto.db, a newer format, a store in use) come back as the
    /// engine's status; a damaged tail is dropped and reported in recovery().message.
    [[nodiscard]] static durable_result<std::unique_ptr<durable_broker_store>>
    open(const std::string& path, options opts);

    ~durable_broker_store() override;
    durable_broker_store(const durable_broker_store&) = delete;
    durable_broker_store& operator=(const durable_broker_store&) = delete;

    // store
    void retain(const message_ptr& m) override;
    bool forget_retained(std::string_view topic) override;
    void match_retained(std::string_view filter,
                        const std::function<void(const message_ptr&)>& f) const override;
    [[nodiscard]] std::size_t retained_count() const override { return retained_.retained_count(); }
    void session_saved(const session& s) override;
    void session_ended(std::string_view client_id) override;
    void message_added(const session& s, const delivery& d) override;
    void message_sent(const session& s, std::uint64_t seq, std::uint16_t packet_id) override;
    void message_released(const session& s, std::uint64_t seq) override;
    void message_done(const session& s, std::uint64_t seq) override;
    void pubrel_awaited(const session& s, std::uint16_t packet_id, bool awaited) override;
    void restore(restore_sink& sink) override;

    /// @brief Writes what changed since the last commit (nothing to do: a no-op). An error
    /// means the changes are not safe: nothing that depends on them may be acknowledged.
    durable_status commit();
    /// @brief commit(), or for a turn with nothing to commit one bounded compaction step when
    /// one is due (whose failure is logged, not returned).
    durable_status idle();
    [[nodiscard]] bool pending() const noexcept { return pending_; }

    [[nodiscard]] const durable_recovery& recovery() const noexcept { return recovery_; }
    [[nodiscard]] durable_stats engine_stats() const noexcept { return engine_.stats(); }
    /// Records found at start-up that could not be decoded or had lost their owner (erased).
    [[nodiscard]] std::uint64_t discarded_records() const noexcept { return discarded_; }
    [[nodiscard]] std::size_t session_count() const noexcept { return sessions_.size(); }
    [[nodiscard]] std::size_t body_count() const noexcept { return bodies_.size(); }

  private:
    /// A queue entry as written, so that sent and PUBREL sent rewrite it without reading it
    /// back (unless it carries Subscription Identifiers, which are not kept here).
    struct stored_entry {
        std::uint64_t body = 0;
        std::uint16_t packet_id = 0;
        std::uint8_t flags = 0;      ///< as in the record: QoS, RETAIN, PUBREL sent
        bool sub_ids = false;        ///< the record has Subscription Identifiers
    };
    struct session_entry {
        std::uint32_t number = 0;
        std::unordered_map<std::uint64_t, stored_entry> messages; ///< by arrival number
        std::unordered_set<std::uint16_t> pubrels;
    };
    struct body {
        message_ptr msg; ///< null until restore() decodes it (or for a body nobody took)
        std::uint32_t refs = 0;
    };
    class loader;

    durable_broker_store(durable_store engine, options opts);

    session_entry& entry_of(const session& s);
    /// The entry of `s`, or null; remembers the last one (a turn's events mostly concern one
    /// session in a row).
    session_entry* find_entry(const session& s);
    void put(std::uint8_t kind, std::span<const std::byte> key, std::span<const std::byte> value);
    /// Writes the queue entry whose put was held back (see deferred_).
    void flush_deferred();
    void put_entry(const session_entry& e, std::uint64_t seq, const stored_entry& se);
    void erase(std::uint8_t kind, std::span<const std::byte> key);
    void unref(std::uint64_t number);
    void rewrite_entry(const session& s, std::uint64_t seq, std::uint16_t packet_id,
                       bool released);
    void discard(std::uint8_t kind, std::span<const std::byte> key, std::string_view why);

    durable_store engine_;
    options opts_;
    durable_recovery recovery_;
    memory_store retained_;
    std::unordered_map<std::string, session_entry> sessions_;
    std::unordered_map<std::uint64_t, body> bodies_;
    std::unordered_map<const message*, std::uint64_t> body_of_;
    /// The queue entry just added, not yet put: a message that goes out at once is sent in the
    /// same breath (message_added, then message_sent), and its entry is then written once,
    /// with its packet identifier. Any other change writes it first, so the batch keeps the
    /// order of events.
    struct {
        session_entry* entry = nullptr; ///< null: nothing held back
        std::uint64_t seq = 0;
    } deferred_;
    const session* last_session_ = nullptr;
    session_entry* last_entry_ = nullptr;
    std::uint32_t next_session_ = 1;
    std::uint64_t next_body_ = 1;
    bool pending_ = false;
    durable_status failed_; ///< the first put/erase error since the last commit
    std::uint64_t discarded_ = 0;
    std::vector<std::byte> scratch_;
    std::vector<std::byte> entry_scratch_;
};

} // namespace mqttwire::broker
