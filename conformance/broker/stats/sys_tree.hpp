#pragma once
// The `$SYS/broker/...` topics, in mosquitto's names and payload formats (mosquitto 2.0:
// integers in decimal, loads with two decimals, "N seconds" for the uptime, "NAME version X"
// for the version), rendered from the statistics counters. The broker publishes them retained
// every sys_interval; like mosquitto, only the values that changed since the last round go out
// after the first one.

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "stats/statistics.hpp"

namespace mqttwire::broker {

class sys_tree {
  public:
    /// `version`: the payload of `$SYS/broker/version`.
    explicit sys_tree(std::string version) : version_(std::move(version)) {}

    /// Calls `emit(topic, payload)` for every topic whose payload changed since the previous
    /// call (all of them on the first).
    template <class Emit>
    void update(const statistics& st, std::chrono::seconds uptime, Emit&& emit) {
        render(st, uptime);
        if (last_.size() != current_.size()) last_.assign(current_.size(), std::string(1, '\0'));
        for (std::size_t i = 0; i < current_.size(); ++i) {
            if (current_[i].payload == last_[i]) continue;
            last_[i] = current_[i].payload;
            emit(std::string_view(current_[i].topic), std::string_view(current_[i].payload));
        }
    }

    /// Every topic this tree publishes (for tests and documentation).
    [[nodiscard]] std::vector<std::string> topics();

  private:
    struct entry {
        std::string topic;
        std::string payload;
    };
    void render(const statistics& st, std::chrono::seconds uptime);
    void put(std::size_t& i, std::string_view topic, std::string payload);

    std::string version_;
    std::vector<entry> current_;
    std::vector<std::string> last_;
};

} // namespace mqttwire::broker
