#pragma once
/// @file
/// @brief mqttwire: a header-only, allocation-free, exception-free MQTT 3.1 / 3.1.1 / 5.0 core.

#include "mqttwire/binary_view.hpp"    // IWYU pragma: export
#include "mqttwire/errc.hpp"           // IWYU pragma: export
#include "mqttwire/fixed_header.hpp"   // IWYU pragma: export
#include "mqttwire/framer.hpp"         // IWYU pragma: export
#include "mqttwire/list_view.hpp"      // IWYU pragma: export
#include "mqttwire/optional_view.hpp"  // IWYU pragma: export
#include "mqttwire/options.hpp"        // IWYU pragma: export
#include "mqttwire/packet.hpp"         // IWYU pragma: export
#include "mqttwire/packet_type.hpp"    // IWYU pragma: export
#include "mqttwire/properties.hpp"     // IWYU pragma: export
#include "mqttwire/reason_code.hpp"    // IWYU pragma: export
#include "mqttwire/result.hpp"         // IWYU pragma: export
#include "mqttwire/retained_index.hpp" // IWYU pragma: export
#include "mqttwire/subscription_index.hpp" // IWYU pragma: export
#include "mqttwire/topic.hpp"          // IWYU pragma: export
#include "mqttwire/utf8.hpp"           // IWYU pragma: export
#include "mqttwire/varint.hpp"         // IWYU pragma: export
#include "mqttwire/version.hpp"        // IWYU pragma: export
