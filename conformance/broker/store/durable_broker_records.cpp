// The persistent store's records: keys in big-endian order, and messages, sessions and queue
// entries written into values and read back (anything that does not decode is refused, never
// half taken).
#include "store/durable_broker_records.hpp"

#include <algorithm>
#include <memory>
#include <utility>

namespace mqttwire::broker::durable_records {

std::array<std::byte, 8> key64(std::uint64_t n) {
    std::array<std::byte, 8> k{};
    for (int i = 0; i < 8; ++i) k[static_cast<std::size_t>(i)] = std::byte(n >> (56 - 8 * i));
    return k;
}

std::array<std::byte, 12> queue_key(std::uint32_t session, std::uint64_t seq) {
    std::array<std::byte, 12> k{};
    for (int i = 0; i < 4; ++i) k[static_cast<std::size_t>(i)] = std::byte(session >> (24 - 8 * i));
    for (int i = 0; i < 8; ++i) k[static_cast<std::size_t>(4 + i)] = std::byte(seq >> (56 - 8 * i));
    return k;
}

std::array<std::byte, 6> pubrel_key(std::uint32_t session, std::uint16_t id) {
    return {std::byte(session >> 24), std::byte(session >> 16), std::byte(session >> 8),
            std::byte(session),       std::byte(id >> 8),       std::byte(id)};
}

std::string text_of(std::span<const std::byte> b) {
    return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

// Null when the bytes are not a message (or its property block does not validate).
message_ptr read_message(reader& r, const time_base& tb) {
    auto m = std::make_shared<message>();
    const auto flags = r.u8();
    if ((flags & 0x03u) > 2) return nullptr;
    m->qos = static_cast<mqttwire::qos>(flags & 0x03u);
    m->retain = (flags & flag_retain) != 0;
    if ((flags & flag_expires) != 0) m->expires = tb.steady_of(r.i64());
    m->topic = r.text16();
    const auto props = r.blob32();
    const auto payload = r.blob32();
    if (r.failed()) return nullptr;
    m->properties.assign(props.begin(), props.end());
    m->payload.assign(payload.begin(), payload.end());
    if (!m->properties.empty()) {
        const auto v = decode_property_block(m->properties, property_context::publish);
        if (!v) return nullptr;
        m->property_view = *v;
    }
    return m;
}

void write_session(writer& w, std::uint32_t number, const session_record& r,
                   const time_base& tb) {
    w.u32(number);
    w.u8(static_cast<std::uint8_t>(r.version));
    w.u8(static_cast<std::uint8_t>((r.user ? flag_user : 0u) | (r.expires_at ? flag_offline : 0u) |
                                   (r.will ? flag_will : 0u) |
                                   (r.will_expiry ? flag_will_expiry : 0u) |
                                   (r.will_at ? flag_will_at : 0u)));
    if (r.user) w.text16(*r.user);
    w.u32(r.expiry_interval);
    if (r.expires_at) w.i64(tb.wall(*r.expires_at));
    w.u32(static_cast<std::uint32_t>(r.subscriptions.size()));
    for (const auto& sub : r.subscriptions) {
        w.text16(sub.filter);
        w.u8(sub.options.to_byte());
        w.u32(sub.subscription_id);
    }
    if (r.will) {
        write_message(w, *r.will, [&] { return tb.steady; });
        w.u32(r.will_delay);
        if (r.will_expiry) w.u32(*r.will_expiry);
        if (r.will_at) w.i64(tb.wall(*r.will_at));
    }
}

std::optional<session_record> read_session(std::span<const std::byte> value, std::string id,
                                           const time_base& tb) {
    reader r(value);
    session_record s;
    s.client_id = std::move(id);
    (void)r.u32(); // the number, read at load
    const auto v = r.u8();
    if (v < 3 || v > 5) return std::nullopt;
    s.version = static_cast<protocol_version>(v);
    const auto flags = r.u8();
    if ((flags & flag_user) != 0) s.user = r.text16();
    s.expiry_interval = r.u32();
    if ((flags & flag_offline) != 0) s.expires_at = tb.steady_of(r.i64());
    const auto subs = r.u32();
    for (std::uint32_t i = 0; i < subs && !r.failed(); ++i) {
        session_record::subscription sub;
        sub.filter = r.text16();
        sub.options = subscription_options::from_byte(r.u8());
        sub.subscription_id = r.u32();
        s.subscriptions.push_back(std::move(sub));
    }
    if ((flags & flag_will) != 0) {
        s.will = read_message(r, tb);
        if (!s.will) return std::nullopt;
        s.will_delay = r.u32();
        if ((flags & flag_will_expiry) != 0) s.will_expiry = r.u32();
        if ((flags & flag_will_at) != 0) s.will_at = tb.steady_of(r.i64());
    }
    if (!r.done()) return std::nullopt;
    return s;
}

void write_entry(writer& w, std::uint64_t body, std::uint8_t flags, std::uint16_t packet_id,
                 std::span<const std::uint32_t> sub_ids) {
    w.u64(body);
    w.u8(flags);
    w.u16(packet_id);
    w.u16(static_cast<std::uint16_t>(std::min<std::size_t>(sub_ids.size(), 0xFFFF)));
    for (std::size_t i = 0; i < sub_ids.size() && i < 0xFFFF; ++i) w.u32(sub_ids[i]);
}

std::optional<entry_fields> read_entry(std::span<const std::byte> value) {
    reader r(value);
    entry_fields e;
    e.body = r.u64();
    const auto flags = r.u8();
    e.flags = flags;
    const auto q = flags & 0x03u;
    if (q == 0 || q > 2) return std::nullopt;
    e.qos = static_cast<mqttwire::qos>(q);
    e.retain = (flags & flag_retain) != 0;
    e.released = (flags & flag_released) != 0;
    e.packet_id = r.u16();
    const auto n = r.u16();
    for (std::uint16_t i = 0; i < n && !r.failed(); ++i) e.sub_ids.push_back(r.u32());
    if (!r.done()) return std::nullopt;
    return e;
}

std::uint32_t be32(std::span<const std::byte> b) {
    reader r(b);
    return r.u32();
}

} // namespace mqttwire::broker::durable_records
