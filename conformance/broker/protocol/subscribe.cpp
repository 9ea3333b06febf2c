// SUBSCRIBE and UNSUBSCRIBE. Statement ids in comments name the rule of MQTT 3.1.1
// (`MQTT-…`) or 5.0 (`MQTT5-…`) that a piece of code implements.

#include <string>
#include <vector>

#include "protocol/handler.hpp"

namespace mqttwire::broker {

reason_code protocol_handler::subscribe_one(connection& c, const subscription& entry,
                                            std::uint32_t sub_id, bool& send_retained) {
    session& s = *c.s;
    const bool v5 = c.v5();
    // 3.1.1 has a single failure code (MQTT-3.8.4-5: 0x80); 5.0 says why (MQTT5-3.8.4-7).
    const auto failure = [v5](reason_code why) { return v5 ? why : reason_code::unspecified_error; };
    const std::string_view filter = entry.filter.as_string_view();
    subscription_options o = entry.options;
    if (c.bridge && !v5) {
        // A broker bridging in before 5.0 cannot ask for these, so it gets what mosquitto gives
        // a bridge: what it publishes is not sent back to it (no loop between the two brokers),
        // and RETAIN is kept as published (the other side's retained state stays retained).
        o.no_local = true;
        o.retain_as_published = true;
    }
    send_retained = false;
    // MQTT-4.7.1-2/3, MQTT-4.7.3-1: an invalid filter fails that entry only (0x80 / 0x8F).
    if (validate_topic_filter(filter) != errc::success)
        return failure(reason_code::topic_filter_invalid);
    shared_subscription shared{};
    const bool is_shared = is_shared_subscription(filter);
    if (is_shared && parse_shared_subscription(filter, shared) != errc::success)
        return failure(reason_code::topic_filter_invalid);
    // max_topic_levels: a filter deeper than the cap is "correctly formed but not allowed"
    // (0x8F Topic Filter invalid), so no SUBSCRIBE can make the index build a deep branch.
    if (p_.cfg.max_topic_levels != 0 &&
        topic_levels(is_shared ? shared.filter : filter) > p_.cfg.max_topic_levels) {
        detail(c, "SUBSCRIBE filter has more than " + std::to_string(p_.cfg.max_topic_levels) +
                      " levels");
        return failure(reason_code::topic_filter_invalid);
    }
    const bool existing = s.subscriptions.find(filter) != s.subscriptions.end();
    if (!existing && ((p_.cfg.max_subscriptions != 0 &&
                       s.subscriptions.size() >= p_.cfg.max_subscriptions) ||
                      (p_.cfg.max_subscription_bytes != 0 &&
                       s.subscription_bytes + filter.size() > p_.cfg.max_subscription_bytes))) {
        // Per-client subscription bounds: 0x97 Quota exceeded.
        detail(c, "subscription limit reached (" + std::to_string(s.subscriptions.size()) +
                      " filters, " + std::to_string(s.subscription_bytes) + " bytes)");
        return failure(reason_code::quota_exceeded);
    }
    if (!p_.pol.may_subscribe(s, filter)) {
        detail(c, "SUBSCRIBE to '" + std::string(filter) + "' not authorised");
        return failure(reason_code::not_authorized);
    }
    const auto added = p_.routes.subscribe(s, filter, o, sub_id);
    if (!added) return failure(reason_code::quota_exceeded);
    if (p_.log.wants(log_type::subscribe)) // mosquitto's shape: "ID QOS FILTER"
        p_.log.typed(log_type::subscribe, s.client_id + ' ' +
                                              std::to_string(static_cast<int>(o.max_qos)) + ' ' +
                                              std::string(filter));
    // Retained messages: Retain Handling 0 always, 1 only for a new subscription, 2 never
    // (MQTT5-3.3.1-9..11); never for a shared subscription (MQTT5 section 4.8.2).
    send_retained = !is_shared && (o.retain_handling == retain_handling::send_on_subscribe ||
                                   (o.retain_handling == retain_handling::send_if_new_subscription &&
                                    added.value()));
    // MQTT-3.9.3-? / MQTT5-3.8.4-? : the granted QoS is the requested maximum (all are supported).
    return static_cast<reason_code>(o.max_qos);
}

void protocol_handler::on_subscribe(connection& c, const subscribe_view& p,
                                    clock::time_point now) {
    session& s = *c.s;
    const std::uint32_t sub_id = p.properties.integer_or(property_id::subscription_identifier, 0);
    codes_.clear();
    struct pending_retained {
        std::string filter;
        subscription_options options;
    };
    std::vector<pending_retained> retained;
    for (const auto& entry : p.subscriptions) {
        bool send_retained = false;
        codes_.push_back(subscribe_one(c, entry, sub_id, send_retained));
        if (send_retained)
            retained.push_back({std::string(entry.filter.as_string_view()), entry.options});
    }
    // SUBACK with one code per filter, in order (MQTT-3.8.4-5 / MQTT5-3.8.4-6), before the
    // retained messages it asked for.
    if (const errc e = c.proto.answer_subscribe(codes_); e != errc::success)
        detail(c, std::string("cannot answer SUBSCRIBE: ") + std::string(errc_name(e)));
    p_.sessions.saved(s);
    for (const auto& r : retained) p_.routes.send_retained(s, r.filter, r.options, sub_id, now);
}

void protocol_handler::on_unsubscribe(connection& c, const unsubscribe_view& p) {
    session& s = *c.s;
    codes_.clear();
    for (const auto& f : p.filters) {
        const bool removed = p_.routes.unsubscribe(s, f.as_string_view());
        if (p_.log.wants(log_type::unsubscribe)) // mosquitto's shape: "ID FILTER"
            p_.log.typed(log_type::unsubscribe, s.client_id + ' ' + std::string(f.as_string_view()));
        codes_.push_back(removed ? reason_code::success : reason_code::no_subscription_existed);
    }
    // UNSUBACK (MQTT-3.10.4-4 / MQTT5-3.10.4-4); 5.0 with one code per filter.
    if (const errc e = c.proto.answer_unsubscribe(codes_); e != errc::success)
        detail(c, std::string("cannot answer UNSUBSCRIBE: ") + std::string(errc_name(e)));
    p_.sessions.saved(s);
}

} // namespace mqttwire::broker
