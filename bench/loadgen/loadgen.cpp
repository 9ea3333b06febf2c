// mqttwire-loadgen: an MQTT 3.1.1 load generator built on the mqttwire core.
//
// One thread, one epoll set, every connection non-blocking. Packets are framed with next_frame,
// decoded with decode_packet and written with encode (the PUBLISH is encoded once per publisher
// and only its payload header and packet identifier are patched per message). Reads are batched
// (up to 256 KiB per recv, several recvs per turn); writes are batched per connection (one send
// per connection per turn, `--per-write` messages at a time).
//
// Every payload starts with <publisher u32><sequence u64><send time u64, CLOCK_MONOTONIC ns>, so
// each subscriber counts, per publisher, what it received, what was lost (gaps and messages never
// delivered) and what came twice, and measures end-to-end latency.
//
// Flow control is closed-loop: a publisher keeps at most `--window` messages per subscriber in
// flight end to end (and `--inflight` unacknowledged QoS>0 PUBLISHes, 20 like the brokers' and
// paho's default), so brokers are measured at
// their sustainable rate instead of by how much they can buffer. `--rate` adds a fixed total
// rate on top (pairs, fixed-rate latency).
//
// With `--pid` it samples the broker's CPU (utime+stime from /proc/PID/stat) and RSS over the
// measured window, and prints one line, `RESULT key=value ...`, parsed by ci/bench-brokers.sh.
//
// Modes:
//   fanin     P publishers -> 1 subscriber (topic bench/p<i>, subscriber on bench/#)
//   fanout    1 publisher -> S subscribers on the wildcard bench/+
//   pairs     N publisher/subscriber pairs, topic bench/p<i>
//   lockstep  1 -> 1, one message in flight
//   rate      1 -> 1 at --rate msg/s (latency under a fixed load)
//   idle      N connections that only CONNECT; reports broker RSS per connection
//   slow      1 -> 1, the publisher as fast as it can (no end-to-end window), the subscriber
//             reading at most --read-rate bytes/s through a 64 KiB receive buffer (0: never
//             reads); reports the broker's peak RSS (VmHWM) and what was lost
// `--preload K` first subscribes K other filters (none matching) from separate connections.
//
// Transports: `--tls CAFILE` runs every connection over TLS (OpenSSL on the socket, the server
// certificate checked against CAFILE; `--tls-version 1.2|1.3`, `--ciphers LIST`); `--ws` over
// WebSockets (RFC 6455: the upgrade first, then MQTT in masked binary frames, one frame per
// send batch; the server's frames deframed in place with the core's ws::deframer). Both: WSS.
// In idle mode connect_per_s then counts full TLS handshakes per second.
// `--v5` speaks MQTT 5.0; `--alias-max N` has subscribers allow N Topic Aliases from the broker
// (resolved and checked as a client does); `--topics T` has each publisher cycle through T
// zigbee2mqtt-like topics (bench/zigbee2mqtt/0x00158d0001xxxxxx). The RESULT line reports the
// bytes subscribers read per message delivered (rx_bytes_per_msg) and the share of PUBLISHes
// that came by alias alone (by_alias_pct).

#include <mqttwire.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

using namespace mqttwire;

namespace {

std::uint64_t now_ns() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000ull +
           static_cast<std::uint64_t>(ts.tv_nsec);
}

[[noreturn]] void die(const std::string& why) {
    std::fprintf(stderr, "mqttwire-loadgen: %s\n", why.c_str());
    std::exit(2);
}

struct options {
    std::string mode = "fanin";
    std::string host = "127.0.0.1";
    int port = 1883;
    int pubs = 4;
    int subs = 1;
    int qos = 0;
    std::size_t payload = 64;
    double duration = 3.0;
    double warmup = 0.5;
    double rate = 0;       // total msg/s; 0: as fast as the window allows
    int window = 1000;     // per publisher, per subscriber
    int per_write = 64;    // messages per send() on a publisher
    int inflight = 20;     // QoS>0 PUBLISHes a publisher leaves unacknowledged (brokers' default)
    int conns = 1000;      // idle mode
    int hold_s = 0;        // idle mode: seconds the connections stay open after the RESULT line
    long preload = 0;
    int pid = 0;
    double drain = 3.0;
    double read_rate = 0; // slow mode: subscriber bytes per second
    bool persistent = false; // Clean Session 0: the broker keeps (and may store) the sessions
    std::string tls_ca;   // non-empty: TLS, trusting this CA file
    std::string tls_version; // "1.2" or "1.3": exactly that version; empty: either
    std::string ciphers;     // TLS 1.2 cipher list
    bool ws = false;         // MQTT over WebSockets
    bool v5 = false;
    int alias_max = 0; // Topic Alias Maximum the subscribers announce (5.0)
    int topics = 1;    // topics per publisher
};

// Latency histogram: 1 µs buckets up to 10 ms, then 100 µs buckets up to 10 s.
class histogram {
  public:
    histogram() : fine_(10000), coarse_(100000) {}
    void add(std::uint64_t ns) {
        const std::uint64_t us = ns / 1000;
        if (us < fine_.size()) ++fine_[us];
        else ++coarse_[std::min<std::uint64_t>(us / 100, coarse_.size() - 1)];
        ++n_;
        max_ = std::max(max_, ns);
    }
    [[nodiscard]] double percentile_us(double p) const {
        if (n_ == 0) return 0;
        const auto want = static_cast<std::uint64_t>(std::ceil(p * static_cast<double>(n_)));
        std::uint64_t seen = 0;
        for (std::size_t i = 0; i < fine_.size(); ++i)
            if ((seen += fine_[i]) >= want) return static_cast<double>(i) + 0.5;
        for (std::size_t i = 0; i < coarse_.size(); ++i)
            if ((seen += coarse_[i]) >= want) return static_cast<double>(i) * 100 + 50;
        return static_cast<double>(max_) / 1000;
    }
    [[nodiscard]] double max_us() const { return static_cast<double>(max_) / 1000; }
    [[nodiscard]] std::uint64_t count() const { return n_; }

  private:
    std::vector<std::uint64_t> fine_, coarse_;
    std::uint64_t n_ = 0, max_ = 0;
};

enum class role : std::uint8_t { publisher, subscriber, preload, idle };

struct connection {
    int fd = -1;
    role r = role::idle;
    int index = 0; // publisher or subscriber number
    bool connected = false;
    bool subscribed = false;
    bool want_out = false;
    protocol_version ver = protocol_version::v3_1_1;
    std::vector<std::byte> in;
    std::size_t in_len = 0;
    std::vector<std::byte> out;
    std::size_t out_pos = 0;
    // publisher
    std::vector<std::vector<std::byte>> templs; // the encoded PUBLISH, one per topic
    std::size_t payload_at = 0;   // offset of the payload in each template (same topic length)
    std::uint64_t rx_bytes = 0;   // subscriber: bytes read
    std::vector<std::string> aliases; // subscriber: topic aliases the broker set (index = alias)
    std::uint64_t sent = 0;       // messages written (sequence numbers 0..sent-1)
    std::uint16_t next_id = 0;
    std::uint64_t unacked = 0;    // QoS>0: PUBLISHes without PUBACK / PUBCOMP
    // preload
    long sub_from = 0, sub_to = 0, sub_next = 0;
    int subacks_pending = 0;
    // transports
    SSL* ssl = nullptr;
    bool upgraded = true;  // WebSocket: the 101 arrived (always true without --ws)
    std::size_t hold = 0;  // WebSocket: out bytes that may go before the upgrade (the request)
    ws::deframer deframer{ws::deframer_options{.local = ws::role::client}};
};

// A client frame header for `n` payload bytes: binary, final, masked with the key 0 (a valid
// key; it leaves the payload as it is, so the generator spends nothing on masking).
std::size_t ws_client_header(std::size_t n, std::byte* out) {
    const auto h = ws::make_header(ws::role::client, ws::opcode::binary, n, ws::masking_key{});
    const auto size = ws::encode_frame_header(h, std::span<std::byte>(out, ws::max_frame_header_size));
    if (!size) die("WebSocket frame header");
    return *size;
}

struct proc_sample {
    double cpu_s = 0;
    long rss_kb = 0;
    long peak_rss_kb = 0; // VmHWM
};

proc_sample sample_proc(int pid) {
    proc_sample s;
    if (pid <= 0) return s;
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string all((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    const auto close = all.rfind(')');
    if (close != std::string::npos) {
        std::istringstream rest(all.substr(close + 2));
        std::string f;
        std::vector<std::string> fields;
        while (rest >> f) fields.push_back(f);
        // fields[0] is field 3 (state); utime is field 14, stime field 15.
        if (fields.size() > 13) {
            const double hz = static_cast<double>(::sysconf(_SC_CLK_TCK));
            s.cpu_s = (std::stod(fields[11]) + std::stod(fields[12])) / hz;
        }
    }
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("VmRSS:", 0) == 0) s.rss_kb = std::stol(line.substr(6));
        else if (line.rfind("VmHWM:", 0) == 0) s.peak_rss_kb = std::stol(line.substr(6));
    return s;
}

double self_cpu_s() {
    rusage ru{};
    ::getrusage(RUSAGE_SELF, &ru);
    return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

class loadgen {
  public:
    explicit loadgen(options o) : o_(std::move(o)) {
        epoll_ = ::epoll_create1(EPOLL_CLOEXEC);
        if (!o_.tls_ca.empty()) {
            tls_ = SSL_CTX_new(TLS_client_method());
            if (tls_ == nullptr || SSL_CTX_load_verify_locations(tls_, o_.tls_ca.c_str(), nullptr) != 1)
                die("cannot load the CA file " + o_.tls_ca);
            SSL_CTX_set_verify(tls_, SSL_VERIFY_PEER, nullptr);
            SSL_CTX_set_mode(tls_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
            if (o_.tls_version == "1.2") {
                SSL_CTX_set_min_proto_version(tls_, TLS1_2_VERSION);
                SSL_CTX_set_max_proto_version(tls_, TLS1_2_VERSION);
            } else if (o_.tls_version == "1.3") {
                SSL_CTX_set_min_proto_version(tls_, TLS1_3_VERSION);
            }
            if (!o_.ciphers.empty() && SSL_CTX_set_cipher_list(tls_, o_.ciphers.c_str()) != 1)
                die("bad --ciphers " + o_.ciphers);
        }
        if (o_.mode == "fanin") {
            o_.subs = 1;
        } else if (o_.mode == "fanout") {
            o_.pubs = 1;
        } else if (o_.mode == "pairs") {
            o_.subs = o_.pubs;
        } else if (o_.mode == "lockstep") {
            o_.pubs = o_.subs = 1;
            o_.window = 1;
            o_.per_write = 1;
        } else if (o_.mode == "rate") {
            o_.pubs = o_.subs = 1;
        } else if (o_.mode == "idle") {
            o_.pubs = o_.subs = 0;
        } else if (o_.mode == "slow") {
            o_.pubs = o_.subs = 1;
            slow_ = true;
        } else {
            die("unknown mode " + o_.mode);
        }
        if (o_.payload < 20) o_.payload = 20;
        fan_ = o_.mode == "fanout" ? o_.subs : 1;
    }

    int run() {
        const auto base = sample_proc(o_.pid);
        if (o_.mode == "idle") return run_idle(base);
        preload();
        // Subscribers first, then publishers, so nothing is published before the routes exist.
        for (int i = 0; i < o_.subs; ++i) {
            auto& c = open(role::subscriber, i);
            connect(c, "lg-sub-" + std::to_string(i));
            const std::string filter = sub_filter(i);
            subscription s{utf8_view(std::string_view(filter)), {static_cast<mqttwire::qos>(o_.qos)}};
            subscribe(c, std::span<const subscription>(&s, 1), 1);
        }
        wait_until([&] { return all_of(role::subscriber, [](auto& c) { return c.subscribed; }); },
                   "SUBACK");
        for (int i = 0; i < o_.pubs; ++i) {
            auto& c = open(role::publisher, i);
            connect(c, "lg-pub-" + std::to_string(i));
            make_template(c);
        }
        wait_until([&] { return all_of(role::publisher, [](auto& c) { return c.connected; }); },
                   "CONNACK");
        expected_next_.assign(static_cast<std::size_t>(o_.pubs) * static_cast<std::size_t>(o_.subs), 0);
        received_from_.assign(static_cast<std::size_t>(o_.pubs), 0);

        const auto start = now_ns();
        const auto warm_end = start + static_cast<std::uint64_t>(o_.warmup * 1e9);
        const auto end = warm_end + static_cast<std::uint64_t>(o_.duration * 1e9);
        proc_sample b0;
        double t0_cpu = 0;
        std::uint64_t d0 = 0, bytes0 = 0;
        bool measuring = false;
        start_ns_ = start;
        while (true) {
            const auto t = now_ns();
            if (!measuring && t >= warm_end) {
                measuring = true;
                b0 = sample_proc(o_.pid);
                t0_cpu = self_cpu_s();
                d0 = delivered_;
                bytes0 = delivered_bytes_;
                lat_ = histogram();
                record_latency_ = true;
            }
            if (t >= end) break;
            turn(t, true);
        }
        const auto t1 = now_ns();
        const auto b1 = sample_proc(o_.pid);
        const double tool_cpu = self_cpu_s() - t0_cpu;
        const std::uint64_t d = delivered_ - d0;
        const std::uint64_t bytes = delivered_bytes_ - bytes0;
        record_latency_ = false;
        const double secs = static_cast<double>(t1 - warm_end) / 1e9;
        // Drain: stop publishing and wait for everything in flight.
        const auto drain_end = now_ns() + static_cast<std::uint64_t>(o_.drain * 1e9);
        while (now_ns() < drain_end && !all_accounted()) turn(now_ns(), false);
        std::uint64_t lost = 0, sent = 0;
        for (std::size_t s = 0; s < static_cast<std::size_t>(o_.subs); ++s)
            for (std::size_t p = 0; p < static_cast<std::size_t>(o_.pubs); ++p) {
                if (!routes(static_cast<int>(p), static_cast<int>(s))) continue;
                const auto want = pub(p).sent;
                const auto got = expected_next_[s * static_cast<std::size_t>(o_.pubs) + p];
                if (got < want) lost += want - got;
            }
        for (auto& c : conns_)
            if (c.r == role::publisher) sent += c.sent;
        lost += gaps_;
        const double broker_cpu = b1.cpu_s - b0.cpu_s;
        std::uint64_t rx = 0;
        for (auto& c : conns_)
            if (c.r == role::subscriber) rx += c.rx_bytes;
        std::printf("RESULT mode=%s qos=%d pubs=%d subs=%d payload=%zu preload=%ld secs=%.3f "
                    "sent=%llu delivered=%llu msgps=%.0f mbps=%.2f lost=%llu dup=%llu "
                    "p50_us=%.1f p99_us=%.1f max_us=%.1f lat_n=%llu broker_cpu_s=%.3f "
                    "broker_us_per_msg=%.3f broker_rss_kb=%ld broker_peak_rss_kb=%ld "
                    "broker_cpu_pct=%.0f tool_cpu_s=%.3f tool_cpu_pct=%.0f tool_bound=%d "
                    "v5=%d alias_max=%d topics=%d rx_bytes_per_msg=%.1f by_alias_pct=%.1f\n",
                    o_.mode.c_str(), o_.qos, o_.pubs, o_.subs, o_.payload, o_.preload, secs,
                    static_cast<unsigned long long>(sent), static_cast<unsigned long long>(d),
                    static_cast<double>(d) / secs,
                    static_cast<double>(bytes) / secs / 1e6, static_cast<unsigned long long>(lost),
                    static_cast<unsigned long long>(dups_), lat_.percentile_us(0.50),
                    lat_.percentile_us(0.99), lat_.max_us(),
                    static_cast<unsigned long long>(lat_.count()), broker_cpu,
                    d != 0 ? broker_cpu * 1e6 / static_cast<double>(d) : 0.0, b1.rss_kb,
                    sample_proc(o_.pid).peak_rss_kb, 100 * broker_cpu / secs, tool_cpu, 100 * tool_cpu / secs,
                    tool_cpu / secs >= 0.9 ? 1 : 0, o_.v5 ? 1 : 0, o_.alias_max, o_.topics,
                    d != 0 ? static_cast<double>(rx) / static_cast<double>(d) : 0.0,
                    d != 0 ? 100.0 * static_cast<double>(by_alias_) / static_cast<double>(d) : 0.0);
        return 0;
    }

  private:
    // ---- setup -------------------------------------------------------------------------------

    std::string sub_filter(int i) const {
        if (o_.mode == "fanin" || (o_.mode == "fanout" && o_.topics > 1)) return "bench/#";
        if (o_.mode == "fanout") return "bench/+";
        return "bench/p" + std::to_string(i);
    }
    bool routes(int p, int s) const {
        if (o_.mode == "fanin" || o_.mode == "fanout") return true;
        return p == s;
    }
    connection& pub(std::size_t p) { return conns_[pub_base_ + p]; }

    connection& open(role r, int index) {
        const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) die(std::string("socket: ") + std::strerror(errno));
        const int one = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(static_cast<std::uint16_t>(o_.port));
        ::inet_pton(AF_INET, o_.host.c_str(), &a.sin_addr);
        if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 && errno != EINPROGRESS)
            die(std::string("connect: ") + std::strerror(errno));
        if (r == role::publisher && pub_base_ == npos) pub_base_ = conns_.size();
        conns_.emplace_back();
        auto& c = conns_.back();
        c.fd = fd;
        c.r = r;
        c.index = index;
        c.ver = o_.v5 ? protocol_version::v5 : protocol_version::v3_1_1;
        c.in.resize(std::max<std::size_t>(4096, r == role::subscriber ? 256 * 1024 : 4096));
        if (slow_ && r == role::subscriber) {
            // Little kernel buffering, so the broker (not the socket) holds the backlog.
            const int small = 64 * 1024;
            ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
        }
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u64 = conns_.size() - 1;
        ::epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &ev);
        if (tls_ != nullptr) {
            c.ssl = SSL_new(tls_);
            if (c.ssl == nullptr || SSL_set_fd(c.ssl, fd) != 1) die("SSL_new");
            SSL_set_tlsext_host_name(c.ssl, "localhost");
            SSL_set_connect_state(c.ssl);
        }
        if (o_.ws) {
            const std::string req = "GET /mqtt HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
                                    "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                    "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n";
            const auto* b = reinterpret_cast<const std::byte*>(req.data());
            c.out.assign(b, b + req.size());
            c.hold = c.out.size();
            c.upgraded = false;
        }
        return c;
    }

    // send()/recv() through the connection's transport: > 0 bytes, 0 end of stream, -1 with
    // errno EAGAIN (wait; `want_write` when TLS needs the socket writable) or another error.
    ssize_t io_send(connection& c, const std::byte* p, std::size_t n) {
        if (c.ssl == nullptr) return ::send(c.fd, p, n, MSG_NOSIGNAL);
        const int r = SSL_write(c.ssl, p, static_cast<int>(std::min<std::size_t>(n, 1 << 30)));
        if (r > 0) return r;
        return tls_status(c, r);
    }
    ssize_t io_recv(connection& c, std::byte* p, std::size_t n) {
        if (c.ssl == nullptr) return ::recv(c.fd, p, n, 0);
        const int r = SSL_read(c.ssl, p, static_cast<int>(std::min<std::size_t>(n, 1 << 30)));
        if (r > 0) return r;
        return tls_status(c, r);
    }
    ssize_t tls_status(connection& c, int r) {
        const int e = SSL_get_error(c.ssl, r);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
            if (e == SSL_ERROR_WANT_WRITE) watch_out(c, true);
            errno = EAGAIN;
            return -1;
        }
        if (e == SSL_ERROR_ZERO_RETURN) return 0;
        char buf[256] = {};
        ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
        die(std::string("TLS: ") + buf);
    }

    template <class P> void queue(connection& c, const P& p) {
        const auto size = encoded_size(p, c.ver);
        if (!size) die(std::string(packet_type_name(P::type)) + " encoded_size failed: " + std::string(errc_name(size.error())));
        auto at = c.out.size();
        if (o_.ws) {
            std::byte h[ws::max_frame_header_size];
            const auto hn = ws_client_header(*size, h);
            c.out.insert(c.out.end(), h, h + hn);
            at += hn;
        }
        c.out.resize(at + *size);
        if (!encode(p, c.ver, std::span<std::byte>(c.out).subspan(at)))
            die("encode failed");
    }

    void connect(connection& c, const std::string& id) {
        connect_view p;
        p.version = c.ver;
        p.client_id = utf8_view(std::string_view(id));
        p.clean_start = !o_.persistent;
        p.keep_alive = 0;
        const property tam[] = {{property_id::topic_alias_maximum,
                                 static_cast<std::uint32_t>(o_.alias_max)}};
        if (c.ver == protocol_version::v5 && c.r == role::subscriber && o_.alias_max > 0) {
            p.properties = tam;
            c.aliases.resize(static_cast<std::size_t>(o_.alias_max) + 1);
        }
        queue(c, p);
        flush(c);
    }

    void subscribe(connection& c, std::span<const subscription> subs, std::uint16_t id) {
        subscribe_view s;
        s.packet_id = id;
        s.subscriptions = subs;
        queue(c, s);
        flush(c);
    }

    // One topic, bench/p<i>, or --topics T of the zigbee2mqtt shape (a base topic and a device's
    // IEEE address), all of one length.
    std::string topic_of(const connection& c, int k) const {
        if (o_.topics <= 1) return "bench/p" + std::to_string(c.index);
        char device[32];
        std::snprintf(device, sizeof device, "0x00158d0001%06x",
                      static_cast<unsigned>(c.index * o_.topics + k) & 0xFFFFFFu);
        return "bench/zigbee2mqtt/" + std::string(device);
    }

    void make_template(connection& c) {
        std::vector<std::byte> payload(o_.payload, std::byte{'x'});
        for (int k = 0; k < std::max(1, o_.topics); ++k) {
            const std::string topic = topic_of(c, k);
            publish_view p;
            p.qos = static_cast<mqttwire::qos>(o_.qos);
            p.topic = utf8_view(std::string_view(topic));
            p.packet_id = o_.qos > 0 ? 1 : 0;
            p.payload = binary_view(std::span<const std::byte>(payload));
            auto& t = c.templs.emplace_back(encoded_size(p, c.ver).value());
            if (!encode(p, c.ver, t)) die("encode PUBLISH failed");
            c.payload_at = t.size() - o_.payload;
        }
    }

    // Subscribes `--preload` filters that never match a bench topic but share its first level,
    // from 4 connections, 100 filters per SUBSCRIBE, 16 SUBSCRIBEs in flight per connection.
    void preload() {
        if (o_.preload <= 0) return;
        const int n = 4;
        const long per = (o_.preload + n - 1) / n;
        for (int i = 0; i < n; ++i) {
            auto& c = open(role::preload, i);
            connect(c, "lg-preload-" + std::to_string(i));
            c.sub_from = c.sub_next = per * i;
            c.sub_to = std::min<long>(o_.preload, per * (i + 1));
        }
        wait_until([&] { return all_of(role::preload, [](auto& c) { return c.connected; }); },
                   "CONNACK");
        const auto t0 = now_ns();
        while (!all_of(role::preload,
                       [](auto& c) { return c.sub_next >= c.sub_to && c.subacks_pending == 0; })) {
            for (auto& c : conns_)
                if (c.r == role::preload)
                    while (c.subacks_pending < 16 && c.sub_next < c.sub_to) send_preload(c);
            turn(now_ns(), false);
            if (now_ns() - t0 > 600000000000ull) die("preload timed out");
        }
        std::fprintf(stderr, "mqttwire-loadgen: %ld filters preloaded in %.1f s\n", o_.preload,
                     static_cast<double>(now_ns() - t0) / 1e9);
    }

    // The filter mix of bench/index_bench: mostly exact, some wildcards at every level.
    static std::string preload_filter(long k) {
        const long tenant = k / 1600, device = (k / 8) % 200, sensor = k % 8;
        const std::string t = "bench/t" + std::to_string(tenant);
        const std::string d = "/d" + std::to_string(device);
        const std::string s = "/s" + std::to_string(sensor);
        switch (k % 100) {
        case 0: case 1: return t + "/#";
        case 2: case 3: case 4: return t + d + "/#";
        case 5: case 6: case 7: case 8: case 9: return t + "/+" + s;
        case 10: case 11: case 12: case 13: case 14:
        case 15: case 16: case 17: case 18: case 19: return t + d + "/+";
        default: return t + d + s;
        }
    }

    void send_preload(connection& c) {
        std::vector<std::string> filters;
        std::vector<subscription> subs;
        for (int j = 0; j < 100 && c.sub_next < c.sub_to; ++j)
            filters.push_back(preload_filter(c.sub_next++));
        for (auto& f : filters) subs.push_back({utf8_view(std::string_view(f)), {}});
        subscribe(c, subs, static_cast<std::uint16_t>(1 + (c.sub_next / 100) % 60000));
        ++c.subacks_pending;
    }

    int run_idle(const proc_sample& base) {
        // Baseline after one connection, so the broker's lazily allocated state is not counted.
        auto& first = open(role::idle, 0);
        connect(first, "lg-idle-0");
        wait_until([&] { return all_of(role::idle, [](auto& c) { return c.connected; }); },
                   "CONNACK");
        ::usleep(200000);
        const auto b0 = sample_proc(o_.pid);
        (void)base;
        int opened = 1;
        const auto t0 = now_ns();
        while (opened < o_.conns) {
            const int batch = std::min(o_.conns - opened, 200);
            for (int i = 0; i < batch; ++i, ++opened) {
                auto& c = open(role::idle, opened);
                connect(c, "lg-idle-" + std::to_string(opened));
            }
            wait_until([&] { return all_of(role::idle, [](auto& c) { return c.connected; }); },
                       "CONNACK");
        }
        const double secs = static_cast<double>(now_ns() - t0) / 1e9;
        // Sampled once the connections have been idle for 2 s: what a broker keeps for them,
        // after whatever it does when a burst of connections ends.
        ::usleep(2000000);
        const auto b1 = sample_proc(o_.pid);
        const double per = static_cast<double>(b1.rss_kb - b0.rss_kb) * 1024.0 /
                           static_cast<double>(o_.conns - 1);
        std::printf("RESULT mode=idle conns=%d secs=%.3f connect_per_s=%.0f broker_rss_kb=%ld "
                    "broker_rss_base_kb=%ld bytes_per_conn=%.0f broker_cpu_s=%.3f\n",
                    o_.conns, secs, (o_.conns - 1) / secs, b1.rss_kb, b0.rss_kb, per,
                    b1.cpu_s - b0.cpu_s);
        std::fflush(stdout);
        if (o_.hold_s > 0) ::sleep(static_cast<unsigned>(o_.hold_s));
        return 0;
    }

    template <class F> bool all_of(role r, F f) const {
        for (const auto& c : conns_)
            if (c.r == r && !f(c)) return false;
        return true;
    }

    template <class F> void wait_until(F done, const char* what) {
        const auto t0 = now_ns();
        while (!done()) {
            turn(now_ns(), false);
            if (now_ns() - t0 > 30000000000ull) die(std::string("timed out waiting for ") + what);
        }
    }

    bool all_accounted() const {
        std::uint64_t sent = 0;
        for (const auto& c : conns_)
            if (c.r == role::publisher) {
                sent += c.sent;
                if (c.unacked != 0) return false;
            }
        std::uint64_t resolved = 0;
        for (auto v : expected_next_) resolved += v;
        // fan-in and pairs: each message has one receiver; fan-out: S.
        return resolved >= sent * static_cast<std::uint64_t>(fan_);
    }

    // ---- the loop ----------------------------------------------------------------------------

    void turn(std::uint64_t t, bool publish) {
        bool more = false;
        if (publish) {
            for (std::size_t p = 0; p < static_cast<std::size_t>(o_.pubs); ++p)
                more |= produce(pub(p), t);
        }
        if (!tls_pending_.empty()) {
            tls_scratch_.swap(tls_pending_);
            tls_pending_.clear();
            for (const auto k : tls_scratch_) read(conns_[k]);
            tls_scratch_.clear();
            more = true;
        }
        int timeout = more ? 0 : 1;
        const int n = ::epoll_wait(epoll_, events_, max_events, timeout);
        for (int i = 0; i < n; ++i) {
            auto& c = conns_[events_[i].data.u64];
            if ((events_[i].events & EPOLLOUT) != 0) flush(c);
            if ((events_[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0) read(c);
        }
        for (std::size_t k = 0; k < acks_.size(); ++k) flush(conns_[acks_[k]]);
        acks_.clear();
    }

    // slow mode: the subscriber takes at most --read-rate bytes per second once subscribed.
    bool read_allowed(connection& c, std::size_t& max) {
        if (!slow_ || c.r != role::subscriber || !c.subscribed) return true;
        if (slow_start_ == 0) slow_start_ = now_ns();
        const double allowed =
            o_.read_rate * static_cast<double>(now_ns() - slow_start_) / 1e9 -
            static_cast<double>(slow_taken_);
        if (allowed < 1) return false;
        max = std::min(max, static_cast<std::size_t>(allowed));
        return true;
    }

    // Writes as many messages as the window, the rate and --per-write allow; true when it could
    // write more right away.
    bool produce(connection& c, std::uint64_t t) {
        if (!c.connected || c.out_pos < c.out.size()) return false;
        const auto p = static_cast<std::size_t>(c.index);
        const std::uint64_t in_flight_e2e = c.sent * static_cast<std::uint64_t>(fan_) - received_from_[p];
        const std::uint64_t cap = static_cast<std::uint64_t>(o_.window) * static_cast<std::uint64_t>(fan_);
        std::uint64_t credit = in_flight_e2e >= cap ? 0 : (cap - in_flight_e2e) / static_cast<std::uint64_t>(fan_);
        if (slow_) credit = static_cast<std::uint64_t>(o_.per_write); // open loop: the point
        if (o_.qos > 0) {
            const auto w = static_cast<std::uint64_t>(std::min(o_.inflight, 30000));
            credit = std::min(credit, c.unacked >= w ? 0 : w - c.unacked);
        }
        if (o_.rate > 0) {
            const double per_pub = o_.rate / o_.pubs;
            const auto allowed = static_cast<std::uint64_t>(static_cast<double>(t - start_ns_) / 1e9 * per_pub) + 1;
            credit = std::min(credit, allowed > c.sent ? allowed - c.sent : 0);
        }
        credit = std::min<std::uint64_t>(credit, static_cast<std::uint64_t>(o_.per_write));
        if (credit == 0) return false;
        const std::size_t size = c.templs[0].size();
        std::byte h[ws::max_frame_header_size];
        const std::size_t hn = o_.ws ? ws_client_header(credit * size, h) : 0;
        c.out.resize(hn + credit * size);
        c.out_pos = 0;
        std::memcpy(c.out.data(), h, hn);
        std::byte* w = c.out.data() + hn;
        for (std::uint64_t k = 0; k < credit; ++k, w += size) {
            std::memcpy(w, c.templs[c.sent % c.templs.size()].data(), size);
            const std::uint32_t who = static_cast<std::uint32_t>(c.index);
            const std::uint64_t seq = c.sent++;
            const std::uint64_t ts = now_ns();
            std::memcpy(w + c.payload_at, &who, 4);
            std::memcpy(w + c.payload_at + 4, &seq, 8);
            std::memcpy(w + c.payload_at + 12, &ts, 8);
            if (o_.qos > 0) {
                c.next_id = static_cast<std::uint16_t>(c.next_id == 65535 ? 1 : c.next_id + 1);
                w[c.payload_at - 2] = static_cast<std::byte>(c.next_id >> 8);
                w[c.payload_at - 1] = static_cast<std::byte>(c.next_id & 0xff);
                ++c.unacked;
            }
        }
        flush(c);
        return c.out_pos == c.out.size();
    }

    void flush(connection& c) {
        // Before the WebSocket upgrade only the request goes out; the rest waits for the 101.
        const std::size_t limit = c.upgraded ? c.out.size() : c.hold;
        while (c.out_pos < limit) {
            const ssize_t n = io_send(c, c.out.data() + c.out_pos, limit - c.out_pos);
            if (n > 0) {
                c.out_pos += static_cast<std::size_t>(n);
                continue;
            }
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOTCONN)) {
                watch_out(c, true);
                return;
            }
            die(std::string("send: ") + std::strerror(errno));
        }
        if (!c.upgraded) {
            watch_out(c, false);
            return;
        }
        c.out.clear();
        c.out_pos = 0;
        watch_out(c, false);
    }

    void watch_out(connection& c, bool on) {
        if (c.want_out == on) return;
        c.want_out = on;
        epoll_event ev{};
        ev.events = EPOLLIN | (on ? EPOLLOUT : 0u);
        ev.data.u64 = static_cast<std::uint64_t>(&c - conns_.data());
        ::epoll_ctl(epoll_, EPOLL_CTL_MOD, c.fd, &ev);
    }

    void read(connection& c) {
        for (int r = 0; r < 16; ++r) {
            if (c.in.size() - c.in_len < 16384) c.in.resize(c.in.size() * 2);
            std::size_t room = c.in.size() - c.in_len;
            if (!read_allowed(c, room)) return;
            const ssize_t n = io_recv(c, c.in.data() + c.in_len, room);
            if (n > 0) {
                if (slow_ && c.r == role::subscriber) slow_taken_ += static_cast<std::uint64_t>(n);
                if (c.r == role::subscriber && record_latency_) c.rx_bytes += static_cast<std::uint64_t>(n);
                if (o_.ws) received_ws(c, static_cast<std::size_t>(n));
                else c.in_len += static_cast<std::size_t>(n);
                parse(c);
                continue;
            }
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                // The handshake may have completed on this read: send what waited for it.
                if (c.ssl != nullptr && c.out_pos < c.out.size()) flush(c);
                return;
            }
            if (n < 0 && errno == EINTR) continue;
            die(n == 0 ? "the broker closed a connection"
                       : std::string("recv: ") + std::strerror(errno));
        }
        // TLS: the rest of a decrypted record stays in OpenSSL, unseen by epoll.
        if (c.ssl != nullptr && SSL_pending(c.ssl) > 0)
            tls_pending_.push_back(static_cast<std::size_t>(&c - conns_.data()));
    }

    // `n` raw bytes arrived at c.in[in_len]: the 101 response first, then server frames,
    // deframed in place so that c.in[0, in_len) stays the MQTT stream.
    void received_ws(connection& c, std::size_t n) {
        std::size_t from = c.in_len;
        if (!c.upgraded) {
            const std::string_view seen(reinterpret_cast<const char*>(c.in.data()), c.in_len + n);
            const auto end = seen.find("\r\n\r\n");
            if (end == std::string_view::npos) {
                c.in_len += n;
                return;
            }
            if (seen.substr(0, 12) != "HTTP/1.1 101") die("WebSocket upgrade refused: " + std::string(seen.substr(0, 40)));
            const std::size_t rest = seen.size() - (end + 4);
            std::memmove(c.in.data(), c.in.data() + end + 4, rest);
            c.in_len = 0;
            from = 0;
            n = rest;
            c.upgraded = true;
            flush(c); // the CONNECT (and anything after it) waited for the upgrade
        }
        const auto raw = std::span<std::byte>(c.in).subspan(from, n);
        std::size_t at = 0, out = 0;
        while (at < n) {
            const auto r = c.deframer.decode(raw.subspan(at), raw.subspan(out));
            at += r.consumed;
            out += r.produced;
            if (r.event == ws::deframe_event::close || r.event == ws::deframe_event::fail)
                die("the broker closed a WebSocket connection");
        }
        c.in_len = from + out;
    }

    void parse(connection& c) {
        std::size_t off = 0;
        decode_options d;
        d.version = c.ver;
        d.sender = peer_role::server;
        const std::size_t acks_before = c.out.size();
        while (true) {
            const std::span<const std::byte> rest(c.in.data() + off, c.in_len - off);
            const auto f = next_frame(rest);
            if (f.status == errc::incomplete) {
                if (f.size > c.in.size()) c.in.resize(f.size + 65536);
                break;
            }
            if (f.status != errc::success) die("bad frame from the broker");
            const auto pk = decode_packet(rest.first(f.size), d);
            if (!pk) die(std::string("bad packet from the broker: ") + std::string(errc_name(pk.error())));
            on_packet(c, pk->packet);
            off += f.size;
        }
        if (off != 0) {
            std::memmove(c.in.data(), c.in.data() + off, c.in_len - off);
            c.in_len -= off;
        }
        if (c.out.size() != acks_before && c.out_pos == 0)
            acks_.push_back(static_cast<std::size_t>(&c - conns_.data()));
    }

    void on_packet(connection& c, const packet_view& p) {
        if (const auto* m = std::get_if<publish_view>(&p)) {
            on_message(c, *m);
            if (m->qos == mqttwire::qos::at_least_once) queue(c, puback_view{m->packet_id});
            else if (m->qos == mqttwire::qos::exactly_once) queue(c, pubrec_view{m->packet_id});
        } else if (std::holds_alternative<connack_view>(p)) {
            c.connected = true;
        } else if (std::holds_alternative<suback_view>(p)) {
            if (c.r == role::preload) --c.subacks_pending;
            c.subscribed = true;
        } else if (std::holds_alternative<puback_view>(p) ||
                   std::holds_alternative<pubcomp_view>(p)) {
            if (c.unacked > 0) --c.unacked;
        } else if (const auto* r = std::get_if<pubrec_view>(&p)) {
            queue(c, pubrel_view{r->packet_id});
        } else if (const auto* r2 = std::get_if<pubrel_view>(&p)) {
            queue(c, pubcomp_view{r2->packet_id});
        }
    }

    // A Topic Alias from the broker, as a client resolves it (MQTT5-3.3.2-12): set with a
    // topic, looked up without one; above the announced maximum or unknown is the broker's bug.
    void resolve_alias(connection& c, const publish_view& m) {
        const auto a = m.properties.integer_or(property_id::topic_alias, 0);
        if (a == 0) return;
        if (a > static_cast<std::uint32_t>(o_.alias_max)) die("Topic Alias above the maximum");
        auto& name = c.aliases[a];
        if (!m.topic.empty()) {
            name.assign(m.topic.as_string_view());
        } else {
            if (name.empty()) die("Topic Alias used before it was set");
            if (record_latency_) ++by_alias_;
        }
    }

    void on_message(connection& c, const publish_view& m) {
        if (c.r != role::subscriber) return;
        if (!c.aliases.empty()) resolve_alias(c, m);
        const auto bytes = m.payload.bytes();
        if (bytes.size() < 20) die("short payload");
        std::uint32_t who = 0;
        std::uint64_t seq = 0, ts = 0;
        std::memcpy(&who, bytes.data(), 4);
        std::memcpy(&seq, bytes.data() + 4, 8);
        std::memcpy(&ts, bytes.data() + 12, 8);
        if (who >= static_cast<std::uint32_t>(o_.pubs)) die("payload from an unknown publisher");
        auto& next = expected_next_[static_cast<std::size_t>(c.index) * static_cast<std::size_t>(o_.pubs) + who];
        if (seq < next) {
            ++dups_;
            return;
        }
        if (seq > next) {
            gaps_ += seq - next; // lost (or reordered, which one broker and one topic forbid)
            received_from_[who] += seq - next;
        }
        next = seq + 1;
        ++received_from_[who];
        ++delivered_;
        delivered_bytes_ += bytes.size();
        if (record_latency_) lat_.add(now_ns() - ts);
    }

    static constexpr std::size_t npos = static_cast<std::size_t>(-1);
    SSL_CTX* tls_ = nullptr;
    std::vector<std::size_t> tls_pending_, tls_scratch_;
    static constexpr int max_events = 512;
    options o_;
    int epoll_ = -1;
    int fan_ = 1;
    std::vector<connection> conns_ = [] {
        std::vector<connection> v;
        v.reserve(25000);
        return v;
    }();
    std::size_t pub_base_ = npos;
    std::vector<std::uint64_t> expected_next_; // [subscriber * pubs + publisher]
    std::vector<std::uint64_t> received_from_; // per publisher, deliveries resolved (incl. gaps)
    std::vector<std::size_t> acks_;
    epoll_event events_[max_events]{};
    std::uint64_t start_ns_ = 0;
    std::uint64_t delivered_ = 0, delivered_bytes_ = 0, dups_ = 0, gaps_ = 0, by_alias_ = 0;
    bool record_latency_ = false;
    histogram lat_;
    bool slow_ = false;
    std::uint64_t slow_start_ = 0, slow_taken_ = 0;
};

void usage() {
    std::fputs(
        "usage: mqttwire-loadgen --mode fanin|fanout|pairs|lockstep|rate|idle|slow [options]\n"
        "  --host H --port N      broker (127.0.0.1:1883)\n"
        "  --pubs P --subs S      publishers (fanin, pairs) / subscribers (fanout)\n"
        "  --qos 0|1|2 --payload BYTES (64) --duration S (3) --warmup S (0.5)\n"
        "  --rate MSG/S           fixed total rate (pairs, rate)\n"
        "  --window N             messages in flight per publisher and subscriber (1000)\n"
        "  --per-write N          messages per send() (64; pairs use 1)\n"
        "  --inflight N           unacknowledged QoS 1/2 PUBLISHes per publisher (20)\n"
        "  --conns N              idle connections (1000)\n"
        "  --hold S               idle mode: keep them open S seconds after the RESULT line (0)\n"
        "  --preload K            K other subscriptions loaded first\n"
        "  --read-rate B/S        slow mode: subscriber bytes per second (0: never reads)\n"
        "  --persistent           connect with Clean Session 0 (persistent sessions)\n"
        "  --pid PID              broker process, for CPU and RSS\n"
        "  --tls CAFILE           TLS, trusting CAFILE (--tls-version 1.2|1.3, --ciphers LIST)\n"
        "  --ws                   MQTT over WebSockets (with --tls: WSS)\n"
        "  --v5                   MQTT 5.0 (default 3.1.1)\n"
        "  --alias-max N          5.0 subscribers allow N Topic Aliases from the broker (0)\n"
        "  --topics T             zigbee2mqtt-like topics per publisher, cycled (1: bench/p<i>)\n",
        stderr);
}

} // namespace

int main(int argc, char** argv) {
    options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        const auto next = [&]() -> std::string {
            if (i + 1 >= argc) die("missing value after " + a);
            return argv[++i];
        };
        if (a == "--mode") o.mode = next();
        else if (a == "--host") o.host = next();
        else if (a == "--port") o.port = std::stoi(next());
        else if (a == "--pubs") o.pubs = std::stoi(next());
        else if (a == "--subs") o.subs = std::stoi(next());
        else if (a == "--qos") o.qos = std::stoi(next());
        else if (a == "--payload") o.payload = std::stoul(next());
        else if (a == "--duration") o.duration = std::stod(next());
        else if (a == "--warmup") o.warmup = std::stod(next());
        else if (a == "--rate") o.rate = std::stod(next());
        else if (a == "--window") o.window = std::stoi(next());
        else if (a == "--per-write") o.per_write = std::stoi(next());
        else if (a == "--inflight") o.inflight = std::stoi(next());
        else if (a == "--conns") o.conns = std::stoi(next());
        else if (a == "--hold") o.hold_s = std::stoi(next());
        else if (a == "--preload") o.preload = std::stol(next());
        else if (a == "--pid") o.pid = std::stoi(next());
        else if (a == "--drain") o.drain = std::stod(next());
        else if (a == "--read-rate") o.read_rate = std::stod(next());
        else if (a == "--persistent") o.persistent = true;
        else if (a == "--tls") o.tls_ca = next();
        else if (a == "--tls-version") o.tls_version = next();
        else if (a == "--ciphers") o.ciphers = next();
        else if (a == "--ws") o.ws = true;
        else if (a == "--v5") o.v5 = true;
        else if (a == "--alias-max") o.alias_max = std::stoi(next());
        else if (a == "--topics") o.topics = std::stoi(next());
        else if (a == "-h" || a == "--help") {
            usage();
            return 0;
        } else {
            usage();
            die("unknown argument " + a);
        }
    }
    if (o.qos < 0 || o.qos > 2) die("--qos must be 0, 1 or 2");
    if (o.alias_max < 0 || o.alias_max > 65535) die("--alias-max must be 0..65535");
    if (o.topics < 1 || o.topics > 65536) die("--topics must be 1..65536");
    if (o.alias_max > 0 && !o.v5) die("--alias-max needs --v5");
    return loadgen(o).run();
}
