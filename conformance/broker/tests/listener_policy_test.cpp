// Per-listener authentication and access rules (per_listener_settings true) and the identity a
// TLS transport establishes (use_identity_as_username): the core's side, without sockets. The
// process-level tests with real certificates are in transport_test.py.

#include "broker_harness.hpp"

namespace {

client connect_on(harness& h, const listener_policy* rules, const char* id,
                  const char* user = nullptr, const char* identity = nullptr) {
    client c{h.core().accept(h.now, rules), protocol_version::v3_1_1};
    if (identity != nullptr) h.core().set_identity(c.id, identity);
    connect_view p;
    p.client_id = id;
    p.clean_start = true;
    if (user != nullptr) p.user_name = user;
    h.send(c, p);
    return c;
}

acl_file acl_from(std::string_view text) {
    acl_file acl;
    std::string error;
    EXPECT_TRUE(acl.parse(text, "acl", error)) << error;
    return acl;
}

TEST(listener_policy, each_listener_applies_its_own_anonymous_setting) {
    // The broker-wide setting allows anonymous clients; the listener's own refuses them
    // (MQTT-3.2.2-5: CONNACK 5, then the connection closes).
    harness h;
    const listener_policy closed{.allow_anonymous = false};
    const auto refused = connect_on(h, &closed, "on-closed-listener");
    EXPECT_EQ(h.only<connack_view>(refused).return_code(), connect_return_code::not_authorized);
    EXPECT_TRUE(h.closing(refused));
    const auto accepted = connect_on(h, nullptr, "on-default-listener");
    EXPECT_EQ(h.only<connack_view>(accepted).return_code(), connect_return_code::accepted);
    // And the other way round: the broker refuses, an open listener accepts.
    settings s;
    s.allow_anonymous = false;
    harness h2(s);
    const listener_policy open{.allow_anonymous = true};
    EXPECT_EQ(h2.only<connack_view>(connect_on(h2, &open, "x")).return_code(),
              connect_return_code::accepted);
    EXPECT_EQ(h2.only<connack_view>(connect_on(h2, nullptr, "y")).return_code(),
              connect_return_code::not_authorized);
}

TEST(listener_policy, certificate_identity_needs_no_password_and_replaces_the_user_name) {
    // allow_anonymous false and no user name in CONNECT: the identity authenticates.
    harness h;
    const acl_file acl = acl_from("user sensor-1\ntopic write sensors/#\n");
    const listener_policy mtls{.allow_anonymous = false, .acl = &acl};
    const auto c = connect_on(h, &mtls, "dev", nullptr, "sensor-1");
    EXPECT_EQ(h.only<connack_view>(c).return_code(), connect_return_code::accepted);
    // The CONNECT's user name does not override the certificate's: "intruder" has no rules,
    // sensor-1 does.
    const auto d = connect_on(h, &mtls, "dev2", "intruder", "sensor-1");
    EXPECT_EQ(h.only<connack_view>(d).return_code(), connect_return_code::accepted);

    const auto watcher = connect_on(h, nullptr, "watcher");
    (void)h.read(watcher);
    std::vector<subscription> storage;
    h.send(watcher, subscribe_one(1, "#", qos::at_most_once, storage));
    (void)h.read(watcher);
    h.send(d, make_publish("sensors/kitchen", "21"));
    h.send(d, make_publish("salon/luz/cmd", "ON")); // not in sensor-1's ACL: not delivered
    const auto got = h.read(watcher);
    ASSERT_EQ(got.size(), 1u);
    const auto* p = std::get_if<publish_view>(&got[0].packet);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(p->topic.as_string_view(), "sensors/kitchen");
    EXPECT_EQ(payload_of(*p), "21");
}

TEST(listener_policy, the_acl_of_the_listener_not_the_broker_applies) {
    harness h; // no broker-wide ACL: everything allowed
    const acl_file acl = acl_from("topic read public/#\n");
    const listener_policy guarded{.allow_anonymous = true, .acl = &acl};
    const auto watcher = connect_on(h, nullptr, "watcher");
    (void)h.read(watcher);
    std::vector<subscription> storage;
    h.send(watcher, subscribe_one(1, "#", qos::at_most_once, storage));
    (void)h.read(watcher);
    const auto g = connect_on(h, &guarded, "guarded");
    (void)h.read(g);
    const auto u = connect_on(h, nullptr, "unguarded");
    (void)h.read(u);
    h.send(g, make_publish("private/x", "no"));  // the listener's ACL has no write rule
    h.send(u, make_publish("private/y", "yes")); // the broker-wide rules allow it
    const auto got = h.read(watcher);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(std::get<publish_view>(got[0].packet).topic.as_string_view(), "private/y");
}

} // namespace
