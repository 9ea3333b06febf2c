#include "stats/sys_tree.hpp"

#include <cstdio>

namespace mqttwire::broker {

namespace {

std::string decimal(std::uint64_t v) { return std::to_string(v); }

std::string two_decimals(double v) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "%.2f", v);
    return buf;
}

} // namespace

void sys_tree::put(std::size_t& i, std::string_view topic, std::string payload) {
    if (i == current_.size()) current_.push_back({std::string(topic), {}});
    current_[i].payload = std::move(payload);
    ++i;
}

void sys_tree::render(const statistics& st, std::chrono::seconds uptime) {
    std::size_t i = 0;
    put(i, "$SYS/broker/version", version_);
    put(i, "$SYS/broker/uptime", decimal(static_cast<std::uint64_t>(uptime.count())) + " seconds");

    // Clients: sessions known (total), connected, kept offline; active and inactive are
    // mosquitto's older names for connected and disconnected, still published by 2.0.
    put(i, "$SYS/broker/clients/total", decimal(st.clients_total()));
    put(i, "$SYS/broker/clients/connected", decimal(st.clients_connected));
    put(i, "$SYS/broker/clients/active", decimal(st.clients_connected));
    put(i, "$SYS/broker/clients/disconnected", decimal(st.clients_disconnected));
    put(i, "$SYS/broker/clients/inactive", decimal(st.clients_disconnected));
    put(i, "$SYS/broker/clients/maximum", decimal(st.clients_maximum));

    // Every MQTT packet (messages/...) and PUBLISH packets alone (publish/messages/...).
    put(i, "$SYS/broker/messages/received", decimal(st.packets_received));
    put(i, "$SYS/broker/messages/sent", decimal(st.packets_sent));
    put(i, "$SYS/broker/publish/messages/received", decimal(st.publish_received));
    put(i, "$SYS/broker/publish/messages/sent", decimal(st.publish_sent));
    put(i, "$SYS/broker/publish/messages/dropped", decimal(st.dropped_total()));
    put(i, "$SYS/broker/bytes/received", decimal(st.bytes_received));
    put(i, "$SYS/broker/bytes/sent", decimal(st.bytes_sent));
    put(i, "$SYS/broker/subscriptions/count", decimal(st.subscriptions));
    put(i, "$SYS/broker/retained messages/count", decimal(st.retained));

    const struct {
        std::string_view name;
        const loads& l;
    } rates[] = {
        {"messages/received", st.load_packets_received},
        {"messages/sent", st.load_packets_sent},
        {"publish/received", st.load_publish_received},
        {"publish/sent", st.load_publish_sent},
        {"publish/dropped", st.load_dropped},
        {"bytes/received", st.load_bytes_received},
        {"bytes/sent", st.load_bytes_sent},
        {"sockets", st.load_connections},
    };
    for (const auto& r : rates) {
        const std::string base = "$SYS/broker/load/" + std::string(r.name) + "/";
        put(i, base + "1min", two_decimals(r.l.m1.value()));
        put(i, base + "5min", two_decimals(r.l.m5.value()));
        put(i, base + "15min", two_decimals(r.l.m15.value()));
    }
    current_.resize(i);
}

std::vector<std::string> sys_tree::topics() {
    render(statistics{}, std::chrono::seconds(0));
    std::vector<std::string> out;
    for (const auto& e : current_) out.push_back(e.topic);
    return out;
}

} // namespace mqttwire::broker
