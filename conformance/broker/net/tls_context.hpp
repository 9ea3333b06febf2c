#pragma once
/// @file
/// @brief TLS contexts of the reference broker (OpenSSL 3): one per TLS listener, built from
/// mosquitto's per-listener directives (config.hpp, `tls_settings`), reloadable for new
/// connections; and client contexts, for tests and bridges.
///
/// A context holds everything connections share: the certificate chain and key, the trusted CAs,
/// the CRL, the version floor and the cipher lists. Building one reads every file it names and
/// checks it; a failure is a `tls_error` value naming the directive, the file and the reason,
/// for example
///
///     certfile '/etc/mqtt/server.pem': No such file or directory
///     keyfile '/etc/mqtt/server.key': does not match the certificate in certfile '/etc/...'
///     crlfile '/etc/mqtt/crl.pem': no PEM CRL found
///
/// Reloading (SIGHUP) builds a complete new context from the same settings and swaps it in only
/// when that succeeded (`reloadable_tls_context`); each connection keeps the context it started
/// with (`std::shared_ptr`, and OpenSSL's own reference count on the `SSL_CTX`), so open
/// connections never see a half-loaded certificate.
///
/// Server contexts mirror mosquitto 2.0's choices (src/net.c): compression and renegotiation
/// off, the server's cipher preference, `SSL_MODE_RELEASE_BUFFERS` (OpenSSL frees a
/// connection's record buffers while it is idle), a client certificate requested only with
/// `require_certificate true` (then mandatory), the CRL checked for the client certificate
/// itself (`X509_V_FLAG_CRL_CHECK`: the CRL must come from the CA that issued the client
/// certificates). Without `tls_version` the floor is TLS 1.2. Resumption: TLS 1.3 and TLS 1.2
/// clients with tickets use stateless tickets; for TLS 1.2 session IDs the context keeps at most
/// 1,024 sessions (OpenSSL's default is 20,480, each holding the client's certificate).

#include "config.hpp"

#include <openssl/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace mqttwire::broker::net {

/// Why a TLS context or engine could not be made, or a peer identity not extracted.
struct tls_error {
    std::string file;    ///< the file concerned; empty when the error is not about a file
    std::string message; ///< one line that names the directive, the file and the reason
};

/// A value or a `tls_error`.
template <class T> class tls_result {
  public:
    tls_result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
    tls_result(tls_error error) : v_(std::in_place_index<1>, std::move(error)) {}

    [[nodiscard]] bool has_value() const noexcept { return v_.index() == 0; }
    explicit operator bool() const noexcept { return has_value(); }
    /// @pre has_value()
    [[nodiscard]] T& value() & { return std::get<0>(v_); }
    [[nodiscard]] const T& value() const& { return std::get<0>(v_); }
    [[nodiscard]] T&& value() && { return std::get<0>(std::move(v_)); }
    /// @pre !has_value()
    [[nodiscard]] const tls_error& error() const { return std::get<1>(v_); }

  private:
    std::variant<T, tls_error> v_;
};

/// Which side of the handshake a context and its engines play.
enum class tls_role : std::uint8_t { server, client };

/// Settings of a client context (tests, and bridges later). Not read from the configuration.
struct tls_client_settings {
    std::string cafile;   ///< CAs trusted for the server certificate
    std::string capath;   ///< hashed CA directory, as for the server
    std::string certfile; ///< client certificate chain; empty: none
    std::string keyfile;  ///< its key
    tls_version min_version = tls_version::tls1_2;
    std::optional<tls_version> max_version; ///< none: the newest OpenSSL offers
    std::string ciphers;                    ///< TLS 1.2 cipher list; empty: OpenSSL's default
    std::string ciphers_tls13;              ///< TLS 1.3 ciphersuites; empty: OpenSSL's default
    bool verify_peer = true;                ///< check the server's chain (and name, see engine)
};

/// An immutable OpenSSL `SSL_CTX` with the settings it was built from.
class tls_context {
  public:
    /// @brief Builds a server context for a listener. Reads and checks certfile, keyfile,
    /// cafile, capath and crlfile now.
    /// @return the context, or the first problem found: a file missing or unreadable, no PEM
    /// certificate / key / CRL in it, a passphrase-protected key, a key that does not match the
    /// certificate, a capath without hashed certificates, a cipher list OpenSSL rejects, or
    /// TLS not enabled in `settings` (certfile and keyfile unset).
    [[nodiscard]] static tls_result<std::shared_ptr<const tls_context>>
    server(const tls_settings& settings);

    /// @brief Builds a client context; the same checks for the files it names.
    [[nodiscard]] static tls_result<std::shared_ptr<const tls_context>>
    client(const tls_client_settings& settings);

    ~tls_context();
    tls_context(const tls_context&) = delete;
    tls_context& operator=(const tls_context&) = delete;

    [[nodiscard]] SSL_CTX* native() const noexcept { return ctx_; }
    [[nodiscard]] tls_role role() const noexcept { return role_; }
    /// The configured floor (for log lines about version refusals).
    [[nodiscard]] tls_version min_version() const noexcept { return min_version_; }
    /// Client certificates are requested and required (server role).
    [[nodiscard]] bool require_certificate() const noexcept { return require_certificate_; }
    /// Things worth a log line that did not stop the build, e.g. an expired server certificate.
    [[nodiscard]] const std::vector<std::string>& warnings() const noexcept { return warnings_; }

  private:
    tls_context(SSL_CTX* ctx, tls_role role, tls_version min_version, bool require_certificate);

    SSL_CTX* ctx_;
    tls_role role_;
    tls_version min_version_;
    bool require_certificate_;
    std::vector<std::string> warnings_;

    friend struct tls_context_builder;
};

/// @brief A listener's current server context and the settings to rebuild it from.
///
/// Single-threaded like the broker's event loop: the signal handler only sets a flag, and the
/// loop calls reload().
class reloadable_tls_context {
  public:
    /// @brief Builds the first context (start-up: an error here stops the broker).
    [[nodiscard]] static tls_result<reloadable_tls_context> create(tls_settings settings);

    /// The context new connections use.
    [[nodiscard]] const std::shared_ptr<const tls_context>& current() const noexcept {
        return current_;
    }

    /// @brief Re-reads every file and builds a new context. On success it becomes current() for
    /// new connections; on failure the error is returned and current() is unchanged. Connections
    /// made before keep the context they have either way.
    /// @return nullopt on success.
    [[nodiscard]] std::optional<tls_error> reload();

    [[nodiscard]] const tls_settings& settings() const noexcept { return settings_; }
    /// How many reloads succeeded.
    [[nodiscard]] std::uint64_t generation() const noexcept { return generation_; }

  private:
    reloadable_tls_context(tls_settings settings, std::shared_ptr<const tls_context> first)
        : settings_(std::move(settings)), current_(std::move(first)) {}

    tls_settings settings_;
    std::shared_ptr<const tls_context> current_;
    std::uint64_t generation_ = 0;
};

/// One TLS listener's reloadable context.
struct listener_tls {
    std::size_t listener = 0; ///< index into config::listeners
    reloadable_tls_context context;
};

/// @brief Builds the context of every listener with TLS enabled, in configuration order (the
/// start-up step: a missing or unreadable certificate or key stops the broker here).
/// @return the contexts, or the first error with "listener PORT: " before its message.
[[nodiscard]] tls_result<std::vector<listener_tls>> load_listener_tls(const config& cfg);

/// @brief "TLS 1.2" / "TLS 1.3", for log lines.
[[nodiscard]] const char* tls_version_name(tls_version v) noexcept;

} // namespace mqttwire::broker::net
