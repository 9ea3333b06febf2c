// Two-translation-unit link test, part A (part B is tu_b.cpp).
//
// Both files include the umbrella header and use the same entry points, so every inline
// function, variable and template they instantiate exists in two object files. A function or
// variable defined in a header without `inline` (or `constexpr`/template) then fails the link
// with a multiple-definition error; an ODR problem that links still shows up as a wrong answer.

#include <mqttwire.hpp>

#include <array>
#include <cstddef>
#include <span>
#include <string_view>

int mqttwire_tu_b_check() noexcept; // defined in tu_b.cpp

namespace {

int tu_a_check() noexcept {
    using namespace std::string_view_literals;
    const mqttwire::decode_options options{};

    // PINGREQ: type 12, flags 0 -> 0xC0; remaining length 0.
    const std::array<std::byte, 2> pingreq{std::byte{0xC0}, std::byte{0x00}};
    const std::span<const std::byte> in(pingreq);
    const auto decoded = mqttwire::decode_packet(in, options);
    if (!decoded.has_value() || decoded.value().size != pingreq.size()) {
        return 1;
    }

    const auto size = mqttwire::encoded_size(decoded.value().packet, options.version);
    if (!size.has_value() || size.value() != pingreq.size()) {
        return 2;
    }
    std::array<std::byte, 2> out{};
    const auto written =
        mqttwire::encode(decoded.value().packet, options.version, std::span<std::byte>(out));
    if (!written.has_value() || written.value() != pingreq.size() || out != pingreq) {
        return 3;
    }

    if (!mqttwire::topic_matches("salon/#"sv, "salon/luz/stat"sv)) {
        return 4;
    }
    if (mqttwire::validate_topic_filter("salon/+/cmd"sv) != mqttwire::errc::success) {
        return 5;
    }
    return 0;
}

} // namespace

int main() {
    if (const int a = tu_a_check(); a != 0) {
        return a;
    }
    if (const int b = mqttwire_tu_b_check(); b != 0) {
        return 10 + b;
    }
    return 0;
}
