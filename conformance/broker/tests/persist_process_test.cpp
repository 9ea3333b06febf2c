// Persistence against the real mqttwire-broker process (`persistence true`): retained messages
// and persistent sessions survive SIGTERM and kill -9; nothing acknowledged is lost (the record
// reaches the operating system before the acknowledgement leaves); a torn tail is reported and
// the valid prefix loaded; mosquitto's database and a store of a newer format are refused with
// a clear message and left untouched. The kill -9 soak is in persist_soak_test.cpp.

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>

#include "persist_support.hpp"
#include "store/durable_hash.hpp"

using namespace bounds_support;
using namespace persist_support;

namespace {

enum class stop_kind { sigterm, kill9 };

class persist_restart : public ::testing::TestWithParam<stop_kind> {
  protected:
    void restart(persistent_broker& b) {
        if (GetParam() == stop_kind::sigterm) {
            EXPECT_EQ(b.term(), 0);
        } else {
            b.kill9();
        }
        ASSERT_TRUE(b.start()) << b.log();
    }
};

TEST_P(persist_restart, retained_messages_survive) {
    // MQTT-3.3.1-5 / MQTT5-3.3.1-5: the retained message is stored and sent to later
    // subscribers; MQTT-3.3.1-10 / MQTT5-3.3.1-6: an empty retained payload removes it. A
    // QoS 0 retained PUBLISH has no acknowledgement: the PINGRESP after it is the proof that
    // its turn ended (and so was written).
    persistent_broker b;
    ASSERT_TRUE(b.start()) << b.log();
    {
        client p(b.port());
        (void)p.connect("retainer");
        ASSERT_TRUE(p.publish("home/light", text("ON"), qos::at_most_once, 0, true));
        ASSERT_TRUE(p.publish("home/temp", text("21.5"), qos::at_least_once, 1, true));
        ASSERT_TRUE(p.expect(packet_type::puback).has_value());
        ASSERT_TRUE(p.publish("home/gone", text("x"), qos::at_most_once, 0, true));
        ASSERT_TRUE(p.publish("home/gone", {}, qos::at_most_once, 0, true));
        round_trip(p);
    }
    restart(b);
    const auto got = retained_of(b.port(), "home/#");
    EXPECT_EQ(got, (std::map<std::string, std::string>{{"home/light", "ON"}, {"home/temp", "21.5"}}));
    // And once more: what was loaded is still on disk after a second restart.
    restart(b);
    EXPECT_EQ(retained_of(b.port(), "home/#").size(), 2u);
}

TEST_P(persist_restart, a_persistent_session_keeps_its_subscription_and_queue) {
    // MQTT-3.1.2-4 / MQTT-3.1.3-? : Clean Session 0 keeps subscriptions and QoS 1/2 messages
    // while offline; MQTT-3.2.2-2: session present; MQTT-4.6.0-2..4: in order.
    persistent_broker b;
    ASSERT_TRUE(b.start()) << b.log();
    {
        client s(b.port());
        (void)s.connect("keeper", false);
        (void)s.subscribe("q/#", qos::exactly_once);
    }
    {
        client p(b.port());
        (void)p.connect("producer");
        for (std::uint16_t i = 1; i <= 5; ++i) {
            ASSERT_TRUE(p.publish("q/x", text("m" + std::to_string(i)),
                                  i % 2 ? qos::at_least_once : qos::exactly_once, i));
            ASSERT_TRUE(p.expect(i % 2 ? packet_type::puback : packet_type::pubrec).has_value());
        }
    }
    restart(b);
    client s(b.port());
    const auto ack = s.connect("keeper", false);
    EXPECT_TRUE(ack.session_present);
    std::vector<std::string> got;
    while (auto p = s.read(500ms)) {
        if (const auto* pv = std::get_if<publish_view>(&p->view)) {
            got.push_back(text_of(pv->payload.bytes()));
            if (pv->qos == qos::at_least_once) {
                (void)s.ack(*pv);
            } else {
                pubrec_view r;
                r.packet_id = pv->packet_id;
                (void)s.send(r);
            }
        } else if (const auto* rel = std::get_if<pubrel_view>(&p->view)) {
            pubcomp_view c;
            c.packet_id = rel->packet_id;
            (void)s.send(c);
        }
    }
    EXPECT_EQ(got, (std::vector<std::string>{"m1", "m2", "m3", "m4", "m5"}));
    // Delivered and acknowledged: after another restart nothing comes back.
    restart(b);
    client again(b.port());
    EXPECT_TRUE(again.connect("keeper", false).session_present);
    EXPECT_FALSE(again.read(300ms).has_value());
    // The subscription itself is still there.
    client p(b.port());
    (void)p.connect("producer");
    ASSERT_TRUE(p.publish("q/y", text("after"), qos::at_least_once, 9));
    const auto after = again.expect(packet_type::publish, 2000ms);
    ASSERT_TRUE(after.has_value());
    EXPECT_EQ(text_of(std::get<publish_view>(after->view).payload.bytes()), "after");
}

TEST_P(persist_restart, an_inbound_qos2_exchange_completes_exactly_once_across_it) {
    // MQTT5-4.3.3-? / MQTT-4.3.3-2: after PUBREC the receiver must not deliver the message again
    // for the same packet identifier until PUBREL; the identifier survives the restart, so the
    // PUBREL after it is answered with PUBCOMP reason 0 (not 0x92, identifier not found).
    persistent_broker b;
    ASSERT_TRUE(b.start()) << b.log();
    {
        client s(b.port(), protocol_version::v5);
        const property keep[] = {{property_id::session_expiry_interval, std::uint32_t{3600}}};
        (void)s.connect("q2-sub", false, keep);
        (void)s.subscribe("q2/#", qos::at_least_once);
    }
    const property keep[] = {{property_id::session_expiry_interval, std::uint32_t{3600}}};
    {
        client p(b.port(), protocol_version::v5);
        (void)p.connect("q2-pub", false, keep);
        ASSERT_TRUE(p.publish("q2/x", text("once"), qos::exactly_once, 7));
        ASSERT_TRUE(p.expect(packet_type::pubrec).has_value());
    }
    restart(b);
    client p(b.port(), protocol_version::v5);
    EXPECT_TRUE(p.connect("q2-pub", false, keep).session_present);
    // The publisher did not see the PUBREC arrive in time and sends the PUBLISH again (DUP).
    publish_view again;
    again.topic = utf8_view("q2/x");
    const auto body = text("once");
    again.payload = binary_view(body);
    again.qos = qos::exactly_once;
    again.packet_id = 7;
    again.dup = true;
    ASSERT_TRUE(p.send(again));
    ASSERT_TRUE(p.expect(packet_type::pubrec).has_value());
    pubrel_view rel;
    rel.packet_id = 7;
    ASSERT_TRUE(p.send(rel));
    const auto comp = p.expect(packet_type::pubcomp);
    ASSERT_TRUE(comp.has_value());
    EXPECT_EQ(std::get<pubcomp_view>(comp->view).reason, reason_code::success);
    client s(b.port(), protocol_version::v5);
    EXPECT_TRUE(s.connect("q2-sub", false, keep).session_present);
    int copies = 0;
    while (auto m = s.read(500ms)) {
        if (const auto* pv = std::get_if<publish_view>(&m->view)) {
            ++copies;
            (void)s.ack(*pv);
        }
    }
    EXPECT_EQ(copies, 1);
}

TEST_P(persist_restart, a_will_cut_by_the_restart_is_published_after_it) {
    // MQTT-3.1.2-8: the will is published when the network connection is closed without a
    // DISCONNECT. A broker that died had no chance to publish it; the restart does.
    persistent_broker b;
    ASSERT_TRUE(b.start()) << b.log();
    client w(b.port());
    connect_view c;
    c.client_id = utf8_view("device");
    c.clean_start = false;
    will_view will;
    will.topic = utf8_view("device/status");
    const auto offline = text("offline");
    will.payload = binary_view(offline);
    will.retain = true;
    will.qos = qos::at_least_once;
    c.will = will;
    ASSERT_TRUE(w.send(c));
    ASSERT_TRUE(w.expect(packet_type::connack).has_value());
    if (GetParam() == stop_kind::sigterm) {
        // A clean shutdown closes the connection without the will (as a DISCONNECT would).
        restart(b);
        EXPECT_TRUE(retained_of(b.port(), "device/#").empty());
        return;
    }
    restart(b);
    const auto deadline = steady::now() + 3s;
    std::map<std::string, std::string> got;
    while (got.empty() && steady::now() < deadline) got = retained_of(b.port(), "device/#");
    EXPECT_EQ(got, (std::map<std::string, std::string>{{"device/status", "offline"}}));
}

INSTANTIATE_TEST_SUITE_P(stop, persist_restart,
                         ::testing::Values(stop_kind::sigterm, stop_kind::kill9),
                         [](const auto& param_info) {
                             return param_info.param == stop_kind::sigterm ? std::string("sigterm")
                                                                     : std::string("kill9");
                         });

TEST(persist, session_expiry_counts_the_time_the_broker_was_down) {
    // MQTT5-3.1.2-23: the session ends when the Session Expiry Interval has passed since the
    // connection closed; the deadline is kept as a wall-clock time, so a restart does not
    // give the session a fresh interval.
    persistent_broker b;
    ASSERT_TRUE(b.start()) << b.log();
    const property short_lived[] = {{property_id::session_expiry_interval, std::uint32_t{1}}};
    const property long_lived[] = {{property_id::session_expiry_interval, std::uint32_t{3600}}};
    {
        client s1(b.port(), protocol_version::v5);
        (void)s1.connect("short", false, short_lived);
        (void)s1.subscribe("x", qos::at_least_once);
        client s2(b.port(), protocol_version::v5);
        (void)s2.connect("long", false, long_lived);
        (void)s2.subscribe("x", qos::at_least_once);
    }
    std::this_thread::sleep_for(100ms); // both disconnections processed
    EXPECT_EQ(b.term(), 0);
    std::this_thread::sleep_for(1500ms);
    ASSERT_TRUE(b.start()) << b.log();
    client s1(b.port(), protocol_version::v5);
    EXPECT_FALSE(s1.connect("short", false, short_lived).session_present);
    client s2(b.port(), protocol_version::v5);
    EXPECT_TRUE(s2.connect("long", false, long_lived).session_present);
}

TEST(persist, with_persistence_sync_what_was_acknowledged_is_kept_too) {
    // persistence_sync true adds an fdatasync to each commit (power loss); kill -9 behaves the
    // same as without it.
    persistent_broker b({"persistence_sync true"});
    ASSERT_TRUE(b.start()) << b.log();
    EXPECT_NE(b.log().find("synced before acknowledging"), std::string::npos) << b.log();
    {
        client p(b.port());
        (void)p.connect("retainer");
        for (std::uint16_t i = 1; i <= 5; ++i) {
            ASSERT_TRUE(p.publish("synced/" + std::to_string(i), text("v"), qos::at_least_once, i,
                                  true));
            ASSERT_TRUE(p.expect(packet_type::puback).has_value());
        }
    }
    b.kill9();
    ASSERT_TRUE(b.start()) << b.log();
    EXPECT_EQ(retained_of(b.port(), "synced/#").size(), 5u);
}

TEST(persist, a_torn_tail_is_reported_and_the_valid_prefix_loaded) {
    persistent_broker b;
    ASSERT_TRUE(b.start()) << b.log();
    {
        client p(b.port());
        (void)p.connect("retainer");
        ASSERT_TRUE(p.publish("state/a", text("1"), qos::at_least_once, 1, true));
        ASSERT_TRUE(p.expect(packet_type::puback).has_value());
    }
    b.kill9();
    const auto before = file_bytes(b.store_path());
    ASSERT_GT(before.size(), 32u);
    {
        // A batch cut short, as by a power cut: its header claims 100 bytes, 5 follow.
        std::ofstream f(b.store_path(), std::ios::binary | std::ios::app);
        const unsigned char torn[] = {0x12, 0x34, 0x56, 0x78, 100, 0, 0, 0, 1, 0, 0, 0, 1, 'R', 1};
        f.write(reinterpret_cast<const char*>(torn), sizeof torn);
    }
    ASSERT_TRUE(b.start()) << b.log();
    EXPECT_NE(b.log().find("ends inside a batch"), std::string::npos) << b.log();
    EXPECT_NE(b.log().find("dropped 15 bytes"), std::string::npos) << b.log();
    EXPECT_EQ(retained_of(b.port(), "state/#"),
              (std::map<std::string, std::string>{{"state/a", "1"}}));
    EXPECT_EQ(file_bytes(b.store_path()).substr(0, before.size()), before);
}

TEST(persist, a_store_of_a_newer_format_is_refused_and_left_untouched) {
    persistent_broker b;
    ASSERT_TRUE(b.start()) << b.log();
    EXPECT_EQ(b.term(), 0);
    std::string bytes = file_bytes(b.store_path());
    ASSERT_GE(bytes.size(), 32u);
    // Format version 2 (bytes 8..11, little-endian), with a header checksum that matches it.
    bytes[8] = 2;
    std::string covered = bytes.substr(0, 16) + bytes.substr(20, 12);
    const auto crc = mqttwire::broker::detail::crc32c(
        std::as_bytes(std::span<const char>(covered.data(), covered.size())));
    for (int i = 0; i < 4; ++i) bytes[16 + static_cast<std::size_t>(i)] = static_cast<char>(crc >> (8 * i));
    { std::ofstream(b.store_path(), std::ios::binary | std::ios::trunc) << bytes; }
    EXPECT_FALSE(b.start());
    EXPECT_EQ(b.exit_status(), 2);
    EXPECT_NE(b.log().find("store format version 2, newer than the version 1"), std::string::npos)
        << b.log();
    EXPECT_EQ(file_bytes(b.store_path()), bytes);
}

TEST(persist, mosquittos_database_is_refused_not_misread) {
    // A database written by mosquitto itself (persistence true, then SIGTERM, which saves it).
    const char* mosquitto = "/usr/sbin/mosquitto";
    ASSERT_EQ(::access(mosquitto, X_OK), 0) << "mosquitto is installed by ci/install-deps.sh";
    persistent_broker b({"persistence_file mosquitto.db"});
    const std::string db = b.dir() + "/mosquitto.db";
    {
        // A free port: bound to 0, read back, released.
        const int probe = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        ASSERT_EQ(::bind(probe, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
        ASSERT_EQ(::getsockname(probe, reinterpret_cast<sockaddr*>(&a), &len), 0);
        const auto port = ntohs(a.sin_port);
        ::close(probe);
        const std::string conf = b.dir() + "/mosquitto.conf";
        // `user root`: run as root (as CI is), mosquitto would otherwise switch to its own user,
        // which cannot write into this private directory.
        std::ofstream(conf) << "listener " << port << " 127.0.0.1\nallow_anonymous true\n"
                            << "persistence true\npersistence_location " << b.dir() << "/\n"
                            << (::geteuid() == 0 ? "user root\n" : "");
        const pid_t m = ::fork();
        ASSERT_GE(m, 0);
        if (m == 0) {
            const int null = ::open("/dev/null", O_WRONLY);
            ::dup2(null, 1);
            ::dup2(null, 2);
            ::execl(mosquitto, mosquitto, "-c", conf.c_str(), static_cast<char*>(nullptr));
            std::_Exit(127);
        }
        // Running once it accepts a connection; SIGTERM then makes it save its database.
        const auto until = steady::now() + 5s;
        while (steady::now() < until) {
            try {
                client probe_client(port);
                break;
            } catch (const std::exception&) {
                std::this_thread::sleep_for(20ms);
            }
        }
        ::kill(m, SIGTERM);
        ::waitpid(m, nullptr, 0);
    }
    const auto written = file_bytes(db);
    ASSERT_FALSE(written.empty()) << "mosquitto wrote no database";
    EXPECT_FALSE(b.start());
    EXPECT_EQ(b.exit_status(), 2);
    EXPECT_NE(b.log().find("is mosquitto's persistence file"), std::string::npos) << b.log();
    EXPECT_EQ(file_bytes(db), written);
}

TEST(persist, no_acknowledgement_leaves_before_its_record_reached_the_os) {
    // The broker dies at its Nth write() to the store, before the bytes are written, for N in
    // turn: each PUBLISH below is one event-loop turn and one commit. A client that saw PUBACK
    // (QoS 1), PUBREC (QoS 2) or, after a retained QoS 0 PUBLISH, the PINGRESP of a later
    // PINGREQ must find the message retained after a restart. An event loop that wrote its
    // output before committing would have answered the message whose commit died.
    for (const long crash_at : {2L, 3L, 4L, 6L, 9L}) {
        SCOPED_TRACE("crash at store write " + std::to_string(crash_at));
        persistent_broker b;
        ASSERT_TRUE(b.start(crash_at)) << b.log();
        std::vector<std::string> acknowledged;
        {
            client p(b.port());
            (void)p.connect("writer");
            for (std::uint16_t i = 1; i < 40; ++i) {
                const std::string topic = "k/" + std::to_string(i);
                const auto q = static_cast<qos>(i % 3);
                if (!p.publish(topic, text("v"), q, q == qos::at_most_once ? 0 : i, true)) break;
                std::optional<bounds_support::packet> answer;
                if (q == qos::at_most_once) {
                    pingreq_view ping;
                    if (!p.send(ping)) break;
                    answer = p.expect(packet_type::pingresp, 3000ms);
                } else {
                    answer = p.expect(q == qos::at_least_once ? packet_type::puback
                                                              : packet_type::pubrec,
                                      3000ms);
                }
                if (!answer) break; // the broker died first
                acknowledged.push_back(topic);
                if (q == qos::exactly_once) {
                    pubrel_view rel;
                    rel.packet_id = i;
                    if (!p.send(rel) || !p.expect(packet_type::pubcomp, 3000ms)) break;
                }
            }
        }
        b.kill9();
        ASSERT_TRUE(b.start()) << b.log();
        const auto kept = retained_of(b.port(), "k/#");
        for (const auto& t : acknowledged) EXPECT_EQ(kept.count(t), 1u) << t << " was lost";
        EXPECT_LT(acknowledged.size(), 39u) << "the crash point was never reached";
    }
}

} // namespace
