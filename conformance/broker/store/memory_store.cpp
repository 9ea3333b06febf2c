#include "store/memory_store.hpp"

#include <vector>

#include "session/session.hpp"

namespace mqttwire::broker {

void memory_store::retain(const message_ptr& m) {
    auto& slot = by_topic_[m->topic];
    slot = m;
    (void)index_.insert_or_assign(m->topic, slot.get());
}

bool memory_store::forget_retained(std::string_view topic) {
    const auto it = by_topic_.find(topic);
    if (it == by_topic_.end()) return false;
    (void)index_.erase(topic);
    by_topic_.erase(it);
    return true;
}

void memory_store::match_retained(std::string_view filter,
                                  const std::function<void(const message_ptr&)>& f) const {
    // Collected first: `f` may deliver, and delivering must not run inside the index walk.
    std::vector<const message*> found;
    index_.match(filter, [&](const message* m) { found.push_back(m); });
    for (const message* m : found) {
        const auto it = by_topic_.find(m->topic);
        if (it != by_topic_.end()) f(it->second);
    }
}

session_record record_of(const session& s) {
    session_record r;
    r.client_id = s.client_id;
    r.version = s.version;
    r.user = s.user.to_optional();
    r.expiry_interval = s.expiry_interval;
    r.subscriptions.reserve(s.subscriptions.size());
    for (const auto& [filter, sub] : s.subscriptions)
        r.subscriptions.push_back({filter, sub.options, sub.subscription_id});
    if (s.conn == nullptr) r.expires_at = s.expires_at.to_optional();
    if (s.will) {
        r.will = s.will->msg;
        r.will_delay = s.will->delay;
        r.will_expiry = s.will->expiry;
        r.will_at = s.will->at;
    }
    return r;
}

} // namespace mqttwire::broker
