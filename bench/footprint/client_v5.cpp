// An MQTT 5.0 client's use of the codec (client.hpp); coremqtt/client_v5.c is the same with
// coreMQTT 5 (its main branch).
#include "client.hpp"

int main() {
    footprint_fill();
    footprint::send_all<mqttwire::protocol_version::v5>();
    footprint::receive_all<mqttwire::protocol_version::v5>();
    return 0;
}
