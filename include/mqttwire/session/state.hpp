#pragma once
/// @file
/// @brief `session_state`: what outlives a network connection (MQTT-3.1.2-4 / MQTT5-3.1.2-23):
/// the packet identifiers in use for in-flight PUBLISH and PUBREL, their copies for resending,
/// and the inbound QoS 2 identifiers awaiting PUBREL.

#include <cstddef>
#include <cstdint>
#include <span>

#include "../errc.hpp"
#include "../packet_type.hpp"
#include "../profile.hpp"
#include "id_set.hpp"
#include "outbound_table.hpp"
#include "resend_ring.hpp"
#include "storage.hpp"

namespace mqttwire {

template <class Derived, peer_role Role, class Storage, codec_profile Profile>
class basic_connection;

namespace detail {
template <class Derived, peer_role Role, class Storage, codec_profile Profile>
class outbound_publish;
template <class Derived, peer_role Role, class Storage, codec_profile Profile>
class inbound_flow;
template <class Derived, peer_role Role, class Storage, codec_profile Profile>
class connection_resend;
} // namespace detail

/// @brief The session state one side keeps between connections.
///
/// A connection works on a `session_state` it does not own: a client keeps one per server, a
/// server one per Client Identifier (a broker keeps it with its session and hands it to the
/// connection that resumes the session). A store can serialise it with `for_each_outbound` and
/// `for_each_inbound_qos2` and rebuild it with `restore_outbound` and `restore_inbound_qos2`.
///
/// Bounds: `session_limits::inflight` PUBLISH/PUBREL identifiers, `requests` pending
/// SUBSCRIBE/UNSUBSCRIBE, `inbound_qos2` inbound identifiers, `resend_bytes` of copies.
template <class Storage> class session_state {
  public:
    using storage_type = Storage;

    explicit session_state(const Storage& storage = Storage()) noexcept
        : out_(storage), copies_(storage), inbound_(storage) {}
    session_state(const session_state&) = delete;
    session_state& operator=(const session_state&) = delete;

    /// @brief True when PUBLISH copies are kept (`session_limits::resend_bytes` > 0); otherwise
    /// the embedder supplies the bytes to resend.
    [[nodiscard]] bool keeps_copies() const noexcept { return copies_.limit() > 0; }
    /// @brief Outbound QoS 1/2 PUBLISH and PUBREL awaiting acknowledgement.
    [[nodiscard]] std::size_t inflight() const noexcept { return out_.publishes(); }
    /// @brief Inbound QoS 2 identifiers awaiting PUBREL.
    [[nodiscard]] std::size_t inbound_qos2() const noexcept { return inbound_.size(); }
    /// @brief Nothing in flight either way.
    [[nodiscard]] bool empty() const noexcept {
        return out_.publishes() == 0 && inbound_.size() == 0;
    }
    /// @brief The state of outbound identifier `id` (`outbound_state::free` when unused).
    [[nodiscard]] outbound_state state_of(std::uint16_t id) const noexcept {
        const auto* r = out_.find(id);
        return r == nullptr ? outbound_state::free : r->state;
    }

    /// @brief Discards everything (Clean Start, or Session Present 0: MQTT5-3.2.2-5).
    void clear() noexcept {
        out_.clear();
        copies_.clear();
        inbound_.clear();
    }

    /// @brief Calls `f(packet_id, outbound_state, bytes)` for each in-flight PUBLISH and PUBREL in
    /// resend order; `bytes` is the kept copy of a PUBLISH (empty for PUBREL or without copies).
    template <class F> void for_each_outbound(F&& f) {
        for (std::uint16_t id = out_.front(); id != 0; id = out_.next(id)) {
            const auto* r = out_.find(id);
            if (!is_publish_state(r->state)) continue;
            std::span<const std::byte> bytes;
            if (r->ref != detail::no_ref) bytes = copies_.get(r->ref);
            f(id, r->state, bytes);
        }
    }
    /// @brief Calls `f(packet_id)` for each inbound QoS 2 identifier awaiting PUBREL.
    template <class F> void for_each_inbound_qos2(F&& f) const { inbound_.for_each(f); }

    /// @brief Re-creates an in-flight record read from a store, at the back of the resend order.
    /// `bytes`: the PUBLISH copy (QoS 1/2 states, when copies are kept).
    /// @return `errc::invalid_argument` for a state that is not a PUBLISH state or an identifier
    /// in use or beyond the limits; `errc::quota_exceeded` when the copy does not fit.
    [[nodiscard]] errc restore_outbound(std::uint16_t id, outbound_state s,
                                        std::span<const std::byte> bytes = {}) noexcept {
        if (!is_publish_state(s)) return errc::invalid_argument;
        std::uint32_t ref = detail::no_ref;
        if (s != outbound_state::pubrel && keeps_copies()) {
            ref = copies_.store(bytes);
            if (ref == detail::no_ref) return errc::quota_exceeded;
        }
        if (!out_.claim(id, s)) {
            if (ref != detail::no_ref) copies_.release(ref);
            return errc::invalid_argument;
        }
        out_.find(id)->ref = ref;
        return errc::success;
    }
    /// @brief Re-creates an inbound QoS 2 identifier awaiting PUBREL.
    [[nodiscard]] errc restore_inbound_qos2(std::uint16_t id) noexcept {
        return inbound_.insert(id) ? errc::success : errc::quota_exceeded;
    }

  private:
    template <class D, peer_role R, class S, codec_profile P> friend class basic_connection;
    template <class D, peer_role R, class S, codec_profile P>
    friend class detail::outbound_publish;
    template <class D, peer_role R, class S, codec_profile P> friend class detail::inbound_flow;
    template <class D, peer_role R, class S, codec_profile P>
    friend class detail::connection_resend;

    // Frees identifier `id` and its copy.
    void release(std::uint16_t id) noexcept {
        auto* r = out_.find(id);
        if (r == nullptr) return;
        if (r->ref != detail::no_ref) copies_.release(r->ref);
        out_.release(id);
    }
    // Frees every pending SUBSCRIBE/UNSUBSCRIBE: their answers never come on a new connection.
    void release_requests() noexcept {
        for (std::uint16_t id = out_.front(); id != 0;) {
            const std::uint16_t next = out_.next(id);
            if (!is_publish_state(out_.find(id)->state)) out_.release(id);
            id = next;
        }
    }

    detail::outbound_table<Storage> out_;
    [[no_unique_address]] detail::copies_of<Storage> copies_;
    detail::id_set<Storage> inbound_;
};

} // namespace mqttwire
