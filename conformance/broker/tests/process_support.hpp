#pragma once
// Support for tests that run the real mqttwire-broker: start it on a free loopback port with a
// configuration, read its memory and CPU from /proc, stop it by PID; a blocking MQTT client on
// the codec; and a bystander that publishes and receives QoS 1 probes all along, measuring loss
// and delay.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <optional>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <mqttwire.hpp>

namespace bounds_support {

using namespace mqttwire;
using steady = std::chrono::steady_clock;
using namespace std::chrono_literals;

inline std::string read_file(const std::string& path) {
    std::ifstream f(path);
    return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

/// Starts `mqttwire-broker -c conf -p 0` (or MQTTWIRE_BROKER_UNDER_TEST, to run the same tests
/// against another build) with stdout and stderr in `log`; `in_child` runs in the child just
/// before exec (limits, environment).
template <class F> pid_t spawn_broker(const std::string& conf, const std::string& log, F in_child) {
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
        // A test process killed before its destructors run (a timeout, a closed pipe) takes its
        // broker with it instead of leaving it listening.
        ::prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (::getppid() != parent) std::_Exit(127);
        const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        ::dup2(fd, 2);
        ::dup2(fd, 1);
        in_child();
        const char* env = std::getenv("MQTTWIRE_BROKER_UNDER_TEST");
        const char* path = env != nullptr && *env != '\0' ? env : MQTTWIRE_BROKER_PATH;
        ::execl(path, path, "-c", conf.c_str(), "-p", "0", static_cast<char*>(nullptr));
        std::_Exit(127);
    }
    return pid;
}

/// The port the broker `pid` logged in `log` ("listening on port N") within 10 s; 0 when it
/// did not, or exited first (then reaped, with its exit status in `exit_status`).
inline std::uint16_t wait_listening(pid_t pid, const std::string& log, int* exit_status = nullptr) {
    const std::regex listening("listening on port ([0-9]+)");
    const auto deadline = steady::now() + 10s;
    while (steady::now() < deadline) {
        std::smatch m;
        const std::string text = read_file(log);
        if (std::regex_search(text, m, listening))
            return static_cast<std::uint16_t>(std::stoi(m[1].str()));
        int status = 0;
        if (exit_status != nullptr && ::waitpid(pid, &status, WNOHANG) == pid) {
            *exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
            return 0;
        }
        std::this_thread::sleep_for(5ms);
    }
    return 0;
}

/// One mqttwire-broker process.
class broker_process {
  public:
    /// `config` lines (no listener: the broker listens on an ephemeral 127.0.0.1 port);
    /// `nofile`: RLIMIT_NOFILE for the broker (0: inherited).
    explicit broker_process(const std::vector<std::string>& config, rlim_t nofile = 0) {
        char dir_template[] = "/tmp/mqttwire-bounds.XXXXXX";
        const char* d = ::mkdtemp(dir_template);
        if (d == nullptr) throw std::runtime_error("mkdtemp failed");
        dir_ = d;
        const std::string conf = dir_ + "/broker.conf";
        {
            std::ofstream f(conf);
            for (const auto& line : config) f << line << '\n';
        }
        log_path_ = dir_ + "/broker.log";
        pid_ = spawn_broker(conf, log_path_, [nofile] {
            if (nofile != 0) {
                const rlimit r{nofile, nofile};
                ::setrlimit(RLIMIT_NOFILE, &r);
            }
            // A sanitizer's quarantine would keep freed memory resident and hide what the
            // broker itself keeps.
            ::setenv("ASAN_OPTIONS", "quarantine_size_mb=8:detect_leaks=0", 1);
        });
        port_ = wait_listening(pid_, log_path_);
        if (port_ == 0) {
            stop();
            throw std::runtime_error("broker did not start: " + read_file(log_path_));
        }
        baseline_rss_kb_ = status_kb("VmRSS:");
    }
    ~broker_process() {
        stop();
        std::remove((dir_ + "/broker.conf").c_str());
        std::remove(log_path_.c_str());
        ::rmdir(dir_.c_str());
    }
    broker_process(const broker_process&) = delete;
    broker_process& operator=(const broker_process&) = delete;

    [[nodiscard]] std::uint16_t port() const { return port_; }
    [[nodiscard]] pid_t pid() const { return pid_; }
    [[nodiscard]] std::string log() const { return read_file(log_path_); }
    [[nodiscard]] long baseline_rss_kb() const { return baseline_rss_kb_; }
    [[nodiscard]] long peak_rss_kb() const { return status_kb("VmHWM:"); }
    [[nodiscard]] long rss_kb() const { return status_kb("VmRSS:"); }
    /// utime + stime of the broker, in seconds (10 ms resolution).
    [[nodiscard]] double cpu_seconds() const {
        const std::string all = read_file("/proc/" + std::to_string(pid_) + "/stat");
        const auto close = all.rfind(')');
        if (close == std::string::npos) return 0;
        std::istringstream rest(all.substr(close + 2));
        std::vector<std::string> fields;
        for (std::string f; rest >> f;) fields.push_back(f);
        if (fields.size() < 13) return 0;
        return (std::stod(fields[11]) + std::stod(fields[12])) /
               static_cast<double>(::sysconf(_SC_CLK_TCK));
    }
    [[nodiscard]] bool running() const {
        if (pid_ <= 0) return false;
        int status = 0;
        return ::waitpid(pid_, &status, WNOHANG) == 0;
    }
    /// SIGTERM, then waits (the broker logs its statistics when it stops).
    void stop() {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGTERM);
        for (int i = 0; i < 500; ++i) {
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                return;
            }
            std::this_thread::sleep_for(10ms);
        }
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
        pid_ = -1;
    }

  private:
    [[nodiscard]] long status_kb(const char* key) const {
        std::ifstream f("/proc/" + std::to_string(pid_) + "/status");
        for (std::string line; std::getline(f, line);)
            if (line.rfind(key, 0) == 0) return std::stol(line.substr(std::strlen(key)));
        return 0;
    }

    std::string dir_;
    std::string log_path_;
    pid_t pid_ = -1;
    std::uint16_t port_ = 0;
    long baseline_rss_kb_ = 0;
};

/// A packet read from the broker, owning its bytes.
struct packet {
    std::vector<std::byte> bytes;
    packet_view view;
    [[nodiscard]] packet_type type() const { return type_of(view); }
};

/// A blocking MQTT client on one socket.
class client {
  public:
    client(std::uint16_t port, protocol_version v = protocol_version::v3_1_1, int rcvbuf = 0)
        : version_(v) {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (rcvbuf != 0) ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
        const int one = 1;
        ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(port);
        ::inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
            throw std::runtime_error(std::string("connect: ") + std::strerror(errno));
    }
    ~client() {
        if (fd_ >= 0) ::close(fd_);
    }
    client(const client&) = delete;
    client& operator=(const client&) = delete;

    [[nodiscard]] int fd() const { return fd_; }
    [[nodiscard]] protocol_version version() const { return version_; }

    template <class P> [[nodiscard]] std::vector<std::byte> encode_packet(const P& p) const {
        std::vector<std::byte> buf(encoded_size(p, version_).value());
        (void)encode(p, version_, buf);
        return buf;
    }
    /// Blocking send of everything; false when the connection is gone.
    bool send_all(std::span<const std::byte> b) {
        while (!b.empty()) {
            const ssize_t n = ::send(fd_, b.data(), b.size(), MSG_NOSIGNAL);
            if (n <= 0) {
                if (n < 0 && errno == EINTR) continue;
                return false;
            }
            b = b.subspan(static_cast<std::size_t>(n));
        }
        return true;
    }
    template <class P> bool send(const P& p) { return send_all(encode_packet(p)); }

    /// The next packet, or none within `timeout` (or when the connection closed: see closed()).
    std::optional<packet> read(std::chrono::milliseconds timeout) {
        const auto deadline = steady::now() + timeout;
        while (true) {
            if (auto p = take()) return p;
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - steady::now());
            if (left.count() < 0 || closed_) return std::nullopt;
            pollfd pfd{fd_, POLLIN, 0};
            if (::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) continue;
            std::byte chunk[65536];
            const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
            if (n <= 0) {
                closed_ = true;
                continue;
            }
            in_.insert(in_.end(), chunk, chunk + n);
        }
    }
    /// Reads until a packet of type `t` arrives (others are dropped), within `timeout`.
    std::optional<packet> expect(packet_type t, std::chrono::milliseconds timeout = 5000ms) {
        const auto deadline = steady::now() + timeout;
        while (steady::now() < deadline) {
            auto p = read(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now()));
            if (!p) return std::nullopt;
            if (p->type() == t) return p;
        }
        return std::nullopt;
    }
    [[nodiscard]] bool closed() const { return closed_; }
    /// True when the broker closed the connection within `timeout` (what arrives is dropped).
    bool wait_closed(std::chrono::milliseconds timeout) {
        const auto deadline = steady::now() + timeout;
        while (!closed_ && steady::now() < deadline) {
            (void)read(10ms);
            in_.clear();
            in_pos_ = 0;
        }
        return closed_;
    }

    connack_view connect(std::string_view id, bool clean = true,
                         std::span<const property> props = {}, std::uint16_t keep_alive = 0) {
        connect_view c;
        c.client_id = utf8_view(id);
        c.clean_start = clean;
        c.keep_alive = keep_alive;
        c.properties = props;
        if (!send(c)) throw std::runtime_error("CONNECT not sent");
        auto a = expect(packet_type::connack);
        if (!a) throw std::runtime_error("no CONNACK");
        kept_ = std::move(*a);
        return std::get<connack_view>(kept_.view);
    }
    std::vector<reason_code> subscribe(std::string_view filter, qos q, std::uint16_t id = 1) {
        const subscription s{utf8_view(filter), {q}};
        subscribe_view sv;
        sv.packet_id = id;
        sv.subscriptions = std::span<const subscription>(&s, 1);
        if (!send(sv)) throw std::runtime_error("SUBSCRIBE not sent");
        auto a = expect(packet_type::suback);
        if (!a) throw std::runtime_error("no SUBACK");
        const auto& r = std::get<suback_view>(a->view).reasons;
        return {r.begin(), r.end()};
    }
    bool publish(std::string_view topic, std::span<const std::byte> payload, qos q = qos::at_most_once,
                 std::uint16_t id = 0, bool retain = false) {
        publish_view p;
        p.topic = utf8_view(topic);
        p.payload = binary_view(payload);
        p.qos = q;
        p.packet_id = id;
        p.retain = retain;
        return send(p);
    }
    bool ack(const publish_view& p) {
        puback_view a;
        a.packet_id = p.packet_id;
        return send(a);
    }

  private:
    std::optional<packet> take() {
        const auto avail = std::span<const std::byte>(in_).subspan(in_pos_);
        const auto f = next_frame(avail);
        if (f.status != errc::success) return std::nullopt;
        packet p;
        p.bytes.assign(avail.begin(), avail.begin() + static_cast<std::ptrdiff_t>(f.size));
        in_pos_ += f.size;
        if (in_pos_ == in_.size()) {
            in_.clear();
            in_pos_ = 0;
        } else if (in_pos_ > 65536) {
            in_.erase(in_.begin(), in_.begin() + static_cast<std::ptrdiff_t>(in_pos_));
            in_pos_ = 0;
        }
        decode_options o;
        o.version = version_;
        o.sender = peer_role::server;
        const auto d = decode_packet(p.bytes, o);
        if (!d) throw std::runtime_error(std::string("undecodable packet: ") +
                                         std::string(errc_name(d.error())));
        p.view = d->packet;
        return p;
    }

    int fd_ = -1;
    protocol_version version_;
    std::vector<std::byte> in_;
    std::size_t in_pos_ = 0;
    bool closed_ = false;
    packet kept_;
};

inline std::int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(steady::now().time_since_epoch())
        .count();
}

/// Nanoseconds thread `tid` of process `pid` has spent runnable but waiting for a CPU
/// (run_delay in /proc/PID/task/TID/schedstat); 0 when unavailable.
inline std::int64_t run_delay_ns(pid_t pid, pid_t tid) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/task/" + std::to_string(tid) +
                    "/schedstat");
    std::int64_t on_cpu = 0, waiting = 0;
    f >> on_cpu >> waiting;
    return f ? waiting : 0;
}

/// A QoS 1 subscriber and a probe publisher, in their own thread: one probe every 10 ms, each
/// acknowledged, delay measured from sending to receiving, at least `min_probes` of them (a
/// workload that ends sooner on a fast machine is followed by probes until then). A probe's delay attributed to the
/// broker leaves out the time the broker and this thread spent waiting for a CPU meanwhile: on
/// a machine shared with builds, waiting for a core is not the broker's doing. Both figures are
/// reported.
class bystander {
  public:
    explicit bystander(std::uint16_t port, pid_t broker_pid = 0)
        : sub_(port), pub_(port), broker_pid_(broker_pid) {
        (void)sub_.connect("bystander-sub");
        (void)sub_.subscribe("bystander/probe", qos::at_least_once);
        (void)pub_.connect("bystander-pub");
        thread_ = std::thread([this] { run(); });
    }
    ~bystander() { finish(); }
    bystander(const bystander&) = delete;
    bystander& operator=(const bystander&) = delete;

    struct report {
        std::uint64_t sent = 0, received = 0, duplicates = 0;
        double max_delay_ms = 0;     ///< attributed to the broker (see the class comment)
        double max_raw_delay_ms = 0; ///< as measured
        [[nodiscard]] std::uint64_t lost() const { return sent - received; }
    };
    static constexpr std::uint64_t min_probes = 60;

    /// Stops probing (once `min_probes` were sent), waits for what is in flight (up to 2 s)
    /// and reports.
    report finish() {
        if (thread_.joinable()) {
            stop_ = true;
            thread_.join();
        }
        return report_;
    }

  private:
    std::int64_t waited_ns() const {
        if (broker_pid_ <= 0) return 0;
        return run_delay_ns(broker_pid_, broker_pid_) + run_delay_ns(::getpid(), tid_);
    }

    void run() {
        tid_ = static_cast<pid_t>(::gettid());
        std::vector<bool> seen;
        std::vector<std::int64_t> waited_at_send;
        auto next_probe = steady::now();
        std::uint16_t pid = 0;
        std::optional<steady::time_point> drain_until;
        while (true) {
            const auto t = steady::now();
            const bool probing = !stop_ || report_.sent < min_probes;
            if (!probing && !drain_until) drain_until = t + 2s;
            if (drain_until && (t >= *drain_until || report_.received == report_.sent)) break;
            if (probing && t >= next_probe) {
                std::byte body[16];
                const std::uint64_t seq = report_.sent;
                const std::int64_t sent_at = now_ns();
                std::memcpy(body, &seq, 8);
                std::memcpy(body + 8, &sent_at, 8);
                pid = static_cast<std::uint16_t>(pid == 65535 ? 1 : pid + 1);
                waited_at_send.push_back(waited_ns());
                if (!pub_.publish("bystander/probe", body, qos::at_least_once, pid)) break;
                ++report_.sent;
                seen.push_back(false);
                next_probe += 10ms;
            }
            while (auto a = pub_.read(0ms)) {
            } // PUBACKs
            if (auto p = sub_.read(1ms)) {
                if (const auto* pv = std::get_if<publish_view>(&p->view)) {
                    const auto b = pv->payload.bytes();
                    if (b.size() == 16) {
                        std::uint64_t seq = 0;
                        std::int64_t sent_at = 0;
                        std::memcpy(&seq, b.data(), 8);
                        std::memcpy(&sent_at, b.data() + 8, 8);
                        const double delay = static_cast<double>(now_ns() - sent_at) / 1e6;
                        if (delay > report_.max_raw_delay_ms) report_.max_raw_delay_ms = delay;
                        if (seq < waited_at_send.size()) {
                            const double waited =
                                static_cast<double>(waited_ns() - waited_at_send[seq]) / 1e6;
                            const double own = std::max(0.0, delay - waited);
                            if (own > report_.max_delay_ms) report_.max_delay_ms = own;
                        }
                        if (seq < seen.size() && !seen[seq]) {
                            seen[seq] = true;
                            ++report_.received;
                        } else {
                            ++report_.duplicates;
                        }
                    }
                    (void)sub_.ack(*pv);
                }
            }
        }
    }

    client sub_;
    client pub_;
    pid_t broker_pid_;
    pid_t tid_ = 0;
    std::thread thread_;
    std::atomic<bool> stop_{false};
    report report_;
};

/// How many lines of `log` contain `needle`.
inline std::size_t count_lines(const std::string& log, std::string_view needle) {
    std::size_t n = 0;
    std::istringstream in(log);
    for (std::string line; std::getline(in, line);)
        if (line.find(needle) != std::string::npos) ++n;
    return n;
}

/// The broker's log once a line contains `needle`, or as it is after `within`: for lines that a
/// timer writes, whose moment a loaded machine (an ASan build beside other tests) can delay.
inline std::string log_once_it_has(const broker_process& b, std::string_view needle,
                                   std::chrono::milliseconds within) {
    const auto end = steady::now() + within;
    for (;;) {
        auto log = b.log();
        if (count_lines(log, needle) > 0 || steady::now() >= end) return log;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
}

} // namespace bounds_support
