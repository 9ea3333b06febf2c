// Tests of the mosquitto-compatible password file and ACL file (conformance/broker/policy/auth.hpp).
//
// Password files are made at test time by the real mosquitto_passwd (Debian package mosquitto,
// installed by ci/install-deps.sh). Those tests report SKIPPED, never PASSED, when the binary is
// missing; the fixed vectors below (written by mosquitto_passwd 2.0.11) keep the format covered
// even then.
//
// Normative statements: the ACL matches topics with MQTT's own rules (section 4.7), through
// mqttwire::topic_matches and validate_topic_filter; the tests below cite the ones they check.
// What the broker does with a refusal (PUBACK/SUBACK codes) is tested with the broker.

#include "policy/auth.hpp"
#include "temp_dir.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <unistd.h>
#include <vector>

#ifndef MQTTWIRE_MOSQUITTO_PASSWD
#define MQTTWIRE_MOSQUITTO_PASSWD "/usr/bin/mosquitto_passwd"
#endif

namespace mb = mqttwire::broker;
using mb::acl_access;

namespace {

std::span<const std::byte> bytes(std::string_view s) {
    return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

std::string shell_quote(std::string_view s) {
    std::string out = "'";
    for (const char c : s) {
        if (c == '\'') {
            out += "'\\''";
        } else {
            out += c;
        }
    }
    out += '\'';
    return out;
}

using mqttwire::broker::test::temp_dir;

bool have_mosquitto_passwd() { return ::access(MQTTWIRE_MOSQUITTO_PASSWD, X_OK) == 0; }

// Runs mosquitto_passwd [-H hash] [-c] -b FILE USER PASSWORD.
void mosquitto_passwd(const std::string& file, std::string_view user, std::string_view password,
                      bool create, std::string_view hash = {}) {
    std::string cmd = MQTTWIRE_MOSQUITTO_PASSWD;
    if (!hash.empty()) cmd += " -H " + std::string(hash);
    if (create) cmd += " -c";
    cmd += " -b " + shell_quote(file) + " " + shell_quote(user) + " " + shell_quote(password);
    cmd += " >/dev/null 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
}

#define REQUIRE_MOSQUITTO_PASSWD()                                                                 \
    do {                                                                                           \
        if (!have_mosquitto_passwd())                                                              \
            GTEST_SKIP() << "SKIPPED, NOT PASSED: " MQTTWIRE_MOSQUITTO_PASSWD                      \
                            " is missing (Debian package mosquitto; run ci/install-deps.sh)";      \
    } while (0)

mb::password_file load_passwords(const std::string& path) {
    mb::password_file pw;
    std::string error;
    EXPECT_TRUE(pw.load(path, error)) << error;
    return pw;
}

mb::acl_file acl_from(std::string_view text) {
    mb::acl_file acl;
    std::string error;
    EXPECT_TRUE(acl.parse(text, "acl", error)) << error;
    return acl;
}

void expect_acl_error(std::string_view text, std::size_t line, std::string_view needle) {
    mb::acl_file acl;
    std::string error;
    ASSERT_FALSE(acl.parse(text, "acl", error)) << text;
    const auto where = "acl:" + std::to_string(line) + ":";
    EXPECT_EQ(error.rfind(where, 0), 0u) << error;
    EXPECT_NE(error.find(needle), std::string::npos) << error;
}

void expect_pw_error(std::string_view text, std::size_t line, std::string_view needle) {
    mb::password_file pw;
    std::string error;
    ASSERT_FALSE(pw.parse(text, "pw", error)) << text;
    const auto where = "pw:" + std::to_string(line) + ":";
    EXPECT_EQ(error.rfind(where, 0), 0u) << error;
    EXPECT_NE(error.find(needle), std::string::npos) << error;
    EXPECT_EQ(pw.size(), 0u);
}

// Lines written by Debian's mosquitto_passwd 2.0.11 (default -H sha512-pbkdf2, and -H sha512).
constexpr std::string_view alice_secret_v7 =
    "alice:$7$101$oWQbgyLbeYNv/u5u$Uy2kW1BM1TJKSMa+McWyQQcBzKXrVncmkQmw9auBAs2OvW3HRkOOn/"
    "z42aSthixsdCv8kTagqWCCWchSQOG02g==";
constexpr std::string_view bob_v7 = // password "p@ss:w rd"
    "bob:$7$101$5yzj2ErtYtnmbxzm$SxNMRv95XmMp4gQBQOlsUuhFZKVyo/y8wp/WVEPgESpzt+dtl8cE6BA2z/"
    "JQckDQ+wd44X+paXXdhXkxElgo/A==";
constexpr std::string_view dave_x_v7_1000 =
    "dave:$7$1000$sdhfAwr9n1Pi95cL$ap2Dqeu8KNX3xcasZ2huN1Zus/HI7s2i0w1/"
    "X3dawCDRuxSWrerv+3lZPpvPwPh3r6HaKXVP+okH9vC35YzXow==";
constexpr std::string_view carol_hunter2_v6 =
    "carol:$6$6+EKUORlgGtarxlO$wMxuI9e7VafCVUapMAg+t8d4NGWtJbWhRQKVnHGO3rYSAvqapl+dUl+mUg4s9tiaH"
    "iTQ8Fetd8c/LDnxxbiQ8w==";

} // namespace

// ---------------------------------------------------------------------------------------------
// Password files
// ---------------------------------------------------------------------------------------------

TEST(PasswordFile, FixedVectorsFromMosquittoPasswd) {
    const std::string text = std::string(alice_secret_v7) + "\n" + std::string(bob_v7) + "\n" +
                             std::string(dave_x_v7_1000) + "\n" + std::string(carol_hunter2_v6) +
                             "\n";
    mb::password_file pw;
    std::string error;
    ASSERT_TRUE(pw.parse(text, "vectors", error)) << error;
    EXPECT_EQ(pw.size(), 4u);
    EXPECT_TRUE(pw.check("alice", bytes("secret")));
    EXPECT_FALSE(pw.check("alice", bytes("Secret")));
    EXPECT_FALSE(pw.check("alice", bytes("secret ")));
    EXPECT_FALSE(pw.check("alice", bytes("")));
    EXPECT_TRUE(pw.check("bob", bytes("p@ss:w rd")));
    EXPECT_FALSE(pw.check("bob", bytes("p@ss")));
    EXPECT_TRUE(pw.check("dave", bytes("x")));
    EXPECT_FALSE(pw.check("dave", bytes("y")));
    EXPECT_TRUE(pw.check("carol", bytes("hunter2"))); // $6$: SHA-512(password || salt)
    EXPECT_FALSE(pw.check("carol", bytes("hunter3")));
    EXPECT_FALSE(pw.check("carol", bytes("secret")));
    // Another user's password is not this user's.
    EXPECT_FALSE(pw.check("alice", bytes("hunter2")));
    EXPECT_FALSE(pw.check("mallory", bytes("secret")));
    EXPECT_TRUE(pw.has_user("alice"));
    EXPECT_FALSE(pw.has_user("Alice"));
    EXPECT_FALSE(pw.has_user("mallory"));
}

TEST(PasswordFile, Pbkdf2FileMadeByMosquittoPasswd) {
    REQUIRE_MOSQUITTO_PASSWD();
    temp_dir dir;
    const auto file = dir.path + "/passwd";
    mosquitto_passwd(file, "alice", "secret", true);
    mosquitto_passwd(file, "bob", "p@ss:w rd", false);
    mosquitto_passwd(file, "jos\xc3\xa9",
                     "contrase\xc3\xb1"
                     "a",
                     false);
    mosquitto_passwd(file, "empty", "", false);
    std::ifstream in(file);
    std::string first;
    std::getline(in, first);
    EXPECT_EQ(first.rfind("alice:$7$", 0), 0u) << first;

    const auto pw = load_passwords(file);
    EXPECT_EQ(pw.size(), 4u);
    EXPECT_TRUE(pw.check("alice", bytes("secret")));
    EXPECT_FALSE(pw.check("alice", bytes("wrong")));
    EXPECT_TRUE(pw.check("bob", bytes("p@ss:w rd")));
    EXPECT_FALSE(pw.check("bob", bytes("secret")));
    EXPECT_TRUE(pw.check("jos\xc3\xa9", bytes("contrase\xc3\xb1"
                                              "a")));
    EXPECT_FALSE(pw.check("jos\xc3\xa9", bytes("contrasena")));
    EXPECT_TRUE(pw.check("empty", bytes("")));
    EXPECT_FALSE(pw.check("empty", bytes(" ")));
    EXPECT_FALSE(pw.check("nobody", bytes("secret")));
}

TEST(PasswordFile, Sha512FileMadeByMosquittoPasswd) {
    REQUIRE_MOSQUITTO_PASSWD();
    temp_dir dir;
    const auto file = dir.path + "/passwd";
    mosquitto_passwd(file, "carol", "hunter2", true, "sha512");
    mosquitto_passwd(file, "dan", "correct horse", false, "sha512");
    std::ifstream in(file);
    std::string first;
    std::getline(in, first);
    EXPECT_EQ(first.rfind("carol:$6$", 0), 0u) << first;

    const auto pw = load_passwords(file);
    EXPECT_EQ(pw.size(), 2u);
    EXPECT_TRUE(pw.check("carol", bytes("hunter2")));
    EXPECT_FALSE(pw.check("carol", bytes("hunter")));
    EXPECT_TRUE(pw.check("dan", bytes("correct horse")));
    EXPECT_FALSE(pw.check("dan", bytes("correct  horse")));
}

TEST(PasswordFile, MixedHashesAndUpdatesMadeByMosquittoPasswd) {
    REQUIRE_MOSQUITTO_PASSWD();
    temp_dir dir;
    const auto file = dir.path + "/passwd";
    mosquitto_passwd(file, "old", "legacy", true, "sha512");
    mosquitto_passwd(file, "new", "modern", false, "sha512-pbkdf2");
    mosquitto_passwd(file, "changed", "first", false);
    mosquitto_passwd(file, "changed", "second", false); // replaces the line
    const auto pw = load_passwords(file);
    EXPECT_EQ(pw.size(), 3u);
    EXPECT_TRUE(pw.check("old", bytes("legacy")));
    EXPECT_TRUE(pw.check("new", bytes("modern")));
    EXPECT_TRUE(pw.check("changed", bytes("second")));
    EXPECT_FALSE(pw.check("changed", bytes("first")));
}

TEST(PasswordFile, AllPasswordBytesCount) {
    mb::password_file pw;
    std::string error;
    ASSERT_TRUE(pw.parse(alice_secret_v7, "pw", error)) << error;
    // A binary MQTT password: bytes after a NUL are not ignored (mosquitto's strlen would).
    const std::string with_nul("secret\0tail", 11);
    EXPECT_FALSE(pw.check("alice", bytes(with_nul)));
}

TEST(PasswordFile, CommentsBlankLinesAndBlanksAreIgnored) {
    const std::string text = "# made by mosquitto_passwd\n\n   \n" + std::string(alice_secret_v7) +
                             "   \r\n  " + std::string(carol_hunter2_v6);
    mb::password_file pw;
    std::string error;
    ASSERT_TRUE(pw.parse(text, "pw", error)) << error;
    EXPECT_EQ(pw.size(), 2u);
    EXPECT_TRUE(pw.check("alice", bytes("secret")));
    EXPECT_TRUE(pw.check("carol", bytes("hunter2")));
}

TEST(PasswordFile, MalformedLinesFailWithTheirLineNumber) {
    const std::string good(alice_secret_v7);
    const std::string salt = "oWQbgyLbeYNv/u5u";
    const std::string hash =
        "Uy2kW1BM1TJKSMa+McWyQQcBzKXrVncmkQmw9auBAs2OvW3HRkOOn/z42aSthixsdCv8kTagqWCCWchSQOG02g==";
    expect_pw_error(good + "\njustaname\n", 2, "no ':'");
    expect_pw_error(":$7$101$" + salt + "$" + hash + "\n", 1, "empty user name");
    expect_pw_error("u:\n", 1, "has no password hash");
    expect_pw_error("# c\nu:plaintext\n", 2,
                    "not hashed; convert the file with mosquitto_passwd -U");
    expect_pw_error("u:$5$" + salt + "$" + hash + "\n", 1, "unsupported hash type '$5$'");
    expect_pw_error("u:$7$" + salt + "$" + hash + "\n", 1, "expected $7$ITERATIONS$SALT$HASH");
    expect_pw_error("u:$7$0$" + salt + "$" + hash + "\n", 1, "iteration count '0'");
    expect_pw_error("u:$7$-5$" + salt + "$" + hash + "\n", 1, "iteration count");
    expect_pw_error("u:$7$99999999999$" + salt + "$" + hash + "\n", 1, "iteration count");
    expect_pw_error("u:$7$101$" + salt + "$" + hash + "$extra\n", 1, "expected $7$");
    expect_pw_error("u:$6$101$" + salt + "$" + hash + "\n", 1, "expected $6$SALT$HASH");
    expect_pw_error("u:$6$" + salt + "\n", 1, "expected $6$SALT$HASH");
    // Salt must be base64 of exactly 12 bytes, the hash of exactly 64 (mosquitto's checks).
    expect_pw_error("u:$7$101$oWQbgyLbeYNv$" + hash + "\n", 1, "salt is not base64 of 12 bytes");
    expect_pw_error("u:$7$101$oWQbgyLbeYNv/u5*$" + hash + "\n", 1, "salt is not base64");
    expect_pw_error("u:$7$101$" + salt + "$" + hash.substr(4) + "\n", 1,
                    "hash is not base64 of 64 bytes");
    expect_pw_error("u:$7$101$" + salt + "$" + hash.substr(0, 86) + "\n", 1,
                    "hash is not base64"); // padding stripped
    expect_pw_error("u:$7$101$" + salt + "$\n", 1, "hash is not base64");
    expect_pw_error(good + "\n" + good + "\n", 2, "listed twice (first on line 1)");
}

TEST(PasswordFile, LoadErrors) {
    mb::password_file pw;
    std::string error;
    EXPECT_FALSE(pw.load("/nonexistent/passwd", error));
    EXPECT_NE(error.find("/nonexistent/passwd"), std::string::npos);

    temp_dir dir;
    const auto path = dir.write("pw", std::string(alice_secret_v7) + "\nbroken\n");
    EXPECT_FALSE(pw.load(path, error));
    EXPECT_EQ(error.rfind(path + ":2:", 0), 0u) << error;
    EXPECT_EQ(pw.size(), 0u);
    EXPECT_FALSE(pw.check("alice", bytes("secret"))); // a failed load leaves nothing usable
}

TEST(PasswordFile, LoadFromDisk) {
    temp_dir dir;
    const auto path = dir.write("pw", std::string(carol_hunter2_v6) + "\n");
    const auto pw = load_passwords(path);
    EXPECT_TRUE(pw.check("carol", bytes("hunter2")));
}

// ---------------------------------------------------------------------------------------------
// ACL files
// ---------------------------------------------------------------------------------------------

namespace {
constexpr auto R = acl_access::read;
constexpr auto W = acl_access::write;
constexpr auto S = acl_access::subscribe;
constexpr std::optional<std::string_view> anon = std::nullopt;
} // namespace

TEST(AclFile, AnonymousTopicLinesApplyOnlyToClientsWithoutUserName) {
    const auto acl = acl_from("# anonymous clients\n"
                              "topic read public/#\n"
                              "topic write public/inbox\n"
                              "user alice\n"
                              "topic alice/#\n");
    EXPECT_TRUE(acl.allowed("c1", anon, "public/news", R));
    EXPECT_FALSE(acl.allowed("c1", anon, "public/news", W));
    EXPECT_TRUE(acl.allowed("c1", anon, "public/inbox", W));
    EXPECT_TRUE(acl.allowed("c1", anon, "public/inbox", R)); // public/# grants read
    EXPECT_FALSE(acl.allowed("c1", anon, "alice/x", R));
    // A user that has its own block does not inherit the anonymous lines.
    EXPECT_FALSE(acl.allowed("c2", "alice", "public/news", R));
    EXPECT_TRUE(acl.allowed("c2", "alice", "alice/x", R));
    EXPECT_TRUE(acl.allowed("c2", "alice", "alice/x", W)); // no access word: readwrite
    // A user without any block gets nothing (no patterns here).
    EXPECT_FALSE(acl.allowed("c3", "bob", "public/news", R));
    EXPECT_FALSE(acl.allowed("c3", "bob", "alice/x", R));
}

TEST(AclFile, UserBlocksAndAccessWords) {
    const auto acl = acl_from("user alice\n"
                              "topic read sensors/#\n"
                              "topic write cmd/+/set\n"
                              "topic readwrite chat\n"
                              "user bob\n"
                              "topic readwrite sensors/kitchen/temp\n"
                              "user alice\n" // a second block for alice merges with the first
                              "topic read extra\n");
    EXPECT_TRUE(acl.allowed("a", "alice", "sensors/kitchen/temp", R));
    EXPECT_FALSE(acl.allowed("a", "alice", "sensors/kitchen/temp", W));
    EXPECT_TRUE(acl.allowed("a", "alice", "cmd/lamp/set", W));
    EXPECT_FALSE(acl.allowed("a", "alice", "cmd/lamp/set", R));
    EXPECT_FALSE(acl.allowed("a", "alice", "cmd/lamp/state", W));
    EXPECT_TRUE(acl.allowed("a", "alice", "chat", R));
    EXPECT_TRUE(acl.allowed("a", "alice", "chat", W));
    EXPECT_TRUE(acl.allowed("a", "alice", "extra", R));
    EXPECT_TRUE(acl.allowed("b", "bob", "sensors/kitchen/temp", W));
    EXPECT_FALSE(acl.allowed("b", "bob", "sensors/kitchen/humidity", R));
    EXPECT_FALSE(acl.allowed("b", "bob", "chat", R));
}

// '#' matches the parent and every level below, '+' exactly one level, and a filter starting
// with a wildcard never matches a '$' topic (MQTT-4.7.2-1, MQTT5-4.7.2-1): the ACL uses
// mqttwire::topic_matches.
TEST(AclFile, WildcardsInAclFiltersMatchTopics_MQTT_4_7_2_1) {
    const auto acl = acl_from("user u\n"
                              "topic read home/#\n"
                              "topic read +/status\n"
                              "topic read #\n"
                              "user sys\n"
                              "topic read $SYS/#\n");
    EXPECT_TRUE(acl.allowed("c", "u", "home", R));
    EXPECT_TRUE(acl.allowed("c", "u", "home/a/b/c", R));
    EXPECT_TRUE(acl.allowed("c", "u", "dev/status", R));
    EXPECT_TRUE(acl.allowed("c", "u", "anything/else", R));
    EXPECT_FALSE(acl.allowed("c", "u", "$SYS/broker/uptime", R)); // '#' does not reach '$'
    EXPECT_TRUE(acl.allowed("c", "sys", "$SYS/broker/uptime", R));
    EXPECT_FALSE(acl.allowed("c", "sys", "SYS/broker/uptime", R));

    const auto plus = acl_from("topic read a/+/c\n");
    EXPECT_TRUE(plus.allowed("c", anon, "a/b/c", R));
    EXPECT_TRUE(plus.allowed("c", anon, "a//c", R)); // '+' matches an empty level
    EXPECT_FALSE(plus.allowed("c", anon, "a/b/x/c", R));
    EXPECT_FALSE(plus.allowed("c", anon, "a/c", R));
}

TEST(AclFile, DenyEntriesComeFirst) {
    // mosquitto 2.0 moves 'deny' entries to the front of their list: the order in the file does
    // not matter.
    const auto acl = acl_from("user alice\n"
                              "topic readwrite home/#\n"
                              "topic deny home/secret/#\n"
                              "topic read home/secret/allowed\n");
    EXPECT_TRUE(acl.allowed("c", "alice", "home/kitchen", R));
    EXPECT_TRUE(acl.allowed("c", "alice", "home/kitchen", W));
    EXPECT_FALSE(acl.allowed("c", "alice", "home/secret", R));
    EXPECT_FALSE(acl.allowed("c", "alice", "home/secret/x", W));
    EXPECT_FALSE(acl.allowed("c", "alice", "home/secret/allowed", R));
}

TEST(AclFile, EntriesGrantingOtherAccessAreSkipped) {
    const auto acl = acl_from("user u\ntopic write t/#\ntopic read t/x\n");
    EXPECT_TRUE(acl.allowed("c", "u", "t/x", R)); // the write entry matches first but is skipped
    EXPECT_TRUE(acl.allowed("c", "u", "t/x", W));
    EXPECT_FALSE(acl.allowed("c", "u", "t/y", R));
}

TEST(AclFile, PatternsSubstituteClientIdAndUserName) {
    const auto acl = acl_from("pattern write devices/%c/state\n"
                              "pattern read devices/%c/cmd\n"
                              "pattern readwrite users/%u/#\n"
                              "pattern read log/%u-%c\n"
                              "pattern read percent/%x/%%c\n");
    EXPECT_TRUE(acl.allowed("lamp1", "alice", "devices/lamp1/state", W));
    EXPECT_FALSE(acl.allowed("lamp1", "alice", "devices/lamp1/state", R));
    EXPECT_FALSE(acl.allowed("lamp1", "alice", "devices/lamp2/state", W));
    EXPECT_TRUE(acl.allowed("lamp1", "alice", "devices/lamp1/cmd", R));
    EXPECT_TRUE(acl.allowed("lamp1", "alice", "users/alice/inbox", W));
    EXPECT_FALSE(acl.allowed("lamp1", "alice", "users/bob/inbox", R));
    EXPECT_TRUE(acl.allowed("lamp1", "alice", "log/alice-lamp1", R)); // textual substitution
    EXPECT_TRUE(acl.allowed("id", "u", "percent/%x/%id", R));         // other '%' kept
    // Patterns apply to anonymous clients too, except those with %u.
    EXPECT_TRUE(acl.allowed("lamp1", anon, "devices/lamp1/state", W));
    EXPECT_FALSE(acl.allowed("lamp1", anon, "users//inbox", W));
    EXPECT_FALSE(acl.allowed("lamp1", anon, "users/%u/inbox", W));
    // An empty user name is a user name (MQTT 5.0 allows it).
    EXPECT_TRUE(acl.allowed("lamp1", "", "users//inbox", W));
}

TEST(AclFile, WildcardsInClientIdOrUserNameAreRefusedWhenPatternsExist) {
    const auto acl = acl_from("user al+ce\ntopic read own\npattern read devices/%c/#\n"
                              "pattern read users/%u/#\n");
    // '+' or '#' in an id would widen the pattern (mosquitto 2.0 refuses such clients).
    EXPECT_FALSE(acl.allowed("#", "bob", "devices/x/y", R));
    EXPECT_FALSE(acl.allowed("+", anon, "devices/x/y", R));
    EXPECT_FALSE(acl.allowed("c", "#", "users/x/y", R));
    EXPECT_TRUE(acl.allowed("c", "bob", "users/bob/y", R));
    // Its own user block is checked before that refusal, as in mosquitto.
    EXPECT_TRUE(acl.allowed("c", "al+ce", "own", R));
    EXPECT_FALSE(acl.allowed("c", "al+ce", "devices/c/y", R));
    // A '/' is no longer refused by mosquitto 2.0: it simply adds levels.
    EXPECT_TRUE(acl.allowed("a/b", "bob", "devices/a/b/z", R));
}

TEST(AclFile, UserEntriesAreCheckedBeforePatterns) {
    const auto acl = acl_from("pattern deny private/%u/#\n"
                              "pattern read private/#\n"
                              "user alice\n"
                              "topic read private/alice/diary\n");
    // alice's own grant wins over the pattern deny (mosquitto checks the user's list first).
    EXPECT_TRUE(acl.allowed("c", "alice", "private/alice/diary", R));
    EXPECT_FALSE(acl.allowed("c", "alice", "private/alice/other", R));
    EXPECT_TRUE(acl.allowed("c", "alice", "private/bob/x", R));
    EXPECT_FALSE(acl.allowed("c", "bob", "private/bob/x", R));
}

TEST(AclFile, EverythingNotGrantedIsDenied) {
    const auto empty = acl_from("# nothing granted\n");
    EXPECT_FALSE(empty.allowed("c", anon, "a", R));
    EXPECT_FALSE(empty.allowed("c", "u", "a", W));
    EXPECT_FALSE(empty.allowed("c", "u", "a", S));
    const mb::acl_file never_loaded;
    EXPECT_FALSE(never_loaded.allowed("c", "u", "a", R));
}

// Wildcards never appear in topic names (MQTT-4.7.1-1): read/write of a filter is refused.
TEST(AclFile, InvalidTopicsAreRefused_MQTT_4_7_1_1) {
    const auto acl = acl_from("topic #\n");
    EXPECT_FALSE(acl.allowed("c", anon, "a/+", R)); // a filter is not a topic name
    EXPECT_FALSE(acl.allowed("c", anon, "a/#", W));
    EXPECT_FALSE(acl.allowed("c", anon, "", W));
    EXPECT_FALSE(acl.allowed("c", anon, "a/#/b", S));
    EXPECT_TRUE(acl.allowed("c", anon, "a/+", S));
}

// Subscribe (our rule; mosquitto 2.0 grants all, see auth.hpp): allowed when the filter can
// reach a readable topic, refused when it reaches none or a deny entry covers it entirely.
TEST(AclFile, SubscribeChecksTheFilterAgainstAclFilters) {
    const auto acl = acl_from("user alice\n"
                              "topic read sensors/+/temp\n"
                              "topic write cmd/#\n"
                              "topic readwrite home/#\n"
                              "topic deny home/secret/#\n");
    // Exact topics and narrower filters inside a read grant.
    EXPECT_TRUE(acl.allowed("c", "alice", "sensors/kitchen/temp", S));
    EXPECT_TRUE(acl.allowed("c", "alice", "sensors/+/temp", S));
    EXPECT_TRUE(acl.allowed("c", "alice", "home/#", S));
    EXPECT_TRUE(acl.allowed("c", "alice", "home/+/light", S));
    // Wider filters that still reach a readable branch are allowed; delivery is read-checked.
    EXPECT_TRUE(acl.allowed("c", "alice", "#", S));
    EXPECT_TRUE(acl.allowed("c", "alice", "sensors/#", S));
    EXPECT_TRUE(acl.allowed("c", "alice", "+/+/temp", S));
    EXPECT_TRUE(acl.allowed("c", "alice", "home", S)); // home/# covers its parent
    // Write-only and unrelated branches: nothing could ever be delivered.
    EXPECT_FALSE(acl.allowed("c", "alice", "cmd/lamp", S));
    EXPECT_FALSE(acl.allowed("c", "alice", "cmd/#", S));
    EXPECT_FALSE(acl.allowed("c", "alice", "sensors/kitchen/humidity", S));
    EXPECT_FALSE(acl.allowed("c", "alice", "sensors/+", S));
    EXPECT_FALSE(acl.allowed("c", "alice", "other/#", S));
    // Wholly denied filters are refused; partly denied ones are allowed (read check filters).
    EXPECT_FALSE(acl.allowed("c", "alice", "home/secret", S));
    EXPECT_FALSE(acl.allowed("c", "alice", "home/secret/#", S));
    EXPECT_FALSE(acl.allowed("c", "alice", "home/secret/+/x", S));
    EXPECT_TRUE(acl.allowed("c", "alice", "home/+", S));
    // '$' topics (MQTT-4.7.2-1, MQTT5-4.7.2-1): '#' grants nothing under $SYS, so $SYS filters
    // are refused.
    const auto all = acl_from("topic read #\n");
    EXPECT_TRUE(all.allowed("c", anon, "#", S));
    EXPECT_FALSE(all.allowed("c", anon, "$SYS/#", S));
    EXPECT_FALSE(all.allowed("c", anon, "$SYS/broker/uptime", S));
    const auto sys = acl_from("topic read $SYS/broker/#\n");
    EXPECT_TRUE(sys.allowed("c", anon, "$SYS/#", S));
    EXPECT_TRUE(sys.allowed("c", anon, "$SYS/broker/uptime", S));
    EXPECT_FALSE(sys.allowed("c", anon, "#", S)); // '#' never delivers $SYS topics
    EXPECT_FALSE(sys.allowed("c", anon, "+/broker/uptime", S));
}

TEST(AclFile, SubscribeDenyCoverage) {
    const auto acl = acl_from("topic read #\n"
                              "topic deny a/+\n"
                              "topic deny b/#\n");
    EXPECT_FALSE(acl.allowed("c", anon, "a/x", S));
    EXPECT_FALSE(acl.allowed("c", anon, "a/+", S));
    EXPECT_TRUE(acl.allowed("c", anon, "a/#", S)); // a/# also reaches a and a/x/y
    EXPECT_TRUE(acl.allowed("c", anon, "a", S));
    EXPECT_FALSE(acl.allowed("c", anon, "b", S)); // b/# covers its parent
    EXPECT_FALSE(acl.allowed("c", anon, "b/#", S));
    EXPECT_FALSE(acl.allowed("c", anon, "b/+/+", S));
    EXPECT_TRUE(acl.allowed("c", anon, "+/x", S)); // partly denied
    EXPECT_TRUE(acl.allowed("c", anon, "#", S));
}

TEST(AclFile, SubscribeWithPatternsAndSharedSubscriptions) {
    const auto acl = acl_from("pattern read devices/%c/#\npattern deny devices/%c/private\n");
    EXPECT_TRUE(acl.allowed("lamp", anon, "devices/lamp/#", S));
    EXPECT_TRUE(acl.allowed("lamp", anon, "devices/lamp/cmd", S));
    EXPECT_FALSE(acl.allowed("lamp", anon, "devices/lamp/private", S));
    EXPECT_FALSE(acl.allowed("lamp", anon, "devices/other/cmd", S));
    EXPECT_TRUE(acl.allowed("lamp", anon, "devices/+/cmd", S));
    // $share/NAME/FILTER is checked as FILTER (MQTT 5.0 section 4.8.2).
    EXPECT_TRUE(acl.allowed("lamp", anon, "$share/g/devices/lamp/cmd", S));
    EXPECT_FALSE(acl.allowed("lamp", anon, "$share/g/devices/other/cmd", S));
}

TEST(AclFile, SubscribeRuleMosquittoGrantsEverySubscription) {
    auto acl = acl_from("user alice\ntopic read a/#\ntopic deny a/secret\n");
    acl.set_subscribe_rule(mb::subscribe_rule::mosquitto);
    EXPECT_EQ(acl.get_subscribe_rule(), mb::subscribe_rule::mosquitto);
    EXPECT_TRUE(acl.allowed("c", "alice", "other/#", S));
    EXPECT_TRUE(acl.allowed("c", "alice", "a/secret", S));
    // Read and write are unchanged.
    EXPECT_FALSE(acl.allowed("c", "alice", "a/secret", R));
    EXPECT_TRUE(acl.allowed("c", "alice", "a/x", R));
}

TEST(AclFile, SyntaxDetails) {
    // The access word is optional; with it, the filter is the rest of the line (spaces allowed).
    const auto acl = acl_from("topic read with space/#\n"
                              "topic read\n" // a topic literally named "read", readwrite
                              "user  name with spaces  \n"
                              "topic   deny    x\n"
                              "topic y\n"
                              "  # indented comment\n"
                              "\t\n");
    EXPECT_TRUE(acl.allowed("c", anon, "with space/x", R));
    EXPECT_TRUE(acl.allowed("c", anon, "read", W));
    EXPECT_FALSE(acl.allowed("c", "name with spaces", "x", R));
    EXPECT_TRUE(acl.allowed("c", "name with spaces", "y", W));
}

// ACL filters must be valid topic filters: '#' last and alone in its level (MQTT-4.7.1-2,
// MQTT5-4.7.1-1), '+' filling its level (MQTT-4.7.1-3, MQTT5-4.7.1-2).
TEST(AclFile, MalformedLinesFailWithTheirLineNumber) {
    expect_acl_error("topic read a\nbogus line\n", 2, "unknown keyword 'bogus'");
    expect_acl_error("user\n", 1, "user: missing user name");
    expect_acl_error("user   \n", 1, "user: missing user name");
    expect_acl_error("# c\ntopic\n", 2, "topic: missing topic filter");
    expect_acl_error("pattern\n", 1, "pattern: missing topic filter");
    expect_acl_error("topic foo bar\n", 1, "topic: invalid access 'foo'");
    expect_acl_error("topic READ a\n", 1, "topic: invalid access 'READ'");
    expect_acl_error("\n\npattern rw a/%c\n", 3, "pattern: invalid access 'rw'");
    expect_acl_error("topic read a/#/b\n", 1, "'a/#/b' is not a valid topic filter");
    expect_acl_error("topic a+\n", 1, "not a valid topic filter");
    expect_acl_error("pattern read dev/%c#\n", 1, "not a valid topic filter");
}

TEST(AclFile, LoadFromDiskAndErrors) {
    temp_dir dir;
    const auto good = dir.write("acl", "user alice\ntopic readwrite alice/#\n");
    mb::acl_file acl;
    std::string error;
    ASSERT_TRUE(acl.load(good, error)) << error;
    EXPECT_TRUE(acl.allowed("c", "alice", "alice/x", W));

    const auto bad = dir.write("bad", "user alice\ntopic readwrite alice/#\ntopic bogus x\n");
    EXPECT_FALSE(acl.load(bad, error));
    EXPECT_EQ(error.rfind(bad + ":3:", 0), 0u) << error;
    EXPECT_FALSE(acl.allowed("c", "alice", "alice/x", W)); // failed load: nothing granted

    EXPECT_FALSE(acl.load(dir.path + "/missing", error));
    EXPECT_NE(error.find("missing"), std::string::npos);
}
