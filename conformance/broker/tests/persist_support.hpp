#pragma once
// Helpers of the persistence tests against the real broker process (persist_process_test.cpp,
// persist_soak_test.cpp): a broker restarted again and again on one configuration and store.

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "process_support.hpp"

namespace persist_support {

using namespace bounds_support; // NOLINT(google-build-using-namespace): tests only

inline std::vector<std::byte> text(std::string_view s) {
    const auto b = std::as_bytes(std::span<const char>(s.data(), s.size()));
    return {b.begin(), b.end()};
}

inline std::string text_of(std::span<const std::byte> b) {
    return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

inline std::string file_bytes(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

/// A directory with a broker configuration, and the broker started on it again and again
/// (each start on a free port, its stderr in a log of its own).
class persistent_broker {
  public:
    explicit persistent_broker(std::vector<std::string> extra = {}) {
        char t[] = "/tmp/mqttwire-persist.XXXXXX";
        const char* d = ::mkdtemp(t);
        if (d == nullptr) throw std::runtime_error("mkdtemp failed");
        dir_ = d;
        std::ofstream f(dir_ + "/broker.conf");
        f << "persistence true\npersistence_location " << dir_ << "\n";
        for (const auto& l : extra) f << l << '\n';
    }
    ~persistent_broker() {
        kill9();
        (void)std::system(("rm -rf '" + dir_ + "'").c_str());
    }
    persistent_broker(const persistent_broker&) = delete;
    persistent_broker& operator=(const persistent_broker&) = delete;

    [[nodiscard]] const std::string& dir() const { return dir_; }
    [[nodiscard]] std::string store_path() const { return dir_ + "/mqttwire.store"; }
    [[nodiscard]] std::uint16_t port() const { return port_; }
    [[nodiscard]] std::string log() const { return read_file(log_path_); }

    /// Starts the broker; false (the log says why) when it exited or did not listen in 10 s.
    /// `crash_at_store_write` > 0: the broker kills itself at that write() to its store
    /// (tests/crash_at_store_write.cpp).
    bool start(long crash_at_store_write = 0) {
        ++runs_;
        log_path_ = dir_ + "/broker." + std::to_string(runs_) + ".log";
        pid_ = spawn_broker(dir_ + "/broker.conf", log_path_, [crash_at_store_write] {
            if (crash_at_store_write > 0) {
                ::setenv("LD_PRELOAD", MQTTWIRE_CRASH_SHIM, 1);
                ::setenv("MQTTWIRE_CRASH_AT_STORE_WRITE",
                         std::to_string(crash_at_store_write).c_str(), 1);
                ::setenv("ASAN_OPTIONS", "verify_asan_link_order=0", 1);
            }
        });
        constexpr int still_running = -2;
        exit_status_ = still_running;
        port_ = wait_listening(pid_, log_path_, &exit_status_);
        if (port_ != 0) return true;
        if (exit_status_ == still_running) kill9(); // did not listen in time
        pid_ = -1;                                  // exited, and reaped
        return false;
    }
    /// The exit status of a start() that failed.
    [[nodiscard]] int exit_status() const { return exit_status_; }

    void kill9() {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
        pid_ = -1;
    }
    /// SIGTERM; the exit status (or -1 after 10 s, then killed).
    int term() {
        if (pid_ <= 0) return -1;
        ::kill(pid_, SIGTERM);
        for (int i = 0; i < 1000; ++i) {
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
            }
            std::this_thread::sleep_for(10ms);
        }
        kill9();
        return -1;
    }

  private:
    std::string dir_;
    std::string log_path_;
    pid_t pid_ = -1;
    std::uint16_t port_ = 0;
    int runs_ = 0;
    int exit_status_ = 0;
};

/// Retained messages a fresh subscriber to `filter` receives: topic → payload.
inline std::map<std::string, std::string> retained_of(std::uint16_t port, std::string_view filter) {
    client c(port);
    (void)c.connect("retained-reader");
    (void)c.subscribe(filter, qos::at_least_once);
    std::map<std::string, std::string> out;
    while (auto p = c.read(300ms)) {
        if (const auto* pv = std::get_if<publish_view>(&p->view)) {
            EXPECT_TRUE(pv->retain);
            out[std::string(pv->topic.as_string_view())] = text_of(pv->payload.bytes());
            if (pv->qos != qos::at_most_once) (void)c.ack(*pv);
        }
    }
    return out;
}

/// A round trip: the broker has processed (and, with persistence, committed) everything this
/// client sent before, because no output leaves before the turn's records are written.
inline void round_trip(client& c) {
    pingreq_view ping;
    ASSERT_TRUE(c.send(ping));
    ASSERT_TRUE(c.expect(packet_type::pingresp).has_value());
}

} // namespace persist_support
