#pragma once
// Log lines of the broker core. Events about one client are logged once per client and event
// (a queue that fills, a consumer that stalls), never once per message.

#include <string>
#include <string_view>
#include <utility>

#include "core/settings.hpp"

namespace mqttwire::broker {

class logger {
  public:
    logger(log_sink sink, bool verbose) : sink_(std::move(sink)), verbose_(verbose) {}

    /// Always logged.
    void info(std::string_view line) const {
        if (sink_) sink_(line);
    }
    /// Logged with -v only (connections, protocol errors).
    void detail(std::string_view line) const {
        if (verbose_ && sink_) sink_(line);
    }
    [[nodiscard]] bool verbose() const noexcept { return verbose_; }

    /// "client ID: what" (or "client #N: what" before CONNECT).
    [[nodiscard]] static std::string about(std::string_view client_id, conn_id id,
                                           std::string_view what) {
        std::string line = "client ";
        if (client_id.empty()) {
            line += '#';
            line += std::to_string(id);
        } else {
            line += client_id;
        }
        line += ": ";
        line += what;
        return line;
    }

  private:
    log_sink sink_;
    bool verbose_;
};

} // namespace mqttwire::broker
