// Holding input in the session layer (basic_connection::hold_input() / resume_input()): an
// embedder that cannot take a message now gives it back, unanswered, and gets it again later,
// as a broker does when a subscriber's queue is full. The peer's later packets wait behind it.

#include <gtest/gtest.h>

#include <optional>

#include "session_support.hpp"

namespace mqttwire::test {
namespace {

using storage = dynamic_storage<>;

session_limits limits() {
    return {.inflight = 4, .requests = 0, .inbound_qos2 = 4, .input_bytes = 1024,
            .output_bytes = 1024, .resend_bytes = 0, .aliases_in = 4, .alias_bytes_in = 256};
}

struct hold_test : ::testing::Test {
    storage st{limits()};
    session_state<storage> state{st};
    server<storage> s{0ms, server_options{}, st};

    void connect(std::string_view connect_bytes) {
        in(s, connect_bytes);
        ASSERT_EQ(event1(s, 0ms), "connect_request");
        ASSERT_EQ(s.accept(state), errc::success);
        (void)out(s);
    }
};

TEST_F(hold_test, MQTT_4_3_2_2_a_held_qos1_message_is_answered_once_when_taken_later) {
    connect(connect_311);
    in(s, "32 09 00 03 61 2f 62 00 01 68 69 # PUBLISH QoS 1, id 1, a/b = hi\n"
          " c0 00                           # PINGREQ behind it");
    ASSERT_EQ(event1(s, 0ms), "message 1 a/b=hi");
    ASSERT_EQ(s.hold_input(), errc::success);
    EXPECT_TRUE(s.input_held());
    EXPECT_EQ(events(s, 1ms), list({})) << "nothing is processed while held";
    EXPECT_EQ(out(s), "") << "no PUBACK and no PINGRESP yet";

    s.resume_input();
    EXPECT_FALSE(s.input_held());
    ASSERT_EQ(event1(s, 2ms), "message 1 a/b=hi") << "the same message again";
    s.acknowledge();
    EXPECT_EQ(events(s, 2ms), list({}));
    EXPECT_EQ(out(s), "40 02 00 01 d0 00") << "PUBACK once, then the PINGRESP, in order";
}

TEST_F(hold_test, a_held_qos0_message_is_delivered_once_after_resume) {
    connect(connect_311);
    in(s, "30 07 00 03 61 2f 62 68 69 # PUBLISH QoS 0, a/b = hi\n"
          " 30 07 00 03 61 2f 63 68 6f # PUBLISH QoS 0, a/c = ho");
    ASSERT_EQ(event1(s, 0ms), "message 0 a/b=hi");
    ASSERT_EQ(s.hold_input(), errc::success);
    EXPECT_EQ(events(s, 0ms), list({}));
    s.resume_input();
    EXPECT_EQ(events(s, 0ms), list({"message 0 a/b=hi", "message 0 a/c=ho"}));
    EXPECT_EQ(out(s), "");
}

TEST_F(hold_test, MQTT_4_3_3_2_a_held_qos2_message_is_delivered_exactly_once) {
    connect(connect_311);
    in(s, "34 09 00 03 61 2f 62 00 02 68 69 # PUBLISH QoS 2, id 2");
    ASSERT_EQ(event1(s, 0ms), "message 2 a/b=hi");
    ASSERT_EQ(s.hold_input(), errc::success);
    EXPECT_EQ(state.inbound_qos2(), 0u) << "not received yet: no PUBREC, identifier not kept";
    s.resume_input();
    ASSERT_EQ(event1(s, 0ms), "message 2 a/b=hi");
    s.acknowledge();
    EXPECT_EQ(events(s, 0ms), list({}));
    EXPECT_EQ(out(s), "50 02 00 02") << "one PUBREC";
    in(s, "34 09 00 03 61 2f 62 00 02 68 69 # the same PUBLISH again (before PUBREL)\n"
          " 62 02 00 02                     # PUBREL");
    EXPECT_EQ(events(s, 0ms), list({"peer_released 2"})) << "not delivered a second time";
    EXPECT_EQ(out(s), "50 02 00 02 70 02 00 02") << "PUBREC again, then PUBCOMP";
}

TEST_F(hold_test, MQTT5_3_3_2_12_a_held_message_by_alias_keeps_its_topic) {
    connect(plain_connect_5);
    in(s, "30 0b 00 03 61 2f 62 03 23 00 01 68 69 # QoS 0, a/b, Topic Alias 1, hi\n"
          " 30 08 00 00 03 23 00 01 68 6f          # QoS 0, Topic Alias 1 alone, ho");
    ASSERT_EQ(event1(s, 0ms), "message 0 a/b=hi");
    ASSERT_EQ(event1(s, 0ms), "message 0 a/b=ho");
    ASSERT_EQ(s.hold_input(), errc::success);
    s.resume_input();
    EXPECT_EQ(events(s, 0ms), list({"message 0 a/b=ho"}));
}

TEST_F(hold_test, only_an_unanswered_message_can_be_held) {
    EXPECT_EQ(s.hold_input(), errc::invalid_argument) << "not connected";
    connect(connect_311);
    EXPECT_EQ(s.hold_input(), errc::invalid_argument) << "no message";

    in(s, "32 09 00 03 61 2f 62 00 01 68 69 # PUBLISH QoS 1, id 1");
    ASSERT_EQ(event1(s, 0ms), "message 1 a/b=hi");
    s.acknowledge();
    EXPECT_EQ(s.hold_input(), errc::invalid_argument) << "acknowledged already";
    EXPECT_EQ(out(s), "40 02 00 01");

    in(s, "32 09 00 03 61 2f 62 00 03 68 69 # PUBLISH QoS 1, id 3");
    ASSERT_EQ(event1(s, 0ms), "message 3 a/b=hi");
    in(s, "c0 00 # PINGREQ: the input moves");
    EXPECT_EQ(s.hold_input(), errc::invalid_argument) << "input given since the event";
    EXPECT_EQ(events(s, 0ms), list({}));
    EXPECT_EQ(out(s), "40 02 00 03 d0 00");

    in(s, "c0 00 # PINGREQ");
    EXPECT_EQ(events(s, 0ms), list({}));
    EXPECT_EQ(s.hold_input(), errc::invalid_argument) << "the last event was not a message";
    EXPECT_EQ(out(s), "d0 00");
}

TEST_F(hold_test, MQTT_3_1_2_24_timers_and_closing_go_on_while_held) {
    connect(connect_311); // keep-alive 60 s
    in(s, "32 09 00 03 61 2f 62 00 01 68 69 # PUBLISH QoS 1, id 1");
    ASSERT_EQ(event1(s, 0ms), "message 1 a/b=hi");
    ASSERT_EQ(s.hold_input(), errc::success);
    // One and a half times the keep-alive after the PUBLISH: closed, held or not.
    EXPECT_EQ(events(s, 89'999ms), list({}));
    const auto ev = s.next(90'000ms);
    EXPECT_EQ(describe(ev), "closed local 0x8d");
    EXPECT_TRUE(ev.publish_will);
    EXPECT_FALSE(s.input_held()) << "a hold ends with its connection";
}

} // namespace
} // namespace mqttwire::test
