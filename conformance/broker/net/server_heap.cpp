// Giving the heap back after a burst of handshakes.
//
// A TLS handshake allocates tens of kilobytes for a moment (key exchange, certificate
// messages, record buffers) between the long-lived allocations of the connections around it.
// After a burst (every device of a home reconnecting after a restart of the broker), most of
// that memory is free but scattered between live objects, so the allocator cannot return it
// and the process keeps its peak: some 2 KB per TLS connection measured with 2,000 connections
// in batches of 200 (ci/bench-brokers.sh, scenario tls-idle-2000). Once handshakes have been
// quiet for a second after at least `burst` of them completed, glibc's malloc_trim returns
// every free page to the operating system. It walks the heap once: about a millisecond per
// 50 MB, at most once per quiet second, and never while handshakes keep arriving.

#include "net/server.hpp"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace mqttwire::broker {

namespace {

constexpr std::uint32_t burst = 16;
constexpr auto quiet = std::chrono::seconds(1);

} // namespace

void server::handshake_done(clock::time_point now) {
    ++handshakes_since_release_;
    release_heap_at_ = now + quiet;
}

void server::release_heap_after_burst(clock::time_point now) {
    if (!release_heap_at_ || now < *release_heap_at_) return;
    release_heap_at_.reset();
    if (handshakes_since_release_ < burst) return; // a trickle: the next one counts on
    handshakes_since_release_ = 0;
#if defined(__GLIBC__)
    ::malloc_trim(0);
#endif
}

} // namespace mqttwire::broker
