// A decoded packet is a set of views into the caller's bytes (DESIGN.md rule 1). Decoding a
// temporary buffer would leave those views dangling at the end of the full-expression, so the
// overload of decode_packet that would bind one is deleted: both calls below must not compile.
//
// g++:     error: use of deleted function '... decode_packet(Range&&, ...)'
// clang++: error: call to deleted function 'decode_packet'
// expect-error: use of deleted function.*decode_packet|call to deleted function '?decode_packet
//
// With -DMQTTWIRE_COMPILE_FAIL_CONTROL the same decodes read named (lvalue) buffers, which is
// fine, proving nothing else in this file is broken.

#include <array>
#include <cstddef>
#include <mqttwire.hpp>
#include <vector>

int main() {
    const mqttwire::decode_options opts{.version = mqttwire::protocol_version::v3_1_1};
#ifdef MQTTWIRE_COMPILE_FAIL_CONTROL
    const std::vector<std::byte> vector_buffer{std::byte{0xC0}, std::byte{0x00}};
    const std::array<std::byte, 2> array_buffer{std::byte{0xC0}, std::byte{0x00}};
    const auto from_vector = mqttwire::decode_packet(vector_buffer, opts);
    const auto from_array = mqttwire::decode_packet(array_buffer, opts);
#else
    const auto from_vector =
        mqttwire::decode_packet(std::vector<std::byte>{std::byte{0xC0}, std::byte{0x00}}, opts);
    const auto from_array =
        mqttwire::decode_packet(std::array<std::byte, 2>{std::byte{0xC0}, std::byte{0x00}}, opts);
#endif
    return from_vector.has_value() && from_array.has_value() ? 0 : 1;
}
