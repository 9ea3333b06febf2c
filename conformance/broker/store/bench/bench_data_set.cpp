// The data-set workloads of mqttwire_store_bench: zigbee2mqtt-shaped retained messages and
// persistent sessions written (fill), loaded at start-up (load), and overwritten until most of
// the file is dead, then compacted explicitly and incrementally under fan-in load (compact).
#include "bench_data.hpp"
#include "store_bench.hpp"

#include <cinttypes>
#include <cstdio>
#include <string>

namespace mqttwire::broker::bench {

namespace {

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

} // namespace

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

} // namespace mqttwire::broker::bench
