// Why a TLS connection failed, in one line a log reader can act on: the first bytes judged
// before OpenSSL sees them, the verify and ClientHello callbacks that record what OpenSSL's
// own errors leave out, and the translation of OpenSSL's errors into a tls_failure.

#include "net/tls_engine.hpp"
#include "net/tls_internal.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/tls1.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <string>
#include <string_view>

namespace mqttwire::broker::net {

// The callbacks reach an engine's private state through this.
struct tls_engine_access {
    static tls_engine* of(SSL* ssl) noexcept {
        return ssl == nullptr ? nullptr : static_cast<tls_engine*>(SSL_get_app_data(ssl));
    }
    static void client_hello(tls_engine& e, std::uint16_t max_version) noexcept {
        e.peer_max_version_ = max_version;
    }
    static void verify_failed(tls_engine& e, int error, std::string subject) {
        if (e.verify_error_ != 0) return; // the first failure is the cause
        e.verify_error_ = error;
        // The subject goes into a log line; a peer chooses it, so it is cut to a sane length.
        constexpr std::size_t max_subject = 256;
        if (subject.size() > max_subject) subject = subject.substr(0, max_subject) + "...";
        e.message_ = std::move(subject);
    }
};

namespace detail {

int verify_callback(int preverify_ok, X509_STORE_CTX* store) {
    if (preverify_ok == 1) return 1;
    auto* ssl =
        static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
    if (auto* e = tls_engine_access::of(ssl)) {
        const X509* cert = X509_STORE_CTX_get_current_cert(store);
        tls_engine_access::verify_failed(*e, X509_STORE_CTX_get_error(store),
                                         cert != nullptr ? name_rfc2253(X509_get_subject_name(cert))
                                                         : std::string());
    }
    return 0;
}

// Records the highest version the client offers, so a refusal can say "the client offers at
// most TLS 1.2"; OpenSSL's own error only says "unsupported protocol".
int client_hello_callback(SSL* ssl, int*, void*) {
    auto* e = tls_engine_access::of(ssl);
    if (e == nullptr) return SSL_CLIENT_HELLO_SUCCESS;
    auto best = static_cast<std::uint16_t>(SSL_client_hello_get0_legacy_version(ssl));
    const unsigned char* ext = nullptr;
    std::size_t len = 0;
    if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_supported_versions, &ext, &len) == 1 &&
        len >= 1) {
        // supported_versions (RFC 8446 4.2.1): a one-byte length, then two-byte versions.
        const std::span<const unsigned char> list(ext, len);
        const std::size_t n = std::min<std::size_t>(list[0], len - 1);
        for (std::size_t i = 1; i + 1 <= n; i += 2) {
            const auto v = static_cast<std::uint16_t>(list[i] << 8 | list[i + 1]);
            const bool grease = (v & 0x0f0f) == 0x0a0a; // RFC 8701 placeholders
            if (!grease && v > best) best = v;
        }
    }
    tls_engine_access::client_hello(*e, best);
    return SSL_CLIENT_HELLO_SUCCESS;
}

} // namespace detail

namespace {

std::string version_text(std::uint16_t v) {
    switch (v) {
    case 0x0300: return "SSL 3.0";
    case 0x0301: return "TLS 1.0";
    case 0x0302: return "TLS 1.1";
    case 0x0303: return "TLS 1.2";
    case 0x0304: return "TLS 1.3";
    default: {
        static constexpr char digits[] = "0123456789abcdef";
        std::string s = "version 0x0000";
        for (int i = 0; i < 4; ++i)
            s[s.size() - 1 - static_cast<std::size_t>(i)] = digits[(v >> (4 * i)) & 0xf];
        return s;
    }
    }
}

std::string hex_bytes(std::span<const std::byte> bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string s;
    for (const auto b : bytes) {
        if (!s.empty()) s += ' ';
        const auto v = std::to_integer<unsigned>(b);
        s += digits[v >> 4];
        s += digits[v & 0xf];
    }
    return s;
}

std::string printable(std::span<const std::byte> bytes) {
    std::string s;
    for (const auto b : bytes) {
        const auto c = std::to_integer<unsigned char>(b);
        s += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '.';
    }
    return s;
}

// HTTP methods a browser, curl or a WebSocket client may start with (RFC 9110, plus HTTP/2's
// connection preface).
constexpr std::string_view http_methods[] = {"GET ",     "POST ",    "PUT ",   "HEAD ",  "DELETE ",
                                             "OPTIONS ", "CONNECT ", "PATCH ", "TRACE ", "PRI "};

} // namespace

const char* tls_failure_name(tls_failure f) noexcept {
    switch (f) {
    case tls_failure::none: return "none";
    case tls_failure::not_tls: return "not_tls";
    case tls_failure::plain_mqtt: return "plain_mqtt";
    case tls_failure::http_request: return "http_request";
    case tls_failure::unknown_ca: return "unknown_ca";
    case tls_failure::certificate_revoked: return "certificate_revoked";
    case tls_failure::certificate_expired: return "certificate_expired";
    case tls_failure::certificate_invalid: return "certificate_invalid";
    case tls_failure::no_client_certificate: return "no_client_certificate";
    case tls_failure::protocol_version: return "protocol_version";
    case tls_failure::no_shared_cipher: return "no_shared_cipher";
    case tls_failure::peer_alert: return "peer_alert";
    case tls_failure::peer_closed: return "peer_closed";
    case tls_failure::protocol_error: return "protocol_error";
    case tls_failure::internal: return "internal";
    }
    return "?";
}

// A TLS peer's first byte is a record type: a handshake (0x16) from a client; a handshake or an
// alert (0x15) from a server. Anything else is named here, before OpenSSL's generic "wrong
// version number" would be.
void tls_engine::sniff(std::span<const std::byte> bytes) {
    for (const auto b : bytes) {
        if (first_count_ == first_.size()) break;
        first_[first_count_++] = b;
    }
    const auto seen = std::span<const std::byte>(first_).first(first_count_);
    const auto b0 = std::to_integer<unsigned>(seen[0]);
    const char* const peer = role_ == tls_role::server ? "client" : "server";
    if (b0 == 0x16 || (role_ == tls_role::client && b0 == 0x15)) {
        sniffed_ = true;
        return;
    }
    if (role_ == tls_role::server && (b0 & 0x80) != 0) {
        sniffed_ = true; // an SSL 2.0-style ClientHello header: OpenSSL decides
        return;
    }
    if (role_ == tls_role::server && b0 == 0x10) {
        fail(tls_failure::plain_mqtt,
             "plain MQTT on a TLS port: the first byte 0x10 is an MQTT CONNECT (the client is not "
             "using TLS)");
        return;
    }
    if (role_ == tls_role::server && b0 >= 'A' && b0 <= 'Z') {
        const std::string text = printable(seen);
        bool could_be_http = false;
        for (const auto m : http_methods) {
            if (text.size() >= m.size() && std::string_view(text).starts_with(m)) {
                fail(tls_failure::http_request, "an HTTP request on a TLS port (\"" + text +
                                                    "\"): the client speaks plain " +
                                                    "HTTP or WebSocket, not TLS");
                return;
            }
            if (m.starts_with(text)) could_be_http = true;
        }
        if (could_be_http && first_count_ < first_.size()) return; // wait for more bytes
    }
    fail(tls_failure::not_tls, std::string("not TLS: the ") + peer + "'s first bytes are " +
                                   hex_bytes(seen) + " (\"" + printable(seen) + "\")");
}

void tls_engine::fail(tls_failure kind, std::string message) {
    state_ = tls_state::failed;
    failure_ = kind;
    message_ = std::move(message);
}

void tls_engine::fail_from_openssl(int ssl_error) {
    // The last error of the SSL library is the most specific one.
    unsigned long last = 0;
    int reason = 0;
    while (const unsigned long e = ERR_get_error()) {
        last = e;
        if (ERR_GET_LIB(e) == ERR_LIB_SSL) reason = ERR_GET_REASON(e);
    }
    const bool server = role_ == tls_role::server;
    const char* const peer = server ? "client" : "server";
    std::string subject = std::move(message_); // set by the verify callback, if it ran
    const auto with_subject = [&subject](std::string m) {
        if (!subject.empty()) m += ", subject " + subject;
        return m;
    };

    if (ssl_error == SSL_ERROR_SYSCALL && last == 0) {
        fail(tls_failure::protocol_error, "TLS error: unexpected end of the TLS stream");
        return;
    }
    if (reason == SSL_R_CERTIFICATE_VERIFY_FAILED) {
        const long v = verify_error_ != 0 ? verify_error_ : SSL_get_verify_result(ssl_);
        tls_failure kind = tls_failure::certificate_invalid;
        std::string hint;
        switch (v) {
        case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
        case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
        case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
        case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
        case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
            kind = tls_failure::unknown_ca;
            hint = server ? " (unknown CA: not issued by a CA in cafile/capath)" : " (unknown CA)";
            break;
        case X509_V_ERR_CERT_REVOKED:
            kind = tls_failure::certificate_revoked;
            hint = server ? " (listed in crlfile)" : "";
            break;
        case X509_V_ERR_CERT_HAS_EXPIRED:
        case X509_V_ERR_CERT_NOT_YET_VALID: kind = tls_failure::certificate_expired; break;
        case X509_V_ERR_UNABLE_TO_GET_CRL:
            hint = server ? " (crlfile has no CRL from this certificate's issuer)" : "";
            break;
        default: break;
        }
        fail(kind, with_subject(std::string(peer) + " certificate rejected: " +
                                X509_verify_cert_error_string(v) + hint));
        return;
    }
    if (reason == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE) {
        fail(tls_failure::no_client_certificate,
             "client sent no certificate (this listener has require_certificate true)");
        return;
    }
    if (reason == SSL_R_UNSUPPORTED_PROTOCOL || reason == SSL_R_NO_PROTOCOLS_AVAILABLE ||
        reason == SSL_R_UNSUPPORTED_SSL_VERSION || reason == SSL_R_WRONG_SSL_VERSION ||
        reason == SSL_R_TLSV1_ALERT_PROTOCOL_VERSION) {
        const char* floor = tls_version_name(context_->min_version());
        if (reason == SSL_R_TLSV1_ALERT_PROTOCOL_VERSION) {
            fail(tls_failure::protocol_version, std::string("the ") + peer +
                                                    " refused every TLS version we offer (alert " +
                                                    "'protocol version')");
        } else if (server && peer_max_version_ != 0 &&
                   peer_max_version_ <
                       (context_->min_version() == tls_version::tls1_3 ? 0x0304 : 0x0303)) {
            fail(tls_failure::protocol_version,
                 "protocol version too low: the client offers at most " +
                     version_text(peer_max_version_) + ", this listener requires " + floor +
                     " (tls_version)");
        } else {
            fail(tls_failure::protocol_version,
                 std::string("no TLS version in common with the ") + peer + " (" +
                     (peer_max_version_ != 0
                          ? "it offers at most " + version_text(peer_max_version_) + ", "
                          : std::string()) +
                     "we accept " + floor + " and newer)");
        }
        return;
    }
    if (reason == SSL_R_NO_SHARED_CIPHER || reason == SSL_R_NO_CIPHERS_AVAILABLE ||
        reason == SSL_R_NO_SUITABLE_SIGNATURE_ALGORITHM) {
        fail(tls_failure::no_shared_cipher,
             std::string("no cipher suite in common with the ") + peer +
                 (server ? " (ciphers / ciphers_tls1.3 of this listener)" : ""));
        return;
    }
    if (!handshake_done_ &&
        (reason == SSL_R_WRONG_VERSION_NUMBER || reason == SSL_R_HTTP_REQUEST ||
         reason == SSL_R_HTTPS_PROXY_REQUEST || reason == SSL_R_UNKNOWN_PROTOCOL ||
         reason == SSL_R_PACKET_LENGTH_TOO_LONG || reason == SSL_R_RECORD_LENGTH_MISMATCH)) {
        const auto seen = std::span<const std::byte>(first_).first(first_count_);
        fail(tls_failure::not_tls, std::string("not TLS: the ") + peer + "'s first bytes are " +
                                       hex_bytes(seen) +
                                       " (OpenSSL: " + ERR_reason_error_string(last) + ")");
        return;
    }
    if (reason >= SSL_AD_REASON_OFFSET && reason < SSL_AD_REASON_OFFSET + 256) {
        const int alert = reason - SSL_AD_REASON_OFFSET;
        std::string m = std::string("the ") + peer + " aborted with alert '" +
                        SSL_alert_desc_string_long(alert) + "'";
        if (alert == SSL_AD_UNKNOWN_CA || alert == SSL_AD_BAD_CERTIFICATE ||
            alert == SSL_AD_CERTIFICATE_UNKNOWN || alert == SSL_AD_DECRYPT_ERROR)
            m += " (it does not accept our certificate)";
        else if (alert == SSL_AD_CERTIFICATE_REQUIRED)
            m += " (it requires a client certificate)";
        fail(tls_failure::peer_alert, std::move(m));
        return;
    }
    fail(tls_failure::protocol_error,
         std::string(handshake_done_ ? "TLS error: " : "TLS handshake error: ") +
             (last != 0 && ERR_reason_error_string(last) != nullptr ? ERR_reason_error_string(last)
                                                                    : "unknown OpenSSL error"));
}

std::string tls_engine::describe_incomplete_handshake() const {
    if (handshake_done_) return "the handshake is complete";
    if (bytes_in_ == 0) return "no bytes received";
    std::string s = "received " + std::to_string(bytes_in_) + " bytes";
    if (!sniffed_) return s + ", not yet recognisable";
    return s + ", OpenSSL waits in state '" + SSL_state_string_long(ssl_) + "'";
}

} // namespace mqttwire::broker::net
