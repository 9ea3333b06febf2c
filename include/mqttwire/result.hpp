#pragma once
/// @file
/// @brief `result<T>`: a value or an `errc`, trivially copyable and usable in constant expressions.

#include <type_traits>

#include "config.hpp"
#include "errc.hpp"

namespace mqttwire {

namespace detail {
// Not constexpr on purpose: reaching it during constant evaluation is a compile error, which turns
// a `value()` on an error into a diagnostic inside static_assert tests.
inline void result_has_no_value() noexcept {}
struct result_access;
} // namespace detail

/// @brief Either a `T` or an `errc` other than `errc::success`.
///
/// Never throws. `value()` (and `*`, `->`) on an error is a precondition violation: a compile
/// error in constant evaluation, `MQTTWIRE_ASSERT` at run time (a trap in builds without
/// `NDEBUG`; see config.hpp). An error result holds no `T` at all.
template <class T> class result {
    static_assert(std::is_trivially_copyable_v<T>, "result<T> stays trivially copyable");

  public:
    using value_type = T;

    constexpr result(const T& v) noexcept : value_(v) {} // NOLINT(google-explicit-constructor)
    /// An error holds no value: nothing of `T` is initialised (a decode that fails or needs more
    /// bytes costs no stores into a view it does not return).
    constexpr result(errc e) noexcept // NOLINT(google-explicit-constructor)
        : none_(0), error_(e == errc::success ? errc::unspecified_error : e) {}

    [[nodiscard]] constexpr bool has_value() const noexcept { return error_ == errc::success; }
    [[nodiscard]] constexpr explicit operator bool() const noexcept { return has_value(); }

    /// @brief The value; precondition: `has_value()`.
    [[nodiscard]] constexpr const T& value() const noexcept {
        if (!has_value()) {
            if (std::is_constant_evaluated()) detail::result_has_no_value();
            MQTTWIRE_ASSERT(has_value());
        }
        return value_;
    }
    [[nodiscard]] constexpr const T& operator*() const noexcept { return value(); }
    [[nodiscard]] constexpr const T* operator->() const noexcept { return &value(); }

    /// @brief `errc::success` when a value is held, the failure otherwise.
    [[nodiscard]] constexpr errc error() const noexcept { return error_; }

  private:
    friend struct detail::result_access;
    struct from_call {};
    // The value is the prvalue `build()` returns: built in place, never copied.
    template <class F> constexpr result(from_call, F build) noexcept : value_(build()) {}

    union {
        T value_;            // active when error_ == success
        unsigned char none_; // active otherwise
    };
    errc error_ = errc::success;
};

namespace detail {
// Lets the decoder fill a value inside the result it returns instead of building it elsewhere
// and copying it in.
struct result_access {
    template <class T, class F> [[nodiscard]] static constexpr result<T> make(F build) noexcept {
        return result<T>(typename result<T>::from_call{}, build);
    }
    template <class T> [[nodiscard]] static constexpr T& value(result<T>& r) noexcept {
        return r.value_;
    }
    // Turns `r` into an error. The value stays in its storage, never read again (reading it is
    // a precondition violation), so failing costs no stores.
    template <class T> static constexpr void fail(result<T>& r, errc e) noexcept {
        r.error_ = e == errc::success ? errc::unspecified_error : e;
    }
    // Sets the outcome as it is: `errc::success` keeps the value built in `r`.
    template <class T> static constexpr void set_error(result<T>& r, errc e) noexcept {
        r.error_ = e;
    }
};
} // namespace detail

} // namespace mqttwire
