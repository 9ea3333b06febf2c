#pragma once
/// @file
/// @brief One MQTT 5.0 property (section 2.2.2.2): an identifier and a value of its wire type,
/// built by the typed factories or decoded from a property block.

#include <concepts>
#include <cstdint>
#include <string_view>

#include "binary_view.hpp"
#include "property_table.hpp"
#include "utf8.hpp"

namespace mqttwire {

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
    [[nodiscard]] friend constexpr bool operator==(const property& a, const property& b) noexcept {
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
} // namespace detail

} // namespace mqttwire
