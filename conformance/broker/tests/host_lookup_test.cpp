// A bridge's host name lookup off the event loop (bridge/host_lookup.hpp): addresses without
// the resolver, a name resolved on a thread that signals its eventfd, a failure with the
// resolver's error, and a lookup let go while it runs. Names from the system's resolver:
// `localhost` (the hosts file) and `nonexistent.invalid` (RFC 6761: never resolves). The loop
// staying responsive while a lookup is slow: bridge_dns_test.py.

#include <gtest/gtest.h>

#include <poll.h>
#include <sys/socket.h>

#include <chrono>
#include <cstring>
#include <string>

#include "bridge/host_lookup.hpp"

namespace mqttwire::broker {
namespace {

// Waits (bounded) for the lookup's eventfd, as the event loop would.
bool wait_finished(const host_lookup& l, std::chrono::milliseconds limit) {
    pollfd p{l.fd(), POLLIN, 0};
    const int n = ::poll(&p, 1, static_cast<int>(limit.count()));
    return n == 1 && (p.revents & POLLIN) != 0 && l.finished();
}

TEST(bridge_host_lookup, addresses_need_no_resolver) {
    const auto v4 = host_lookup::numeric("127.0.0.1", "1883");
    ASSERT_NE(v4, nullptr);
    EXPECT_EQ(v4->ai_family, AF_INET);
    EXPECT_EQ(v4->ai_socktype, SOCK_STREAM);
    const auto v6 = host_lookup::numeric("::1", "1883");
    ASSERT_NE(v6, nullptr);
    EXPECT_EQ(v6->ai_family, AF_INET6);
    EXPECT_EQ(host_lookup::numeric("localhost", "1883"), nullptr);
    EXPECT_EQ(host_lookup::numeric("nonexistent.invalid", "1883"), nullptr);
}

TEST(bridge_host_lookup, a_name_resolves_on_its_thread) {
    host_lookup l;
    EXPECT_FALSE(l.held());
    EXPECT_EQ(l.fd(), -1);
    ASSERT_EQ(l.start("localhost", "1883"), "");
    EXPECT_TRUE(l.held());
    EXPECT_TRUE(l.is_for("localhost", "1883"));
    EXPECT_FALSE(l.is_for("localhost", "1884"));
    EXPECT_EQ(l.host(), "localhost");
    ASSERT_TRUE(wait_finished(l, std::chrono::seconds(10)));
    const auto found = l.take();
    ASSERT_NE(found, nullptr) << l.error();
    EXPECT_TRUE(found->ai_family == AF_INET || found->ai_family == AF_INET6);
    l.reset();
    EXPECT_FALSE(l.held());
    EXPECT_EQ(l.fd(), -1);
}

TEST(bridge_host_lookup, a_failure_carries_the_resolver_error) {
    host_lookup l;
    ASSERT_EQ(l.start("nonexistent.invalid", "1883"), "");
    ASSERT_TRUE(wait_finished(l, std::chrono::seconds(30)));
    EXPECT_EQ(l.take(), nullptr);
    const auto why = l.error();
    EXPECT_FALSE(why.empty());
    EXPECT_NE(why, "no address");
}

// Let go at once, many times over: each thread finishes into its own state (a sanitizer build
// reports a use after free or a leak otherwise), and a new lookup replaces a running one.
TEST(bridge_host_lookup, let_go_while_running) {
    for (int i = 0; i < 20; ++i) {
        host_lookup l;
        ASSERT_EQ(l.start("localhost", "1883"), "");
        if (i % 2 == 0) {
            ASSERT_EQ(l.start("localhost", "1884"), "");
        }
        EXPECT_TRUE(l.held());
    }
    host_lookup last;
    ASSERT_EQ(last.start("localhost", "1883"), "");
    EXPECT_TRUE(wait_finished(last, std::chrono::seconds(10)));
}

} // namespace
} // namespace mqttwire::broker
