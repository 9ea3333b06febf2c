#include "store/durable_broker_store.hpp"

#include <algorithm>
#include <array>
#include <limits>
#include <utility>

#include "session/session.hpp"

namespace mqttwire::broker {

namespace {

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

struct entry_fields {
    std::uint8_t flags = 0;
    std::uint64_t body = 0;
    mqttwire::qos qos = mqttwire::qos::at_least_once;
    bool retain = false;
    bool released = false;
    std::uint16_t packet_id = 0;
    std::vector<std::uint32_t> sub_ids;
};

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

} // namespace

// What open() finds, before the store exists: the records are linked once all are read (load
// order is write order, so a session may come after its queue entries).
class durable_broker_store::loader {
  public:
    explicit loader(const time_base& tb) : tb_(tb) {}

    void operator()(const durable_record& r) {
        switch (r.kind) {
        case kind_retained: {
            reader in(r.value);
            auto m = read_message(in, tb_);
            if (!m || !in.done() || m->topic != text_of(r.key)) {
                bad.push_back({r.kind, {r.key.begin(), r.key.end()}});
            } else if (m->expires && *m->expires <= tb_.steady) {
                expired.push_back(m->topic); // MQTT5-3.3.2-5: expired while the broker was down
            } else {
                retained.push_back(std::move(m));
            }
            return;
        }
        case kind_session:
            if (r.value.size() < 4) {
                bad.push_back({r.kind, {r.key.begin(), r.key.end()}});
            } else {
                sessions.push_back({text_of(r.key), be32(r.value)});
            }
            return;
        case kind_body:
            if (r.key.size() != 8) {
                bad.push_back({r.kind, {r.key.begin(), r.key.end()}});
            } else {
                reader k(r.key);
                bodies.push_back(k.u64());
            }
            return;
        case kind_queue: {
            reader k(r.key);
            const auto session = k.u32();
            const auto seq = k.u64();
            const auto e = read_entry(r.value);
            if (!k.done() || !e) {
                bad.push_back({r.kind, {r.key.begin(), r.key.end()}});
            } else {
                queue.push_back({session, seq, {e->body, e->packet_id, e->flags, !e->sub_ids.empty()}});
            }
            return;
        }
        case kind_pubrel: {
            reader k(r.key);
            const auto session = k.u32();
            const auto id = k.u16();
            if (!k.done()) {
                bad.push_back({r.kind, {r.key.begin(), r.key.end()}});
            } else {
                pubrels.push_back({session, id});
            }
            return;
        }
        default:
            bad.push_back({r.kind, {r.key.begin(), r.key.end()}});
        }
    }

    struct key {
        std::uint8_t kind;
        std::vector<std::byte> bytes;
    };
    struct session_ref {
        std::string id;
        std::uint32_t number;
    };
    struct queue_ref {
        std::uint32_t session;
        std::uint64_t seq;
        stored_entry entry;
    };
    struct pubrel_ref {
        std::uint32_t session;
        std::uint16_t id;
    };
    std::vector<message_ptr> retained;
    std::vector<std::string> expired;
    std::vector<session_ref> sessions;
    std::vector<std::uint64_t> bodies;
    std::vector<queue_ref> queue;
    std::vector<pubrel_ref> pubrels;
    std::vector<key> bad;

  private:
    const time_base& tb_;
};

durable_broker_store::durable_broker_store(durable_store engine, options opts)
    : engine_(std::move(engine)), opts_(std::move(opts)) {}

durable_broker_store::~durable_broker_store() = default;

durable_result<std::unique_ptr<durable_broker_store>>
durable_broker_store::open(const std::string& path, options opts) {
    if (!opts.engine.on_warning && opts.log) opts.engine.on_warning = opts.log;
    const time_base tb(opts.now());
    loader found(tb);
    auto opened = durable_store::open(path, opts.engine,
                                      [&](const durable_record& r) { found(r); });
    if (!opened) return opened.status();
    auto& [engine, recovery] = opened.value();
    std::unique_ptr<durable_broker_store> self(
        new durable_broker_store(std::move(engine), std::move(opts)));
    durable_broker_store& st = *self;
    st.recovery_ = std::move(recovery);

    st.retained_.reserve(found.retained.size());
    for (auto& m : found.retained) st.retained_.retain(m);
    found.retained = {};
    for (const auto& topic : found.expired) st.erase(kind_retained, as_durable_bytes(topic));
    for (const auto& k : found.bad) st.discard(k.kind, k.bytes, "cannot be decoded");

    std::unordered_map<std::uint32_t, session_entry*> by_number;
    st.sessions_.reserve(found.sessions.size());
    by_number.reserve(found.sessions.size());
    for (auto& s : found.sessions) {
        auto& e = st.sessions_[s.id];
        e.number = s.number;
        by_number[s.number] = &e;
        st.next_session_ = std::max(st.next_session_, s.number + 1);
    }
    for (const auto n : found.bodies) {
        st.bodies_.emplace(n, body{});
        st.next_body_ = std::max(st.next_body_, n + 1);
    }
    for (const auto& q : found.queue) {
        const auto owner = by_number.find(q.session);
        const auto b = st.bodies_.find(q.entry.body);
        if (owner == by_number.end() || b == st.bodies_.end()) {
            st.discard(kind_queue, queue_key(q.session, q.seq), "has no session or message");
            continue;
        }
        owner->second->messages.emplace(q.seq, q.entry);
        ++b->second.refs;
    }
    for (const auto& p : found.pubrels) {
        const auto owner = by_number.find(p.session);
        if (owner == by_number.end()) {
            st.discard(kind_pubrel, pubrel_key(p.session, p.id), "has no session");
            continue;
        }
        owner->second->pubrels.insert(p.id);
    }
    for (auto it = st.bodies_.begin(); it != st.bodies_.end();) {
        if (it->second.refs == 0) {
            st.erase(kind_body, key64(it->first)); // its last holder went in a lost batch
            it = st.bodies_.erase(it);
        } else {
            ++it;
        }
    }
    // What was cleaned up is written now, before anything else can depend on it.
    if (auto c = st.commit(); !c) return c;
    return self;
}

void durable_broker_store::discard(std::uint8_t kind, std::span<const std::byte> key,
                                   std::string_view why) {
    ++discarded_;
    if (discarded_ <= 10 && opts_.log) {
        std::string line = "store " + engine_.path() + ": a record of kind '";
        line += static_cast<char>(kind);
        line += "' ";
        line += why;
        line += "; removed";
        opts_.log(line);
    }
    erase(kind, key);
}

void durable_broker_store::flush_deferred() {
    session_entry* e = deferred_.entry;
    if (e == nullptr) return;
    deferred_.entry = nullptr;
    const auto it = e->messages.find(deferred_.seq);
    if (it != e->messages.end()) put_entry(*e, deferred_.seq, it->second);
}

void durable_broker_store::put_entry(const session_entry& e, std::uint64_t seq,
                                     const stored_entry& se) {
    // Its own buffer: a held-back entry is written from inside put(), whose value may be in
    // scratch_; and any other held-back entry first, so that put() does not write it from
    // this buffer while it holds this entry.
    flush_deferred();
    writer w(entry_scratch_);
    write_entry(w, se.body, se.flags, se.packet_id, {});
    put(kind_queue, queue_key(e.number, seq), entry_scratch_);
}

void durable_broker_store::put(std::uint8_t kind, std::span<const std::byte> key,
                               std::span<const std::byte> value) {
    flush_deferred();
    pending_ = true;
    if (auto st = engine_.put(kind, key, value); !st && failed_.ok()) failed_ = std::move(st);
}

void durable_broker_store::erase(std::uint8_t kind, std::span<const std::byte> key) {
    flush_deferred();
    pending_ = true;
    if (auto st = engine_.erase(kind, key); !st && failed_.ok()) failed_ = std::move(st);
}

durable_status durable_broker_store::commit() {
    flush_deferred();
    if (!failed_.ok()) return failed_;
    if (!pending_) return {};
    auto st = engine_.commit();
    if (st) pending_ = false;
    return st;
}

durable_status durable_broker_store::idle() {
    if (pending_ || !failed_.ok()) return commit();
    // A compaction that fails leaves the store as it was: logged, never a reason to stop (a
    // store that became unusable fails the next commit instead).
    if (auto st = engine_.compact_step(); !st && opts_.log) opts_.log(st.message());
    return {};
}

void durable_broker_store::retain(const message_ptr& m) {
    retained_.retain(m);
    writer w(scratch_);
    write_message(w, *m, opts_.now);
    put(kind_retained, as_durable_bytes(m->topic), scratch_);
}

bool durable_broker_store::forget_retained(std::string_view topic) {
    if (!retained_.forget_retained(topic)) return false;
    erase(kind_retained, as_durable_bytes(topic));
    return true;
}

void durable_broker_store::match_retained(std::string_view filter,
                                          const std::function<void(const message_ptr&)>& f) const {
    retained_.match_retained(filter, f);
}

durable_broker_store::session_entry* durable_broker_store::find_entry(const session& s) {
    if (&s == last_session_) return last_entry_;
    const auto it = sessions_.find(s.client_id);
    if (it == sessions_.end()) return nullptr;
    last_session_ = &s;
    last_entry_ = &it->second;
    return last_entry_;
}

durable_broker_store::session_entry& durable_broker_store::entry_of(const session& s) {
    if (session_entry* known = find_entry(s)) return *known;
    auto& e = sessions_[s.client_id];
    e.number = next_session_++;
    // A session is saved when it is created; this keeps the queue's owner on disk otherwise.
    writer w(scratch_);
    write_session(w, e.number, record_of(s), time_base(opts_.now()));
    put(kind_session, as_durable_bytes(s.client_id), scratch_);
    return e;
}

void durable_broker_store::session_saved(const session& s) {
    session_entry* e = find_entry(s);
    if (e == nullptr) {
        (void)entry_of(s);
        return;
    }
    writer w(scratch_);
    write_session(w, e->number, record_of(s), time_base(opts_.now()));
    put(kind_session, as_durable_bytes(s.client_id), scratch_);
}

void durable_broker_store::session_ended(std::string_view client_id) {
    const auto it = sessions_.find(std::string(client_id));
    if (it == sessions_.end()) return;
    last_session_ = nullptr; // the session object goes too, and its address may come back
    last_entry_ = nullptr;
    flush_deferred(); // it may be this session's: its entry is erased with the others below
    const session_entry& e = it->second;
    for (const auto& [seq, m] : e.messages) {
        erase(kind_queue, queue_key(e.number, seq));
        unref(m.body);
    }
    for (const auto id : e.pubrels) erase(kind_pubrel, pubrel_key(e.number, id));
    erase(kind_session, as_durable_bytes(client_id));
    sessions_.erase(it);
}

void durable_broker_store::message_added(const session& s, const delivery& d) {
    session_entry& e = entry_of(s);
    std::uint64_t number = 0;
    if (const auto known = body_of_.find(d.msg.get()); known != body_of_.end()) {
        number = known->second;
        ++bodies_[number].refs;
    } else {
        number = next_body_++;
        bodies_[number] = body{d.msg, 1};
        body_of_.emplace(d.msg.get(), number);
        writer w(scratch_);
        write_message(w, *d.msg, opts_.now);
        put(kind_body, key64(number), scratch_);
    }
    if (const auto old = e.messages.find(d.seq); old != e.messages.end()) unref(old->second.body);
    const auto flags =
        static_cast<std::uint8_t>(static_cast<unsigned>(d.qos) | (d.retain ? flag_retain : 0u));
    e.messages[d.seq] = {number, 0, flags, !d.sub_ids.empty()};
    if (d.sub_ids.empty()) {
        flush_deferred();
        deferred_ = {&e, d.seq};
        pending_ = true;
        return;
    }
    writer w(scratch_);
    write_entry(w, number, flags, 0, d.sub_ids);
    put(kind_queue, queue_key(e.number, d.seq), scratch_);
}

void durable_broker_store::rewrite_entry(const session& s, std::uint64_t seq,
                                         std::uint16_t packet_id, bool released) {
    session_entry* e = find_entry(s);
    if (e == nullptr) return;
    const auto m = e->messages.find(seq);
    if (m == e->messages.end()) return;
    stored_entry& se = m->second;
    if (released) {
        se.flags = static_cast<std::uint8_t>(se.flags | flag_released);
    } else {
        se.packet_id = packet_id;
    }
    if (deferred_.entry == e && deferred_.seq == seq) return; // written once, when flushed
    const auto key = queue_key(e->number, seq);
    if (!se.sub_ids) {
        put_entry(*e, seq, se);
        return;
    }
    const auto value = engine_.get(kind_queue, key);
    if (!value || value->size() <= entry_packet_id_at + 1) return;
    scratch_.assign(value->begin(), value->end()); // the view ends with the next change
    scratch_[entry_flags_at] = std::byte{se.flags};
    scratch_[entry_packet_id_at] = std::byte(se.packet_id >> 8);
    scratch_[entry_packet_id_at + 1] = std::byte(se.packet_id & 0xFF);
    put(kind_queue, key, scratch_);
}

void durable_broker_store::message_sent(const session& s, std::uint64_t seq,
                                        std::uint16_t packet_id) {
    rewrite_entry(s, seq, packet_id, false);
}

void durable_broker_store::message_released(const session& s, std::uint64_t seq) {
    rewrite_entry(s, seq, 0, true);
}

void durable_broker_store::message_done(const session& s, std::uint64_t seq) {
    session_entry* e = find_entry(s);
    if (e == nullptr) return;
    const auto m = e->messages.find(seq);
    if (m == e->messages.end()) return;
    if (deferred_.entry == e && deferred_.seq == seq) {
        deferred_.entry = nullptr; // never written: nothing to erase
    } else {
        erase(kind_queue, queue_key(e->number, seq));
    }
    unref(m->second.body);
    e->messages.erase(m);
}

void durable_broker_store::unref(std::uint64_t number) {
    const auto it = bodies_.find(number);
    if (it == bodies_.end() || --it->second.refs != 0) return;
    if (it->second.msg) body_of_.erase(it->second.msg.get());
    bodies_.erase(it);
    erase(kind_body, key64(number));
}

void durable_broker_store::pubrel_awaited(const session& s, std::uint16_t packet_id,
                                          bool awaited) {
    session_entry& e = entry_of(s);
    if (awaited) {
        if (e.pubrels.insert(packet_id).second) put(kind_pubrel, pubrel_key(e.number, packet_id), {});
    } else if (e.pubrels.erase(packet_id) != 0) {
        erase(kind_pubrel, pubrel_key(e.number, packet_id));
    }
}

void durable_broker_store::restore(restore_sink& sink) {
    const time_base tb(opts_.now());
    std::vector<std::string> broken;
    std::vector<std::pair<std::string, std::uint64_t>> skipped;
    std::vector<std::uint64_t> seqs;
    for (auto& [id, e] : sessions_) {
        const auto value = engine_.get(kind_session, as_durable_bytes(id));
        auto record = value ? read_session(*value, id, tb) : std::nullopt;
        if (!record) {
            broken.push_back(id);
            continue;
        }
        sink.session(std::move(*record));
        seqs.clear();
        for (const auto& [seq, m] : e.messages) seqs.push_back(seq);
        std::sort(seqs.begin(), seqs.end()); // arrival order
        for (const auto seq : seqs) {
            const auto b = e.messages.at(seq).body;
            const auto ev = engine_.get(kind_queue, queue_key(e.number, seq));
            auto fields = ev ? read_entry(*ev) : std::nullopt;
            body& bd = bodies_.at(b);
            if (!bd.msg) {
                const auto mv = engine_.get(kind_body, key64(b));
                if (mv) {
                    reader r(*mv);
                    auto m = read_message(r, tb);
                    if (m && r.done()) {
                        bd.msg = std::move(m);
                        body_of_.emplace(bd.msg.get(), b);
                    }
                }
            }
            if (!fields || !bd.msg) {
                skipped.emplace_back(id, seq); // the broker never sees it: removed below
                continue;
            }
            stored_delivery d;
            d.client_id = id;
            d.seq = seq;
            d.msg = bd.msg;
            d.qos = fields->qos;
            d.retain = fields->retain;
            d.sub_ids = std::move(fields->sub_ids);
            d.packet_id = fields->packet_id;
            d.released = fields->released;
            sink.delivery(std::move(d));
        }
        for (const auto pid : e.pubrels) sink.awaiting_pubrel(id, pid);
    }
    for (const auto& id : broken) {
        if (opts_.log)
            opts_.log("store " + engine_.path() + ": the session of " + id +
                      " cannot be decoded; removed");
        ++discarded_;
        session_ended(id);
    }
    for (const auto& [id, seq] : skipped) {
        const auto it = sessions_.find(id);
        if (it == sessions_.end()) continue;
        const auto m = it->second.messages.find(seq);
        if (m == it->second.messages.end()) continue;
        if (opts_.log && discarded_ < 10)
            opts_.log("store " + engine_.path() + ": a queued message of " + id +
                      " cannot be decoded; removed");
        ++discarded_;
        erase(kind_queue, queue_key(it->second.number, seq));
        unref(m->second.body);
        it->second.messages.erase(m);
    }
}

} // namespace mqttwire::broker
