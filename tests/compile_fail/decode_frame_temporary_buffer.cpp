// As decode_temporary_buffer.cpp, for the entry points that take a frame: decode_frame and
// decode<P> return views into the bytes, so the overloads that would bind a temporary buffer are
// deleted and neither call below compiles.
//
// g++:     error: use of deleted function '... decode_frame(Range&&, ...)'
// clang++: error: call to deleted function 'decode_frame'
// expect-error: use of deleted function.*decode_(frame|<)|call to deleted function '?decode(_frame)?'?
//
// With -DMQTTWIRE_COMPILE_FAIL_CONTROL the same decodes read a named (lvalue) buffer.

#include <cstddef>
#include <mqttwire.hpp>
#include <vector>

int main() {
    const mqttwire::decode_options opts{.version = mqttwire::protocol_version::v3_1_1};
    const std::vector<std::byte> named{std::byte{0xC0}, std::byte{0x00}};
    const auto f = mqttwire::next_frame(named, opts);
#ifdef MQTTWIRE_COMPILE_FAIL_CONTROL
    const auto any = mqttwire::decode_frame(named, f, opts);
    const auto typed = mqttwire::decode<mqttwire::pingreq_view>(named, f, opts);
#else
    const auto any =
        mqttwire::decode_frame(std::vector<std::byte>{std::byte{0xC0}, std::byte{0x00}}, f, opts);
    const auto typed = mqttwire::decode<mqttwire::pingreq_view>(
        std::vector<std::byte>{std::byte{0xC0}, std::byte{0x00}}, f, opts);
#endif
    return any.has_value() && typed.has_value() ? 0 : 1;
}
