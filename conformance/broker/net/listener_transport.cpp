#include "net/listener_transport.hpp"

#include <memory>

#include "net/tcp_transport.hpp"
#include "net/tls_transport.hpp"

namespace mqttwire::broker::net {

transport_factory make_listener_factory(const listener_config& listener,
                                        const reloadable_tls_context* tls,
                                        ws_transport_options ws, log_sink log) {
    const bool websockets = listener.protocol == listener_protocol::websockets;
    const tls_identity identity = listener.tls.use_identity_as_username ? tls_identity::common_name
                                  : listener.tls.use_subject_as_username ? tls_identity::subject
                                                                         : tls_identity::none;
    if (tls == nullptr && !websockets) return make_tcp_transport;
    // One sink per listener, shared by its transports (a pointer each, not a copy each).
    auto sink = std::make_shared<const log_sink>(std::move(log));
    return [tls, websockets, identity, ws, sink](int fd) {
        std::unique_ptr<transport> t =
            tls != nullptr ? make_tls_transport(fd, tls->current(), identity, sink.get())
                           : make_tcp_transport(fd);
        if (t && websockets) t = make_ws_transport(std::move(t), ws, sink.get());
        return t;
    };
}

const char* listener_kind(const listener_config& listener) noexcept {
    const bool tls = listener.tls.enabled();
    if (listener.protocol == listener_protocol::websockets) return tls ? "websockets+tls" : "websockets";
    return tls ? "mqtt+tls" : "mqtt";
}

} // namespace mqttwire::broker::net
