// A host name lookup on a thread of its own, reported through an eventfd (host_lookup.hpp).

#include "bridge/host_lookup.hpp"

#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <system_error>
#include <thread>

namespace mqttwire::broker {

// Shared by the handle and the thread. The thread writes `status`, `sys_errno` and `found`
// before `done` (release); the handle reads them only after seeing `done` (acquire).
struct host_lookup::state {
    std::string host;
    std::string port;
    int event_fd = -1;
    std::atomic<bool> done{false};
    int status = 0;
    int sys_errno = 0;
    addrinfo_list found;

    state(std::string h, std::string p, int fd) noexcept
        : host(std::move(h)), port(std::move(p)), event_fd(fd) {}
    state(const state&) = delete;
    state& operator=(const state&) = delete;
    ~state() {
        if (event_fd >= 0) ::close(event_fd);
    }
};

namespace {

addrinfo stream_hints(int flags) noexcept {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = flags;
    return hints;
}

} // namespace

addrinfo_list host_lookup::numeric(const std::string& host, const std::string& port) {
    const addrinfo hints = stream_hints(AI_NUMERICHOST | AI_NUMERICSERV);
    addrinfo* found = nullptr;
    if (::getaddrinfo(host.c_str(), port.c_str(), &hints, &found) != 0) return nullptr;
    return addrinfo_list(found);
}

std::string host_lookup::start(const std::string& host, const std::string& port) {
    state_.reset();
    const int efd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (efd < 0) return std::string("eventfd: ") + std::strerror(errno);
    std::shared_ptr<state> s;
    try {
        s = std::make_shared<state>(host, port, efd);
    } catch (const std::bad_alloc&) {
        ::close(efd);
        return "out of memory";
    }
    // The thread runs with every signal blocked: SIGINT, SIGTERM and SIGHUP belong to the
    // loop's signalfd, and a signal delivered to this thread instead would end the process.
    sigset_t all;
    sigset_t old;
    ::sigfillset(&all);
    ::pthread_sigmask(SIG_SETMASK, &all, &old);
    std::string error;
    try {
        std::thread([s]() noexcept {
            const addrinfo hints = stream_hints(AI_NUMERICSERV);
            addrinfo* found = nullptr;
            s->status = ::getaddrinfo(s->host.c_str(), s->port.c_str(), &hints, &found);
            s->sys_errno = errno;
            s->found.reset(found);
            s->done.store(true, std::memory_order_release);
            const std::uint64_t one = 1;
            (void)!::write(s->event_fd, &one, sizeof one);
        }).detach();
    } catch (const std::system_error& e) {
        error = std::string("no resolver thread: ") + e.what();
    }
    ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
    if (error.empty()) state_ = std::move(s);
    return error;
}

bool host_lookup::finished() const noexcept {
    return state_ != nullptr && state_->done.load(std::memory_order_acquire);
}

int host_lookup::fd() const noexcept { return state_ != nullptr ? state_->event_fd : -1; }

bool host_lookup::is_for(const std::string& host, const std::string& port) const noexcept {
    return state_ != nullptr && state_->host == host && state_->port == port;
}

const std::string& host_lookup::host() const noexcept {
    static const std::string none;
    return state_ != nullptr ? state_->host : none;
}

addrinfo_list host_lookup::take() noexcept {
    if (!finished()) return nullptr;
    return std::move(state_->found);
}

std::string host_lookup::error() const {
    if (!finished()) return "lookup not finished";
    const auto& s = *state_;
    if (s.status == 0) return s.found ? std::string() : "no address";
    std::string why = ::gai_strerror(s.status);
    if (s.status == EAI_SYSTEM) why += std::string(" (") + std::strerror(s.sys_errno) + ")";
    return why;
}

} // namespace mqttwire::broker
