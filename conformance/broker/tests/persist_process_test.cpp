// Persistence against the real mqttwire-broker process (`persistence true`): retained messages
// and persistent sessions survive SIGTERM and kill -9; nothing acknowledged is lost (the record
// reaches the operating system before the acknowledgement leaves); a torn tail is reported and
// the valid prefix loaded; mosquitto's database and a store of a newer format are refused with
// a clear message and left untouched. The soak at the end kills the broker at random points
// while a QoS 1 and a QoS 2 stream flow into a persistent session.

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>

#include "process_support.hpp"
#include "store/durable_hash.hpp"

using namespace bounds_support;

namespace {

std::vector<std::byte> text(std::string_view s) {
    const auto b = std::as_bytes(std::span<const char>(s.data(), s.size()));
    return {b.begin(), b.end()};
}

std::string text_of(std::span<const std::byte> b) {
    return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

std::string file_bytes(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

/// A directory with a broker configuration, and the broker started on it again and again
/// (each start on a free port, its stderr in a log of its own).
class persistent_broker {
  public:
    explicit persistent_broker(std::vector<std::string> extra = {}) {
        char t[] = "/tmp/mqttwire-persist.XXXXXX";
        const char* d = ::mkdtemp(t);
        if (d == nullptr) throw std::runtime_error("mkdtemp failed");
        dir_ = d;
        std::ofstream f(dir_ + "/broker.conf");
        f << "persistence true\npersistence_location " << dir_ << "\n";
        for (const auto& l : extra) f << l << '\n';
    }
    ~persistent_broker() {
        kill9();
        (void)std::system(("rm -rf '" + dir_ + "'").c_str());
    }
    persistent_broker(const persistent_broker&) = delete;
    persistent_broker& operator=(const persistent_broker&) = delete;

    [[nodiscard]] const std::string& dir() const { return dir_; }
    [[nodiscard]] std::string store_path() const { return dir_ + "/mqttwire.store"; }
    [[nodiscard]] std::uint16_t port() const { return port_; }
    [[nodiscard]] std::string log() const { return read_file(log_path_); }

    /// Starts the broker; false (the log says why) when it exited or did not listen in 10 s.
    /// `crash_at_store_write` > 0: the broker kills itself at that write() to its store
    /// (tests/crash_at_store_write.cpp).
    bool start(long crash_at_store_write = 0) {
        ++runs_;
        log_path_ = dir_ + "/broker." + std::to_string(runs_) + ".log";
        pid_ = spawn_broker(dir_ + "/broker.conf", log_path_, [crash_at_store_write] {
            if (crash_at_store_write > 0) {
                ::setenv("LD_PRELOAD", MQTTWIRE_CRASH_SHIM, 1);
                ::setenv("MQTTWIRE_CRASH_AT_STORE_WRITE",
                         std::to_string(crash_at_store_write).c_str(), 1);
                ::setenv("ASAN_OPTIONS", "verify_asan_link_order=0", 1);
            }
        });
        constexpr int still_running = -2;
        exit_status_ = still_running;
        port_ = wait_listening(pid_, log_path_, &exit_status_);
        if (port_ != 0) return true;
        if (exit_status_ == still_running) kill9(); // did not listen in time
        pid_ = -1;                                  // exited, and reaped
        return false;
    }
    /// The exit status of a start() that failed.
    [[nodiscard]] int exit_status() const { return exit_status_; }

    void kill9() {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
        pid_ = -1;
    }
    /// SIGTERM; the exit status (or -1 after 10 s, then killed).
    int term() {
        if (pid_ <= 0) return -1;
        ::kill(pid_, SIGTERM);
        for (int i = 0; i < 1000; ++i) {
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
            }
            std::this_thread::sleep_for(10ms);
        }
        kill9();
        return -1;
    }

  private:
    std::string dir_;
    std::string log_path_;
    pid_t pid_ = -1;
    std::uint16_t port_ = 0;
    int runs_ = 0;
    int exit_status_ = 0;
};

/// Retained messages a fresh subscriber to `filter` receives: topic → payload.
std::map<std::string, std::string> retained_of(std::uint16_t port, std::string_view filter) {
    client c(port);
    (void)c.connect("retained-reader");
    (void)c.subscribe(filter, qos::at_least_once);
    std::map<std::string, std::string> out;
    while (auto p = c.read(300ms)) {
        if (const auto* pv = std::get_if<publish_view>(&p->view)) {
            EXPECT_TRUE(pv->retain);
            out[std::string(pv->topic.as_string_view())] = text_of(pv->payload.bytes());
            if (pv->qos != qos::at_most_once) (void)c.ack(*pv);
        }
    }
    return out;
}

/// A round trip: the broker has processed (and, with persistence, committed) everything this
/// client sent before, because no output leaves before the turn's records are written.
void round_trip(client& c) {
    pingreq_view ping;
    ASSERT_TRUE(c.send(ping));
    ASSERT_TRUE(c.expect(packet_type::pingresp).has_value());
}

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

// ---------------------------------------------------------------------------------------------
// The kill -9 soak: a QoS 1 and a QoS 2 publisher (persistent sessions) stream numbered
// messages into a persistent subscriber while the broker is killed at random points 20 times
// and restarted. Every message a publisher saw acknowledged (PUBACK; PUBREC for QoS 2) is
// delivered afterwards: QoS 1 at least once, QoS 2 exactly once (the subscriber applies the
// QoS 2 receiver rules, MQTT-4.3.3-2, as a client library would), first deliveries in order.
// ---------------------------------------------------------------------------------------------

struct soak_publisher {
    std::string id;
    qos q;
    std::unique_ptr<client> c;
    std::uint64_t next = 0;                     // next message number to publish
    std::set<std::uint64_t> sent; // numbers not yet acknowledged
    std::set<std::uint64_t> recd; // QoS 2: PUBREC seen, PUBCOMP not yet
    std::set<std::uint64_t> acked;

    static std::uint16_t packet_id_of(std::uint64_t n) {
        return static_cast<std::uint16_t>(n % 60000 + 1);
    }
    void publish(std::uint64_t n, bool dup) {
        publish_view p;
        p.topic = utf8_view(id);
        const std::string body = std::to_string(n);
        const auto b = text(body);
        p.payload = binary_view(b);
        p.qos = q;
        p.packet_id = packet_id_of(n);
        p.dup = dup;
        (void)c->send(p);
    }
    void release(std::uint16_t pid) {
        pubrel_view r;
        r.packet_id = pid;
        (void)c->send(r);
    }
    // MQTT-4.4.0-1: on reconnect with a session, unacknowledged PUBLISH and PUBREL again.
    void resend() {
        for (const auto n : sent) publish(n, true); // in the order first sent
        for (const auto n : recd) release(packet_id_of(n));
    }
    void pump(std::size_t window) {
        while (sent.size() + recd.size() < window) {
            const auto n = next++;
            sent.insert(n);
            publish(n, false);
        }
    }
    // The window is small: identifiers are found by a scan.
    static std::optional<std::uint64_t> find(const std::set<std::uint64_t>& in, std::uint16_t pid) {
        for (const auto n : in)
            if (packet_id_of(n) == pid) return n;
        return std::nullopt;
    }
    void handle(const bounds_support::packet& p) {
        if (const auto* a = std::get_if<puback_view>(&p.view)) {
            if (const auto n = find(sent, a->packet_id)) {
                acked.insert(*n);
                sent.erase(*n);
            }
        } else if (const auto* r = std::get_if<pubrec_view>(&p.view)) {
            if (const auto n = find(sent, r->packet_id)) {
                acked.insert(*n);
                recd.insert(*n);
                sent.erase(*n);
            }
            if (find(recd, r->packet_id)) release(r->packet_id);
        } else if (const auto* c2 = std::get_if<pubcomp_view>(&p.view)) {
            if (const auto n = find(recd, c2->packet_id)) recd.erase(*n);
        }
    }
};

struct soak_subscriber {
    std::unique_ptr<client> c;
    std::map<std::string, std::map<std::uint64_t, int>> copies; // topic → number → deliveries
    std::map<std::string, std::vector<std::uint64_t>> first_order;
    std::set<std::uint16_t> awaiting_pubrel; // QoS 2 received, PUBREL not yet (kept across)

    void deliver(const std::string& topic, std::uint64_t n) {
        if (copies[topic][n]++ == 0) first_order[topic].push_back(n);
    }
    void handle(const bounds_support::packet& p) {
        if (const auto* pv = std::get_if<publish_view>(&p.view)) {
            const std::string topic(pv->topic.as_string_view());
            const auto n = std::stoull(text_of(pv->payload.bytes()));
            if (pv->qos == qos::at_least_once) {
                deliver(topic, n);
                (void)c->ack(*pv);
            } else if (pv->qos == qos::exactly_once) {
                if (awaiting_pubrel.insert(pv->packet_id).second) deliver(topic, n);
                pubrec_view r;
                r.packet_id = pv->packet_id;
                (void)c->send(r);
            }
        } else if (const auto* rel = std::get_if<pubrel_view>(&p.view)) {
            awaiting_pubrel.erase(rel->packet_id);
            pubcomp_view comp;
            comp.packet_id = rel->packet_id;
            (void)c->send(comp);
        }
    }
};

TEST(persist, soak_kill9_at_random_points_loses_nothing_acknowledged) {
    constexpr int kills = 20;
    constexpr std::size_t window = 16;
    // The subscriber's queue must hold everything the publishers can get ahead by.
    persistent_broker b({"max_queued_messages 0", "max_inflight_messages 20"});
    ASSERT_TRUE(b.start()) << b.log();
    const auto test_deadline = steady::now() + 75s;
    std::mt19937 rng(std::random_device{}());
    std::uniform_int_distribution<int> run_ms(20, 250);

    soak_subscriber sub;
    soak_publisher pubs[2] = {{"soak/q1", qos::at_least_once, {}, 0, {}, {}, {}},
                              {"soak/q2", qos::exactly_once, {}, 0, {}, {}, {}}};
    const auto connect_clients = [&](bool first) {
        sub.c.reset();
        for (auto& p : pubs) p.c.reset();
        sub.c = std::make_unique<client>(b.port());
        const auto a = sub.c->connect("soak-sub", false);
        if (!first) {
            EXPECT_TRUE(a.session_present);
        }
        if (first) {
            (void)sub.c->subscribe("soak/q1", qos::at_least_once, 1);
            (void)sub.c->subscribe("soak/q2", qos::exactly_once, 2);
        }
        for (auto& p : pubs) {
            p.c = std::make_unique<client>(b.port());
            const auto pa = p.c->connect(p.id, false);
            if (!first) {
                EXPECT_TRUE(pa.session_present);
            }
            p.resend();
        }
    };
    // False when the broker died meanwhile (a crash point reached while connecting).
    const auto connect_all = [&](bool first) {
        try {
            connect_clients(first);
            return true;
        } catch (const std::exception&) {
            return false;
        }
    };
    const auto reconnect = [&](long crash_at) {
        ASSERT_TRUE(b.start(crash_at)) << b.log();
        while (!connect_all(false)) {
            b.kill9();
            ASSERT_TRUE(b.start()) << b.log();
        }
    };
    // Runs the clients until `until` or until a connection closes (the broker died).
    const auto run = [&](steady::time_point until, bool publish) {
        while (steady::now() < until) {
            bool any = false;
            for (auto& p : pubs) {
                if (publish) p.pump(window);
                while (auto pk = p.c->read(0ms)) {
                    p.handle(*pk);
                    any = true;
                }
                if (p.c->closed()) return;
            }
            while (auto pk = sub.c->read(0ms)) {
                sub.handle(*pk);
                any = true;
            }
            if (sub.c->closed()) return;
            if (!any) {
                pollfd fds[3] = {{sub.c->fd(), POLLIN, 0},
                                 {pubs[0].c->fd(), POLLIN, 0},
                                 {pubs[1].c->fd(), POLLIN, 0}};
                (void)::poll(fds, 3, 2);
            }
        }
    };

    // Half of the kills come at a random time (SIGKILL from here), half at a random write()
    // to the store, before its bytes are written (the broker kills itself there): the point
    // where an acknowledgement sent too early would be lost.
    std::uniform_int_distribution<long> store_write(2, 120);
    ASSERT_TRUE(connect_all(true));
    for (int k = 0; k < kills && steady::now() < test_deadline; ++k) {
        run(steady::now() + std::chrono::milliseconds(run_ms(rng)), true);
        b.kill9();
        reconnect(k % 2 == 0 ? store_write(rng) : 0);
        if (HasFatalFailure()) return;
    }
    run(steady::now() + 300ms, true); // the last crash point may still be ahead
    b.kill9();
    reconnect(0);
    if (HasFatalFailure()) return;
    // Drain: no new messages; resends and deliveries finish.
    const auto drained = [&] {
        for (const auto& p : pubs) {
            if (!p.sent.empty() || !p.recd.empty()) return false;
            const auto& got = sub.copies[p.id];
            for (const auto n : p.acked)
                if (got.count(n) == 0) return false;
        }
        return true;
    };
    const auto drain_deadline = std::min(test_deadline, steady::now() + 15s);
    while (!drained() && steady::now() < drain_deadline) run(steady::now() + 100ms, false);
    EXPECT_EQ(b.term(), 0);

    std::size_t total = 0;
    for (const auto& p : pubs) {
        SCOPED_TRACE(p.id);
        const auto& got = sub.copies[p.id];
        std::size_t missing = 0, duplicated = 0;
        for (const auto n : p.acked) {
            const auto it = got.find(n);
            if (it == got.end()) {
                ++missing;
            } else if (it->second > 1) {
                ++duplicated;
            }
        }
        total += p.acked.size();
        EXPECT_GT(p.acked.size(), 40u) << "too few messages acknowledged to mean anything";
        EXPECT_EQ(missing, 0u) << "acknowledged but never delivered, of " << p.acked.size();
        if (p.q == qos::exactly_once) {
            EXPECT_EQ(duplicated, 0u) << "QoS 2 delivered twice";
        }
        const auto& order = sub.first_order[p.id];
        EXPECT_TRUE(std::is_sorted(order.begin(), order.end())) << "first deliveries out of order";
        // Everything delivered was published (no invented or corrupted numbers).
        for (const auto& [n, count] : got) EXPECT_LT(n, p.next);
    }
    std::printf("soak: %d kills, %zu messages acknowledged\n", kills, total);
}

} // namespace
