#include "policy/policy.hpp"

#include "session/session.hpp"

namespace mqttwire::broker {

std::optional<reason_code> policy::authenticate(const connect_view& p) const {
    // A user name is checked against the password file when there is one; a client without a
    // user name is anonymous.
    if (p.user_name) {
        // A user in a password file needs its password; unknown users are refused.
        if (settings_.passwords != nullptr &&
            (!p.password ||
             !settings_.passwords->check(p.user_name->as_string_view(), p.password->bytes())))
            return reason_code::bad_user_name_or_password;
        return std::nullopt;
    }
    if (!settings_.allow_anonymous) return reason_code::not_authorized;
    return std::nullopt;
}

bool policy::allowed(const session& s, std::string_view topic, acl_access a) const {
    if (settings_.acl == nullptr || s.trusted) return true;
    std::optional<std::string_view> user;
    if (s.user) user = *s.user;
    return settings_.acl->allowed(s.client_id, user, topic, a);
}

} // namespace mqttwire::broker
