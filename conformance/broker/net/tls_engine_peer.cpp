// The peer certificate's identity once the handshake is complete: what
// use_identity_as_username and use_subject_as_username make the user name.

#include "net/tls_engine.hpp"
#include "net/tls_internal.hpp"

#include <mqttwire/utf8.hpp>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

namespace mqttwire::broker::net {

std::string_view tls_engine::protocol_name() const noexcept {
    return handshake_done_ && ssl_ != nullptr ? SSL_get_version(ssl_) : std::string_view();
}

std::string_view tls_engine::cipher_name() const noexcept {
    if (!handshake_done_ || ssl_ == nullptr) return {};
    const char* name = SSL_get_cipher_name(ssl_);
    return name != nullptr ? name : std::string_view();
}

tls_result<const X509*> tls_engine::verified_peer() const {
    const char* const peer = role_ == tls_role::server ? "client" : "server";
    if (!handshake_done_ || ssl_ == nullptr)
        return tls_error{{}, "the TLS handshake is not complete"};
    const X509* cert = SSL_get0_peer_certificate(ssl_);
    if (cert == nullptr) return tls_error{{}, std::string("the ") + peer + " sent no certificate"};
    const long v = SSL_get_verify_result(ssl_);
    if (v != X509_V_OK)
        return tls_error{{},
                         std::string("the ") + peer +
                             " certificate is not verified: " + X509_verify_cert_error_string(v)};
    return cert;
}

tls_result<std::string> tls_engine::peer_common_name() const {
    auto cert = verified_peer();
    if (!cert) return cert.error();
    const X509_NAME* name = X509_get_subject_name(cert.value());
    const int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
    if (i < 0)
        return tls_error{{},
                         "the certificate has no CN (subject " + detail::name_rfc2253(name) + ")"};
    const ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
    unsigned char* utf8 = nullptr;
    const int len = ASN1_STRING_to_UTF8(&utf8, data);
    if (len < 0) {
        ERR_clear_error();
        return tls_error{{}, "the certificate's CN cannot be converted to UTF-8"};
    }
    std::string cn(reinterpret_cast<const char*>(utf8), static_cast<std::size_t>(len));
    OPENSSL_free(utf8);
    // The CN becomes an MQTT user name: a UTF-8 string of at most 65,535 bytes without U+0000
    // (MQTT-1.5.3-1, MQTT-1.5.3-2); mosquitto refuses a CN with an embedded NUL as well.
    if (cn.empty()) return tls_error{{}, "the certificate's CN is empty"};
    if (cn.find('\0') != std::string::npos)
        return tls_error{{}, "the certificate's CN contains a NUL character"};
    if (cn.size() > 65535) return tls_error{{}, "the certificate's CN is longer than 65,535 bytes"};
    if (validate_utf8(cn) != errc::success)
        return tls_error{{}, "the certificate's CN is not valid MQTT UTF-8"};
    return cn;
}

tls_result<std::string> tls_engine::peer_subject() const {
    auto cert = verified_peer();
    if (!cert) return cert.error();
    auto subject = detail::name_rfc2253(X509_get_subject_name(cert.value()));
    if (subject.empty()) return tls_error{{}, "the certificate's subject is empty"};
    if (subject.size() > 65535)
        return tls_error{{}, "the certificate's subject is longer than 65,535 bytes"};
    return subject;
}

} // namespace mqttwire::broker::net
