// A slow resolver for tests (LD_PRELOAD): getaddrinfo() of a name `<N>.slow.test` (the .test
// domain is reserved, RFC 6761) sleeps N milliseconds, then answers as for 127.0.0.1, as a DNS
// server that takes that long would. Every other call goes to the C library unchanged, and so
// does a numeric-only one (AI_NUMERICHOST: no resolver, no wait). This makes a slow lookup
// without network access and without changing the system's resolver configuration
// (bridge_dns_test.py).

#include <dlfcn.h>
#include <netdb.h>
#include <time.h>

#include <cstdlib>
#include <cstring>

namespace {

using getaddrinfo_fn = int (*)(const char*, const char*, const addrinfo*, addrinfo**);

constexpr const char* suffix = ".slow.test";

// The delay named by `host`, or -1 when it is not a slow name.
long delay_ms(const char* host) {
    if (host == nullptr) return -1;
    const std::size_t len = std::strlen(host);
    const std::size_t tail = std::strlen(suffix);
    if (len <= tail || std::strcmp(host + len - tail, suffix) != 0) return -1;
    char* end = nullptr;
    const long ms = std::strtol(host, &end, 10);
    return end == host + (len - tail) && ms >= 0 ? ms : -1;
}

} // namespace

extern "C" int getaddrinfo(const char* node, const char* service, const addrinfo* hints,
                           addrinfo** res) {
    static const auto real = reinterpret_cast<getaddrinfo_fn>(::dlsym(RTLD_NEXT, "getaddrinfo"));
    const long ms = delay_ms(node);
    if (ms < 0 || (hints != nullptr && (hints->ai_flags & AI_NUMERICHOST) != 0))
        return real(node, service, hints, res);
    timespec t{ms / 1000, (ms % 1000) * 1000000L};
    while (::nanosleep(&t, &t) != 0) {
    }
    return real("127.0.0.1", service, hints, res);
}
