// Measurements behind conformance/broker/store/README.md: the durable store's log engine against
// SQLite in WAL mode, on the workloads a persistent MQTT broker has.
//
//   mqttwire_store_bench fanin   --engine E --batch B --fanout N --messages M [--sync] --dir D
//   mqttwire_store_bench fill    --engine E --retained R --sessions S --dir D
//   mqttwire_store_bench load    --engine E --dir D
//   mqttwire_store_bench compact --engine E --dir D
//   mqttwire_store_bench all     --dir D [--quick]    (everything above, each in its own process)
//
// Engines: log (durable_store), sqlite-off, sqlite-normal, sqlite-full (WAL with synchronous
// OFF / NORMAL / FULL). --sync selects the log's fdatasync per commit, or sqlite-full.
//
// QoS 1 fan-in, per message: put the body once (kind 1, 8-byte message id, 140 bytes: topic and
// a 100-byte payload), put one queue entry per subscribed session (kind 2, session and message
// id, 4 bytes: packet id and state); when acknowledged (the next commit: one event-loop turn
// later), erase the N queue entries and the body. One commit per B messages.
//
// Bytes written are wchar from /proc/self/io: everything handed to write()/pwrite() by this
// process, compaction and SQLite checkpoints included.

#include "durable_store.hpp"
#include "bench_data.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

namespace mb = mqttwire::broker;
using clock_type = std::chrono::steady_clock;

namespace {

using mqttwire::broker::bench::retained_topic;

double seconds_since(clock_type::time_point t) {
    return std::chrono::duration<double>(clock_type::now() - t).count();
}

// CPU time of this thread: on a shared machine, wall-clock pauses are mostly time spent
// waiting for a core; CPU time is what the engine itself adds to an event-loop turn.
// CPU time of the whole process (user and system), in seconds.
double process_cpu_s() {
    timespec t{};
    ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

double thread_cpu_ms() {
    timespec t{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_nsec) / 1e6;
}

// ---- /proc ------------------------------------------------------------------------------------

// The number after `name` on its line of a /proc file ("VmHWM:   1234 kB", "wchar: 5678").
std::uint64_t proc_field(const char* file, const char* name) {
    std::ifstream in(file);
    std::string line;
    const std::string prefix(name);
    while (std::getline(in, line)) {
        if (line.compare(0, prefix.size(), prefix) == 0) {
            return std::strtoull(line.c_str() + prefix.size(), nullptr, 10);
        }
    }
    return 0;
}

std::uint64_t bytes_written_by_process() { return proc_field("/proc/self/io", "wchar:"); }

struct memory_report {
    std::uint64_t peak_kib = 0; // VmHWM: peak resident set, file-backed pages included
    std::uint64_t anon_kib = 0; // RssAnon now: heap
    std::uint64_t file_kib = 0; // RssFile now: mapped file pages (page cache, reclaimable)
};

memory_report memory() {
    return {proc_field("/proc/self/status", "VmHWM:"), proc_field("/proc/self/status", "RssAnon:"),
            proc_field("/proc/self/status", "RssFile:")};
}

std::uint64_t file_size_or_zero(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
}

// ---- engines ----------------------------------------------------------------------------------

using bytes = std::span<const std::byte>;

struct engine {
    virtual ~engine() = default;
    virtual void put(std::uint8_t kind, bytes key, bytes value) = 0;
    virtual void erase(std::uint8_t kind, bytes key) = 0;
    virtual void commit() = 0;
    virtual void compact() = 0;
    virtual std::uint64_t file_bytes() = 0;
    virtual std::string describe() = 0;
};

[[noreturn]] void die(const std::string& what) {
    std::fprintf(stderr, "mqttwire_store_bench: %s\n", what.c_str());
    std::exit(2);
}

struct log_engine final : engine {
    std::optional<mb::durable_store> store;
    mb::durable_recovery recovery;
    std::uint64_t loaded_bytes = 0;

    log_engine(const std::string& dir, bool sync, bool auto_compact) {
        mb::durable_options opt;
        opt.sync = sync;
        opt.auto_compact = auto_compact;
        auto r =
            mb::durable_store::open(dir + "/bench.store", opt, [&](const mb::durable_record& rec) {
                loaded_bytes += rec.key.size() + rec.value.size();
            });
        if (!r) {
            die(r.status().message());
        }
        store.emplace(std::move(r.value().store));
        recovery = std::move(r.value().recovery);
    }
    void put(std::uint8_t kind, bytes key, bytes value) override {
        if (auto s = store->put(kind, key, value); !s) {
            die(s.message());
        }
    }
    void erase(std::uint8_t kind, bytes key) override {
        if (auto s = store->erase(kind, key); !s) {
            die(s.message());
        }
    }
    void commit() override {
        if (auto s = store->commit(); !s) {
            die(s.message());
        }
    }
    void compact() override {
        if (auto s = store->compact(); !s) {
            die(s.message());
        }
    }
    std::uint64_t file_bytes() override { return store->stats().file_bytes; }
    std::string describe() override {
        const auto st = store->stats();
        char buf[256];
        std::snprintf(buf, sizeof buf,
                      "compactions %" PRIu64
                      ", longest step %.2f ms, last switch %.2f ms, index %.1f MiB",
                      st.compactions, static_cast<double>(st.longest_compaction_step.count()) / 1e6,
                      static_cast<double>(st.last_compaction_switch.count()) / 1e6,
                      static_cast<double>(st.index_bytes) / 1048576.0);
        return buf;
    }
};

struct sqlite_engine final : engine {
    sqlite3* db = nullptr;
    sqlite3_stmt* put_stmt = nullptr;
    sqlite3_stmt* erase_stmt = nullptr;
    std::string path;
    bool in_transaction = false;
    std::uint64_t loaded_records = 0;
    std::uint64_t loaded_bytes = 0;

    void exec(const char* sql) {
        char* err = nullptr;
        if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
            die(std::string(sql) + ": " + (err != nullptr ? err : "?"));
        }
    }

    sqlite_engine(const std::string& dir, const char* synchronous, bool load)
        : path(dir + "/bench.sqlite") {
        if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                            nullptr) != SQLITE_OK) {
            die("sqlite3_open_v2 " + path);
        }
        exec("PRAGMA journal_mode=WAL");
        exec((std::string("PRAGMA synchronous=") + synchronous).c_str());
        exec("CREATE TABLE IF NOT EXISTS records(kind INTEGER NOT NULL, key BLOB NOT NULL, "
             "value BLOB NOT NULL, PRIMARY KEY(kind, key)) WITHOUT ROWID");
        if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO records VALUES(?1, ?2, ?3)", -1,
                               &put_stmt, nullptr) != SQLITE_OK ||
            sqlite3_prepare_v2(db, "DELETE FROM records WHERE kind = ?1 AND key = ?2", -1,
                               &erase_stmt, nullptr) != SQLITE_OK) {
            die(std::string("prepare: ") + sqlite3_errmsg(db));
        }
        if (load) {
            sqlite3_stmt* q = nullptr;
            sqlite3_prepare_v2(db, "SELECT kind, key, value FROM records", -1, &q, nullptr);
            while (sqlite3_step(q) == SQLITE_ROW) {
                ++loaded_records;
                loaded_bytes += static_cast<std::uint64_t>(sqlite3_column_bytes(q, 1)) +
                                static_cast<std::uint64_t>(sqlite3_column_bytes(q, 2));
            }
            sqlite3_finalize(q);
        }
    }
    ~sqlite_engine() override {
        sqlite3_finalize(put_stmt);
        sqlite3_finalize(erase_stmt);
        sqlite3_close(db);
    }
    void begin() {
        if (!in_transaction) {
            exec("BEGIN");
            in_transaction = true;
        }
    }
    void step(sqlite3_stmt* s) {
        if (sqlite3_step(s) != SQLITE_DONE) {
            die(std::string("step: ") + sqlite3_errmsg(db));
        }
        sqlite3_reset(s);
    }
    void put(std::uint8_t kind, bytes key, bytes value) override {
        begin();
        sqlite3_bind_int(put_stmt, 1, kind);
        sqlite3_bind_blob(put_stmt, 2, key.data(), static_cast<int>(key.size()), SQLITE_STATIC);
        sqlite3_bind_blob(put_stmt, 3, value.data(), static_cast<int>(value.size()), SQLITE_STATIC);
        step(put_stmt);
    }
    void erase(std::uint8_t kind, bytes key) override {
        begin();
        sqlite3_bind_int(erase_stmt, 1, kind);
        sqlite3_bind_blob(erase_stmt, 2, key.data(), static_cast<int>(key.size()), SQLITE_STATIC);
        step(erase_stmt);
    }
    void commit() override {
        if (in_transaction) {
            exec("COMMIT");
            in_transaction = false;
        }
    }
    void compact() override {
        commit();
        exec("VACUUM");
        exec("PRAGMA wal_checkpoint(TRUNCATE)");
    }
    std::uint64_t file_bytes() override {
        return file_size_or_zero(path) + file_size_or_zero(path + "-wal");
    }
    std::string describe() override { return "WAL, default page cache"; }
};

struct options {
    std::string command;
    std::string engine = "log";
    std::string dir;
    std::uint64_t batch = 16;
    std::uint64_t fanout = 1;
    std::uint64_t messages = 200000;
    std::uint64_t retained = 1000000;
    std::uint64_t sessions = 100000;
    bool sync = false;
    bool quick = false;
};

std::unique_ptr<engine> make_engine(const options& o, bool load = false, bool auto_compact = true) {
    if (o.engine == "log") {
        return std::make_unique<log_engine>(o.dir, o.sync, auto_compact);
    }
    if (o.engine == "sqlite-off") {
        return std::make_unique<sqlite_engine>(o.dir, "OFF", load);
    }
    if (o.engine == "sqlite-normal") {
        return std::make_unique<sqlite_engine>(o.dir, o.sync ? "FULL" : "NORMAL", load);
    }
    if (o.engine == "sqlite-full") {
        return std::make_unique<sqlite_engine>(o.dir, "FULL", load);
    }
    die("unknown engine " + o.engine);
}

// ---- workloads ---------------------------------------------------------------------------------

std::array<std::byte, 8> be64(std::uint64_t v) {
    std::array<std::byte, 8> a{};
    for (int i = 7; i >= 0; --i) {
        a[static_cast<std::size_t>(i)] = static_cast<std::byte>(v & 0xFF);
        v >>= 8;
    }
    return a;
}

std::array<std::byte, 12> queue_key(std::uint32_t session, std::uint64_t message) {
    std::array<std::byte, 12> k{};
    for (std::size_t i = 0; i < 4; ++i) {
        k[i] = static_cast<std::byte>((session >> (24 - 8 * i)) & 0xFF);
    }
    const auto m = be64(message);
    std::copy(m.begin(), m.end(), k.begin() + 4);
    return k;
}

bytes as_bytes(const std::string& s) { return mb::as_durable_bytes(s); }

// Latencies of commits, for pauses.
struct latency {
    std::vector<double> ms;
    void add(double v) { ms.push_back(v); }
    double max() const { return ms.empty() ? 0 : *std::max_element(ms.begin(), ms.end()); }
    double quantile(double q) {
        if (ms.empty()) {
            return 0;
        }
        auto v = ms;
        const auto k = static_cast<std::size_t>(q * static_cast<double>(v.size() - 1));
        std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
        return v[k];
    }
};

struct fanin_result {
    double seconds = 0;
    double cpu_seconds = 0; // process CPU time (user and system)
    std::uint64_t records = 0;
    std::uint64_t wchar = 0;
    latency commits;     // wall clock
    latency commits_cpu; // thread CPU time
};

// Runs the QoS 1 fan-in pattern for `messages` messages on `e`, with ids from `first_id`.
fanin_result run_fanin(engine& e, const options& o, std::uint64_t first_id = 0) {
    const std::string body = "zigbee2mqtt/0x00124b0022ab3c4d/set" + std::string(106, 'p');
    const std::array<std::byte, 4> entry{std::byte{0}, std::byte{1}, std::byte{1}, std::byte{0}};
    fanin_result r;
    const auto w0 = bytes_written_by_process();
    const auto t0 = clock_type::now();
    const double cpu0 = process_cpu_s();
    std::uint64_t unacked_from = first_id;
    const std::uint64_t end = first_id + o.messages;
    for (std::uint64_t next = first_id; next < end || unacked_from < end;) {
        // Acknowledgements of the previous turn's messages.
        const std::uint64_t acked_to = next;
        for (std::uint64_t m = unacked_from; m < acked_to; ++m) {
            for (std::uint32_t s = 0; s < o.fanout; ++s) {
                e.erase(2, queue_key(s, m));
            }
            e.erase(1, be64(m));
            r.records += o.fanout + 1;
        }
        unacked_from = acked_to;
        // This turn's new messages.
        const std::uint64_t batch_end = std::min(end, next + o.batch);
        for (; next < batch_end; ++next) {
            e.put(1, be64(next), as_bytes(body));
            for (std::uint32_t s = 0; s < o.fanout; ++s) {
                e.put(2, queue_key(s, next), entry);
            }
            r.records += o.fanout + 1;
        }
        const auto c0 = clock_type::now();
        const double commit_cpu0 = thread_cpu_ms();
        e.commit();
        r.commits_cpu.add(thread_cpu_ms() - commit_cpu0);
        r.commits.add(seconds_since(c0) * 1e3);
    }
    r.seconds = seconds_since(t0);
    r.cpu_seconds = process_cpu_s() - cpu0;
    r.wchar = bytes_written_by_process() - w0;
    return r;
}

int cmd_fanin(const options& o) {
    auto e = make_engine(o);
    const auto r = run_fanin(*e, o);
    auto commits = r.commits;
    auto commits_cpu = r.commits_cpu;
    std::printf("fanin engine=%s sync=%d batch=%" PRIu64 " fanout=%" PRIu64 " messages=%" PRIu64
                ": %.0f msg/s, CPU %.2f us/msg, %.0f records/s, %.0f bytes written/msg, commit "
                "wall p50 %.3f ms p99 %.3f ms max %.2f ms, CPU p99 %.3f ms max %.2f ms, file "
                "%.1f MiB at the end (%s)\n",
                o.engine.c_str(), o.sync ? 1 : 0, o.batch, o.fanout, o.messages,
                static_cast<double>(o.messages) / r.seconds,
                r.cpu_seconds * 1e6 / static_cast<double>(o.messages),
                static_cast<double>(r.records) / r.seconds,
                static_cast<double>(r.wchar) / static_cast<double>(o.messages),
                commits.quantile(0.5), commits.quantile(0.99), commits.max(),
                commits_cpu.quantile(0.99), commits_cpu.max(),
                static_cast<double>(e->file_bytes()) / 1048576.0, e->describe().c_str());
    return 0;
}


std::string retained_value(std::uint64_t i, char version) {
    std::string v = "{\"battery\":97,\"humidity\":48.2,\"linkquality\":120,\"temperature\":21.4,"
                    "\"voltage\":3000,\"n\":" +
                    std::to_string(i);
    v.resize(99, ' ');
    v += version;
    return v;
}

std::string session_id(std::uint64_t i) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "paho%016" PRIx64,
                  static_cast<std::uint64_t>(i * 0x9E3779B97F4A7C15ULL));
    return buf;
}

std::string session_value(std::uint64_t i) {
    // Expiry, flags and three subscriptions, as the broker would serialise them.
    return "expiry=86400;clean=0;subs=zigbee2mqtt/0x00124b00" + std::to_string(i % 100000) +
           "/set:1,homeassistant/status:1,home/room" + std::to_string(i % 64) + "/+/cmd:1";
}

// Writes the data set; the longest single put in ms (the index doubles as it grows).
double write_data_set(engine& e, const options& o, char version, std::uint64_t& records) {
    double longest_put = 0;
    for (std::uint64_t i = 0; i < o.retained; ++i) {
        const auto topic = retained_topic(i);
        const auto value = retained_value(i, version);
        const auto t0 = clock_type::now();
        e.put(3, as_bytes(topic), as_bytes(value));
        longest_put = std::max(longest_put, seconds_since(t0) * 1e3);
        ++records;
        if (i % 1000 == 999) {
            e.commit();
        }
    }
    if (version == 'a') {
        for (std::uint64_t i = 0; i < o.sessions; ++i) {
            e.put(4, as_bytes(session_id(i)), as_bytes(session_value(i)));
            ++records;
            if (i % 1000 == 999) {
                e.commit();
            }
        }
    }
    e.commit();
    return longest_put;
}

int cmd_fill(const options& o) {
    const auto t0 = clock_type::now();
    const double cpu0 = process_cpu_s();
    auto e = make_engine(o);
    std::uint64_t records = 0;
    const double longest_put = write_data_set(*e, o, 'a', records);
    const double s = seconds_since(t0);
    const double cpu = process_cpu_s() - cpu0;
    const auto m = memory();
    std::printf("fill engine=%s: %" PRIu64 " records in %.2f s (CPU %.2f s, %.0f records/s), "
                "longest put %.1f ms, file %.1f MiB, peak RSS %.1f MiB\n",
                o.engine.c_str(), records, s, cpu, static_cast<double>(records) / s, longest_put,
                static_cast<double>(e->file_bytes()) / 1048576.0,
                static_cast<double>(m.peak_kib) / 1024.0);
    return 0;
}

int cmd_load(const options& o) {
    const auto before = memory();
    const auto t0 = clock_type::now();
    const double cpu0 = process_cpu_s();
    auto e = make_engine(o, true);
    const double s = seconds_since(t0);
    const double cpu = process_cpu_s() - cpu0;
    const auto m = memory();
    std::uint64_t records = 0;
    std::uint64_t payload = 0;
    std::string extra;
    if (auto* l = dynamic_cast<log_engine*>(e.get())) {
        records = l->recovery.records_loaded;
        payload = l->loaded_bytes;
        char buf[96];
        std::snprintf(buf, sizeof buf, ", index %.1f MiB",
                      static_cast<double>(l->store->stats().index_bytes) / 1048576.0);
        extra = buf;
    } else if (auto* q = dynamic_cast<sqlite_engine*>(e.get())) {
        records = q->loaded_records;
        payload = q->loaded_bytes;
    }
    std::printf(
        "load engine=%s: %" PRIu64 " records (%.1f MiB of keys and values) in %.3f s "
        "(CPU %.3f s), file %.1f MiB; peak RSS %.1f MiB (%.1f MiB before opening), now "
        "anon %.1f MiB file-backed %.1f MiB%s\n",
        o.engine.c_str(), records, static_cast<double>(payload) / 1048576.0, s, cpu,
        static_cast<double>(e->file_bytes()) / 1048576.0, static_cast<double>(m.peak_kib) / 1024.0,
        static_cast<double>(before.peak_kib) / 1024.0, static_cast<double>(m.anon_kib) / 1024.0,
        static_cast<double>(m.file_kib) / 1024.0, extra.c_str());
    return 0;
}

// Overwrites every retained message twice (two thirds of the file dead), then measures an
// explicit compaction; then the same again, with the fan-in workload running while the
// engine compacts incrementally (the log) or checkpoints (SQLite), reporting commit pauses.
int cmd_compact(const options& o) {
    // The log compacts by itself once dead bytes pass its bound; here it must wait to be told.
    auto e = make_engine(o, false, false);
    std::uint64_t records = 0;
    (void)write_data_set(*e, o, 'b', records);
    (void)write_data_set(*e, o, 'c', records);
    const auto before = e->file_bytes();
    const auto t0 = clock_type::now();
    e->compact();
    const double s = seconds_since(t0);
    const auto after = e->file_bytes();
    std::printf("compact engine=%s: explicit, %.1f MiB -> %.1f MiB in %.3f s (blocking)\n",
                o.engine.c_str(), static_cast<double>(before) / 1048576.0,
                static_cast<double>(after) / 1048576.0, s);

    // Baseline commit latency without compaction.
    options f = o;
    f.batch = 16;
    f.fanout = 1;
    f.messages = o.quick ? 20000 : 100000;
    auto base = run_fanin(*e, f, 1ULL << 40);
    if (o.engine == "log") {
        // Dead data again, then reopen with automatic compaction and let commit() compact
        // incrementally under load.
        (void)write_data_set(*e, o, 'd', records);
        (void)write_data_set(*e, o, 'e', records);
        e.reset();
        e = make_engine(o);
        auto* l = dynamic_cast<log_engine*>(e.get());
        const auto compactions = l->store->stats().compactions;
        const auto size0 = e->file_bytes();
        std::uint64_t id = 2ULL << 40;
        fanin_result during;
        std::uint64_t rounds = 0;
        const auto started = clock_type::now();
        while (l->store->stats().compactions == compactions && rounds < 1000) {
            auto r = run_fanin(*e, f, id);
            id += f.messages;
            during.commits.ms.insert(during.commits.ms.end(), r.commits.ms.begin(),
                                     r.commits.ms.end());
            during.commits_cpu.ms.insert(during.commits_cpu.ms.end(), r.commits_cpu.ms.begin(),
                                         r.commits_cpu.ms.end());
            ++rounds;
        }
        std::printf("compact engine=log: incremental under fan-in load (batch 16), %.1f MiB -> "
                    "%.1f MiB over %zu commits in %.1f s; commit wall p50 %.3f ms p99 %.3f ms max "
                    "%.2f ms, CPU p99 %.3f ms max %.2f ms (without compaction: wall p99 %.3f max "
                    "%.2f, CPU p99 %.3f max %.2f); %s\n",
                    static_cast<double>(size0) / 1048576.0,
                    static_cast<double>(e->file_bytes()) / 1048576.0, during.commits.ms.size(),
                    seconds_since(started), during.commits.quantile(0.5),
                    during.commits.quantile(0.99), during.commits.max(),
                    during.commits_cpu.quantile(0.99), during.commits_cpu.max(),
                    base.commits.quantile(0.99), base.commits.max(),
                    base.commits_cpu.quantile(0.99), base.commits_cpu.max(), e->describe().c_str());
    } else {
        std::printf("compact engine=%s: commits under fan-in load (batch 16, WAL auto-checkpoint): "
                    "wall p50 %.3f ms p99 %.3f ms max %.2f ms, CPU p99 %.3f ms max %.2f ms\n",
                    o.engine.c_str(), base.commits.quantile(0.5), base.commits.quantile(0.99),
                    base.commits.max(), base.commits_cpu.quantile(0.99), base.commits_cpu.max());
    }
    return 0;
}

// Runs `args` as a child process of this program: a fresh process per measurement, so that
// peak RSS and the page tables of one do not leak into the next.
int run_child(const std::vector<std::string>& args) {
    std::fflush(stdout);
    const pid_t pid = ::fork();
    if (pid == 0) {
        std::vector<char*> argv;
        for (const auto& a : args) {
            argv.push_back(const_cast<char*>(a.c_str()));
        }
        argv.push_back(nullptr);
        ::execv("/proc/self/exe", argv.data());
        std::_Exit(127);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

void clear_dir(const std::string& dir) {
    for (const char* f : {"/bench.store", "/bench.store.compact", "/bench.sqlite",
                          "/bench.sqlite-wal", "/bench.sqlite-shm"}) {
        (void)::unlink((dir + f).c_str());
    }
}

int cmd_all(const options& o) {
    const std::string self = "mqttwire_store_bench";
    const std::vector<std::string> engines = {"log", "sqlite-off", "sqlite-normal"};
    const std::string n = o.quick ? "20000" : "200000";
    for (const auto& eng : engines) {
        for (const char* batch : {"1", "16", "256"}) {
            for (const char* fanout : {"1", "10"}) {
                clear_dir(o.dir);
                // One commit per message is slow on SQLite: fewer messages there.
                const std::string m = std::string(batch) == "1" ? (o.quick ? "5000" : "50000") : n;
                run_child({self, "fanin", "--engine", eng, "--batch", batch, "--fanout", fanout,
                           "--messages", m, "--dir", o.dir});
            }
        }
    }
    for (const char* eng : {"log", "sqlite-normal"}) {
        for (const char* batch : {"1", "16", "256"}) {
            clear_dir(o.dir);
            run_child({self, "fanin", "--engine", eng, "--sync", "--batch", batch, "--fanout", "1",
                       "--messages", o.quick ? "2000" : "20000", "--dir", o.dir});
        }
    }
    const std::string retained = o.quick ? "100000" : std::to_string(o.retained);
    const std::string sessions = o.quick ? "10000" : std::to_string(o.sessions);
    for (const auto& eng : {std::string("log"), std::string("sqlite-normal")}) {
        clear_dir(o.dir);
        run_child({self, "fill", "--engine", eng, "--retained", retained, "--sessions", sessions,
                   "--dir", o.dir});
        run_child({self, "load", "--engine", eng, "--dir", o.dir});
        std::vector<std::string> args = {self,     "compact",    "--engine", eng,     "--retained",
                                         retained, "--sessions", sessions,   "--dir", o.dir};
        if (o.quick) {
            args.emplace_back("--quick");
        }
        run_child(args);
    }
    clear_dir(o.dir);
    return 0;
}

options parse(int argc, char** argv) {
    options o;
    if (argc < 2) {
        die("usage: mqttwire_store_bench fanin|fill|load|compact|all [--engine E] [--batch B] "
            "[--fanout N] [--messages M] [--retained R] [--sessions S] [--sync] [--quick] --dir D");
    }
    o.command = argv[1];
    for (int i = 2; i < argc; ++i) {
        const std::string a = argv[i];
        const auto value = [&]() -> std::string {
            if (i + 1 >= argc) {
                die(a + " needs a value");
            }
            return argv[++i];
        };
        if (a == "--engine") {
            o.engine = value();
        } else if (a == "--dir") {
            o.dir = value();
        } else if (a == "--batch") {
            o.batch = std::stoull(value());
        } else if (a == "--fanout") {
            o.fanout = std::stoull(value());
        } else if (a == "--messages") {
            o.messages = std::stoull(value());
        } else if (a == "--retained") {
            o.retained = std::stoull(value());
        } else if (a == "--sessions") {
            o.sessions = std::stoull(value());
        } else if (a == "--sync") {
            o.sync = true;
        } else if (a == "--quick") {
            o.quick = true;
        } else {
            die("unknown option " + a);
        }
    }
    if (o.dir.empty()) {
        die("--dir DIR is required (a directory on the disk to measure)");
    }
    return o;
}

} // namespace

int main(int argc, char** argv) {
    const auto o = parse(argc, argv);
    if (o.command == "fanin") {
        return cmd_fanin(o);
    }
    if (o.command == "fill") {
        return cmd_fill(o);
    }
    if (o.command == "load") {
        return cmd_load(o);
    }
    if (o.command == "compact") {
        return cmd_compact(o);
    }
    if (o.command == "all") {
        return cmd_all(o);
    }
    die("unknown command " + o.command);
}
