// An MQTT 3.1.1 client's use of the codec (client.hpp); coremqtt/client_v311.c is the same with
// coreMQTT v2.3.1.
#include "client.hpp"

int main() {
    footprint_fill();
    footprint::send_all<mqttwire::protocol_version::v3_1_1>();
    footprint::receive_all<mqttwire::protocol_version::v3_1_1>();
    return 0;
}
