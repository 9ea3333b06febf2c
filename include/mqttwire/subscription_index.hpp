#pragma once
/// @file
/// @brief `subscription_index`: many topic filters → caller values, matched against a published
/// topic name without allocating.
///
/// Layout (after mosquitto's separate `$` root, FlashMQ's dedicated wildcard slots and the
/// EMQX/VerneMQ split of exact and wildcard filters):
///
/// ```
///  exact filters ("a/b/c")      one hash table: filter text -> entry        (one lookup per match)
///  wildcard filters ("a/+/#")   a level trie, two roots:
///        root      (names not starting with '$')      node: parent, '+' child, entry "here",
///        $-root    (names starting with '$')                entry "#", label bytes inline
///  literal trie edges           one hash table keyed by (parent node, label)
/// ```
///
/// An entry holds the plain subscribers of one filter and its shared-subscription groups
/// (`$share/{ShareName}/{filter}` hangs off the node of `{filter}`), so one walk yields both.
/// A topic starting with `$` only walks the `$` root, so the MQTT-4.7.2-1 rule costs nothing.
/// The walk is iterative without a stack (it climbs back through parent pointers), so neither
/// recursion depth nor a level cap limits topics.

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string_view>
#include <type_traits>
#include <utility>

#include "detail/string_slice.hpp"
#include "detail/topic_tree.hpp"
#include "errc.hpp"
#include "result.hpp"
#include "topic.hpp"

namespace mqttwire {

/// @brief One shared-subscription group as seen by `subscription_index::match`.
template <class Value> struct shared_group_view {
    std::string_view share_name; ///< the ShareName
    std::span<const Value> members;
    /// Identifies the group while it exists (for a caller's round-robin cursor, say).
    const void* id = nullptr;
};

/// @brief Options of a `subscription_index`.
struct subscription_index_options {
    /// Treat `$share/{ShareName}/{filter}` as a shared subscription (MQTT 5.0 section 4.8.2).
    /// Off: such a filter is an ordinary filter, as in MQTT 3.1.1.
    bool shared_subscriptions = true;
};

/// @brief Maps topic filters to caller values and finds the values whose filter matches a topic.
///
/// @tparam Value   what a subscription carries (e.g. a session handle and its options).
/// @tparam KeyOf   gives the identity of a subscriber from a Value (default: the Value itself).
///                 Within one filter (and one share group) a key appears at most once:
///                 subscribing again replaces the Value (MQTT-3.8.4-3 / MQTT5-3.8.4-3).
/// @tparam Allocator used for every allocation (rebound); its pointer type must be a raw pointer.
///
/// `insert` and `erase` may allocate and free; `match` never allocates. Allocation failure is
/// reported as `errc::quota_exceeded` when the allocator returns null (allocators for
/// `-fno-exceptions` builds may); with `std::allocator` a failed `operator new` terminates, as
/// everywhere in such builds. Not thread-safe: one writer, or many readers with no writer.
///
/// Example:
/// ```
/// subscription_index<session*> idx;
/// (void)idx.insert("salon/+/cmd", s);
/// idx.match("salon/luz/cmd", overloaded{[](session* s) { ... },
///                                        [](const shared_group_view<session*>& g) { ... }});
/// ```
template <class Value, class KeyOf = std::identity, class Allocator = std::allocator<Value>>
class subscription_index {
    static_assert(detail::raw_pointer_allocator_v<Allocator>,
                  "subscription_index needs an allocator with raw pointers");

  public:
    using value_type = Value;
    using key_type = std::remove_cvref_t<std::invoke_result_t<const KeyOf&, const Value&>>;
    using allocator_type = Allocator;
    using group_view = shared_group_view<Value>;

    explicit subscription_index(const Allocator& alloc = Allocator(),
                                subscription_index_options options = {}) noexcept
        : alloc_(alloc), options_(options) {}
    explicit subscription_index(subscription_index_options options) noexcept
        : options_(options) {}
    subscription_index(const subscription_index&) = delete;
    subscription_index& operator=(const subscription_index&) = delete;
    subscription_index(subscription_index&& o) noexcept
        : alloc_(o.alloc_), options_(o.options_), exact_(std::move(o.exact_)),
          edges_(std::move(o.edges_)), roots_{std::exchange(o.roots_[0], nullptr),
                                              std::exchange(o.roots_[1], nullptr)},
          size_(std::exchange(o.size_, 0)) {}
    subscription_index& operator=(subscription_index&& o) noexcept {
        if (this != &o) {
            clear();
            if constexpr (std::allocator_traits<
                              Allocator>::propagate_on_container_move_assignment::value)
                alloc_ = o.alloc_;
            exact_ = std::move(o.exact_);
            edges_ = std::move(o.edges_);
            roots_[0] = std::exchange(o.roots_[0], nullptr);
            roots_[1] = std::exchange(o.roots_[1], nullptr);
            size_ = std::exchange(o.size_, 0);
            options_ = o.options_;
        }
        return *this;
    }
    ~subscription_index() { clear(); }

    /// @brief Number of subscriptions (plain and shared members).
    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
    [[nodiscard]] allocator_type get_allocator() const noexcept { return alloc_; }

    /// @brief Adds `value` under `filter`, or replaces the value with the same key there.
    /// @return true when added, false when an existing subscription was replaced;
    /// `errc::topic_filter_invalid` for an invalid filter (MQTT-4.7.1-2, MQTT-4.7.1-3,
    /// MQTT-4.7.3-1, MQTT5-4.8.2-1, MQTT5-4.8.2-2, ...), `errc::quota_exceeded` when the
    /// allocator failed (the index is unchanged).
    [[nodiscard]] result<bool> insert(std::string_view filter, Value value) noexcept {
        target t{};
        if (const auto e = parse(filter, t); e != errc::success) return e;
        entry* en = nullptr;
        node* leaf = nullptr;
        exact_record* rec = nullptr;
        if (t.exact) {
            rec = find_exact(t.filter);
            if (rec == nullptr) {
                rec = detail::new_labelled<exact_record>(alloc_, t.filter);
                if (rec == nullptr) return errc::quota_exceeded;
                if (!exact_.insert(alloc_, detail::text_hash(t.filter), rec)) {
                    detail::delete_labelled(alloc_, rec);
                    return errc::quota_exceeded;
                }
            }
            en = &rec->e;
        } else {
            leaf = walk_create(t.filter, en);
            if (leaf == nullptr) return errc::quota_exceeded;
        }
        const result<bool> r = add(*en, t, std::move(value));
        if (!r) cleanup(en, rec, leaf);
        else if (r.value()) ++size_;
        return r;
    }

    /// @brief Removes the subscription of `key` to exactly `filter` (UNSUBSCRIBE compares the
    /// filter text, not what it matches: MQTT-3.10.4-1 / MQTT5-3.10.4-1).
    /// @return true when one was removed. Empty trie nodes are freed on the way out.
    bool erase(std::string_view filter, const key_type& key) noexcept {
        target t{};
        if (parse(filter, t) != errc::success) return false;
        entry* en = nullptr;
        node* leaf = nullptr;
        exact_record* rec = nullptr;
        if (t.exact) {
            rec = find_exact(t.filter);
            if (rec == nullptr) return false;
            en = &rec->e;
        } else {
            leaf = walk_find(t.filter, en);
            if (leaf == nullptr) return false;
        }
        group* g = nullptr;
        detail::small_vec<Value>* list = &en->plain;
        if (t.shared) {
            g = find_group(*en, t.share_name);
            if (g == nullptr) return false;
            list = &g->members;
        }
        const std::size_t i = index_of(*list, key);
        if (i == list->size()) return false;
        list->erase_at(alloc_, i);
        --size_;
        if (g != nullptr && g->members.empty()) unlink_group(*en, g);
        cleanup(en, rec, leaf);
        return true;
    }

    /// @brief Calls `on_plain(const Value&)` for every plain subscription whose filter matches
    /// the topic name `topic`, and `on_group(const shared_group_view<Value>&)` once for every
    /// matching shared-subscription group (choosing a member is the caller's policy).
    ///
    /// A subscriber with several matching filters is reported once per filter (the caller
    /// merges, MQTT-3.3.5-1 / MQTT5-3.3.4-2). Precondition: `topic` is a valid Topic Name.
    /// Never allocates. The callbacks must not modify the index.
    template <class OnPlain, class OnGroup>
    void match(std::string_view topic, OnPlain&& on_plain, OnGroup&& on_group) const noexcept {
        if (topic.empty()) return;
        const auto visit = [&](const entry& en) {
            const Value* d = en.plain.data();
            for (std::uint32_t i = 0, n = en.plain.size(); i < n; ++i) on_plain(d[i]);
            for (const group* g = en.groups; g != nullptr; g = g->next)
                on_group(group_view{detail::label_of(g),
                                    std::span<const Value>(g->members.data(),
                                                           g->members.size()),
                                    g});
        };
        if (const exact_record* rec = find_exact(topic)) visit(rec->e);
        // MQTT-4.7.2-1: names starting with '$' only meet filters whose first level is literal
        // and starts with '$' (they live under the $-root).
        const node* const root = roots_[topic[0] == '$' ? 1 : 0];
        if (root == nullptr) return;
        constexpr std::size_t npos = std::string_view::npos;
        const node* cur = root;
        std::size_t pos = 0; // start of the level cur's children consume; npos: all consumed
        while (true) {
            // Arrive at cur.
            bool descended = false;
            if (pos == npos) {
                visit(cur->here);
                visit(cur->hash); // "a/#" matches "a": '#' includes the parent level
            } else {
                visit(cur->hash);
                const std::size_t e = detail::level_end_from(topic, pos);
                const std::size_t next = e == topic.size() ? npos : e + 1;
                const auto label = detail::slice(topic, pos, e - pos);
                if (const node* c = find_child(cur, label)) {
                    cur = c;
                    descended = true;
                } else if (cur->plus != nullptr) {
                    cur = cur->plus;
                    descended = true;
                }
                if (descended) pos = next;
            }
            if (descended) continue;
            // Climb until an unexplored '+' sibling is found.
            while (true) {
                if (cur == root) return;
                const node* parent = cur->parent;
                if (cur != parent->plus && parent->plus != nullptr) {
                    cur = parent->plus; // same level consumed, same pos
                    break;
                }
                pos = detail::level_start_before(topic, pos == npos ? topic.size() : pos - 1);
                cur = parent;
            }
        }
    }

    /// @brief `match(topic, visitor, visitor)`: one visitor overloaded for `const Value&` and
    /// `const shared_group_view<Value>&`.
    template <class Visitor> void match(std::string_view topic, Visitor&& visitor) const noexcept {
        match(topic, visitor, visitor);
    }

    /// @brief Removes every subscription and frees all memory.
    void clear() noexcept {
        exact_.for_each([this](exact_record* r) {
            release_entry(r->e);
            detail::delete_labelled(alloc_, r);
        });
        exact_.release(alloc_);
        free_all_nodes();
        size_ = 0;
    }

  private:
    struct group {
        group* next = nullptr;
        detail::small_vec<Value> members;
        std::uint16_t label_len = 0; // share name bytes follow the object
    };
    struct entry {
        detail::small_vec<Value> plain;
        group* groups = nullptr;
        [[nodiscard]] bool empty() const noexcept { return plain.empty() && groups == nullptr; }
    };
    struct exact_record {
        entry e;
        std::uint16_t label_len = 0; // filter bytes follow the object
    };
    struct node {
        explicit node(node* p) noexcept : parent(p) {}
        node* parent;
        node* plus = nullptr;
        entry here;                 // filters ending at this node
        entry hash;                 // filters ending with '#' right below this node
        std::uint32_t children = 0; // literal children (in edges_)
        std::uint16_t label_len = 0;
        [[nodiscard]] bool empty() const noexcept {
            return here.empty() && hash.empty() && plus == nullptr && children == 0;
        }
    };
    struct target {
        std::string_view filter;     // without the $share/ part
        std::string_view share_name; // when shared
        bool shared = false;
        bool exact = false;
    };

    [[nodiscard]] errc parse(std::string_view filter, target& t) const noexcept {
        if (options_.shared_subscriptions && is_shared_subscription(filter)) {
            shared_subscription s{};
            if (parse_shared_subscription(filter, s) != errc::success)
                return errc::topic_filter_invalid;
            t.filter = s.filter;
            t.share_name = s.share_name;
            t.shared = true;
        } else {
            if (validate_topic_filter(filter) != errc::success) return errc::topic_filter_invalid;
            t.filter = filter;
        }
        t.exact = !topic_filter_has_wildcards(t.filter);
        return errc::success;
    }

    [[nodiscard]] exact_record* find_exact(std::string_view f) const noexcept {
        if (exact_.size() == 0) return nullptr;
        return exact_.find(detail::text_hash(f), [f](const exact_record* r) {
            return detail::label_of(r) == f;
        });
    }
    [[nodiscard]] node* find_child(const node* parent, std::string_view label) const noexcept {
        return edges_.find(detail::edge_hash(parent, label), [parent, label](const node* n) {
            return n->parent == parent && detail::label_of(n) == label;
        });
    }

    // Finds or creates the nodes of a wildcard filter; nullptr when the allocator failed
    // (whatever was created is pruned again).
    [[nodiscard]] node* walk_create(std::string_view f, entry*& en) noexcept {
        node*& root = roots_[f[0] == '$' ? 1 : 0];
        if (root == nullptr) {
            root = detail::new_labelled<node>(alloc_, std::string_view{}, nullptr);
            if (root == nullptr) return nullptr;
        }
        node* cur = root;
        std::size_t pos = 0;
        while (true) {
            const std::size_t e = detail::level_end_from(f, pos);
            const auto label = detail::slice(f, pos, e - pos);
            if (label == "#") {
                en = &cur->hash;
                return cur;
            }
            node* next = nullptr;
            if (label == "+") {
                if (cur->plus == nullptr) {
                    cur->plus = detail::new_labelled<node>(alloc_, label, cur);
                    if (cur->plus == nullptr) return prune_failed(cur);
                }
                next = cur->plus;
            } else {
                next = find_child(cur, label);
                if (next == nullptr) {
                    next = detail::new_labelled<node>(alloc_, label, cur);
                    if (next == nullptr) return prune_failed(cur);
                    if (!edges_.insert(alloc_, detail::edge_hash(cur, label), next)) {
                        detail::delete_labelled(alloc_, next);
                        return prune_failed(cur);
                    }
                    ++cur->children;
                }
            }
            cur = next;
            if (e == f.size()) {
                en = &cur->here;
                return cur;
            }
            pos = e + 1;
        }
    }
    node* prune_failed(node* n) noexcept {
        prune(n);
        return nullptr;
    }

    [[nodiscard]] node* walk_find(std::string_view f, entry*& en) const noexcept {
        node* cur = roots_[f[0] == '$' ? 1 : 0];
        std::size_t pos = 0;
        while (cur != nullptr) {
            const std::size_t e = detail::level_end_from(f, pos);
            const auto label = detail::slice(f, pos, e - pos);
            if (label == "#") {
                en = &cur->hash;
                return cur;
            }
            cur = label == "+" ? cur->plus : find_child(cur, label);
            if (cur != nullptr && e == f.size()) {
                en = &cur->here;
                return cur;
            }
            pos = e + 1;
        }
        return nullptr;
    }

    [[nodiscard]] static group* find_group(const entry& en, std::string_view name) noexcept {
        for (group* g = en.groups; g != nullptr; g = g->next)
            if (detail::label_of(g) == name) return g;
        return nullptr;
    }
    [[nodiscard]] static std::size_t index_of(const detail::small_vec<Value>& list,
                                              const key_type& key) noexcept {
        const KeyOf key_of{};
        std::size_t i = 0;
        for (; i < list.size(); ++i)
            if (std::invoke(key_of, list[i]) == key) break;
        return i;
    }

    [[nodiscard]] result<bool> add(entry& en, const target& t, Value&& value) noexcept {
        detail::small_vec<Value>* list = &en.plain;
        group* fresh = nullptr;
        if (t.shared) {
            group* g = find_group(en, t.share_name);
            if (g == nullptr) {
                g = fresh = detail::new_labelled<group>(alloc_, t.share_name);
                if (g == nullptr) return errc::quota_exceeded;
            }
            list = &g->members;
        }
        const std::size_t i = index_of(*list, std::invoke(KeyOf{}, std::as_const(value)));
        if (i != list->size()) {
            (*list)[i] = std::move(value); // MQTT-3.8.4-3: replace the existing subscription
            return false;
        }
        if (!list->push_back(alloc_, std::move(value))) {
            if (fresh != nullptr) detail::delete_labelled(alloc_, fresh);
            return errc::quota_exceeded;
        }
        if (fresh != nullptr) {
            fresh->next = en.groups;
            en.groups = fresh;
        }
        return true;
    }

    void unlink_group(entry& en, group* g) noexcept {
        for (group** p = &en.groups; *p != nullptr; p = &(*p)->next) {
            if (*p == g) {
                *p = g->next;
                break;
            }
        }
        g->members.release(alloc_);
        detail::delete_labelled(alloc_, g);
    }

    void cleanup(entry* en, exact_record* rec, node* leaf) noexcept {
        if (!en->empty()) return;
        if (rec != nullptr) {
            exact_.erase(detail::text_hash(detail::label_of(rec)), rec);
            release_entry(rec->e);
            detail::delete_labelled(alloc_, rec);
        } else if (leaf != nullptr) {
            prune(leaf);
        }
    }

    // Frees n and its ancestors while they hold nothing (roots stay).
    void prune(node* n) noexcept {
        while (n->parent != nullptr && n->empty()) {
            node* parent = n->parent;
            if (parent->plus == n) {
                parent->plus = nullptr;
            } else {
                edges_.erase(detail::edge_hash(parent, detail::label_of(n)), n);
                --parent->children;
            }
            release_entry(n->here);
            release_entry(n->hash);
            detail::delete_labelled(alloc_, n);
            n = parent;
        }
    }

    void release_entry(entry& en) noexcept {
        en.plain.release(alloc_);
        while (en.groups != nullptr) {
            group* g = en.groups;
            en.groups = g->next;
            g->members.release(alloc_);
            detail::delete_labelled(alloc_, g);
        }
    }

    // Frees every trie node without a stack: '+' nodes hang off their parent in chains that
    // start at a root or at a literal node, and every literal node is in edges_.
    void free_all_nodes() noexcept {
        for (node* root : roots_)
            if (root != nullptr) free_plus_chain(root);
        edges_.for_each([this](node* n) { free_plus_chain(n); });
        edges_.for_each([this](node* n) {
            release_entry(n->here);
            release_entry(n->hash);
            detail::delete_labelled(alloc_, n);
        });
        for (node*& root : roots_) {
            if (root == nullptr) continue;
            release_entry(root->here);
            release_entry(root->hash);
            detail::delete_labelled(alloc_, root);
            root = nullptr;
        }
        edges_.release(alloc_);
    }
    // Frees the '+' descendants reachable from n through '+' links only (their literal
    // children are in edges_ and freed there).
    void free_plus_chain(node* n) noexcept {
        node* p = n->plus;
        n->plus = nullptr;
        while (p != nullptr) {
            node* next = p->plus;
            release_entry(p->here);
            release_entry(p->hash);
            detail::delete_labelled(alloc_, p);
            p = next;
        }
    }

    [[no_unique_address]] Allocator alloc_{};
    subscription_index_options options_{};
    detail::pointer_table<exact_record> exact_;
    detail::pointer_table<node> edges_;
    node* roots_[2] = {nullptr, nullptr};
    std::size_t size_ = 0;
};

} // namespace mqttwire
