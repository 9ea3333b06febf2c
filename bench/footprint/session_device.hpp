// The device both session-layer footprint programs run (session_client.cpp at 3.1.1,
// session_client_v5.cpp at 5.0): connect, subscribe to its command topic, publish its state at
// QoS 1, receive commands. What the server sends is the opaque input; what the device writes
// goes to the sink. No I/O.
#pragma once

#include <chrono>
#include <cstddef>
#include <span>

#include <mqttwire/session.hpp>

#include "footprint.h"

namespace footprint {

template <class Client> int session_device(Client& device, mqttwire::connect_options o) {
    using mqttwire::qos;
    const auto flush = [&] {
        footprint_use(device.output().size());
        device.output_written(device.output().size());
    };
    const std::chrono::milliseconds now{footprint_byte(0)};
    o.client_id = "dev1";
    o.clean_start = (footprint_byte(1) & 1) != 0;
    o.keep_alive = static_cast<std::uint16_t>(footprint_byte(2));
    footprint_use(static_cast<unsigned long>(device.connect(o, now)));
    flush();
    const auto* bytes = reinterpret_cast<const std::byte*>(footprint_input);
    footprint_use(device.feed(std::span<const std::byte>(bytes, FOOTPRINT_INPUT_SIZE)));
    for (unsigned i = 0; i < 16; ++i) {
        const auto ev = device.next(now);
        if (!ev) break;
        switch (ev.kind) {
        case mqttwire::event_kind::connected: {
            footprint_use(device.subscribe("dev1/cmd", qos::at_least_once, now).has_value());
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

} // namespace footprint
