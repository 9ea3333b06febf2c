// Runs every vector in tests/vectors through the same checks: decode outcome; and for valid
// vectors, re-encoding, every strict prefix incomplete, exact size, one byte short refused,
// and no heap allocation on either path.

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <new>
#include <set>
#include <sstream>

#include "test_support.hpp"

// Counts every global allocation so the codec's zero-allocation promise is checked on each
// vector (DESIGN rule 3); other tests read the count through allocation_count().
namespace {
std::atomic<std::size_t> g_allocations{0};
}
#if defined(__GNUC__) && !defined(__clang__)
// The replacements below pair malloc with free; g++ cannot see that through operator new.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
void* operator new(std::size_t n) {
    g_allocations.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
    std::abort();
}
void* operator new[](std::size_t n) { return operator new(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
    g_allocations.fetch_add(1, std::memory_order_relaxed);
    return std::malloc(n == 0 ? 1 : n);
}
void* operator new[](std::size_t n, const std::nothrow_t& t) noexcept { return operator new(n, t); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace mqttwire::test {

std::size_t allocation_count() noexcept { return g_allocations.load(); }

namespace {

std::vector<std::filesystem::path> vector_files() {
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::directory_iterator(MQTTWIRE_VECTORS_DIR))
        if (e.path().extension() == ".vec") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    return files;
}

// One read of the whole file (a character iterator is slow in Debug builds, and this runs at
// every test process's start-up).
std::string file_text(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::string text(static_cast<std::size_t>(std::filesystem::file_size(path)), '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    EXPECT_EQ(static_cast<std::size_t>(in.gcount()), text.size()) << "cannot read " << path;
    return text;
}

} // namespace

const std::vector<vector_name>& vector_names() {
    static const std::vector<vector_name> all = [] {
        std::vector<vector_name> out;
        for (const auto& f : vector_files())
            scan_vector_names(f.filename().string(), file_text(f), out);
        return out;
    }();
    return all;
}

const std::vector<vector>& vectors_in(const std::string& file) {
    static std::map<std::string, std::vector<vector>, std::less<>> parsed;
    auto it = parsed.find(file);
    if (it == parsed.end()) {
        const auto text = file_text(std::filesystem::path(MQTTWIRE_VECTORS_DIR) / file);
        it = parsed.emplace(file, parse_vector_file(file, text)).first;
    }
    return it->second;
}

const std::vector<vector>& all_vectors() {
    static const std::vector<vector> all = [] {
        std::vector<vector> out;
        for (const auto& f : vector_files()) {
            const auto& part = vectors_in(f.filename().string());
            out.insert(out.end(), part.begin(), part.end());
        }
        return out;
    }();
    return all;
}

namespace {

errc errc_from_name(const std::string& name) {
    for (unsigned i = 0; i < 256; ++i) {
        const auto e = static_cast<errc>(i);
        if (errc_name(e) == name) return e;
    }
    ADD_FAILURE() << "unknown errc name " << name;
    return errc::success;
}

TEST(vectors, files_are_well_formed) {
    const auto& all = all_vectors();
    ASSERT_FALSE(all.empty());
    // The start-up scan names the same vectors, in the same order, as the parser.
    const auto& listed = vector_names();
    ASSERT_EQ(listed.size(), all.size());
    for (std::size_t i = 0; i < all.size(); ++i) {
        EXPECT_EQ(listed[i].file, all[i].file) << all[i].where();
        EXPECT_EQ(listed[i].name, all[i].name) << all[i].where();
    }
    std::set<std::string> names;
    for (const auto& v : all) {
        EXPECT_TRUE(names.insert(v.name).second) << v.where() << ": duplicate name " << v.name;
        EXPECT_FALSE(v.bytes.empty()) << v.where() << ": no bytes";
        EXPECT_FALSE(v.cites.empty() && !v.valid()) << v.where() << ": an invalid vector cites "
                                                    << "the statement it breaks";
        if (!v.valid()) errc_from_name(v.expect);
    }
}

// The counter behind the zero-allocation checks must see allocations, or those checks prove
// nothing.
TEST(vectors, allocation_counter_sees_allocations) {
    const auto before = g_allocations.load();
    auto* p = new int(7);
    EXPECT_GT(g_allocations.load(), before);
    delete p;
}

class vector_case : public ::testing::TestWithParam<std::size_t> {};

TEST_P(vector_case, behaves_as_annotated) {
    const auto& v = vec(vector_names()[GetParam()].name);
    SCOPED_TRACE(v.where() + " " + v.name);
    const std::span<const std::byte> in(v.bytes);

    const auto before = g_allocations.load();
    const auto r = decode_packet(in, v.options);
    EXPECT_EQ(g_allocations.load(), before) << "decode allocated";

    if (!v.valid()) {
        EXPECT_EQ(errc_name(r.error()), v.expect);
        return;
    }
    ASSERT_TRUE(r.has_value()) << "decode failed: " << errc_name(r.error());
    EXPECT_EQ(r->size, v.bytes.size()) << "a vector holds exactly one packet";

    // Every strict prefix is incomplete (a truncated packet is never invalid).
    for (std::size_t n = 0; n < v.bytes.size(); ++n)
        EXPECT_EQ(decode_packet(in.first(n), v.options).error(), errc::incomplete)
            << "prefix of " << n << " bytes";

    // Encoding: exact size, identical bytes for canonical vectors, and a buffer one byte short
    // is refused without a write.
    const auto version = v.version;
    const auto alloc_before_size = g_allocations.load();
    const auto size = encoded_size(r->packet, version);
    EXPECT_EQ(g_allocations.load(), alloc_before_size) << "encoded_size allocated";
    ASSERT_TRUE(size.has_value()) << errc_name(size.error());
    std::vector<std::byte> out(*size + 8, std::byte{0xEE});
    const auto alloc_before_encode = g_allocations.load();
    const auto written = encode(r->packet, version, std::span<std::byte>(out).first(*size));
    EXPECT_EQ(g_allocations.load(), alloc_before_encode) << "encode allocated";
    ASSERT_TRUE(written.has_value()) << errc_name(written.error());
    EXPECT_EQ(*written, *size);
    for (std::size_t i = *size; i < out.size(); ++i)
        EXPECT_EQ(out[i], std::byte{0xEE}) << "wrote past the reported size at " << i;
    const std::span<const std::byte> enc(out.data(), *written);
    if (v.canonical) {
        EXPECT_EQ(to_hex(enc), to_hex(in)) << "re-encoding differs";
    } else {
        EXPECT_LT(enc.size(), in.size()) << "a non-canonical vector re-encodes shorter";
    }
    // Whatever the form, the re-encoded bytes decode to the same packet.
    const auto again = decode_packet(enc, v.options);
    ASSERT_TRUE(again.has_value()) << errc_name(again.error());
    EXPECT_TRUE(again->packet == r->packet) << "decode(encode(p)) != p";

    if (*size > 0) {
        std::vector<std::byte> small(*size - 1, std::byte{0x5A});
        const auto refused = encode(r->packet, version, small);
        EXPECT_EQ(refused.error(), errc::buffer_too_small);
        for (auto b : small) ASSERT_EQ(b, std::byte{0x5A}) << "wrote into a too-small buffer";
    }
}

std::string case_name(const ::testing::TestParamInfo<std::size_t>& info) {
    std::string s = vector_names()[info.param].name;
    for (auto& c : s)
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    return s;
}

INSTANTIATE_TEST_SUITE_P(all, vector_case,
                         ::testing::Range<std::size_t>(0, vector_names().size()), case_name);

} // namespace
} // namespace mqttwire::test
