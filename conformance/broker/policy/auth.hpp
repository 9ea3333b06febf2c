#pragma once
/// @file
/// @brief mosquitto-compatible password files and ACL files for the reference broker.
///
/// ## Password file (what mosquitto_passwd writes)
///
/// One `USERNAME:HASH` per line; lines starting with `#` and blank lines are skipped. HASH is
///
///     $7$ITERATIONS$SALT$DIGEST   PBKDF2-HMAC-SHA512(password, salt, ITERATIONS, 64 bytes)
///     $6$SALT$DIGEST              SHA-512(password || salt)   (mosquitto 1.6 and earlier)
///
/// SALT and DIGEST are standard base64 (RFC 4648 alphabet `A-Z a-z 0-9 + /`, `=` padding, no
/// line breaks); SALT decodes to exactly 12 bytes (16 characters) and DIGEST to exactly 64
/// (88 characters ending `==`); ITERATIONS is decimal (mosquitto_passwd 2.0 writes 101). These
/// are the checks mosquitto 2.0 applies when it reads the file (src/security_default.c,
/// unpwd__decode_passwords: `salt_len == 12`, `password_len == 64`, `iterations >= 1`; pw__digest
/// for the two hash functions), and they were verified against files written by Debian's
/// mosquitto_passwd 2.0.11 (`-H sha512-pbkdf2`, the default, and `-H sha512`).
///
/// Where mosquitto only logs and drops a bad entry, load() fails with the line number: a
/// plaintext password (not yet converted with `mosquitto_passwd -U`), an unknown hash type, bad
/// base64, wrong salt/digest length, iterations < 1, a line without `:`, an empty user name, or
/// a user listed twice. Blanks around the user name and the hash are ignored (mosquitto trims
/// them too).
///
/// ## ACL file (mosquitto 2.0 semantics, src/security_default.c)
///
///     # comment
///     topic [read|write|readwrite|deny] FILTER     anonymous clients (before any `user` line)
///     user NAME
///     topic [read|write|readwrite|deny] FILTER     clients authenticated as NAME
///     pattern [read|write|readwrite|deny] FILTER   every client; %c = client id, %u = user name
///
/// - The access word is optional (readwrite). With an access word, FILTER is the rest of the
///   line, so it may contain spaces; without one it is the single remaining word. FILTER must be
///   a valid topic filter. `user NAME` takes the rest of the line; repeated blocks for the same
///   NAME merge. A line that is none of these fails load() with its line number.
/// - A client's entries are those of its user block (the anonymous block when it has no user
///   name), then the patterns. Within each list, `deny` entries come first (mosquitto moves them
///   to the front of their list), then the others in file order. The first entry whose filter
///   matches the topic decides: `deny` refuses; an entry granting the access allows; an entry
///   granting other access is skipped. Nothing matching means refused: once an ACL file is
///   configured everything not granted is denied (an empty file denies everything).
///   Consequence kept from mosquitto: a grant in the user's block wins over a `pattern ... deny`.
/// - Before looking at patterns, a client whose user name or client id holds `+` or `#` is
///   refused outright (it could otherwise widen a pattern). `%u` patterns are skipped for clients
///   without a user name. Substitution is textual (`dev/%c-state` works).
/// - read (a message is delivered to a subscriber) and write (a client publishes, also the Will)
///   check a topic *name* against the filters with mqttwire::topic_matches, so `+`/`#` in the
///   ACL match as in a subscription and wildcards never match `$` topics (MQTT-4.7.2-1).
/// - subscribe: **mosquitto 2.0.x grants every SUBSCRIBE** from its ACL file
///   (mosquitto_acl_check_default returns success for MOSQ_ACL_SUBSCRIBE with the comment
///   "FIXME - implement ACL subscription strings"; confirmed with mosquitto 2.0.11, which grants
///   `#` and explicitly denied filters) and relies on the per-message read check. The issue
///   wants an unauthorised SUBSCRIBE to get a failure code, so by default (subscribe_rule::
///   readable) a filter S is allowed when, walking the same ordered entries, the first entry
///   that *intersects* S (some topic matches both) and grants read comes before any `deny`
///   entry that *covers* S (every topic S matches is matched by the deny filter); deny entries
///   that only partly overlap S are passed over, their topics are stopped by the read check at
///   delivery. A `$share/NAME/F` filter is checked as F. The broker must still check read for
///   every delivered message (including retained ones): a subscription to `#` may be allowed
///   because one branch is readable. subscribe_rule::mosquitto restores mosquitto's answer.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mqttwire::broker {

/// A mosquitto password file loaded in memory (hashes only, never passwords).
class password_file {
  public:
    /// @brief Replaces the contents with the file at `path`.
    /// @return false with `error` = "PATH:LINE: reason" (or "PATH: reason") on any problem; the
    /// object is then empty.
    [[nodiscard]] bool load(const std::string& path, std::string& error);

    /// @brief Same as load() for text already in memory; `name` prefixes error messages.
    [[nodiscard]] bool parse(std::string_view text, std::string_view name, std::string& error);

    /// @brief True when `user` is in the file and `password` hashes to its digest. The digest
    /// comparison is constant-time (CRYPTO_memcmp), and an unknown user costs one hash too, so
    /// timing does not reveal which user names exist. All password bytes are hashed (mosquitto
    /// stops at the first NUL byte, which mosquitto_passwd cannot produce). A CONNECT without a
    /// password must be refused by the caller for users in the file, as mosquitto does.
    [[nodiscard]] bool check(std::string_view user, std::span<const std::byte> password) const;

    [[nodiscard]] bool has_user(std::string_view user) const;
    [[nodiscard]] std::size_t size() const;

  private:
    struct entry {
        bool pbkdf2 = true;           // $7$ (false: $6$)
        std::uint32_t iterations = 0; // $7$ only
        std::vector<unsigned char> salt;
        std::vector<unsigned char> digest;
    };
    [[nodiscard]] static bool verify(const entry& e, std::span<const std::byte> password);
    std::map<std::string, entry, std::less<>> users_;
};

/// Access kinds; `read` = delivery to the client, `write` = the client publishes.
enum class acl_access : std::uint8_t { read = 1, write = 2, subscribe = 4 };

/// How subscribe is answered; see the file comment.
enum class subscribe_rule : std::uint8_t {
    readable,  ///< default: the filter must reach a readable branch and not be wholly denied
    mosquitto, ///< mosquitto 2.0.x: every SUBSCRIBE is granted, delivery is filtered by read
};

/// A mosquitto ACL file loaded in memory.
class acl_file {
  public:
    /// @brief Replaces the contents with the file at `path`.
    /// @return false with `error` = "PATH:LINE: reason" (or "PATH: reason"); the object is then
    /// empty (which denies everything).
    [[nodiscard]] bool load(const std::string& path, std::string& error);

    /// @brief Same as load() for text already in memory; `name` prefixes error messages.
    [[nodiscard]] bool parse(std::string_view text, std::string_view name, std::string& error);

    /// @brief May the client do `access` on `topic_or_filter`?
    /// `client_id` as connected (the assigned one for a zero-length id); `user` empty for a
    /// client that sent no user name. read/write take a topic name, subscribe a topic filter.
    [[nodiscard]] bool allowed(std::string_view client_id, std::optional<std::string_view> user,
                               std::string_view topic_or_filter, acl_access access) const;

    void set_subscribe_rule(subscribe_rule r) { subscribe_rule_ = r; }
    [[nodiscard]] subscribe_rule get_subscribe_rule() const { return subscribe_rule_; }

  private:
    struct rule {
        std::string filter;
        std::uint8_t access = 0; // acl_access bits; 0 = deny
    };
    struct rule_list {
        std::vector<rule> rules;
        std::size_t deny_count = 0; // the first deny_count rules are the deny ones
        void add(rule r);
    };
    [[nodiscard]] static int check_list(const std::vector<rule>& rules, std::string_view client_id,
                                        std::optional<std::string_view> user, bool substitute,
                                        std::string_view topic, acl_access access);

    rule_list anonymous_;
    std::map<std::string, rule_list, std::less<>> users_;
    rule_list patterns_;
    subscribe_rule subscribe_rule_ = subscribe_rule::readable;
};

} // namespace mqttwire::broker
