#pragma once
// A host name lookup off the event loop, for a bridge's remote address.
//
// `getaddrinfo` blocks for as long as the resolver takes: seconds per server and attempt when a
// DNS server does not answer. A lookup therefore runs on a thread of its own, which reports the
// end through an eventfd the loop watches (`fd()`, readable once `finished()`).
//
// Ownership: the thread and the handle share the lookup's state (host, answer, eventfd); the
// last one to let go frees it and closes the eventfd. A handle can thus drop a lookup at any
// time (`reset()`, the destructor: a time limit passed, the bridge stops or is destroyed)
// without waiting for the resolver: the thread, detached, finishes into its own state, writes
// to its own eventfd (never a number reused by another descriptor) and frees both. Nothing
// joins it, so a stop never hangs on DNS; a lookup still running when the process exits ends
// with it. The owner bounds how many run (a bridge: one at a time).
//
// An address (`127.0.0.1`, `::1`) needs no lookup: `numeric()` converts it at once.

#include <netdb.h>

#include <memory>
#include <string>

namespace mqttwire::broker {

/// The answer of `getaddrinfo`, freed with `freeaddrinfo`.
struct addrinfo_free {
    void operator()(addrinfo* a) const noexcept {
        if (a != nullptr) ::freeaddrinfo(a);
    }
};
using addrinfo_list = std::unique_ptr<addrinfo, addrinfo_free>;

class host_lookup {
  public:
    host_lookup() noexcept = default;
    ~host_lookup() = default; // lets go of the lookup; its thread frees the state
    host_lookup(host_lookup&&) noexcept = default;
    host_lookup& operator=(host_lookup&&) noexcept = default;
    host_lookup(const host_lookup&) = delete;
    host_lookup& operator=(const host_lookup&) = delete;

    /// `host` as a numeric IPv4 or IPv6 address (AI_NUMERICHOST: no resolver involved), for a
    /// stream socket to `port`; null when it is a name.
    [[nodiscard]] static addrinfo_list numeric(const std::string& host, const std::string& port);

    /// Starts resolving `host` (for a stream socket to `port`) on a thread of its own, dropping
    /// any lookup this handle had. Empty on success, otherwise why it could not start (no
    /// eventfd, no thread); the handle then holds nothing.
    [[nodiscard]] std::string start(const std::string& host, const std::string& port);

    /// Lets go of the lookup (see above); the handle then holds nothing.
    void reset() noexcept { state_.reset(); }

    /// A lookup is held (running, or finished and not yet let go).
    [[nodiscard]] bool held() const noexcept { return state_ != nullptr; }
    /// The held lookup's resolver returned.
    [[nodiscard]] bool finished() const noexcept;
    /// Readable once finished; -1 when nothing is held.
    [[nodiscard]] int fd() const noexcept;
    [[nodiscard]] bool is_for(const std::string& host, const std::string& port) const noexcept;
    [[nodiscard]] const std::string& host() const noexcept;

    /// Once finished: the addresses (null when the lookup failed), taken out of the lookup.
    [[nodiscard]] addrinfo_list take() noexcept;
    /// Once finished and failed: the resolver's error (`gai_strerror`, with the system's for
    /// EAI_SYSTEM).
    [[nodiscard]] std::string error() const;

  private:
    struct state;
    std::shared_ptr<state> state_;
};

} // namespace mqttwire::broker
