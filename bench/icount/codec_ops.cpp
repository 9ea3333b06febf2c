// One codec operation N times in a loop, for instruction counts (callgrind) and whole-process
// timings (farm-bench) that compare two versions of the headers on the same inputs: the 3.1.1
// QoS 1 PUBLISH of codec_bench (19-byte topic, 64-byte payload) and a 3.1.1 PUBACK. Not built by
// CMake; bench/README.md, "Codec", has the commands.
//
//   g++ -std=c++20 -O3 -DNDEBUG -fno-exceptions -fno-rtti -Iinclude bench/icount/codec_ops.cpp
//   ./a.out MODE N     MODE 0: encode the PUBLISH; 1: decode<puback_view> on a frame;
//                      2: decode<publish_view> on a frame; 3: next_frame + decode<publish_view>;
//                      4: decode_packet of the PUBLISH; 5: decode_packet of the PUBACK

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string_view>
#include <vector>
#include <mqttwire.hpp>

using namespace mqttwire;

// Keeps `v` live and its memory read: the compiler can neither fold the loop nor hoist the work.
template <class T> inline void keep(const T& v) { asm volatile("" : : "g"(&v) : "memory"); }
inline void clobber() { asm volatile("" : : : "memory"); }

int main(int argc, char** argv) {
    const int mode = argc > 1 ? argv[1][0] - '0' : 0;
    const long n = argc > 2 ? std::atol(argv[2]) : 1000;
    std::vector<std::byte> payload(64);
    for (std::size_t i = 0; i < payload.size(); ++i)
        payload[i] = static_cast<std::byte>('a' + i % 26);
    publish_view p;
    p.topic = utf8_view(std::string_view("home/livingroom/tmp"));
    p.payload = binary_view(std::span<const std::byte>(payload));
    p.qos = qos::at_least_once;
    p.packet_id = 4711;
    std::array<std::byte, 128> out{};
    const auto v = protocol_version::v3_1_1;
    const decode_options opts{.version = v, .max_packet_size = 1u << 20};
    unsigned long sum = 0;
    std::array<std::byte, 128> in{};
    result<std::size_t> len = errc::unspecified_error;
    if (mode == 1 || mode == 5) len = encode(puback_view{4711}, v, std::span<std::byte>(in));
    else len = encode(p, v, std::span<std::byte>(in));
    if (!len) return 2;
    const std::span<const std::byte> bytes(in.data(), *len);
    const frame f0 = next_frame(bytes, opts);
    switch (mode) {
    case 0: // encode the 3.1.1 QoS 1 PUBLISH
        for (long i = 0; i < n; ++i) {
            keep(p);
            const auto r = encode(p, v, std::span<std::byte>(out));
            if (!r) return 1;
            keep(out);
            clobber();
            sum += *r;
        }
        break;
    case 1: // decode<puback_view> on a frame
        for (long i = 0; i < n; ++i) {
            keep(bytes);
            keep(f0);
            clobber();
            const auto r = decode<puback_view>(bytes, f0, opts);
            if (!r) return 3;
            sum += r->packet_id;
        }
        break;
    case 2: // decode<publish_view> on a frame
        for (long i = 0; i < n; ++i) {
            keep(bytes);
            keep(f0);
            clobber();
            const auto r = decode<publish_view>(bytes, f0, opts);
            if (!r) return 3;
            sum += r->topic.size() + r->payload.size();
        }
        break;
    case 3: // next_frame + decode<publish_view>
        for (long i = 0; i < n; ++i) {
            keep(bytes);
            clobber();
            const auto f = next_frame(bytes, opts);
            const auto r = decode<publish_view>(bytes, f, opts);
            if (!r) return 3;
            sum += r->topic.size() + r->payload.size();
        }
        break;
    case 5: // decode_packet PUBACK
    case 4: // decode_packet PUBLISH
        for (long i = 0; i < n; ++i) {
            keep(bytes);
            clobber();
            const auto r = decode_packet(bytes, opts);
            if (!r) return 3;
            sum += r->size;
        }
        break;
    }
    keep(sum);
    return 0;
}
