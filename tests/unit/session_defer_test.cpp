// Deferred acknowledgements in the session layer (basic_connection::defer() and
// acknowledge(packet_id, rc)): the PUBACK or PUBREC of an inbound QoS 1/2 PUBLISH leaves when the
// embedder says the message is safe, in any order. Annotated packets in, bytes out; statement
// ids name the rule each test checks.

#include <gtest/gtest.h>

#include <string>
#include <type_traits>
#include <vector>

#include "session_support.hpp"

namespace mqttwire::test {
namespace {

// Receive Maximum 4 (inbound_qos2), and up to 4 deferred acknowledgements.
using defer_storage = fixed_storage<session_limits{.inflight = 4,
                                                   .requests = 2,
                                                   .inbound_qos2 = 4,
                                                   .deferred_acks = 4,
                                                   .input_bytes = 512,
                                                   .output_bytes = 512,
                                                   .resend_bytes = 512}>;

std::string hex_byte(unsigned v) {
    static constexpr char d[] = "0123456789abcdef";
    return {d[(v >> 4) & 15], d[v & 15]};
}
// A QoS 1 PUBLISH "a/b" = "hi" with packet identifier `id` < 256 (3.1.1 form), one per line.
std::string qos1_311(unsigned id, bool dup = false) {
    return std::string(dup ? "3a" : "32") + " 09 00 03 61 2f 62 00 " + hex_byte(id) + " 68 69\n";
}
// The same with QoS 2.
std::string qos2_311(unsigned id, bool dup = false) {
    return std::string(dup ? "3c" : "34") + " 09 00 03 61 2f 62 00 " + hex_byte(id) + " 68 69\n";
}
// 5.0 forms: property length 0 after the packet identifier.
std::string qos1_5(unsigned id) { return "32 0a 00 03 61 2f 62 00 " + hex_byte(id) + " 00 68 69\n"; }
std::string qos2_5(unsigned id) { return "34 0a 00 03 61 2f 62 00 " + hex_byte(id) + " 00 68 69\n"; }

struct defer_test : ::testing::Test {
    session_state<defer_storage> state;
    client<defer_storage> c{state};

    void connect(protocol_version v, std::string_view connack, bool clean = true) {
        ASSERT_EQ(c.connect({.version = v, .client_id = "pc", .clean_start = clean,
                             .keep_alive = 60, .session_expiry = clean ? 0u : 60u},
                            0ms),
                  errc::success);
        (void)out(c);
        in(c, connack);
        const auto ev = c.next(0ms);
        ASSERT_EQ(ev.kind, event_kind::connected) << describe(ev);
    }
    // The next event must be the message `id`; its answer is deferred.
    void take_and_defer(unsigned id) {
        ASSERT_EQ(event1(c, 0ms), "message " + std::to_string(id) + " a/b=hi");
        const auto d = c.defer();
        ASSERT_TRUE(d) << errc_name(d.error());
        EXPECT_EQ(*d, id);
    }
};

TEST_F(defer_test, MQTT5_4_3_2_4_MQTT5_4_3_3_8_acknowledged_later_in_any_order) {
    connect(v311, "20 02 00 00");
    in(c, qos1_311(5) + qos1_311(3) + qos2_311(9));
    take_and_defer(5);
    take_and_defer(3);
    take_and_defer(9);
    EXPECT_EQ(event1(c, 0ms), "none");
    EXPECT_EQ(out(c), "") << "nothing answered before the embedder says so";
    EXPECT_EQ(c.deferred(), 3u);
    EXPECT_EQ(state.inbound_qos2(), 0u) << "no PUBREC sent yet";

    EXPECT_EQ(c.acknowledge(3), errc::success);
    EXPECT_EQ(out(c), "40 02 00 03") << "PUBACK 3";
    EXPECT_EQ(c.acknowledge(9), errc::success);
    EXPECT_EQ(out(c), "50 02 00 09") << "PUBREC 9";
    EXPECT_EQ(state.inbound_qos2(), 1u) << "9 awaits PUBREL now";
    EXPECT_EQ(c.acknowledge(5), errc::success);
    EXPECT_EQ(out(c), "40 02 00 05") << "PUBACK 5";
    EXPECT_EQ(c.deferred(), 0u);

    // MQTT-4.3.3-2: the QoS 2 flow goes on as usual.
    in(c, "62 02 00 09 # PUBREL");
    EXPECT_EQ(event1(c, 0ms), "peer_released 9");
    EXPECT_EQ(out(c), "70 02 00 09") << "PUBCOMP";
    EXPECT_EQ(state.inbound_qos2(), 0u);
}

TEST_F(defer_test, MQTT5_4_3_3_9_deferred_answers_carry_their_reason_codes) {
    connect(v5, "20 03 00 00 00");
    in(c, qos1_5(7) + qos2_5(8));
    take_and_defer(7);
    take_and_defer(8);
    EXPECT_EQ(c.acknowledge(8, reason_code::quota_exceeded), errc::success);
    EXPECT_EQ(out(c), "50 03 00 08 97") << "PUBREC 0x97";
    EXPECT_EQ(state.inbound_qos2(), 0u) << "an error PUBREC ends the exchange";
    EXPECT_EQ(c.acknowledge(7, reason_code::no_matching_subscribers), errc::success);
    EXPECT_EQ(out(c), "40 03 00 07 10") << "PUBACK 0x10";
    // A code PUBACK cannot carry is refused; the answer stays deferred.
    in(c, qos1_5(6));
    take_and_defer(6);
    EXPECT_NE(c.acknowledge(6, reason_code::server_shutting_down), errc::success);
    EXPECT_EQ(out(c), "");
    EXPECT_EQ(c.deferred(), 1u);
    EXPECT_EQ(c.acknowledge(6), errc::success);
    EXPECT_EQ(out(c), "40 02 00 06");
}

TEST_F(defer_test, MQTT5_3_3_4_9_deferred_messages_count_against_receive_maximum) {
    connect(v5, "20 03 00 00 00"); // Receive Maximum 4 announced
    in(c, qos1_5(1) + qos2_5(2) + qos1_5(3) + qos1_5(4));
    take_and_defer(1);
    take_and_defer(2);
    take_and_defer(3);
    take_and_defer(4);
    EXPECT_EQ(event1(c, 0ms), "none");
    // A fifth unacknowledged QoS 1 PUBLISH: the peer went over the Receive Maximum.
    in(c, qos1_5(5));
    EXPECT_EQ(event1(c, 0ms), "closed local 0x93");
    EXPECT_EQ(out(c), "e0 01 93") << "DISCONNECT Receive Maximum exceeded";
}

TEST_F(defer_test, MQTT5_3_3_4_9_an_acknowledged_one_makes_room) {
    connect(v5, "20 03 00 00 00");
    in(c, qos1_5(1) + qos1_5(2) + qos1_5(3) + qos1_5(4));
    for (unsigned id = 1; id <= 4; ++id) take_and_defer(id);
    EXPECT_EQ(c.acknowledge(2), errc::success);
    EXPECT_EQ(out(c), "40 02 00 02");
    in(c, qos1_5(5));
    EXPECT_EQ(event1(c, 0ms), "message 5 a/b=hi");
    EXPECT_EQ(event1(c, 0ms), "none");
    EXPECT_EQ(out(c), "40 02 00 05");
}

// Before 5.0 no Receive Maximum was announced: deferring more QoS 1 than the table holds fails
// and the message is answered at once, as if defer() had not been called.
TEST_F(defer_test, full_table_defer_fails_and_the_message_is_answered_as_usual) {
    connect(v311, "20 02 00 00");
    in(c, qos1_311(1) + qos1_311(2) + qos1_311(3) + qos1_311(4) + qos1_311(5));
    for (unsigned id = 1; id <= 4; ++id) take_and_defer(id);
    EXPECT_EQ(event1(c, 0ms), "message 5 a/b=hi");
    const auto d = c.defer();
    ASSERT_FALSE(d);
    EXPECT_EQ(d.error(), errc::quota_exceeded);
    EXPECT_EQ(event1(c, 0ms), "none");
    EXPECT_EQ(out(c), "40 02 00 05") << "answered at the next next()";
    EXPECT_EQ(c.deferred(), 4u);
}

TEST_F(defer_test, MQTT_4_3_3_2_MQTT5_4_3_3_10_qos2_resent_while_deferred_is_not_delivered_twice) {
    connect(v311, "20 02 00 00");
    in(c, qos2_311(7));
    take_and_defer(7);
    in(c, qos2_311(7, true) + " # DUP 1, same identifier");
    EXPECT_EQ(event1(c, 0ms), "none") << "not delivered again";
    EXPECT_EQ(out(c), "") << "and not answered before the embedder acknowledges";
    EXPECT_EQ(c.acknowledge(7), errc::success);
    EXPECT_EQ(out(c), "50 02 00 07");
    // Now it awaits PUBREL: a resend gets PUBREC again, still no second delivery.
    in(c, qos2_311(7, true));
    EXPECT_EQ(event1(c, 0ms), "none");
    EXPECT_EQ(out(c), "50 02 00 07");
    in(c, "62 02 00 07 # PUBREL");
    EXPECT_EQ(event1(c, 0ms), "peer_released 7");
    EXPECT_EQ(out(c), "70 02 00 07");
}

// QoS 1 could be delivered again; it is not: the embedder already holds the message and owes
// its answer, and until the PUBACK the identifier still names that message (MQTT5-4.3.2-5 the
// other way round). After the PUBACK the same identifier is a new message.
TEST_F(defer_test, MQTT5_4_3_2_5_qos1_resent_while_deferred_is_not_delivered_again) {
    connect(v311, "20 02 00 00");
    in(c, qos1_311(4));
    take_and_defer(4);
    in(c, qos1_311(4, true));
    EXPECT_EQ(event1(c, 0ms), "none");
    EXPECT_EQ(out(c), "");
    EXPECT_EQ(c.deferred(), 1u);
    EXPECT_EQ(c.acknowledge(4), errc::success);
    EXPECT_EQ(out(c), "40 02 00 04");
    in(c, qos1_311(4, true));
    EXPECT_EQ(event1(c, 0ms), "message 4 a/b=hi") << "a new message after the PUBACK";
}

TEST_F(defer_test, MQTT5_2_2_1_4_identifier_reused_with_another_qos_while_deferred) {
    connect(v5, "20 03 00 00 00");
    in(c, qos1_5(4));
    take_and_defer(4);
    in(c, qos2_5(4));
    EXPECT_EQ(event1(c, 0ms), "closed local 0x82");
    EXPECT_EQ(out(c), "e0 01 82");
}

// When the connection ends, deferred answers are forgotten: the peer resends the messages after
// reconnecting (MQTT-4.4.0-1) and they are delivered again as new ones. For QoS 2 that is still
// exactly once as far as the session goes: no PUBREC had left, so the peer never considered the
// message received; an embedder that made it durable before the connection ended sees it again
// and must recognise it (by its content or its own record of the identifier).
TEST_F(defer_test, MQTT_4_4_0_1_transport_close_forgets_deferred_answers) {
    connect(v311, "20 02 00 00", false);
    in(c, qos1_311(5) + qos2_311(9));
    take_and_defer(5);
    take_and_defer(9);
    c.transport_closed(1ms);
    EXPECT_EQ(event1(c, 1ms), "closed transport 0x80");
    EXPECT_EQ(c.acknowledge(5), errc::not_connected);
    EXPECT_EQ(c.deferred(), 0u);

    ASSERT_EQ(c.connect({.version = v311, .client_id = "pc", .clean_start = false}, 2ms),
              errc::success);
    (void)out(c);
    in(c, "20 02 01 00 # CONNACK, session present");
    EXPECT_EQ(event1(c, 2ms), "connected present");
    EXPECT_EQ(c.acknowledge(5), errc::packet_identifier_not_found);
    EXPECT_EQ(c.acknowledge(9), errc::packet_identifier_not_found);
    EXPECT_EQ(out(c), "") << "nothing sent for a forgotten identifier";
    EXPECT_EQ(state.inbound_qos2(), 0u) << "9 was never accepted";

    in(c, qos1_311(5, true) + qos2_311(9, true) + " # the server resends");
    EXPECT_EQ(events(c, 2ms), list({"message 5 a/b=hi", "message 9 a/b=hi"}));
    EXPECT_EQ(out(c), "40 02 00 05 50 02 00 09");
}

TEST_F(defer_test, unknown_identifiers_and_nothing_to_defer) {
    connect(v311, "20 02 00 00");
    EXPECT_EQ(c.acknowledge(42), errc::packet_identifier_not_found);
    EXPECT_EQ(c.defer().error(), errc::invalid_argument) << "no message";
    in(c, "30 07 00 03 61 2f 62 68 69 # QoS 0");
    EXPECT_EQ(event1(c, 0ms), "message 0 a/b=hi");
    EXPECT_EQ(c.defer().error(), errc::invalid_argument) << "QoS 0 has no answer";
    in(c, qos1_311(3));
    take_and_defer(3);
    EXPECT_EQ(c.defer().error(), errc::invalid_argument) << "deferred already";
    c.acknowledge(); // no answer pending: nothing
    EXPECT_EQ(out(c), "");
    EXPECT_EQ(c.acknowledge(3), errc::success);
    EXPECT_EQ(c.acknowledge(3), errc::packet_identifier_not_found) << "answered already";
    EXPECT_EQ(out(c), "40 02 00 03");
}

TEST_F(defer_test, a_full_output_buffer_keeps_the_answer_deferred) {
    connect(v311, "20 02 00 00");
    in(c, qos1_311(3));
    take_and_defer(3);
    // Fill the output buffer with a QoS 0 PUBLISH that leaves less than an answer's room.
    const std::string big(512 - 9 - 5, 'x');
    ASSERT_TRUE(publish_text(c, qos::at_most_once, "a/b", big));
    EXPECT_EQ(c.acknowledge(3), errc::would_block);
    EXPECT_EQ(c.deferred(), 1u);
    (void)out(c);
    EXPECT_EQ(c.acknowledge(3), errc::success);
    EXPECT_EQ(out(c), "40 02 00 03");
}

// ---------------------------------------------------------------------------------------------
// Server role, allocator-backed storage

TEST(defer_server, MQTT5_4_3_2_4_server_defers_and_counts_against_receive_maximum) {
    using server_storage = dynamic_storage<>;
    server_storage st{{.inflight = 4,
                       .requests = 0,
                       .inbound_qos2 = 2,
                       .deferred_acks = 2,
                       .input_bytes = 1024,
                       .output_bytes = 1024,
                       .resend_bytes = 0}};
    session_state<server_storage> state{st};
    server<server_storage> s(0ms, {}, st);
    in(s, "10 0f 00 04 4d 51 54 54 05 02 00 3c 00 00 02 70 63 # CONNECT 5.0 \"pc\"");
    ASSERT_EQ(event1(s, 0ms), "connect_request");
    ASSERT_EQ(s.accept(state, {}), errc::success);
    const auto connack = out(s);
    EXPECT_NE(connack.find("21 00 02"), std::string::npos) << "Receive Maximum 2: " << connack;
    in(s, qos2_5(1) + qos1_5(2));
    EXPECT_EQ(event1(s, 0ms), "message 1 a/b=hi");
    ASSERT_TRUE(s.defer());
    EXPECT_EQ(event1(s, 0ms), "message 2 a/b=hi");
    ASSERT_TRUE(s.defer());
    EXPECT_EQ(event1(s, 0ms), "none");
    EXPECT_EQ(out(s), "");
    EXPECT_EQ(s.acknowledge(2), errc::success);
    EXPECT_EQ(s.acknowledge(1), errc::success);
    EXPECT_EQ(out(s), "40 02 00 02 50 02 00 01");
    // 1 awaits PUBREL; two more unanswered would be three.
    in(s, qos1_5(3));
    EXPECT_EQ(event1(s, 0ms), "message 3 a/b=hi");
    ASSERT_TRUE(s.defer());
    in(s, qos1_5(4));
    EXPECT_EQ(event1(s, 0ms), "closed local 0x93");
}

// ---------------------------------------------------------------------------------------------
// Pay only for what you use (DESIGN rule 10)

TEST(defer_compiled_out, no_table_and_defer_always_fails) {
    static_assert(std::is_empty_v<detail::owed_acks<small_storage>>);
    static_assert(!std::is_empty_v<detail::owed_acks<defer_storage>>);
    session_state<small_storage> state;
    client<small_storage> c{state};
    ASSERT_EQ(c.connect({.version = v311, .client_id = "pc"}, 0ms), errc::success);
    (void)out(c);
    in(c, "20 02 00 00");
    ASSERT_EQ(event1(c, 0ms), "connected new");
    in(c, qos1_311(3));
    ASSERT_EQ(event1(c, 0ms), "message 3 a/b=hi");
    EXPECT_EQ(c.defer().error(), errc::quota_exceeded);
    EXPECT_EQ(event1(c, 0ms), "none");
    EXPECT_EQ(out(c), "40 02 00 03") << "answered as without defer()";
}

} // namespace
} // namespace mqttwire::test
