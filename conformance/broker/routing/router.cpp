// Statement ids in comments name the rule of MQTT 3.1.1 (`MQTT-…`) or 5.0 (`MQTT5-…`) that a
// piece of code implements.

#include "routing/router.hpp"

#include <algorithm>

namespace mqttwire::broker {

namespace {

mqttwire::qos min_qos(mqttwire::qos a, mqttwire::qos b) { return a < b ? a : b; }
mqttwire::qos max_qos(mqttwire::qos a, mqttwire::qos b) { return a < b ? b : a; }

} // namespace

result<bool> router::subscribe(session& s, std::string_view filter, const subscription_options& o,
                               std::uint32_t sub_id) {
    const auto added = subs_.insert(filter, subscriber{&s, o, sub_id});
    if (!added) return added;
    // MQTT-3.8.4-3 / MQTT5-3.8.4-3: the same filter again replaces the subscription.
    const auto [it, fresh] = s.subscriptions.insert_or_assign(std::string(filter),
                                                              subscriber{&s, o, sub_id});
    (void)it;
    if (fresh) {
        s.subscription_bytes += filter.size();
        ++stats_.subscriptions;
        if (is_shared_subscription(filter)) ++shared_subscriptions_;
    }
    return added;
}

bool router::unsubscribe(session& s, std::string_view filter) {
    // MQTT-3.10.4-1 / MQTT5-3.10.4-1: the filter text is compared character by character.
    if (!subs_.erase(filter, &s)) return false;
    if (const auto it = s.subscriptions.find(filter); it != s.subscriptions.end()) {
        s.subscription_bytes -= filter.size();
        --stats_.subscriptions;
        if (is_shared_subscription(filter)) --shared_subscriptions_;
        s.subscriptions.erase(it);
    }
    // Cursors of groups that no longer exist are dropped all at once when they outnumber the
    // shared subscriptions (a reset cursor only restarts a round robin).
    if (share_cursor_.size() > 2 * shared_subscriptions_ + 16) share_cursor_.clear();
    return true;
}

void router::unsubscribe_all(session& s) {
    for (const auto& [filter, sub] : s.subscriptions) {
        (void)subs_.erase(filter, &s);
        --stats_.subscriptions;
        if (is_shared_subscription(filter)) --shared_subscriptions_;
    }
    s.subscriptions.clear();
    s.subscription_bytes = 0;
    if (share_cursor_.size() > 2 * shared_subscriptions_ + 16) share_cursor_.clear();
}

void router::match(const publication& m, session* from) {
    targets_.clear();
    target_ids_.clear();
    id_pairs_.clear();
    const std::uint64_t mark = ++route_seq_;
    const std::string_view topic = m.topic();
    const mqttwire::qos published = m.view().qos;
    const auto add = [&](const subscriber& sub) {
        session* s = sub.owner;
        if (sub.options.no_local && s == from) return; // MQTT5-3.8.3-3
        if (!policy_.may_read(*s, topic)) return;
        const auto q = min_qos(published, sub.options.max_qos); // MQTT-3.8.4-6 / MQTT5-3.8.4-8
        if (s->route_mark != mark) {
            s->route_mark = mark;
            s->route_index = static_cast<std::uint32_t>(targets_.size()); // < sessions
            targets_.push_back({s, q, sub.options.retain_as_published, 0, 0});
        } else {
            // MQTT-3.3.5-1 / MQTT5-3.3.4-2: overlapping subscriptions deliver once, at the
            // highest QoS, with every Subscription Identifier (MQTT5-3.3.4-3).
            auto& t = targets_[s->route_index];
            t.q = max_qos(t.q, q);
            t.retain_as_published = t.retain_as_published || sub.options.retain_as_published;
        }
        if (sub.subscription_id != 0) id_pairs_.emplace_back(s->route_index, sub.subscription_id);
    };
    subs_.match(
        topic, add, [&](const shared_group_view<subscriber>& g) {
            // Shared subscriptions: one member per message, round robin, preferring members that
            // are connected and can take it (MQTT5 section 4.8.2).
            auto& cursor = share_cursor_[g.id];
            const std::size_t n = g.members.size();
            std::size_t pick = cursor % n;
            std::size_t connected = n;
            for (std::size_t k = 0; k < n; ++k) {
                const std::size_t i = (cursor + k) % n;
                const session& member = *g.members[i].owner;
                if (outbox::online(member) == nullptr) continue;
                if (connected == n) connected = i;
                if (!outbox_.queue_full(member)) {
                    pick = i;
                    connected = n;
                    break;
                }
            }
            if (connected != n) pick = connected;
            cursor = pick + 1;
            add(g.members[pick]);
        });
    if (!id_pairs_.empty()) {
        std::stable_sort(id_pairs_.begin(), id_pairs_.end(),
                         [](const auto& a, const auto& b) { return a.first < b.first; });
        for (const auto& [t, id] : id_pairs_) {
            auto& tg = targets_[t];
            if (tg.id_count == 0) tg.first_id = target_ids_.size();
            target_ids_.push_back(id);
            ++tg.id_count;
        }
    }
}

const router::wire_form* router::form_for(const publication& m, const connection& c,
                                          mqttwire::qos q, bool retain) {
    const bool v5 = c.v5();
    for (const auto& f : forms_)
        if (f.v5 == v5 && f.q == q && f.retain == retain) return &f;
    if (props_.empty() && !m.view().properties.empty()) {
        for (const auto& prop : m.view().properties)
            if (prop.id != property_id::topic_alias) props_.push_back(prop);
    }
    publish_view out = m.view();
    out.dup = false; // MQTT-3.3.1-3 / MQTT5-3.3.1-3
    out.qos = q;
    out.retain = retain;
    out.packet_id = q == mqttwire::qos::at_most_once ? 0 : 1;
    out.topic = utf8_view(m.topic()); // the alias, if any, resolved
    out.properties = std::span<const property>(props_);
    // Encoded once, into room for the largest it can be (fixed header 5, topic length 2,
    // identifier 2, Property Length 4, and properties no longer than the message's own), so
    // the encoder's checks run once rather than once more for encoded_size.
    const auto at = encoded_.size();
    encoded_.resize(at + 13 + m.topic().size() + m.view().payload.size() +
                    m.view().properties.wire().size());
    auto size = encode(out, c.version(), std::span<std::byte>(encoded_).subspan(at));
    if (!size && size.error() == errc::buffer_too_small) {
        // Properties not held in wire form (a will's, `$SYS`): measured first.
        const auto need = encoded_size(out, c.version());
        if (need) {
            encoded_.resize(at + *need);
            size = encode(out, c.version(), std::span<std::byte>(encoded_).subspan(at));
        }
    }
    if (!size) {
        encoded_.resize(at);
        return nullptr;
    }
    encoded_.resize(at + *size);
    forms_.push_back({v5, q, retain, at, *size});
    return &forms_.back();
}

void router::deliver(const publication& m, const target& t, clock::time_point now) {
    session& s = *t.s;
    const std::span<const std::uint32_t> sub_ids(target_ids_.data() + t.first_id, t.id_count);
    // MQTT-3.3.1-9 / MQTT5-3.3.1-12: RETAIN is 0 when forwarding to existing subscribers,
    // unless Retain As Published (MQTT5-3.3.1-13).
    const bool retain = t.retain_as_published && m.view().retain;
    connection* c = outbox::online(s);
    const bool qos0 = t.q == mqttwire::qos::at_most_once;
    // The encode-once path: no Subscription Identifier to add, and the client can take it now.
    const bool direct =
        c != nullptr && sub_ids.empty() &&
        (qos0 ? c->output().size() < settings_.max_output_buffer || c->output().empty()
              : outbox_.can_send_now(s, message::footprint_of(m.topic().size(),
                                                              m.view().payload.size(),
                                                              m.view().properties.wire().size())));
    if (!direct) {
        if (qos0) {
            outbox_.deliver_qos0(s, m, retain, sub_ids, now);
        } else {
            outbox_.deliver(s, delivery{m.owned(now), 0, t.q, retain, {sub_ids.begin(), sub_ids.end()}},
                            now);
        }
        return;
    }
    const wire_form* f = form_for(m, *c, t.q, retain);
    if (f == nullptr) return;
    const auto bytes = std::span<const std::byte>(encoded_).subspan(f->at, f->size);
    const auto w = writer_.copy(*c, bytes, now);
    if (w.result == write_result::too_large) {
        stats_.count_drop(drop_reason::too_large); // MQTT5-3.1.2-24, MQTT5-3.1.2-25
        return;
    }
    if (w.result == write_result::no_room) {
        // The session had no room after all (its quota or output): as any other message.
        if (qos0) outbox_.deliver_qos0(s, m, retain, sub_ids, now);
        else outbox_.deliver(s, delivery{m.owned(now), 0, t.q, retain, {}}, now);
        return;
    }
    if (w.result != write_result::written || qos0) return;
    outbox_.sent(s, w.packet_id, delivery{m.owned(now), 0, t.q, retain, {}}, now);
}

publish_outcome router::publish(const publication& m, const origin& o, clock::time_point now) {
    match(m, o.from);
    if (o.publisher != nullptr && settings_.overflow == queue_overflow::block) {
        // Held back before anything is delivered, so the retry delivers exactly once.
        for (const auto& t : targets_)
            if (t.q != mqttwire::qos::at_most_once && outbox_.holds_publishers(*t.s))
                return {0, t.s};
    }
    props_.clear();
    encoded_.clear();
    forms_.clear();
    for (const auto& t : targets_) deliver(m, t, now);
    if (m.view().retain) update_retained(m, now);
    return {targets_.size(), nullptr};
}

void router::update_retained(const publication& m, clock::time_point now) {
    if (m.view().payload.empty()) {
        // MQTT-3.3.1-10/11 / MQTT5-3.3.1-6/7: an empty retained message removes it.
        if (store_.forget_retained(m.topic())) --stats_.retained;
        return;
    }
    const auto before = store_.retained_count();
    store_.retain(m.owned(now));
    if (store_.retained_count() > before) ++stats_.retained;
}

void router::send_retained(session& s, std::string_view filter, const subscription_options& o,
                           std::uint32_t sub_id, clock::time_point now) {
    const std::uint32_t ids[1] = {sub_id};
    const std::span<const std::uint32_t> sub_ids(ids, sub_id != 0 ? 1 : 0);
    store_.match_retained(filter, [&](const message_ptr& m) {
        if (m->expires && *m->expires <= now) return; // MQTT5-3.3.2-5: expired
        if (!policy_.may_read(s, m->topic)) return;
        // MQTT-3.3.1-8 / MQTT5-3.3.1-9: retained messages sent on subscribe keep RETAIN=1.
        const auto q = min_qos(m->qos, o.max_qos);
        if (q == mqttwire::qos::at_most_once) {
            publish_view form;
            form.topic = utf8_view(m->topic);
            form.qos = m->qos;
            form.retain = true;
            outbox_.deliver_qos0(s, publication(m, form), true, sub_ids, now);
        } else {
            outbox_.deliver(s, delivery{m, 0, q, true, {sub_ids.begin(), sub_ids.end()}}, now);
        }
    });
}

} // namespace mqttwire::broker
