#pragma once
// The in-memory store: retained messages in a retained_index (lookup by filter) with their
// owning pointers by topic. Sessions need nothing more than the broker's own tables, so their
// events are ignored; nothing survives a restart.

#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

#include <mqttwire.hpp>

#include "store/store.hpp"

namespace mqttwire::broker {

class memory_store final : public store {
  public:
    void retain(const message_ptr& m) override;
    bool forget_retained(std::string_view topic) override;
    void match_retained(std::string_view filter,
                        const std::function<void(const message_ptr&)>& f) const override;
    [[nodiscard]] std::size_t retained_count() const override { return by_topic_.size(); }
    /// Room for `n` retained messages (a store loading them at start-up).
    void reserve(std::size_t n) { by_topic_.reserve(n); }

  private:
    struct text_hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept {
            return std::hash<std::string_view>{}(s);
        }
    };
    std::unordered_map<std::string, message_ptr, text_hash, std::equal_to<>> by_topic_;
    retained_index<const message*> index_;
};

} // namespace mqttwire::broker
