#pragma once
/// @file
/// @brief `retained_index`: concrete topic names → one value each (a retained message), found by
/// a topic filter without scanning every topic.
///
/// A level tree with two roots (names starting with `$` and the rest). Every node knows its
/// parent and its siblings, so a filter walk is iterative and stackless: a literal level is one
/// hash lookup (edge table keyed by parent and label), `+` runs over the children of one node,
/// `#` over a whole subtree. A filter starting with a wildcard walks only the non-`$` root
/// (MQTT-4.7.2-1), so `#` never returns `$SYS/...` topics.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <string_view>
#include <utility>

#include "detail/string_slice.hpp"
#include "detail/topic_tree.hpp"
#include "errc.hpp"
#include "result.hpp"
#include "topic.hpp"

namespace mqttwire {

/// @brief Stores one value per topic name and visits the values whose topic matches a filter.
///
/// `insert_or_assign`/`erase` may allocate and free (empty nodes are pruned); `find` and `match`
/// never allocate. Allocation failure: `errc::quota_exceeded` when the allocator returns null;
/// with `std::allocator` a failed `operator new` terminates (no exceptions). Not thread-safe.
///
/// Example: on a new subscription to `salon/+/stat`, send every retained message:
/// `idx.match("salon/+/stat", [&](const message& m) { send(m); });`
template <class Value, class Allocator = std::allocator<Value>> class retained_index {
    static_assert(detail::raw_pointer_allocator_v<Allocator>,
                  "retained_index needs an allocator with raw pointers");

  public:
    using value_type = Value;
    using allocator_type = Allocator;

    explicit retained_index(const Allocator& alloc = Allocator()) noexcept : alloc_(alloc) {}
    retained_index(const retained_index&) = delete;
    retained_index& operator=(const retained_index&) = delete;
    retained_index(retained_index&& o) noexcept
        : alloc_(o.alloc_), edges_(std::move(o.edges_)),
          roots_{std::exchange(o.roots_[0], nullptr), std::exchange(o.roots_[1], nullptr)},
          size_(std::exchange(o.size_, 0)) {}
    retained_index& operator=(retained_index&& o) noexcept {
        if (this != &o) {
            clear();
            if constexpr (std::allocator_traits<
                              Allocator>::propagate_on_container_move_assignment::value)
                alloc_ = o.alloc_;
            edges_ = std::move(o.edges_);
            roots_[0] = std::exchange(o.roots_[0], nullptr);
            roots_[1] = std::exchange(o.roots_[1], nullptr);
            size_ = std::exchange(o.size_, 0);
        }
        return *this;
    }
    ~retained_index() { clear(); }

    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    [[nodiscard]] bool empty() const noexcept { return size_ == 0; }

    /// @brief Stores `value` for the topic name `topic`, replacing an earlier one.
    /// @return true when the topic was new, false when its value was replaced;
    /// `errc::topic_name_invalid` for an invalid name (MQTT-4.7.1-1, MQTT-4.7.3-1, ...),
    /// `errc::quota_exceeded` when the allocator failed (nothing changed).
    [[nodiscard]] result<bool> insert_or_assign(std::string_view topic, Value value) noexcept {
        if (validate_topic_name(topic) != errc::success) return errc::topic_name_invalid;
        node*& root = roots_[topic[0] == '$' ? 1 : 0];
        if (root == nullptr) {
            root = detail::new_labelled<node>(alloc_, std::string_view{}, nullptr);
            if (root == nullptr) return errc::quota_exceeded;
        }
        node* cur = root;
        std::size_t pos = 0;
        while (true) {
            const std::size_t e = detail::level_end_from(topic, pos);
            const auto label = detail::slice(topic, pos, e - pos);
            node* next = find_child(cur, label);
            if (next == nullptr) {
                next = detail::new_labelled<node>(alloc_, label, cur);
                if (next == nullptr || !edges_.insert(alloc_, detail::edge_hash(cur, label), next)) {
                    if (next != nullptr) detail::delete_labelled(alloc_, next);
                    prune(cur);
                    return errc::quota_exceeded;
                }
                link_child(cur, next);
            }
            cur = next;
            if (e == topic.size()) break;
            pos = e + 1;
        }
        if (cur->has_value) {
            *cur->value_ptr() = std::move(value);
            return false;
        }
        std::construct_at(cur->value_ptr(), std::move(value));
        cur->has_value = true;
        ++size_;
        return true;
    }

    /// @brief Removes the value of `topic` (an empty retained message deletes it: MQTT-3.3.1-6 /
    /// MQTT5-3.3.1-6). @return true when there was one.
    bool erase(std::string_view topic) noexcept {
        node* n = find_node(topic);
        if (n == nullptr || !n->has_value) return false;
        std::destroy_at(n->value_ptr());
        n->has_value = false;
        --size_;
        prune(n);
        return true;
    }

    /// @brief The value stored for exactly `topic`, or nullptr.
    [[nodiscard]] const Value* find(std::string_view topic) const noexcept {
        const node* n = find_node(topic);
        return n != nullptr && n->has_value ? n->value_ptr() : nullptr;
    }

    /// @brief Calls `visitor(const Value&)` for every stored topic that `filter` matches
    /// (`+` one level, `#` the parent level and the whole subtree, `$` rule applied), in no
    /// particular order. Precondition: `filter` is a valid Topic Filter (not a `$share/` one:
    /// pass its inner filter). Never allocates; the visitor must not modify the index.
    template <class Visitor> void match(std::string_view filter, Visitor&& visitor) const noexcept {
        if (filter.empty()) return;
        // A filter starting with a literal '$' level walks the $-root; one starting with a
        // wildcard or another literal walks the other root (MQTT-4.7.2-1).
        const node* const root = roots_[filter[0] == '$' ? 1 : 0];
        if (root == nullptr) return;
        constexpr std::size_t npos = std::string_view::npos;
        const node* cur = root;
        std::size_t pos = 0; // start of the filter level cur's children must match
        while (true) {
            const node* down = nullptr;
            std::size_t next = npos;
            if (pos == npos) {
                if (cur->has_value) visitor(*cur->value_ptr());
            } else {
                const std::size_t e = detail::level_end_from(filter, pos);
                next = e == filter.size() ? npos : e + 1;
                const auto level = detail::slice(filter, pos, e - pos);
                if (level == "#") {
                    if (cur != root && cur->has_value) visitor(*cur->value_ptr());
                    visit_subtree(cur, visitor);
                } else if (level == "+") {
                    down = cur->first_child;
                } else {
                    down = find_child(cur, level);
                }
            }
            if (down != nullptr) {
                cur = down;
                pos = next;
                continue;
            }
            // Climb: a '+' level continues with the next sibling.
            while (true) {
                if (cur == root) return;
                const std::size_t end = pos == npos ? filter.size() : pos - 1;
                const std::size_t start = detail::level_start_before(filter, end);
                if (end - start == 1 && filter[start] == '+' && cur->next_sibling != nullptr) {
                    cur = cur->next_sibling;
                    break;
                }
                cur = cur->parent;
                pos = start;
            }
        }
    }

    /// @brief Removes every value and frees all memory.
    void clear() noexcept {
        edges_.for_each([this](node* n) { destroy_node(n); });
        edges_.release(alloc_);
        for (node*& root : roots_) {
            if (root != nullptr) destroy_node(root);
            root = nullptr;
        }
        size_ = 0;
    }

  private:
    struct node {
        explicit node(node* p) noexcept : parent(p) {}
        node* parent;
        node* first_child = nullptr;
        node* next_sibling = nullptr;
        node* prev_sibling = nullptr;
        std::uint16_t label_len = 0; // label bytes follow the object
        bool has_value = false;
        alignas(Value) std::byte storage[sizeof(Value)];
        [[nodiscard]] Value* value_ptr() noexcept {
            return std::launder(reinterpret_cast<Value*>(storage)); // NOLINT
        }
        [[nodiscard]] const Value* value_ptr() const noexcept {
            return std::launder(reinterpret_cast<const Value*>(storage)); // NOLINT
        }
    };

    [[nodiscard]] node* find_child(const node* parent, std::string_view label) const noexcept {
        return edges_.find(detail::edge_hash(parent, label), [parent, label](const node* n) {
            return n->parent == parent && detail::label_of(n) == label;
        });
    }
    [[nodiscard]] node* find_node(std::string_view topic) const noexcept {
        if (topic.empty()) return nullptr;
        node* cur = roots_[topic[0] == '$' ? 1 : 0];
        std::size_t pos = 0;
        while (cur != nullptr) {
            const std::size_t e = detail::level_end_from(topic, pos);
            cur = find_child(cur, detail::slice(topic, pos, e - pos));
            if (e == topic.size()) return cur;
            pos = e + 1;
        }
        return nullptr;
    }

    static void link_child(node* parent, node* child) noexcept {
        child->next_sibling = parent->first_child;
        if (parent->first_child != nullptr) parent->first_child->prev_sibling = child;
        parent->first_child = child;
    }

    template <class Visitor> static void visit_subtree(const node* top, Visitor& visitor) noexcept {
        const node* n = top->first_child;
        while (n != nullptr) {
            if (n->has_value) visitor(*n->value_ptr());
            if (n->first_child != nullptr) {
                n = n->first_child;
                continue;
            }
            while (n != top && n->next_sibling == nullptr) n = n->parent;
            if (n == top) return;
            n = n->next_sibling;
        }
    }

    void prune(node* n) noexcept {
        while (n->parent != nullptr && !n->has_value && n->first_child == nullptr) {
            node* parent = n->parent;
            if (n->prev_sibling != nullptr) n->prev_sibling->next_sibling = n->next_sibling;
            else parent->first_child = n->next_sibling;
            if (n->next_sibling != nullptr) n->next_sibling->prev_sibling = n->prev_sibling;
            edges_.erase(detail::edge_hash(parent, detail::label_of(n)), n);
            detail::delete_labelled(alloc_, n);
            n = parent;
        }
    }

    void destroy_node(node* n) noexcept {
        if (n->has_value) std::destroy_at(n->value_ptr());
        detail::delete_labelled(alloc_, n);
    }

    [[no_unique_address]] Allocator alloc_{};
    detail::pointer_table<node> edges_;
    node* roots_[2] = {nullptr, nullptr};
    std::size_t size_ = 0;
};

} // namespace mqttwire
