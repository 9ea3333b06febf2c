// session_client.cpp at MQTT 5.0: the same device with a Session Expiry Interval, the limits
// of CONNACK kept and enforced, topic aliases both ways (two each). Bytes come from a static
// buffer and go to a sink; no I/O.
#include <chrono>
#include <cstddef>
#include <span>

#include <mqttwire/session.hpp>

#include "footprint.h"

namespace {

using storage = mqttwire::fixed_storage<mqttwire::session_limits{
    .inflight = 4, .requests = 1, .inbound_qos2 = 4, .input_bytes = 256, .output_bytes = 256,
    .resend_bytes = 256, .aliases_in = 2, .alias_bytes_in = 64, .aliases_out = 2,
    .alias_bytes_out = 64, .client_id_bytes = 32}>;

mqttwire::session_state<storage> state;
mqttwire::client<storage> device(state);

void flush() {
    footprint_use(device.output().size());
    device.output_written(device.output().size());
}

} // namespace

int main() {
    footprint_fill();
    using mqttwire::qos;
    const std::chrono::milliseconds now{footprint_byte(0)};
    mqttwire::connect_options o;
    o.version = mqttwire::protocol_version::v5;
    o.session_expiry = footprint_byte(4);
    o.client_id = "dev1";
    o.clean_start = (footprint_byte(1) & 1) != 0;
    o.keep_alive = static_cast<std::uint16_t>(footprint_byte(2));
    footprint_use(static_cast<unsigned long>(device.connect(o, now)));
    flush();
    // What the server sends (CONNACK, SUBACK, PUBACK, PUBLISH...) is the opaque input.
    const auto* bytes = reinterpret_cast<const std::byte*>(footprint_input);
    footprint_use(device.feed(std::span<const std::byte>(bytes, FOOTPRINT_INPUT_SIZE)));
    for (unsigned i = 0; i < 16; ++i) {
        const auto ev = device.next(now);
        if (!ev) break;
        switch (ev.kind) {
        case mqttwire::event_kind::connected: {
            footprint_use(device.subscribe("dev1/cmd", qos::at_least_once, now).error() ==
                          mqttwire::errc::success);
            mqttwire::publish_view p;
            p.qos = qos::at_least_once;
            p.retain = true;
            p.topic = "dev1/stat";
            p.payload = (footprint_byte(3) & 1) != 0 ? "ON" : "OFF";
            footprint_use(device.publish(p, now).has_value());
            break;
        }
        case mqttwire::event_kind::message:
            footprint_use(ev.message->payload.size() + ev.message->topic.size());
            break;
        default: footprint_use(ev.packet_id + static_cast<unsigned>(ev.reason)); break;
        }
        flush();
    }
    if (const auto d = device.deadline()) footprint_use(static_cast<unsigned long>(d->count()));
    return 0;
}
