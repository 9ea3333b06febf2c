// The broker's mosquitto drop-in behaviour without sockets: $SYS topics (what mosquitto 2.0
// publishes, in its payload formats), connection messages and subscribe lines in mosquitto's
// shape, log lines published on $SYS/broker/log/..., and the client identifier directives.

#include "broker_harness.hpp"

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iterator>
#include <map>
#include <utility>

#include "config.hpp"
#include "logging/log_output.hpp"

namespace {

struct captured_log {
    std::vector<std::pair<log_type, std::string>> lines;
    [[nodiscard]] std::vector<std::string> of(log_type t) const {
        std::vector<std::string> out;
        for (const auto& [type, line] : lines)
            if (type == t) out.push_back(line);
        return out;
    }
};

settings logged(captured_log& log, std::uint32_t types = default_log_types) {
    settings s;
    s.typed_log = [&log](log_type t, std::string_view line) { log.lines.emplace_back(t, line); };
    s.log_types = types;
    return s;
}

// Topic -> (payload, RETAIN) of every PUBLISH waiting for `c`.
std::map<std::string, std::pair<std::string, bool>> publishes(harness& h, const client& c) {
    std::map<std::string, std::pair<std::string, bool>> out;
    for (const auto& r : h.read(c))
        if (const auto* p = std::get_if<publish_view>(&r.packet))
            out[std::string(p->topic.as_string_view())] = {payload_of(*p), p->retain};
    return out;
}

client subscribed(harness& h, const std::string& id, const char* filter) {
    const auto c = h.connect(id);
    std::vector<subscription> storage;
    h.send(c, subscribe_one(1, filter, qos::at_most_once, storage));
    (void)h.read(c); // CONNACK, SUBACK
    return c;
}

connect_view with_user(std::string_view id, std::string_view user, std::uint16_t keep_alive) {
    connect_view p;
    p.client_id = id;
    p.clean_start = true;
    p.keep_alive = keep_alive;
    p.user_name = utf8_view(user);
    p.password = binary_view("secret");
    return p;
}

// ---------------------------------------------------------------------------------------------
// $SYS

TEST(dropin_sys, published_retained_at_start_in_mosquitto_formats) {
    settings s;
    s.sys_interval = 10s;
    harness h(s);
    h.settle(); // the first round goes out at once, retained
    const auto sys = subscribed(h, "sys", "$SYS/#");
    (void)sys;
    const auto c = h.connect("watcher");
    std::vector<subscription> storage;
    h.send(c, subscribe_one(1, "$SYS/broker/#", qos::at_most_once, storage));
    const auto got = publishes(h, c);
    // Every topic the issue and mosquitto 2.0 name, with mosquitto's payload shape.
    for (const char* t :
         {"$SYS/broker/version", "$SYS/broker/uptime", "$SYS/broker/clients/connected",
          "$SYS/broker/clients/disconnected", "$SYS/broker/clients/maximum",
          "$SYS/broker/clients/total", "$SYS/broker/messages/received",
          "$SYS/broker/messages/sent", "$SYS/broker/bytes/received", "$SYS/broker/bytes/sent",
          "$SYS/broker/subscriptions/count", "$SYS/broker/retained messages/count",
          "$SYS/broker/publish/messages/dropped", "$SYS/broker/load/messages/received/1min",
          "$SYS/broker/load/messages/sent/1min"}) {
        ASSERT_TRUE(got.count(t)) << t;
        EXPECT_TRUE(got.at(t).second) << t << ": retained messages keep RETAIN=1 on subscribe";
    }
    EXPECT_EQ(got.at("$SYS/broker/version").first.rfind("mqttwire version ", 0), 0u);
    EXPECT_EQ(got.at("$SYS/broker/uptime").first, "0 seconds");
    EXPECT_EQ(got.at("$SYS/broker/clients/connected").first, "0"); // before anyone connected
    EXPECT_EQ(got.at("$SYS/broker/load/messages/received/1min").first, "0.00");
}

TEST(dropin_sys, hash_never_matches_sys_topics) {
    // MQTT-4.7.2-1 / MQTT5-4.7.2-1: a filter starting with a wildcard does not match topics
    // beginning with '$'; `#` and `+/...` subscribers get none of the $SYS traffic.
    settings s;
    s.sys_interval = 10s;
    harness h(s);
    const auto all = subscribed(h, "all", "#");
    const auto plus = subscribed(h, "plus", "+/broker/#");
    const auto sys = subscribed(h, "sys", "$SYS/#");
    h.settle();
    EXPECT_TRUE(publishes(h, all).empty());
    EXPECT_TRUE(publishes(h, plus).empty());
    const auto live = publishes(h, sys);
    ASSERT_TRUE(live.count("$SYS/broker/uptime"));
    // Delivered to an existing subscription: RETAIN=0 (MQTT-3.3.1-9).
    EXPECT_FALSE(live.at("$SYS/broker/uptime").second);
    // `#` still works for ordinary topics.
    const auto pub = h.connect("pub");
    (void)h.read(pub);
    h.send(pub, make_publish("a/b", "x"));
    EXPECT_EQ(publishes(h, all).count("a/b"), 1u);
}

TEST(dropin_sys, every_interval_only_changed_values) {
    settings s;
    s.sys_interval = 10s;
    harness h(s);
    const auto sys = subscribed(h, "sys", "$SYS/#");
    h.settle();
    const auto first = publishes(h, sys);
    EXPECT_EQ(first.at("$SYS/broker/clients/connected").first, "1");
    h.advance(9s);
    EXPECT_TRUE(publishes(h, sys).empty()) << "nothing before sys_interval";
    h.advance(1s);
    const auto second = publishes(h, sys);
    EXPECT_EQ(second.at("$SYS/broker/uptime").first, "10 seconds");
    EXPECT_EQ(second.count("$SYS/broker/version"), 0u) << "unchanged: not published again";
    EXPECT_EQ(second.count("$SYS/broker/clients/connected"), 0u);
    const auto other = h.connect("other");
    (void)h.read(other);
    h.advance(10s);
    const auto third = publishes(h, sys);
    EXPECT_EQ(third.at("$SYS/broker/clients/connected").first, "2");
    EXPECT_EQ(third.at("$SYS/broker/clients/maximum").first, "2");
    EXPECT_EQ(third.at("$SYS/broker/uptime").first, "20 seconds");
}

TEST(dropin_sys, interval_zero_publishes_nothing) {
    settings s;
    s.sys_interval = 0s;
    harness h(s);
    h.settle();
    const auto sys = subscribed(h, "sys", "$SYS/#");
    h.advance(60s);
    EXPECT_TRUE(publishes(h, sys).empty());
    EXPECT_EQ(h.core().retained_count(), 0u);
}

// ---------------------------------------------------------------------------------------------
// Connection messages (mosquitto's shape, notice), once per event

TEST(dropin_log, connection_messages_in_mosquitto_shape) {
    captured_log log;
    harness h(logged(log));
    auto c = h.open(protocol_version::v3_1_1);
    h.core().set_peer(c.id, "127.0.0.1:50000");
    h.send(c, with_user("alice", "alice", 60));
    (void)h.read(c);
    h.send(c, disconnect_view{});
    h.lose(c); // the event loop reports the closed socket afterwards: no second line
    auto v5 = h.open(protocol_version::v5);
    h.core().set_peer(v5.id, "[::1]:50001");
    connect_view p5;
    p5.client_id = "bob";
    p5.clean_start = false;
    p5.keep_alive = 30;
    h.send(v5, p5);
    h.lose(v5);
    EXPECT_EQ(log.of(log_type::notice),
              (std::vector<std::string>{
                  "New client connected from 127.0.0.1:50000 as alice (p2, c1, k60, u'alice').",
                  "Client alice disconnected.",
                  "New client connected from [::1]:50001 as bob (p5, c0, k30).",
                  "Client bob closed its connection."}));
}

TEST(dropin_log, takeover_and_keep_alive_end_lines) {
    captured_log log;
    harness h(logged(log));
    const auto first = h.connect("dave", protocol_version::v3_1_1, true, 1);
    (void)h.read(first);
    const auto second = h.connect("dave");
    (void)h.read(second);
    h.lose(first); // already closing: nothing more
    h.advance(1600ms);
    h.advance(1600ms); // no keep alive on `second`: it stays
    const auto carol = h.connect("carol", protocol_version::v3_1_1, true, 1);
    (void)h.read(carol);
    h.advance(1600ms); // 1.5 x Keep Alive without a packet
    h.lose(carol);
    const auto lines = log.of(log_type::notice);
    const std::vector<std::string> expected = {
        "New client connected from unknown as dave (p2, c1, k1).",
        "Client dave already connected, closing old connection.",
        "New client connected from unknown as dave (p2, c1, k0).",
        "New client connected from unknown as carol (p2, c1, k1).",
        "Client carol has exceeded timeout, disconnecting."};
    EXPECT_EQ(lines, expected);
}

TEST(dropin_log, connection_messages_false_logs_none) {
    captured_log log;
    settings s = logged(log);
    s.connection_messages = false;
    harness h(s);
    const auto c = h.connect("quiet");
    (void)h.read(c);
    h.lose(c);
    EXPECT_TRUE(log.of(log_type::notice).empty());
}

TEST(dropin_log, subscribe_and_unsubscribe_lines_when_asked_for) {
    captured_log log;
    harness h(logged(log, default_log_types | bit(log_type::subscribe) |
                               bit(log_type::unsubscribe)));
    const auto c = subscribed(h, "alice", "home/+/temp");
    const utf8_view filters[] = {"home/+/temp"};
    unsubscribe_view u;
    u.packet_id = 2;
    u.filters = filters;
    h.send(c, u);
    EXPECT_EQ(log.of(log_type::subscribe), std::vector<std::string>{"alice 0 home/+/temp"});
    EXPECT_EQ(log.of(log_type::unsubscribe), std::vector<std::string>{"alice home/+/temp"});
}

TEST(dropin_log, unwanted_types_are_not_logged) {
    captured_log log;
    harness h(logged(log, bit(log_type::error)));
    const auto c = subscribed(h, "alice", "a/#");
    h.lose(c);
    EXPECT_TRUE(log.lines.empty());
}

// ---------------------------------------------------------------------------------------------
// log_dest topic

TEST(dropin_log, queued_lines_go_to_sys_broker_log_at_the_next_tick) {
    harness h;
    const auto c = subscribed(h, "logs", "$SYS/broker/log/#");
    h.core().queue_log_message(log_type::notice, "1700000000: hello");
    h.core().queue_log_message(log_type::error, "1700000000: bad");
    h.core().queue_log_message(log_type::subscribe, "1700000000: alice 0 a");
    EXPECT_TRUE(publishes(h, c).empty()) << "not while the router may be mid-publication";
    h.settle();
    const auto got = publishes(h, c);
    EXPECT_EQ(got.at("$SYS/broker/log/N").first, "1700000000: hello");
    EXPECT_EQ(got.at("$SYS/broker/log/E").first, "1700000000: bad");
    EXPECT_EQ(got.at("$SYS/broker/log/M/subscribe").first, "1700000000: alice 0 a");
    EXPECT_FALSE(got.at("$SYS/broker/log/N").second) << "log lines are not retained";
    EXPECT_EQ(h.core().retained_count(), 0u);
}

TEST(dropin_log, queue_is_bounded) {
    harness h;
    const auto c = subscribed(h, "logs", "$SYS/broker/log/N");
    const std::size_t over = mqttwire::broker::broker::max_queued_log_lines + 500;
    for (std::size_t i = 0; i < over; ++i)
        h.core().queue_log_message(log_type::notice, std::to_string(i));
    h.settle();
    std::size_t n = 0;
    for (const auto& r : h.read(c)) n += std::holds_alternative<publish_view>(r.packet) ? 1 : 0;
    EXPECT_EQ(n, mqttwire::broker::broker::max_queued_log_lines);
}

// ---------------------------------------------------------------------------------------------
// Client identifiers

TEST(dropin_client_id, zero_length_refused_when_not_allowed) {
    // allow_zero_length_clientid false: the server does not accept an empty ClientId
    // (MQTT-3.1.3-6 leaves it the choice): 0x02 (MQTT-3.1.3-9) / 0x85 (MQTT5-3.1.3-8).
    settings s;
    s.allow_zero_length_clientid = false;
    harness h(s);
    const auto a = h.connect("", protocol_version::v3_1_1, true);
    EXPECT_EQ(h.only<connack_view>(a).return_code(), connect_return_code::identifier_rejected);
    EXPECT_TRUE(h.closing(a));
    const auto b = h.connect("", protocol_version::v5, true);
    EXPECT_EQ(h.only<connack_view>(b).reason, reason_code::client_identifier_not_valid);
    EXPECT_TRUE(h.closing(b));
    const auto named = h.connect("named");
    EXPECT_EQ(h.only<connack_view>(named).reason, reason_code::success);
}

TEST(dropin_client_id, auto_id_prefix_starts_assigned_identifiers) {
    // MQTT5-3.1.3-7: the assigned identifier comes back in CONNACK.
    settings s;
    s.auto_id_prefix = "auto-";
    harness h(s);
    const auto c = h.connect("", protocol_version::v5, true);
    const auto ack = h.only<connack_view>(c);
    const auto assigned = ack.properties.find(property_id::assigned_client_identifier);
    ASSERT_TRUE(assigned.has_value());
    const std::string id(assigned->string.as_string_view());
    EXPECT_EQ(id.rfind("auto-", 0), 0u) << id;
}

// ---------------------------------------------------------------------------------------------
// Log destinations

std::string file_text(const std::string& path) {
    std::ifstream f(path);
    return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

TEST(dropin_log_output, timestamps_as_mosquitto_writes_them) {
    ::setenv("TZ", "UTC", 1);
    ::tzset();
    log_output plain({log_dest_stderr, "", default_log_types, true, ""});
    EXPECT_EQ(plain.format("New client", 1700000000), "1700000000: New client");
    log_output formatted({log_dest_stderr, "", default_log_types, true, "%Y-%m-%dT%H:%M:%S"});
    EXPECT_EQ(formatted.format("x", 1700000000), "2023-11-14T22:13:20: x");
    log_output none({log_dest_stderr, "", default_log_types, false, "%Y"});
    EXPECT_EQ(none.format("x", 1700000000), "x");
}

TEST(dropin_log_output, file_types_topic_and_reopen) {
    char dir_template[] = "/tmp/mqttwire-logout.XXXXXX";
    const std::string dir = ::mkdtemp(dir_template);
    const std::string path = dir + "/broker.log";
    log_output out({log_dest_file | log_dest_topic, path,
                    bit(log_type::error) | bit(log_type::notice) | bit(log_type::debug), false,
                    ""});
    std::vector<std::pair<log_type, std::string>> topic;
    out.set_topic_sink([&](log_type t, std::string_view l) { topic.emplace_back(t, l); });
    out.open();
    out.write(log_type::notice, "one");
    out.write(log_type::information, "not wanted");
    out.write(log_type::debug, "debug line");
    EXPECT_EQ(file_text(path), "one\ndebug line\n");
    // mosquitto publishes every wanted type but debug.
    ASSERT_EQ(topic.size(), 1u);
    EXPECT_EQ(topic[0].first, log_type::notice);
    // After a rotation (rename, SIGHUP) lines go to a new file at the configured path.
    ASSERT_EQ(std::rename(path.c_str(), (path + ".1").c_str()), 0);
    out.reopen();
    out.write(log_type::error, "two");
    EXPECT_EQ(file_text(path), "two\n");
    EXPECT_EQ(file_text(path + ".1"), "one\ndebug line\n");
    std::remove(path.c_str());
    std::remove((path + ".1").c_str());
    ::rmdir(dir.c_str());
}

TEST(dropin_log_output, unopenable_file_falls_back_to_stderr_with_an_error) {
    log_output out({log_dest_file, "/nonexistent-dir/broker.log", default_log_types, false, ""});
    testing::internal::CaptureStderr();
    out.open();
    out.write(log_type::notice, "still logged");
    const std::string err = testing::internal::GetCapturedStderr();
    EXPECT_NE(err.find("cannot open log file '/nonexistent-dir/broker.log' for writing"),
              std::string::npos)
        << err;
    EXPECT_NE(err.find("still logged\n"), std::string::npos) << err;
}

} // namespace
