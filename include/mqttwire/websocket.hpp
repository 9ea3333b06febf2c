#pragma once
/// @file
/// @brief MQTT over WebSockets (MQTT 3.1.1 and 5.0 section 6, RFC 6455): the opening handshake
/// for both sides, the frame codec and the incremental deframer, in namespace `mqttwire::ws`.

#include "websocket/client_handshake.hpp" // IWYU pragma: export
#include "websocket/close_code.hpp"       // IWYU pragma: export
#include "websocket/deframer.hpp"         // IWYU pragma: export
#include "websocket/frame.hpp"            // IWYU pragma: export
#include "websocket/handshake_errc.hpp"   // IWYU pragma: export
#include "websocket/handshake_key.hpp"    // IWYU pragma: export
#include "websocket/server_handshake.hpp" // IWYU pragma: export
