// Single-topic operations: match, name validation, filter validation, side by side with
// libmosquitto's functions in the same binary (when built with MQTTWIRE_HAVE_LIBMOSQUITTO).
// The ratio is mosquitto time / mqttwire time for the same inputs (see bench/README.md).

#include <benchmark/benchmark.h>

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include <mqttwire/topic.hpp>

#if defined(MQTTWIRE_HAVE_LIBMOSQUITTO)
#include <mosquitto.h>
#endif

namespace {

// Home-automation / telemetry shaped inputs: about half match.
const std::vector<std::pair<std::string, std::string>>& pairs() {
    static const std::vector<std::pair<std::string, std::string>> p = [] {
        std::vector<std::pair<std::string, std::string>> v;
        const char* filters[] = {"tenant42/device1234/temperature", "tenant42/+/temperature",
                                 "tenant42/device1234/+",           "tenant42/#",
                                 "+/+/temperature",                 "#",
                                 "salon/luz/cmd",                   "tenant42/device1234/#",
                                 "$SYS/broker/+",                   "tenant4/+/humidity"};
        const char* names[] = {"tenant42/device1234/temperature", "tenant42/device99/humidity",
                               "salon/luz/cmd", "$SYS/broker/uptime",
                               "tenant42/device1234/temperature/raw"};
        for (auto* f : filters)
            for (auto* n : names) v.emplace_back(f, n);
        return v;
    }();
    return p;
}
const std::vector<std::string>& names() {
    static const std::vector<std::string> n = {
        "tenant42/device1234/temperature", "salon/luz/stat", "home/kitchen/sensor/7/humidity",
        "$SYS/broker/load/messages/received/1min", "a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p",
        "caf\xc3\xa9/d\xc3\xa9vice/\xe6\xb8\xa9\xe5\xba\xa6"};
    return n;
}
const std::vector<std::string>& filters() {
    static const std::vector<std::string> f = {
        "tenant42/+/temperature", "salon/luz/+", "home/+/sensor/+/humidity", "$SYS/broker/#",
        "a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/#", "caf\xc3\xa9/+/\xe6\xb8\xa9\xe5\xba\xa6"};
    return f;
}

template <class F> void run_pairs(benchmark::State& state, F&& f) {
    const auto& p = pairs();
    std::size_t bytes = 0;
    for (const auto& [a, b] : p) bytes += a.size() + b.size();
    for (auto _ : state)
        for (const auto& [filter, name] : p) benchmark::DoNotOptimize(f(filter, name));
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(p.size()));
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(bytes));
}
template <class F> void run_list(benchmark::State& state, const std::vector<std::string>& l, F&& f) {
    std::size_t bytes = 0;
    for (const auto& s : l) bytes += s.size();
    for (auto _ : state)
        for (const auto& s : l) benchmark::DoNotOptimize(f(s));
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(l.size()));
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(bytes));
}

void match_mqttwire(benchmark::State& state) {
    run_pairs(state, [](const std::string& f, const std::string& n) {
        return mqttwire::topic_matches(f, n);
    });
}
BENCHMARK(match_mqttwire);

void validate_name_mqttwire(benchmark::State& state) {
    run_list(state, names(), [](const std::string& s) { return mqttwire::validate_topic_name(s); });
}
BENCHMARK(validate_name_mqttwire);

void validate_filter_mqttwire(benchmark::State& state) {
    run_list(state, filters(),
             [](const std::string& s) { return mqttwire::validate_topic_filter(s); });
}
BENCHMARK(validate_filter_mqttwire);

#if defined(MQTTWIRE_HAVE_LIBMOSQUITTO)
void match_mosquitto(benchmark::State& state) {
    run_pairs(state, [](const std::string& f, const std::string& n) {
        bool r = false;
        mosquitto_topic_matches_sub(f.c_str(), n.c_str(), &r);
        return r;
    });
}
BENCHMARK(match_mosquitto);

// mosquitto_pub_topic_check checks wildcards and length only; UTF-8 is a separate call. Both are
// reported: the fair comparison to validate_topic_name (which checks UTF-8) is the pair.
void validate_name_mosquitto_pub_check(benchmark::State& state) {
    run_list(state, names(), [](const std::string& s) { return mosquitto_pub_topic_check(s.c_str()); });
}
BENCHMARK(validate_name_mosquitto_pub_check);
void validate_name_mosquitto_pub_check_and_utf8(benchmark::State& state) {
    run_list(state, names(), [](const std::string& s) {
        return mosquitto_pub_topic_check(s.c_str()) == MOSQ_ERR_SUCCESS &&
               mosquitto_validate_utf8(s.c_str(), static_cast<int>(s.size())) == MOSQ_ERR_SUCCESS;
    });
}
BENCHMARK(validate_name_mosquitto_pub_check_and_utf8);
void validate_filter_mosquitto_sub_check_and_utf8(benchmark::State& state) {
    run_list(state, filters(), [](const std::string& s) {
        return mosquitto_sub_topic_check(s.c_str()) == MOSQ_ERR_SUCCESS &&
               mosquitto_validate_utf8(s.c_str(), static_cast<int>(s.size())) == MOSQ_ERR_SUCCESS;
    });
}
BENCHMARK(validate_filter_mosquitto_sub_check_and_utf8);
#endif

} // namespace
