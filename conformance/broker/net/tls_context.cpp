#include "net/tls_context.hpp"
#include "net/tls_internal.hpp"
#include "text.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <dirent.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string_view>

namespace mqttwire::broker::net {

namespace detail {

std::string take_openssl_error(const char* fallback) {
    unsigned long last = 0;
    while (const unsigned long e = ERR_get_error()) last = e;
    if (last == 0) return fallback;
    if (const char* reason = ERR_reason_error_string(last)) return reason;
    return "OpenSSL error " + std::to_string(last);
}

namespace {
std::string bio_text(BIO* b) {
    char* data = nullptr;
    const long n = BIO_get_mem_data(b, &data);
    return n > 0 ? std::string(data, static_cast<std::size_t>(n)) : std::string();
}
} // namespace

std::string asn1_time_text(const ASN1_TIME* t) {
    BIO* b = BIO_new(BIO_s_mem());
    if (b == nullptr) return "?";
    ASN1_TIME_print(b, t);
    auto text = bio_text(b);
    BIO_free(b);
    return text;
}

std::string name_rfc2253(const X509_NAME* name) {
    BIO* b = BIO_new(BIO_s_mem());
    if (b == nullptr) return {};
    // The flags of mosquitto's use_subject_as_username (src/handle_connect.c): RFC 2253 order
    // (most specific first), escaping, bytes >= 0x80 as \XX.
    X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253);
    auto text = bio_text(b);
    BIO_free(b);
    return text;
}

} // namespace detail

namespace {

using detail::take_openssl_error;

// PEM files are small; a bound keeps a wrong path (a disk image, /dev/zero) from eating memory.
constexpr std::size_t max_pem_file_bytes = 64u << 20;

constexpr long server_session_cache_size = 1024;

struct ctx_deleter {
    void operator()(SSL_CTX* c) const noexcept { SSL_CTX_free(c); }
};
struct bio_deleter {
    void operator()(BIO* b) const noexcept { BIO_free(b); }
};
struct x509_deleter {
    void operator()(X509* x) const noexcept { X509_free(x); }
};
struct pkey_deleter {
    void operator()(EVP_PKEY* k) const noexcept { EVP_PKEY_free(k); }
};
using ctx_ptr = std::unique_ptr<SSL_CTX, ctx_deleter>;
using bio_ptr = std::unique_ptr<BIO, bio_deleter>;
using x509_ptr = std::unique_ptr<X509, x509_deleter>;
using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_deleter>;
using text::quoted;

tls_error file_error(std::string_view directive, const std::string& path, std::string_view why) {
    return {path, std::string(directive) + " " + quoted(path) + ": " + std::string(why)};
}

// Reads the whole file; the error names the directive, the path and errno's text.
bool read_file(std::string_view directive, const std::string& path, std::string& out,
               tls_error& err) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (f == nullptr) {
        err = file_error(directive, path, std::strerror(errno));
        return false;
    }
    out.clear();
    char chunk[16384];
    std::size_t n = 0;
    while ((n = std::fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (out.size() + n > max_pem_file_bytes) {
            std::fclose(f);
            err = file_error(directive, path, "larger than 64 MiB, not a PEM file");
            return false;
        }
        out.append(chunk, n);
    }
    const bool failed = std::ferror(f) != 0;
    const int read_errno = errno;
    std::fclose(f);
    if (failed) {
        err = file_error(directive, path, std::strerror(read_errno));
        return false;
    }
    return true;
}

bio_ptr memory_bio(const std::string& data) {
    return bio_ptr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

// After a PEM_read loop: true when it ended at the end of the PEM blocks (no more start line),
// false when it stopped at a damaged block.
bool pem_ended_cleanly() {
    const unsigned long e = ERR_peek_last_error();
    const bool clean =
        e == 0 || (ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE);
    if (clean) ERR_clear_error();
    return clean;
}

// Reads every certificate of a PEM file.
bool read_certificates(std::string_view directive, const std::string& path,
                       std::vector<x509_ptr>& out, tls_error& err) {
    std::string data;
    if (!read_file(directive, path, data, err)) return false;
    auto bio = memory_bio(data);
    if (!bio) {
        err = file_error(directive, path, take_openssl_error());
        return false;
    }
    ERR_clear_error();
    while (X509* x = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) out.emplace_back(x);
    if (!pem_ended_cleanly()) {
        err = file_error(directive, path,
                         "damaged PEM certificate after " + std::to_string(out.size()) +
                             " good one(s): " + take_openssl_error());
        return false;
    }
    if (out.empty()) {
        err = file_error(directive, path, "no PEM certificate found");
        return false;
    }
    return true;
}

// Passphrase-protected keys are refused rather than prompting on a terminal (OpenSSL's default
// callback would block the broker waiting for input).
int no_passphrase(char*, int, int, void*) { return -1; }

bool read_private_key(const std::string& path, pkey_ptr& out, tls_error& err) {
    std::string data;
    if (!read_file("keyfile", path, data, err)) return false;
    auto bio = memory_bio(data);
    ERR_clear_error();
    out.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr));
    if (out) return true;
    // OpenSSL's decoders report a file without a key in several ways; the PEM labels tell.
    if (data.find("PRIVATE KEY-----") == std::string::npos) {
        ERR_clear_error();
        err = file_error("keyfile", path, "no PEM private key found");
        return false;
    }
    if (data.find("ENCRYPTED") != std::string::npos) {
        ERR_clear_error();
        err = file_error("keyfile", path,
                         "the key is protected by a passphrase, which is not supported (write an "
                         "unprotected copy with: openssl pkey -in KEY -out NEW_KEY)");
        return false;
    }
    err = file_error("keyfile", path, "damaged PEM private key: " + take_openssl_error());
    return false;
}

// "8 hex digits, a dot, a number": the links `openssl rehash` makes, which capath look-ups need.
bool is_hash_link_name(std::string_view name) {
    if (name.size() < 10 || name[8] != '.') return false;
    for (std::size_t i = 0; i < 8; ++i) {
        const char c = name[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    }
    const auto suffix = name.substr(9);
    const bool crl = suffix.front() == 'r'; // CRL links are HASH.rN
    for (const char c : crl ? suffix.substr(1) : suffix)
        if (c < '0' || c > '9') return false;
    return suffix.size() > (crl ? 1u : 0u);
}

bool check_capath(const std::string& path, tls_error& err) {
    DIR* dir = ::opendir(path.c_str());
    if (dir == nullptr) {
        err = file_error("capath", path, std::strerror(errno));
        return false;
    }
    bool hashed = false;
    while (const dirent* entry = ::readdir(dir))
        if (is_hash_link_name(entry->d_name)) {
            hashed = true;
            break;
        }
    ::closedir(dir);
    if (!hashed) {
        err =
            file_error("capath", path, "no hashed CA certificates (run: openssl rehash DIRECTORY)");
        return false;
    }
    return true;
}

bool load_cafile(SSL_CTX* ctx, const std::string& path, bool advertise, tls_error& err) {
    std::vector<x509_ptr> cas;
    if (!read_certificates("cafile", path, cas, err)) return false;
    X509_STORE* store = SSL_CTX_get_cert_store(ctx);
    for (const auto& ca : cas) {
        // A CA listed twice is harmless (X509_STORE_add_cert ignores duplicates in 3.0).
        if (X509_STORE_add_cert(store, ca.get()) != 1) {
            err = file_error("cafile", path, take_openssl_error());
            return false;
        }
        // The CertificateRequest names these CAs, so a client holding several certificates
        // picks the right one.
        if (advertise && SSL_CTX_add_client_CA(ctx, ca.get()) != 1) {
            err = file_error("cafile", path, take_openssl_error());
            return false;
        }
    }
    return true;
}

// cafile and capath (either may be empty): the CAs that peer certificates must chain to.
bool load_trust(SSL_CTX* ctx, const std::string& cafile, const std::string& capath, bool advertise,
                tls_error& err) {
    if (!cafile.empty() && !load_cafile(ctx, cafile, advertise, err)) return false;
    if (capath.empty()) return true;
    if (!check_capath(capath, err)) return false;
    if (SSL_CTX_load_verify_dir(ctx, capath.c_str()) != 1) {
        err = file_error("capath", capath, take_openssl_error());
        return false;
    }
    return true;
}

bool load_crlfile(SSL_CTX* ctx, const std::string& path, std::vector<std::string>& warnings,
                  tls_error& err) {
    std::string data;
    if (!read_file("crlfile", path, data, err)) return false;
    auto bio = memory_bio(data);
    X509_STORE* store = SSL_CTX_get_cert_store(ctx);
    std::size_t count = 0;
    ERR_clear_error();
    while (X509_CRL* crl = PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr)) {
        ++count;
        const ASN1_TIME* next = X509_CRL_get0_nextUpdate(crl);
        if (next != nullptr && X509_cmp_current_time(next) < 0)
            warnings.push_back("crlfile " + quoted(path) + ": the CRL's next update was due " +
                               detail::asn1_time_text(next) +
                               "; OpenSSL refuses every client certificate until it is renewed");
        const int added = X509_STORE_add_crl(store, crl);
        X509_CRL_free(crl);
        if (added != 1) {
            err = file_error("crlfile", path, take_openssl_error());
            return false;
        }
    }
    if (!pem_ended_cleanly()) {
        err = file_error("crlfile", path,
                         "damaged PEM CRL after " + std::to_string(count) +
                             " good one(s): " + take_openssl_error());
        return false;
    }
    if (count == 0) {
        err = file_error("crlfile", path, "no PEM CRL found");
        return false;
    }
    X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
    return true;
}

// certfile (leaf first, then its chain) and keyfile; the key must match the leaf.
bool load_identity(SSL_CTX* ctx, const std::string& certfile, const std::string& keyfile,
                   std::vector<std::string>& warnings, tls_error& err) {
    std::vector<x509_ptr> chain;
    if (!read_certificates("certfile", certfile, chain, err)) return false;
    pkey_ptr key;
    if (!read_private_key(keyfile, key, err)) return false;
    X509* leaf = chain.front().get();
    ERR_clear_error();
    if (X509_check_private_key(leaf, key.get()) != 1) {
        ERR_clear_error();
        err = file_error("keyfile", keyfile,
                         "does not match the certificate in certfile " + quoted(certfile) +
                             " (the first certificate there must be the one for this key)");
        return false;
    }
    if (SSL_CTX_use_certificate(ctx, leaf) != 1) {
        err = file_error("certfile", certfile, "OpenSSL refused it: " + take_openssl_error());
        return false;
    }
    if (SSL_CTX_use_PrivateKey(ctx, key.get()) != 1) {
        err = file_error("keyfile", keyfile, "OpenSSL refused it: " + take_openssl_error());
        return false;
    }
    for (std::size_t i = 1; i < chain.size(); ++i) {
        if (SSL_CTX_add0_chain_cert(ctx, chain[i].get()) != 1) {
            err = file_error("certfile", certfile,
                             "OpenSSL refused chain certificate " + std::to_string(i + 1) + ": " +
                                 take_openssl_error());
            return false;
        }
        static_cast<void>(chain[i].release()); // owned by the context now
    }
    if (X509_cmp_current_time(X509_get0_notAfter(leaf)) < 0)
        warnings.push_back("certfile " + quoted(certfile) + ": the certificate expired on " +
                           detail::asn1_time_text(X509_get0_notAfter(leaf)) +
                           "; clients that check it will refuse to connect");
    else if (X509_cmp_current_time(X509_get0_notBefore(leaf)) > 0)
        warnings.push_back("certfile " + quoted(certfile) +
                           ": the certificate is valid only from " +
                           detail::asn1_time_text(X509_get0_notBefore(leaf)));
    return true;
}

int proto_version(tls_version v) noexcept {
    return v == tls_version::tls1_3 ? TLS1_3_VERSION : TLS1_2_VERSION;
}

bool set_ciphers(SSL_CTX* ctx, const std::string& ciphers, const std::string& ciphers_tls13,
                 tls_error& err) {
    ERR_clear_error();
    if (!ciphers.empty() && SSL_CTX_set_cipher_list(ctx, ciphers.c_str()) != 1) {
        err = {{},
               "ciphers " + quoted(ciphers) + ": " + take_openssl_error() +
                   " (no TLS 1.2 cipher in the list is known to OpenSSL; see `openssl ciphers`)"};
        return false;
    }
    if (!ciphers_tls13.empty() && SSL_CTX_set_ciphersuites(ctx, ciphers_tls13.c_str()) != 1) {
        err = {{},
               "ciphers_tls1.3 " + quoted(ciphers_tls13) + ": " + take_openssl_error() +
                   " (expected TLS 1.3 ciphersuites such as TLS_AES_128_GCM_SHA256)"};
        return false;
    }
    return true;
}

ctx_ptr new_ctx(const SSL_METHOD* method, tls_error& err) {
    ERR_clear_error();
    ctx_ptr ctx(SSL_CTX_new(method));
    if (!ctx) err = {{}, "cannot create an OpenSSL context: " + take_openssl_error()};
    return ctx;
}

} // namespace

struct tls_context_builder {
    static tls_result<std::shared_ptr<const tls_context>> server(const tls_settings& s) {
        if (!s.enabled())
            return tls_error{{}, "TLS needs both certfile and keyfile on this listener"};
        tls_error err;
        auto ctx = new_ctx(TLS_server_method(), err);
        if (!ctx) return err;
        SSL_CTX* c = ctx.get();
        SSL_CTX_set_min_proto_version(c, proto_version(s.min_version));
        SSL_CTX_set_max_proto_version(c, 0); // the newest this OpenSSL knows
        SSL_CTX_set_options(c, SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                                   SSL_OP_NO_RENEGOTIATION);
        SSL_CTX_set_mode(c, SSL_MODE_RELEASE_BUFFERS);
        // Needed for session resumption together with client certificates.
        static constexpr unsigned char sid_context[] = "mqttwire-broker";
        SSL_CTX_set_session_id_context(c, sid_context, sizeof sid_context - 1);
        // TLS 1.2 session-ID resumption (ESP8266's BearSSL has no tickets) keeps each session,
        // with the client's certificate, after its connection closed; OpenSSL's default of
        // 20,480 could hold some 200 MB of them.
        SSL_CTX_sess_set_cache_size(c, server_session_cache_size);
        std::vector<std::string> warnings;
        if (!load_identity(c, s.certfile, s.keyfile, warnings, err)) return err;
        if (!load_trust(c, s.cafile, s.capath, true, err)) return err;
        if (!s.crlfile.empty() && !load_crlfile(c, s.crlfile, warnings, err)) return err;
        if (!set_ciphers(c, s.ciphers, s.ciphers_tls13, err)) return err;
        SSL_CTX_set_verify(c,
                           s.require_certificate ? SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT
                                                 : SSL_VERIFY_NONE,
                           detail::verify_callback);
        SSL_CTX_set_client_hello_cb(c, detail::client_hello_callback, nullptr);
        std::shared_ptr<tls_context> out(
            new tls_context(ctx.release(), tls_role::server, s.min_version, s.require_certificate));
        out->warnings_ = std::move(warnings);
        return std::shared_ptr<const tls_context>(std::move(out));
    }

    static tls_result<std::shared_ptr<const tls_context>> client(const tls_client_settings& s) {
        tls_error err;
        auto ctx = new_ctx(TLS_client_method(), err);
        if (!ctx) return err;
        SSL_CTX* c = ctx.get();
        SSL_CTX_set_min_proto_version(c, proto_version(s.min_version));
        SSL_CTX_set_max_proto_version(c, s.max_version ? proto_version(*s.max_version) : 0);
        SSL_CTX_set_options(c, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
        SSL_CTX_set_mode(c, SSL_MODE_RELEASE_BUFFERS);
        std::vector<std::string> warnings;
        if (!s.certfile.empty() || !s.keyfile.empty()) {
            if (s.certfile.empty() || s.keyfile.empty())
                return tls_error{{}, "a client certificate needs both certfile and keyfile"};
            if (!load_identity(c, s.certfile, s.keyfile, warnings, err)) return err;
        }
        if (!load_trust(c, s.cafile, s.capath, false, err)) return err;
        if (!set_ciphers(c, s.ciphers, s.ciphers_tls13, err)) return err;
        SSL_CTX_set_verify(c, s.verify_peer ? SSL_VERIFY_PEER : SSL_VERIFY_NONE,
                           detail::verify_callback);
        std::shared_ptr<tls_context> out(
            new tls_context(ctx.release(), tls_role::client, s.min_version, false));
        out->warnings_ = std::move(warnings);
        return std::shared_ptr<const tls_context>(std::move(out));
    }
};

tls_context::tls_context(SSL_CTX* ctx, tls_role role, tls_version min_version,
                         bool require_certificate)
    : ctx_(ctx), role_(role), min_version_(min_version), require_certificate_(require_certificate) {
}

tls_context::~tls_context() { SSL_CTX_free(ctx_); }

tls_result<std::shared_ptr<const tls_context>> tls_context::server(const tls_settings& settings) {
    return tls_context_builder::server(settings);
}

tls_result<std::shared_ptr<const tls_context>>
tls_context::client(const tls_client_settings& settings) {
    return tls_context_builder::client(settings);
}

tls_result<reloadable_tls_context> reloadable_tls_context::create(tls_settings settings) {
    auto first = tls_context::server(settings);
    if (!first) return first.error();
    return reloadable_tls_context(std::move(settings), std::move(first).value());
}

std::optional<tls_error> reloadable_tls_context::reload() {
    auto next = tls_context::server(settings_);
    if (!next) return next.error();
    current_ = std::move(next).value();
    ++generation_;
    return std::nullopt;
}

tls_result<std::vector<listener_tls>> load_listener_tls(const config& cfg) {
    std::vector<listener_tls> out;
    for (std::size_t i = 0; i < cfg.listeners.size(); ++i) {
        const auto& l = cfg.listeners[i];
        if (!l.tls.enabled()) continue;
        auto made = reloadable_tls_context::create(l.tls);
        if (!made) {
            auto e = made.error();
            e.message = "listener " + std::to_string(l.port) + ": " + e.message;
            return e;
        }
        out.push_back({i, std::move(made).value()});
    }
    return out;
}

const char* tls_version_name(tls_version v) noexcept {
    return v == tls_version::tls1_3 ? "TLS 1.3" : "TLS 1.2";
}

} // namespace mqttwire::broker::net
