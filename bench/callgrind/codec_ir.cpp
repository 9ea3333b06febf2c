// Instruction counts of the codec's hot operations, for callgrind (see run.sh): argv[1] names the
// operation, argv[2] how many times it runs over a stream of 256 packets (CONNECT: 256 decodes
// or encodes of one packet). One noinline function per operation, so what the compiler inlines
// into one does not depend on the others. The inputs are those of bench/codec_bench.cpp: a
// PUBLISH to "home/livingroom/tmp" with a 64-byte payload (5.0 with two properties, 5.0 without,
// 3.1.1 QoS 1), acknowledgements with packet identifiers 1..256, a 5.0 CONNECT with seven
// properties.
//
// Operations (run.sh names them all):
//   v5_two_props v311_qos1 v5_plain     next_frame + decode<publish_view>
//   puback                              next_frame + decode<puback_view> (3.1.1)
//   puback_v5 suback connack            next_frame + decode<P> (5.0; SUBACK with one code,
//                                       CONNACK with three properties)
//   v311_frame puback_frame             decode<P> on a frame found beforehand (3.1.1)
//   v311_packet puback_packet           decode_packet (3.1.1)
//   connect                             decode_packet of the CONNECT
//   v5_encode v311_encode connect_encode   encode
#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mqttwire.hpp>
#include <string_view>
#include <type_traits>
#include <vector>
using namespace mqttwire;
static volatile std::size_t sink;
static std::vector<std::byte> payload(64, std::byte{'x'});
constexpr std::string_view topic = "home/livingroom/tmp";
template <class P> static void append(std::vector<std::byte>& out, const P& p, protocol_version v) {
    auto size = encoded_size(p, v);
    if (!size) std::abort();
    auto at = out.size();
    out.resize(at + *size);
    auto n = encode(p, v, std::span<std::byte>(out).subspan(at));
    if (!n) std::abort();
}

[[gnu::noinline]] static void do_connect(std::span<const std::byte> s, const decode_options& opts,
                                         int n) {
    for (int i = 0; i < n; ++i) {
        auto r = decode_packet(s, opts);
        if (!r) std::abort();
        sink = std::get<connect_view>(r->packet).client_id.size();
    }
}
[[gnu::noinline]] static void do_encode(const publish_view& pub, const connect_view& con,
                                        bool connect, protocol_version v, std::span<std::byte> out,
                                        int n) {
    for (int i = 0; i < n; ++i) {
        asm volatile("" : : "r"(&pub), "r"(&con) : "memory");
        auto r = connect ? encode(con, protocol_version::v5, out) : encode(pub, v, out);
        if (!r) std::abort();
        sink = *r;
    }
}
[[gnu::noinline]] static void do_puback(std::span<const std::byte> s, const decode_options& opts) {
    for (std::size_t off = 0; off < s.size();) {
        auto f = next_frame(s.subspan(off), opts);
        auto r = decode<puback_view>(s.subspan(off), f, opts);
        if (!r) std::abort();
        sink = r->packet_id;
        off += f.size;
    }
}
// next_frame + decode<P> over the stream.
template <class P>
[[gnu::noinline]] static void do_take(std::span<const std::byte> s, const decode_options& opts) {
    for (std::size_t off = 0; off < s.size();) {
        auto f = next_frame(s.subspan(off), opts);
        auto r = decode<P>(s.subspan(off), f, opts);
        if (!r) std::abort();
        if constexpr (std::is_same_v<P, connack_view>)
            sink = static_cast<std::size_t>(r->reason) +
                   r->properties.integer_or(property_id::receive_maximum, 65535);
        else if constexpr (std::is_same_v<P, suback_view>)
            sink = r->packet_id + static_cast<std::size_t>(*r->reasons.begin());
        else
            sink = r->packet_id + static_cast<std::size_t>(r->reason);
        off += f.size;
    }
}
// decode<P> on frames found beforehand (`frames`, one per packet of the stream).
template <class P>
[[gnu::noinline]] static void do_frame(std::span<const std::byte> s,
                                       std::span<const frame> frames,
                                       const decode_options& opts) {
    std::size_t off = 0;
    for (const auto& f : frames) {
        auto r = decode<P>(s.subspan(off), f, opts);
        if (!r) std::abort();
        if constexpr (std::is_same_v<P, publish_view>)
            sink = r->topic.size() + r->payload.size();
        else
            sink = r->packet_id;
        off += f.size;
    }
}
// decode_packet over the stream.
[[gnu::noinline]] static void do_packet(std::span<const std::byte> s, const decode_options& opts) {
    for (std::size_t off = 0; off < s.size();) {
        auto r = decode_packet(s.subspan(off), opts);
        if (!r) std::abort();
        sink = r->packet.index();
        off += r->size;
    }
}
[[gnu::noinline]] static void do_publish(std::span<const std::byte> s, const decode_options& opts) {
    for (std::size_t off = 0; off < s.size();) {
        auto f = next_frame(s.subspan(off), opts);
        auto r = decode<publish_view>(s.subspan(off), f, opts);
        if (!r) std::abort();
        sink = r->topic.size() + r->payload.size();
        off += f.size;
    }
}
static void run(std::string_view which, int reps, std::span<const std::byte> s,
                std::span<const frame> frames, const decode_options& opts,
                std::array<std::byte, 512>& out, const publish_view& pub,
                const connect_view& con, protocol_version v, int n) {
    for (int k = 0; k < reps; ++k) {
        if (which == "connect")
            do_connect(s, opts, n);
        else if (which == "v5_encode" || which == "v311_encode" || which == "connect_encode")
            do_encode(pub, con, which == "connect_encode", v, out, n);
        else if (which == "puback")
            do_puback(s, opts);
        else if (which == "puback_v5")
            do_take<puback_view>(s, opts);
        else if (which == "suback")
            do_take<suback_view>(s, opts);
        else if (which == "connack")
            do_take<connack_view>(s, opts);
        else if (which == "v311_frame")
            do_frame<publish_view>(s, frames, opts);
        else if (which == "puback_frame")
            do_frame<puback_view>(s, frames, opts);
        else if (which == "v311_packet" || which == "puback_packet")
            do_packet(s, opts);
        else
            do_publish(s, opts);
    }
}
int main(int argc, char** argv) {
    if (argc != 3) {
        std::fputs("usage: codec_ir OPERATION REPETITIONS (see run.sh)\n", stderr);
        return 2;
    }
    std::string_view which = argv[1];
    int reps = std::atoi(argv[2]);
    std::array<property, 2> props{
        {{property_id::message_expiry_interval, 3600}, user_property("source", "sensor-7")}};
    publish_view pub{};
    pub.topic = utf8_view(topic);
    pub.payload = binary_view(std::span<const std::byte>(payload));
    protocol_version v = protocol_version::v5;
    if (which == "v311_qos1" || which == "v311_encode" || which == "v311_frame" ||
        which == "v311_packet") {
        v = protocol_version::v3_1_1;
        pub.qos = qos::at_least_once;
        pub.packet_id = 4711;
    }
    if (which == "v5_two_props" || which == "v5_encode") pub.properties = properties_view(props);
    std::array<property, 7> cprops{{{property_id::session_expiry_interval, 3600},
                                    {property_id::receive_maximum, 100},
                                    {property_id::maximum_packet_size, 1u << 20},
                                    {property_id::topic_alias_maximum, 10},
                                    {property_id::request_response_information, 1},
                                    {property_id::request_problem_information, 1},
                                    user_property("site", "living-room")}};
    connect_view con{};
    con.version = protocol_version::v5;
    con.clean_start = true;
    con.keep_alive = 60;
    con.client_id = utf8_view("thermostat-livingroom-01");
    con.user_name = utf8_view("homeassistant");
    con.password = binary_view("s3cr3t-passw0rd");
    con.properties = properties_view(cprops);
    std::vector<std::byte> all;
    const int n = 256;
    if (which == "connect") {
        append(all, con, v);
    } else if (which == "puback" || which == "puback_frame" || which == "puback_packet") {
        for (int i = 0; i < n; ++i) {
            puback_view a;
            a.packet_id = std::uint16_t(i + 1);
            append(all, a, protocol_version::v3_1_1);
        }
        v = protocol_version::v3_1_1;
    } else if (which == "puback_v5") { // reason code, no properties (remaining length 3)
        for (int i = 0; i < n; ++i) {
            puback_view a;
            a.packet_id = std::uint16_t(i + 1);
            a.reason = reason_code::no_matching_subscribers;
            append(all, a, v);
        }
    } else if (which == "suback") {
        const reason_code granted[] = {reason_code::granted_qos_1};
        for (int i = 0; i < n; ++i) {
            suback_view a;
            a.packet_id = std::uint16_t(i + 1);
            a.reasons = granted;
            append(all, a, v);
        }
    } else if (which == "connack") {
        const property limits[] = {{property_id::receive_maximum, 20},
                                   {property_id::maximum_packet_size, 1u << 16},
                                   {property_id::topic_alias_maximum, 10}};
        connack_view a;
        a.session_present = true;
        a.properties = properties_view(limits);
        for (int i = 0; i < n; ++i) append(all, a, v);
    } else
        for (int i = 0; i < n; ++i) {
            if (pub.qos != qos::at_most_once) pub.packet_id = std::uint16_t(1 + i);
            append(all, pub, v);
        }
    const std::span<const std::byte> s(all);
    const decode_options opts{.version = v, .max_packet_size = 1u << 20};
    std::vector<frame> frames;
    for (std::size_t off = 0; off < s.size(); off += frames.back().size)
        frames.push_back(next_frame(s.subspan(off), opts));
    std::array<std::byte, 512> out{};
    run(which, reps, s, frames, opts, out, pub, con, v, n);
}
