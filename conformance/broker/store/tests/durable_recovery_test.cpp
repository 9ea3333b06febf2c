// Opening damaged and foreign files: a torn or corrupt tail is cut away and reported, the valid
// prefix loads; a header that is damaged, from a newer format or not ours is refused and the file
// left untouched.

#include "durable_format.hpp"
#include "durable_test_support.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace mqttwire::broker::test;
namespace fmt = mqttwire::broker::detail::durable_format;

namespace {

// A small store written batch by batch, with the file size and live set after each batch.
struct history {
    std::string bytes;                 // the final file
    std::vector<std::uint64_t> ends;   // ends[k]: file size after k batches (ends[0]: header)
    std::vector<record_map> states;    // states[k]: live set after k batches
    std::vector<std::uint32_t> counts; // counts[k]: records in batch k (0-based)
};

history make_history(const temp_dir& dir, const std::vector<std::vector<op>>& batches) {
    history h;
    const auto path = dir.file("history.store");
    auto o = open_store(path);
    EXPECT_TRUE(o.store) << o.status.message();
    record_map model;
    h.ends.push_back(file_size(path));
    h.states.push_back(model);
    for (const auto& ops : batches) {
        apply(*o.store, model, ops);
        EXPECT_TRUE(o.store->commit());
        h.ends.push_back(file_size(path));
        h.states.push_back(model);
        h.counts.push_back(static_cast<std::uint32_t>(ops.size()));
    }
    o.store.reset();
    h.bytes = read_file(path);
    return h;
}

const std::vector<std::vector<op>> small_batches = {
    {{retained, "salon/luz/stat", "ON"}, {session, "pc", "pc/cmd"}},
    {{retained, "salon/luz/stat", "OFF"}, {retained, "cocina/temp", "21.5"}},
    {{session, "pc", std::nullopt}, {retained, "z2m/bridge/state", "online"}},
    {{retained, "cocina/temp", "22.0"}, {session, "tablet", "#"}, {retained, "x", ""}},
};

TEST(DurableRecovery, ATornLastBatchIsDroppedAtEveryCutOffset) {
    temp_dir dir;
    const auto h = make_history(dir, small_batches);
    const std::size_t last = small_batches.size();
    const auto before = h.ends[last - 1];
    const auto full = h.ends[last];
    ASSERT_EQ(full, h.bytes.size());
    const auto path = dir.file("torn.store");
    for (auto cut = before + 1; cut < full; ++cut) {
        SCOPED_TRACE("cut at " + std::to_string(cut));
        write_file(path, h.bytes.substr(0, cut));
        auto o = open_store(path);
        ASSERT_TRUE(o.store) << o.status.message();
        EXPECT_EQ(o.loaded, h.states[last - 1]);
        EXPECT_TRUE(o.recovery.torn_tail);
        EXPECT_EQ(o.recovery.valid_bytes, before);
        EXPECT_EQ(o.recovery.dropped_bytes, cut - before);
        EXPECT_EQ(o.recovery.dropped_batches, 1U);
        // The header of the cut batch is readable from 12 bytes on: its record count is reported.
        EXPECT_EQ(o.recovery.dropped_records,
                  cut - before >= fmt::batch_header_size ? h.counts[last - 1] : 0U);
        EXPECT_NE(o.recovery.message.find("dropped " + std::to_string(cut - before) + " bytes"),
                  std::string::npos)
            << o.recovery.message;
        EXPECT_NE(o.recovery.message.find("cut short"), std::string::npos) << o.recovery.message;
        EXPECT_EQ(file_size(path), before) << "truncated to the valid prefix";
        // The store goes on from the prefix; the next open is clean.
        ASSERT_TRUE(o.store->put(retained, b("after"), b("recovery")));
        ASSERT_TRUE(o.store->commit());
        o.store.reset();
        auto again = open_store(path);
        auto want = h.states[last - 1];
        want[{retained, "after"}] = "recovery";
        EXPECT_EQ(again.loaded, want);
        EXPECT_TRUE(again.recovery.message.empty()) << again.recovery.message;
    }
}

TEST(DurableRecovery, ACutAtABatchBoundaryIsNotDamage) {
    temp_dir dir;
    const auto h = make_history(dir, small_batches);
    const auto path = dir.file("cut.store");
    for (std::size_t k = 0; k < h.ends.size(); ++k) {
        write_file(path, h.bytes.substr(0, h.ends[k]));
        const auto o = open_store(path);
        ASSERT_TRUE(o.store) << o.status.message();
        EXPECT_EQ(o.loaded, h.states[k]);
        EXPECT_EQ(o.recovery.dropped_bytes, 0U);
        EXPECT_TRUE(o.recovery.message.empty());
    }
}

// Every bit of a small store, flipped one at a time. A flip in the header refuses the file; a
// flip in batch k loads exactly the batches before k and drops the rest. A wrong value is
// never loaded.
TEST(DurableRecovery, EveryBitFlipIsDetected) {
    temp_dir dir;
    const auto h = make_history(dir, small_batches);
    const auto path = dir.file("flipped.store");
    for (std::size_t i = 0; i < h.bytes.size(); ++i) {
        for (int bit = 0; bit < 8; ++bit) {
            SCOPED_TRACE("byte " + std::to_string(i) + " bit " + std::to_string(bit));
            std::string bytes = h.bytes;
            bytes[i] = static_cast<char>(bytes[i] ^ (1 << bit));
            write_file(path, bytes);
            const auto o = open_store(path);
            if (i < fmt::header_size) {
                ASSERT_FALSE(o.store);
                EXPECT_EQ(o.status.code(), i < fmt::signature.size()
                                               ? mb::durable_errc::not_a_store
                                               : mb::durable_errc::damaged_header)
                    << o.status.message();
                EXPECT_EQ(read_file(path), bytes) << "a refused file is left untouched";
                continue;
            }
            std::size_t k = 0; // the damaged batch
            while (h.ends[k + 1] <= i) {
                ++k;
            }
            ASSERT_TRUE(o.store) << o.status.message();
            EXPECT_EQ(o.loaded, h.states[k]);
            EXPECT_EQ(o.recovery.valid_bytes, h.ends[k]);
            EXPECT_EQ(o.recovery.dropped_bytes, h.bytes.size() - h.ends[k]);
            EXPECT_GE(o.recovery.dropped_batches, 1U);
            EXPECT_FALSE(o.recovery.message.empty());
            EXPECT_EQ(file_size(path), h.ends[k]);
        }
    }
}

TEST(DurableRecovery, DamageInTheMiddleDropsEverythingAfterAndCountsIt) {
    temp_dir dir;
    const auto h = make_history(dir, small_batches);
    const auto path = dir.file("middle.store");
    std::string bytes = h.bytes;
    const auto in_batch_1 = h.ends[1] + fmt::batch_header_size + 3; // a payload byte of batch 1
    bytes[in_batch_1] = static_cast<char>(bytes[in_batch_1] ^ 0x10);
    write_file(path, bytes);
    const auto o = open_store(path);
    ASSERT_TRUE(o.store);
    EXPECT_EQ(o.loaded, h.states[1]);
    EXPECT_FALSE(o.recovery.torn_tail);
    EXPECT_EQ(o.recovery.dropped_batches, 3U);
    // Batches 2 and 3 pass their checksums (counted exactly); batch 1's header is intact.
    EXPECT_EQ(o.recovery.dropped_records, h.counts[1] + h.counts[2] + h.counts[3]);
    EXPECT_EQ(o.recovery.records_loaded, h.states[1].size());
    const std::string want = "store " + path + ": the batch at offset " +
                             std::to_string(h.ends[1]) + " fails its checksum: dropped " +
                             std::to_string(h.bytes.size() - h.ends[1]) + " bytes from offset " +
                             std::to_string(h.ends[1]) + " to the end (3 batches, " +
                             std::to_string(o.recovery.dropped_records) +
                             " records by headers that could not be verified) and truncated the "
                             "file to " +
                             std::to_string(h.ends[1]) + " bytes; loaded 2 live records";
    EXPECT_EQ(o.recovery.message, want);
}

TEST(DurableRecovery, ABatchWithAGoodChecksumButImpossibleRecordsIsDamage) {
    // A batch whose checksum matches but whose records do not fill it exactly: the checksum
    // cannot catch what the writer itself got wrong, so the structure is checked too.
    temp_dir dir;
    const auto path = dir.file("s.store");
    const auto header = fmt::make_header();
    std::vector<std::byte> batch(fmt::batch_header_size + fmt::record_header_size + 2);
    const std::span<std::byte> s(batch);
    s[12] = std::byte{fmt::type_put};
    fmt::store_u16(s, 14, 5); // key length 5, but only 2 bytes follow
    fmt::store_u32(s, 16, 0);
    fmt::store_u32(s, 4, static_cast<std::uint32_t>(batch.size() - fmt::batch_header_size));
    fmt::store_u32(s, 8, 1);
    fmt::store_u32(s, 0, mb::detail::crc32c(std::span<const std::byte>(batch).subspan(4)));
    write_file(path, str(header) + str(batch));
    const auto o = open_store(path);
    ASSERT_TRUE(o.store);
    EXPECT_TRUE(o.loaded.empty());
    EXPECT_EQ(o.recovery.dropped_bytes, batch.size());
    EXPECT_EQ(file_size(path), fmt::header_size);
}

TEST(DurableRecovery, ANewerFormatIsRefusedNamingBothVersions) {
    temp_dir dir;
    const auto path = dir.file("future.store");
    const auto header = fmt::make_header(2);
    const std::string bytes = str(header) + "batches of a format we do not know";
    write_file(path, bytes);
    const auto o = open_store(path);
    ASSERT_FALSE(o.store);
    EXPECT_EQ(o.status.code(), mb::durable_errc::newer_format);
    EXPECT_EQ(
        o.status.message(),
        "store " + path +
            " was written in store format version 2, newer than the version "
            "1 this build reads; use the newer mqttwire-broker that wrote it (the file is left "
            "untouched)");
    EXPECT_EQ(read_file(path), bytes);
}

TEST(DurableRecovery, ALongerHeaderFromAFutureVersionIsStillRecognisedAsNewer) {
    // Future versions keep the first 20 bytes' layout and may grow the header.
    temp_dir dir;
    const auto path = dir.file("future.store");
    std::vector<std::byte> header(64);
    const auto v1 = fmt::make_header();
    std::copy(v1.begin(), v1.begin() + 8, header.begin());
    fmt::store_u32(header, 8, 7);
    fmt::store_u32(header, 12, 64);
    fmt::store_u32(header, fmt::header_crc_offset, fmt::header_crc(header));
    write_file(path, str(header));
    const auto o = open_store(path);
    EXPECT_EQ(o.status.code(), mb::durable_errc::newer_format) << o.status.message();
    EXPECT_NE(o.status.message().find("version 7"), std::string::npos);
}

struct foreign_case {
    std::string name;
    std::string bytes;
    mb::durable_errc code;
    std::string needle;
};

TEST(DurableRecovery, FilesThatAreNotOursAreRefusedAndLeftUntouched) {
    const std::string mosquitto_db =
        std::string("\x00\xB5\x00mosquitto db", 15) + std::string("\x00\x00\x00\x06", 4);
    const std::string sqlite = std::string("SQLite format 3\0", 16) + std::string(84, '\0');
    const auto sig = str(fmt::signature);
    const std::vector<foreign_case> cases = {
        {"empty", "", mb::durable_errc::not_a_store, "empty file"},
        {"text", "listener 1883\nallow_anonymous true\n", mb::durable_errc::not_a_store,
         "not an mqttwire store"},
        {"mosquitto.db", mosquitto_db, mb::durable_errc::not_a_store, "mosquitto.db"},
        {"sqlite", sqlite, mb::durable_errc::not_a_store, "SQLite"},
        {"signature only", sig, mb::durable_errc::damaged_header, "cut short"},
        {"short signature", sig.substr(0, 5), mb::durable_errc::not_a_store,
         "not an mqttwire store"},
        {"header length 0", sig + std::string(24, '\0'), mb::durable_errc::damaged_header,
         "impossible header length 0"},
    };
    temp_dir dir;
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        const auto path = dir.file("foreign");
        write_file(path, c.bytes);
        const auto o = open_store(path);
        ASSERT_FALSE(o.store);
        EXPECT_EQ(o.status.code(), c.code);
        EXPECT_NE(o.status.message().find(c.needle), std::string::npos) << o.status.message();
        EXPECT_NE(o.status.message().find(path), std::string::npos) << o.status.message();
        EXPECT_EQ(read_file(path), c.bytes);
    }
}

TEST(DurableRecovery, ADirectoryIsNotAStore) {
    temp_dir dir;
    const auto o = open_store(dir.path);
    ASSERT_FALSE(o.store);
    EXPECT_EQ(o.status.code(), mb::durable_errc::not_a_store);
    EXPECT_NE(o.status.message().find("is a directory"), std::string::npos);
}

} // namespace
