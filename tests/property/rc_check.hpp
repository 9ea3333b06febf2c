// RC_CHECK(condition): RC_ASSERT for loops. rapidcheck's RC_ASSERT builds its message strings on
// every call, also when the condition holds, which made per-byte and per-length checks dominate
// the property tests' time in Debug and under the sanitizers. RC_CHECK tests the condition first
// and reports through RC_ASSERT only when it fails (so the report is RC_ASSERT's own); the
// condition is evaluated a second time then, so it must have no side effects.
#pragma once

#include <rapidcheck.h>

#define RC_CHECK(condition)                                                                        \
    do {                                                                                           \
        if (!(condition)) RC_ASSERT(condition);                                                    \
    } while (false)
