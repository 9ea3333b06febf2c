#pragma once
// An optional string that costs one pointer when absent: for per-connection and per-session
// names that most clients do not have (a certificate identity, a user name), where
// std::optional<std::string> would cost 40 bytes each time.

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace mqttwire::broker {

class optional_text {
  public:
    optional_text() = default;
    optional_text(std::nullopt_t) noexcept {}
    optional_text(std::string s) : p_(std::make_unique<std::string>(std::move(s))) {}
    optional_text(std::optional<std::string> s) {
        if (s) p_ = std::make_unique<std::string>(std::move(*s));
    }
    optional_text(const optional_text& o)
        : p_(o.p_ ? std::make_unique<std::string>(*o.p_) : nullptr) {}
    optional_text(optional_text&&) noexcept = default;
    optional_text& operator=(const optional_text& o) {
        if (this != &o) p_ = o.p_ ? std::make_unique<std::string>(*o.p_) : nullptr;
        return *this;
    }
    optional_text& operator=(optional_text&&) noexcept = default;
    ~optional_text() = default;

    [[nodiscard]] bool has_value() const noexcept { return p_ != nullptr; }
    explicit operator bool() const noexcept { return has_value(); }
    /// @pre has_value()
    [[nodiscard]] const std::string& operator*() const noexcept { return *p_; }
    [[nodiscard]] const std::string* operator->() const noexcept { return p_.get(); }
    void reset() noexcept { p_.reset(); }
    [[nodiscard]] std::optional<std::string> to_optional() const {
        return p_ ? std::optional<std::string>(*p_) : std::nullopt;
    }

  private:
    std::unique_ptr<std::string> p_;
};

} // namespace mqttwire::broker
