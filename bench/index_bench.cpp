// subscription_index and retained_index at scale. Realistic mix over tenant/device/sensor
// topics: 80% exact filters, 10% `tenant/device/+`, 5% `tenant/+/sensor`, 5% `tenant/#`
// (or `tenant/device/#`). Reports ns per match and bytes per subscription (bytes requested
// through the index allocator, and the glibc heap growth, malloc overhead included).
// A baseline in the same binary: a level trie with a std::unordered_map<std::string, node>
// per node (the usual design), measured the same way.

#include <benchmark/benchmark.h>
#include <malloc.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include <mqttwire/retained_index.hpp>
#include <mqttwire/subscription_index.hpp>

namespace {

std::size_t g_requested = 0;
template <class T> struct counting_allocator {
    using value_type = T;
    counting_allocator() noexcept = default;
    template <class U> counting_allocator(const counting_allocator<U>&) noexcept {} // NOLINT
    T* allocate(std::size_t n) {
        g_requested += n * sizeof(T);
        return std::allocator<T>().allocate(n);
    }
    void deallocate(T* p, std::size_t n) noexcept {
        g_requested -= n * sizeof(T);
        std::allocator<T>().deallocate(p, n);
    }
    template <class U> bool operator==(const counting_allocator<U>&) const noexcept { return true; }
};

std::size_t heap_in_use() { return mallinfo2().uordblks; }

using session = std::uint64_t; // a session handle
using index_t = mqttwire::subscription_index<session, std::identity, counting_allocator<session>>;

// Topic space: tenants × devices × sensors, sized to the number of subscriptions.
struct workload {
    std::vector<std::string> filters;
    std::vector<std::string> topics; // what gets published
};
std::string name(std::size_t t, std::size_t d, std::size_t s) {
    static const char* sensors[] = {"temperature", "humidity", "pressure", "co2",
                                    "battery",     "rssi",     "state",    "power"};
    return "tenant" + std::to_string(t) + "/device" + std::to_string(d) + "/" + sensors[s % 8];
}
workload make_workload(std::size_t n, bool exact_only) {
    workload w;
    std::mt19937_64 rng(42);
    const std::size_t tenants = std::max<std::size_t>(1, n / 1000);
    const std::size_t devices = 200; // per tenant
    auto rnd = [&](std::size_t k) { return static_cast<std::size_t>(rng() % k); };
    for (std::size_t i = 0; i < n; ++i) {
        const std::size_t t = rnd(tenants), d = rnd(devices), s = rnd(8), kind = rnd(100);
        if (exact_only || kind < 80) w.filters.push_back(name(t, d, s));
        else if (kind < 90) w.filters.push_back("tenant" + std::to_string(t) + "/device" + std::to_string(d) + "/+");
        else if (kind < 95) w.filters.push_back("tenant" + std::to_string(t) + "/+/" + name(0, 0, s).substr(16));
        else if (kind < 97) w.filters.push_back("tenant" + std::to_string(t) + "/#");
        else w.filters.push_back("tenant" + std::to_string(t) + "/device" + std::to_string(d) + "/#");
    }
    for (std::size_t i = 0; i < 4096; ++i) w.topics.push_back(name(rnd(tenants), rnd(devices), rnd(8)));
    return w;
}

struct built {
    workload w;
    std::unique_ptr<index_t> idx;
    double requested_per_sub = 0;
    double heap_per_sub = 0;
};
built& get(std::size_t n, bool exact_only) {
    static std::map<std::pair<std::size_t, bool>, built> cache;
    auto& b = cache[{n, exact_only}];
    if (!b.idx) {
        b.w = make_workload(n, exact_only);
        const auto req0 = g_requested;
        const auto heap0 = heap_in_use();
        b.idx = std::make_unique<index_t>();
        for (std::size_t i = 0; i < b.w.filters.size(); ++i)
            (void)b.idx->insert(b.w.filters[i], session{i});
        b.requested_per_sub = double(g_requested - req0) / double(b.idx->size());
        b.heap_per_sub = double(heap_in_use() - heap0) / double(b.idx->size());
    }
    return b;
}

void index_match(benchmark::State& state) {
    auto& b = get(static_cast<std::size_t>(state.range(0)), state.range(1) != 0);
    std::size_t i = 0, hits = 0;
    for (auto _ : state) {
        b.idx->match(b.w.topics[i++ & 4095], [&](session s) { hits += s & 1; },
                     [&](const mqttwire::shared_group_view<session>&) { ++hits; });
    }
    benchmark::DoNotOptimize(hits);
    state.SetItemsProcessed(state.iterations());
    state.counters["subs"] = double(b.idx->size());
    state.counters["bytes_per_sub_requested"] = b.requested_per_sub;
    state.counters["bytes_per_sub_heap"] = b.heap_per_sub;
}
// range(1) = 1: exact filters only (the memory target is per exact subscription).
BENCHMARK(index_match)->Args({1000, 0})->Args({100000, 0})->Args({1000000, 0})->Args({100000, 1})
    ->Unit(benchmark::kNanosecond);

// Baseline: level trie, std::unordered_map<std::string, node> children, std::vector values.
struct naive_node {
    std::unordered_map<std::string, std::unique_ptr<naive_node>> children;
    std::vector<session> here, hash;
};
void naive_insert(naive_node& root, const std::string& f, session s) {
    naive_node* cur = &root;
    std::size_t pos = 0;
    while (true) {
        auto e = f.find('/', pos);
        if (e == std::string::npos) e = f.size();
        std::string level = f.substr(pos, e - pos);
        if (level == "#") { cur->hash.push_back(s); return; }
        auto& c = cur->children[level];
        if (!c) c = std::make_unique<naive_node>();
        cur = c.get();
        if (e == f.size()) { cur->here.push_back(s); return; }
        pos = e + 1;
    }
}
template <class F> void naive_match(const naive_node* n, const std::string& t, std::size_t pos, F& f) {
    for (auto s : n->hash) f(s);
    auto e = t.find('/', pos);
    const bool last = e == std::string::npos;
    if (last) e = t.size();
    const std::string level = t.substr(pos, e - pos);
    for (const auto* key : {&level, static_cast<const std::string*>(nullptr)}) {
        auto it = n->children.find(key ? *key : std::string("+"));
        if (it == n->children.end()) continue;
        const naive_node* c = it->second.get();
        if (last) {
            for (auto s : c->here) f(s);
            for (auto s : c->hash) f(s);
        } else {
            naive_match(c, t, e + 1, f);
        }
    }
}
void naive_trie_match(benchmark::State& state) {
    const auto w = make_workload(static_cast<std::size_t>(state.range(0)), false);
    const auto heap0 = heap_in_use();
    naive_node root;
    for (std::size_t i = 0; i < w.filters.size(); ++i) naive_insert(root, w.filters[i], i);
    const double heap_per_sub = double(heap_in_use() - heap0) / double(w.filters.size());
    std::size_t i = 0, hits = 0;
    auto f = [&](session s) { hits += s & 1; };
    for (auto _ : state) naive_match(&root, w.topics[i++ & 4095], 0, f);
    benchmark::DoNotOptimize(hits);
    state.SetItemsProcessed(state.iterations());
    state.counters["bytes_per_sub_heap"] = heap_per_sub;
}
BENCHMARK(naive_trie_match)->Arg(100000)->Unit(benchmark::kNanosecond);

// Retained lookup over 100k retained topics: a '#'-rooted filter (one tenant's subtree) and a
// '+'-led filter (one sensor of one device number across all tenants).
using retained_t = mqttwire::retained_index<session, counting_allocator<session>>;
struct retained_fixture {
    retained_t idx;
    double requested_per_topic = 0;
    retained_fixture() {
        std::mt19937_64 rng(7);
        const auto req0 = g_requested;
        while (idx.size() < 100000)
            (void)idx.insert_or_assign(name(rng() % 100, rng() % 200, rng() % 8), session{rng()});
        requested_per_topic = double(g_requested - req0) / double(idx.size());
    }
};
retained_fixture& retained() {
    static retained_fixture f;
    return f;
}
void retained_match(benchmark::State& state, const char* filter) {
    auto& r = retained();
    std::size_t found = 0;
    for (auto _ : state) {
        found = 0;
        r.idx.match(filter, [&](session) { ++found; });
    }
    state.SetItemsProcessed(state.iterations());
    state.counters["found"] = double(found);
    state.counters["bytes_per_topic_requested"] = r.requested_per_topic;
}
BENCHMARK_CAPTURE(retained_match, hash_rooted, "tenant42/#")->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(retained_match, plus_led, "+/device7/temperature")->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(retained_match, exact, "tenant42/device7/temperature")->Unit(benchmark::kNanosecond);

} // namespace
