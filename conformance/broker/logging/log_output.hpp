#pragma once
// Where the broker's log lines go: mosquitto's `log_dest` destinations (stdout, stderr, a file,
// syslog, `$SYS/broker/log/...` topics), filtered by `log_type`, each line prefixed with a
// timestamp (`log_timestamp`, `log_timestamp_format`) as mosquitto writes it: "TIME: LINE".

#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <string_view>

#include "logging/log_type.hpp"

namespace mqttwire::broker {

struct log_output_settings {
    std::uint32_t dests = 0;     ///< log_dest_* bits (config.hpp)
    std::string file;            ///< with log_dest_file
    std::uint32_t types = default_log_types;
    bool timestamp = true;
    std::string timestamp_format; ///< strftime(3); empty: seconds since 1970
};

class log_output {
  public:
    /// Where `log_dest topic` lines go (the broker queues and publishes them).
    using topic_sink = std::function<void(log_type, std::string_view)>;

    explicit log_output(log_output_settings s);
    ~log_output();
    log_output(const log_output&) = delete;
    log_output& operator=(const log_output&) = delete;

    /// @brief Opens the file and syslog. A log file that cannot be opened is reported as an
    /// error line on stderr, which then replaces the file (mosquitto does the same).
    void open();
    /// @brief Closes and opens the log file again (SIGHUP, after a log rotation).
    void reopen();
    void set_topic_sink(topic_sink sink) { topic_ = std::move(sink); }

    [[nodiscard]] bool wants(log_type t) const noexcept { return (s_.types & bit(t)) != 0; }
    [[nodiscard]] std::uint32_t types() const noexcept { return s_.types; }
    /// Writes `line` to every destination when its type is wanted.
    void write(log_type t, std::string_view line);

    /// "TIME: LINE" with the configured timestamp (or LINE without one); `now` in seconds since
    /// 1970.
    [[nodiscard]] std::string format(std::string_view line, std::int64_t now) const;

  private:
    bool open_file();

    log_output_settings s_;
    std::FILE* file_ = nullptr;
    bool syslog_open_ = false;
    topic_sink topic_;
};

} // namespace mqttwire::broker
