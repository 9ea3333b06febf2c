// What mqttwire_store_bench measures besides time: CPU time of the process and of the calling
// thread, bytes handed to write() (/proc/self/io), resident memory (/proc/self/status), file
// sizes.
#include "store_bench.hpp"

#include <cstdlib>
#include <fstream>
#include <string>

#include <sys/stat.h>
#include <time.h>

namespace mqttwire::broker::bench {

double seconds_since(clock_type::time_point t) {
    return std::chrono::duration<double>(clock_type::now() - t).count();
}

// CPU time of this thread: on a shared machine, wall-clock pauses are mostly time spent
// waiting for a core; CPU time is what the engine itself adds to an event-loop turn.
// CPU time of the whole process (user and system), in seconds.
double process_cpu_s() {
    timespec t{};
    ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

double thread_cpu_ms() {
    timespec t{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_nsec) / 1e6;
}

// ---- /proc ------------------------------------------------------------------------------------

namespace {

// The number after `name` on its line of a /proc file ("VmHWM:   1234 kB", "wchar: 5678").
std::uint64_t proc_field(const char* file, const char* name) {
    std::ifstream in(file);
    std::string line;
    const std::string prefix(name);
    while (std::getline(in, line)) {
        if (line.compare(0, prefix.size(), prefix) == 0) {
            return std::strtoull(line.c_str() + prefix.size(), nullptr, 10);
        }
    }
    return 0;
}

} // namespace

std::uint64_t bytes_written_by_process() { return proc_field("/proc/self/io", "wchar:"); }

memory_report memory() {
    return {proc_field("/proc/self/status", "VmHWM:"), proc_field("/proc/self/status", "RssAnon:"),
            proc_field("/proc/self/status", "RssFile:")};
}

std::uint64_t file_size_or_zero(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
}

} // namespace mqttwire::broker::bench
