#include "stats/statistics.hpp"

#include <cstdio>

namespace mqttwire::broker {

std::string statistics::summary() const {
    const auto d = [this](drop_reason r) {
        return static_cast<unsigned long long>(dropped[static_cast<std::size_t>(r)]);
    };
    char line[640];
    std::snprintf(
        line, sizeof line,
        "clients connected %llu disconnected %llu maximum %llu total %llu; "
        "messages received %llu sent %llu; publish received %llu sent %llu; "
        "bytes received %llu sent %llu; subscriptions %llu; retained %llu; "
        "dropped %llu (output full %llu, queue full %llu, offline queue full %llu, "
        "too large %llu, expired %llu, size limit %llu); slow consumers disconnected %llu; "
        "publishers paused %llu; connections refused %llu",
        static_cast<unsigned long long>(clients_connected),
        static_cast<unsigned long long>(clients_disconnected),
        static_cast<unsigned long long>(clients_maximum),
        static_cast<unsigned long long>(clients_total()),
        static_cast<unsigned long long>(packets_received),
        static_cast<unsigned long long>(packets_sent),
        static_cast<unsigned long long>(publish_received),
        static_cast<unsigned long long>(publish_sent),
        static_cast<unsigned long long>(bytes_received),
        static_cast<unsigned long long>(bytes_sent),
        static_cast<unsigned long long>(subscriptions), static_cast<unsigned long long>(retained),
        static_cast<unsigned long long>(dropped_total()), d(drop_reason::output_full),
        d(drop_reason::queue_full), d(drop_reason::offline_queue_full),
        d(drop_reason::too_large), d(drop_reason::expired), d(drop_reason::size_limit),
        static_cast<unsigned long long>(slow_consumers_disconnected),
        static_cast<unsigned long long>(publishers_paused),
        static_cast<unsigned long long>(connections_refused));
    return line;
}

} // namespace mqttwire::broker
