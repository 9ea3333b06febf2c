#include "policy/policy.hpp"

#include "session/session.hpp"

namespace mqttwire::broker {

std::optional<reason_code> policy::authenticate(const connect_view& p,
                                                const listener_policy* rules,
                                                const optional_text* identity) const {
    // A certificate identity was verified by the TLS handshake: it needs no password.
    if (identity != nullptr && identity->has_value()) return std::nullopt;
    const password_file* passwords = rules != nullptr ? rules->passwords : settings_.passwords;
    const bool anonymous_ok = rules != nullptr ? rules->allow_anonymous : settings_.allow_anonymous;
    // A user name is checked against the password file when there is one; a client without a
    // user name is anonymous.
    if (p.user_name) {
        // A user in a password file needs its password; unknown users are refused.
        if (passwords != nullptr &&
            (!p.password || !passwords->check(p.user_name->as_string_view(), p.password->bytes())))
            return reason_code::bad_user_name_or_password;
        return std::nullopt;
    }
    if (!anonymous_ok) return reason_code::not_authorized;
    return std::nullopt;
}

bool policy::allowed(const session& s, std::string_view topic, acl_access a) const {
    const acl_file* acl = s.policy != nullptr ? s.policy->acl : settings_.acl;
    if (acl == nullptr || s.trusted) return true;
    std::optional<std::string_view> user;
    if (s.user) user = *s.user;
    return acl->allowed(s.client_id, user, topic, a);
}

} // namespace mqttwire::broker
