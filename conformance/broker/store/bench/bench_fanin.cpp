// The QoS 1 fan-in workload of mqttwire_store_bench: per message a body and one queue entry per
// subscribed session, erased one turn later when acknowledged; commit latencies for pauses.
#include "store_bench.hpp"

#include <cinttypes>
#include <cstdio>

namespace mqttwire::broker::bench {

namespace {

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

} // namespace

// Runs the QoS 1 fan-in pattern for `messages` messages on `e`, with ids from `first_id`.
fanin_result run_fanin(engine& e, const options& o, std::uint64_t first_id) {
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

} // namespace mqttwire::broker::bench
