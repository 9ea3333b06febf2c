#pragma once
// The transport stack of each listener: `protocol mqtt|websockets`, with or without TLS.
//
//   mqtt                  TCP
//   mqtt + certfile       TCP, TLS
//   websockets            TCP, WebSocket
//   websockets + certfile TCP, TLS, WebSocket (WSS)

#include "config.hpp"
#include "core/settings.hpp"
#include "net/tls_context.hpp"
#include "net/transport.hpp"
#include "net/ws_transport.hpp"

namespace mqttwire::broker::net {

/// @brief The factory of a listener's transports. `tls` (null for a plain listener) must
/// outlive the factory; each connection takes its current() context when accepted, so a
/// reload applies to new connections only. `log` gets handshake failures.
[[nodiscard]] transport_factory make_listener_factory(const listener_config& listener,
                                                      const reloadable_tls_context* tls,
                                                      ws_transport_options ws,
                                                      log_sink log);

/// "mqtt", "mqtt+tls", "websockets", "websockets+tls": for the start-up log line.
[[nodiscard]] const char* listener_kind(const listener_config& listener) noexcept;

} // namespace mqttwire::broker::net
