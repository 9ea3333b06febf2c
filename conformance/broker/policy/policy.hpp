#pragma once
// Who may connect and what a client may do: authentication against the password file and the
// anonymous setting, and the ACL checks on publish (write), delivery (read) and subscribe.

#include <optional>
#include <string>
#include <string_view>

#include <mqttwire.hpp>

#include "core/optional_text.hpp"
#include "core/settings.hpp"
#include "policy/auth.hpp"

namespace mqttwire::broker {

struct session;

class policy {
  public:
    explicit policy(const settings& s) : settings_(s) {}

    /// Why a CONNECT is refused, or nothing when it is accepted.
    [[nodiscard]] std::optional<reason_code> authenticate(const connect_view& p) const {
        return authenticate(p, nullptr, nullptr);
    }
    /// @brief As above, with the listener's own rules (null: the broker-wide ones) and the
    /// identity its transport established (null: none). An identity is the user name and needs
    /// no password (mosquitto's use_identity_as_username).
    [[nodiscard]] std::optional<reason_code>
    authenticate(const connect_view& p, const listener_policy* rules,
                 const optional_text* identity) const;

    [[nodiscard]] bool may_publish(const session& s, std::string_view topic) const {
        return allowed(s, topic, acl_access::write);
    }
    [[nodiscard]] bool may_read(const session& s, std::string_view topic) const {
        return allowed(s, topic, acl_access::read);
    }
    [[nodiscard]] bool may_subscribe(const session& s, std::string_view filter) const {
        return allowed(s, filter, acl_access::subscribe);
    }
    [[nodiscard]] bool has_acl() const noexcept { return settings_.acl != nullptr; }

  private:
    [[nodiscard]] bool allowed(const session& s, std::string_view topic, acl_access a) const;

    const settings& settings_;
};

} // namespace mqttwire::broker
