// kill -9 at random points: a child process commits numbered batches (compacting now and then)
// and reports each batch whose commit() returned; the parent kills it with SIGKILL after a
// random delay, reopens the store and requires (1) every reported batch, (2) exactly the state
// after some whole number of batches (atomic batches, loaded in order).

#include "durable_test_support.hpp"

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <csignal>
#include <random>
#include <thread>

#include <sys/wait.h>
#include <unistd.h>

using namespace mqttwire::broker::test;

namespace {

constexpr std::uint8_t counter_kind = 0;
constexpr std::uint8_t message_kind = 1;
constexpr std::uint8_t retained_kind = 2;

// Batch n of the deterministic workload: the counter (how many batches are applied), a message
// of 10..6000 bytes, the ack of the message of batch n - 5, and every 7th batch a retained
// update. Varied sizes make some writes large enough for a kill to land inside them.
std::vector<op> batch_ops(std::uint64_t n) {
    std::mt19937 rng(static_cast<std::uint32_t>(n * 2654435761U));
    std::vector<op> ops;
    ops.push_back({counter_kind, "count", std::to_string(n + 1)});
    const auto size = 10 + rng() % 6000;
    ops.push_back({message_kind, "m" + std::to_string(n),
                   std::string(size, static_cast<char>('a' + n % 26))});
    if (n >= 5) {
        ops.push_back({message_kind, "m" + std::to_string(n - 5), std::nullopt});
    }
    if (n % 7 == 0) {
        ops.push_back({retained_kind, "r" + std::to_string(n % 50), "v" + std::to_string(n)});
    }
    return ops;
}

record_map state_after(std::uint64_t batches) {
    record_map m;
    for (std::uint64_t n = 0; n < batches; ++n) {
        for (const auto& o : batch_ops(n)) {
            if (o.value) {
                m[{o.kind, o.key}] = *o.value;
            } else {
                m.erase({o.kind, o.key});
            }
        }
    }
    return m;
}

mb::durable_options crash_options() {
    mb::durable_options opt;
    opt.compact_min_dead_bytes = 64 << 10; // compactions every few dozen batches ...
    opt.compact_step_bytes = 8 << 10;      // ... each spread over several commits
    return opt;
}

// The child: commits batches from `first` on, reporting (batch number, compactions so far)
// after each commit returned. Never returns.
[[noreturn]] void child(const std::string& path, std::uint64_t first, int report_fd) {
    auto r = mb::durable_store::open(path, crash_options(), {});
    if (!r) {
        ::_exit(3);
    }
    auto& s = r.value().store;
    for (std::uint64_t n = first; n < first + 1000000; ++n) {
        for (const auto& o : batch_ops(n)) {
            const auto st =
                o.value ? s.put(o.kind, b(o.key), b(*o.value)) : s.erase(o.kind, b(o.key));
            if (!st) {
                ::_exit(4);
            }
        }
        if (!s.commit()) {
            ::_exit(5);
        }
        const auto st = s.stats();
        const std::array<std::uint64_t, 2> report{n, st.compactions * 2 + (st.compacting ? 1 : 0)};
        if (::write(report_fd, report.data(), sizeof report) !=
            static_cast<ssize_t>(sizeof report)) {
            ::_exit(6);
        }
    }
    ::_exit(7);
}

TEST(DurableCrash, KillNineAtRandomPointsLosesNoCommittedBatch) {
    // In memory: kill -9 tests what reached the page cache, which tmpfs shares with every
    // file system; there, compaction's fdatasync is instant, so compactions complete often and
    // kills land in all of their phases.
    temp_dir dir(true);
    const auto path = dir.file("crash.store");
    const auto seed =
        static_cast<std::uint32_t>(std::chrono::steady_clock::now().time_since_epoch().count());
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937 rng(seed);
    std::uint64_t applied = 0; // batches in the store
    std::uint64_t compactions = 0;
    int rounds_with_compaction = 0; // rounds in which a compaction completed
    int rounds_compacting = 0;      // rounds in which one was running at some commit
    for (int round = 0; round < 20; ++round) {
        SCOPED_TRACE("round " + std::to_string(round));
        std::array<int, 2> fds{};
        ASSERT_EQ(::pipe(fds.data()), 0);
        const pid_t pid = ::fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            ::close(fds[0]);
            child(path, applied, fds[1]);
        }
        ::close(fds[1]);
        // 2 to 60 ms: long enough to commit hundreds of batches and to be caught in the middle
        // of a write, a compaction step or a file switch.
        std::this_thread::sleep_for(std::chrono::microseconds(2000 + rng() % 58000));
        ASSERT_EQ(::kill(pid, SIGKILL), 0);
        int status = 0;
        ASSERT_EQ(::waitpid(pid, &status, 0), pid);
        ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
            << "the child stopped by itself with status " << status;
        std::uint64_t reported = applied; // batches whose commit returned
        bool compacted_this_round = false;
        bool compacting_this_round = false;
        std::array<std::uint64_t, 2> report{};
        while (::read(fds[0], report.data(), sizeof report) ==
               static_cast<ssize_t>(sizeof report)) {
            EXPECT_EQ(report[0], reported) << "reports come in order";
            reported = report[0] + 1;
            compacted_this_round = compacted_this_round || report[1] > 1;
            compacting_this_round = compacting_this_round || report[1] % 2 == 1;
            compactions = std::max(compactions, report[1] / 2);
        }
        ::close(fds[0]);
        rounds_with_compaction += compacted_this_round ? 1 : 0;
        rounds_compacting += compacting_this_round ? 1 : 0;

        const auto o = open_store(path, crash_options());
        ASSERT_TRUE(o.store) << o.status.message();
        const auto it = o.loaded.find({counter_kind, "count"});
        const std::uint64_t found = it == o.loaded.end() ? 0 : std::stoull(it->second);
        EXPECT_GE(found, reported) << "a batch whose commit returned was lost";
        // At most the batch being written when the kill came may be there unreported.
        EXPECT_LE(found, reported + 1);
        ASSERT_EQ(o.loaded, state_after(found)) << "not exactly the state after whole batches";
        EXPECT_TRUE(o.recovery.message.empty() || o.recovery.torn_tail) << o.recovery.message;
        applied = found;
    }
    // The test means something only if it ran long enough to commit and compact.
    EXPECT_GT(applied, 200U);
    EXPECT_GT(rounds_with_compaction, 0);
    EXPECT_GT(rounds_compacting, 0);
    RecordProperty("batches", std::to_string(applied));
    RecordProperty("compactions_in_a_round", std::to_string(compactions));
}

} // namespace
