// Measurements behind conformance/broker/store/README.md: the durable store's log engine against
// SQLite in WAL mode, on the workloads a persistent MQTT broker has.
//
//   mqttwire_store_bench fanin   --engine E --batch B --fanout N --messages M [--sync] --dir D
//   mqttwire_store_bench fill    --engine E --retained R --sessions S --dir D
//   mqttwire_store_bench load    --engine E --dir D
//   mqttwire_store_bench compact --engine E --dir D
//   mqttwire_store_bench all     --dir D [--quick]    (everything above, each in its own process)
//
// Engines: log (durable_store), sqlite-off, sqlite-normal, sqlite-full (WAL with synchronous
// OFF / NORMAL / FULL). --sync selects the log's fdatasync per commit, or sqlite-full.
//
// QoS 1 fan-in, per message: put the body once (kind 1, 8-byte message id, 140 bytes: topic and
// a 100-byte payload), put one queue entry per subscribed session (kind 2, session and message
// id, 4 bytes: packet id and state); when acknowledged (the next commit: one event-loop turn
// later), erase the N queue entries and the body. One commit per B messages.
//
// Bytes written are wchar from /proc/self/io: everything handed to write()/pwrite() by this
// process, compaction and SQLite checkpoints included.

#include "store_bench.hpp"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

namespace mqttwire::broker::bench {

namespace {

// Runs `args` as a child process of this program: a fresh process per measurement, so that
// peak RSS and the page tables of one do not leak into the next.
int run_child(const std::vector<std::string>& args) {
    std::fflush(stdout);
    const pid_t pid = ::fork();
    if (pid == 0) {
        std::vector<char*> argv;
        for (const auto& a : args) {
            argv.push_back(const_cast<char*>(a.c_str()));
        }
        argv.push_back(nullptr);
        ::execv("/proc/self/exe", argv.data());
        std::_Exit(127);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

void clear_dir(const std::string& dir) {
    for (const char* f : {"/bench.store", "/bench.store.compact", "/bench.sqlite",
                          "/bench.sqlite-wal", "/bench.sqlite-shm"}) {
        (void)::unlink((dir + f).c_str());
    }
}

int cmd_all(const options& o) {
    const std::string self = "mqttwire_store_bench";
    const std::vector<std::string> engines = {"log", "sqlite-off", "sqlite-normal"};
    const std::string n = o.quick ? "20000" : "200000";
    for (const auto& eng : engines) {
        for (const char* batch : {"1", "16", "256"}) {
            for (const char* fanout : {"1", "10"}) {
                clear_dir(o.dir);
                // One commit per message is slow on SQLite: fewer messages there.
                const std::string m = std::string(batch) == "1" ? (o.quick ? "5000" : "50000") : n;
                run_child({self, "fanin", "--engine", eng, "--batch", batch, "--fanout", fanout,
                           "--messages", m, "--dir", o.dir});
            }
        }
    }
    for (const char* eng : {"log", "sqlite-normal"}) {
        for (const char* batch : {"1", "16", "256"}) {
            clear_dir(o.dir);
            run_child({self, "fanin", "--engine", eng, "--sync", "--batch", batch, "--fanout", "1",
                       "--messages", o.quick ? "2000" : "20000", "--dir", o.dir});
        }
    }
    const std::string retained = o.quick ? "100000" : std::to_string(o.retained);
    const std::string sessions = o.quick ? "10000" : std::to_string(o.sessions);
    for (const auto& eng : {std::string("log"), std::string("sqlite-normal")}) {
        clear_dir(o.dir);
        run_child({self, "fill", "--engine", eng, "--retained", retained, "--sessions", sessions,
                   "--dir", o.dir});
        run_child({self, "load", "--engine", eng, "--dir", o.dir});
        std::vector<std::string> args = {self,     "compact",    "--engine", eng,     "--retained",
                                         retained, "--sessions", sessions,   "--dir", o.dir};
        if (o.quick) {
            args.emplace_back("--quick");
        }
        run_child(args);
    }
    clear_dir(o.dir);
    return 0;
}

options parse(int argc, char** argv) {
    options o;
    if (argc < 2) {
        die("usage: mqttwire_store_bench fanin|fill|load|compact|all [--engine E] [--batch B] "
            "[--fanout N] [--messages M] [--retained R] [--sessions S] [--sync] [--quick] --dir D");
    }
    o.command = argv[1];
    for (int i = 2; i < argc; ++i) {
        const std::string a = argv[i];
        const auto value = [&]() -> std::string {
            if (i + 1 >= argc) {
                die(a + " needs a value");
            }
            return argv[++i];
        };
        if (a == "--engine") {
            o.engine = value();
        } else if (a == "--dir") {
            o.dir = value();
        } else if (a == "--batch") {
            o.batch = std::stoull(value());
        } else if (a == "--fanout") {
            o.fanout = std::stoull(value());
        } else if (a == "--messages") {
            o.messages = std::stoull(value());
        } else if (a == "--retained") {
            o.retained = std::stoull(value());
        } else if (a == "--sessions") {
            o.sessions = std::stoull(value());
        } else if (a == "--sync") {
            o.sync = true;
        } else if (a == "--quick") {
            o.quick = true;
        } else {
            die("unknown option " + a);
        }
    }
    if (o.dir.empty()) {
        die("--dir DIR is required (a directory on the disk to measure)");
    }
    return o;
}

} // namespace

} // namespace mqttwire::broker::bench

int main(int argc, char** argv) {
    using namespace mqttwire::broker::bench;
    const auto o = parse(argc, argv);
    if (o.command == "fanin") {
        return cmd_fanin(o);
    }
    if (o.command == "fill") {
        return cmd_fill(o);
    }
    if (o.command == "load") {
        return cmd_load(o);
    }
    if (o.command == "compact") {
        return cmd_compact(o);
    }
    if (o.command == "all") {
        return cmd_all(o);
    }
    die("unknown command " + o.command);
}
