#pragma once
/// @file
/// @brief MQTT 5.0 property identifiers, wire types and where each may appear (table 2-4):
/// the one table that drives property decoding, encoding and validation.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "packet_type.hpp"

namespace mqttwire {

/// @brief The 27 property identifiers of MQTT 5.0.
enum class property_id : std::uint8_t {
    payload_format_indicator = 0x01,
    message_expiry_interval = 0x02,
    content_type = 0x03,
    response_topic = 0x08,
    correlation_data = 0x09,
    subscription_identifier = 0x0B,
    session_expiry_interval = 0x11,
    assigned_client_identifier = 0x12,
    server_keep_alive = 0x13,
    authentication_method = 0x15,
    authentication_data = 0x16,
    request_problem_information = 0x17,
    will_delay_interval = 0x18,
    request_response_information = 0x19,
    response_information = 0x1A,
    server_reference = 0x1C,
    reason_string = 0x1F,
    receive_maximum = 0x21,
    topic_alias_maximum = 0x22,
    topic_alias = 0x23,
    maximum_qos = 0x24,
    retain_available = 0x25,
    user_property = 0x26,
    maximum_packet_size = 0x27,
    wildcard_subscription_available = 0x28,
    subscription_identifier_available = 0x29,
    shared_subscription_available = 0x2A,
};

/// @brief Wire types of property values (MQTT 5.0 section 1.5).
enum class property_type : std::uint8_t {
    byte,
    two_byte_integer,
    four_byte_integer,
    variable_byte_integer,
    utf8_string,
    binary_data,
    string_pair,
};

/// @brief Where a property block sits: a packet type, or the Will Properties of CONNECT.
enum class property_context : std::uint8_t {
    will = 0,
    connect = 1,
    connack = 2,
    publish = 3,
    puback = 4,
    pubrec = 5,
    pubrel = 6,
    pubcomp = 7,
    subscribe = 8,
    suback = 9,
    unsubscribe = 10,
    unsuback = 11,
    disconnect = 14,
    auth = 15,
};

/// @brief Static facts about one property.
struct property_info {
    property_id id{};
    property_type type{};
    std::uint16_t allowed = 0;    ///< bit `1 << context` set where the property may appear
    std::uint16_t repeatable = 0; ///< bit set where it may appear more than once
    std::string_view name;
};

namespace detail {
constexpr std::uint16_t ctx_bit(property_context c) noexcept {
    return static_cast<std::uint16_t>(1u << static_cast<unsigned>(c));
}
template <class... C> constexpr std::uint16_t ctx_bits(C... c) noexcept {
    return static_cast<std::uint16_t>((ctx_bit(c) | ...));
}
using pc = property_context;
using pt = property_type;
inline constexpr std::uint16_t publish_and_will = ctx_bits(pc::publish, pc::will);
inline constexpr std::uint16_t all_contexts =
    ctx_bits(pc::will, pc::connect, pc::connack, pc::publish, pc::puback, pc::pubrec, pc::pubrel,
             pc::pubcomp, pc::subscribe, pc::suback, pc::unsubscribe, pc::unsuback, pc::disconnect,
             pc::auth);
inline constexpr std::uint16_t ack_contexts =
    ctx_bits(pc::connack, pc::puback, pc::pubrec, pc::pubrel, pc::pubcomp, pc::suback, pc::unsuback,
             pc::disconnect, pc::auth);

// MQTT 5.0 table 2-4 (section 2.2.2.2). User Property may repeat everywhere; Subscription
// Identifier may repeat in PUBLISH (one per matching subscription) but not in SUBSCRIBE.
inline constexpr std::array<property_info, 27> property_table{{
    {property_id::payload_format_indicator, pt::byte, publish_and_will, 0,
     "Payload Format Indicator"},
    {property_id::message_expiry_interval, pt::four_byte_integer, publish_and_will, 0,
     "Message Expiry Interval"},
    {property_id::content_type, pt::utf8_string, publish_and_will, 0, "Content Type"},
    {property_id::response_topic, pt::utf8_string, publish_and_will, 0, "Response Topic"},
    {property_id::correlation_data, pt::binary_data, publish_and_will, 0, "Correlation Data"},
    {property_id::subscription_identifier, pt::variable_byte_integer,
     ctx_bits(pc::publish, pc::subscribe), ctx_bits(pc::publish), "Subscription Identifier"},
    {property_id::session_expiry_interval, pt::four_byte_integer,
     ctx_bits(pc::connect, pc::connack, pc::disconnect), 0, "Session Expiry Interval"},
    {property_id::assigned_client_identifier, pt::utf8_string, ctx_bits(pc::connack), 0,
     "Assigned Client Identifier"},
    {property_id::server_keep_alive, pt::two_byte_integer, ctx_bits(pc::connack), 0,
     "Server Keep Alive"},
    {property_id::authentication_method, pt::utf8_string,
     ctx_bits(pc::connect, pc::connack, pc::auth), 0, "Authentication Method"},
    {property_id::authentication_data, pt::binary_data,
     ctx_bits(pc::connect, pc::connack, pc::auth), 0, "Authentication Data"},
    {property_id::request_problem_information, pt::byte, ctx_bits(pc::connect), 0,
     "Request Problem Information"},
    {property_id::will_delay_interval, pt::four_byte_integer, ctx_bits(pc::will), 0,
     "Will Delay Interval"},
    {property_id::request_response_information, pt::byte, ctx_bits(pc::connect), 0,
     "Request Response Information"},
    {property_id::response_information, pt::utf8_string, ctx_bits(pc::connack), 0,
     "Response Information"},
    {property_id::server_reference, pt::utf8_string, ctx_bits(pc::connack, pc::disconnect), 0,
     "Server Reference"},
    {property_id::reason_string, pt::utf8_string, ack_contexts, 0, "Reason String"},
    {property_id::receive_maximum, pt::two_byte_integer, ctx_bits(pc::connect, pc::connack), 0,
     "Receive Maximum"},
    {property_id::topic_alias_maximum, pt::two_byte_integer, ctx_bits(pc::connect, pc::connack), 0,
     "Topic Alias Maximum"},
    {property_id::topic_alias, pt::two_byte_integer, ctx_bits(pc::publish), 0, "Topic Alias"},
    {property_id::maximum_qos, pt::byte, ctx_bits(pc::connack), 0, "Maximum QoS"},
    {property_id::retain_available, pt::byte, ctx_bits(pc::connack), 0, "Retain Available"},
    {property_id::user_property, pt::string_pair, all_contexts, all_contexts, "User Property"},
    {property_id::maximum_packet_size, pt::four_byte_integer, ctx_bits(pc::connect, pc::connack), 0,
     "Maximum Packet Size"},
    {property_id::wildcard_subscription_available, pt::byte, ctx_bits(pc::connack), 0,
     "Wildcard Subscription Available"},
    {property_id::subscription_identifier_available, pt::byte, ctx_bits(pc::connack), 0,
     "Subscription Identifier Available"},
    {property_id::shared_subscription_available, pt::byte, ctx_bits(pc::connack), 0,
     "Shared Subscription Available"},
}};

// Identifier -> index into property_table, 0xFF for unassigned identifiers.
inline constexpr std::array<std::uint8_t, 0x2B> property_index = [] {
    std::array<std::uint8_t, 0x2B> idx{};
    for (auto& v : idx) v = 0xFF;
    for (std::size_t i = 0; i < property_table.size(); ++i)
        idx[static_cast<std::size_t>(property_table[i].id)] = static_cast<std::uint8_t>(i);
    return idx;
}();

// The value rules of section 3, one kind per property (checked by check_property).
enum class value_rule : std::uint8_t {
    none,
    boolean, ///< 0 or 1, else a Protocol Error
    nonzero, ///< 0 is a Protocol Error
    alias,   ///< 0 is Topic Alias invalid (0x94)
    topic,   ///< a Topic Name (no wildcards), else a Protocol Error
};
[[nodiscard]] constexpr value_rule value_rule_of(property_id id) noexcept {
    switch (id) {
    // Sections 3.1.2.11.6, 3.1.2.11.7, 3.2.2.3.4, 3.2.2.3.5, 3.2.2.3.11-13, 3.3.2.3.2: 0 or 1.
    case property_id::payload_format_indicator:
    case property_id::request_problem_information:
    case property_id::request_response_information:
    case property_id::maximum_qos:
    case property_id::retain_available:
    case property_id::wildcard_subscription_available:
    case property_id::subscription_identifier_available:
    case property_id::shared_subscription_available: return value_rule::boolean;
    // 3.1.2.11.3 / 3.2.2.3.3 (Receive Maximum), 3.1.2.11.4 / 3.2.2.3.6 (Maximum Packet Size),
    // 3.8.2.1.2 (Subscription Identifier; the Variable Byte Integer bounds the maximum).
    case property_id::receive_maximum:
    case property_id::maximum_packet_size:
    case property_id::subscription_identifier: return value_rule::nonzero;
    // MQTT5-3.3.2-8: Topic Alias 0 is never sent; receivers answer 0x94.
    case property_id::topic_alias: return value_rule::alias;
    // MQTT5-3.3.2-13 (UTF-8) and MQTT5-3.3.2-14: a topic name, no wildcards.
    case property_id::response_topic: return value_rule::topic;
    default: return value_rule::none;
    }
}

// What the codec needs of each identifier at run time, indexed by the identifier itself and
// derived from property_table at compile time without the names (so a program that never prints
// a property name links none). Unassigned identifiers have `allowed == 0`. Every assigned
// identifier is below 0x80, so on the wire an identifier is one byte: a longer Variable Byte
// Integer is either non-minimal or unknown, malformed either way (MQTT 5.0 section 2.2.2.2).
// Four bytes an identifier, one table driving decode, encode and validation: where it may
// appear, its presence bit, and one byte packing its wire type (bits 0-2), its value rule (bits
// 3-5) and where it may repeat (bit 6: wherever it may appear, as User Property; bit 7: in
// PUBLISH only, as Subscription Identifier).
class property_rule {
  public:
    constexpr property_rule() noexcept = default;
    constexpr property_rule(property_type t, std::uint8_t presence, std::uint16_t where,
                            std::uint16_t repeatable, value_rule v) noexcept
        : allowed(where), bit(presence),
          bits_(static_cast<std::uint8_t>(static_cast<unsigned>(t) | static_cast<unsigned>(v) << 3 |
                                          (repeatable == 0       ? 0u
                                           : repeatable == where ? 64u
                                                                 : 128u))) {}
    std::uint16_t allowed = 0; ///< bit `1 << context` set where the property may appear
    std::uint8_t bit = 0;      ///< presence bit: the index in property_table
    [[nodiscard]] constexpr property_type type() const noexcept {
        return static_cast<property_type>(bits_ & 7u);
    }
    [[nodiscard]] constexpr value_rule rule() const noexcept {
        return static_cast<value_rule>((bits_ >> 3) & 7u);
    }
    /// May appear more than once in the context whose bit is `ctx`.
    [[nodiscard]] constexpr bool repeats(std::uint16_t ctx) const noexcept {
        if ((bits_ & 64u) != 0) return true;
        return (bits_ & 128u) != 0 && ctx == ctx_bit(property_context::publish);
    }

  private:
    std::uint8_t bits_ = 0;
};
inline constexpr std::array<property_rule, 0x2B> property_rules = [] {
    std::array<property_rule, 0x2B> rules{};
    for (std::size_t i = 0; i < property_table.size(); ++i) {
        const auto& info = property_table[i];
        rules[static_cast<std::size_t>(info.id)] = {info.type, static_cast<std::uint8_t>(i),
                                                    info.allowed, info.repeatable,
                                                    value_rule_of(info.id)};
    }
    return rules;
}();
// The packing holds every entry of table 2-4: what repeats, repeats where it may appear or in
// PUBLISH only.
static_assert([] {
    for (const auto& info : property_table) {
        const auto& r = property_rules[static_cast<std::size_t>(info.id)];
        if (r.type() != info.type || r.allowed != info.allowed ||
            r.rule() != value_rule_of(info.id))
            return false;
        for (unsigned c = 0; c < 16; ++c) {
            const auto b = static_cast<std::uint16_t>(1u << c);
            if ((info.allowed & b) != 0 && r.repeats(b) != ((info.repeatable & b) != 0))
                return false;
        }
    }
    return true;
}());

// The rule of identifier `id`, or nullptr when no property has it.
[[nodiscard]] constexpr const property_rule* find_rule(std::uint32_t id) noexcept {
    if (id >= property_rules.size() || property_rules[id].allowed == 0) return nullptr;
    return &property_rules[id];
}
// The row of identifier `id`; row 0 (appears nowhere: `allowed == 0`, type Byte) for
// identifiers no property has.
[[nodiscard]] constexpr const property_rule& rule_of(std::uint32_t id) noexcept {
    return property_rules[id < property_rules.size() ? id : 0];
}
[[nodiscard]] constexpr property_type type_of(property_id id) noexcept {
    return rule_of(static_cast<std::uint32_t>(id)).type();
}
} // namespace detail

/// @brief The facts about identifier `id`, or nullptr when no property has that identifier.
[[nodiscard]] constexpr const property_info* find_property_info(std::uint32_t id) noexcept {
    if (id >= detail::property_index.size()) return nullptr;
    const auto i = detail::property_index[id];
    return i == 0xFF ? nullptr : &detail::property_table[i];
}
/// @overload
[[nodiscard]] constexpr const property_info& property_info_of(property_id id) noexcept {
    return *find_property_info(static_cast<std::uint32_t>(id));
}
/// @brief True when `id` may appear in `ctx` (MQTT 5.0 table 2-4).
[[nodiscard]] constexpr bool is_allowed_in(property_id id, property_context ctx) noexcept {
    const auto* r = detail::find_rule(static_cast<std::uint32_t>(id));
    return r != nullptr && (r->allowed & detail::ctx_bit(ctx)) != 0;
}

} // namespace mqttwire
