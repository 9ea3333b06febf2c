// A 3.1.1 device on the session layer with fixed storage (session_device.hpp); the codec-only
// client of client_v311.cpp does part of the same by hand, coreMQTT's full client all of it.
#include "session_device.hpp"

namespace {
using storage = mqttwire::fixed_storage<mqttwire::session_limits{
    .inflight = 4, .requests = 1, .inbound_qos2 = 4, .input_bytes = 256, .output_bytes = 256,
    .resend_bytes = 256, .client_id_bytes = 0}>;
mqttwire::session_state<storage> state;
mqttwire::client<storage, mqttwire::client_v3_profile> device(state);
} // namespace

int main() {
    footprint_fill();
    mqttwire::connect_options o;
    o.version = mqttwire::protocol_version::v3_1_1;
    return footprint::session_device(device, o);
}
