// Two-translation-unit link test, part B (see tu_a.cpp for the reason).

#include <mqttwire.hpp>

#include <array>
#include <cstddef>
#include <span>
#include <string_view>

int mqttwire_tu_b_check() noexcept;

int mqttwire_tu_b_check() noexcept {
    using namespace std::string_view_literals;
    const mqttwire::decode_options options{};

    // PINGRESP: type 13, flags 0 -> 0xD0; remaining length 0.
    const std::array<std::byte, 2> pingresp{std::byte{0xD0}, std::byte{0x00}};
    const std::span<const std::byte> in(pingresp);
    const auto decoded = mqttwire::decode_packet(in, options);
    if (!decoded.has_value() || decoded.value().size != pingresp.size()) {
        return 1;
    }

    const auto size = mqttwire::encoded_size(decoded.value().packet, options.version);
    if (!size.has_value() || size.value() != pingresp.size()) {
        return 2;
    }
    std::array<std::byte, 2> out{};
    const auto written =
        mqttwire::encode(decoded.value().packet, options.version, std::span<std::byte>(out));
    if (!written.has_value() || written.value() != pingresp.size() || out != pingresp) {
        return 3;
    }

    if (mqttwire::topic_matches("+/luz/cmd"sv, "$SYS/luz/cmd"sv)) { // '+' never matches a '$' level
        return 4;
    }
    if (mqttwire::validate_topic_name("salon/luz/cmd"sv) != mqttwire::errc::success) {
        return 5;
    }
    return 0;
}
