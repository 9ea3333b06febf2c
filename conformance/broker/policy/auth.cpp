#include "policy/auth.hpp"
#include "text.hpp"

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <utility>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <mqttwire/topic.hpp>

namespace mqttwire::broker {

namespace {

constexpr std::size_t salt_bytes = 12;   // mosquitto: salt_len == 12
constexpr std::size_t digest_bytes = 64; // SHA-512 output; mosquitto: password_len == 64

using namespace text;

bool read_whole_file(const std::string& path, std::string& text, std::string& error) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (f == nullptr) {
        error = path + ": cannot open: " + std::strerror(errno);
        return false;
    }
    text.clear();
    char chunk[4096];
    std::size_t n = 0;
    while ((n = std::fread(chunk, 1, sizeof chunk, f)) > 0) text.append(chunk, n);
    const bool failed = std::ferror(f) != 0;
    const int saved = errno;
    std::fclose(f);
    if (failed) {
        error = path + ": cannot read: " + std::strerror(saved);
        return false;
    }
    return true;
}

// Calls fn(line_number, line) for each line (without its '\n'); stops when fn returns false.
template <class Fn> bool for_each_line(std::string_view text, Fn&& fn) {
    std::size_t line_no = 0;
    while (!text.empty()) {
        ++line_no;
        const auto nl = text.find('\n');
        const auto line = text.substr(0, nl);
        text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
        if (!fn(line_no, line)) return false;
    }
    return true;
}

int base64_value(char c) noexcept {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

// Strict RFC 4648 base64 with padding, no whitespace: what mosquitto_passwd writes (OpenSSL's
// BIO_f_base64 with BIO_FLAGS_BASE64_NO_NL).
bool base64_decode(std::string_view in, std::vector<unsigned char>& out) {
    out.clear();
    if (in.empty() || in.size() % 4 != 0) return false;
    std::size_t pad = 0;
    if (in.back() == '=') pad = in[in.size() - 2] == '=' ? 2 : 1;
    for (std::size_t i = 0; i < in.size(); i += 4) {
        std::uint32_t v = 0;
        for (std::size_t j = 0; j < 4; ++j) {
            const char c = in[i + j];
            const bool in_pad = i + 4 == in.size() && j >= 4 - pad;
            int d = 0;
            if (in_pad) {
                if (c != '=') return false;
            } else {
                d = base64_value(c);
                if (d < 0) return false;
            }
            v = (v << 6) | static_cast<std::uint32_t>(d);
        }
        out.push_back(static_cast<unsigned char>(v >> 16));
        if (!(i + 4 == in.size() && pad == 2)) out.push_back(static_cast<unsigned char>(v >> 8));
        if (!(i + 4 == in.size() && pad >= 1)) out.push_back(static_cast<unsigned char>(v));
    }
    return true;
}

bool parse_iterations(std::string_view s, std::uint32_t& out) {
    if (s.empty() || s.size() > 10) return false;
    std::uint64_t v = 0;
    for (const char c : s) {
        if (c < '0' || c > '9') return false;
        v = v * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (v < 1 || v > static_cast<std::uint64_t>(INT_MAX)) return false;
    out = static_cast<std::uint32_t>(v);
    return true;
}

} // namespace

// ---------------------------------------------------------------------------------------------
// password_file
// ---------------------------------------------------------------------------------------------

bool password_file::load(const std::string& path, std::string& error) {
    std::string text;
    if (!read_whole_file(path, text, error)) {
        users_.clear();
        return false;
    }
    return parse(text, path, error);
}

bool password_file::parse(std::string_view text, std::string_view name, std::string& error) {
    users_.clear();
    std::map<std::string, std::size_t, std::less<>> first_line;
    const auto ok = for_each_line(text, [&](std::size_t line_no, std::string_view raw) {
        const auto fail = [&](const std::string& why) {
            error = std::string(name) + ":" + std::to_string(line_no) + ": " + why;
            return false;
        };
        const auto line = trim(raw);
        if (line.empty() || line.front() == '#') return true;
        const auto colon = line.find(':');
        if (colon == std::string_view::npos)
            return fail("expected USER:HASH (as written by mosquitto_passwd), found no ':'");
        const auto user = trim(line.substr(0, colon));
        const auto hash = trim(line.substr(colon + 1));
        if (user.empty()) return fail("empty user name");
        if (hash.empty()) return fail("user " + quoted(user) + " has no password hash");
        if (hash.front() != '$')
            return fail("the password of user " + quoted(user) +
                        " is not hashed; convert the file with mosquitto_passwd -U");
        // Fields after the leading '$'.
        std::vector<std::string_view> parts;
        for (auto rest = hash.substr(1);;) {
            const auto d = rest.find('$');
            parts.push_back(rest.substr(0, d));
            if (d == std::string_view::npos) break;
            rest.remove_prefix(d + 1);
        }
        entry e;
        std::string_view salt_b64;
        std::string_view digest_b64;
        if (parts[0] == "7") {
            if (parts.size() != 4)
                return fail("user " + quoted(user) +
                            ": expected $7$ITERATIONS$SALT$HASH (PBKDF2-SHA512)");
            if (!parse_iterations(parts[1], e.iterations))
                return fail("user " + quoted(user) + ": iteration count " + quoted(parts[1]) +
                            " is not a number from 1 to 2147483647");
            e.pbkdf2 = true;
            salt_b64 = parts[2];
            digest_b64 = parts[3];
        } else if (parts[0] == "6") {
            if (parts.size() != 3)
                return fail("user " + quoted(user) + ": expected $6$SALT$HASH (SHA-512)");
            e.pbkdf2 = false;
            salt_b64 = parts[1];
            digest_b64 = parts[2];
        } else {
            return fail("user " + quoted(user) + ": unsupported hash type " +
                        quoted("$" + std::string(parts[0]) + "$") +
                        " (mosquitto_passwd writes $7$ or, with -H sha512, $6$)");
        }
        if (!base64_decode(salt_b64, e.salt) || e.salt.size() != salt_bytes)
            return fail("user " + quoted(user) + ": the salt is not base64 of 12 bytes");
        if (!base64_decode(digest_b64, e.digest) || e.digest.size() != digest_bytes)
            return fail("user " + quoted(user) + ": the hash is not base64 of 64 bytes");
        if (const auto it = first_line.find(user); it != first_line.end())
            return fail("user " + quoted(user) + " is listed twice (first on line " +
                        std::to_string(it->second) + ")");
        first_line.emplace(std::string(user), line_no);
        users_.emplace(std::string(user), std::move(e));
        return true;
    });
    if (!ok) users_.clear();
    return ok;
}

bool password_file::verify(const entry& e, std::span<const std::byte> password) {
    if (password.size() > static_cast<std::size_t>(INT_MAX)) return false;
    unsigned char out[EVP_MAX_MD_SIZE] = {};
    const auto* pw = reinterpret_cast<const char*>(password.data());
    const auto pw_len = static_cast<int>(password.size());
    bool ok = false;
    if (e.pbkdf2) {
        ok = PKCS5_PBKDF2_HMAC(pw, pw_len, e.salt.data(), static_cast<int>(e.salt.size()),
                               static_cast<int>(e.iterations), EVP_sha512(),
                               static_cast<int>(digest_bytes), out) == 1;
    } else {
        EVP_MD_CTX* ctx = EVP_MD_CTX_new();
        unsigned int len = 0;
        ok = ctx != nullptr && EVP_DigestInit_ex(ctx, EVP_sha512(), nullptr) == 1 &&
             EVP_DigestUpdate(ctx, pw, password.size()) == 1 &&
             EVP_DigestUpdate(ctx, e.salt.data(), e.salt.size()) == 1 &&
             EVP_DigestFinal_ex(ctx, out, &len) == 1 && len == digest_bytes;
        EVP_MD_CTX_free(ctx);
    }
    if (!ok || e.digest.size() != digest_bytes) return false;
    return CRYPTO_memcmp(out, e.digest.data(), digest_bytes) == 0;
}

bool password_file::check(std::string_view user, std::span<const std::byte> password) const {
    const auto it = users_.find(user);
    if (it == users_.end()) {
        // Spend the same time as for a real user (mosquitto_passwd's default cost), so a
        // client cannot tell unknown user names from wrong passwords by timing.
        static const entry dummy = [] {
            entry d;
            d.pbkdf2 = true;
            d.iterations = 101;
            d.salt.assign(salt_bytes, 0);
            d.digest.assign(digest_bytes, 0);
            return d;
        }();
        (void)verify(dummy, password);
        return false;
    }
    return verify(it->second, password);
}

bool password_file::has_user(std::string_view user) const { return users_.contains(user); }

std::size_t password_file::size() const { return users_.size(); }

// ---------------------------------------------------------------------------------------------
// acl_file
// ---------------------------------------------------------------------------------------------

namespace {

constexpr std::uint8_t access_read = static_cast<std::uint8_t>(acl_access::read);
constexpr std::uint8_t access_write = static_cast<std::uint8_t>(acl_access::write);

bool is_wildcard_level(std::string_view level) noexcept { return level == "+" || level == "#"; }

std::vector<std::string_view> split_levels(std::string_view s) {
    std::vector<std::string_view> out;
    for (const auto level : mqttwire::topic_levels(s)) out.push_back(level);
    return out;
}

// Could one topic name match both valid filters `a` and `b`? MQTT-4.7.2-1 applies: a wildcard
// in the first level never matches a topic starting with '$'.
bool filters_intersect(std::string_view a, std::string_view b) {
    const auto la = split_levels(a);
    const auto lb = split_levels(b);
    for (std::size_t i = 0;; ++i) {
        const bool a_end = i == la.size();
        const bool b_end = i == lb.size();
        if (a_end && b_end) return true;
        // "x/#" also matches "x": a filter that ran out meets the other's '#'.
        if (a_end) return lb[i] == "#";
        if (b_end) return la[i] == "#";
        const auto x = la[i];
        const auto y = lb[i];
        if (i == 0) {
            if (is_wildcard_level(x) && !is_wildcard_level(y) && y.starts_with('$')) return false;
            if (is_wildcard_level(y) && !is_wildcard_level(x) && x.starts_with('$')) return false;
        }
        if (x == "#" || y == "#") return true;
        if (x == "+" || y == "+") continue;
        if (x != y) return false;
    }
}

// Does the valid filter `outer` match every topic name the valid filter `inner` matches?
bool filter_covers(std::string_view outer, std::string_view inner) {
    const auto lo = split_levels(outer);
    const auto li = split_levels(inner);
    for (std::size_t i = 0;; ++i) {
        const bool o_end = i == lo.size();
        const bool i_end = i == li.size();
        if (o_end && i_end) return true;
        if (o_end) return false;        // inner reaches deeper than outer allows
        if (i_end) return lo[i] == "#"; // "x/#" covers "x"
        const auto o = lo[i];
        const auto n = li[i];
        const bool dollar_literal = i == 0 && !is_wildcard_level(n) && n.starts_with('$');
        if (o == "#") return !dollar_literal;
        if (n == "#") return false; // inner matches the parent level too; only '#' covers
        if (o == "+") {
            if (dollar_literal) return false;
            continue;
        }
        if (n == "+" || o != n) return false;
    }
}

// Expands %c and %u the way mosquitto does (left to right, a '%' followed by anything else is
// kept). Precondition: `user` is set when the pattern holds %u.
void substitute(std::string_view pattern, std::string_view client_id,
                std::optional<std::string_view> user, std::string& out) {
    out.clear();
    for (std::size_t i = 0; i < pattern.size(); ++i) {
        if (pattern[i] == '%' && i + 1 < pattern.size()) {
            if (pattern[i + 1] == 'c') {
                out.append(client_id);
                ++i;
                continue;
            }
            if (pattern[i + 1] == 'u' && user) {
                out.append(*user);
                ++i;
                continue;
            }
        }
        out += pattern[i];
    }
}

} // namespace

void acl_file::rule_list::add(rule r) {
    if (r.access == 0) {
        // mosquitto puts each new deny entry at the front of its list; order among denies does
        // not change the outcome (any matching deny refuses), so keep them in file order.
        rules.insert(rules.begin() + static_cast<std::ptrdiff_t>(deny_count), std::move(r));
        ++deny_count;
    } else {
        rules.push_back(std::move(r));
    }
}

bool acl_file::load(const std::string& path, std::string& error) {
    std::string text;
    if (!read_whole_file(path, text, error)) {
        anonymous_ = {};
        users_.clear();
        patterns_ = {};
        return false;
    }
    return parse(text, path, error);
}

bool acl_file::parse(std::string_view text, std::string_view name, std::string& error) {
    anonymous_ = {};
    users_.clear();
    patterns_ = {};
    rule_list* current = &anonymous_;
    const auto ok = for_each_line(text, [&](std::size_t line_no, std::string_view raw) {
        const auto fail = [&](const std::string& why) {
            error = std::string(name) + ":" + std::to_string(line_no) + ": " + why;
            return false;
        };
        auto rest = trim(raw);
        if (rest.empty() || rest.front() == '#') return true;
        const auto keyword = next_token(rest);
        if (keyword == "user") {
            if (rest.empty()) return fail("user: missing user name");
            current = &users_[std::string(rest)];
            return true;
        }
        if (keyword != "topic" && keyword != "pattern")
            return fail("unknown keyword " + quoted(keyword) +
                        " (expected user, topic or pattern)");
        const std::string kw(keyword);
        auto access_word = next_token(rest);
        if (access_word.empty()) return fail(kw + ": missing topic filter");
        std::string_view filter = rest; // with an access word: the rest of the line
        std::uint8_t access = access_read | access_write;
        if (filter.empty()) {
            filter = access_word; // no access word: "topic FILTER"
        } else if (access_word == "read") {
            access = access_read;
        } else if (access_word == "write") {
            access = access_write;
        } else if (access_word == "readwrite") {
            access = access_read | access_write;
        } else if (access_word == "deny") {
            access = 0;
        } else {
            return fail(kw + ": invalid access " + quoted(access_word) +
                        " (expected read, write, readwrite or deny)");
        }
        if (mqttwire::validate_topic_filter(filter) != mqttwire::errc::success)
            return fail(kw + ": " + quoted(filter) + " is not a valid topic filter");
        rule r{std::string(filter), access};
        if (keyword == "pattern") {
            patterns_.add(std::move(r));
        } else {
            current->add(std::move(r));
        }
        return true;
    });
    if (!ok) {
        anonymous_ = {};
        users_.clear();
        patterns_ = {};
    }
    return ok;
}

int acl_file::check_list(const std::vector<rule>& rules, std::string_view client_id,
                         std::optional<std::string_view> user, bool substitute_vars,
                         std::string_view topic, acl_access access) {
    std::string expanded;
    const auto want = static_cast<std::uint8_t>(access);
    const bool subscribe = access == acl_access::subscribe;
    for (const auto& r : rules) {
        std::string_view filter = r.filter;
        if (substitute_vars && filter.find('%') != std::string_view::npos) {
            if (!user && filter.find("%u") != std::string_view::npos) continue;
            substitute(filter, client_id, user, expanded);
            if (mqttwire::validate_topic_filter(expanded) != mqttwire::errc::success) continue;
            filter = expanded;
        }
        if (subscribe) {
            if (r.access == 0) {
                if (filter_covers(filter, topic)) return -1;
            } else if ((r.access & access_read) != 0 && filters_intersect(filter, topic)) {
                return 1;
            }
            continue;
        }
        if (!mqttwire::topic_matches(filter, topic)) continue;
        if (r.access == 0) return -1;
        if ((r.access & want) != 0) return 1;
    }
    return 0;
}

bool acl_file::allowed(std::string_view client_id, std::optional<std::string_view> user,
                       std::string_view topic_or_filter, acl_access access) const {
    std::string_view topic = topic_or_filter;
    if (access == acl_access::subscribe) {
        if (subscribe_rule_ == subscribe_rule::mosquitto) return true;
        mqttwire::shared_subscription shared;
        if (mqttwire::parse_shared_subscription(topic, shared) == mqttwire::errc::success)
            topic = shared.filter;
        if (mqttwire::validate_topic_filter(topic) != mqttwire::errc::success) return false;
    } else if (access == acl_access::read || access == acl_access::write) {
        if (mqttwire::validate_topic_name(topic) != mqttwire::errc::success) return false;
    } else {
        return false;
    }

    const rule_list* own = nullptr;
    if (user) {
        if (const auto it = users_.find(*user); it != users_.end()) own = &it->second;
    } else {
        own = &anonymous_;
    }
    if (own != nullptr) {
        const int r = check_list(own->rules, client_id, user, false, topic, access);
        if (r != 0) return r > 0;
    }
    if (patterns_.rules.empty()) return false;
    // mosquitto 2.0: with patterns in use, a user name or client id holding a wildcard could
    // widen a pattern, so such clients are refused.
    if (client_id.find_first_of("+#") != std::string_view::npos) return false;
    if (user && user->find_first_of("+#") != std::string_view::npos) return false;
    return check_list(patterns_.rules, client_id, user, true, topic, access) > 0;
}

} // namespace mqttwire::broker
