// The codec at compile time (DESIGN.md rule 4): decode, field checks, encode, round trips,
// errors, sizes and framing, all inside static_assert. Compiling this file is the test; an
// out-of-bounds read or any UB on these paths would be a compile error here.
//
// Decoded utf8_views compare with string literals through `==` (as_string_view() is a run-time
// accessor for byte-backed views).

#include <array>
#include <cstddef>
#include <cstdint>
#include <mqttwire.hpp>
#include <optional>
#include <span>
#include <variant>

namespace {

using namespace mqttwire;

template <class... T> consteval std::array<std::byte, sizeof...(T)> bytes(T... v) {
    return {static_cast<std::byte>(v)...};
}

constexpr decode_options v31{.version = protocol_version::v3_1};
constexpr decode_options v311{.version = protocol_version::v3_1_1};
constexpr decode_options v5{.version = protocol_version::v5};

template <std::size_t N>
constexpr errc decode_error(const std::array<std::byte, N>& b, const decode_options& o) {
    return decode_packet(b, o).error();
}

// True when `b` decodes as exactly one P occupying all N bytes.
template <class P, std::size_t N>
constexpr bool decodes_as(const std::array<std::byte, N>& b, const decode_options& o) {
    const auto r = decode_packet(b, o);
    return r.has_value() && std::holds_alternative<P>(r->packet) && r->size == N &&
           type_of(r->packet) == P::type;
}

// The P decoded from `b` (a value-initialised P when decoding fails, which the field checks
// then reject).
template <class P, std::size_t N>
constexpr P decoded(const std::array<std::byte, N>& b, const decode_options& o) {
    const auto r = decode_packet(b, o);
    if (!r) return P{};
    const auto* p = std::get_if<P>(&r->packet);
    return p ? *p : P{};
}

template <std::size_t N>
constexpr bool same(std::span<const std::byte> a, const std::array<std::byte, N>& b) {
    if (a.size() != N) return false;
    for (std::size_t i = 0; i < N; ++i)
        if (a[i] != b[i]) return false;
    return true;
}

// Encodes `p` at level `v`; true when exactly `expected` is written and encoded_size agrees.
template <class P, std::size_t N>
constexpr bool encodes_to(const P& p, protocol_version v,
                          const std::array<std::byte, N>& expected) {
    std::array<std::byte, N + 8> out{};
    const auto size = encoded_size(p, v);
    const auto n = encode(p, v, out);
    if (!size || !n || *size != N || *n != N) return false;
    return same(std::span<const std::byte>(out).first(*n), expected);
}

template <class P> constexpr errc encode_error(const P& p, protocol_version v) {
    std::array<std::byte, 64> out{};
    const auto n = encode(p, v, out);
    if (encoded_size(p, v).error() != n.error()) return errc::unspecified_error;
    return n.error();
}

// decode -> encode -> the same bytes, for a canonical packet.
template <std::size_t N>
constexpr bool round_trips(const std::array<std::byte, N>& b, const decode_options& o) {
    const auto r = decode_packet(b, o);
    if (!r) return false;
    std::array<std::byte, N> out{};
    const auto n = encode(r->packet, o.version, out);
    return n.has_value() && *n == N && out == b;
}

// Every strict prefix of a packet is incomplete, never invalid.
template <std::size_t N>
constexpr bool every_prefix_incomplete(const std::array<std::byte, N>& b, const decode_options& o) {
    for (std::size_t n = 0; n < N; ++n)
        if (decode_packet(std::span<const std::byte>(b).first(n), o).error() != errc::incomplete)
            return false;
    return true;
}

// =============================================================================================
// SUBSCRIBE
// =============================================================================================

// 3.1.1: packet id 1; "a/b" QoS 0, "c/+" QoS 1, "#" QoS 2 (tests/vectors/subscribe.vec).
constexpr auto subscribe_v311 = bytes(0x82, 0x12, 0x00, 0x01,             //
                                      0x00, 0x03, 0x61, 0x2f, 0x62, 0x00, // "a/b" QoS 0
                                      0x00, 0x03, 0x63, 0x2f, 0x2b, 0x01, // "c/+" QoS 1
                                      0x00, 0x01, 0x23, 0x02);            // "#"   QoS 2
// Field checks go through named constexpr views: g++ 12 refuses to compare the address of a
// temporary with nullptr in constant evaluation, which list_view's iterator does.
constexpr subscribe_view subscribe_v311_view = decoded<subscribe_view>(subscribe_v311, v311);
static_assert(decodes_as<subscribe_view>(subscribe_v311, v311));
static_assert(decodes_as<subscribe_view>(subscribe_v311, v31));
static_assert(subscribe_v311_view.packet_id == 1);
static_assert(subscribe_v311_view.subscriptions.size() == 3);
static_assert(subscribe_v311_view.subscriptions[0].filter == "a/b");
static_assert(subscribe_v311_view.subscriptions[1].filter == "c/+");
static_assert(subscribe_v311_view.subscriptions[2].filter == "#");
static_assert(!(subscribe_v311_view.subscriptions[2].filter == "a/b"));
static_assert(subscribe_v311_view.subscriptions[0].options.max_qos == qos::at_most_once);
static_assert(subscribe_v311_view.subscriptions[1].options.max_qos == qos::at_least_once);
static_assert(subscribe_v311_view.subscriptions[2].options.max_qos == qos::exactly_once);
static_assert(round_trips(subscribe_v311, v311));
static_assert(every_prefix_incomplete(subscribe_v311, v311));
static_assert(encoded_size(subscribe_v311_view, protocol_version::v3_1_1).value() ==
              subscribe_v311.size());
// The same entries at 5.0 gain a Property Length byte (MQTT5-2.2.2-1).
static_assert(encoded_size(subscribe_v311_view, protocol_version::v5).value() ==
              subscribe_v311.size() + 1);

// 5.0: packet id 6, Subscription Identifier 268435455, "a" with 0010 1110 (RH 2, RAP, NL, QoS 2).
constexpr auto subscribe_v5 = bytes(0x82, 0x0c, 0x00, 0x06,             //
                                    0x05, 0x0b, 0xff, 0xff, 0xff, 0x7f, // Subscription Identifier
                                    0x00, 0x01, 0x61, 0x2e);
constexpr subscribe_view subscribe_v5_view = decoded<subscribe_view>(subscribe_v5, v5);
static_assert(decodes_as<subscribe_view>(subscribe_v5, v5));
static_assert(subscribe_v5_view.packet_id == 6);
static_assert(subscribe_v5_view.properties.size() == 1);
static_assert(subscribe_v5_view.properties.contains(property_id::subscription_identifier));
static_assert(subscribe_v5_view.properties.find(property_id::subscription_identifier)->integer ==
              268'435'455u);
static_assert(subscribe_v5_view.subscriptions.size() == 1);
static_assert(subscribe_v5_view.subscriptions[0].filter == "a");
static_assert(subscribe_v5_view.subscriptions[0].options.max_qos == qos::exactly_once);
static_assert(subscribe_v5_view.subscriptions[0].options.no_local);
static_assert(subscribe_v5_view.subscriptions[0].options.retain_as_published);
static_assert(subscribe_v5_view.subscriptions[0].options.retain_handling ==
              retain_handling::do_not_send);
static_assert(round_trips(subscribe_v5, v5));
static_assert(every_prefix_incomplete(subscribe_v5, v5));

// Encoding from values.
constexpr bool subscribe_from_values() {
    const subscription subs[] = {{"a/+", {.max_qos = qos::at_least_once, .no_local = true}}};
    subscribe_view s{};
    s.packet_id = 10;
    s.subscriptions = subs;
    // 5.0: 82 09 | 00 0a | 00 | 00 03 "a/+" | 0000 0101
    return encodes_to(s, protocol_version::v5,
                      bytes(0x82, 0x09, 0x00, 0x0a, 0x00, 0x00, 0x03, 0x61, 0x2f, 0x2b, 0x05)) &&
           // MQTT-3.8.3-4: No Local is a reserved bit in 3.1.1.
           encode_error(s, protocol_version::v3_1_1) == errc::malformed_packet;
}
static_assert(subscribe_from_values());

constexpr bool subscribe_with_properties_from_values() {
    const subscription subs[] = {{"a",
                                  {.max_qos = qos::exactly_once,
                                   .no_local = true,
                                   .retain_as_published = true,
                                   .retain_handling = retain_handling::do_not_send}}};
    const property props[] = {{property_id::subscription_identifier, 268'435'455u}};
    subscribe_view s{};
    s.packet_id = 6;
    s.properties = std::span<const property>(props);
    s.subscriptions = subs;
    return encodes_to(s, protocol_version::v5, subscribe_v5);
}
static_assert(subscribe_with_properties_from_values());

constexpr bool subscribe_refusals() {
    subscribe_view s{};
    s.packet_id = 10;
    // MQTT-3.8.3-3 / MQTT5-3.8.3-2: no entries.
    if (encode_error(s, protocol_version::v3_1_1) != errc::protocol_error) return false;
    if (encode_error(s, protocol_version::v5) != errc::protocol_error) return false;
    const subscription shared[] = {{"$share/g/a", {.no_local = true}}};
    s.subscriptions = shared;
    // MQTT5-3.8.3-4: No Local on a Shared Subscription.
    if (encode_error(s, protocol_version::v5) != errc::protocol_error) return false;
    const subscription fine[] = {{"a", {}}};
    s.subscriptions = fine;
    s.packet_id = 0; // MQTT-2.3.1-1
    return encode_error(s, protocol_version::v3_1_1) == errc::protocol_error;
}
static_assert(subscribe_refusals());

// Malformed and invalid SUBSCRIBEs (see subscribe.vec for the annotated forms).
// MQTT-3.8.1-1: flags 0000.
static_assert(decode_error(bytes(0x80, 0x06, 0x00, 0x0a, 0x00, 0x01, 0x61, 0x00), v311) ==
              errc::malformed_packet);
// MQTT-3.8.3-3: no entries.
static_assert(decode_error(bytes(0x82, 0x02, 0x00, 0x0a), v311) == errc::protocol_error);
// MQTT5-3.8.3-2: no entries.
static_assert(decode_error(bytes(0x82, 0x03, 0x00, 0x0a, 0x00), v5) == errc::protocol_error);
// MQTT-3.8.3-4: QoS 3 and reserved bits in 3.1.1.
static_assert(decode_error(bytes(0x82, 0x06, 0x00, 0x0a, 0x00, 0x01, 0x61, 0x03), v311) ==
              errc::malformed_packet);
static_assert(decode_error(bytes(0x82, 0x06, 0x00, 0x0a, 0x00, 0x01, 0x61, 0x04), v311) ==
              errc::malformed_packet);
// MQTT5-3.8.3-5: reserved bits 7-6; 5.0 section 3.8.3.1: Maximum QoS 3, Retain Handling 3.
static_assert(decode_error(bytes(0x82, 0x07, 0x00, 0x0a, 0x00, 0x00, 0x01, 0x61, 0x40), v5) ==
              errc::malformed_packet);
static_assert(decode_error(bytes(0x82, 0x07, 0x00, 0x0a, 0x00, 0x00, 0x01, 0x61, 0x03), v5) ==
              errc::protocol_error);
static_assert(decode_error(bytes(0x82, 0x07, 0x00, 0x0a, 0x00, 0x00, 0x01, 0x61, 0x30), v5) ==
              errc::protocol_error);
// MQTT-3.8.3-1 / MQTT-1.5.3-1: ill-formed UTF-8 (surrogate U+D800).
static_assert(decode_error(bytes(0x82, 0x08, 0x00, 0x0a, 0x00, 0x03, 0xed, 0xa0, 0x80, 0x00),
                           v311) == errc::malformed_packet);
// A filter length running past the Remaining Length (the bounded reader at compile time).
static_assert(decode_error(bytes(0x82, 0x06, 0x00, 0x0a, 0x00, 0x05, 0x61, 0x00), v311) ==
              errc::malformed_packet);
static_assert(decode_error(bytes(0x82, 0x06, 0x00, 0x0a, 0x00, 0xff, 0x61, 0x00), v311) ==
              errc::malformed_packet);
// Missing options byte.
static_assert(decode_error(bytes(0x82, 0x05, 0x00, 0x0a, 0x00, 0x01, 0x61), v311) ==
              errc::malformed_packet);
// 5.0 section 3.8.2.1.2: Subscription Identifier 0, or twice.
static_assert(decode_error(bytes(0x82, 0x09, 0x00, 0x0a, 0x02, 0x0b, 0x00, 0x00, 0x01, 0x61, 0x00),
                           v5) == errc::protocol_error);
static_assert(decode_error(bytes(0x82, 0x0b, 0x00, 0x0a, 0x04, 0x0b, 0x01, 0x0b, 0x02, 0x00, 0x01,
                                 0x61, 0x00),
                           v5) == errc::protocol_error);
// 5.0 section 2.2.2.2: Reason String is not a SUBSCRIBE property.
static_assert(decode_error(bytes(0x82, 0x0b, 0x00, 0x0a, 0x04, 0x1f, 0x00, 0x01, 0x78, 0x00, 0x01,
                                 0x61, 0x00),
                           v5) == errc::malformed_packet);

// =============================================================================================
// SUBACK
// =============================================================================================

// 5.0: packet id 10; Reason String "ok"; User Property "a"="b"; codes 0x00 0x87.
constexpr auto suback_v5 = bytes(0x90, 0x11, 0x00, 0x0a,                   //
                                 0x0c,                                     // property length 12
                                 0x1f, 0x00, 0x02, 0x6f, 0x6b,             // Reason String "ok"
                                 0x26, 0x00, 0x01, 0x61, 0x00, 0x01, 0x62, // User Property
                                 0x00, 0x87);
constexpr suback_view suback_v5_view = decoded<suback_view>(suback_v5, v5);
static_assert(decodes_as<suback_view>(suback_v5, v5));
static_assert(suback_v5_view.packet_id == 10);
static_assert(suback_v5_view.properties.size() == 2);
static_assert(suback_v5_view.properties.find(property_id::reason_string)->string == "ok");
static_assert(suback_v5_view.properties.find(property_id::user_property)->string == "a");
static_assert(suback_v5_view.properties.find(property_id::user_property)->value == "b");
static_assert(suback_v5_view.properties.count(property_id::user_property) == 1);
static_assert(suback_v5_view.reasons.size() == 2);
static_assert(suback_v5_view.reasons[0] == reason_code::success); // MQTT5-3.9.3-1
static_assert(suback_v5_view.reasons[1] == reason_code::not_authorized);
static_assert(round_trips(suback_v5, v5));
static_assert(every_prefix_incomplete(suback_v5, v5));

// MQTT5-3.9.2-1 / MQTT5-3.9.2-2 at compile time: the Reason String goes first, then the User
// Property.
constexpr bool suback_trimming() {
    std::array<std::byte, 32> out{};
    const auto full =
        encode(suback_v5_view, protocol_version::v5, out, encode_options{.max_packet_size = 19});
    if (!full || *full != 19) return false;
    const auto no_reason =
        encode(suback_v5_view, protocol_version::v5, out, encode_options{.max_packet_size = 18});
    // 90 0c 00 0a 07 <User Property> 00 87 = 14 bytes.
    if (!no_reason || *no_reason != 14 ||
        !same(std::span<const std::byte>(out).first(14),
              bytes(0x90, 0x0c, 0x00, 0x0a, 0x07, 0x26, 0x00, 0x01, 0x61, 0x00, 0x01, 0x62, 0x00,
                    0x87)))
        return false;
    const auto bare =
        encode(suback_v5_view, protocol_version::v5, out, encode_options{.max_packet_size = 13});
    if (!bare || !same(std::span<const std::byte>(out).first(*bare),
                       bytes(0x90, 0x05, 0x00, 0x0a, 0x00, 0x00, 0x87)))
        return false;
    return encode(suback_v5_view, protocol_version::v5, out, encode_options{.max_packet_size = 6})
                   .error() == errc::packet_too_large &&
           encoded_size(suback_v5_view, protocol_version::v5, encode_options{.max_packet_size = 13})
                   .value() == 7;
}
static_assert(suback_trimming());

constexpr bool suback_from_values() {
    const reason_code v311_codes[] = {reason_code::success, reason_code::granted_qos_1,
                                      reason_code::granted_qos_2, reason_code::unspecified_error};
    suback_view a{};
    a.packet_id = 10;
    a.reasons = v311_codes;
    if (!encodes_to(a, protocol_version::v3_1_1,
                    bytes(0x90, 0x06, 0x00, 0x0a, 0x00, 0x01, 0x02, 0x80)))
        return false;
    const reason_code bad[] = {reason_code::not_authorized};
    a.reasons = bad;
    // MQTT-3.9.3-2: 0x87 is not a 3.1.1 return code; fine in 5.0.
    if (encode_error(a, protocol_version::v3_1_1) != errc::malformed_packet) return false;
    if (!encodes_to(a, protocol_version::v5, bytes(0x90, 0x04, 0x00, 0x0a, 0x00, 0x87)))
        return false;
    const reason_code not_suback[] = {reason_code::no_matching_subscribers};
    a.reasons = not_suback;
    return encode_error(a, protocol_version::v5) == errc::protocol_error; // MQTT5-3.9.3-2
}
static_assert(suback_from_values());

// MQTT-3.9.3-2: 0x03 is reserved in 3.1.1. MQTT5-3.9.3-2: 0x10 is no Subscribe Reason Code.
static_assert(decode_error(bytes(0x90, 0x03, 0x00, 0x0a, 0x03), v311) == errc::malformed_packet);
static_assert(decode_error(bytes(0x90, 0x05, 0x00, 0x0a, 0x00, 0x00, 0x10), v5) ==
              errc::protocol_error);
// MQTT5-3.8.4-6: one code per filter, never none.
static_assert(decode_error(bytes(0x90, 0x03, 0x00, 0x0a, 0x00), v5) == errc::protocol_error);
static_assert(decodes_as<suback_view>(bytes(0x90, 0x06, 0x00, 0x0a, 0x00, 0x01, 0x02, 0x80), v311));

// =============================================================================================
// UNSUBSCRIBE and UNSUBACK
// =============================================================================================

// 5.0: packet id 12; "a/b" and "$share/g/c/#".
constexpr auto unsubscribe_v5 =
    bytes(0xa2, 0x16, 0x00, 0x0c, 0x00, //
          0x00, 0x03, 0x61, 0x2f, 0x62, // "a/b"
          0x00, 0x0c, 0x24, 0x73, 0x68, 0x61, 0x72, 0x65, 0x2f, 0x67, 0x2f, 0x63, 0x2f, 0x23);
constexpr unsubscribe_view unsubscribe_v5_view = decoded<unsubscribe_view>(unsubscribe_v5, v5);
static_assert(decodes_as<unsubscribe_view>(unsubscribe_v5, v5));
static_assert(unsubscribe_v5_view.packet_id == 12);
static_assert(unsubscribe_v5_view.properties.empty());
static_assert(unsubscribe_v5_view.filters.size() == 2); // MQTT5-3.10.3-1
static_assert(unsubscribe_v5_view.filters[0] == "a/b");
static_assert(unsubscribe_v5_view.filters[1] == "$share/g/c/#");
static_assert(round_trips(unsubscribe_v5, v5));
static_assert(every_prefix_incomplete(unsubscribe_v5, v5));

constexpr bool unsubscribe_from_values() {
    const utf8_view fs[] = {"a/b", "$share/g/c/#"};
    unsubscribe_view u{};
    u.packet_id = 12;
    u.filters = fs;
    if (!encodes_to(u, protocol_version::v5, unsubscribe_v5)) return false;
    u.filters = {};
    return encode_error(u, protocol_version::v5) == errc::protocol_error; // MQTT5-3.10.3-2
}
static_assert(unsubscribe_from_values());

// MQTT-3.10.1-1: flags 0000; MQTT-3.10.3-2: no filter.
static_assert(decode_error(bytes(0xa0, 0x05, 0x00, 0x0a, 0x00, 0x01, 0x61), v311) ==
              errc::malformed_packet);
static_assert(decode_error(bytes(0xa2, 0x02, 0x00, 0x0a), v311) == errc::protocol_error);

// UNSUBACK 3.1.1: remaining length 2 exactly.
constexpr auto unsuback_v311 = bytes(0xb0, 0x02, 0x00, 0x0a);
constexpr unsuback_view unsuback_v311_view = decoded<unsuback_view>(unsuback_v311, v311);
static_assert(decodes_as<unsuback_view>(unsuback_v311, v311));
static_assert(unsuback_v311_view.packet_id == 10);
static_assert(unsuback_v311_view.reasons.empty());
static_assert(round_trips(unsuback_v311, v311));
static_assert(decode_error(bytes(0xb0, 0x03, 0x00, 0x0a, 0x00), v311) == errc::malformed_packet);

// UNSUBACK 5.0: codes 0x00 0x11 0x87 in order (MQTT5-3.11.3-1).
constexpr auto unsuback_v5 = bytes(0xb0, 0x06, 0x00, 0x0a, 0x00, 0x00, 0x11, 0x87);
constexpr unsuback_view unsuback_v5_view = decoded<unsuback_view>(unsuback_v5, v5);
static_assert(decodes_as<unsuback_view>(unsuback_v5, v5));
static_assert(unsuback_v5_view.reasons.size() == 3);
static_assert(unsuback_v5_view.reasons[0] == reason_code::success);
static_assert(unsuback_v5_view.reasons[1] == reason_code::no_subscription_existed);
static_assert(unsuback_v5_view.reasons[2] == reason_code::not_authorized);
static_assert(round_trips(unsuback_v5, v5));
// MQTT5-3.11.3-2: 0x01 is no Unsubscribe Reason Code.
static_assert(decode_error(bytes(0xb0, 0x05, 0x00, 0x0a, 0x00, 0x00, 0x01), v5) ==
              errc::protocol_error);

// =============================================================================================
// Other packet types
// =============================================================================================

// PUBLISH 3.1.1, QoS 1: topic "a/b", packet id 7, payload "hi".
constexpr auto publish_v311 =
    bytes(0x32, 0x09, 0x00, 0x03, 0x61, 0x2f, 0x62, 0x00, 0x07, 0x68, 0x69);
constexpr publish_view publish_v311_view = decoded<publish_view>(publish_v311, v311);
static_assert(decodes_as<publish_view>(publish_v311, v311));
static_assert(publish_v311_view.qos == qos::at_least_once);
static_assert(!publish_v311_view.dup && !publish_v311_view.retain);
static_assert(publish_v311_view.topic == "a/b");
static_assert(publish_v311_view.packet_id == 7);
static_assert(publish_v311_view.payload.size() == 2);
static_assert(publish_v311_view.payload[0] == std::byte{'h'});
static_assert(publish_v311_view.payload[1] == std::byte{'i'});
static_assert(round_trips(publish_v311, v311));
static_assert(every_prefix_incomplete(publish_v311, v311));
// MQTT-3.3.1-4: QoS 3.
static_assert(decode_error(bytes(0x36, 0x09, 0x00, 0x03, 0x61, 0x2f, 0x62, 0x00, 0x07, 0x68, 0x69),
                           v311) == errc::malformed_packet);

// CONNACK 3.1.1: session present, accepted.
constexpr auto connack_v311 = bytes(0x20, 0x02, 0x01, 0x00);
static_assert(decodes_as<connack_view>(connack_v311, v311));
static_assert(decoded<connack_view>(connack_v311, v311).session_present);
static_assert(decoded<connack_view>(connack_v311, v311).return_code() ==
              connect_return_code::accepted);
static_assert(round_trips(connack_v311, v311));

// CONNECT from a mosquitto bridge: level 0x84 (3.1.1 with the bridge flag), client id "b".
// Accepted only with decode_options::bridge_levels; encoded back by the full profile.
constexpr auto connect_bridge =
    bytes(0x10, 0x0d, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x84, 0x02, 0x00, 0x3c, 0x00, 0x01, 0x62);
constexpr decode_options bridges{.version = protocol_version::v3_1_1, .bridge_levels = true};
static_assert(decode_error(connect_bridge, v311) == errc::unsupported_protocol_version);
static_assert(decodes_as<connect_view>(connect_bridge, bridges));
static_assert(decoded<connect_view>(connect_bridge, bridges).bridge);
static_assert(decoded<connect_view>(connect_bridge, bridges).version == protocol_version::v3_1_1);
static_assert(decoded<connect_view>(connect_bridge, bridges).clean_start);
static_assert(round_trips(connect_bridge, bridges));
static_assert(every_prefix_incomplete(connect_bridge, bridges));

// PINGREQ / PINGRESP.
constexpr auto pingreq = bytes(0xc0, 0x00);
static_assert(decodes_as<pingreq_view>(pingreq, v311));
static_assert(decodes_as<pingreq_view>(pingreq, v5));
static_assert(round_trips(pingreq, v5));
static_assert(encoded_size(pingreq_view{}, protocol_version::v3_1_1).value() == 2);
static_assert(encodes_to(pingresp_view{}, protocol_version::v5, bytes(0xd0, 0x00)));
static_assert(decode_error(bytes(0xc1, 0x00), v311) == errc::malformed_packet); // MQTT-2.2.2-1

// encoded_size on the packet_view variant.
static_assert(encoded_size(packet_view{pingreq_view{}}, protocol_version::v5).value() == 2);
static_assert(encoded_size(packet_view{unsuback_view{.packet_id = 3}}, protocol_version::v3_1_1)
                  .value() == 4);

// =============================================================================================
// Entry-point behaviour
// =============================================================================================

// Truncation is incomplete, not invalid; bytes after the packet are not part of it.
static_assert(decode_error(bytes(0x82), v311) == errc::incomplete);
static_assert(decode_error(bytes(0x82, 0x06, 0x00, 0x0a), v311) == errc::incomplete);
constexpr auto two_pings = bytes(0xc0, 0x00, 0xd0, 0x00);
static_assert(decode_packet(two_pings, v311)->size == 2);
// Maximum Packet Size on decode: refused from the header.
static_assert(decode_error(bytes(0x82, 0x06, 0x00, 0x0a),
                           decode_options{.version = protocol_version::v3_1_1,
                                          .max_packet_size = 7}) == errc::packet_too_large);
// MQTT5-1.5.5-1: a non-minimal Remaining Length.
static_assert(decode_error(bytes(0xc0, 0x80, 0x00), v311) == errc::malformed_packet);
// A fifth Remaining Length byte.
static_assert(decode_error(bytes(0x30, 0x80, 0x80, 0x80, 0x80, 0x01), v311) ==
              errc::malformed_packet);
// An unknown protocol level.
static_assert(decode_error(pingreq, decode_options{.version = static_cast<protocol_version>(6)}) ==
              errc::invalid_argument);

// A buffer one byte short is refused without a write.
constexpr bool short_buffer_refused() {
    std::array<std::byte, 19> out{};
    for (auto& b : out) b = std::byte{0x5A};
    if (encode(suback_v5_view, protocol_version::v5, std::span<std::byte>(out).first(18)).error() !=
        errc::buffer_too_small)
        return false;
    for (const auto b : out)
        if (b != std::byte{0x5A}) return false;
    return true;
}
static_assert(short_buffer_refused());

// =============================================================================================
// Framer
// =============================================================================================

static_assert(next_frame(subscribe_v311, max_packet_size_limit).status == errc::success);
static_assert(next_frame(subscribe_v311, max_packet_size_limit).size == subscribe_v311.size());
static_assert(next_frame(subscribe_v311, max_packet_size_limit).header_size == 2);
static_assert(next_frame(std::span<const std::byte>(subscribe_v311).first(1)).status ==
              errc::incomplete);
static_assert(next_frame(std::span<const std::byte>(subscribe_v311).first(1)).size == 0);
static_assert(next_frame(std::span<const std::byte>(subscribe_v311).first(5)).status ==
              errc::incomplete);
static_assert(next_frame(std::span<const std::byte>(subscribe_v311).first(5)).size ==
              subscribe_v311.size());
static_assert(next_frame(subscribe_v311, 19).status == errc::packet_too_large);
static_assert(next_frame(subscribe_v311, 20).status == errc::success);
static_assert(next_frame(bytes(0x30, 0xff, 0xff, 0xff, 0x7f)).size == 268'435'460u);
static_assert(next_frame(bytes(0x30, 0xff, 0xff, 0xff, 0x7f)).header_size == 5);
static_assert(next_frame(bytes(0x30, 0xff, 0xff, 0xff, 0xff)).status == errc::malformed_packet);
static_assert(next_frame(bytes(0x30, 0x80, 0x00)).status == errc::malformed_packet);
static_assert(framer{8}.next(bytes(0x82, 0x06)).status == errc::incomplete);
static_assert(framer{7}.next(bytes(0x82, 0x06)).status == errc::packet_too_large);

// Walks a stream of packets back to back at compile time.
constexpr auto stream = bytes(0xc0, 0x00,                                     // PINGREQ
                              0x82, 0x06, 0x00, 0x0a, 0x00, 0x01, 0x61, 0x01, // SUBSCRIBE
                              0x90, 0x03, 0x00, 0x0a, 0x01,                   // SUBACK
                              0xb0, 0x02, 0x00, 0x0b);                        // UNSUBACK
constexpr bool walk_stream() {
    std::span<const std::byte> rest(stream);
    const std::size_t sizes[] = {2, 8, 5, 4};
    const packet_type types[] = {packet_type::pingreq, packet_type::subscribe, packet_type::suback,
                                 packet_type::unsuback};
    for (std::size_t i = 0; i < 4; ++i) {
        const auto f = next_frame(rest);
        if (f.status != errc::success || f.size != sizes[i]) return false;
        const auto p = decode_packet(rest.first(f.size), v311);
        if (!p || type_of(p->packet) != types[i] || p->size != f.size) return false;
        rest = rest.subspan(f.size);
    }
    return rest.empty() && next_frame(rest).status == errc::incomplete;
}
static_assert(walk_stream());

} // namespace
