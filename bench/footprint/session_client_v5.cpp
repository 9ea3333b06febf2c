// session_client.cpp at MQTT 5.0: the same device with a Session Expiry Interval, the limits of
// CONNACK kept and enforced, and topic aliases both ways (two each).
#include "session_device.hpp"

namespace {
using storage = mqttwire::fixed_storage<mqttwire::session_limits{
    .inflight = 4, .requests = 1, .inbound_qos2 = 4, .input_bytes = 256, .output_bytes = 256,
    .resend_bytes = 256, .aliases_in = 2, .alias_bytes_in = 64, .aliases_out = 2,
    .alias_bytes_out = 64, .client_id_bytes = 32}>;
mqttwire::session_state<storage> state;
mqttwire::client<storage, mqttwire::client_v5_profile> device(state);
} // namespace

int main() {
    footprint_fill();
    mqttwire::connect_options o;
    o.version = mqttwire::protocol_version::v5;
    o.session_expiry = footprint_byte(4);
    return footprint::session_device(device, o);
}
