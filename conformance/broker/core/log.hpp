#pragma once
// Log lines of the broker core. Events about one client are logged once per client and event
// (a queue that fills, a consumer that stalls), never once per message.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "core/settings.hpp"

namespace mqttwire::broker {

class logger {
  public:
    logger(log_sink sink, bool verbose, typed_log_sink typed = {},
           std::uint32_t types = default_log_types)
        : sink_(std::move(sink)), typed_(std::move(typed)), verbose_(verbose),
          types_(typed_ ? types : 0) {}

    /// Always logged (a notice for typed destinations).
    void info(std::string_view line) const {
        if (typed_) {
            typed_(log_type::notice, line);
        } else if (sink_) {
            sink_(line);
        }
    }
    /// Logged with -v only (connections, protocol errors); debug for typed destinations.
    void detail(std::string_view line) const {
        if (typed_) {
            if (wants(log_type::debug)) typed_(log_type::debug, line);
        } else if (verbose_ && sink_) {
            sink_(line);
        }
    }
    /// A line of a given type, for typed destinations only (mosquitto's connection messages,
    /// subscribe and unsubscribe lines); nothing without them.
    void typed(log_type t, std::string_view line) const {
        if (wants(t)) typed_(t, line);
    }
    /// Whether a line of type `t` would go anywhere (so callers can skip building it).
    [[nodiscard]] bool wants(log_type t) const noexcept { return (types_ & bit(t)) != 0; }
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
    typed_log_sink typed_;
    bool verbose_;
    std::uint32_t types_;
};

} // namespace mqttwire::broker
