// Consumer test: a program that only knows the installed package. Exit code 0 means the
// umbrella header compiled and PINGREQ decoded to a 2-byte packet.

#include <mqttwire.hpp>

#include <array>
#include <cstddef>
#include <span>

int main() {
    // PINGREQ: type 12, flags 0 -> 0xC0; remaining length 0.
    const std::array<std::byte, 2> bytes{std::byte{0xC0}, std::byte{0x00}};
    const std::span<const std::byte> in(bytes);
    const auto decoded = mqttwire::decode_packet(in, mqttwire::decode_options{});
    return decoded.has_value() && decoded.value().size == 2 ? 0 : 1;
}
