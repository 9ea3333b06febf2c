#include "logging/log_output.hpp"

#include <syslog.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include "config.hpp"

namespace mqttwire::broker {

namespace {

int syslog_priority(log_type t) {
    switch (t) {
    case log_type::error: return LOG_ERR;
    case log_type::warning: return LOG_WARNING;
    case log_type::information: return LOG_INFO;
    case log_type::debug:
    case log_type::websockets: return LOG_DEBUG;
    case log_type::notice:
    case log_type::subscribe:
    case log_type::unsubscribe: return LOG_NOTICE;
    }
    return LOG_NOTICE;
}

} // namespace

log_output::log_output(log_output_settings s) : s_(std::move(s)) {}

log_output::~log_output() {
    if (file_ != nullptr) std::fclose(file_);
    if (syslog_open_) ::closelog();
}

bool log_output::open_file() {
    file_ = std::fopen(s_.file.c_str(), "a");
    if (file_ == nullptr) return false;
    // Whole lines reach the file as they are written (a crash loses none).
    std::setvbuf(file_, nullptr, _IOLBF, 0);
    return true;
}

void log_output::open() {
    if ((s_.dests & log_dest_syslog) != 0 && !syslog_open_) {
        ::openlog("mqttwire-broker", LOG_PID | LOG_CONS, LOG_DAEMON);
        syslog_open_ = true;
    }
    if ((s_.dests & log_dest_file) != 0 && file_ == nullptr && !open_file()) {
        const std::string why = std::strerror(errno);
        s_.dests = (s_.dests & ~log_dest_file) | log_dest_stderr;
        write(log_type::error, "cannot open log file '" + s_.file + "' for writing: " + why +
                                   "; logging to stderr instead");
    }
}

void log_output::reopen() {
    if ((s_.dests & log_dest_file) == 0) return;
    if (file_ != nullptr) std::fclose(file_);
    file_ = nullptr;
    if (!open_file()) {
        const std::string why = std::strerror(errno);
        s_.dests = (s_.dests & ~log_dest_file) | log_dest_stderr;
        write(log_type::error, "cannot reopen log file '" + s_.file + "': " + why +
                                   "; logging to stderr instead");
    }
}

std::string log_output::format(std::string_view line, std::int64_t now) const {
    std::string out;
    if (s_.timestamp) {
        if (s_.timestamp_format.empty()) {
            out = std::to_string(now);
        } else {
            const auto t = static_cast<std::time_t>(now);
            std::tm local{};
            char buf[256];
            const std::size_t n = ::localtime_r(&t, &local) != nullptr
                                      ? std::strftime(buf, sizeof buf, s_.timestamp_format.c_str(),
                                                      &local)
                                      : 0;
            out.assign(n == 0 ? "Time error" : std::string_view(buf, n));
        }
        out += ": ";
    }
    out += line;
    return out;
}

void log_output::write(log_type t, std::string_view line) {
    if (!wants(t) || s_.dests == 0) return;
    const std::string text = format(line, static_cast<std::int64_t>(std::time(nullptr)));
    if ((s_.dests & log_dest_stdout) != 0) {
        std::fwrite(text.data(), 1, text.size(), stdout);
        std::fputc('\n', stdout);
        std::fflush(stdout);
    }
    if ((s_.dests & log_dest_stderr) != 0) {
        std::fwrite(text.data(), 1, text.size(), stderr);
        std::fputc('\n', stderr);
        std::fflush(stderr);
    }
    if ((s_.dests & log_dest_file) != 0 && file_ != nullptr) {
        std::fwrite(text.data(), 1, text.size(), file_);
        std::fputc('\n', file_);
    }
    if (syslog_open_) ::syslog(syslog_priority(t), "%.*s", static_cast<int>(text.size()), text.data());
    // mosquitto publishes every type but debug to topics.
    if ((s_.dests & log_dest_topic) != 0 && t != log_type::debug && topic_) topic_(t, text);
}

} // namespace mqttwire::broker
