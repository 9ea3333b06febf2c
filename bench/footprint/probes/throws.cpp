// A program that must fail ci/footprint.sh's checks (run by `ci/footprint.sh --self-test`):
// std::string_view::substr checks its position and reaches std::__throw_out_of_range_fmt, the
// path the checks exist to catch. The script must name footprint_self_test_substr as the
// function that references it.
#include <cstddef>
#include <string_view>

#include "../footprint.h"

[[gnu::noinline]] std::size_t footprint_self_test_substr(std::string_view text, std::size_t at) {
    return text.substr(at, 4).size();
}

int main() {
    footprint_fill();
    const std::string_view text(reinterpret_cast<const char*>(footprint_input), 16);
    footprint_use(footprint_self_test_substr(text, footprint_byte(0)));
    return 0;
}
