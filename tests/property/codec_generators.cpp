// The generators declared in codec_generators.hpp, compiled once for the property tests.

#include "codec_generators.hpp"

namespace mqttwire::gen {

// ---------------------------------------------------------------------------------------------
// Scalar and string generators
// ---------------------------------------------------------------------------------------------

constexpr std::uint32_t max_varint = 268'435'455;

/// The edges of each integer width (1-4 byte varints, 16 bits) that are at most `max`.
static std::vector<std::uint32_t> edges_up_to(std::uint32_t max) {
    std::vector<std::uint32_t> out;
    for (const std::uint32_t e : {0u, 1u, 127u, 128u, 255u, 256u, 16383u, 16384u, 65535u,
                                  2097151u, 2097152u, max_varint})
        if (e <= max) out.push_back(e);
    out.push_back(max);
    return out;
}

/// Mostly small values, with the edges of each width.
rc::Gen<std::uint32_t> gen_uint(std::uint32_t max) {
    return rc::gen::weightedOneOf<std::uint32_t>(
        {{4, rc::gen::inRange<std::uint32_t>(0, std::min<std::uint32_t>(max, 200) + 1)},
         {2, rc::gen::map(rc::gen::arbitrary<std::uint32_t>(),
                          [max](std::uint32_t x) { return max == UINT32_MAX ? x : x % (max + 1); })},
         {1, rc::gen::elementOf(edges_up_to(max))}});
}
rc::Gen<std::uint32_t> gen_uint_in(std::uint32_t lo, std::uint32_t max) {
    return rc::gen::map(gen_uint(max - lo), [lo](std::uint32_t x) { return x + lo; });
}

/// One UTF-8 encoded code point that is valid under the default (MUST-level) rules: ASCII
/// without U+0000, 2-, 3- and 4-byte sequences, the edges of each length, U+FEFF.
rc::Gen<std::string> gen_code_point(std::string ascii) {
    return rc::gen::weightedOneOf<std::string>(
        {{8, rc::gen::map(rc::gen::elementOf(ascii), [](char c) { return std::string(1, c); })},
         {1, rc::gen::elementOf(std::vector<std::string>{
                 "\xc2\x80", "\xc3\xa9", "\xdf\xbf", "\xe0\xa0\x80", "\xe2\x82\xac",
                 "\xed\x9f\xbf", "\xee\x80\x80", "\xef\xbb\xbf", "\xef\xbf\xbd", "\xef\xbf\xbf",
                 "\xf0\x90\x80\x80", "\xf0\x9f\x98\x80", "\xf4\x8f\xbf\xbf", "\x01", "\x7f"})}});
}

/// Valid UTF-8 text of up to ~100 code points.
rc::Gen<std::string> gen_short_utf8(std::string ascii) {
    return rc::gen::map(rc::gen::container<std::vector<std::string>>(gen_code_point(ascii)),
                        [](const std::vector<std::string>& v) {
                            std::string s;
                            for (const auto& c : v) s += c;
                            return s;
                        });
}

/// Valid UTF-8 text; occasionally empty, occasionally exactly 65535 bytes.
rc::Gen<std::string> gen_utf8(std::string ascii) {
    return rc::gen::weightedOneOf<std::string>(
        {{40, gen_short_utf8(ascii)},
         {3, rc::gen::just(std::string())},
         {1, rc::gen::map(rc::gen::inRange(0, 3), [](int k) {
              // The maximum length of a UTF-8 Encoded String: 65535 bytes (1.5.4), ASCII or
              // made of 3-byte code points (21845 * 3 = 65535).
              if (k == 0) return std::string(65535, 'x');
              if (k == 1) {
                  std::string s;
                  for (int i = 0; i < 21845; ++i) s += "\xe2\x82\xac";
                  return s;
              }
              return std::string(65534, 'y') + "/";
          })}});
}

/// Arbitrary bytes; occasionally 65535 bytes (Binary Data maximum).
rc::Gen<std::string> gen_binary() {
    return rc::gen::weightedOneOf<std::string>(
        {{20, rc::gen::container<std::string>(rc::gen::arbitrary<char>())},
         {3, rc::gen::just(std::string())},
         {1, rc::gen::map(rc::gen::arbitrary<char>(),
                          [](char c) { return std::string(65535, c); })}});
}

/// A PUBLISH payload: usually small, sometimes large (up to 300 KiB; 3-byte Remaining Length).
rc::Gen<std::string> gen_payload() {
    return rc::gen::weightedOneOf<std::string>(
        {{25, rc::gen::container<std::string>(rc::gen::arbitrary<char>())},
         {3, rc::gen::just(std::string())},
         {1, rc::gen::map(rc::gen::pair(rc::gen::inRange<std::size_t>(0, 300 * 1024),
                                        rc::gen::arbitrary<char>()),
                          [](const std::pair<std::size_t, char>& p) {
                              std::string s(p.first, p.second);
                              for (std::size_t i = 0; i < s.size(); i += 977)
                                  s[i] = static_cast<char>(i);
                              return s;
                          })}});
}

/// A valid topic name: levels from a small alphabet (empty levels, '$', multi-byte UTF-8).
rc::Gen<std::string> gen_topic_name() {
    return rc::gen::weightedOneOf<std::string>(
        {{10, rc::gen::suchThat(gen_short_utf8("ab/$ xZ09"), [](const std::string& s) {
              return validate_topic_name(s) == errc::success;
          })},
         {2, rc::gen::elementOf(std::vector<std::string>{
                 "a", "/", "//", "a/b/c", "$SYS/broker/uptime", "salon/luz/cmd",
                 "sport/tennis/player1", "\xc3\xa9t\xc3\xa9/\xf0\x9f\x98\x80"})},
         {1, rc::gen::just(std::string(65535, 't'))}});
}

/// A topic filter: usually valid, shared or not; SUBSCRIBE only checks UTF-8 (filter syntax is
/// answered in SUBACK), so any UTF-8 text is also a codec-valid filter.
rc::Gen<std::string> gen_filter() {
    return rc::gen::weightedOneOf<std::string>(
        {{6, rc::gen::suchThat(gen_short_utf8("ab/+#$"), [](const std::string& s) {
              return validate_topic_filter(s) == errc::success;
          })},
         {2, rc::gen::elementOf(std::vector<std::string>{
                 "#", "+", "+/+", "/#", "a/+/c", "$SYS/#", "$share/g/a/#", "$share/grp/+",
                 "sport/tennis/+", "salon/+/stat"})},
         {2, gen_short_utf8()},
         {1, rc::gen::just(std::string())}});
}

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

/// A valid value for property `id` (value rules of section 3 included).
rc::Gen<prop_spec> gen_property_value(property_id id) {
    const auto make_int = [id](std::uint32_t v) { return prop_spec{id, v, {}, {}}; };
    switch (id) {
    case property_id::payload_format_indicator:
    case property_id::request_problem_information:
    case property_id::request_response_information:
    case property_id::maximum_qos:
    case property_id::retain_available:
    case property_id::wildcard_subscription_available:
    case property_id::subscription_identifier_available:
    case property_id::shared_subscription_available:
        return rc::gen::map(rc::gen::inRange<std::uint32_t>(0, 2), make_int);
    case property_id::receive_maximum:
    case property_id::topic_alias:
    case property_id::topic_alias_maximum:
    case property_id::server_keep_alive:
        return rc::gen::map(id == property_id::topic_alias_maximum ||
                                    id == property_id::server_keep_alive
                                ? gen_uint(65535)
                                : gen_uint_in(1, 65535),
                            make_int);
    case property_id::maximum_packet_size:
        return rc::gen::map(gen_uint_in(1, UINT32_MAX - 1), make_int);
    case property_id::subscription_identifier:
        return rc::gen::map(gen_uint_in(1, max_varint), make_int);
    case property_id::message_expiry_interval:
    case property_id::session_expiry_interval:
    case property_id::will_delay_interval:
        return rc::gen::map(gen_uint(UINT32_MAX), make_int);
    case property_id::response_topic:
        return rc::gen::map(gen_topic_name(), [id](std::string s) {
            return prop_spec{id, 0, std::move(s), {}};
        });
    case property_id::correlation_data:
    case property_id::authentication_data:
        return rc::gen::map(gen_binary(), [id](std::string s) {
            return prop_spec{id, 0, std::move(s), {}};
        });
    case property_id::user_property:
        return rc::gen::map(rc::gen::pair(gen_utf8(), gen_utf8()),
                            [id](std::pair<std::string, std::string> p) {
                                return prop_spec{id, 0, std::move(p.first), std::move(p.second)};
                            });
    default: // the other UTF-8 string properties
        return rc::gen::map(gen_utf8(), [id](std::string s) {
            return prop_spec{id, 0, std::move(s), {}};
        });
    }
}

/// The property identifiers allowed in `ctx` (table 2-4).
static std::vector<property_id> allowed_ids(property_context ctx) {
    std::vector<property_id> out;
    for (const auto& info : detail::property_table)
        if ((info.allowed & detail::ctx_bit(ctx)) != 0) out.push_back(info.id);
    return out;
}

/// A valid property block for `ctx`: a random subset of the allowed properties in random order,
/// repeatable ones (User Property; Subscription Identifier in PUBLISH) up to three times.
/// Authentication Data only with Authentication Method.
rc::Gen<std::vector<prop_spec>> gen_properties(property_context ctx) {
    return rc::gen::exec([ctx] {
        std::vector<prop_spec> out;
        const auto ids = allowed_ids(ctx);
        // Usually few properties; sometimes all of them.
        const bool all = *rc::gen::weightedOneOf<bool>(
            {{6, rc::gen::just(false)}, {1, rc::gen::just(true)}});
        for (const auto id : ids) {
            const auto& info = property_info_of(id);
            const bool repeatable = (info.repeatable & detail::ctx_bit(ctx)) != 0;
            int n = all ? 1 : *rc::gen::weightedOneOf<int>({{3, rc::gen::just(0)},
                                                           {1, rc::gen::just(1)}});
            if (repeatable && n > 0) n = *rc::gen::inRange(1, 4);
            for (int i = 0; i < n; ++i) out.push_back(*gen_property_value(id));
        }
        const auto has = [&](property_id id) {
            return std::any_of(out.begin(), out.end(), [id](const prop_spec& p) { return p.id == id; });
        };
        if (has(property_id::authentication_data) && !has(property_id::authentication_method))
            out.push_back(*gen_property_value(property_id::authentication_method));
        // Wire order is the caller's order: shuffle (shrinks towards the table order).
        const auto order = *rc::gen::container<std::vector<std::size_t>>(
            out.size(), rc::gen::arbitrary<std::size_t>());
        for (std::size_t i = out.size(); i > 1; --i)
            std::swap(out[i - 1], out[order[i - 1] % i]);
        return out;
    });
}

/// The reason codes allowed in `ctx` (table 2-6).
static std::vector<std::uint8_t> allowed_reasons(reason_context ctx) {
    std::vector<std::uint8_t> out;
    for (unsigned b = 0; b < 256; ++b)
        if (is_allowed(static_cast<reason_code>(b), ctx)) out.push_back(static_cast<std::uint8_t>(b));
    return out;
}

rc::Gen<protocol_version> gen_version() {
    return rc::gen::element(protocol_version::v3_1, protocol_version::v3_1_1, protocol_version::v5);
}

// ---------------------------------------------------------------------------------------------
// Packets
// ---------------------------------------------------------------------------------------------

/// A valid packet of type `t` at level `v` (AUTH needs 5.0: callers pass v5).
rc::Gen<owned_packet> gen_packet(packet_type t, protocol_version v) {
    return rc::gen::exec([t, v] {
        packet_spec s;
        s.type = t;
        s.version = v;
        const bool v5 = v == protocol_version::v5;
        const auto props = [&](property_context ctx) {
            return v5 ? *gen_properties(ctx) : std::vector<prop_spec>{};
        };
        const auto reason = [&](reason_context ctx) -> std::uint8_t {
            if (!v5) return 0;
            return *rc::gen::weightedOneOf<std::uint8_t>(
                {{1, rc::gen::just<std::uint8_t>(0)},
                 {3, rc::gen::elementOf(allowed_reasons(ctx))}});
        };
        const auto packet_id = [] { return static_cast<std::uint16_t>(*gen_uint_in(1, 65535)); };
        switch (t) {
        case packet_type::connect: {
            s.flag = *rc::gen::arbitrary<bool>();
            s.keep_alive = static_cast<std::uint16_t>(*gen_uint(65535));
            s.props = props(property_context::connect);
            s.text = *gen_utf8();
            s.has_will = *rc::gen::arbitrary<bool>();
            if (s.has_will) {
                s.will_qos = static_cast<std::uint8_t>(*rc::gen::inRange(0, 3));
                s.will_retain = *rc::gen::arbitrary<bool>();
                s.will_props = props(property_context::will);
                s.will_topic = *gen_topic_name();
                s.will_payload = *gen_binary();
            }
            if (*rc::gen::arbitrary<bool>()) s.user_name = *gen_utf8();
            // MQTT-3.1.2-22: before 5.0 a password needs a user name.
            if ((v5 || s.user_name) && *rc::gen::arbitrary<bool>()) s.password = *gen_binary();
            break;
        }
        case packet_type::connack: {
            if (v5) {
                s.reason = reason(reason_context::connack);
            } else {
                s.reason = static_cast<std::uint8_t>(
                    *rc::gen::weightedOneOf<int>({{2, rc::gen::just(0)}, {1, rc::gen::inRange(0, 6)}}));
            }
            s.flag = s.reason == 0 && *rc::gen::arbitrary<bool>(); // MQTT-3.2.2-4
            s.props = props(property_context::connack);
            break;
        }
        case packet_type::publish: {
            s.qos = static_cast<std::uint8_t>(*rc::gen::inRange(0, 3));
            s.flag = s.qos != 0 && *rc::gen::arbitrary<bool>(); // MQTT-3.3.1-2
            s.retain = *rc::gen::arbitrary<bool>();
            if (s.qos != 0) s.packet_id = packet_id();
            s.props = props(property_context::publish);
            const bool has_alias = std::any_of(s.props.begin(), s.props.end(), [](const prop_spec& p) {
                return p.id == property_id::topic_alias;
            });
            // 5.0 section 3.3.2.1: an empty Topic Name with a Topic Alias.
            s.text = has_alias && *rc::gen::arbitrary<bool>() ? std::string() : *gen_topic_name();
            s.payload = *gen_payload();
            break;
        }
        case packet_type::puback:
        case packet_type::pubrec:
        case packet_type::pubrel:
        case packet_type::pubcomp: {
            s.packet_id = packet_id();
            const auto rctx = t == packet_type::puback   ? reason_context::puback
                              : t == packet_type::pubrec ? reason_context::pubrec
                              : t == packet_type::pubrel ? reason_context::pubrel
                                                         : reason_context::pubcomp;
            s.reason = reason(rctx);
            s.props = props(static_cast<property_context>(static_cast<std::uint8_t>(t)));
            break;
        }
        case packet_type::subscribe: {
            s.packet_id = packet_id();
            s.props = props(property_context::subscribe);
            const auto n = *rc::gen::weightedOneOf<int>(
                {{8, rc::gen::inRange(1, 6)}, {1, rc::gen::inRange(6, 64)}});
            for (int i = 0; i < n; ++i) {
                auto f = *gen_filter();
                std::uint8_t o = static_cast<std::uint8_t>(*rc::gen::inRange(0, 3));
                if (v5) {
                    const bool shared = f.rfind("$share/", 0) == 0;
                    // MQTT5-3.8.3-4: No Local is a Protocol Error on a shared subscription.
                    if (!shared && *rc::gen::arbitrary<bool>()) o |= 0x04;
                    if (*rc::gen::arbitrary<bool>()) o |= 0x08;
                    o = static_cast<std::uint8_t>(o | (*rc::gen::inRange(0, 3) << 4));
                }
                s.subs.emplace_back(std::move(f), o);
            }
            break;
        }
        case packet_type::suback: {
            s.packet_id = packet_id();
            s.props = props(property_context::suback);
            const auto codes = v5 ? allowed_reasons(reason_context::suback)
                                  : std::vector<std::uint8_t>{0x00, 0x01, 0x02, 0x80};
            s.codes = *rc::gen::nonEmpty(
                rc::gen::container<std::vector<std::uint8_t>>(rc::gen::elementOf(codes)));
            break;
        }
        case packet_type::unsubscribe: {
            s.packet_id = packet_id();
            s.props = props(property_context::unsubscribe);
            s.filters = *rc::gen::nonEmpty(rc::gen::container<std::vector<std::string>>(gen_filter()));
            break;
        }
        case packet_type::unsuback: {
            s.packet_id = packet_id();
            s.props = props(property_context::unsuback);
            if (v5) {
                s.codes = *rc::gen::nonEmpty(rc::gen::container<std::vector<std::uint8_t>>(
                    rc::gen::elementOf(allowed_reasons(reason_context::unsuback))));
            }
            break;
        }
        case packet_type::pingreq:
        case packet_type::pingresp: break;
        case packet_type::disconnect: {
            s.reason = reason(reason_context::disconnect);
            s.props = props(property_context::disconnect);
            break;
        }
        case packet_type::auth: {
            s.reason = reason(reason_context::auth);
            s.props = props(property_context::auth);
            const bool has_method = std::any_of(s.props.begin(), s.props.end(), [](const prop_spec& p) {
                return p.id == property_id::authentication_method;
            });
            // 5.0 section 3.15.2.2.2: anything but the short Success form names its method.
            if (!has_method && (s.reason != 0 || !s.props.empty()))
                s.props.push_back(*gen_property_value(property_id::authentication_method));
            break;
        }
        }
        return owned_packet(std::move(s));
    });
}

static std::vector<packet_type> types_at(protocol_version v) {
    std::vector<packet_type> out;
    for (int t = 1; t <= 15; ++t)
        if (t != 15 || v == protocol_version::v5) out.push_back(static_cast<packet_type>(t));
    return out;
}

/// A valid packet of any type at level `v`.
rc::Gen<owned_packet> gen_packet_at(protocol_version v) {
    return rc::gen::exec([v] { return *gen_packet(*rc::gen::elementOf(types_at(v)), v); });
}

/// A valid packet of any type at any level.
rc::Gen<owned_packet> gen_any_packet() {
    return rc::gen::exec([] { return *gen_packet_at(*gen_version()); });
}

} // namespace mqttwire::gen
