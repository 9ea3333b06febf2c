#pragma once
/// @file
/// @brief The session layer: the protocol state of one connection, client or server role, for
/// MQTT 3.1, 3.1.1 and 5.0. Bytes in, events out, time passed in; no I/O, no clock, no
/// exceptions, and no allocation with `fixed_storage`.

#include "session/alias_sender.hpp" // IWYU pragma: export
#include "session/alias_table.hpp" // IWYU pragma: export
#include "session/client.hpp"      // IWYU pragma: export
#include "session/connection.hpp"  // IWYU pragma: export
#include "session/event.hpp"       // IWYU pragma: export
#include "session/id_set.hpp"      // IWYU pragma: export
#include "session/outbound_table.hpp" // IWYU pragma: export
#include "session/resend_ring.hpp" // IWYU pragma: export
#include "session/server.hpp"      // IWYU pragma: export
#include "session/state.hpp"       // IWYU pragma: export
#include "session/storage.hpp"     // IWYU pragma: export
