#pragma once
// The parts of mqttwire_store_bench (durable_store_bench.cpp): what is measured and how
// (bench_measures.cpp), the two engines behind one interface, the log and SQLite
// (bench_engines.cpp), and the workloads: QoS 1 fan-in (bench_fanin.cpp) and the retained and
// session data set, its load and its compaction (bench_data_set.cpp).

#include "durable_store.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace mqttwire::broker::bench {

namespace mb = mqttwire::broker;
using clock_type = std::chrono::steady_clock;

// ---- measures (bench_measures.cpp) ------------------------------------------------------------

double seconds_since(clock_type::time_point t);
double process_cpu_s();
double thread_cpu_ms();
std::uint64_t bytes_written_by_process();

struct memory_report {
    std::uint64_t peak_kib = 0; // VmHWM: peak resident set, file-backed pages included
    std::uint64_t anon_kib = 0; // RssAnon now: heap
    std::uint64_t file_kib = 0; // RssFile now: mapped file pages (page cache, reclaimable)
};

memory_report memory();
std::uint64_t file_size_or_zero(const std::string& path);

// ---- engines (bench_engines.cpp) --------------------------------------------------------------

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

[[noreturn]] void die(const std::string& what);

struct log_engine final : engine {
    std::optional<mb::durable_store> store;
    mb::durable_recovery recovery;
    std::uint64_t loaded_bytes = 0;

    log_engine(const std::string& dir, bool sync, bool auto_compact);
    void put(std::uint8_t kind, bytes key, bytes value) override;
    void erase(std::uint8_t kind, bytes key) override;
    void commit() override;
    void compact() override;
    std::uint64_t file_bytes() override;
    std::string describe() override;
};

struct sqlite_engine final : engine {
    sqlite3* db = nullptr;
    sqlite3_stmt* put_stmt = nullptr;
    sqlite3_stmt* erase_stmt = nullptr;
    std::string path;
    bool in_transaction = false;
    std::uint64_t loaded_records = 0;
    std::uint64_t loaded_bytes = 0;

    void exec(const char* sql);

    sqlite_engine(const std::string& dir, const char* synchronous, bool load);
    ~sqlite_engine() override;
    void begin();
    void step(sqlite3_stmt* s);
    void put(std::uint8_t kind, bytes key, bytes value) override;
    void erase(std::uint8_t kind, bytes key) override;
    void commit() override;
    void compact() override;
    std::uint64_t file_bytes() override;
    std::string describe() override;
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

std::unique_ptr<engine> make_engine(const options& o, bool load = false, bool auto_compact = true);

// ---- workloads (bench_fanin.cpp, bench_data_set.cpp) ------------------------------------------

inline bytes as_bytes(const std::string& s) { return mb::as_durable_bytes(s); }

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

fanin_result run_fanin(engine& e, const options& o, std::uint64_t first_id = 0);

int cmd_fanin(const options& o);
int cmd_fill(const options& o);
int cmd_load(const options& o);
int cmd_compact(const options& o);

} // namespace mqttwire::broker::bench
