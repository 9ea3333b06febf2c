// The durable store's API: round trips, reopen, batches, limits, compaction, refusals.
// No MQTT normative statement binds a broker's storage; these tests follow the contract in
// durable_store.hpp and the file format in durable_format.hpp.

#include "durable_format.hpp"
#include "durable_test_support.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <random>
#include <string>
#include <sys/resource.h>
#include <sys/stat.h>

using namespace mqttwire::broker::test;
namespace fmt = mqttwire::broker::detail::durable_format;

namespace {

TEST(DurableStore, CreatesAnEmptyStoreWithOnlyAHeader) {
    temp_dir dir;
    const auto path = dir.file("s.store");
    auto o = open_store(path);
    ASSERT_TRUE(o.store) << o.status.message();
    EXPECT_TRUE(o.recovery.created);
    EXPECT_TRUE(o.loaded.empty());
    EXPECT_TRUE(o.recovery.message.empty());
    const auto bytes = read_file(path);
    ASSERT_EQ(bytes.size(), fmt::header_size);
    const auto header = fmt::make_header();
    EXPECT_EQ(bytes, std::string(reinterpret_cast<const char*>(header.data()), header.size()));
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600U) << "stores hold private messages";
}

TEST(DurableStore, CommittedRecordsComeBackAfterReopen) {
    temp_dir dir;
    const auto path = dir.file("s.store");
    {
        auto o = open_store(path);
        ASSERT_TRUE(o.store);
        auto& s = *o.store;
        ASSERT_TRUE(s.put(retained, b("salon/luz/stat"), b("ON")));
        ASSERT_TRUE(s.put(session, b("pc"), b("subs: pc/cmd")));
        ASSERT_TRUE(s.put(retained, b("cocina/luz/stat"), b("OFF")));
        ASSERT_TRUE(s.commit());
    }
    auto o = open_store(path);
    ASSERT_TRUE(o.store) << o.status.message();
    const record_map want{{{retained, "salon/luz/stat"}, "ON"},
                          {{session, "pc"}, "subs: pc/cmd"},
                          {{retained, "cocina/luz/stat"}, "OFF"}};
    EXPECT_EQ(o.loaded, want);
    EXPECT_EQ(o.recovery.records_loaded, 3U);
    EXPECT_EQ(o.recovery.batches_loaded, 1U);
    EXPECT_TRUE(o.recovery.message.empty());
    expect_same(*o.store, want);
}

TEST(DurableStore, TheSameKeyInAnotherKindIsAnotherRecord) {
    temp_dir dir;
    auto o = open_store(dir.file("s.store"));
    auto& s = *o.store;
    ASSERT_TRUE(s.put(retained, b("x"), b("1")));
    ASSERT_TRUE(s.put(session, b("x"), b("2")));
    ASSERT_TRUE(s.erase(retained, b("x")));
    EXPECT_FALSE(s.contains(retained, b("x")));
    ASSERT_TRUE(s.get(session, b("x")));
    EXPECT_EQ(str(*s.get(session, b("x"))), "2");
}

TEST(DurableStore, UncommittedWorkIsVisibleButNotDurable) {
    temp_dir dir;
    const auto path = dir.file("s.store");
    {
        auto o = open_store(path);
        auto& s = *o.store;
        ASSERT_TRUE(s.put(retained, b("a"), b("kept")));
        ASSERT_TRUE(s.commit());
        ASSERT_TRUE(s.put(retained, b("b"), b("never committed")));
        EXPECT_EQ(str(*s.get(retained, b("b"))), "never committed");
        EXPECT_GT(s.stats().pending_bytes, 0U);
    } // destroyed without commit(): like a crash before the end of the turn
    auto o = open_store(path);
    EXPECT_EQ(o.loaded, (record_map{{{retained, "a"}, "kept"}}));
}

TEST(DurableStore, OverwriteKeepsTheLatestValueAndCountsTheOldOneDead) {
    temp_dir dir;
    const auto path = dir.file("s.store");
    {
        auto o = open_store(path);
        auto& s = *o.store;
        ASSERT_TRUE(s.put(retained, b("t"), b("one")));
        ASSERT_TRUE(s.commit());
        ASSERT_TRUE(s.put(retained, b("t"), b("three")));
        ASSERT_TRUE(s.commit());
        const auto st = s.stats();
        EXPECT_EQ(st.live_records, 1U);
        EXPECT_EQ(st.live_bytes, fmt::record_header_size + 1 + 5);
        // Two batch headers and the first version are dead.
        EXPECT_EQ(st.dead_bytes, 2 * fmt::batch_header_size + fmt::record_header_size + 1 + 3);
        EXPECT_EQ(st.file_bytes, fmt::header_size + st.live_bytes + st.dead_bytes);
    }
    EXPECT_EQ(open_store(path).loaded, (record_map{{{retained, "t"}, "three"}}));
}

TEST(DurableStore, EraseOfAnAbsentKeyWritesNothing) {
    temp_dir dir;
    auto o = open_store(dir.file("s.store"));
    auto& s = *o.store;
    ASSERT_TRUE(s.erase(retained, b("never/put")));
    EXPECT_EQ(s.stats().pending_bytes, 0U);
    ASSERT_TRUE(s.commit());
    EXPECT_EQ(s.stats().batches_written, 0U);
    EXPECT_EQ(s.stats().file_bytes, fmt::header_size);
}

TEST(DurableStore, PutThenEraseInOneBatchLeavesNothingAfterReopen) {
    temp_dir dir;
    const auto path = dir.file("s.store");
    {
        auto o = open_store(path);
        auto& s = *o.store;
        ASSERT_TRUE(s.put(retained, b("k"), b("v")));
        ASSERT_TRUE(s.erase(retained, b("k")));
        EXPECT_FALSE(s.contains(retained, b("k")));
        ASSERT_TRUE(s.commit());
    }
    EXPECT_TRUE(open_store(path).loaded.empty());
}

TEST(DurableStore, OneCommitIsOneBatchWrittenWithOneWrite) {
    temp_dir dir;
    const auto path = dir.file("s.store");
    auto o = open_store(path);
    auto& s = *o.store;
    for (int i = 0; i < 100; ++i) {
        ASSERT_TRUE(s.put(retained, b("t/" + std::to_string(i)), b("v")));
    }
    ASSERT_TRUE(s.commit());
    EXPECT_EQ(s.stats().batches_written, 1U);
    const auto bytes = read_file(path);
    const auto span = mb::as_durable_bytes(bytes);
    EXPECT_EQ(fmt::load_u32(span, fmt::header_size + 8), 100U) << "record count of the batch";
    EXPECT_EQ(fmt::header_size + fmt::batch_header_size + fmt::load_u32(span, fmt::header_size + 4),
              bytes.size());
}

TEST(DurableStore, EmptyKeysAndEmptyValuesAreRecordsLikeAnyOther) {
    temp_dir dir;
    const auto path = dir.file("s.store");
    {
        auto o = open_store(path);
        ASSERT_TRUE(o.store->put(retained, b(""), b("empty key")));
        ASSERT_TRUE(o.store->put(session, b("empty value"), b("")));
        ASSERT_TRUE(o.store->commit());
    }
    EXPECT_EQ(open_store(path).loaded,
              (record_map{{{retained, ""}, "empty key"}, {{session, "empty value"}, ""}}));
}

TEST(DurableStore, ManyBatchesOfRandomWorkMatchAModelAcrossReopens) {
    temp_dir dir;
    const auto path = dir.file("s.store");
    std::mt19937 rng(1234);
    record_map model;
    for (int round = 0; round < 4; ++round) {
        auto o = open_store(path);
        ASSERT_TRUE(o.store) << o.status.message();
        ASSERT_EQ(o.loaded, model) << "round " << round;
        auto& s = *o.store;
        for (int batch = 0; batch < 250; ++batch) {
            std::vector<op> ops;
            const int n = 1 + static_cast<int>(rng() % 20);
            for (int i = 0; i < n; ++i) {
                const auto kind = static_cast<std::uint8_t>(rng() % 3);
                std::string key = "k" + std::to_string(rng() % 300);
                if (rng() % 3 == 0) {
                    ops.push_back({kind, key, std::nullopt});
                } else {
                    ops.push_back({kind, key, std::string(rng() % 64, 'a' + char(rng() % 26))});
                }
            }
            apply(s, model, ops);
            ASSERT_TRUE(s.commit());
        }
        expect_same(s, model);
    }
}

TEST(DurableStore, LoadOrderIsTheOrderInWhichCurrentVersionsWereWritten) {
    temp_dir dir;
    const auto path = dir.file("s.store");
    {
        auto o = open_store(path);
        auto& s = *o.store;
        ASSERT_TRUE(s.put(session, b("c1"), b("v1")));
        ASSERT_TRUE(s.put(retained, b("m1"), b("x")));
        ASSERT_TRUE(s.commit());
        ASSERT_TRUE(s.put(retained, b("m2"), b("y")));
        ASSERT_TRUE(s.put(session, b("c1"), b("v2"))); // moves c1 after m2
        ASSERT_TRUE(s.commit());
    }
    const auto o = open_store(path);
    const std::vector<record_key> want{{retained, "m1"}, {retained, "m2"}, {session, "c1"}};
    EXPECT_EQ(o.order, want);
}

TEST(DurableStore, KeysAreLimitedTo65535Bytes) {
    temp_dir dir;
    auto o = open_store(dir.file("s.store"));
    auto& s = *o.store;
    const std::string longest(65535, 'k');
    const std::string too_long(65536, 'k');
    EXPECT_TRUE(s.put(retained, b(longest), b("v")));
    const auto st = s.put(retained, b(too_long), b("v"));
    EXPECT_EQ(st.code(), mb::durable_errc::too_large);
    EXPECT_NE(st.message().find("65536"), std::string::npos) << st.message();
    EXPECT_EQ(s.erase(retained, b(too_long)).code(), mb::durable_errc::too_large);
    EXPECT_FALSE(s.contains(retained, b(too_long)));
    EXPECT_EQ(s.stats().live_records, 1U) << "the refused put changed nothing";
}

TEST(DurableStore, ValuesAreLimitedByMaxValueBytes) {
    temp_dir dir;
    mb::durable_options opt;
    opt.max_value_bytes = 1000;
    auto o = open_store(dir.file("s.store"), opt);
    auto& s = *o.store;
    EXPECT_TRUE(s.put(retained, b("a"), b(std::string(1000, 'v'))));
    const auto before = s.stats().pending_bytes;
    EXPECT_EQ(s.put(retained, b("b"), b(std::string(1001, 'v'))).code(),
              mb::durable_errc::too_large);
    EXPECT_EQ(s.stats().pending_bytes, before);
}

TEST(DurableStore, OptionsOutOfRangeAreRefused) {
    temp_dir dir;
    mb::durable_options opt;
    opt.max_batch_bytes = std::size_t{1} << 33;
    auto o = open_store(dir.file("s.store"), opt);
    EXPECT_FALSE(o.store);
    EXPECT_EQ(o.status.code(), mb::durable_errc::invalid_argument);
    opt = {};
    opt.max_value_bytes = 0xFFFFFFFFU;
    EXPECT_EQ(open_store(dir.file("s.store"), opt).status.code(),
              mb::durable_errc::invalid_argument);
}

TEST(DurableStore, ABatchPastMaxBatchBytesIsWrittenInPartsAndAllOfItSurvives) {
    temp_dir dir;
    const auto path = dir.file("s.store");
    mb::durable_options opt;
    opt.max_batch_bytes = 4096;
    record_map model;
    {
        auto o = open_store(path, opt);
        auto& s = *o.store;
        for (int i = 0; i < 200; ++i) {
            const std::string key = "k" + std::to_string(i);
            ASSERT_TRUE(s.put(retained, b(key), b(std::string(100, 'x'))));
            model[{retained, key}] = std::string(100, 'x');
            // Never more than one part in memory.
            EXPECT_LE(s.stats().pending_bytes, opt.max_batch_bytes);
        }
        EXPECT_GT(s.stats().batches_written, 1U) << "the batch was written in parts";
        ASSERT_TRUE(s.commit());
    }
    EXPECT_EQ(open_store(path, opt).loaded, model);
}

TEST(DurableStore, ASingleRecordLargerThanMaxBatchBytesIsItsOwnBatch) {
    temp_dir dir;
    const auto path = dir.file("s.store");
    mb::durable_options opt;
    opt.max_batch_bytes = 64;
    {
        auto o = open_store(path, opt);
        ASSERT_TRUE(o.store->put(retained, b("small"), b("1")));
        ASSERT_TRUE(o.store->put(retained, b("big"), b(std::string(10000, 'B'))));
        ASSERT_TRUE(o.store->commit());
    }
    const auto o = open_store(path, opt);
    EXPECT_EQ(o.loaded.size(), 2U);
    EXPECT_EQ(o.loaded.at({retained, "big"}).size(), 10000U);
}

TEST(DurableStore, TheBatchBufferShrinksAfterASpike) {
    temp_dir dir;
    auto o = open_store(dir.file("s.store"));
    auto& s = *o.store;
    ASSERT_TRUE(s.put(retained, b("spike"), b(std::string(8 << 20, 's'))));
    ASSERT_TRUE(s.commit());
    // Memory after the spike: the process's heap is not observable portably, so the proxy is
    // the engine's own accounting, and a small batch afterwards works.
    EXPECT_EQ(s.stats().pending_bytes, 0U);
    ASSERT_TRUE(s.put(retained, b("small"), b("v")));
    ASSERT_TRUE(s.commit());
}

TEST(DurableStore, SyncOptionFlushesEachCommitToDisk) {
    temp_dir dir;
    mb::durable_options opt;
    opt.sync = true;
    auto o = open_store(dir.file("s.store"), opt);
    auto& s = *o.store;
    ASSERT_TRUE(s.put(retained, b("a"), b("1")));
    ASSERT_TRUE(s.commit());
    ASSERT_TRUE(s.commit()); // nothing pending: nothing to flush
    ASSERT_TRUE(s.put(retained, b("b"), b("2")));
    ASSERT_TRUE(s.commit());
    EXPECT_EQ(s.stats().syncs, 2U);

    auto plain = open_store(dir.file("t.store"));
    ASSERT_TRUE(plain.store->put(retained, b("a"), b("1")));
    ASSERT_TRUE(plain.store->commit());
    EXPECT_EQ(plain.store->stats().syncs, 0U);
}

TEST(DurableStore, ASecondOpenOfTheSameStoreIsRefusedWhileTheFirstIsOpen) {
    temp_dir dir;
    const auto path = dir.file("s.store");
    auto first = open_store(path);
    ASSERT_TRUE(first.store);
    const auto second = open_store(path);
    EXPECT_FALSE(second.store);
    EXPECT_EQ(second.status.code(), mb::durable_errc::in_use);
    EXPECT_NE(second.status.message().find("in use"), std::string::npos);
    first.store.reset();
    EXPECT_TRUE(open_store(path).store) << "the lock goes with the store";
}

TEST(DurableStore, AMissingDirectoryIsAnIoErrorNamingThePath) {
    const auto o = open_store("/nonexistent-dir-for-mqttwire/s.store");
    EXPECT_FALSE(o.store);
    EXPECT_EQ(o.status.code(), mb::durable_errc::io_error);
    EXPECT_NE(o.status.message().find("/nonexistent-dir-for-mqttwire/s.store"), std::string::npos)
        << o.status.message();
}

// ---- compaction -------------------------------------------------------------------------------

TEST(DurableCompaction, ExplicitCompactionKeepsExactlyTheLiveSetAndShrinksTheFile) {
    temp_dir dir;
    const auto path = dir.file("s.store");
    mb::durable_options opt;
    opt.auto_compact = false;
    record_map model;
    {
        auto o = open_store(path, opt);
        auto& s = *o.store;
        for (int round = 0; round < 10; ++round) {
            for (int i = 0; i < 100; ++i) {
                const std::string key = "t/" + std::to_string(i);
                const std::string value = std::to_string(round) + std::string(50, 'v');
                ASSERT_TRUE(s.put(retained, b(key), b(value)));
                model[{retained, key}] = value;
            }
            ASSERT_TRUE(s.commit());
        }
        for (int i = 0; i < 100; i += 2) {
            const std::string key = "t/" + std::to_string(i);
            ASSERT_TRUE(s.erase(retained, b(key)));
            model.erase({retained, key});
        }
        ASSERT_TRUE(s.commit());
        const auto before = s.stats();
        ASSERT_TRUE(s.compact());
        const auto after = s.stats();
        EXPECT_EQ(after.compactions, 1U);
        EXPECT_FALSE(after.compacting);
        EXPECT_LT(after.file_bytes, before.file_bytes / 10);
        // Only the live records and one batch header remain.
        EXPECT_EQ(after.file_bytes, fmt::header_size + fmt::batch_header_size + after.live_bytes);
        EXPECT_EQ(after.file_bytes, file_size(path));
        expect_same(s, model);
        // The store goes on after the switch.
        ASSERT_TRUE(s.put(session, b("after"), b("compaction")));
        model[{session, "after"}] = "compaction";
        ASSERT_TRUE(s.commit());
        expect_same(s, model);
    }
    EXPECT_FALSE(::access((path + ".compact").c_str(), F_OK) == 0) << "no leftover file";
    EXPECT_EQ(open_store(path).loaded, model);
}

TEST(DurableCompaction, StartsByItselfWhenDeadBytesPassBothBounds) {
    temp_dir dir(true); // instant fdatasync: compactions complete within the loop
    mb::durable_options opt;
    opt.compact_min_dead_bytes = 10000;
    opt.compact_dead_percent = 100;
    auto o = open_store(dir.file("s.store"), opt);
    auto& s = *o.store;
    record_map model;
    std::uint64_t most_dead = 0;
    // At least 2,000 commits, and on until three compactions have completed: a compaction runs
    // in the background, so on a busy machine fewer of them finish within a fixed count.
    for (int i = 0; i < 2000 || (i < 40000 && s.stats().compactions < 3); ++i) {
        const std::string key = "q/" + std::to_string(i % 50);
        apply(s, model, {{retained, key, std::string(40, 'q')}});
        ASSERT_TRUE(s.commit());
        most_dead = std::max(most_dead, s.stats().dead_bytes);
    }
    EXPECT_GE(s.stats().compactions, 3U);
    // Dead bytes pass the bound only by what commits write while a compaction runs, mostly
    // during its background fdatasync: a generous multiple of the bound, but a bound.
    EXPECT_LT(most_dead, 20 * opt.compact_min_dead_bytes);
    expect_same(s, model);
    ASSERT_TRUE(s.compact());
    EXPECT_EQ(s.stats().dead_bytes, s.stats().file_bytes - 32 - s.stats().live_bytes);
    EXPECT_LE(s.stats().dead_bytes, 12U) << "one batch header";
}

TEST(DurableCompaction, IncrementalCompactionInterleavesWithWorkAndLosesNothing) {
    temp_dir dir;
    const auto path = dir.file("s.store");
    mb::durable_options opt;
    opt.auto_compact = false;
    opt.compact_step_bytes = 256; // a step is a few records: compaction spans many commits
    opt.compact_min_dead_bytes = 0;
    std::mt19937 rng(99);
    record_map model;
    {
        auto o = open_store(path, opt);
        auto& s = *o.store;
        for (int i = 0; i < 3000; ++i) {
            apply(s, model,
                  {{retained, "k" + std::to_string(rng() % 400), std::string(rng() % 80, 'z')}});
            if (i % 5 == 0) {
                apply(s, model, {{retained, "k" + std::to_string(rng() % 400), std::nullopt}});
            }
            if (i % 7 == 0) {
                ASSERT_TRUE(s.commit());
            }
        }
        ASSERT_TRUE(s.commit());
        int steps = 0;
        bool saw_compacting = false;
        do {
            ASSERT_TRUE(s.compact_step());
            saw_compacting = saw_compacting || s.stats().compacting;
            // Work continues during compaction: puts, overwrites and erases of keys already
            // copied, not yet copied, and new ones.
            apply(s, model,
                  {{retained, "k" + std::to_string(rng() % 500), std::string(rng() % 80, 'y')}});
            apply(s, model, {{retained, "k" + std::to_string(rng() % 500), std::nullopt}});
            ASSERT_TRUE(s.commit());
            expect_same(s, model);
            ++steps;
        } while (s.stats().compacting && steps < 100000);
        EXPECT_TRUE(saw_compacting);
        EXPECT_GT(steps, 10) << "the step bound was honoured";
        EXPECT_EQ(s.stats().compactions, 1U);
        expect_same(s, model);
    }
    EXPECT_EQ(open_store(path).loaded, model);
}

TEST(DurableCompaction, RepeatedCompactionsAlternateCorrectly) {
    temp_dir dir;
    const auto path = dir.file("s.store");
    mb::durable_options opt;
    opt.auto_compact = false;
    std::mt19937 rng(7);
    record_map model;
    auto o = open_store(path, opt);
    auto& s = *o.store;
    for (int round = 0; round < 12; ++round) {
        for (int i = 0; i < 200; ++i) {
            const std::string key = "k" + std::to_string(rng() % 100);
            if (rng() % 4 == 0) {
                apply(s, model, {{session, key, std::nullopt}});
            } else {
                apply(s, model, {{session, key, std::to_string(round * 1000 + i)}});
            }
        }
        ASSERT_TRUE(s.commit());
        ASSERT_TRUE(s.compact());
        expect_same(s, model);
    }
    o.store.reset();
    EXPECT_EQ(open_store(path).loaded, model);
}

TEST(DurableCompaction, AStaleCompactionFileFromACrashIsRemovedAtOpen) {
    temp_dir dir;
    const auto path = dir.file("s.store");
    {
        auto o = open_store(path);
        ASSERT_TRUE(o.store->put(retained, b("a"), b("1")));
        ASSERT_TRUE(o.store->commit());
    }
    write_file(path + ".compact", "half-written compaction output");
    const auto o = open_store(path);
    ASSERT_TRUE(o.store);
    EXPECT_EQ(o.loaded, (record_map{{{retained, "a"}, "1"}}));
    EXPECT_NE(::access((path + ".compact").c_str(), F_OK), 0);
}

// ---- write failures (RLIMIT_FSIZE makes write() fail with EFBIG past a size) --------------------

struct file_size_limit {
    rlimit saved{};
    void (*saved_handler)(int) = nullptr;
    explicit file_size_limit(rlim_t bytes) {
        saved_handler = std::signal(SIGXFSZ, SIG_IGN);
        ::getrlimit(RLIMIT_FSIZE, &saved);
        rlimit l = saved;
        l.rlim_cur = bytes;
        EXPECT_EQ(::setrlimit(RLIMIT_FSIZE, &l), 0);
    }
    file_size_limit(const file_size_limit&) = delete;
    file_size_limit& operator=(const file_size_limit&) = delete;
    ~file_size_limit() {
        ::setrlimit(RLIMIT_FSIZE, &saved);
        std::signal(SIGXFSZ, saved_handler);
    }
};

TEST(DurableStore, AFailedWriteLeavesTheFileAtItsLastBatchAndTheRetrySucceeds) {
    temp_dir dir;
    const auto path = dir.file("s.store");
    record_map model;
    {
        auto o = open_store(path);
        auto& s = *o.store;
        apply(s, model, {{retained, "before", "ok"}});
        ASSERT_TRUE(s.commit());
        const auto good_size = file_size(path);
        apply(s, model, {{retained, "big", std::string(100000, 'b')}});
        {
            file_size_limit limit(good_size + 1000); // the batch gets cut at 1000 bytes
            const auto st = s.commit();
            EXPECT_EQ(st.code(), mb::durable_errc::io_error);
            EXPECT_NE(st.message().find("write"), std::string::npos) << st.message();
            EXPECT_EQ(file_size(path), good_size) << "the partial batch was cut away";
        }
        ASSERT_TRUE(s.commit()) << "the kept batch is written on retry";
        expect_same(s, model);
    }
    EXPECT_EQ(open_store(path).loaded, model);
}

TEST(DurableCompaction, ACompactionThatRunsOutOfSpaceIsAbandonedAndTheStoreGoesOn) {
    temp_dir dir;
    const auto path = dir.file("s.store");
    mb::durable_options opt;
    opt.auto_compact = false;
    opt.compact_step_bytes = 4096;
    std::vector<std::string> warnings;
    opt.on_warning = [&](std::string_view w) { warnings.emplace_back(w); };
    record_map model;
    {
        auto o = open_store(path, opt);
        auto& s = *o.store;
        for (int i = 0; i < 400; ++i) {
            apply(s, model, {{retained, "k" + std::to_string(i), std::string(200, 'v')}});
        }
        ASSERT_TRUE(s.commit());
        for (int i = 0; i < 400; i += 4) {
            apply(s, model, {{retained, "k" + std::to_string(i), std::nullopt}});
        }
        ASSERT_TRUE(s.commit());
        {
            // The new file cannot reach the live size; the old one is already larger, so no
            // write to it is attempted while the limit holds.
            file_size_limit limit(20000);
            const auto st = s.compact();
            EXPECT_EQ(st.code(), mb::durable_errc::io_error) << st.message();
        }
        EXPECT_EQ(s.stats().compactions_abandoned, 1U);
        EXPECT_FALSE(s.stats().compacting);
        ASSERT_EQ(warnings.size(), 1U);
        EXPECT_NE(warnings[0].find("abandoned"), std::string::npos) << warnings[0];
        EXPECT_NE(::access((path + ".compact").c_str(), F_OK), 0);
        expect_same(s, model);
        apply(s, model, {{session, "still", "works"}});
        ASSERT_TRUE(s.commit());
        ASSERT_TRUE(s.compact()) << "a later compaction succeeds";
        expect_same(s, model);
    }
    EXPECT_EQ(open_store(path).loaded, model);
}

} // namespace
