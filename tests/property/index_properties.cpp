// subscription_index and retained_index against brute force over random insert/erase
// sequences on a small alphabet (empty levels, wildcards, '$', shared subscriptions).

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cstddef>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <mqttwire/retained_index.hpp>
#include <mqttwire/subscription_index.hpp>

namespace {

rc::Gen<std::string> gen_text(std::string alphabet, std::size_t max) {
    return rc::gen::map(
        rc::gen::container<std::vector<char>>(rc::gen::elementOf(alphabet)),
        [max](const std::vector<char>& v) {
            return std::string(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(
                                                          std::min(v.size(), max)));
        });
}
rc::Gen<std::string> gen_name() {
    return rc::gen::suchThat(gen_text("ab/$", 8), [](const std::string& s) {
        return mqttwire::validate_topic_name(s) == mqttwire::errc::success;
    });
}
rc::Gen<std::string> gen_filter() {
    return rc::gen::suchThat(
        rc::gen::map(rc::gen::pair(rc::gen::inRange(0, 5), gen_text("ab/$+#/", 8)),
                     [](const std::pair<int, std::string>& p) {
                         // One in five is a shared subscription (MQTT5-4.8.2-1).
                         return p.first == 0 ? "$share/" + std::string(p.second.size() % 2 ? "g" : "h") +
                                                   "/" + p.second
                                             : p.second;
                     }),
        [](const std::string& s) {
            if (mqttwire::is_shared_subscription(s)) {
                mqttwire::shared_subscription sh{};
                return mqttwire::parse_shared_subscription(s, sh) == mqttwire::errc::success;
            }
            return mqttwire::validate_topic_filter(s) == mqttwire::errc::success;
        });
}

// (filter text, client) → qos; brute-force match through topic_matches on the inner filter.
using model_t = std::map<std::pair<std::string, int>, int>;

std::multiset<std::tuple<std::string, int, int>> brute(const model_t& m, const std::string& t) {
    std::multiset<std::tuple<std::string, int, int>> out;
    for (const auto& [k, qos] : m) {
        std::string inner = k.first;
        std::string group;
        mqttwire::shared_subscription sh{};
        if (mqttwire::parse_shared_subscription(k.first, sh) == mqttwire::errc::success) {
            inner = std::string(sh.filter);
            group = std::string(sh.share_name);
        }
        if (mqttwire::topic_matches(inner, t)) out.emplace(group, k.second, qos);
    }
    return out;
}

struct sub {
    int client;
    int qos;
};
struct client_of {
    int operator()(const sub& s) const noexcept { return s.client; }
};

RC_GTEST_PROP(index_properties, subscription_index_equals_brute_force_MQTT_4_7_2_1, ()) {
    mqttwire::subscription_index<sub, client_of> idx;
    model_t model;
    const auto ops = *rc::gen::container<std::vector<std::tuple<int, std::string, int, int>>>(
        rc::gen::tuple(rc::gen::inRange(0, 3), gen_filter(), rc::gen::inRange(0, 4),
                       rc::gen::inRange(0, 3)));
    for (const auto& [op, filter, client, qos] : ops) {
        if (op == 0) {
            const bool removed = idx.erase(filter, client);
            RC_ASSERT(removed == (model.erase({filter, client}) == 1));
        } else {
            const auto r = idx.insert(filter, sub{client, qos});
            RC_ASSERT(r.has_value());
            const bool fresh = model.find({filter, client}) == model.end();
            RC_ASSERT(r.value() == fresh); // MQTT-3.8.4-3: replaced, not added
            model[{filter, client}] = qos;
        }
        RC_ASSERT(idx.size() == model.size());
    }
    const auto topics = *rc::gen::container<std::vector<std::string>>(gen_name());
    for (const auto& t : topics) {
        std::multiset<std::tuple<std::string, int, int>> got;
        idx.match(
            t, [&](const sub& s) { got.emplace("", s.client, s.qos); },
            [&](const mqttwire::shared_group_view<sub>& g) {
                for (const auto& s : g.members) got.emplace(std::string(g.share_name), s.client, s.qos);
            });
        RC_ASSERT(got == brute(model, t));
    }
}

RC_GTEST_PROP(index_properties, retained_index_equals_brute_force_MQTT_4_7_1_2, ()) {
    mqttwire::retained_index<std::string> idx;
    std::set<std::string> model;
    const auto ops = *rc::gen::container<std::vector<std::pair<bool, std::string>>>(
        rc::gen::pair(rc::gen::arbitrary<bool>(), gen_name()));
    for (const auto& [add, topic] : ops) {
        if (add) {
            const auto r = idx.insert_or_assign(topic, topic);
            RC_ASSERT(r.has_value());
            RC_ASSERT(r.value() == model.insert(topic).second);
        } else {
            RC_ASSERT(idx.erase(topic) == (model.erase(topic) == 1));
        }
        RC_ASSERT(idx.size() == model.size());
    }
    const auto filters = *rc::gen::container<std::vector<std::string>>(rc::gen::suchThat(
        gen_text("ab/$+#/", 8), [](const std::string& s) {
            return mqttwire::validate_topic_filter(s) == mqttwire::errc::success;
        }));
    for (const auto& f : filters) {
        std::multiset<std::string> got;
        idx.match(f, [&](const std::string& v) { got.insert(v); });
        std::multiset<std::string> want;
        for (const auto& t : model)
            if (mqttwire::topic_matches(f, t)) want.insert(t);
        RC_ASSERT(got == want);
    }
}

} // namespace
