// Fuzz target: UTF-8 validation, differential against libmosquitto's mosquitto_validate_utf8.
//
// mosquitto's rules (lib/utf8_mosq.c, libmosquitto 2.0): U+0000 refused; lead bytes C0, C1 and
// F5..FF and stray continuation bytes refused; truncated sequences, surrogates U+D800..U+DFFF,
// overlong 3- and 4-byte forms and code points above U+10FFFF refused; and on top of the MUST
// rules of MQTT-1.5.3-1/-2 (MQTT5-1.5.4-1/-2) it refuses the SHOULD NOT characters of 1.5.3 /
// 1.5.4: the control characters U+0001..U+001F and U+007F..U+009F and the non-characters
// U+FDD0..U+FDEF and U+xFFFE / U+xFFFF. That is exactly validate_utf8 with
// utf8_rules{reject_control_characters = true, reject_noncharacters = true}, so the verdicts must
// agree on every input. Our default rules accept a superset: strict success implies default
// success, and a default-only success must contain a character one of the two flags refuses.
//
// Remaining differences, by construction of the harness rather than of the validators:
//   * inputs longer than 65536 bytes are MOSQ_ERR_INVAL for mosquitto (no MQTT string is
//     longer than 65535 bytes): such inputs are only checked on our side;
//   * mosquitto's "not enough data" test (`i == len - codelen + 1`) only catches a sequence
//     missing exactly one byte; with two or three missing it reads up to 2 bytes past `len`.
//     The harness therefore hands it a copy followed by three NUL bytes (NUL is never a
//     continuation byte, so the over-read ends in MOSQ_ERR_MALFORMED_UTF8, the right verdict)
//     instead of libFuzzer's exactly-sized buffer.
//
// The three overloads (std::string_view, std::span<const std::byte>, utf8_view) must agree.

#include <string>
#include <string_view>

#include "fuzz_support.hpp"

#if defined(MQTTWIRE_HAVE_LIBMOSQUITTO)
#include <mosquitto.h>
#endif

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace mqttwire;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
    const utf8_rules strict{true, true};

    const bool lax = validate_utf8(text) == errc::success;
    const bool ours = validate_utf8(text, strict) == errc::success;
    MQTTWIRE_FUZZ_CHECK((validate_utf8(bytes) == errc::success) == lax);
    MQTTWIRE_FUZZ_CHECK((validate_utf8(bytes, strict) == errc::success) == ours);
    MQTTWIRE_FUZZ_CHECK((validate_utf8(utf8_view(bytes), strict) == errc::success) == ours);
    MQTTWIRE_FUZZ_CHECK(!ours || lax);
    if (lax && !ours) {
        // Only the opt-in rules can make the difference.
        MQTTWIRE_FUZZ_CHECK(validate_utf8(text, utf8_rules{true, false}) != errc::success ||
                            validate_utf8(text, utf8_rules{false, true}) != errc::success);
    }

#if defined(MQTTWIRE_HAVE_LIBMOSQUITTO)
    if (size <= 65536) {
        std::string padded(text);
        padded.append(3, '\0');
        const int rc = mosquitto_validate_utf8(padded.data(), static_cast<int>(size));
        MQTTWIRE_FUZZ_CHECK(rc == MOSQ_ERR_SUCCESS || rc == MOSQ_ERR_MALFORMED_UTF8);
        const bool theirs = rc == MOSQ_ERR_SUCCESS;
        if (ours != theirs) {
            std::fprintf(stderr, "validate_utf8 (strict) says %d, mosquitto_validate_utf8 says %d\n",
                         ours, theirs);
            std::abort();
        }
    }
#endif
    return 0;
}
