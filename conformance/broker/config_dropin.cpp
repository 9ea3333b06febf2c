// The directives a mosquitto.conf carries that a drop-in replacement must take: start-up
// (pid_file, user, include_dir), logging (log_dest, log_type, log_timestamp, ...), $SYS
// (sys_interval), client identifiers, and the ones mosquitto 2.0 itself ignores.
#include "config_parser.hpp"
#include "text.hpp"

#include <chrono>
#include <cstdint>
#include <string>

namespace mqttwire::broker::config_file {

using namespace text;

// The directives of a mosquitto.conf that a drop-in replacement must take (start-up, logging,
// $SYS, client identifiers): nullopt when `d` is not one of them.
std::optional<bool> parser::dropin(std::string_view d, std::string_view args) {
    if (d == "include_dir") return include_dir(args);
    if (d == "pid_file") return replace_path(d, args, out_.pid_file);
    if (d == "user") {
        std::string_view v;
        if (!single(d, args, "user name", v)) return false;
        out_.user.assign(v);
        return true;
    }
    if (d == "log_dest") return log_dest(args);
    if (d == "log_type") {
        std::string_view v;
        if (!single(d, args, "type", v)) return false;
        const auto bits = log_type_bits(v);
        if (bits == 0 && v != "none")
            return fail("log_type: expected error, warning, notice, information, subscribe, "
                        "unsubscribe, websockets, debug, all or none, got " +
                        quoted(v));
        // The first log_type line replaces the default set; later ones add to it.
        if (!log_type_set_) out_.log_types = 0;
        log_type_set_ = true;
        out_.log_types |= bits;
        return true;
    }
    if (d == "log_timestamp") return boolean(d, args, out_.log_timestamp);
    if (d == "log_timestamp_format") {
        if (args.empty()) return fail("log_timestamp_format: missing format");
        out_.log_timestamp_format.assign(args);
        return true;
    }
    if (d == "connection_messages") return boolean(d, args, out_.connection_messages);
    if (d == "sys_interval") return seconds(d, args, 65535u, out_.sys_interval);
    if (d == "set_tcp_nodelay") return boolean(d, args, out_.set_tcp_nodelay);
    if (d == "check_retain_source") return boolean(d, args, out_.check_retain_source);
    if (d == "allow_zero_length_clientid") return boolean(d, args, out_.allow_zero_length_clientid);
    if (d == "auto_id_prefix") {
        std::string_view v;
        if (!single(d, args, "prefix", v)) return false;
        // A client identifier is at most 65535 bytes with the generated part after it.
        if (v.size() > 1024) return fail("auto_id_prefix: longer than 1024 bytes");
        out_.auto_id_prefix.assign(v);
        return true;
    }
    if (d == "allow_duplicate_messages" || d == "retry_interval" || d == "store_clean_interval") {
        // Accepted and ignored by mosquitto 2.0 as well ("no longer used").
        out_.warnings.push_back(std::string(d) + " has no effect (as in mosquitto 2.0)");
        return true;
    }
    return std::nullopt;
}

bool parser::seconds(std::string_view d, std::string_view args, std::uint64_t max,
                     std::chrono::seconds& out) {
    std::uint64_t v = 0;
    if (!number(d, args, max, v)) return false;
    out = std::chrono::seconds(static_cast<std::int64_t>(v));
    return true;
}

// A path that a later line replaces (as mosquitto does for these).
bool parser::replace_path(std::string_view d, std::string_view args, std::string& out) {
    if (args.empty()) return fail(std::string(d) + ": missing path");
    out.assign(args);
    return true;
}

bool parser::log_dest(std::string_view args) {
    const auto kind = next_token(args);
    std::uint32_t bits = 0;
    if (kind == "file") {
        if (args.empty()) return fail("log_dest file: missing path");
        out_.log_file.assign(args);
        bits = log_dest_file;
    } else {
        if (!args.empty()) return fail("log_dest: unexpected extra argument " + quoted(args));
        if (kind == "stdout")
            bits = log_dest_stdout;
        else if (kind == "stderr")
            bits = log_dest_stderr;
        else if (kind == "syslog")
            bits = log_dest_syslog;
        else if (kind == "topic")
            bits = log_dest_topic;
        else if (kind == "none")
            bits = 0;
        else if (kind.empty())
            return fail("log_dest: missing destination");
        else
            return fail("log_dest: expected stdout, stderr, file PATH, syslog, topic or "
                        "none, got " +
                        quoted(kind));
    }
    // The first log_dest line replaces the default (stderr); `none` clears what came before.
    if (!log_dest_set_ || kind == "none") out_.log_dests = 0;
    log_dest_set_ = true;
    out_.log_dests |= bits;
    return true;
}

} // namespace mqttwire::broker::config_file
