// Tests of the listener TLS contexts (conformance/broker/net/tls_context.hpp): every file a
// listener names is read and checked when its context is built, a failure names the directive,
// the file and the reason, and a reload swaps in a new context only when it could be built.

#include "tls_test_support.hpp"

#include <sys/stat.h>

#include <cstdio>
#include <filesystem>

using namespace tls_test;
namespace fs = std::filesystem;

namespace {

struct scratch_dir {
    std::string path;
    scratch_dir() {
        std::string tmpl = "/tmp/mqttwire_tls_ctx_XXXXXX";
        EXPECT_NE(::mkdtemp(tmpl.data()), nullptr);
        path = tmpl;
    }
    ~scratch_dir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    std::string write(const std::string& name, const std::string& text) const {
        const auto full = path + "/" + name;
        std::ofstream(full, std::ios::binary | std::ios::trunc) << text;
        return full;
    }
    std::string copy(const std::string& cert_name, const std::string& as) const {
        const auto full = path + "/" + as;
        fs::copy_file(cert(cert_name), full, fs::copy_options::overwrite_existing);
        return full;
    }
};

std::string read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// Builds a server context from `s`, expects failure, returns the error.
net::tls_error expect_failure(const mb::tls_settings& s) {
    auto r = net::tls_context::server(s);
    EXPECT_FALSE(r.has_value());
    return r ? net::tls_error{} : r.error();
}

} // namespace

TEST(TlsContext, ServerContextsFromRsaAndEcdsaChains) {
    for (const auto& [chain, key] : {std::pair{"server-rsa-chain.pem", "server-rsa.key"},
                                     std::pair{"server-ec-chain.pem", "server-ec.key"}}) {
        auto r = net::tls_context::server(server_settings(chain, key));
        ASSERT_TRUE(r.has_value()) << r.error().message;
        EXPECT_EQ(r.value()->role(), net::tls_role::server);
        EXPECT_FALSE(r.value()->require_certificate());
        EXPECT_TRUE(r.value()->warnings().empty());
        EXPECT_NE(r.value()->native(), nullptr);
    }
}

TEST(TlsContext, EveryDirectiveTogether) {
    auto s = mutual_settings();
    s.capath = cert("capath");
    s.crlfile = cert("crl.pem");
    s.min_version = mb::tls_version::tls1_3;
    s.ciphers = "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256";
    s.ciphers_tls13 = "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256";
    auto r = net::tls_context::server(s);
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_TRUE(r.value()->require_certificate());
    EXPECT_EQ(r.value()->min_version(), mb::tls_version::tls1_3);
}

TEST(TlsContext, TlsNeedsCertfileAndKeyfile) {
    mb::tls_settings s;
    EXPECT_EQ(expect_failure(s).message, "TLS needs both certfile and keyfile on this listener");
}

TEST(TlsContext, MissingCertfile) {
    auto s = server_settings();
    s.certfile = cert("no-such-file.pem");
    const auto e = expect_failure(s);
    EXPECT_EQ(e.file, s.certfile);
    EXPECT_EQ(e.message, "certfile '" + s.certfile + "': No such file or directory");
}

TEST(TlsContext, CertfileIsADirectory) {
    auto s = server_settings();
    s.certfile = cert_dir();
    EXPECT_EQ(expect_failure(s).message, "certfile '" + cert_dir() + "': Is a directory");
}

TEST(TlsContext, UnreadableKeyfile) {
    scratch_dir dir;
    auto s = server_settings();
    if (::geteuid() != 0) {
        s.keyfile = dir.copy("server-rsa.key", "key.pem");
        ASSERT_EQ(::chmod(s.keyfile.c_str(), 0), 0);
        EXPECT_EQ(expect_failure(s).message, "keyfile '" + s.keyfile + "': Permission denied");
    }
    // Root reads files whatever their mode; a directory in the key's place cannot be read by
    // anyone (it opens, and the read fails).
    s.keyfile = dir.path + "/key.d";
    ASSERT_EQ(::mkdir(s.keyfile.c_str(), 0700), 0);
    EXPECT_EQ(expect_failure(s).message, "keyfile '" + s.keyfile + "': Is a directory");
}

TEST(TlsContext, CertfileWithoutPem) {
    scratch_dir dir;
    auto s = server_settings();
    s.certfile = dir.write("cert.pem", "this is not a certificate\n");
    EXPECT_EQ(expect_failure(s).message, "certfile '" + s.certfile + "': no PEM certificate found");
    // A key is PEM, but not a certificate.
    s.certfile = cert("server-rsa.key");
    EXPECT_EQ(expect_failure(s).message, "certfile '" + s.certfile + "': no PEM certificate found");
    s.certfile = dir.write("empty.pem", "");
    EXPECT_EQ(expect_failure(s).message, "certfile '" + s.certfile + "': no PEM certificate found");
}

TEST(TlsContext, DamagedPemCertificate) {
    scratch_dir dir;
    const auto good = read_text(cert("server-rsa-chain.pem"));
    // Keep the leaf intact and cut the intermediate's base64 in the middle.
    const auto second = good.find("-----BEGIN CERTIFICATE-----", 10);
    ASSERT_NE(second, std::string::npos);
    auto damaged = good.substr(0, second + 60) + "\n-----END CERTIFICATE-----\n";
    auto s = server_settings();
    s.certfile = dir.write("chain.pem", damaged);
    const auto e = expect_failure(s);
    EXPECT_NE(e.message.find("certfile '" + s.certfile + "': damaged PEM certificate after 1 good"),
              std::string::npos)
        << e.message;
}

TEST(TlsContext, MissingKeyfile) {
    auto s = server_settings();
    s.keyfile = "/nonexistent/server.key";
    const auto e = expect_failure(s);
    EXPECT_EQ(e.file, "/nonexistent/server.key");
    EXPECT_EQ(e.message, "keyfile '/nonexistent/server.key': No such file or directory");
}

TEST(TlsContext, KeyfileWithoutAKey) {
    auto s = server_settings();
    s.keyfile = cert("server-rsa.pem");
    EXPECT_EQ(expect_failure(s).message, "keyfile '" + s.keyfile + "': no PEM private key found");
}

TEST(TlsContext, PassphraseProtectedKeyIsRefusedWithoutPrompting) {
    auto s = server_settings("server-ec-chain.pem", "server-encrypted.key");
    const auto e = expect_failure(s);
    EXPECT_NE(e.message.find("keyfile '" + s.keyfile +
                             "': the key is protected by a passphrase, which is not supported"),
              std::string::npos)
        << e.message;
}

TEST(TlsContext, KeyThatDoesNotMatchTheCertificate) {
    // RSA certificate with an EC key, and two keys of the same type.
    for (const auto& [chain, key] : {std::pair{"server-rsa-chain.pem", "server-ec.key"},
                                     std::pair{"server-ec-chain.pem", "client.key"}}) {
        auto s = server_settings(chain, key);
        const auto e = expect_failure(s);
        EXPECT_EQ(e.file, s.keyfile);
        EXPECT_EQ(e.message, "keyfile '" + s.keyfile +
                                 "': does not match the certificate in "
                                 "certfile '" +
                                 s.certfile +
                                 "' (the first certificate there must be the one for this key)");
    }
}

TEST(TlsContext, CafileProblems) {
    auto s = mutual_settings();
    s.cafile = cert("missing-ca.pem");
    EXPECT_EQ(expect_failure(s).message, "cafile '" + s.cafile + "': No such file or directory");
    s.cafile = cert("crl.pem");
    EXPECT_EQ(expect_failure(s).message, "cafile '" + s.cafile + "': no PEM certificate found");
}

TEST(TlsContext, CapathProblems) {
    scratch_dir dir;
    auto s = server_settings();
    s.require_certificate = true;
    s.capath = dir.path + "/missing";
    EXPECT_EQ(expect_failure(s).message, "capath '" + s.capath + "': No such file or directory");
    // ca.pem copied in, but not hashed: OpenSSL would never find it.
    s.capath = dir.path;
    dir.copy("ca.pem", "ca.pem");
    EXPECT_EQ(expect_failure(s).message, "capath '" + dir.path +
                                             "': no hashed CA certificates (run: openssl rehash "
                                             "DIRECTORY)");
    s.capath = cert("capath");
    EXPECT_TRUE(net::tls_context::server(s).has_value());
}

TEST(TlsContext, CrlfileProblems) {
    auto s = mutual_settings();
    s.crlfile = cert("missing-crl.pem");
    EXPECT_EQ(expect_failure(s).message, "crlfile '" + s.crlfile + "': No such file or directory");
    s.crlfile = cert("ca.pem");
    EXPECT_EQ(expect_failure(s).message, "crlfile '" + s.crlfile + "': no PEM CRL found");
}

TEST(TlsContext, CipherListsOpenSslRejects) {
    auto s = server_settings();
    s.ciphers = "NOT-A-CIPHER";
    auto e = expect_failure(s);
    EXPECT_TRUE(e.file.empty());
    EXPECT_EQ(e.message.rfind("ciphers 'NOT-A-CIPHER': ", 0), 0u) << e.message;
    s = server_settings();
    s.ciphers_tls13 = "TLS_NOT_A_SUITE";
    e = expect_failure(s);
    EXPECT_EQ(e.message.rfind("ciphers_tls1.3 'TLS_NOT_A_SUITE': ", 0), 0u) << e.message;
}

TEST(TlsContext, ExpiredServerCertificateLoadsWithAWarning) {
    auto r =
        net::tls_context::server(server_settings("server-expired-chain.pem", "server-expired.key"));
    ASSERT_TRUE(r.has_value()) << r.error().message;
    ASSERT_EQ(r.value()->warnings().size(), 1u);
    EXPECT_EQ(r.value()->warnings()[0],
              "certfile '" + cert("server-expired-chain.pem") +
                  "': the certificate expired on Jan  1 00:00:00 2021 GMT; clients that check it "
                  "will refuse to connect");
}

TEST(TlsContext, ClientContextChecksItsFilesToo) {
    auto c = client_settings();
    c.cafile = cert("nope.pem");
    auto r = net::tls_context::client(c);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().message, "cafile '" + c.cafile + "': No such file or directory");
    c = client_settings("client.pem", "");
    r = net::tls_context::client(c);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().message, "a client certificate needs both certfile and keyfile");
}

// ----- reload (SIGHUP) --------------------------------------------------------------------------

// The listener's files are replaced on disk; a reload that cannot build a context keeps the old
// one for new connections; one that can swaps it in; connections keep the context they began with.
TEST(TlsContext, ReloadKeepsTheOldContextWhenTheNewCertificateIsBroken) {
    scratch_dir dir;
    mb::tls_settings s;
    s.certfile = dir.copy("server-rsa-chain.pem", "server.pem");
    s.keyfile = dir.copy("server-rsa.key", "server.key");
    auto made = net::reloadable_tls_context::create(s);
    ASSERT_TRUE(made.has_value()) << made.error().message;
    auto& listener = made.value();
    const auto first = listener.current();
    EXPECT_EQ(listener.generation(), 0u);

    // A connection made before the reload.
    auto client_ctx = client_context(client_settings());
    auto old_conn = connect(client_ctx, listener.current());
    ASSERT_TRUE(old_conn.established());

    // A broken certificate (truncated while being copied, say).
    dir.write("server.pem", "-----BEGIN CERTIFICATE-----\nMIIB\n");
    const auto failed = listener.reload();
    ASSERT_TRUE(failed.has_value());
    EXPECT_EQ(failed->file, s.certfile);
    EXPECT_NE(failed->message.find("certfile '" + s.certfile + "'"), std::string::npos)
        << failed->message;
    EXPECT_EQ(listener.current(), first);
    EXPECT_EQ(listener.generation(), 0u);
    // New connections still work with the old certificate.
    auto during = connect(client_ctx, listener.current());
    EXPECT_TRUE(during.established()) << during.client.failure_message();

    // A key that does not match the (restored) certificate: refused as well.
    dir.copy("server-rsa-chain.pem", "server.pem");
    dir.copy("server-ec.key", "server.key");
    ASSERT_TRUE(listener.reload().has_value());
    EXPECT_EQ(listener.current(), first);

    // A good new pair (ECDSA now): swapped in.
    dir.copy("server-ec-chain.pem", "server.pem");
    dir.copy("server-ec.key", "server.key");
    const auto ok = listener.reload();
    EXPECT_FALSE(ok.has_value()) << ok->message;
    EXPECT_NE(listener.current(), first);
    EXPECT_EQ(listener.generation(), 1u);

    auto tls12 = client_settings();
    tls12.max_version = mb::tls_version::tls1_2;
    auto after = connect(client_context(tls12), listener.current());
    ASSERT_TRUE(after.established());
    EXPECT_NE(after.server.cipher_name().find("ECDSA"), std::string_view::npos);

    // The connection from before still runs on the first context.
    EXPECT_EQ(old_conn.server.context(), first);
    EXPECT_EQ(send_through(old_conn, true, "still here"), "still here");
}

TEST(TlsContext, OldContextLivesAsLongAsItsConnections) {
    scratch_dir dir;
    mb::tls_settings s;
    s.certfile = dir.copy("server-rsa-chain.pem", "server.pem");
    s.keyfile = dir.copy("server-rsa.key", "server.key");
    auto listener = net::reloadable_tls_context::create(s).value();
    std::weak_ptr<const net::tls_context> first = listener.current();
    auto conn = connect(client_context(client_settings()), listener.current());
    ASSERT_TRUE(conn.established());
    ASSERT_FALSE(listener.reload().has_value());
    EXPECT_FALSE(first.expired()); // the connection holds it
    EXPECT_EQ(send_through(conn, false, "pong"), "pong");
    conn.server = net::tls_engine::server(listener.current()).value();
    EXPECT_TRUE(first.expired()); // last user gone: freed
}

TEST(TlsContext, CreateReportsTheFirstProblem) {
    auto s = server_settings();
    s.crlfile = cert("absent.crl");
    auto r = net::reloadable_tls_context::create(s);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().message, "crlfile '" + s.crlfile + "': No such file or directory");
}
