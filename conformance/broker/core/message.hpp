#pragma once
// An application message the broker owns (retained, queued or in flight for a session), and
// what the router is given to publish: a decoded PUBLISH still in its publisher's input buffer,
// copied only when some subscriber has to keep it, or a message the broker already owns (wills,
// and later $SYS and bridges).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <mqttwire.hpp>

#include "core/settings.hpp"

namespace mqttwire::broker {

struct message {
    std::string topic;
    std::vector<std::byte> payload;
    mqttwire::qos qos = mqttwire::qos::at_most_once;
    bool retain = false;
    /// Properties forwarded unchanged (Payload Format Indicator, Content Type, Response Topic,
    /// Correlation Data, User Properties), as a validated wire block.
    std::vector<std::byte> properties;
    properties_view property_view; ///< validated view of `properties` (rebased on each use)
    std::optional<clock::time_point> expires; ///< from Message Expiry Interval

    /// Bytes this message holds (what queue and in-flight byte bounds count).
    [[nodiscard]] std::size_t footprint() const noexcept {
        return footprint_of(topic.size(), payload.size(), properties.size());
    }
    [[nodiscard]] static constexpr std::size_t footprint_of(std::size_t topic, std::size_t payload,
                                                            std::size_t properties) noexcept {
        return topic + payload + properties + sizeof(message);
    }
    [[nodiscard]] properties_view forwarded_properties() const noexcept {
        return property_view.rebased(properties);
    }
};
using message_ptr = std::shared_ptr<const message>;

/// @brief Copies a PUBLISH (or a will) into a message the broker owns. `topic` is the resolved
/// topic (an alias replaced); Topic Alias and Subscription Identifier are not kept, and a
/// Message Expiry Interval becomes an absolute deadline counted from `now`.
[[nodiscard]] message_ptr own_message(const publish_view& p, std::string_view topic,
                                      clock::time_point now);

/// @brief Appends `prop` in wire form to `m`'s forwarded property block.
void keep_property(message& m, const property& prop);

/// The message given to router::publish.
class publication {
  public:
    /// A decoded PUBLISH whose bytes stay valid for the call.
    publication(const publish_view& live, std::string_view topic) noexcept
        : view_(&live), topic_(topic), live_(true) {}
    /// A message the broker owns, with its PUBLISH form for encoding.
    publication(const message_ptr& owned, const publish_view& form) noexcept
        : view_(&form), topic_(owned->topic), owned_(owned) {}

    [[nodiscard]] const publish_view& view() const noexcept { return *view_; }
    /// True for a decoded PUBLISH: its view carries the payload and properties as received.
    [[nodiscard]] bool is_live() const noexcept { return live_; }
    [[nodiscard]] std::string_view topic() const noexcept { return topic_; }
    /// The owned copy, made on first request.
    [[nodiscard]] const message_ptr& owned(clock::time_point now) const {
        if (!owned_) owned_ = own_message(*view_, topic_, now);
        return owned_;
    }

  private:
    const publish_view* view_;
    std::string_view topic_;
    mutable message_ptr owned_;
    bool live_ = false;
};

} // namespace mqttwire::broker
