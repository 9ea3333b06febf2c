#pragma once
/// @file
/// @brief Configuration macros (all prefixed `MQTTWIRE_`); define them before including
/// mqttwire to change them.
///
/// - `MQTTWIRE_ASSERT(cond)`: checks a precondition of the library's API (e.g. `result::value()`
///   on an error). By default it traps (`__builtin_trap`, an illegal instruction: no I/O, no
///   exception, no libc) when `NDEBUG` is not defined, and does nothing otherwise. In constant
///   evaluation a failed precondition is always a compile error. Define it to route failures to
///   your own handler, e.g. `#define MQTTWIRE_ASSERT(c) ((c) ? (void)0 : my_fault(#c))`.
/// - `MQTTWIRE_FORCE_INLINE`: marks the few small functions on the decode hot path that must be
///   inlined for the codec to reach its speed (the PUBLISH body, the reader's string reads).
///   Plain `inline` when optimising for size (`-Os`, `__OPTIMIZE_SIZE__`), where the compiler's
///   own choice gives smaller code.

#ifndef MQTTWIRE_ASSERT
#if defined(NDEBUG)
#define MQTTWIRE_ASSERT(cond) static_cast<void>(0)
#elif defined(__GNUC__) || defined(__clang__)
#define MQTTWIRE_ASSERT(cond) (static_cast<bool>(cond) ? static_cast<void>(0) : __builtin_trap())
#else
#define MQTTWIRE_ASSERT(cond) (static_cast<bool>(cond) ? static_cast<void>(0) : static_cast<void>(*static_cast<volatile int*>(nullptr)))
#endif
#endif

#ifndef MQTTWIRE_FORCE_INLINE
#if (defined(__GNUC__) || defined(__clang__)) && !defined(__OPTIMIZE_SIZE__)
#define MQTTWIRE_FORCE_INLINE [[gnu::always_inline]] inline
#else
#define MQTTWIRE_FORCE_INLINE inline
#endif
#endif
