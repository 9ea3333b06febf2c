#pragma once
/// @file
/// @brief MQTT 5.0 properties (section 2.2.2): identifiers, wire types, where each may appear,
/// decoding with O(1) duplicate detection, non-allocating iteration and look-up, and encoding.
///
/// ```
/// +-----------------------------+----------+-------+----------+-------+-----
/// | Property Length (var. int.) | id (vbi) | value | id (vbi) | value | ...
/// +-----------------------------+----------+-------+----------+-------+-----
/// ```

#include <array>
#include <cstddef>
#include <cstdint>
#include <concepts>
#include <optional>
#include <span>
#include <string_view>

#include "binary_view.hpp"
#include "config.hpp"
#include "detail/reader.hpp"
#include "detail/wire_list.hpp"
#include "detail/writer.hpp"
#include "errc.hpp"
#include "options.hpp"
#include "result.hpp"
#include "packet_type.hpp"
#include "topic.hpp"
#include "utf8.hpp"

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
             pc::pubcomp, pc::subscribe, pc::suback, pc::unsubscribe, pc::unsuback,
             pc::disconnect, pc::auth);
inline constexpr std::uint16_t ack_contexts =
    ctx_bits(pc::connack, pc::puback, pc::pubrec, pc::pubrel, pc::pubcomp, pc::suback,
             pc::unsuback, pc::disconnect, pc::auth);

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
    {property_id::topic_alias_maximum, pt::two_byte_integer, ctx_bits(pc::connect, pc::connack),
     0, "Topic Alias Maximum"},
    {property_id::topic_alias, pt::two_byte_integer, ctx_bits(pc::publish), 0, "Topic Alias"},
    {property_id::maximum_qos, pt::byte, ctx_bits(pc::connack), 0, "Maximum QoS"},
    {property_id::retain_available, pt::byte, ctx_bits(pc::connack), 0, "Retain Available"},
    {property_id::user_property, pt::string_pair, all_contexts, all_contexts, "User Property"},
    {property_id::maximum_packet_size, pt::four_byte_integer, ctx_bits(pc::connect, pc::connack),
     0, "Maximum Packet Size"},
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

// Identifiers with a value rule of section 3 (check_property_fields).
[[nodiscard]] constexpr bool has_value_rule(property_id id) noexcept {
    switch (id) {
    case property_id::payload_format_indicator:
    case property_id::request_problem_information:
    case property_id::request_response_information:
    case property_id::maximum_qos:
    case property_id::retain_available:
    case property_id::wildcard_subscription_available:
    case property_id::subscription_identifier_available:
    case property_id::shared_subscription_available:
    case property_id::receive_maximum:
    case property_id::maximum_packet_size:
    case property_id::subscription_identifier:
    case property_id::topic_alias:
    case property_id::response_topic: return true;
    default: return false;
    }
}

// What the codec needs of each identifier at run time, indexed by the identifier itself and
// derived from property_table at compile time without the names (so a program that never prints
// a property name links none). Unassigned identifiers have `allowed == 0`. Every assigned
// identifier is below 0x80, so on the wire an identifier is one byte: a longer Variable Byte
// Integer is either non-minimal or unknown, malformed either way (MQTT 5.0 section 2.2.2.2).
// Four bytes an identifier: where it may appear, its presence bit, and one byte packing its wire
// type, whether it has a value rule and where it may repeat (User Property wherever it may
// appear, Subscription Identifier in PUBLISH only, the rest nowhere).
class property_rule {
  public:
    constexpr property_rule() noexcept = default;
    constexpr property_rule(property_type t, std::uint8_t presence, std::uint16_t where,
                            std::uint16_t repeatable, bool has_rule) noexcept
        : allowed(where), bit(presence),
          bits_(static_cast<std::uint8_t>(static_cast<unsigned>(t) | (has_rule ? 8u : 0u) |
                                          (repeatable == 0       ? 0u
                                           : repeatable == where ? 16u
                                                                 : 32u))) {}
    std::uint16_t allowed = 0; ///< bit `1 << context` set where the property may appear
    std::uint8_t bit = 0;      ///< presence bit: the index in property_table
    [[nodiscard]] constexpr property_type type() const noexcept {
        return static_cast<property_type>(bits_ & 7u);
    }
    [[nodiscard]] constexpr bool value_rule() const noexcept { return (bits_ & 8u) != 0; }
    /// May appear more than once in the context whose bit is `ctx`.
    [[nodiscard]] constexpr bool repeats(std::uint16_t ctx) const noexcept {
        if ((bits_ & 16u) != 0) return true;
        return (bits_ & 32u) != 0 && ctx == ctx_bit(property_context::publish);
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
                                                    has_value_rule(info.id)};
    }
    return rules;
}();
// The packing holds every entry of table 2-4: what repeats, repeats where it may appear or in
// PUBLISH only.
static_assert([] {
    for (const auto& info : property_table) {
        const auto& r = property_rules[static_cast<std::size_t>(info.id)];
        if (r.type() != info.type || r.allowed != info.allowed) return false;
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
[[nodiscard]] constexpr property_type type_of(property_id id) noexcept {
    const auto* r = find_rule(static_cast<std::uint32_t>(id));
    return r != nullptr ? r->type() : property_type::byte;
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

/// @brief Which member of a `property` its constructor filled (`none`: fields set by hand).
enum class property_value_kind : std::uint8_t { none, integer, string, binary, pair };

/// @brief One property. Which member holds the value follows the identifier's wire type:
/// `integer` for Byte, Two/Four Byte and Variable Byte Integer; `string` for UTF-8 strings;
/// `binary` for Binary Data; `string` (name) and `value` for the User Property pair.
///
/// Prefer the typed factories (`property::content_type("json")`,
/// `property::receive_maximum(10)`, ...), which cannot mix the two up. The generic constructors
/// remember what they were given (`kind`), and `encode` refuses a property whose value does not
/// match its identifier's wire type with `errc::invalid_argument`: `{property_id::content_type,
/// 5}` is an error, not an empty Content Type.
struct property {
    property_id id{};
    property_value_kind kind = property_value_kind::none;
    std::uint32_t integer = 0;
    utf8_view string{};
    utf8_view value{};
    binary_view binary{};

    constexpr property() noexcept = default;
    /// @brief An integer-valued property, e.g. `{property_id::receive_maximum, 10}`.
    template <std::integral I>
    constexpr property(property_id i, I v) noexcept
        : id(i), kind(property_value_kind::integer), integer(static_cast<std::uint32_t>(v)) {}
    /// @brief A string or binary property; the identifier decides which.
    constexpr property(property_id i, std::string_view text) noexcept : id(i) {
        if (detail::type_of(i) == property_type::binary_data) {
            kind = property_value_kind::binary;
            binary = binary_view(text);
        } else {
            kind = property_value_kind::string;
            string = utf8_view(text);
        }
    }
    constexpr property(property_id i, const char* text) noexcept
        : property(i, std::string_view(text)) {}
    constexpr property(property_id i, utf8_view s) noexcept
        : id(i), kind(property_value_kind::string), string(s) {}
    constexpr property(property_id i, binary_view b) noexcept
        : id(i), kind(property_value_kind::binary), binary(b) {}
    /// @brief A User Property.
    constexpr property(property_id i, utf8_view name, utf8_view val) noexcept
        : id(i), kind(property_value_kind::pair), string(name), value(val) {}

    /// @name Typed factories, one per property of MQTT 5.0 section 2.2.2.2
    /// @{
    // clang-format off
    [[nodiscard]] static constexpr property payload_format_indicator(std::uint8_t v) noexcept { return {property_id::payload_format_indicator, v}; }
    [[nodiscard]] static constexpr property message_expiry_interval(std::uint32_t v) noexcept { return {property_id::message_expiry_interval, v}; }
    [[nodiscard]] static constexpr property content_type(utf8_view v) noexcept { return {property_id::content_type, v}; }
    [[nodiscard]] static constexpr property response_topic(utf8_view v) noexcept { return {property_id::response_topic, v}; }
    [[nodiscard]] static constexpr property correlation_data(binary_view v) noexcept { return {property_id::correlation_data, v}; }
    [[nodiscard]] static constexpr property subscription_identifier(std::uint32_t v) noexcept { return {property_id::subscription_identifier, v}; }
    [[nodiscard]] static constexpr property session_expiry_interval(std::uint32_t v) noexcept { return {property_id::session_expiry_interval, v}; }
    [[nodiscard]] static constexpr property assigned_client_identifier(utf8_view v) noexcept { return {property_id::assigned_client_identifier, v}; }
    [[nodiscard]] static constexpr property server_keep_alive(std::uint16_t v) noexcept { return {property_id::server_keep_alive, v}; }
    [[nodiscard]] static constexpr property authentication_method(utf8_view v) noexcept { return {property_id::authentication_method, v}; }
    [[nodiscard]] static constexpr property authentication_data(binary_view v) noexcept { return {property_id::authentication_data, v}; }
    [[nodiscard]] static constexpr property request_problem_information(std::uint8_t v) noexcept { return {property_id::request_problem_information, v}; }
    [[nodiscard]] static constexpr property will_delay_interval(std::uint32_t v) noexcept { return {property_id::will_delay_interval, v}; }
    [[nodiscard]] static constexpr property request_response_information(std::uint8_t v) noexcept { return {property_id::request_response_information, v}; }
    [[nodiscard]] static constexpr property response_information(utf8_view v) noexcept { return {property_id::response_information, v}; }
    [[nodiscard]] static constexpr property server_reference(utf8_view v) noexcept { return {property_id::server_reference, v}; }
    [[nodiscard]] static constexpr property reason_string(utf8_view v) noexcept { return {property_id::reason_string, v}; }
    [[nodiscard]] static constexpr property receive_maximum(std::uint16_t v) noexcept { return {property_id::receive_maximum, v}; }
    [[nodiscard]] static constexpr property topic_alias_maximum(std::uint16_t v) noexcept { return {property_id::topic_alias_maximum, v}; }
    [[nodiscard]] static constexpr property topic_alias(std::uint16_t v) noexcept { return {property_id::topic_alias, v}; }
    [[nodiscard]] static constexpr property maximum_qos(std::uint8_t v) noexcept { return {property_id::maximum_qos, v}; }
    [[nodiscard]] static constexpr property retain_available(bool v) noexcept { return {property_id::retain_available, v ? 1 : 0}; }
    [[nodiscard]] static constexpr property user_property(utf8_view name, utf8_view v) noexcept { return {property_id::user_property, name, v}; }
    [[nodiscard]] static constexpr property maximum_packet_size(std::uint32_t v) noexcept { return {property_id::maximum_packet_size, v}; }
    [[nodiscard]] static constexpr property wildcard_subscription_available(bool v) noexcept { return {property_id::wildcard_subscription_available, v ? 1 : 0}; }
    [[nodiscard]] static constexpr property subscription_identifier_available(bool v) noexcept { return {property_id::subscription_identifier_available, v ? 1 : 0}; }
    [[nodiscard]] static constexpr property shared_subscription_available(bool v) noexcept { return {property_id::shared_subscription_available, v ? 1 : 0}; }
    // clang-format on
    /// @}

    [[nodiscard]] constexpr property_type type() const noexcept { return detail::type_of(id); }
    [[nodiscard]] constexpr string_pair pair() const noexcept { return {string, value}; }

    /// @brief Same identifier and value (how it was built does not matter).
    [[nodiscard]] friend constexpr bool operator==(const property& a,
                                                   const property& b) noexcept {
        if (a.id != b.id) return false;
        switch (a.type()) {
        case property_type::utf8_string: return a.string == b.string;
        case property_type::binary_data: return a.binary == b.binary;
        case property_type::string_pair: return a.string == b.string && a.value == b.value;
        default: return a.integer == b.integer;
        }
    }
};

/// @brief Shorthand for a User Property.
[[nodiscard]] constexpr property user_property(utf8_view name, utf8_view value) noexcept {
    return {property_id::user_property, name, value};
}

namespace detail {

// The kind a decoded value of wire type `t` has.
[[nodiscard]] constexpr property_value_kind kind_of(property_type t) noexcept {
    switch (t) {
    case property_type::utf8_string: return property_value_kind::string;
    case property_type::binary_data: return property_value_kind::binary;
    case property_type::string_pair: return property_value_kind::pair;
    default: return property_value_kind::integer;
    }
}

// Value rules of section 3 that need only the property itself: its identifier, its integer
// and its string.
[[nodiscard]] constexpr errc check_property_fields(property_id id, std::uint32_t integer,
                                                   const utf8_view& string) noexcept {
    switch (id) {
    case property_id::payload_format_indicator:
    case property_id::request_problem_information:
    case property_id::request_response_information:
    case property_id::maximum_qos:
    case property_id::retain_available:
    case property_id::wildcard_subscription_available:
    case property_id::subscription_identifier_available:
    case property_id::shared_subscription_available:
        // Sections 3.1.2.11.6, 3.1.2.11.7, 3.2.2.3.4, 3.2.2.3.5, 3.2.2.3.11-13, 3.3.2.3.2: 0 or 1.
        return integer <= 1 ? errc::success : errc::protocol_error;
    case property_id::receive_maximum:     // 3.1.2.11.3 / 3.2.2.3.3: 0 is a Protocol Error
    case property_id::maximum_packet_size: // 3.1.2.11.4 / 3.2.2.3.6: 0 is a Protocol Error
        return integer != 0 ? errc::success : errc::protocol_error;
    case property_id::subscription_identifier:
        // 3.8.2.1.2: 0 is a Protocol Error; the varint bounds the maximum.
        return integer != 0 ? errc::success : errc::protocol_error;
    case property_id::topic_alias:
        // MQTT5-3.3.2-8: Topic Alias 0 is never sent; receivers answer 0x94.
        return integer != 0 ? errc::success : errc::topic_alias_invalid;
    case property_id::response_topic:
        // MQTT5-3.3.2-13 (UTF-8, checked on read) and MQTT5-3.3.2-14: a topic name, no wildcards.
        return validate_topic_name(string) == errc::success ? errc::success
                                                            : errc::protocol_error;
    default: return errc::success;
    }
}

[[nodiscard]] constexpr errc check_property_value(const property& p) noexcept {
    return check_property_fields(p.id, p.integer, p.string);
}

// Reads the value of one property whose rule is known, bounded by the reader: into `out` when
// one is given (iteration of a decoded block), and checked against the value rules of section 3
// when `check` is set (validation of a block, where no `property` is built). One function for
// both, so a program links one.
[[nodiscard]] MQTTWIRE_FORCE_INLINE constexpr errc read_wire_property(reader& r, property_id id,
                                                                     const property_rule& rule,
                                                                     utf8_rules rules,
                                                                     property* out,
                                                                     bool check) noexcept {
    std::uint32_t integer = 0;
    utf8_view string{};
    utf8_view value{};
    binary_view binary{};
    switch (rule.type()) {
    case property_type::byte: {
        std::uint8_t v = 0;
        if (const auto e = r.u8(v); e != errc::success) return e;
        integer = v;
        break;
    }
    case property_type::two_byte_integer: {
        std::uint16_t v = 0;
        if (const auto e = r.u16(v); e != errc::success) return e;
        integer = v;
        break;
    }
    case property_type::four_byte_integer:
        if (const auto e = r.u32(integer); e != errc::success) return e;
        break;
    case property_type::variable_byte_integer:
        if (const auto e = r.varint(integer); e != errc::success) return e;
        break;
    case property_type::utf8_string:
        if (const auto e = r.utf8(string, rules); e != errc::success) return e;
        break;
    case property_type::binary_data: {
        std::span<const std::byte> b;
        if (const auto e = r.string(b); e != errc::success) return e;
        binary = binary_view(b);
        break;
    }
    case property_type::string_pair: {
        // MQTT5-1.5.7-1: both halves are UTF-8 strings.
        if (const auto e = r.utf8(string, rules); e != errc::success) return e;
        if (const auto e = r.utf8(value, rules); e != errc::success) return e;
        break;
    }
    default: return errc::malformed_packet;
    }
    if (out != nullptr) {
        *out = property{};
        out->id = id;
        out->kind = kind_of(rule.type());
        out->integer = integer;
        out->string = string;
        out->value = value;
        out->binary = binary;
    }
    return check && rule.value_rule() ? check_property_fields(id, integer, string) : errc::success;
}

[[nodiscard]] MQTTWIRE_FORCE_INLINE constexpr errc check_wire_property(reader& r, property_id id,
                                                                      const property_rule& rule,
                                                                      utf8_rules rules) noexcept {
    return read_wire_property(r, id, rule, rules, nullptr, true);
}

} // namespace detail

namespace detail {
struct properties_access;

// Decodes one entry of a validated property block: identifier, then value.
struct property_entry_traits {
    [[nodiscard]] static constexpr errc read(reader& r, property& out) noexcept {
        std::uint8_t id = 0;
        if (const auto e = r.u8(id); e != errc::success) return e;
        const property_rule* rule = find_rule(id);
        if (rule == nullptr) return errc::malformed_packet;
        return read_wire_property(r, static_cast<property_id>(id), *rule, {}, &out, false);
    }
};

// Bit of `id` in a properties_view's presence mask: its index in property_table (27 bits).
[[nodiscard]] constexpr std::uint32_t presence_bit(property_id id) noexcept {
    const auto* r = find_rule(static_cast<std::uint32_t>(id));
    return r == nullptr ? 0u : std::uint32_t{1} << r->bit;
}
} // namespace detail

/// @brief The properties of one packet (or of a will): a view over the validated wire bytes of
/// a decoded packet, or over caller-provided `property` values to encode.
///
/// Iteration yields `property` values and never allocates. `contains` is O(1) for decoded
/// blocks; `find` and `count` walk the block. Four words: a pointer, a length, a presence mask
/// and the entry count with the block's context.
class properties_view {
    static constexpr std::uint32_t count_mask = (std::uint32_t{1} << 27) - 1;
    static constexpr unsigned ctx_shift = 27;
    static constexpr std::uint32_t wire_bit = std::uint32_t{1} << 31;

  public:
    using iterator = detail::list_iterator<property, detail::property_entry_traits>;

    constexpr properties_view() noexcept : values_(nullptr) {}
    /// @brief Properties to encode, in wire order.
    constexpr properties_view(std::span<const property> values) noexcept // NOLINT
        : values_(values.data()), length_(values.size()) {}
    template <std::size_t N>
    constexpr properties_view(const property (&values)[N]) noexcept // NOLINT
        : properties_view(std::span<const property>(values)) {}

    [[nodiscard]] constexpr iterator begin() const noexcept { return at(0); }
    [[nodiscard]] constexpr iterator end() const noexcept { return at(size()); }
    [[nodiscard]] constexpr std::size_t size() const noexcept {
        return is_wire() ? (bits_ & count_mask) : length_;
    }
    [[nodiscard]] constexpr bool empty() const noexcept { return size() == 0; }

    /// @brief True when a property with identifier `id` is present.
    [[nodiscard]] constexpr bool contains(property_id id) const noexcept {
        if (is_wire()) return (present_ & detail::presence_bit(id)) != 0;
        for (const auto& p : values())
            if (p.id == id) return true;
        return false;
    }
    /// @brief The first property with identifier `id`.
    [[nodiscard]] constexpr std::optional<property> find(property_id id) const noexcept {
        if (is_wire() && !contains(id)) return std::nullopt;
        for (const auto& p : *this)
            if (p.id == id) return p;
        return std::nullopt;
    }
    /// @brief The integer value of `id`, or `fallback` when absent.
    [[nodiscard]] constexpr std::uint32_t integer_or(property_id id,
                                                     std::uint32_t fallback) const noexcept {
        const auto p = find(id);
        return p ? p->integer : fallback;
    }
    /// @brief How many properties have identifier `id`.
    [[nodiscard]] constexpr std::size_t count(property_id id) const noexcept {
        std::size_t n = 0;
        for (const auto& p : *this)
            if (p.id == id) ++n;
        return n;
    }

    /// @brief The raw block of a decoded view, without its Property Length (empty for
    /// value-backed views).
    [[nodiscard]] constexpr std::span<const std::byte> wire() const noexcept {
        if (!is_wire()) return {};
        return {wire_, length_};
    }
    [[nodiscard]] constexpr bool is_wire() const noexcept { return (bits_ & wire_bit) != 0; }
    /// @brief Where a decoded block was validated (meaningless for value-backed views).
    [[nodiscard]] constexpr property_context wire_context() const noexcept {
        return static_cast<property_context>((bits_ >> ctx_shift) & 0x0Fu);
    }

    /// @brief The same decoded block read from `copy`, a byte-for-byte copy of `wire()` (e.g.
    /// kept by a broker after the input buffer is gone). Precondition: `copy` holds the same
    /// bytes; an empty view is returned when the sizes differ.
    [[nodiscard]] constexpr properties_view rebased(std::span<const std::byte> copy) const noexcept {
        if (!is_wire() || copy.size() != length_) return {};
        properties_view v = *this;
        v.wire_ = copy.data();
        return v;
    }

    /// @brief Same properties in the same order.
    [[nodiscard]] friend constexpr bool operator==(const properties_view& a,
                                                   const properties_view& b) noexcept {
        if (a.size() != b.size()) return false;
        auto ib = b.begin();
        for (const auto& p : a) {
            if (!(p == *ib)) return false;
            ++ib;
        }
        return true;
    }

  private:
    friend struct detail::properties_access;
    [[nodiscard]] constexpr iterator at(std::size_t index) const noexcept {
        if (is_wire()) return iterator(wire(), size(), index);
        return iterator(values_, length_, index);
    }
    [[nodiscard]] constexpr std::span<const property> values() const noexcept {
        if (is_wire()) return {};
        return {values_, length_};
    }
    // In place: the decoder writes into the view it was given instead of copying a new one in.
    constexpr void set_wire(std::span<const std::byte> block, std::size_t count,
                            std::uint32_t present, property_context ctx) noexcept {
        wire_ = block.data();
        length_ = block.size();
        present_ = present;
        bits_ = static_cast<std::uint32_t>(count & count_mask) |
                static_cast<std::uint32_t>(static_cast<std::uint32_t>(ctx) << ctx_shift) | wire_bit;
    }

    union {
        const std::byte* wire_;
        const property* values_;
    };
    std::size_t length_ = 0;    ///< wire: bytes of the block; values: number of properties
    std::uint32_t present_ = 0; ///< wire: presence_bit of every identifier in the block
    std::uint32_t bits_ = 0;    ///< wire: count (bits 0-26), context (27-30), wire flag (31)
};

namespace detail {

struct properties_access {
    static constexpr void set_wire(properties_view& v, std::span<const std::byte> block,
                                   std::size_t count, std::uint32_t present,
                                   property_context ctx) noexcept {
        v.set_wire(block, count, present, ctx);
    }
    // The caller's values of a value-backed view (empty for a decoded one).
    [[nodiscard]] static constexpr std::span<const property>
    values(const properties_view& v) noexcept {
        return v.values();
    }
};

// Calls `f(property)` for each property of `props`, stopping at the first error: straight over
// the caller's array for a value-backed view (no iterator copies), by decoding a wire block.
template <class F>
[[nodiscard]] constexpr errc for_each_property(const properties_view& props, F f) noexcept {
    if (!props.is_wire()) {
        for (const auto& p : properties_access::values(props))
            if (const auto e = f(p); e != errc::success) return e;
        return errc::success;
    }
    for (const auto& p : props)
        if (const auto e = f(p); e != errc::success) return e;
    return errc::success;
}

/// Which optional properties an encoder leaves out to fit a Maximum Packet Size.
struct property_filter {
    bool drop_reason_string = false;
    bool drop_user_properties = false;
    [[nodiscard]] constexpr bool keeps(property_id id) const noexcept {
        if (id == property_id::reason_string) return !drop_reason_string;
        if (id == property_id::user_property) return !drop_user_properties;
        return true;
    }
    [[nodiscard]] constexpr bool any() const noexcept {
        return drop_reason_string || drop_user_properties;
    }
};

// Decodes a Property Length and the block after it (MQTT 5.0 section 2.2.2), checking every
// identifier, its place (table 2-4), duplicates (one bitmask: O(1) per property) and its value.
// Section 2.2.2.2: an identifier that is unknown or not valid for the packet type is a Malformed
// Packet; a property that may appear once but appears twice is a Protocol Error.
// Checks every entry of a property block (its Property Length already read): each identifier,
// its place (table 2-4), duplicates (one bitmask: O(1) per property) and its value.
// Section 2.2.2.2: an identifier that is unknown or not valid for the packet type is a Malformed
// Packet; a property that may appear once but appears twice is a Protocol Error.
[[nodiscard]] constexpr errc check_property_entries(reader walk, property_context ctx,
                                                    const decode_options& opts,
                                                    std::uint32_t& present,
                                                    std::size_t& count) noexcept {
    present = 0;
    count = 0;
    const auto bit = ctx_bit(ctx);
    while (!walk.empty()) {
        std::uint8_t id = 0;
        if (const auto e = walk.u8(id); e != errc::success) return e;
        // Every identifier is below 0x80: a multi-byte one is unknown or non-minimal.
        const property_rule* rule = find_rule(id);
        if (rule == nullptr || (rule->allowed & bit) == 0) return errc::malformed_packet;
        const std::uint32_t mask = std::uint32_t{1} << rule->bit;
        if ((present & mask) != 0 && !rule->repeats(bit)) return errc::protocol_error;
        present |= mask;
        if (const auto e =
                check_wire_property(walk, static_cast<property_id>(id), *rule, opts.utf8);
            e != errc::success)
            return e;
        ++count;
    }
    return errc::success;
}

// Decodes a Property Length and the block after it (MQTT 5.0 section 2.2.2).
[[nodiscard]] constexpr errc decode_properties(reader& r, property_context ctx,
                                               const decode_options& opts,
                                               properties_view& out) noexcept {
    std::uint32_t length = 0;
    if (const auto e = r.varint(length); e != errc::success) return e;
    reader block;
    if (const auto e = r.sub(length, block); e != errc::success) return e;
    std::uint32_t present = 0;
    std::size_t count = 0;
    if (const auto e = check_property_entries(block, ctx, opts, present, count);
        e != errc::success)
        return e;
    properties_access::set_wire(out, block.rest(), count, present, ctx);
    return errc::success;
}

// Checks a value-backed property list for an encoder: the same rules the decoder applies.
// The rules of one value-backed property of a block being encoded in context `bit`; `present`
// collects the identifiers seen so far (duplicates).
[[nodiscard]] constexpr errc check_one_property(const property& p, std::uint16_t bit,
                                                std::uint64_t& present) noexcept {
    const auto id = static_cast<std::uint32_t>(p.id);
    const property_rule* info = find_rule(id);
    if (info == nullptr) return errc::malformed_packet;
    if ((info->allowed & bit) == 0) return errc::malformed_packet;
    const std::uint64_t mask = std::uint64_t{1} << id;
    if ((present & mask) != 0 && !info->repeats(bit)) return errc::protocol_error;
    present |= mask;
    // A value given for another wire type (e.g. an integer for Content Type).
    if (p.kind != property_value_kind::none && p.kind != kind_of(info->type()))
        return errc::invalid_argument;
    if (info->type() == property_type::byte && p.integer > 0xFF) return errc::malformed_packet;
    if (info->type() == property_type::two_byte_integer && p.integer > 0xFFFF)
        return errc::malformed_packet;
    if (info->type() == property_type::variable_byte_integer && p.integer > varint_max)
        return errc::malformed_packet;
    return check_property_value(p);
}

[[nodiscard]] constexpr errc check_properties(const properties_view& props,
                                              property_context ctx) noexcept {
    if (props.is_wire() && props.wire_context() == ctx) return errc::success; // checked on decode
    std::uint64_t present = 0;
    const auto bit = ctx_bit(ctx);
    return for_each_property(props, [&present, bit](const property& p) {
        return check_one_property(p, bit, present);
    });
}

// MQTT 5.0 sections 3.1.2.11.9/3.1.2.11.10, 3.2.2.3.17/18, 3.15.2.2.2/3: Authentication Data
// without an Authentication Method is a Protocol Error.
[[nodiscard]] constexpr errc check_auth_pair(const properties_view& p) noexcept {
    return p.contains(property_id::authentication_data) &&
                   !p.contains(property_id::authentication_method)
               ? errc::protocol_error
               : errc::success;
}

template <class W>
[[nodiscard]] constexpr errc write_property(W& w, const property& p) noexcept {
    w.varint(static_cast<std::uint32_t>(p.id));
    switch (type_of(p.id)) {
    case property_type::byte: w.u8(static_cast<std::uint8_t>(p.integer)); return errc::success;
    case property_type::two_byte_integer:
        w.u16(static_cast<std::uint16_t>(p.integer));
        return errc::success;
    case property_type::four_byte_integer: w.u32(p.integer); return errc::success;
    case property_type::variable_byte_integer: w.varint(p.integer); return errc::success;
    case property_type::utf8_string: return w.utf8(p.string);
    case property_type::binary_data: return w.binary(p.binary);
    case property_type::string_pair:
        if (const auto e = w.utf8(p.string); e != errc::success) return e;
        return w.utf8(p.value);
    }
    return errc::malformed_packet;
}

// Bytes write_property writes for a property the counting pass has validated.
[[nodiscard]] constexpr std::size_t value_property_size(const property& p) noexcept {
    const std::size_t id = varint_size(static_cast<std::uint32_t>(p.id));
    switch (type_of(p.id)) {
    case property_type::byte: return id + 1;
    case property_type::two_byte_integer: return id + 2;
    case property_type::four_byte_integer: return id + 4;
    case property_type::variable_byte_integer: return id + varint_size(p.integer);
    case property_type::utf8_string: return id + 2 + p.string.size();
    case property_type::binary_data: return id + 2 + p.binary.size();
    case property_type::string_pair: return id + 4 + p.string.size() + p.value.size();
    }
    return id;
}

template <class W>
[[nodiscard]] constexpr errc write_property_entries(W& w, const properties_view& props,
                                                    property_context ctx,
                                                    property_filter filter) noexcept {
    if (props.is_wire() && props.wire_context() == ctx && !filter.any()) {
        w.raw(props.wire()); // validated on decode: copy as is
        return errc::success;
    }
    return for_each_property(props, [&w, filter](const property& p) {
        return filter.keeps(p.id) ? write_property(w, p) : errc::success;
    });
}

// Property Length followed by the properties. Validation happens in the counting pass.
template <class W>
[[nodiscard]] constexpr errc write_properties(W& w, const properties_view& props,
                                              property_context ctx,
                                              property_filter filter) noexcept {
    if (props.empty() && props.wire().empty()) { // common: Property Length 0, in both passes
        w.u8(0);
        return errc::success;
    }
    if (w.validating()) {
        // Size-optimised builds count with the flex sink too: one instantiation of the entries.
        using count_sink = std::conditional_t<small_code, flex_sink, counting_sink>;
        count_sink c;
        writer<count_sink> cw(c);
        if (small_code || props.is_wire()) {
            if (const auto e = check_properties(props, ctx); e != errc::success) return e;
            if (const auto e = write_property_entries(cw, props, ctx, filter); e != errc::success)
                return e;
        } else {
            // Caller values in a fast build: each property's rules and its size in one walk.
            std::uint64_t present = 0;
            const auto bit = ctx_bit(ctx);
            if (const auto e = for_each_property(props, [&](const property& p) {
                    if (const auto r = check_one_property(p, bit, present); r != errc::success)
                        return r;
                    return filter.keeps(p.id) ? write_property(cw, p) : errc::success;
                });
                e != errc::success)
                return e;
        }
        if (c.count > varint_max) return errc::packet_too_large;
        w.varint(static_cast<std::uint32_t>(c.count));
        w.sink().skip(c.count);
        return errc::success;
    }
    // Writing: the counting pass has validated the block, so its length is measured again
    // without validating (same code, a non-validating counter), then the entries written. Fast
    // builds sum the sizes of caller values directly; a disagreement with the bytes written
    // would fail the encode (the writing sink is bounded and its count is checked).
    std::size_t length = 0;
    if (!small_code && !props.is_wire()) {
        for (const auto& p : properties_access::values(props))
            if (filter.keeps(p.id)) length += value_property_size(p);
    } else {
        using recount = std::conditional_t<small_code, flex_sink, recount_sink>;
        recount c;
        writer<recount> cw(c);
        if (const auto e = write_property_entries(cw, props, ctx, filter); e != errc::success)
            return e;
        length = c.count;
    }
    if (length > varint_max) return errc::packet_too_large;
    w.varint(static_cast<std::uint32_t>(length));
    return write_property_entries(w, props, ctx, filter);
}

} // namespace detail
/// @brief Validates a property block (the bytes after a Property Length) as the properties of
/// `ctx`, with every rule `decode_packet` applies to it, and returns a view over it.
/// @return the view (pointing into `block`), or `errc::malformed_packet` /
/// `errc::protocol_error` / `errc::topic_alias_invalid` as for a packet holding that block.
[[nodiscard]] constexpr result<properties_view>
decode_property_block(std::span<const std::byte> block, property_context ctx,
                      const decode_options& opts = {}) noexcept {
    if (block.size() > varint_max) return errc::malformed_packet; // no Property Length fits
    properties_view out;
    std::uint32_t present = 0;
    std::size_t count = 0;
    if (const auto e =
            detail::check_property_entries(detail::reader(block), ctx, opts, present, count);
        e != errc::success)
        return e;
    detail::properties_access::set_wire(out, block, count, present, ctx);
    return out;
}

/// @brief The number of bytes `encode_property_block` writes: the entries of `props`, without a
/// Property Length.
/// @return the size, or `errc::malformed_packet` / `errc::protocol_error` /
/// `errc::invalid_argument` for a property the encoder refuses in `ctx`.
[[nodiscard]] constexpr result<std::size_t> property_block_size(const properties_view& props,
                                                                property_context ctx) noexcept {
    if (const auto e = detail::check_properties(props, ctx); e != errc::success) return e;
    detail::counting_sink c;
    detail::writer<detail::counting_sink> w(c);
    if (const auto e = detail::write_property_entries(w, props, ctx, {}); e != errc::success)
        return e;
    return c.count;
}

/// @brief Writes the entries of `props` (no Property Length) into `out`, after the same checks
/// as `encode`. E.g. a broker keeping the properties it forwards.
/// @return bytes written, `errc::buffer_too_small` (nothing written), or the errors of
/// `property_block_size`.
[[nodiscard]] constexpr result<std::size_t> encode_property_block(const properties_view& props,
                                                                  property_context ctx,
                                                                  std::span<std::byte> out) noexcept {
    const auto size = property_block_size(props, ctx);
    if (!size) return size;
    if (out.size() < *size) return errc::buffer_too_small;
    detail::span_sink sink{out.first(*size)};
    detail::writer<detail::span_sink> w(sink);
    if (const auto e = detail::write_property_entries(w, props, ctx, {}); e != errc::success)
        return e;
    return sink.count;
}

} // namespace mqttwire
