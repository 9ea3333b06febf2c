// Topic names and filters at compile time: validation, matching, shared subscriptions and
// level splitting inside static_assert (DESIGN.md rule 4). Compiling this file is the test.

#include <array>
#include <cstddef>
#include <mqttwire.hpp>
#include <span>
#include <string_view>

namespace {

using namespace mqttwire;
using namespace std::string_view_literals;

// ---------------------------------------------------------------------------------------------
// validate_topic_name: MQTT-4.7.1-1 / MQTT5-4.7.0-1, MQTT-4.7.3-1 / MQTT5-4.7.3-1,
// MQTT-4.7.3-2 / MQTT5-4.7.3-2.
// ---------------------------------------------------------------------------------------------

static_assert(validate_topic_name("a"sv) == errc::success);
static_assert(validate_topic_name("/"sv) == errc::success);
static_assert(validate_topic_name("sport/tennis/player1"sv) == errc::success);
static_assert(validate_topic_name("$SYS/monitor/Clients"sv) == errc::success);
static_assert(validate_topic_name("Accounts payable"sv) == errc::success);
static_assert(validate_topic_name("caf\xc3\xa9"sv) == errc::success);
static_assert(validate_topic_name(""sv) == errc::topic_name_invalid);
static_assert(validate_topic_name("+"sv) == errc::topic_name_invalid);
static_assert(validate_topic_name("#"sv) == errc::topic_name_invalid);
static_assert(validate_topic_name("sport/+/player1"sv) == errc::topic_name_invalid);
static_assert(validate_topic_name("sport/tennis/#"sv) == errc::topic_name_invalid);
static_assert(validate_topic_name("a\0b"sv) == errc::topic_name_invalid);
static_assert(validate_topic_name("\xc0\xaf"sv) == errc::topic_name_invalid);
static_assert(validate_topic_name("\xed\xa0\x80"sv) == errc::topic_name_invalid);
static_assert(validate_topic_name(utf8_view("salon/luz/stat")) == errc::success);
static_assert(validate_topic_name(utf8_view("salon/+/stat")) == errc::topic_name_invalid);

// ---------------------------------------------------------------------------------------------
// validate_topic_filter: MQTT-4.7.1-2 / MQTT5-4.7.1-1, MQTT-4.7.1-3 / MQTT5-4.7.1-2 and the
// examples of sections 4.7.1.2 and 4.7.1.3.
// ---------------------------------------------------------------------------------------------

static_assert(validate_topic_filter("#"sv) == errc::success);
static_assert(validate_topic_filter("sport/tennis/#"sv) == errc::success);
static_assert(validate_topic_filter("sport/tennis#"sv) == errc::topic_filter_invalid);
static_assert(validate_topic_filter("sport/tennis/#/ranking"sv) == errc::topic_filter_invalid);
static_assert(validate_topic_filter("+"sv) == errc::success);
static_assert(validate_topic_filter("+/tennis/#"sv) == errc::success);
static_assert(validate_topic_filter("sport+"sv) == errc::topic_filter_invalid);
static_assert(validate_topic_filter("sport/+/player1"sv) == errc::success);
static_assert(validate_topic_filter("+/+"sv) == errc::success);
static_assert(validate_topic_filter("/+"sv) == errc::success);
static_assert(validate_topic_filter("a/#b"sv) == errc::topic_filter_invalid);
static_assert(validate_topic_filter("#/"sv) == errc::topic_filter_invalid);
static_assert(validate_topic_filter(""sv) == errc::topic_filter_invalid);
static_assert(validate_topic_filter("a/\0"sv) == errc::topic_filter_invalid);
static_assert(validate_topic_filter(utf8_view("salon/+/cmd")) == errc::success);
static_assert(validate_topic_filter(utf8_view("salon/#/cmd")) == errc::topic_filter_invalid);

// ---------------------------------------------------------------------------------------------
// topic_matches: sections 4.7.1.2, 4.7.1.3, 4.7.2 (MQTT-4.7.2-1 / MQTT5-4.7.2-1) and 4.7.3
// (MQTT-4.7.3-4 / MQTT5-4.7.3-4).
// ---------------------------------------------------------------------------------------------

static_assert(topic_matches("sport/tennis/player1/#"sv, "sport/tennis/player1"sv));
static_assert(topic_matches("sport/tennis/player1/#"sv, "sport/tennis/player1/ranking"sv));
static_assert(topic_matches("sport/tennis/player1/#"sv, "sport/tennis/player1/score/wimbledon"sv));
static_assert(topic_matches("sport/#"sv, "sport"sv));
static_assert(!topic_matches("sport/tennis/player1/#"sv, "sport/tennis"sv));
static_assert(topic_matches("sport/tennis/+"sv, "sport/tennis/player1"sv));
static_assert(!topic_matches("sport/tennis/+"sv, "sport/tennis/player1/ranking"sv));
static_assert(!topic_matches("sport/+"sv, "sport"sv));
static_assert(topic_matches("sport/+"sv, "sport/"sv));
static_assert(topic_matches("+/+"sv, "/"sv));
static_assert(topic_matches("+/+"sv, "/finance"sv));
static_assert(topic_matches("/+"sv, "/finance"sv));
static_assert(!topic_matches("+"sv, "/finance"sv));
static_assert(topic_matches("+/#"sv, "a"sv));
static_assert(!topic_matches("#"sv, "$SYS/x"sv));
static_assert(!topic_matches("+/monitor/Clients"sv, "$SYS/monitor/Clients"sv));
static_assert(topic_matches("$SYS/#"sv, "$SYS/a"sv));
static_assert(topic_matches("$SYS/monitor/+"sv, "$SYS/monitor/Clients"sv));
static_assert(!topic_matches("ACCOUNTS"sv, "Accounts"sv));
static_assert(!topic_matches("/finance"sv, "finance"sv));
static_assert(!topic_matches("caf\xc3\xa9"sv, "cafe\xcc\x81"sv));
static_assert(topic_matches("salon/+/cmd", "salon/luz/cmd"));
static_assert(topic_matches(utf8_view("salon/+/cmd"), utf8_view("salon/luz/cmd")));
static_assert(topic_matches(utf8_view("salon/#"), "salon"sv));
static_assert(!topic_matches("salon/+/cmd"sv, utf8_view("salon/luz/stat")));

// Byte-backed views, as a decoded SUBSCRIBE or PUBLISH gives them.
constexpr std::array<std::byte, 8> subscribe = {
    std::byte{0x82}, std::byte{0x06}, std::byte{0x00}, std::byte{0x0a}, // SUBSCRIBE, id 10
    std::byte{0x00}, std::byte{0x01}, std::byte{'+'},  std::byte{0x01}, // "+", QoS 1
};
constexpr std::array<std::byte, 3> name_bytes = {std::byte{'a'}, std::byte{'/'}, std::byte{'b'}};
constexpr subscribe_view decoded_subscribe = std::get<subscribe_view>(
    decode_packet(subscribe, decode_options{.version = protocol_version::v3_1_1})->packet);
constexpr utf8_view decoded_filter = decoded_subscribe.subscriptions[0].filter;
constexpr utf8_view byte_name{std::span<const std::byte>(name_bytes)};
static_assert(decoded_filter == "+");
static_assert(validate_topic_filter(decoded_filter) == errc::success);
static_assert(validate_topic_name(decoded_filter) == errc::topic_name_invalid);
static_assert(validate_topic_name(byte_name) == errc::success);
static_assert(topic_matches(decoded_filter, "a"sv));
static_assert(!topic_matches(decoded_filter, byte_name));
static_assert(topic_matches(utf8_view("a/+"), byte_name));
static_assert(topic_matches("#"sv, byte_name));

// ---------------------------------------------------------------------------------------------
// Shared subscriptions: MQTT5-4.8.2-1, MQTT5-4.8.2-2.
// ---------------------------------------------------------------------------------------------

constexpr bool shared(std::string_view text, std::string_view share, std::string_view filter) {
    shared_subscription s{};
    return parse_shared_subscription(text, s) == errc::success && s.share_name == share &&
           s.filter == filter;
}
constexpr errc shared_error(std::string_view text) {
    shared_subscription s{};
    return parse_shared_subscription(text, s);
}
static_assert(is_shared_subscription("$share/g/a"sv));
static_assert(!is_shared_subscription("$SHARE/g/a"sv));
static_assert(shared("$share/consumer1/sport/tennis/+"sv, "consumer1"sv, "sport/tennis/+"sv));
static_assert(shared("$share/g/#"sv, "g"sv, "#"sv));
static_assert(shared_error("$share//a"sv) == errc::topic_filter_invalid);   // MQTT5-4.8.2-1
static_assert(shared_error("$share/g"sv) == errc::topic_filter_invalid);    // MQTT5-4.8.2-2
static_assert(shared_error("$share/g/"sv) == errc::topic_filter_invalid);   // MQTT5-4.8.2-2
static_assert(shared_error("$share/g+/a"sv) == errc::topic_filter_invalid); // MQTT5-4.8.2-2
static_assert(shared_error("$share/#/a"sv) == errc::topic_filter_invalid);  // MQTT5-4.8.2-2
static_assert(shared_error("$share/g/a/#/b"sv) == errc::topic_filter_invalid);
static_assert(shared_error("a/b"sv) == errc::invalid_argument);

// ---------------------------------------------------------------------------------------------
// topic_levels
// ---------------------------------------------------------------------------------------------

constexpr std::size_t level_count(std::string_view t) {
    std::size_t n = 0;
    for (const auto l : topic_levels(t)) {
        (void)l;
        ++n;
    }
    return n;
}
constexpr std::string_view level(std::string_view t, std::size_t i) {
    for (const auto l : topic_levels(t)) {
        if (i == 0) return l;
        --i;
    }
    return "<none>";
}
static_assert(level_count("a/b/c"sv) == 3);
static_assert(level_count("a//b"sv) == 3);
static_assert(level_count("/"sv) == 2);
static_assert(level_count(""sv) == 1);
static_assert(level_count("sport/tennis/player1/#"sv) == 4);
static_assert(level("sport/tennis/player1/#"sv, 2) == "player1"sv);
static_assert(level("sport/tennis/player1/#"sv, 3) == "#"sv);
static_assert(level("a//b"sv, 1).empty());
static_assert(level("/finance"sv, 0).empty());
static_assert(level("/finance"sv, 1) == "finance"sv);

} // namespace
