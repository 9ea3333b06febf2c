#pragma once
// Helpers shared by the durable store tests: a temporary directory, file surgery, and opening a
// store into a std::map that models its live records.

#include "durable_store.hpp"
#include "../../tests/temp_dir.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <unistd.h>

namespace mqttwire::broker::test {

namespace mb = mqttwire::broker;

/// Kinds the tests use, named after what the broker will store under them.
inline constexpr std::uint8_t retained = 1;
inline constexpr std::uint8_t session = 2;

using record_key = std::pair<std::uint8_t, std::string>;
using record_map = std::map<record_key, std::string>;

inline durable_bytes b(const std::string& s) { return as_durable_bytes(s); }

inline std::string str(durable_bytes bytes) {
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

inline std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A new file each time: ext4 flushes a file truncated and rewritten in place when it is closed
// (auto_da_alloc), which would make tests that write thousands of variants slow.
inline void write_file(const std::string& path, const std::string& bytes) {
    (void)::unlink(path.c_str());
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

inline std::uint64_t file_size(const std::string& path) { return read_file(path).size(); }

/// What open() gave: the store (when it opened), the loaded records, the report.
struct opened_store {
    std::optional<durable_store> store;
    record_map loaded;
    std::vector<record_key> order; // load order
    durable_recovery recovery;
    durable_status status;
};

inline opened_store open_store(const std::string& path, const durable_options& options = {}) {
    opened_store o;
    auto r = durable_store::open(path, options, [&](const durable_record& rec) {
        record_key k{rec.kind, str(rec.key)};
        EXPECT_EQ(o.loaded.count(k), 0U) << "record loaded twice: " << k.second;
        o.loaded[k] = str(rec.value);
        o.order.push_back(k);
    });
    if (r) {
        o.store.emplace(std::move(r.value().store));
        o.recovery = std::move(r.value().recovery);
    } else {
        o.status = r.status();
    }
    return o;
}

/// Applies a model batch to a store and to the model: puts where the value is set, erases
/// where it is not.
struct op {
    std::uint8_t kind;
    std::string key;
    std::optional<std::string> value;
};

inline void apply(durable_store& s, record_map& model, const std::vector<op>& ops) {
    for (const auto& o : ops) {
        if (o.value) {
            ASSERT_TRUE(s.put(o.kind, b(o.key), b(*o.value)));
            model[{o.kind, o.key}] = *o.value;
        } else {
            ASSERT_TRUE(s.erase(o.kind, b(o.key)));
            model.erase({o.kind, o.key});
        }
    }
}

/// The store's live set, checked through get() against the model (and the count, so nothing
/// beyond the model is live).
inline void expect_same(const durable_store& s, const record_map& model) {
    EXPECT_EQ(s.stats().live_records, model.size());
    for (const auto& [k, v] : model) {
        const auto got = s.get(k.first, b(k.second));
        ASSERT_TRUE(got.has_value()) << "missing kind " << int(k.first) << " key " << k.second;
        EXPECT_EQ(str(*got), v) << "kind " << int(k.first) << " key " << k.second;
    }
}

} // namespace mqttwire::broker::test
