#pragma once
// The data set of the store measurements (bench_data_set.cpp, persist_startup_bench.cpp):
// zigbee2mqtt-shaped retained topics, per device its state, availability, and Home Assistant
// discovery configurations.

#include <cstdint>
#include <cstdio>
#include <string>

namespace mqttwire::broker::bench {

inline std::string retained_topic(std::uint64_t i) {
    char buf[96];
    const auto dev = static_cast<unsigned>(i / 4);
    switch (i % 4) {
    case 0: std::snprintf(buf, sizeof buf, "zigbee2mqtt/0x00124b00%08x", dev); break;
    case 1: std::snprintf(buf, sizeof buf, "zigbee2mqtt/0x00124b00%08x/availability", dev); break;
    case 2:
        std::snprintf(buf, sizeof buf, "homeassistant/sensor/0x00124b00%08x/temperature/config",
                      dev);
        break;
    default:
        std::snprintf(buf, sizeof buf,
                      "homeassistant/binary_sensor/0x00124b00%08x/battery_low/config", dev);
        break;
    }
    return buf;
}

} // namespace mqttwire::broker::bench
