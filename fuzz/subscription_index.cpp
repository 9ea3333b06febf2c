// Fuzz target: subscription_index under a sequence of insert / erase / match operations,
// checked against a brute-force model (a map of (filter, client) -> value matched with
// topic_matches, which the topic target checks against a reference and libmosquitto).
//
// Input: a sequence of operations. Each starts with an op byte: bits 0-1 the operation
// (0 erase, 1-2 insert, 3 match), bits 2-3 the client (0..3); then a length byte and that many
// symbol bytes, each mapped onto a small alphabet that makes levels collide: "a", "b", "/",
// "+", "#", "$", "$share/g/", "$share/h/", "$SYS", "" (so empty levels appear), "\xc3\xa9",
// and one ill-formed byte 0xff. The index is built with shared subscriptions on when the first
// input byte is even.
//
// Checks after every operation: insert's result (fresh / replaced / topic_filter_invalid)
// equals the model's (MQTT-3.8.4-3: a second subscription of one client replaces the first);
// erase's result equals the model's; size() equals the model's size; a match visits exactly the
// model's (share group, client, value) multiset, with '$' names not matched by leading
// wildcards (MQTT-4.7.2-1).

#include <map>
#include <set>
#include <string>
#include <tuple>
#include <utility>

#include "fuzz_support.hpp"

namespace {
using namespace mqttwire;

struct sub {
    int client;
    int value;
};
struct client_of {
    int operator()(const sub& s) const noexcept { return s.client; }
};

constexpr std::string_view symbols[] = {"a", "b", "/", "+", "#", "$", "$share/g/", "$share/h/",
                                        "$SYS", "", "\xc3\xa9", "\xff", "a", "/", "b", "/"};

using match_set = std::multiset<std::tuple<std::string, int, int>>;
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::input in(data, size);
    const bool shared = (in.byte() & 1u) == 0;
    subscription_index<sub, client_of> idx{subscription_index_options{shared}};
    std::map<std::pair<std::string, int>, int> model;
    int counter = 0;

    // The inner filter and share name of a model key under the index's options.
    const auto split = [shared](const std::string& f) {
        shared_subscription sh{};
        if (shared && parse_shared_subscription(f, sh) == errc::success)
            return std::pair{std::string(sh.share_name), std::string(sh.filter)};
        return std::pair{std::string(), f};
    };
    const auto valid = [shared](const std::string& f) {
        if (shared && is_shared_subscription(f)) {
            shared_subscription sh{};
            return parse_shared_subscription(f, sh) == errc::success;
        }
        return validate_topic_filter(f) == errc::success;
    };

    while (in.remaining() > 0) {
        const auto op = in.byte();
        const int client = (op >> 2) & 3;
        const std::size_t len = in.byte() % 12u;
        std::string text;
        for (std::size_t i = 0; i < len && in.remaining() > 0; ++i)
            text += symbols[in.byte() % std::size(symbols)];
        switch (op & 3u) {
        case 0: {
            const bool removed = idx.erase(text, client);
            MQTTWIRE_FUZZ_CHECK(removed == (model.erase({text, client}) == 1));
            break;
        }
        case 1:
        case 2: {
            const int value = ++counter;
            const auto r = idx.insert(text, sub{client, value});
            if (!valid(text)) {
                MQTTWIRE_FUZZ_CHECK(!r.has_value() && r.error() == errc::topic_filter_invalid);
                break;
            }
            MQTTWIRE_FUZZ_CHECK(r.has_value());
            const bool fresh = model.find({text, client}) == model.end();
            MQTTWIRE_FUZZ_CHECK(r.value() == fresh);
            model[{text, client}] = value;
            break;
        }
        default: {
            if (validate_topic_name(text) != errc::success) break; // match takes valid names
            match_set got;
            idx.match(
                text, [&](const sub& s) { got.emplace("", s.client, s.value); },
                [&](const shared_group_view<sub>& g) {
                    MQTTWIRE_FUZZ_CHECK(!g.members.empty());
                    for (const auto& s : g.members)
                        got.emplace(std::string(g.share_name), s.client, s.value);
                });
            match_set want;
            for (const auto& [k, value] : model) {
                const auto [group, inner] = split(k.first);
                if (topic_matches(inner, text)) want.emplace(group, k.second, value);
            }
            MQTTWIRE_FUZZ_CHECK(got == want);
            break;
        }
        }
        MQTTWIRE_FUZZ_CHECK(idx.size() == model.size());
    }
    return 0;
}
