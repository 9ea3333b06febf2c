// The durable store's primitives: CRC-32C, SipHash and the open-addressing index.

#include "durable_hash.hpp"
#include "durable_index.hpp"

#include <gtest/gtest.h>

#include <array>
#include <map>
#include <random>
#include <string_view>
#include <vector>

namespace detail = mqttwire::broker::detail;

namespace {

std::span<const std::byte> bytes_of(std::string_view s) {
    return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

// RFC 3720 (iSCSI) appendix B.4 gives CRC-32C test patterns; "123456789" is the customary check
// value of the CRC catalogue (CRC-32/ISCSI: check 0xE3069283).
TEST(DurableCrc32c, KnownAnswers) {
    EXPECT_EQ(detail::crc32c(bytes_of("123456789")), 0xE3069283U);
    EXPECT_EQ(detail::crc32c_portable(bytes_of("123456789")), 0xE3069283U);
    EXPECT_EQ(detail::crc32c(bytes_of("")), 0U);
    std::array<std::byte, 32> zeros{};
    EXPECT_EQ(detail::crc32c(zeros), 0x8A9136AAU); // RFC 3720 B.4: 32 bytes of 0x00
    std::array<std::byte, 32> ones{};
    ones.fill(std::byte{0xFF});
    EXPECT_EQ(detail::crc32c(ones), 0x62A8AB43U); // 32 bytes of 0xFF
    std::array<std::byte, 32> rising{};
    for (std::size_t i = 0; i < rising.size(); ++i) {
        rising[i] = static_cast<std::byte>(i);
    }
    EXPECT_EQ(detail::crc32c(rising), 0x46DD794EU); // 0x00, 0x01, ... 0x1F
}

TEST(DurableCrc32c, HardwareAndTablesAgreeOnEveryLengthAndSplit) {
    std::mt19937 rng(5);
    std::vector<std::byte> data(1000);
    for (auto& x : data) {
        x = static_cast<std::byte>(rng());
    }
    const std::span<const std::byte> all(data);
    for (std::size_t n = 0; n <= 70; ++n) {
        EXPECT_EQ(detail::crc32c(all.first(n)), detail::crc32c_portable(all.first(n))) << n;
    }
    const auto whole = detail::crc32c(all);
    for (std::size_t split = 0; split <= data.size(); split += 37) {
        EXPECT_EQ(detail::crc32c(all.subspan(split), detail::crc32c(all.first(split))), whole);
    }
}

TEST(DurableCrc32c, EverySingleBitFlipChangesTheChecksum) {
    std::vector<std::byte> data(64, std::byte{0x5A});
    const auto good = detail::crc32c(data);
    for (std::size_t bit = 0; bit < data.size() * 8; ++bit) {
        data[bit / 8] ^= static_cast<std::byte>(1U << (bit % 8));
        EXPECT_NE(detail::crc32c(data), good) << bit;
        data[bit / 8] ^= static_cast<std::byte>(1U << (bit % 8));
    }
}

// The SipHash paper (Aumasson, Bernstein 2012), appendix A: key 00 01 .. 0f, message 00 01 .. 0e,
// SipHash-2-4 = a129ca6149be45e5. The 64 vectors of its reference implementation start with
// the empty message: 726fdb47dd0e0e31.
TEST(DurableSiphash, PaperVectors) {
    const std::uint64_t k0 = 0x0706050403020100ULL;
    const std::uint64_t k1 = 0x0f0e0d0c0b0a0908ULL;
    std::array<std::byte, 15> msg{};
    for (std::size_t i = 0; i < msg.size(); ++i) {
        msg[i] = static_cast<std::byte>(i);
    }
    EXPECT_EQ((detail::siphash<2, 4>(k0, k1, msg)), 0xa129ca6149be45e5ULL);
    EXPECT_EQ((detail::siphash<2, 4>(k0, k1, {})), 0x726fdb47dd0e0e31ULL);
    static_assert(detail::siphash<2, 4>(0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL, {}) ==
                  0x726fdb47dd0e0e31ULL);
}

TEST(DurableSiphash, TheKeyChangesEveryOutput) {
    const auto m = bytes_of("salon/luz/stat");
    EXPECT_NE((detail::siphash<1, 3>(1, 2, m)), (detail::siphash<1, 3>(1, 3, m)));
    EXPECT_NE((detail::siphash<1, 3>(1, 2, m)), (detail::siphash<1, 3>(2, 2, m)));
}

// ---- index
// ---------------------------------------------------------------------------------------

// A model of the store's use: the slot's loc is the key itself (non-zero), and the hash is
// chosen by the test so that collisions and wrap-around are exercised on purpose.
struct index_model {
    detail::durable_index index;
    std::map<std::uint64_t, std::uint32_t> model; // key -> hash

    detail::durable_slot* find(std::uint64_t key, std::uint32_t hash) {
        return const_cast<detail::durable_slot*>(
            index.find(hash, [&](const detail::durable_slot& s) { return s.loc == key; }));
    }
    void insert(std::uint64_t key, std::uint32_t hash) {
        ASSERT_EQ(find(key, hash), nullptr);
        auto& s = index.insert(hash);
        s.loc = key;
        s.size = static_cast<std::uint32_t>(key);
        model[key] = hash;
    }
    void erase(std::uint64_t key) {
        auto* s = find(key, model.at(key));
        ASSERT_NE(s, nullptr);
        index.erase(*s);
        model.erase(key);
    }
    void check() {
        ASSERT_EQ(index.size(), model.size());
        for (const auto& [k, h] : model) {
            auto* s = find(k, h);
            ASSERT_NE(s, nullptr) << k;
            EXPECT_EQ(s->size, static_cast<std::uint32_t>(k));
        }
    }
};

TEST(DurableIndex, CollidingHashesAndWrapAroundSurviveEraseInAnyOrder) {
    std::mt19937 rng(11);
    for (int trial = 0; trial < 50; ++trial) {
        index_model m;
        const std::size_t cap = m.index.capacity();
        // Few distinct hashes, many near the end of the table: long runs that wrap.
        std::uint64_t next_key = 1;
        for (int i = 0; i < 40; ++i) {
            const auto h = static_cast<std::uint32_t>(cap - 1 - rng() % 4 + (rng() % 2) * cap);
            m.insert(next_key++, h);
        }
        m.check();
        std::vector<std::uint64_t> keys;
        for (const auto& [k, h] : m.model) {
            keys.push_back(k);
        }
        std::shuffle(keys.begin(), keys.end(), rng);
        for (auto k : keys) {
            m.erase(k);
            m.check();
        }
    }
}

TEST(DurableIndex, GrowsAndShrinksWithTheLiveCount) {
    index_model m;
    std::mt19937 rng(3);
    for (std::uint64_t k = 1; k <= 100000; ++k) {
        m.insert(k, static_cast<std::uint32_t>(rng()));
    }
    m.check();
    EXPECT_GE(m.index.capacity() * 3, 100000U * 4) << "load factor at most 3/4";
    // 43 bytes per live record at most; while a resize is under way the old table adds its
    // half (64 at most, for the few thousand operations the move takes).
    EXPECT_LE(m.index.memory_bytes(), 100000U * (m.index.resizing() ? 64 : 43));
    while (m.index.resizing()) {
        m.insert(m.model.rbegin()->first + 1, static_cast<std::uint32_t>(rng()));
    }
    EXPECT_LE(m.index.memory_bytes(), m.model.size() * 43) << "at most 43 bytes per live record";
    while (m.model.size() > 10) {
        m.erase(m.model.begin()->first);
    }
    m.check();
    // Each halving completes over the operations after it: a few hundred slots may remain.
    EXPECT_LE(m.index.memory_bytes(), 16U * 1024) << "the table shrank after the spike";
}

// Lookups, inserts and erases while the index moves from one table to the next, through
// several growths and shrinks; every key checked after every operation.
TEST(DurableIndex, EveryKeyIsFoundWhileTheIndexResizes) {
    index_model m;
    std::mt19937 rng(21);
    std::vector<std::uint64_t> live;
    std::uint64_t next_key = 1;
    int resizing_ops = 0;
    for (int op = 0; op < 6000; ++op) {
        // Grow to about 2000 entries, shrink to about 50, grow again.
        const bool growing = (op / 2000) % 2 == 0;
        if (live.empty() || rng() % 100 < (growing ? 80U : 20U)) {
            // Few distinct hashes: long probe runs that the migration must keep intact.
            const auto h = static_cast<std::uint32_t>(rng() % 4096);
            m.insert(next_key, h);
            live.push_back(next_key++);
        } else {
            const auto i = rng() % live.size();
            m.erase(live[i]);
            live[i] = live.back();
            live.pop_back();
        }
        resizing_ops += m.index.resizing() ? 1 : 0;
        for (int probe = 0; probe < 4 && !live.empty(); ++probe) {
            const auto k = live[rng() % live.size()];
            const auto* slot = m.find(k, m.model.at(k));
            ASSERT_NE(slot, nullptr) << "key " << k << " at operation " << op;
        }
        if (op % 100 == 0) {
            m.check();
        }
    }
    m.check();
    EXPECT_GT(resizing_ops, 100) << "the test ran through resizes";
}

} // namespace
