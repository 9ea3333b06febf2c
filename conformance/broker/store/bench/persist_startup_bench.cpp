// Start-up of mqttwire-broker with `persistence true` over a large store: writes N retained
// messages (zigbee2mqtt-shaped topics, 100-byte payloads) and M persistent sessions (three
// subscriptions each) through the broker's own persistent store, then starts the broker on it
// several times and reports the time from exec to listening, and its RSS then (VmRSS) and at
// its peak (VmHWM). The figures are in store/README.md.
//
//   mqttwire_persist_startup --broker PATH --dir DIR [--retained N] [--sessions M] [--runs R]
//                            [--distinct]
//
// Every session subscribes to `homeassistant/status` as Home Assistant clients do; --distinct
// gives each its own third filter instead, which leaves out the cost of many subscribers on
// one filter (the subscription index inserts each in time linear in those already there).
//
// DIR must be empty or absent; it is left with the store (delete it afterwards).

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "session/session.hpp"
#include "store/bench/bench_data.hpp"
#include "store/durable_broker_store.hpp"

using namespace mqttwire;
using namespace mqttwire::broker;
using steady = std::chrono::steady_clock;

namespace {

using mqttwire::broker::bench::retained_topic;

[[noreturn]] void die(const std::string& why) {
    std::fprintf(stderr, "mqttwire_persist_startup: %s\n", why.c_str());
    std::exit(1);
}

std::string read_file(const std::string& path) {
    std::ifstream f(path);
    return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}


void fill(const std::string& path, std::uint64_t retained, std::uint64_t sessions,
          bool distinct) {
    durable_broker_store::options o;
    auto opened = durable_broker_store::open(path, o);
    if (!opened) die(opened.status().message());
    auto& st = *opened.value();
    const auto commit = [&](std::uint64_t i) {
        if (i % 1000 != 999) return;
        if (auto s = st.commit(); !s) die(s.message());
    };
    for (std::uint64_t i = 0; i < retained; ++i) {
        auto m = std::make_shared<message>();
        m->topic = retained_topic(i);
        std::string body = "{\"battery\":97,\"humidity\":48.2,\"linkquality\":120,\"temperature\""
                           ":21.4,\"voltage\":3000,\"n\":" + std::to_string(i) + "}";
        body.resize(100, ' ');
        const auto b = std::as_bytes(std::span<const char>(body.data(), body.size()));
        m->payload.assign(b.begin(), b.end());
        m->qos = qos::at_least_once;
        m->retain = true;
        st.retain(m);
        commit(i);
    }
    for (std::uint64_t i = 0; i < sessions; ++i) {
        session s{protocol_storage{}};
        s.client_id = "client-" + std::to_string(i);
        s.version = protocol_version::v3_1_1;
        s.expiry_interval = never_expires;
        s.expires_at = clock::time_point::max(); // offline, kept until expired by policy
        const std::string filters[] = {
            "zigbee2mqtt/0x00124b00" + std::to_string(i % 100000) + "/set",
            distinct ? "homeassistant/status/" + std::to_string(i) : "homeassistant/status",
            "home/room" + std::to_string(i % 64) + "/+/cmd"};
        for (const auto& f : filters) {
            subscriber sub;
            sub.options.max_qos = qos::at_least_once;
            s.subscriptions.emplace(f, sub);
        }
        st.session_saved(s);
        commit(i);
    }
    if (auto s = st.commit(); !s) die(s.message());
}

long status_kb(pid_t pid, const char* key) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(f, line);)
        if (line.rfind(key, 0) == 0) return std::stol(line.substr(std::strlen(key)));
    return 0;
}

struct startup {
    double seconds = 0;
    double cpu_seconds = 0; ///< the broker's own (user + system): the machine is shared
    long rss_kb = 0;
    long anon_kb = 0; ///< heap: what the broker keeps (RssFile is the store's mapping)
    long peak_kb = 0;
    std::string store_line;
};

startup start_once(const std::string& broker, const std::string& dir, bool persistence) {
    const std::string conf = dir + "/bench.conf";
    {
        std::ofstream f(conf);
        if (persistence) f << "persistence true\npersistence_location " << dir << "\n";
    }
    const std::string log = dir + "/bench.log";
    std::remove(log.c_str()); // the previous run's "listening" must not be read as this one's
    const auto t0 = steady::now();
    const pid_t pid = ::fork();
    if (pid < 0) die("fork failed");
    if (pid == 0) {
        const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        ::dup2(fd, 2);
        ::execl(broker.c_str(), broker.c_str(), "-c", conf.c_str(), "-p", "0",
                static_cast<char*>(nullptr));
        std::_Exit(127);
    }
    startup r;
    while (true) {
        const std::string text = read_file(log);
        if (text.find("listening on port") != std::string::npos) {
            r.seconds = std::chrono::duration<double>(steady::now() - t0).count();
            std::smatch m;
            if (std::regex_search(text, m, std::regex("store [^\n]*"))) r.store_line = m[0];
            break;
        }
        int status = 0;
        if (::waitpid(pid, &status, WNOHANG) == pid) die("the broker exited: " + text);
        if (steady::now() - t0 > std::chrono::minutes(5)) die("no start within 5 minutes");
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    {
        std::istringstream in(read_file("/proc/" + std::to_string(pid) + "/stat"));
        std::string skip;
        for (int i = 0; i < 13; ++i) in >> skip;
        double utime = 0, stime = 0;
        in >> utime >> stime;
        r.cpu_seconds = (utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
    }
    r.rss_kb = status_kb(pid, "VmRSS:");
    r.anon_kb = status_kb(pid, "RssAnon:");
    r.peak_kb = status_kb(pid, "VmHWM:");
    ::kill(pid, SIGTERM);
    ::waitpid(pid, nullptr, 0);
    return r;
}

} // namespace

int main(int argc, char** argv) {
    std::string broker, dir;
    std::uint64_t retained = 1'000'000, sessions = 100'000;
    int runs = 3;
    bool distinct = false;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        const auto next = [&]() -> std::string {
            if (i + 1 >= argc) die(a + " needs a value");
            return argv[++i];
        };
        if (a == "--broker") broker = next();
        else if (a == "--dir") dir = next();
        else if (a == "--retained") retained = std::stoull(next());
        else if (a == "--sessions") sessions = std::stoull(next());
        else if (a == "--runs") runs = std::stoi(next());
        else if (a == "--distinct") distinct = true;
        else die("unknown argument " + a);
    }
    if (broker.empty() || dir.empty()) die("usage: --broker PATH --dir DIR [--retained N] "
                                           "[--sessions M] [--runs R]");
    ::mkdir(dir.c_str(), 0700);
    const std::string path = dir + "/mqttwire.store";
    const auto f0 = steady::now();
    fill(path, retained, sessions, distinct);
    struct stat sb{};
    ::stat(path.c_str(), &sb);
    std::printf("filled %llu retained messages and %llu sessions in %.1f s: %.1f MiB\n",
                static_cast<unsigned long long>(retained),
                static_cast<unsigned long long>(sessions),
                std::chrono::duration<double>(steady::now() - f0).count(),
                static_cast<double>(sb.st_size) / (1 << 20));
    const auto empty = start_once(broker, dir, false);
    std::printf("without persistence: listening after %.3f s, RSS %.1f MiB\n", empty.seconds,
                static_cast<double>(empty.rss_kb) / 1024);
    std::vector<double> times;
    for (int r = 0; r < runs; ++r) {
        const auto s = start_once(broker, dir, true);
        times.push_back(s.seconds);
        std::printf("run %d: listening after %.3f s (CPU %.2f s), RSS %.1f MiB (heap %.1f MiB), peak %.1f "
                    "MiB; %s\n",
                    r + 1, s.seconds, s.cpu_seconds, static_cast<double>(s.rss_kb) / 1024,
                    static_cast<double>(s.anon_kb) / 1024, static_cast<double>(s.peak_kb) / 1024,
                    s.store_line.c_str());
    }
    std::sort(times.begin(), times.end());
    std::printf("median start-up %.3f s (load average %s)\n", times[times.size() / 2],
                read_file("/proc/loadavg").substr(0, 14).c_str());
    return 0;
}
