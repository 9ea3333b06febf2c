// An accepted WebSocket upgrade request is a set of views into the caller's bytes (DESIGN.md
// rule 1): target, host, origin and key point into the buffer given to `parse`. Parsing a
// temporary would leave them dangling at the end of the full-expression, so the overload of
// `upgrade_request_parser::parse` (and of `upgrade_response_parser::parse`) that would bind
// one is deleted: the calls below must not compile.
//
// g++:     error: use of deleted function '... upgrade_request_parser::parse(Range&&) ...'
// clang++: error: call to deleted member function 'parse'
// expect-error: use of deleted function.*parse|call to deleted member function '?parse
//
// With -DMQTTWIRE_COMPILE_FAIL_CONTROL the same calls read named (lvalue) buffers, which is
// fine, proving nothing else in this file is broken.

#include <mqttwire.hpp>
#include <string>
#include <vector>

int main() {
    mqttwire::ws::upgrade_request_parser server;
    mqttwire::ws::upgrade_response_parser client({.host = "h"}, {});
#ifdef MQTTWIRE_COMPILE_FAIL_CONTROL
    const std::string text = "GET / HTTP/1.1\r\n\r\n";
    const std::vector<std::byte> bytes(4, std::byte{'\r'});
    const auto a = server.parse(text);
    const auto b = client.parse(bytes);
#else
    const auto a = server.parse(std::string("GET / HTTP/1.1\r\n\r\n"));
    const auto b = client.parse(std::vector<std::byte>(4, std::byte{'\r'}));
#endif
    return a == b ? 0 : 1;
}
