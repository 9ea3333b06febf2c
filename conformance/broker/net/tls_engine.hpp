#pragma once
/// @file
/// @brief One TLS connection as a sans-I/O engine: ciphertext in, plaintext out; plaintext in,
/// ciphertext out. OpenSSL 3 runs over one BIO whose data are the engine's two byte queues; the
/// engine never touches a socket or a clock, so the broker's event loop (or a test) moves the bytes and decides about time.
///
/// A connection's life, as the event loop drives it:
///
///     auto e = tls_engine::server(listener_context.current()).value();
///     // socket readable: hand over what arrived (feed takes at most input_room() bytes)
///     auto rest = received;
///     while (!rest.empty() && e.state() != tls_state::failed) {
///         rest = rest.subspan(e.feed(rest));
///         while (auto n = e.read(plain)) deliver(plain.first(n));  // decrypted MQTT bytes
///         if (e.input_room() == 0) break;  // read() paused: keep `rest` until output drains
///     }
///     // MQTT bytes to send (write takes at most output_room() bytes):
///     e.write(bytes);
///     // whenever e.wants_write(): send(e.pending_output()), then e.consume_output(sent)
///     // handshake deadline passed and !e.handshake_complete(): log, close
///     // e.state() == tls_state::failed: log e.failure_message(), flush the alert, close
///     // end of input from the socket: e.end_of_input()
///
/// **Bounds.** The engine holds at most `max_input` bytes of undecrypted input (feed() takes no
/// more) and stops accepting plaintext once `max_output` bytes of ciphertext wait to be sent
/// (write() takes less, read() pauses, so a peer cannot grow the output by sending requests
/// that need answers, such as TLS 1.3 KeyUpdate). OpenSSL itself holds at most one record per
/// direction. Both queues give their storage back as soon as they are empty (keeping at
/// most 1 KiB, so small packets do not allocate per record), and `SSL_MODE_RELEASE_BUFFERS` does
/// the same for OpenSSL's record buffers, so an idle established connection costs the `SSL`
/// object, its session and the engine: within a few hundred bytes of a plain `SSL` on a socket
/// (tests/tls_engine_test.cpp, tests/tls_idle_memory.cpp).
///
/// **Failures** are a `tls_failure` and one human-readable line (failure_message()), e.g.
///
/// - `client certificate rejected: unable to get local issuer certificate (unknown CA: not
///   issued by a CA in cafile/capath), subject CN=sensor-1,O=Elsewhere`
/// - `client sent no certificate (this listener has require_certificate true)`
/// - `client certificate rejected: certificate revoked (listed in crlfile), subject
///   CN=stolen-device,O=Home`
/// - `protocol version too low: the client offers at most TLS 1.2, this listener requires
///   TLS 1.3 (tls_version)`
/// - `plain MQTT on a TLS port: the first byte 0x10 is an MQTT CONNECT (the client is not using
///   TLS)`
/// - `an HTTP request on a TLS port ("GET /mqt"): the client speaks plain HTTP or WebSocket,
///   not TLS`
/// - `not TLS: the client's first bytes are 00 01 02 03 ("....")`
///
/// The first bytes are examined before OpenSSL sees them (server role): a TLS connection starts
/// with a handshake record (0x16), so anything else is refused at once with its description.

#include "net/tls_bio.hpp"
#include "net/tls_context.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace mqttwire::broker::net {

/// Where a connection stands.
enum class tls_state : std::uint8_t {
    handshaking, ///< no application data yet
    established, ///< read() and write() carry application data
    closed,      ///< close() was called, close_notify arrived, or the input ended
    failed,      ///< see failure() and failure_message(); pending_output() may hold an alert
};

/// Why a connection failed.
enum class tls_failure : std::uint8_t {
    none,
    not_tls,               ///< the first bytes are not a TLS record
    plain_mqtt,            ///< an MQTT CONNECT where a TLS ClientHello belongs
    http_request,          ///< an HTTP request where a TLS ClientHello belongs
    unknown_ca,            ///< the peer's certificate is not issued by a trusted CA
    certificate_revoked,   ///< the peer's certificate is in the CRL
    certificate_expired,   ///< the peer's certificate is expired or not yet valid
    certificate_invalid,   ///< any other verification failure (purpose, host name, CRL missing)
    no_client_certificate, ///< require_certificate true and the client sent none
    protocol_version,      ///< no TLS version both sides accept
    no_shared_cipher,      ///< no cipher suite both sides accept
    peer_alert,            ///< the peer aborted with an alert (e.g. it distrusts our certificate)
    peer_closed,           ///< the input ended before the handshake completed
    protocol_error,        ///< anything else OpenSSL refused (malformed records, bad MAC, ...)
    internal,              ///< OpenSSL could not allocate
};

/// @brief A short name for a failure kind ("unknown_ca"), for tests and counters.
[[nodiscard]] const char* tls_failure_name(tls_failure f) noexcept;

/// Buffer bounds of one engine (see the file comment).
struct tls_engine_limits {
    /// Undecrypted input held; at least one byte. 17 KiB takes a full TLS record at once.
    std::size_t max_input = 17 * 1024;
    /// Ciphertext waiting to be sent before write() and read() pause.
    std::size_t max_output = 64 * 1024;
};

/// One TLS connection (server or client role), movable, not copyable.
class tls_engine {
  public:
    /// @brief A server-side connection with `context` (a listener's current context).
    /// @return the engine, or an error when OpenSSL cannot allocate.
    [[nodiscard]] static tls_result<tls_engine> server(std::shared_ptr<const tls_context> context,
                                                       tls_engine_limits limits = {});

    /// @brief A client-side connection; its ClientHello is in pending_output() at once.
    /// @param server_name sent as SNI (unless it is an IP address) and, when the context
    /// verifies the peer, checked against the server certificate's names; empty: neither.
    [[nodiscard]] static tls_result<tls_engine> client(std::shared_ptr<const tls_context> context,
                                                       std::string_view server_name,
                                                       tls_engine_limits limits = {});

    tls_engine(tls_engine&& other) noexcept;
    tls_engine& operator=(tls_engine&& other) noexcept;
    tls_engine(const tls_engine&) = delete;
    tls_engine& operator=(const tls_engine&) = delete;
    ~tls_engine();

    // ----- bytes from the peer ---------------------------------------------------------------

    /// @brief Takes ciphertext received from the peer and advances the handshake.
    /// @return how many bytes were taken: all of them, or input_room() when fewer. Once the
    /// connection failed, or is closed and the peer's close_notify (or the end of input) has
    /// arrived, input is discarded and counted as taken.
    std::size_t feed(std::span<const std::byte> ciphertext);

    /// How many more bytes feed() takes now.
    [[nodiscard]] std::size_t input_room() const noexcept;

    /// @brief read() may return bytes without more input: undecrypted records are buffered, or
    /// a decrypted record did not fit the last read(). (An event loop that waits for the socket
    /// must call read() first when this is true.)
    [[nodiscard]] bool has_buffered_input() const noexcept;

    /// @brief The peer's byte stream ended (EOF on the socket). During the handshake that is a
    /// failure (peer_closed); afterwards the connection is closed (closed_cleanly() tells
    /// whether close_notify came first).
    void end_of_input();

    /// @brief Decrypts application data into `plaintext`.
    /// @return bytes written to `plaintext`; 0 when none is available yet (more input needed,
    /// output must be drained first, or the state is not established: check state()). After
    /// close() it still processes input until the peer's close_notify.
    std::size_t read(std::span<std::byte> plaintext);

    // ----- bytes to the peer -----------------------------------------------------------------

    /// @brief Encrypts application data.
    /// @return bytes taken: all, or output_room() when fewer; 0 unless established.
    std::size_t write(std::span<const std::byte> plaintext);

    /// How much more ciphertext may be queued before write() and read() pause.
    [[nodiscard]] std::size_t output_room() const noexcept;

    /// @brief Ciphertext ready to send (handshake messages, records, alerts). Valid until the
    /// next call of a non-const member.
    [[nodiscard]] std::span<const std::byte> pending_output() const noexcept;

    /// @brief Drops the first `n` bytes of pending_output() (they were sent). @pre n <= size.
    void consume_output(std::size_t n) noexcept;

    /// There is ciphertext to send.
    [[nodiscard]] bool wants_write() const noexcept { return !pending_output().empty(); }

    /// @brief Queues close_notify (established) and closes; pending_output() holds it.
    void close();

    /// @brief Frees the storage of both byte queues that are empty, including the small ones
    /// kept between records. For a caller that knows the connection went quiet (its socket
    /// drained and all output sent): an idle connection then costs no buffer at all, while a
    /// busy one pays the allocations once per batch of records instead of once per record.
    void release_buffers() noexcept { release_idle_buffers(0); }

    // ----- state -----------------------------------------------------------------------------

    [[nodiscard]] tls_state state() const noexcept { return state_; }
    /// The handshake finished (the broker's handshake timer stops here).
    [[nodiscard]] bool handshake_complete() const noexcept { return handshake_done_; }
    [[nodiscard]] tls_failure failure() const noexcept { return failure_; }
    /// One line naming the cause; empty unless failed.
    [[nodiscard]] const std::string& failure_message() const noexcept { return message_; }
    /// The peer sent close_notify.
    [[nodiscard]] bool closed_cleanly() const noexcept;
    [[nodiscard]] tls_role role() const noexcept { return role_; }

    /// @brief For the log line of a handshake that ran out of time: how far it got.
    [[nodiscard]] std::string describe_incomplete_handshake() const;

    /// "TLSv1.3" once established; empty before.
    [[nodiscard]] std::string_view protocol_name() const noexcept;
    /// "TLS_AES_256_GCM_SHA384", "ECDHE-RSA-AES128-GCM-SHA256", ... once established.
    [[nodiscard]] std::string_view cipher_name() const noexcept;

    /// @brief The peer certificate's Common Name, as `use_identity_as_username` makes it the
    /// user name (mosquitto: the first CN of the subject).
    /// @return an error when the handshake is not complete, there is no (verified) peer
    /// certificate, it has no CN, or the CN is not a valid MQTT UTF-8 string (NUL, ill-formed,
    /// longer than 65,535 bytes).
    [[nodiscard]] tls_result<std::string> peer_common_name() const;

    /// @brief The peer certificate's subject as `use_subject_as_username` makes it the user
    /// name: `X509_NAME_print_ex(..., XN_FLAG_RFC2253)` as in mosquitto, e.g.
    /// `CN=sensor-1,OU=devices,O=Home,C=DE`.
    /// @return an error as for peer_common_name(), or when the subject is empty.
    [[nodiscard]] tls_result<std::string> peer_subject() const;

    [[nodiscard]] const std::shared_ptr<const tls_context>& context() const noexcept {
        return context_;
    }

  private:
    friend struct tls_engine_access;

    tls_engine(std::shared_ptr<const tls_context> context, SSL* ssl, BIO* bio, tls_role role,
               tls_engine_limits limits) noexcept;

    [[nodiscard]] bool takes_input() const noexcept;
    void reset_app_data() noexcept;
    void sniff(std::span<const std::byte> bytes);
    void advance_handshake();
    void fail_from_openssl(int ssl_error);
    void fail(tls_failure kind, std::string message);
    void release_idle_buffers(std::size_t keep) noexcept;
    void release_idle_buffers() noexcept;
    [[nodiscard]] tls_result<const X509*> verified_peer() const;

    std::shared_ptr<const tls_context> context_;
    SSL* ssl_ = nullptr;
    BIO* bio_ = nullptr; // owned by ssl_; reads queues_.in, writes queues_.out
    detail::tls_queues queues_;
    std::uint32_t max_input_;
    std::uint32_t max_output_;
    std::uint32_t bytes_in_ = 0;         // saturating; for describe_incomplete_handshake()
    int verify_error_ = 0;               // first X509_V_ERR_* the verify callback saw
    std::uint16_t peer_max_version_ = 0; // highest version in the ClientHello (server role)
    tls_role role_;
    tls_state state_ = tls_state::handshaking;
    tls_failure failure_ = tls_failure::none;
    bool handshake_done_ = false;
    bool sniffed_ = false; // the first bytes were judged to be TLS
    bool input_ended_ = false;
    std::uint8_t first_count_ = 0;
    std::array<std::byte, 8> first_{}; // the first bytes received, until judged
    std::string message_; // failure message; while handshaking, the rejected peer's subject
};

} // namespace mqttwire::broker::net
