// Fuzz target: one MQTT 5.0 property block (section 2.2.2), decoded for a context chosen by the
// input, through the detail API the packet decoders use.
//
// Input: byte 0 selects the context (the 14 of property_context: Will Properties and every
// packet type that has properties) and the UTF-8 rules; the rest is Property Length + block.
//
// Checks: no crash or out-of-bounds read; when the block decodes, iterating the view yields
// size() properties, each allowed in the context, contains() agrees with the iteration, no
// non-repeatable identifier repeats, and writing the properties back (value-backed, the encoder's
// path with its own validation) reproduces the input bytes exactly (the decoder accepts only
// minimal Variable Byte Integers, so the block is canonical). The wire-backed view must also
// re-encode unchanged (the raw-copy path).
// Packet-level rules (an AUTH names its method, a server's DISCONNECT has no Session Expiry)
// belong to decode_packet and are fuzzed by the decode_packet and round_trip targets.

#include <array>
#include <vector>

#include "fuzz_support.hpp"

namespace {
using namespace mqttwire;

constexpr std::array<property_context, 14> contexts{
    property_context::will,        property_context::connect,     property_context::connack,
    property_context::publish,     property_context::puback,      property_context::pubrec,
    property_context::pubrel,      property_context::pubcomp,     property_context::subscribe,
    property_context::suback,      property_context::unsubscribe, property_context::unsuback,
    property_context::disconnect,  property_context::auth};

template <class Props>
std::vector<std::byte> write_block(const Props& props, property_context ctx, errc& status) {
    detail::counting_sink cs;
    detail::writer<detail::counting_sink> cw(cs);
    status = detail::write_properties(cw, props, ctx, {});
    if (status != errc::success) return {};
    std::vector<std::byte> out(cs.count);
    detail::span_sink ss{out};
    detail::writer<detail::span_sink> w(ss);
    status = detail::write_properties(w, props, ctx, {});
    MQTTWIRE_FUZZ_CHECK(ss.count == out.size());
    return out;
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::input in(data, size);
    const auto sel = in.byte();
    const auto ctx = contexts[(sel & 0x0Fu) % contexts.size()];
    decode_options opts;
    opts.utf8.reject_control_characters = (sel & 0x40u) != 0;
    opts.utf8.reject_noncharacters = (sel & 0x80u) != 0;
    const auto bytes = in.rest();
    detail::reader r(bytes);
    properties_view view;
    const auto e = detail::decode_properties(r, ctx, opts, view);
    if (e != errc::success) {
        MQTTWIRE_FUZZ_CHECK(e == errc::malformed_packet || e == errc::protocol_error ||
                            e == errc::topic_alias_invalid || e == errc::incomplete);
        return 0;
    }
    const auto used = r.position();
    MQTTWIRE_FUZZ_CHECK(used <= bytes.size());

    std::vector<property> values;
    std::uint64_t seen = 0;
    for (const auto& p : view) {
        const auto* info = find_property_info(static_cast<std::uint32_t>(p.id));
        MQTTWIRE_FUZZ_CHECK(info != nullptr);
        MQTTWIRE_FUZZ_CHECK(is_allowed_in(p.id, ctx));
        const std::uint64_t bit = std::uint64_t{1} << static_cast<unsigned>(p.id);
        if ((seen & bit) != 0)
            MQTTWIRE_FUZZ_CHECK((info->repeatable & detail::ctx_bit(ctx)) != 0);
        seen |= bit;
        MQTTWIRE_FUZZ_CHECK(view.contains(p.id));
        MQTTWIRE_FUZZ_CHECK(view.find(p.id).has_value());
        values.push_back(p);
    }
    MQTTWIRE_FUZZ_CHECK(values.size() == view.size());
    for (unsigned id = 0; id < 64; ++id) {
        const bool present = (seen >> id & 1u) != 0;
        if (id < 0x2B && find_property_info(id) != nullptr)
            MQTTWIRE_FUZZ_CHECK(view.contains(static_cast<property_id>(id)) == present);
    }

    const auto original = bytes.first(used);
    errc status = errc::success;
    const properties_view by_value{std::span<const property>(values)};
    MQTTWIRE_FUZZ_CHECK(by_value == view);
    const auto rewritten = write_block(by_value, ctx, status);
    MQTTWIRE_FUZZ_CHECK(status == errc::success);
    MQTTWIRE_FUZZ_CHECK(std::equal(rewritten.begin(), rewritten.end(), original.begin(),
                                   original.end()));
    const auto copied = write_block(view, ctx, status);
    MQTTWIRE_FUZZ_CHECK(status == errc::success);
    MQTTWIRE_FUZZ_CHECK(copied == rewritten);
    return 0;
}
