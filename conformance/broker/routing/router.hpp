#pragma once
// Routing: the subscription index, shared-subscription cursors, retained messages (through the
// store), and publish(message, origin), the one entry point for every application message:
// clients' PUBLISHes, wills, and later $SYS and bridges. A message is matched once, merged per
// session, and encoded once per distinct wire form for the subscribers that can take it now.

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <mqttwire.hpp>

#include "core/message.hpp"
#include "policy/policy.hpp"
#include "protocol/output.hpp"
#include "session/outbox.hpp"
#include "session/session.hpp"
#include "stats/statistics.hpp"
#include "store/store.hpp"

namespace mqttwire::broker {

/// Where a message comes from.
struct origin {
    session* from = nullptr; ///< the publishing session (No Local); null: the broker itself
    /// The connection to hold back when a subscriber's queue is full (queue_overflow block);
    /// null when nothing can wait (wills, broker messages): full queues then drop, counted.
    connection* publisher = nullptr;
};

struct publish_outcome {
    std::size_t receivers = 0;
    /// Not routed at all: this online subscriber's queue is full and `origin::publisher` must
    /// wait for it (outbox::hold) and publish again.
    session* held_by = nullptr;
};

class router {
  public:
    router(const settings& s, const policy& pol, store& st, outbox& out, packet_writer& writer,
           statistics& stats)
        : settings_(s), policy_(pol), store_(st), outbox_(out), writer_(writer), stats_(stats) {}

    publish_outcome publish(const publication& m, const origin& o, clock::time_point now);

    /// @return true: added, false: replaced; or the index's error (filter invalid, quota).
    [[nodiscard]] result<bool> subscribe(session& s, std::string_view filter,
                                         const subscription_options& o, std::uint32_t sub_id);
    bool unsubscribe(session& s, std::string_view filter);
    void unsubscribe_all(session& s);
    /// Retained messages matching `filter`, for a new subscription (MQTT-3.3.1-6 / MQTT5-3.3.1-9).
    void send_retained(session& s, std::string_view filter, const subscription_options& o,
                       std::uint32_t sub_id, clock::time_point now);

  private:
    struct target {
        session* s;
        mqttwire::qos q;
        bool retain_as_published;
        std::size_t first_id;
        std::size_t id_count;
    };
    // One encoding of the PUBLISH shared by every subscriber with the same protocol family,
    // QoS and RETAIN and no Subscription Identifier.
    struct wire_form {
        bool v5;
        mqttwire::qos q;
        bool retain;
        std::size_t at;
        std::size_t size;
    };

    void match(const publication& m, session* from);
    const wire_form* form_for(const publication& m, const connection& c, mqttwire::qos q,
                              bool retain);
    void deliver(const publication& m, const target& t, clock::time_point now);
    void update_retained(const publication& m, clock::time_point now);

    const settings& settings_;
    const policy& policy_;
    store& store_;
    outbox& outbox_;
    packet_writer& writer_;
    statistics& stats_;

    subscription_index<subscriber, subscriber_key> subs_;
    std::unordered_map<const void*, std::size_t> share_cursor_;
    std::size_t shared_subscriptions_ = 0;
    std::uint64_t route_seq_ = 0;

    // Scratch reused across messages so routing does not allocate once warm.
    std::vector<target> targets_;
    std::vector<std::uint32_t> target_ids_;
    std::vector<std::pair<std::size_t, std::uint32_t>> id_pairs_;
    std::vector<property> props_;
    std::vector<std::byte> encoded_;
    std::vector<wire_form> forms_;
};

} // namespace mqttwire::broker
