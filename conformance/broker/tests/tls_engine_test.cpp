// Tests of the sans-I/O TLS engine (conformance/broker/net/tls_engine.hpp): a client engine and
// a server engine run against each other in memory with certificates made at test time by
// make-certs.sh. No MQTT normative statement binds TLS itself (MQTT 5.0 section 5.4.9 / 3.1.1
// section 5.4.9 only recommend it); the rules checked are those of RFC 8446 / RFC 5246 as
// OpenSSL implements them, and mosquitto's listener semantics.

#include "tls_test_support.hpp"

#include <chrono>
#include <cstring>
#include <random>

using namespace tls_test;
using net::tls_failure;
using net::tls_state;

namespace {

net::tls_client_settings client_max_tls12(net::tls_client_settings s = client_settings()) {
    s.max_version = mb::tls_version::tls1_2;
    return s;
}

} // namespace

TEST(TlsEngine, CertificatesWereMade) {
    ASSERT_FALSE(cert_dir().empty()) << "make-certs.sh failed";
    std::ifstream ca(cert("ca.pem"));
    EXPECT_TRUE(ca.good()) << cert("ca.pem");
}

// ----- versions, key types, cipher suites -------------------------------------------------------

TEST(TlsEngine, Tls13WithRsaChain) {
    auto p = connect(client_context(client_settings()), server_context(server_settings()));
    ASSERT_TRUE(p.established()) << p.client.failure_message() << " / "
                                 << p.server.failure_message();
    EXPECT_TRUE(p.client.handshake_complete());
    EXPECT_TRUE(p.server.handshake_complete());
    EXPECT_EQ(p.server.protocol_name(), "TLSv1.3");
    EXPECT_EQ(p.client.protocol_name(), "TLSv1.3");
    EXPECT_EQ(p.server.failure(), tls_failure::none);
    expect_round_trip(p);
}

TEST(TlsEngine, Tls13WithEcdsaChain) {
    auto p = connect(client_context(client_settings()),
                     server_context(server_settings("server-ec-chain.pem", "server-ec.key")));
    ASSERT_TRUE(p.established()) << p.client.failure_message();
    EXPECT_EQ(p.server.protocol_name(), "TLSv1.3");
    expect_round_trip(p);
}

// ESP8266/ESP32 firmware (BearSSL, mbedTLS) commonly offers only TLS 1.2 with
// ECDHE-RSA-AES128-GCM-SHA256 (RFC 5289); that combination must work.
TEST(TlsEngine, Tls12EcdheRsaAes128GcmSha256) {
    auto s = client_max_tls12();
    s.ciphers = "ECDHE-RSA-AES128-GCM-SHA256";
    auto p = connect(client_context(s), server_context(server_settings()));
    ASSERT_TRUE(p.established()) << p.client.failure_message() << " / "
                                 << p.server.failure_message();
    EXPECT_EQ(p.server.protocol_name(), "TLSv1.2");
    EXPECT_EQ(p.server.cipher_name(), "ECDHE-RSA-AES128-GCM-SHA256");
    EXPECT_EQ(p.client.cipher_name(), "ECDHE-RSA-AES128-GCM-SHA256");
    expect_round_trip(p);
}

TEST(TlsEngine, Tls12WithEcdsaChain) {
    auto p = connect(client_context(client_max_tls12()),
                     server_context(server_settings("server-ec-chain.pem", "server-ec.key")));
    ASSERT_TRUE(p.established()) << p.client.failure_message();
    EXPECT_EQ(p.server.protocol_name(), "TLSv1.2");
    EXPECT_NE(p.server.cipher_name().find("ECDSA"), std::string_view::npos)
        << p.server.cipher_name();
    expect_round_trip(p);
}

// The client is given only the root CA: the handshake succeeds only if the server sends the
// intermediate from its certfile (the "full chain" of mosquitto.conf(5)).
TEST(TlsEngine, ServerSendsTheIntermediateFromCertfile) {
    auto leaf_only = server_settings("server-rsa.pem", "server-rsa.key");
    auto p = connect(client_context(client_settings()), server_context(leaf_only));
    EXPECT_EQ(p.client.failure(), tls_failure::unknown_ca) << p.client.failure_message();
    auto chain = connect(client_context(client_settings()), server_context(server_settings()));
    EXPECT_TRUE(chain.established()) << chain.client.failure_message();
}

TEST(TlsEngine, MinimumVersionRefusesAnOlderClient) {
    auto s = server_settings();
    s.min_version = mb::tls_version::tls1_3;
    auto p = connect(client_context(client_max_tls12()), server_context(s));
    EXPECT_EQ(p.server.state(), tls_state::failed);
    EXPECT_EQ(p.server.failure(), tls_failure::protocol_version);
    EXPECT_EQ(p.server.failure_message(),
              "protocol version too low: the client offers at most TLS 1.2, this listener "
              "requires TLS 1.3 (tls_version)");
    // The server's protocol_version alert reached the client.
    EXPECT_EQ(p.client.state(), tls_state::failed);
    EXPECT_EQ(p.client.failure(), tls_failure::protocol_version) << p.client.failure_message();
    // A TLS 1.3 client is welcome.
    auto ok = connect(client_context(client_settings()), server_context(s));
    EXPECT_TRUE(ok.established());
    EXPECT_EQ(ok.server.protocol_name(), "TLSv1.3");
}

TEST(TlsEngine, DefaultMinimumIsTls12) {
    auto s = client_settings();
    s.min_version = mb::tls_version::tls1_2;
    s.max_version = mb::tls_version::tls1_2;
    auto p = connect(client_context(s), server_context(server_settings()));
    EXPECT_TRUE(p.established());
}

TEST(TlsEngine, CiphersListRestrictsTls12) {
    auto s = server_settings();
    s.ciphers = "ECDHE-RSA-AES256-GCM-SHA384";
    auto server = server_context(s);
    auto p = connect(client_context(client_max_tls12()), server);
    ASSERT_TRUE(p.established());
    EXPECT_EQ(p.server.cipher_name(), "ECDHE-RSA-AES256-GCM-SHA384");

    auto c = client_max_tls12();
    c.ciphers = "ECDHE-RSA-AES128-GCM-SHA256";
    auto refused = connect(client_context(c), server);
    EXPECT_EQ(refused.server.failure(), tls_failure::no_shared_cipher);
    EXPECT_EQ(refused.server.failure_message(),
              "no cipher suite in common with the client (ciphers / ciphers_tls1.3 of this "
              "listener)");
    EXPECT_EQ(refused.client.failure(), tls_failure::peer_alert);
}

TEST(TlsEngine, CiphersTls13ListRestrictsTls13) {
    auto s = server_settings();
    s.ciphers_tls13 = "TLS_CHACHA20_POLY1305_SHA256";
    auto server = server_context(s);
    auto p = connect(client_context(client_settings()), server);
    ASSERT_TRUE(p.established());
    EXPECT_EQ(p.server.cipher_name(), "TLS_CHACHA20_POLY1305_SHA256");

    auto c = client_settings();
    c.ciphers_tls13 = "TLS_AES_128_GCM_SHA256";
    auto refused = connect(client_context(c), server);
    EXPECT_EQ(refused.server.failure(), tls_failure::no_shared_cipher)
        << refused.server.failure_message();
}

// An ECDSA-only TLS 1.2 cipher list cannot be served with an RSA certificate.
TEST(TlsEngine, Tls12CipherListThatDoesNotFitTheCertificate) {
    auto s = server_settings();
    s.ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256";
    auto p = connect(client_context(client_max_tls12()), server_context(s));
    EXPECT_EQ(p.server.failure(), tls_failure::no_shared_cipher) << p.server.failure_message();
}

// ----- client certificates ----------------------------------------------------------------------

TEST(TlsEngine, RequireCertificateWithAClientCertificate) {
    for (const bool tls12 : {false, true}) {
        SCOPED_TRACE(tls12 ? "TLS 1.2" : "TLS 1.3");
        auto c = client_settings("client.pem", "client.key");
        if (tls12) c.max_version = mb::tls_version::tls1_2;
        auto p = connect(client_context(c), server_context(mutual_settings()));
        ASSERT_TRUE(p.established()) << p.server.failure_message();
        expect_round_trip(p);
        EXPECT_EQ(p.server.peer_common_name().value(), "sensor-1");
    }
}

TEST(TlsEngine, RequireCertificateWithAnRsaClientCertificate) {
    auto p = connect(client_context(client_settings("client-rsa.pem", "client-rsa.key")),
                     server_context(mutual_settings("server-ec-chain.pem", "server-ec.key")));
    ASSERT_TRUE(p.established()) << p.server.failure_message();
    EXPECT_EQ(p.server.peer_common_name().value(), "rsa-device");
}

TEST(TlsEngine, RequireCertificateWithoutOneFailsTheHandshake) {
    for (const bool tls12 : {false, true}) {
        SCOPED_TRACE(tls12 ? "TLS 1.2" : "TLS 1.3");
        auto c = client_settings();
        if (tls12) c.max_version = mb::tls_version::tls1_2;
        auto p = connect(client_context(c), server_context(mutual_settings()));
        EXPECT_FALSE(p.server.handshake_complete());
        EXPECT_EQ(p.server.state(), tls_state::failed);
        EXPECT_EQ(p.server.failure(), tls_failure::no_client_certificate);
        EXPECT_EQ(p.server.failure_message(),
                  "client sent no certificate (this listener has require_certificate true)");
        // The alert reached the client, which fails too (in TLS 1.3 after it thought itself
        // connected: the server judges the client's certificate after the client's Finished).
        EXPECT_EQ(p.client.state(), tls_state::failed);
        EXPECT_EQ(p.client.failure(), tls_failure::peer_alert) << p.client.failure_message();
    }
}

// Without require_certificate no certificate is requested (mosquitto: SSL_VERIFY_NONE), so a
// client certificate is not even sent and the identity is unknown.
TEST(TlsEngine, WithoutRequireCertificateNoClientCertificateIsRequested) {
    auto s = server_settings();
    s.cafile = cert("ca.pem");
    auto p =
        connect(client_context(client_settings("client.pem", "client.key")), server_context(s));
    ASSERT_TRUE(p.established());
    const auto cn = p.server.peer_common_name();
    ASSERT_FALSE(cn.has_value());
    EXPECT_EQ(cn.error().message, "the client sent no certificate");
}

TEST(TlsEngine, ClientCertificateFromAnUnknownCa) {
    auto p = connect(client_context(client_settings("rogue-client.pem", "rogue-client.key")),
                     server_context(mutual_settings()));
    EXPECT_EQ(p.server.state(), tls_state::failed);
    EXPECT_EQ(p.server.failure(), tls_failure::unknown_ca);
    EXPECT_EQ(p.server.failure_message(),
              "client certificate rejected: unable to get local issuer certificate (unknown CA: "
              "not issued by a CA in cafile/capath), subject CN=sensor-1,O=Elsewhere");
    EXPECT_EQ(p.client.failure(), tls_failure::peer_alert);
    EXPECT_NE(p.client.failure_message().find("unknown CA"), std::string::npos)
        << p.client.failure_message();
}

TEST(TlsEngine, CapathTrustsTheCaToo) {
    auto s = server_settings();
    s.capath = cert("capath");
    s.require_certificate = true;
    auto p =
        connect(client_context(client_settings("client.pem", "client.key")), server_context(s));
    EXPECT_TRUE(p.established()) << p.server.failure_message();
    auto rogue = connect(client_context(client_settings("rogue-client.pem", "rogue-client.key")),
                         server_context(s));
    EXPECT_EQ(rogue.server.failure(), tls_failure::unknown_ca);
}

TEST(TlsEngine, RevokedClientCertificateIsRefusedByTheCrl) {
    auto s = mutual_settings();
    s.crlfile = cert("crl.pem");
    auto server = server_context(s);
    auto revoked = connect(
        client_context(client_settings("client-revoked.pem", "client-revoked.key")), server);
    EXPECT_EQ(revoked.server.failure(), tls_failure::certificate_revoked);
    EXPECT_EQ(revoked.server.failure_message(),
              "client certificate rejected: certificate revoked (listed in crlfile), subject "
              "CN=stolen-device,O=Home");
    auto good = connect(client_context(client_settings("client.pem", "client.key")), server);
    EXPECT_TRUE(good.established()) << good.server.failure_message();
    // Without the CRL the same certificate is accepted: the refusal above is the CRL's.
    auto no_crl =
        connect(client_context(client_settings("client-revoked.pem", "client-revoked.key")),
                server_context(mutual_settings()));
    EXPECT_TRUE(no_crl.established());
}

TEST(TlsEngine, ExpiredClientCertificate) {
    auto p = connect(client_context(client_settings("client-expired.pem", "client-expired.key")),
                     server_context(mutual_settings()));
    EXPECT_EQ(p.server.failure(), tls_failure::certificate_expired);
    EXPECT_EQ(p.server.failure_message(),
              "client certificate rejected: certificate has expired, subject CN=old-device,O=Home");
}

TEST(TlsEngine, ClientRefusesAnExpiredServerCertificate) {
    auto p =
        connect(client_context(client_settings()),
                server_context(server_settings("server-expired-chain.pem", "server-expired.key")));
    EXPECT_EQ(p.client.failure(), tls_failure::certificate_expired);
    EXPECT_EQ(p.client.failure_message(),
              "server certificate rejected: certificate has expired, subject "
              "CN=localhost,O=mqttwire test");
    // The server learns why from the client's alert.
    EXPECT_EQ(p.server.failure(), tls_failure::peer_alert);
    EXPECT_EQ(p.server.failure_message(), "the client aborted with alert 'certificate expired'");
}

TEST(TlsEngine, ClientRefusesAServerFromAnotherCa) {
    auto c = client_settings();
    c.cafile = cert("rogue-ca.pem");
    auto p = connect(client_context(c), server_context(server_settings()));
    EXPECT_EQ(p.client.failure(), tls_failure::unknown_ca);
    EXPECT_EQ(p.server.failure(), tls_failure::peer_alert);
    EXPECT_EQ(p.server.failure_message(),
              "the client aborted with alert 'unknown CA' (it does not accept our certificate)");
}

TEST(TlsEngine, ClientChecksTheServerName) {
    auto ok_ip = connect(client_context(client_settings()), server_context(server_settings()),
                         1 << 20, "127.0.0.1");
    EXPECT_TRUE(ok_ip.established()) << ok_ip.client.failure_message();
    auto p = connect(client_context(client_settings()), server_context(server_settings()), 1 << 20,
                     "broker.example.com");
    EXPECT_EQ(p.client.failure(), tls_failure::certificate_invalid);
    EXPECT_NE(p.client.failure_message().find("hostname mismatch"), std::string::npos)
        << p.client.failure_message();
}

// ----- peer identity: use_identity_as_username / use_subject_as_username ------------------------

TEST(TlsEngine, PeerIdentityIsTheCnAndTheRfc2253Subject) {
    auto p = connect(client_context(client_settings("client.pem", "client.key")),
                     server_context(mutual_settings()));
    ASSERT_TRUE(p.established());
    EXPECT_EQ(p.server.peer_common_name().value(), "sensor-1");
    // Subject /C=DE/O=Home/OU=devices/CN=sensor-1, printed most specific first (RFC 2253).
    EXPECT_EQ(p.server.peer_subject().value(), "CN=sensor-1,OU=devices,O=Home,C=DE");
    EXPECT_EQ(p.server.peer_subject().value(), openssl_cli_subject("client"));
}

// Subject /O=Müller, Schmidt + Co/OU=#lab/CN=Küche sensor. RFC 2253 section 2.4 escapes ',' and
// '+' in values and '#' at the start of a value; XN_FLAG_RFC2253 (mosquitto's flags) also writes
// each byte of a non-ASCII character as \XX. The CN is UTF-8 text.
TEST(TlsEngine, PeerIdentityEscapingAndUtf8) {
    auto p = connect(client_context(client_settings("client-special.pem", "client-special.key")),
                     server_context(mutual_settings()));
    ASSERT_TRUE(p.established());
    EXPECT_EQ(p.server.peer_common_name().value(), "K\xc3\xbc"
                                                   "che sensor");
    EXPECT_EQ(p.server.peer_subject().value(),
              "CN=K\\C3\\BCche sensor,OU=\\#lab,O=M\\C3\\BCller\\, Schmidt \\+ Co");
    EXPECT_EQ(p.server.peer_subject().value(), openssl_cli_subject("client-special"));
}

TEST(TlsEngine, PeerWithoutCn) {
    auto p = connect(client_context(client_settings("client-nocn.pem", "client-nocn.key")),
                     server_context(mutual_settings()));
    ASSERT_TRUE(p.established());
    const auto cn = p.server.peer_common_name();
    ASSERT_FALSE(cn.has_value());
    EXPECT_EQ(cn.error().message, "the certificate has no CN (subject OU=anonymous,O=Home)");
    EXPECT_EQ(p.server.peer_subject().value(), "OU=anonymous,O=Home");
}

TEST(TlsEngine, PeerIdentityBeforeTheHandshake) {
    auto server = net::tls_engine::server(server_context(mutual_settings())).value();
    EXPECT_EQ(server.peer_common_name().error().message, "the TLS handshake is not complete");
    EXPECT_EQ(server.peer_subject().error().message, "the TLS handshake is not complete");
    EXPECT_TRUE(server.protocol_name().empty());
}

TEST(TlsEngine, ClientSeesTheServerIdentity) {
    auto p = connect(client_context(client_settings()), server_context(server_settings()));
    ASSERT_TRUE(p.established());
    EXPECT_EQ(p.client.peer_common_name().value(), "localhost");
    EXPECT_EQ(p.client.peer_subject().value(), "CN=localhost,O=mqttwire test");
}
