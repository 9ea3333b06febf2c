#pragma once
// What mqttwire-pub and mqttwire-sub share: the options both take (mosquitto_pub/mosquitto_sub
// names and meanings), a TCP connection driven by a session-layer client, reconnecting with the
// same session state when the connection is lost, and the -d debug trace.

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <mqttwire/session.hpp>

namespace mqttwire::tools {

using storage = dynamic_storage<>;
using ms = std::chrono::milliseconds;

/// Exit status of mosquitto_sub -W when the time is up (libmosquitto's MOSQ_ERR_TIMEOUT).
inline constexpr int exit_timeout = 27;

struct will_options {
    std::string topic;
    std::string payload;
    int qos = 0;
    bool retain = false;
    bool payload_given = false;
    bool qos_given = false;
};

struct common_options {
    std::string host = "localhost";
    std::uint16_t port = 1883;
    std::string id;
    bool id_given = false;
    std::optional<std::string> username;
    std::optional<std::string> password;
    std::uint16_t keep_alive = 60;
    bool clean = true;                        // -c turns it off
    std::optional<std::uint32_t> session_expiry; // -x
    protocol_version version = protocol_version::v3_1_1;
    int qos = 0;
    bool debug = false;
    bool quiet = false;
    will_options will;
};

/// The value after option argv[i] (advancing i), or nullptr with `error` set when there is none.
const char* option_value(int argc, char** argv, int& i, std::string& error);

/// Parses the option at argv[i] if it is a common one (advancing i past its argument).
/// Returns false for an option that is not common; sets `error` for a bad value.
bool parse_common(int argc, char** argv, int& i, common_options& o, std::string& error);

/// Checks the combinations mosquitto refuses (will options without a topic, -c without -i).
bool check_common(common_options& o, std::string& error);

/// The program's part of the loop.
class application {
  public:
    virtual ~application() = default;
    /// CONNACK accepted the connection.
    virtual void connected(client<storage>& c, bool session_present, ms now) = 0;
    /// Any other event but `closed`.
    virtual void event(client<storage>& c, const session_event& ev, ms now) = 0;
    /// Called once per loop turn, connected or not: publish what is ready, disconnect when
    /// done. False ends the program at once with `status()` (no connection to close).
    virtual bool turn(client<storage>& c, ms now) = 0;
    /// A file descriptor to watch for reading besides the socket (stdin for -l), or -1.
    virtual int extra_fd() const { return -1; }
    virtual void extra_readable(client<storage>&, ms) {}
    /// When the program wants control back without input (-W), if ever.
    virtual std::optional<ms> deadline() const { return std::nullopt; }
    /// The exit status after the program's own DISCONNECT.
    virtual int status() const { return 0; }
};

/// One client connection, kept up until the application disconnects.
class connection {
  public:
    explicit connection(const common_options& o);
    /// Runs until the application disconnected (its status), the server refused the connection
    /// (the CONNACK reason code or 3.1.1 return code), or the connection failed before it ever
    /// worked (1). A connection lost after it worked is opened again a second later, with the
    /// same session state, as libmosquitto's loop does.
    int run(application& app);
    [[nodiscard]] client<storage>& session() noexcept { return client_; }
    [[nodiscard]] const std::string& client_id() const noexcept { return id_; }
    /// Where resent PUBLISH bytes come from (the client keeps no copies of its own).
    void set_resend_source(resend_source fn, void* ctx) noexcept { client_.set_resend_source(fn, ctx); }
    /// -d: a line per packet sent or received.
    void trace_output();

  private:
    bool open_socket();
    void close_socket();
    bool start(ms now);
    void trace_input(std::span<const std::byte> bytes);
    void debug(const std::string& line) const;

    common_options opts_;
    std::string id_;
    storage storage_;
    session_state<storage> state_;
    client<storage> client_;
    int fd_ = -1;
    bool ever_connected_ = false;
    std::vector<std::byte> trace_in_;
};

/// Monotonic milliseconds.
ms now_ms();

/// Prints "Error: <text>" to stderr and returns 1 (usage errors).
int usage_error(const std::string& text, const char* program);

} // namespace mqttwire::tools
