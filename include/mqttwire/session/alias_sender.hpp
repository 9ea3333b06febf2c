#pragma once
/// @file
/// @brief Outbound Topic Aliases (MQTT 5.0 section 3.3.2.3.4): which PUBLISHes of one connection
/// name their topic by alias, under a policy, and the rewriting of an already encoded PUBLISH
/// (a broker's encode-once fan-out) into its aliased form.
///
/// ```
///  encoded:  30 | RL  | 00 1c "zigbee2mqtt/living/motion" | [id] | PL     | props | payload
///  set:      30 | RL' | 00 1c "zigbee2mqtt/living/motion" | [id] | PL + 3 | 23 00 01 props | payload
///  use:      30 | RL''| 00 00                             | [id] | PL + 3 | 23 00 01 props | payload
/// ```

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>

#include "../errc.hpp"
#include "../framer.hpp"
#include "../result.hpp"
#include "../varint.hpp"
#include "alias_table.hpp"
#include "storage.hpp"

namespace mqttwire {

/// @brief When a sender names topics by alias. An alias costs three bytes of property on every
/// PUBLISH that carries it, so a short topic gains nothing; a topic set larger than the aliases
/// the peer allows can make every PUBLISH set a new alias (topic and alias both sent), which
/// `replace` false avoids.
struct topic_alias_policy {
    /// Aliases used at most on one connection; also capped by the peer's Topic Alias Maximum
    /// (MQTT5-3.1.2-26 / MQTT5-3.2.2-17) and the storage's `aliases_out`. 0: none.
    std::uint16_t maximum = 65535;
    /// Topics shorter than this many bytes are always sent by name.
    std::uint16_t min_topic_length = 0;
    /// True: once every alias is in use, the least recently used one is given to a new topic.
    /// False: the first topics keep their aliases for the connection, later ones go by name.
    bool replace = true;

    [[nodiscard]] friend constexpr bool operator==(const topic_alias_policy&,
                                                   const topic_alias_policy&) noexcept = default;
};

/// @brief How one PUBLISH names its topic.
struct topic_alias_choice {
    /// 0: by name only, no Topic Alias.
    std::uint16_t alias = 0;
    /// With an alias: true sends the name too and (re)maps the alias to it; false sends the
    /// alias alone with an empty Topic Name (MQTT5-3.3.2-8 ... the receiver looks it up).
    bool with_topic = true;
};

/// @brief The outbound alias map of one connection and its policy. O(aliases) per PUBLISH (a
/// scan of the slots, which share one allocation); the slots are allocated with the first
/// alias and freed by `start()`.
template <class Storage> class topic_alias_sender {
  public:
    explicit topic_alias_sender(const Storage& storage = Storage(),
                                topic_alias_policy policy = {}) noexcept
        : table_(storage), policy_(policy) {}

    /// @brief A new network connection: the peer's Topic Alias Maximum (from CONNECT for a
    /// server, CONNACK for a client; 0 when it sent none, MQTT5-3.1.2-27 / MQTT5-3.2.2-18).
    /// Mappings of an earlier connection are gone (MQTT5-3.3.2-7).
    void start(std::uint16_t peer_maximum) noexcept {
        table_.clear();
        usable_ = std::min({peer_maximum, policy_.maximum, table_.max()});
    }

    /// @brief Aliases this connection may use now.
    [[nodiscard]] std::uint16_t usable() const noexcept { return usable_; }
    [[nodiscard]] const topic_alias_policy& policy() const noexcept { return policy_; }

    /// @brief Decides how the next PUBLISH to `topic` names it, and records a new mapping.
    /// If that PUBLISH is then not sent, call `not_sent(topic)`.
    [[nodiscard]] topic_alias_choice choose(std::span<const std::byte> topic) noexcept {
        if (usable_ == 0 || topic.empty() || topic.size() < policy_.min_topic_length) return {};
        if (const auto a = table_.find(topic, usable_); a != 0) return {a, false};
        return {table_.assign(topic, usable_, policy_.replace), true};
    }

    /// @brief The PUBLISH that was to map `topic` was not sent: the peer never learned the
    /// mapping, so it must not be used.
    void not_sent(std::span<const std::byte> topic) noexcept { table_.forget(topic); }

  private:
    detail::alias_map<Storage, storage_part::aliases_out, storage_part::alias_bytes_out> table_;
    topic_alias_policy policy_;
    std::uint16_t usable_ = 0;
};

namespace detail {

// The outbound Topic Aliases of a connection (client and server role) and the scratch properties
// of a PUBLISH that gets one (`outbound_publish::alias_into`). Fixed storage: a
// `topic_alias_sender` and the scratch inline (none when the storage allows no outbound alias).
template <class Storage, bool Heap = Storage::allocates> class outbound_aliases {
  public:
    explicit outbound_aliases(const Storage& s, topic_alias_policy policy = {}) noexcept
        : sender_(s, policy), scratch_(s) {}

    void start(std::uint16_t peer_maximum) noexcept { sender_.start(peer_maximum); }
    [[nodiscard]] std::uint16_t usable() const noexcept { return sender_.usable(); }
    [[nodiscard]] topic_alias_policy policy() const noexcept { return sender_.policy(); }
    [[nodiscard]] topic_alias_choice choose(std::span<const std::byte> topic) noexcept {
        return sender_.choose(topic);
    }
    void not_sent(std::span<const std::byte> topic) noexcept { sender_.not_sent(topic); }
    // Room for `alias_property_slots` properties, or nullptr.
    [[nodiscard]] property* scratch() noexcept {
        return scratch_.reserve(alias_property_slots) ? scratch_.data() : nullptr;
    }

  private:
    topic_alias_sender<Storage> sender_;
    typename Storage::template buffer<property, storage_part::alias_properties> scratch_;
};

// Allocator-backed storage: the alias table and the scratch are one allocation, made with the
// first alias and freed by `start()` (or the connection's end), so an idle connection keeps a
// pointer, the policy and a few counts.
template <class Storage> class outbound_aliases<Storage, true> {
  public:
    explicit outbound_aliases(const Storage& s, topic_alias_policy policy = {}) noexcept
        : table_(s, policy.maximum), maximum_(policy.maximum),
          min_topic_length_(policy.min_topic_length), replace_(policy.replace) {}

    // As `topic_alias_sender`.
    void start(std::uint16_t peer_maximum) noexcept {
        table_.clear();
        usable_ = std::min({peer_maximum, maximum_, table_.max()});
    }
    [[nodiscard]] std::uint16_t usable() const noexcept { return usable_; }
    [[nodiscard]] topic_alias_policy policy() const noexcept {
        return {maximum_, min_topic_length_, replace_};
    }
    [[nodiscard]] topic_alias_choice choose(std::span<const std::byte> topic) noexcept {
        if (usable_ == 0 || topic.empty() || topic.size() < min_topic_length_) return {};
        if (const auto a = table_.find(topic, usable_); a != 0) return {a, false};
        return {table_.assign(topic, usable_, replace_), true};
    }
    void not_sent(std::span<const std::byte> topic) noexcept { table_.forget(topic); }
    [[nodiscard]] property* scratch() noexcept { return table_.extra(); }

  private:
    [[no_unique_address]] boxed_alias_table<Storage, storage_part::aliases_out,
                                            storage_part::alias_bytes_out, alias_property_slots>
        table_;
    std::uint16_t maximum_;
    std::uint16_t min_topic_length_;
    std::uint16_t usable_ = 0;
    bool replace_;
};

} // namespace detail

/// @brief Where the pieces of an encoded PUBLISH start, for rewriting it.
struct publish_layout {
    std::size_t header = 0;      ///< fixed header bytes
    std::size_t topic_at = 0;    ///< first byte of the Topic Name (after its length)
    std::size_t topic_size = 0;
    std::size_t id_size = 0;     ///< 2 with a packet identifier (QoS 1/2), else 0
    std::size_t props_at = 0;    ///< the Property Length
    std::size_t props_len_size = 0;
    std::size_t props_size = 0;  ///< the properties after the Property Length
    std::size_t payload_at = 0;
};

/// @brief Reads the layout of `packet`, one whole encoded 5.0 PUBLISH.
/// @return `errc::invalid_argument` when it is not one; `errc::malformed_packet` when its
/// lengths disagree with its size.
[[nodiscard]] constexpr result<publish_layout> read_publish_layout(
    std::span<const std::byte> packet) noexcept {
    const auto f = next_frame(packet);
    if (f.status != errc::success || f.size != packet.size() || f.type != packet_type::publish)
        return errc::invalid_argument;
    publish_layout l;
    l.header = f.header_size;
    if (packet.size() < l.header + 2) return errc::malformed_packet;
    l.topic_size = std::size_t{static_cast<std::uint8_t>(packet[l.header])} << 8 |
                   static_cast<std::uint8_t>(packet[l.header + 1]);
    l.topic_at = l.header + 2;
    const unsigned q = (f.flags >> 1) & 3u;
    if (q == 3) return errc::malformed_packet;
    l.id_size = q == 0 ? 0 : 2;
    l.props_at = l.topic_at + l.topic_size + l.id_size;
    if (l.props_at >= packet.size()) return errc::malformed_packet;
    const auto pl = decode_varint(packet.subspan(l.props_at));
    if (pl.status != errc::success) return errc::malformed_packet;
    l.props_len_size = pl.size;
    l.props_size = pl.value;
    if (packet.size() - l.props_at - pl.size < pl.value) return errc::malformed_packet;
    l.payload_at = l.props_at + pl.size + pl.value;
    return l;
}

/// @brief An encoded PUBLISH rewritten for a Topic Alias: its size and where its packet
/// identifier is (0 for QoS 0).
struct aliased_publish {
    std::size_t size = 0;
    std::size_t id_at = 0;
};

namespace detail {

// Scratch properties for outbound aliases: none when fixed storage allows no outbound alias.
// Allocator-backed storage allocates them with the first PUBLISH that gets an alias.
template <class Storage> constexpr std::size_t alias_scratch() noexcept {
    if constexpr (Storage::allocates) return alias_property_slots;
    else return capacity_of(Storage::limits(), storage_part::alias_properties);
}

constexpr std::size_t put_varint(std::span<std::byte> out, std::size_t at, std::uint32_t v) noexcept {
    do {
        auto b = static_cast<std::uint8_t>(v & 0x7Fu);
        v >>= 7;
        if (v != 0) b = static_cast<std::uint8_t>(b | 0x80u);
        out[at++] = std::byte{b};
    } while (v != 0);
    return at;
}

constexpr std::size_t put_bytes(std::span<std::byte> out, std::size_t at,
                                std::span<const std::byte> bytes) noexcept {
    std::copy(bytes.begin(), bytes.end(), out.subspan(at, bytes.size()).begin());
    return at + bytes.size();
}

// Measures (`out` empty) or writes the aliased form of `packet`: one code path for both.
[[nodiscard]] constexpr result<aliased_publish> splice_alias(std::span<const std::byte> packet,
                                                             const publish_layout& l,
                                                             topic_alias_choice c,
                                                             std::span<std::byte> out) noexcept {
    const std::size_t topic = c.with_topic ? l.topic_size : 0;
    const std::size_t props = l.props_size + 3; // Topic Alias: identifier 0x23 and two bytes
    if (props > varint_max) return errc::packet_too_large;
    const auto props_len = static_cast<std::uint32_t>(props);
    const std::size_t body = 2 + topic + l.id_size + varint_size(props_len) + props +
                             (packet.size() - l.payload_at);
    if (body > varint_max) return errc::packet_too_large;
    const auto body_len = static_cast<std::uint32_t>(body);
    const std::size_t size = 1 + varint_size(body_len) + body;
    const std::size_t id_at = l.id_size == 0 ? 0 : 1 + varint_size(body_len) + 2 + topic;
    if (out.empty()) return aliased_publish{size, id_at};
    if (out.size() < size) return errc::buffer_too_small;
    out[0] = packet[0];
    std::size_t at = put_varint(out, 1, body_len);
    out[at++] = static_cast<std::byte>(topic >> 8);
    out[at++] = static_cast<std::byte>(topic & 0xFF);
    at = put_bytes(out, at, packet.subspan(l.topic_at, topic));
    at = put_bytes(out, at, packet.subspan(l.topic_at + l.topic_size, l.id_size));
    at = put_varint(out, at, props_len);
    out[at++] = std::byte{0x23}; // property_id::topic_alias
    out[at++] = static_cast<std::byte>(c.alias >> 8);
    out[at++] = static_cast<std::byte>(c.alias & 0xFF);
    at = put_bytes(out, at, packet.subspan(l.props_at + l.props_len_size));
    return aliased_publish{at, id_at};
}

} // namespace detail

/// @brief The size of `packet` (one encoded 5.0 PUBLISH without a Topic Alias, as a broker
/// encodes a message once for many subscribers) sent with `choice.alias`, and where its packet
/// identifier goes. Example: the 23-byte `30 15 00 10 "zigbee2mqtt/hall" 00 "ON"` sent by alias 1
/// alone is `30 08 00 00 03 23 00 01 "ON"`, 10 bytes. Precondition: `packet` carries no Topic
/// Alias of its own.
/// @return as `read_publish_layout`; `errc::invalid_argument` for alias 0;
/// `errc::packet_too_large` when the result would exceed the largest packet.
[[nodiscard]] constexpr result<aliased_publish> aliased_publish_size(
    std::span<const std::byte> packet, topic_alias_choice choice) noexcept {
    if (choice.alias == 0) return errc::invalid_argument;
    const auto l = read_publish_layout(packet);
    if (!l) return l.error();
    return detail::splice_alias(packet, *l, choice, {});
}

/// @brief Writes the aliased form of `packet` (see `aliased_publish_size`) into `out`.
/// @return its size and identifier offset; `errc::buffer_too_small` when `out` is shorter.
[[nodiscard]] constexpr result<aliased_publish> write_aliased_publish(
    std::span<const std::byte> packet, topic_alias_choice choice,
    std::span<std::byte> out) noexcept {
    if (choice.alias == 0) return errc::invalid_argument;
    const auto l = read_publish_layout(packet);
    if (!l) return l.error();
    if (out.empty()) return errc::buffer_too_small;
    return detail::splice_alias(packet, *l, choice, out);
}

/// @brief `aliased_publish_size` with the layout already read (`read_publish_layout(packet)`):
/// a sender that rewrites one encoded PUBLISH for many connections reads it once.
[[nodiscard]] constexpr result<aliased_publish> aliased_publish_size(
    std::span<const std::byte> packet, const publish_layout& layout,
    topic_alias_choice choice) noexcept {
    if (choice.alias == 0) return errc::invalid_argument;
    return detail::splice_alias(packet, layout, choice, {});
}

/// @brief `write_aliased_publish` with the layout already read.
[[nodiscard]] constexpr result<aliased_publish> write_aliased_publish(
    std::span<const std::byte> packet, const publish_layout& layout, topic_alias_choice choice,
    std::span<std::byte> out) noexcept {
    if (choice.alias == 0) return errc::invalid_argument;
    if (out.empty()) return errc::buffer_too_small;
    return detail::splice_alias(packet, layout, choice, out);
}

} // namespace mqttwire
