#pragma once
// The loop-turn shares and constants both halves of a bridge use (bridge.cpp: the loop's side
// and the local side; bridge_remote.cpp: the remote side).

#include <cstdint>

namespace mqttwire::broker::bridge_shares {

// A bridge moves at most this many packets per side per turn before the loop serves everyone
// else again.
inline constexpr int events_per_turn = 512;
// Session Expiry Interval "never" (0xFFFFFFFF).
inline constexpr std::uint32_t never = 0xFFFFFFFF;

} // namespace mqttwire::broker::bridge_shares
