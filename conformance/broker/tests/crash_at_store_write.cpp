// A crash point for tests (LD_PRELOAD): with MQTTWIRE_CRASH_AT_STORE_WRITE=N, the process kills
// itself with SIGKILL at its Nth write() to a file whose name ends in ".store", before any of
// the bytes are written: exactly the moment between deciding to commit and the commit reaching
// the operating system. Whatever the process sent before that point must not depend on the
// commit (persist_process_test.cpp).

#include <dlfcn.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

using write_fn = ssize_t (*)(int, const void*, size_t);

bool is_store(int fd) {
    char link[64];
    std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    char target[4096];
    const ssize_t n = ::readlink(link, target, sizeof target - 1);
    if (n <= 0) return false;
    target[n] = '\0';
    const std::size_t len = static_cast<std::size_t>(n);
    return len >= 6 && std::strcmp(target + len - 6, ".store") == 0;
}

std::atomic<long> store_writes{0};

} // namespace

extern "C" ssize_t write(int fd, const void* buf, size_t count) {
    static const write_fn real = reinterpret_cast<write_fn>(::dlsym(RTLD_NEXT, "write"));
    static const long crash_at = [] {
        const char* v = std::getenv("MQTTWIRE_CRASH_AT_STORE_WRITE");
        return v != nullptr ? std::atol(v) : 0L;
    }();
    if (crash_at > 0 && is_store(fd) && ++store_writes == crash_at) ::kill(::getpid(), SIGKILL);
    return real(fd, buf, count);
}
