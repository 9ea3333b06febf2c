#include "net/server.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>

#include "net/tcp_transport.hpp"

namespace mqttwire::broker {

namespace {

// "ADDRESS:PORT" of an accepted socket, for connection messages ("[ADDRESS]:PORT" for IPv6).
std::string peer_name(int fd) {
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return {};
    char host[INET6_ADDRSTRLEN] = {};
    if (addr.ss_family == AF_INET) {
        const auto* a = reinterpret_cast<const sockaddr_in*>(&addr);
        ::inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
        return std::string(host) + ":" + std::to_string(ntohs(a->sin_port));
    }
    if (addr.ss_family == AF_INET6) {
        const auto* a = reinterpret_cast<const sockaddr_in6*>(&addr);
        ::inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
        return "[" + std::string(host) + "]:" + std::to_string(ntohs(a->sin6_port));
    }
    return {};
}

constexpr int max_events = 256;
constexpr std::size_t read_chunk = 64 * 1024;
constexpr int reads_per_turn = 16; // fairness: at most 1 MiB per connection per loop turn
constexpr int flush_rounds = 8;    // writing can release more output (queued messages)
constexpr auto accept_retry = std::chrono::milliseconds(100);

int open_reserve() { return ::open("/dev/null", O_RDONLY | O_CLOEXEC); }

} // namespace

server::server(broker& b, log_sink log, std::int64_t max_connections)
    : broker_(b), log_(std::move(log)), max_connections_(max_connections), buf_(read_chunk) {
    epoll_ = ::epoll_create1(EPOLL_CLOEXEC);
    reserve_fd_ = open_reserve();
}

server::~server() {
    links_.clear(); // transports close their descriptors
    for (const auto& l : listeners_) ::close(l.fd);
    if (reserve_fd_ >= 0) ::close(reserve_fd_);
    if (signal_fd_ >= 0) ::close(signal_fd_);
    if (epoll_ >= 0) ::close(epoll_);
}

// Accepts one pending connection and closes it at once, using the reserve descriptor to have
// one to accept with. False when even that is impossible.
bool server::shed_one(int listen_fd) {
    if (reserve_fd_ < 0) return false;
    ::close(reserve_fd_);
    reserve_fd_ = -1;
    const int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd >= 0) {
        ::close(fd);
        ++refused_;
        broker_.connection_refused();
    }
    reserve_fd_ = open_reserve();
    return fd >= 0;
}

void server::accept_from(listener& l, clock::time_point now) {
    while (true) {
        const int fd = ::accept4(l.fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO) continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                if (!out_of_descriptors_) {
                    out_of_descriptors_ = true;
                    if (log_)
                        log_("mqttwire-broker: out of file descriptors with " +
                             std::to_string(open_links_) +
                             " connections open; new connections are closed until some are "
                             "free (raise ulimit -n)");
                }
                if (shed_one(l.fd)) continue;
                // Not even the reserve works: stop accepting for a moment instead of being
                // woken again at once for the same pending connection.
                set_accepting(false);
                accept_again_at_ = now + accept_retry;
            }
            return; // EAGAIN, or an error the next wake-up retries
        }
        if (out_of_descriptors_) {
            out_of_descriptors_ = false;
            if (log_)
                log_("mqttwire-broker: accepting connections again (" + std::to_string(refused_) +
                     " refused so far)");
        }
        if (reserve_fd_ < 0) reserve_fd_ = open_reserve();
        if (max_connections_ >= 0 && static_cast<std::int64_t>(open_links_) >= max_connections_) {
            ::close(fd);
            ++refused_;
            broker_.connection_refused();
            if (!at_max_connections_ && log_)
                log_("mqttwire-broker: max_connections (" + std::to_string(max_connections_) +
                     ") reached; refusing new connections");
            at_max_connections_ = true;
            continue;
        }
        at_max_connections_ = false;
        auto t = l.make(fd);
        if (!t) {
            ::close(fd);
            continue;
        }
        const conn_id id = broker_.accept(now, l.policy);
        if (broker_.wants_peer()) broker_.set_peer(id, peer_name(fd));
        if (!t->handshake_complete()) handshakes_.push_back({now + handshake_timeout_, id});
        const auto slot = static_cast<std::size_t>(fd);
        if (slot >= links_.size()) links_.resize(slot + 1);
        link& k = links_[slot];
        k.t = std::move(t);
        k.id = id;
        k.want_out = false;
        k.identity_given = false;
        k.handshaking = !k.t->handshake_complete();
        k.on_buffered = false;
        k.events = EPOLLIN | EPOLLRDHUP;
        const auto cslot = broker::slot_of(id);
        if (cslot >= fd_of_.size()) fd_of_.resize(cslot + 1, -1);
        fd_of_[cslot] = fd;
        ++open_links_;
        epoll_event ev{};
        ev.events = k.events;
        ev.data.u64 = static_cast<std::uint64_t>(fd);
        ::epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &ev);
    }
}

void server::update_interest(link& l) {
    // A paused connection is not read, so neither readiness nor a half-close is asked for
    // (either would wake the loop again at once); errors and hang-ups are always reported.
    const bool in = !broker_.held(l.id) && !l.t->input_paused();
    const std::uint32_t want = (in ? EPOLLIN | EPOLLRDHUP : 0u) |
                               (l.want_out || l.t->wants_write() ? EPOLLOUT : 0u);
    if (want == l.events) return;
    l.events = want;
    epoll_event ev{};
    ev.events = want;
    ev.data.u64 = static_cast<std::uint64_t>(l.t->fd());
    ::epoll_ctl(epoll_, EPOLL_CTL_MOD, l.t->fd(), &ev);
}

server::link* server::find(conn_id id) {
    const auto cslot = broker::slot_of(id);
    if (cslot >= fd_of_.size() || fd_of_[cslot] < 0) return nullptr;
    link& l = links_[static_cast<std::size_t>(fd_of_[cslot])];
    return l.id == id ? &l : nullptr;
}

void server::drop(conn_id id, clock::time_point now) {
    link* l = find(id);
    if (l == nullptr) return;
    ::epoll_ctl(epoll_, EPOLL_CTL_DEL, l->t->fd(), nullptr);
    l->t.reset(); // closes the descriptor
    l->id = 0;
    l->events = 0;
    l->want_out = false;
    fd_of_[broker::slot_of(id)] = -1;
    --open_links_;
    broker_.connection_lost(id, now);
}

bool server::durable(bool end_of_turn) {
    if (durability_failed_) return false;
    if (durability_ && !durability_(end_of_turn)) durability_failed_ = true;
    return !durability_failed_;
}

void server::flush(conn_id id, clock::time_point now) {
    link* lp = find(id);
    if (lp == nullptr || !durable(false)) return;
    link& l = *lp;
    l.want_out = false;
    // A layered transport's own bytes (handshake messages, alerts, pongs) go out even when the
    // broker has nothing to say: an empty write pushes them.
    if (l.t->wants_write()) {
        if (l.t->write({}).status == io_status::error) {
            drop(id, now);
            return;
        }
        // Output that drained may let the layer decode input it held back.
        if (l.t->has_buffered_input() && !l.on_buffered) {
            l.on_buffered = true;
            buffered_.push_back(id);
        }
    }
    while (true) {
        const auto out = broker_.pending_output(id);
        if (out.empty()) break;
        const auto r = l.t->write(out);
        if (r.status == io_status::ok && r.bytes > 0) {
            broker_.output_written(id, r.bytes, now);
            continue;
        }
        if (r.status == io_status::would_block || r.status == io_status::ok) {
            l.want_out = true;
            break;
        }
        drop(id, now); // the peer is gone
        return;
    }
    // A closing connection gets this one attempt: a client that does not read does not keep
    // it (and its buffers) alive.
    if (broker_.should_close(id)) {
        drop(id, now);
        return;
    }
    update_interest(l);
}

void server::flush_dirty(clock::time_point now) {
    if (!durable(true)) return;
    for (int round = 0; round < flush_rounds; ++round) {
        broker_.take_dirty(dirty_);
        if (dirty_.empty()) return;
        for (const conn_id id : dirty_) flush(id, now);
    }
}

void server::read_from(link& l, clock::time_point now) {
    const conn_id id = l.id;
    int r = 0;
    for (; r < reads_per_turn && broker_.wants_input(id); ++r) {
        // Straight into the connection's input buffer when it has room (no copy); the shared
        // buffer takes the read otherwise, and receive() keeps what does not fit.
        const std::span<std::byte> in_place = broker_.input_space(id);
        const std::span<std::byte> into = in_place.empty() ? std::span<std::byte>(buf_) : in_place;
        const auto got = l.t->read(into);
        const bool came = got.status == io_status::ok && got.bytes > 0;
        if (came && !l.identity_given) {
            // Bytes come only after the handshake: the identity precedes the CONNECT.
            l.identity_given = true;
            if (l.handshaking) handshake_done(now);
            l.handshaking = false;
            if (const std::string* user = l.t->identity()) broker_.set_identity(id, *user);
        }
        if (!in_place.empty()) broker_.input_written(id, came ? got.bytes : 0, now);
        if (came) {
            if (in_place.empty())
                broker_.receive(id, std::span<const std::byte>(buf_.data(), got.bytes), now);
            if (got.bytes < into.size() && !l.t->has_buffered_input()) return;
            continue;
        }
        if (got.status == io_status::would_block && l.t->has_buffered_input()) break;
        if (got.status == io_status::would_block) return;
        // EOF or error: what it sent before is processed, the rest of its output is tried once.
        flush(id, now);
        drop(id, now);
        return;
    }
    if (l.t->has_buffered_input() && !l.on_buffered) {
        l.on_buffered = true;
        buffered_.push_back(id);
    }
}

bool server::buffered_ready() const {
    return std::any_of(buffered_.begin(), buffered_.end(),
                       [this](conn_id id) { return broker_.wants_input(id); });
}

void server::read_buffered(clock::time_point now) {
    if (buffered_.empty()) return;
    buffered_scratch_.clear();
    buffered_scratch_.swap(buffered_);
    for (const conn_id id : buffered_scratch_) {
        link* l = find(id);
        if (l == nullptr) continue;
        l->on_buffered = false;
        if (!l->t->has_buffered_input()) continue;
        if (!broker_.wants_input(id)) {
            l->on_buffered = true; // paused: read when it resumes
            buffered_.push_back(id);
            continue;
        }
        read_from(*l, now);
        if (link* still = find(id)) update_interest(*still);
    }
}

// Registers the descriptor `e` has now, and what it waits for. Called right after each call
// into it, so a descriptor it closed cannot have been reused by an accepted connection yet.
void server::watch(outgoing_entry& e) {
    const int fd = e.o->fd();
    const auto gen = e.o->generation();
    const std::uint32_t want = fd < 0 ? 0u
                                      : (e.o->wants_read() ? EPOLLIN | EPOLLRDHUP : 0u) |
                                            (e.o->wants_write() ? EPOLLOUT : 0u);
    epoll_event ev{};
    ev.events = want;
    ev.data.u64 = outgoing_tag | static_cast<std::uint64_t>(&e - outgoing_.data());
    if (fd != e.fd || gen != e.generation) {
        if (e.fd >= 0) ::epoll_ctl(epoll_, EPOLL_CTL_DEL, e.fd, nullptr); // gone if closed
        if (fd >= 0) ::epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &ev);
    } else if (fd >= 0 && want != e.events) {
        ::epoll_ctl(epoll_, EPOLL_CTL_MOD, fd, &ev);
    }
    e.fd = fd;
    e.generation = gen;
    e.events = want;
}

int server::wait_ms(clock::time_point now) const {
    if (buffered_ready()) return 0;
    auto next = broker_.next_deadline();
    if (!handshakes_.empty() && (!next || handshakes_.front().at < *next))
        next = handshakes_.front().at;
    for (const auto& e : outgoing_)
        if (const auto d = e.o->deadline(); d && (!next || *d < *next)) next = d;
    if (!accepting_ && (!next || accept_again_at_ < *next)) next = accept_again_at_;
    if (release_heap_at_ && (!next || *release_heap_at_ < *next)) next = release_heap_at_;
    if (!next) return -1;
    if (*next <= now) return 0;
    const auto ms = std::chrono::ceil<std::chrono::milliseconds>(*next - now).count();
    return static_cast<int>(std::min<long long>(ms, 60'000));
}

void server::expire_handshakes(clock::time_point now) {
    while (!handshakes_.empty() && handshakes_.front().at <= now) {
        const conn_id id = handshakes_.front().id;
        handshakes_.pop_front();
        link* l = find(id);
        if (l == nullptr || l->t->handshake_complete()) continue;
        if (log_)
            log_("mqttwire-broker: " + l->t->describe() + ": handshake not complete after " +
                 std::to_string(handshake_timeout_.count()) + " ms (" +
                 l->t->handshake_progress() + "); closed");
        drop(id, now);
    }
}

sigset_t block_stop_signals() noexcept {
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGHUP);
    ::sigprocmask(SIG_BLOCK, &mask, nullptr);
    return mask;
}

int server::run() {
    if (epoll_ < 0) return 1;
    const sigset_t mask = block_stop_signals();
    ::signal(SIGPIPE, SIG_IGN);
    signal_fd_ = ::signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    if (signal_fd_ >= 0) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u64 = signal_tag;
        ::epoll_ctl(epoll_, EPOLL_CTL_ADD, signal_fd_, &ev);
    }
    std::array<epoll_event, max_events> events{};
    bool stop = false;
    while (!stop) {
        const int n = ::epoll_wait(epoll_, events.data(), max_events, wait_ms(clock::now()));
        if (n < 0 && errno != EINTR) return 1;
        const auto now = clock::now();
        for (int i = 0; i < n; ++i) {
            const auto data = events[static_cast<std::size_t>(i)].data.u64;
            const auto ev = events[static_cast<std::size_t>(i)].events;
            if (data == signal_tag) {
                signalfd_siginfo info{};
                while (::read(signal_fd_, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
                    if (info.ssi_signo != SIGHUP) stop = true;
                    else if (on_reload_) on_reload_();
                }
                continue;
            }
            if ((data & listener_tag) != 0) {
                accept_from(listeners_[static_cast<std::size_t>(data & ~listener_tag)], now);
                continue;
            }
            if ((data & outgoing_tag) != 0) {
                auto& e = outgoing_[static_cast<std::size_t>(data & ~outgoing_tag)];
                e.o->ready((ev & (EPOLLIN | EPOLLERR | EPOLLHUP | EPOLLRDHUP)) != 0,
                           (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP)) != 0, now);
                watch(e);
                continue;
            }
            const auto fd = static_cast<std::size_t>(data);
            if (fd >= links_.size() || links_[fd].id == 0) continue;
            link& l = links_[fd];
            const conn_id id = l.id;
            if ((ev & EPOLLOUT) != 0) flush(id, now);
            if (links_[fd].id != id) continue; // dropped while writing
            if ((ev & (EPOLLERR | EPOLLHUP)) != 0 && broker_.held(id)) {
                drop(id, now); // gone while paused: nothing it sent can be answered
                continue;
            }
            if ((ev & (EPOLLIN | EPOLLERR | EPOLLHUP | EPOLLRDHUP)) != 0) read_from(l, now);
            // A layer may have bytes of its own to send now (handshake replies): ask for
            // writability when the socket did not take them all.
            if (links_[fd].id == id) update_interest(links_[fd]);
        }
        read_buffered(now);
        expire_handshakes(now);
        release_heap_after_burst(now);
        if (!accepting_ && now >= accept_again_at_) set_accepting(true);
        broker_.tick(now);
        for (auto& e : outgoing_) {
            e.o->turn(now);
            watch(e);
        }
        flush_dirty(now);
        if (durability_failed_) break;
    }
    const auto now = clock::now();
    for (auto& e : outgoing_) e.o->shutdown(now);
    broker_.shutdown(now);
    flush_dirty(now);
    std::vector<conn_id> all;
    for (const auto& l : links_)
        if (l.id != 0) all.push_back(l.id);
    for (const conn_id id : all) drop(id, now);
    if (log_) {
        log_("mqttwire-broker: " + broker_.stats().summary());
        log_("mqttwire-broker: stopped");
    }
    return durability_failed_ ? 1 : 0;
}

} // namespace mqttwire::broker
