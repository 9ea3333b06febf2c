// Instruction counts of the codec's hot operations, for callgrind (see run.sh): argv[1] names the
// operation, argv[2] how many times it runs over a stream of 256 packets (CONNECT: 256 decodes
// or encodes of one packet). One noinline function per operation, so what the compiler inlines
// into one does not depend on the others. The inputs are those of bench/codec_bench.cpp.
#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mqttwire.hpp>
#include <string_view>
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
                const decode_options& opts, std::array<std::byte, 512>& out,
                const publish_view& pub, const connect_view& con, protocol_version v, int n) {
    for (int k = 0; k < reps; ++k) {
        if (which == "connect")
            do_connect(s, opts, n);
        else if (which == "v5_encode" || which == "v311_encode" || which == "connect_encode")
            do_encode(pub, con, which == "connect_encode", v, out, n);
        else if (which == "puback")
            do_puback(s, opts);
        else
            do_publish(s, opts);
    }
}
int main(int argc, char** argv) {
    std::string_view which = argv[1];
    int reps = std::atoi(argv[2]);
    std::array<property, 2> props{
        {{property_id::message_expiry_interval, 3600}, user_property("source", "sensor-7")}};
    publish_view pub{};
    pub.topic = utf8_view(topic);
    pub.payload = binary_view(std::span<const std::byte>(payload));
    protocol_version v = protocol_version::v5;
    if (which == "v311_qos1" || which == "v311_encode") {
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
    } else if (which == "puback") {
        for (int i = 0; i < n; ++i) {
            puback_view a;
            a.packet_id = std::uint16_t(i + 1);
            append(all, a, protocol_version::v3_1_1);
        }
        v = protocol_version::v3_1_1;
    } else
        for (int i = 0; i < n; ++i) {
            if (pub.qos != qos::at_most_once) pub.packet_id = std::uint16_t(1 + i);
            append(all, pub, v);
        }
    const std::span<const std::byte> s(all);
    const decode_options opts{.version = v, .max_packet_size = 1u << 20};
    std::array<std::byte, 512> out{};
    run(which, reps, s, opts, out, pub, con, v, n);
}
