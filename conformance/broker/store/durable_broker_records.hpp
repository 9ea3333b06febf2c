#pragma once
// The persistent store's records (the table in durable_broker_store.hpp): their kinds and flags,
// big-endian keys, and the encoding of messages, sessions and queue entries in their values.

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "store/durable_store.hpp"
#include "store/store.hpp"

namespace mqttwire::broker::durable_records {

constexpr std::uint8_t kind_retained = 'R';
constexpr std::uint8_t kind_session = 'S';
constexpr std::uint8_t kind_body = 'M';
constexpr std::uint8_t kind_queue = 'Q';
constexpr std::uint8_t kind_pubrel = 'P';

constexpr std::int64_t forever = std::numeric_limits<std::int64_t>::max();

// Message flags.
constexpr std::uint8_t flag_retain = 0x04;
constexpr std::uint8_t flag_expires = 0x08;
// Queue entry flags (QoS in the low bits, RETAIN as for messages).
constexpr std::uint8_t flag_released = 0x08;
constexpr std::size_t entry_flags_at = 8;
constexpr std::size_t entry_packet_id_at = 9;
// Session flags.
constexpr std::uint8_t flag_user = 0x01;
constexpr std::uint8_t flag_offline = 0x02;
constexpr std::uint8_t flag_will = 0x04;
constexpr std::uint8_t flag_will_expiry = 0x08;
constexpr std::uint8_t flag_will_at = 0x10;

class writer {
  public:
    explicit writer(std::vector<std::byte>& out) : out_(out) { out_.clear(); }
    void u8(std::uint8_t v) { out_.push_back(std::byte{v}); }
    void u16(std::uint16_t v) { be(v, 2); }
    void u32(std::uint32_t v) { be(v, 4); }
    void u64(std::uint64_t v) { be(v, 8); }
    void i64(std::int64_t v) { be(static_cast<std::uint64_t>(v), 8); }
    void bytes(std::span<const std::byte> b) { out_.insert(out_.end(), b.begin(), b.end()); }
    void text16(std::string_view s) {
        u16(static_cast<std::uint16_t>(s.size()));
        bytes(as_durable_bytes(s));
    }
    void blob32(std::span<const std::byte> b) {
        u32(static_cast<std::uint32_t>(b.size()));
        bytes(b);
    }

  private:
    void be(std::uint64_t v, int n) {
        for (int i = n - 1; i >= 0; --i) out_.push_back(std::byte(v >> (8 * i)));
    }
    std::vector<std::byte>& out_;
};

// Reads what writer wrote; any read past the end (a value that is not what it claims) sets
// failed() and yields zeros.
class reader {
  public:
    explicit reader(std::span<const std::byte> in) : in_(in) {}
    [[nodiscard]] bool failed() const noexcept { return failed_; }
    [[nodiscard]] bool done() const noexcept { return !failed_ && at_ == in_.size(); }
    std::uint8_t u8() { return static_cast<std::uint8_t>(be(1)); }
    std::uint16_t u16() { return static_cast<std::uint16_t>(be(2)); }
    std::uint32_t u32() { return static_cast<std::uint32_t>(be(4)); }
    std::uint64_t u64() { return be(8); }
    std::int64_t i64() { return static_cast<std::int64_t>(be(8)); }
    std::span<const std::byte> bytes(std::size_t n) {
        if (failed_ || in_.size() - at_ < n) {
            failed_ = true;
            return {};
        }
        const auto b = in_.subspan(at_, n);
        at_ += n;
        return b;
    }
    std::string text16() {
        const auto b = bytes(u16());
        return std::string(reinterpret_cast<const char*>(b.data()), b.size());
    }
    std::span<const std::byte> blob32() { return bytes(u32()); }

  private:
    std::uint64_t be(std::size_t n) {
        const auto b = bytes(n);
        std::uint64_t v = 0;
        for (const std::byte x : b) v = v << 8 | std::to_integer<std::uint64_t>(x);
        return v;
    }
    std::span<const std::byte> in_;
    std::size_t at_ = 0;
    bool failed_ = false;
};

std::array<std::byte, 8> key64(std::uint64_t n);
std::array<std::byte, 12> queue_key(std::uint32_t session, std::uint64_t seq);
std::array<std::byte, 6> pubrel_key(std::uint32_t session, std::uint16_t id);
std::string text_of(std::span<const std::byte> b);

// Wall-clock times for deadlines, so that the time the broker was down counts.
struct time_base {
    clock::time_point steady;
    std::int64_t wall_ms;

    explicit time_base(clock::time_point now)
        : steady(now), wall_ms(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count()) {}
    [[nodiscard]] std::int64_t wall(clock::time_point t) const {
        if (t == clock::time_point::max()) return forever;
        return wall_ms + std::chrono::duration_cast<std::chrono::milliseconds>(t - steady).count();
    }
    [[nodiscard]] clock::time_point steady_of(std::int64_t ms) const {
        if (ms == forever) return clock::time_point::max();
        return steady + std::chrono::milliseconds(ms - wall_ms);
    }
};

// `now` is asked only for a message that expires (clock reads cost per message otherwise).
template <class Now> void write_message(writer& w, const message& m, const Now& now) {
    w.u8(static_cast<std::uint8_t>(static_cast<unsigned>(m.qos) | (m.retain ? flag_retain : 0u) |
                                   (m.expires ? flag_expires : 0u)));
    if (m.expires) w.i64(time_base(now()).wall(*m.expires));
    w.text16(m.topic);
    w.blob32(m.properties);
    w.blob32(m.payload);
}

message_ptr read_message(reader& r, const time_base& tb);
void write_session(writer& w, std::uint32_t number, const session_record& r,
                   const time_base& tb);
std::optional<session_record> read_session(std::span<const std::byte> value, std::string id,
                                           const time_base& tb);
void write_entry(writer& w, std::uint64_t body, std::uint8_t flags, std::uint16_t packet_id,
                 std::span<const std::uint32_t> sub_ids);

struct entry_fields {
    std::uint8_t flags = 0;
    std::uint64_t body = 0;
    mqttwire::qos qos = mqttwire::qos::at_least_once;
    bool retain = false;
    bool released = false;
    std::uint16_t packet_id = 0;
    std::vector<std::uint32_t> sub_ids;
};

std::optional<entry_fields> read_entry(std::span<const std::byte> value);
std::uint32_t be32(std::span<const std::byte> b);

} // namespace mqttwire::broker::durable_records
