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
/// - `MQTTWIRE_SMALL`: 1 chooses the smallest code over the fastest: no word-at-a-time scans, no
///   second (fast) path beside a general one, one instantiation where two would be quicker. The
///   default is 1 when the compiler optimises for size (`-Os`, `-Oz`: `__OPTIMIZE_SIZE__`), 0
///   otherwise. Both settings check exactly the same rules; give every translation unit of a
///   program the same setting.
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

#ifndef MQTTWIRE_SMALL
#if defined(__OPTIMIZE_SIZE__)
#define MQTTWIRE_SMALL 1
#else
#define MQTTWIRE_SMALL 0
#endif
#endif

// Out of line in size-optimised builds: the shared prologues (frame checks, encode driver) that
// every packet type would otherwise copy.
#if (defined(__GNUC__) || defined(__clang__)) && MQTTWIRE_SMALL
#define MQTTWIRE_SHARED [[gnu::noinline]]
#else
#define MQTTWIRE_SHARED
#endif

// Out of line in fast builds: a rare branch of a hot decoder (a 5.0 acknowledgement's reason
// code and properties), which would otherwise take registers from the common case.
#if (defined(__GNUC__) || defined(__clang__)) && !MQTTWIRE_SMALL
#define MQTTWIRE_RARE [[gnu::noinline]]
#else
#define MQTTWIRE_RARE
#endif

// Out of line in fast builds: the last step of a hot function, reached by a tail call (a jump),
// so that the hot function itself calls nothing and saves no registers.
#if (defined(__GNUC__) || defined(__clang__)) && !MQTTWIRE_SMALL
#define MQTTWIRE_TAIL [[gnu::noinline]]
#else
#define MQTTWIRE_TAIL
#endif

#ifndef MQTTWIRE_FORCE_INLINE
#if (defined(__GNUC__) || defined(__clang__)) && !MQTTWIRE_SMALL
#define MQTTWIRE_FORCE_INLINE [[gnu::always_inline]] inline
#else
#define MQTTWIRE_FORCE_INLINE inline
#endif
#endif

namespace mqttwire::detail {
/// `MQTTWIRE_SMALL` as a constant for `if constexpr`.
inline constexpr bool small_code = MQTTWIRE_SMALL != 0;
} // namespace mqttwire::detail
