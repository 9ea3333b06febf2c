// The durable store against a std::map model (rapidcheck): random puts, erases, commits,
// explicit and incremental compactions and reopens, with random compaction bounds. After every
// operation the store's live set equals the model's; after a reopen it equals the last committed
// model (uncommitted work is lost, like a crash before the end of an event-loop turn).

#include "durable_test_support.hpp"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <sstream>
#include <string>
#include <vector>

using namespace mqttwire::broker::test;

namespace {

enum class action_kind { put, erase, commit, compact, step, reopen };

struct action {
    action_kind what = action_kind::put;
    std::uint8_t kind = 0;
    int key = 0;
    std::string value;
};

void show_action(const action& a, std::ostream& os) {
    static const char* const names[] = {"put", "erase", "commit", "compact", "step", "reopen"};
    os << names[static_cast<int>(a.what)] << "(" << int(a.kind) << ", k" << a.key << ", "
       << a.value.size() << " bytes)";
}

} // namespace

namespace rc {
template <> struct Arbitrary<action> {
    static Gen<action> arbitrary() {
        return gen::apply(
            [](int w, std::uint8_t kind, int key, std::string value) {
                // Mostly puts and erases, so that batches have several records.
                static constexpr action_kind table[] = {
                    action_kind::put,    action_kind::put,    action_kind::put,
                    action_kind::put,    action_kind::erase,  action_kind::erase,
                    action_kind::commit, action_kind::commit, action_kind::compact,
                    action_kind::step,   action_kind::step,   action_kind::reopen};
                return action{table[w], kind, key, std::move(value)};
            },
            gen::inRange(0, 12), gen::inRange<std::uint8_t>(0, 3), gen::inRange(0, 24),
            gen::resize(120, gen::string<std::string>()));
    }
};
} // namespace rc

namespace {

RC_GTEST_PROP(DurableModel, LiveSetEqualsTheModelThroughCompactionsAndReopens,
              (const std::vector<action>& actions)) {
    temp_dir dir(true);
    const auto path = dir.file("model.store");
    mb::durable_options opt;
    opt.auto_compact = *rc::gen::arbitrary<bool>();
    opt.compact_min_dead_bytes = *rc::gen::inRange<std::uint64_t>(0, 3000);
    opt.compact_dead_percent = *rc::gen::inRange<std::uint32_t>(0, 200);
    opt.compact_step_bytes = *rc::gen::inRange<std::size_t>(1, 600);

    record_map current;
    record_map committed;
    auto o = open_store(path, opt);
    RC_ASSERT(o.store.has_value());
    for (const auto& a : actions) {
        std::ostringstream trace;
        show_action(a, trace);
        RC_LOG() << trace.str() << "\n";
        auto& s = *o.store;
        const std::string key = "k" + std::to_string(a.key);
        switch (a.what) {
        case action_kind::put:
            RC_ASSERT(s.put(a.kind, b(key), b(a.value)).ok());
            current[{a.kind, key}] = a.value;
            break;
        case action_kind::erase:
            RC_ASSERT(s.erase(a.kind, b(key)).ok());
            current.erase({a.kind, key});
            break;
        case action_kind::commit:
            RC_ASSERT(s.commit().ok());
            committed = current;
            break;
        case action_kind::compact:
            RC_ASSERT(s.compact().ok()); // commits first
            RC_ASSERT(!s.stats().compacting);
            committed = current;
            break;
        case action_kind::step: RC_ASSERT(s.compact_step().ok()); break;
        case action_kind::reopen:
            o.store.reset();
            o = open_store(path, opt);
            RC_ASSERT(o.store.has_value());
            RC_ASSERT(o.loaded == committed);
            RC_ASSERT(o.recovery.message.empty());
            current = committed;
            break;
        }
        const auto st = o.store->stats();
        RC_ASSERT(st.live_records == current.size());
        for (const auto& [k, v] : current) {
            const auto got = o.store->get(k.first, b(k.second));
            RC_ASSERT(got.has_value());
            RC_ASSERT(str(*got) == v);
        }
        RC_ASSERT(st.file_bytes + st.pending_bytes == 32 + st.live_bytes + st.dead_bytes);
    }
    RC_ASSERT(o.store->commit().ok());
    committed = current;
    o.store.reset();
    const auto last = open_store(path, opt);
    RC_ASSERT(last.loaded == committed);
}

} // namespace
