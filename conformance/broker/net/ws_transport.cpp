#include "net/ws_transport.hpp"

#include <algorithm>
#include <array>
#include <cstring>

namespace mqttwire::broker::net {

ws_transport::ws_transport(std::unique_ptr<transport> lower, ws_transport_options options,
                           const log_sink* log)
    : lower_(std::move(lower)), options_(options), log_(log),
      deframer_(ws::deframer_options{.local = ws::role::server,
                                     .max_message_size = options.max_message_size}),
      peer_(peer_address::of(lower_->fd())), over_tls_(lower_->describe().rfind("tls", 0) == 0) {}

ws_transport::~ws_transport() { close(); }

void ws_transport::log(const std::string& what) const {
    if (log_ != nullptr && *log_) (*log_)("mqttwire-broker: " + describe() + ": " + what);
}

void ws_transport::queue(std::span<const std::byte> bytes) {
    if (out_at_ == out_.size()) {
        out_.clear();
        out_at_ = 0;
    } else if (out_at_ > out_.size() / 2) {
        out_.erase(out_.begin(), out_.begin() + static_cast<std::ptrdiff_t>(out_at_));
        out_at_ = 0;
    }
    out_.insert(out_.end(), bytes.begin(), bytes.end());
}

bool ws_transport::send_pending() {
    while (!broken_ && out_at_ < out_.size()) {
        const auto r = lower_->write(std::span<const std::byte>(out_).subspan(out_at_));
        if (r.status == io_status::ok && r.bytes > 0) {
            out_at_ += r.bytes;
            continue;
        }
        if (r.status == io_status::ok || r.status == io_status::would_block) return true;
        broken_ = true;
    }
    if (out_at_ == out_.size() && !out_.empty()) {
        out_at_ = 0;
        out_.clear();
        // A spike (a large message framed at once) gives its storage back.
        if (out_.capacity() > 2 * options_.max_pending_output) out_.shrink_to_fit();
    }
    if (!broken_ && out_.empty() && lower_->wants_write() &&
        lower_->write({}).status == io_status::error) // the layer below's own bytes
        broken_ = true;
    return !broken_;
}

io_result ws_transport::read(std::span<std::byte> into) {
    if (broken_ || state_ == state::failed) return {0, io_status::error};
    if (state_ == state::closing) return {0, io_status::closed};
    if (state_ == state::upgrading) {
        const auto r = read_upgrade(into);
        if (state_ != state::open || r.bytes > 0 || r.status != io_status::ok) return r;
    }
    return read_frames(into);
}

io_result ws_transport::read_upgrade(std::span<std::byte> into) {
    const std::size_t limit = ws::handshake_options{}.max_head_size;
    if (head_.empty()) head_.resize(limit);
    for (int reads = 0; reads < max_reads_without_data; ++reads) {
        const auto got = lower_->read(std::span<std::byte>(head_).subspan(head_have_));
        if (got.status == io_status::would_block || got.status == io_status::error) return got;
        if (got.bytes == 0) {
            // The layer below logged its own failure; a plain peer that left is worth a line.
            if (lower_->handshake_complete())
                log("closed during the WebSocket upgrade (" + std::to_string(head_have_) +
                    " bytes of the request received)");
            return {0, io_status::closed};
        }
        head_have_ += got.bytes;
        const auto e = parser_.parse(std::span<const std::byte>(head_).first(head_have_));
        if (e == ws::handshake_errc::incomplete) continue;
        std::array<std::byte, 512> reply{};
        if (e != ws::handshake_errc::success) {
            const auto n = ws::write_error_response(e, reply);
            if (n) queue(std::span<const std::byte>(reply).first(*n));
            log("WebSocket upgrade refused with HTTP " + std::to_string(ws::http_status_of(e)) + " (" +
                std::string(ws::handshake_errc_name(e)) + ")");
            state_ = state::failed;
            send_pending();
            return {0, io_status::error};
        }
        const auto n = ws::write_accept_response(parser_.request(), reply);
        if (!n) { // cannot happen for an accepted request; refuse rather than guess
            state_ = state::failed;
            return {0, io_status::error};
        }
        queue(std::span<const std::byte>(reply).first(*n));
        state_ = state::open;
        // Frames that came with the request: into the caller's buffer, deframed there.
        const std::size_t head_size = parser_.request().head_size;
        const std::size_t extra = head_have_ - head_size;
        std::size_t produced = 0;
        if (extra > 0) {
            // The head is at most 8 KiB, the event loop's buffer 64 KiB; guard anyway.
            const std::size_t take = std::min(extra, into.size());
            std::memcpy(into.data(), head_.data() + head_size, take);
            produced = deframe(into, take);
        }
        head_ = {};
        head_have_ = 0;
        if (!send_pending()) return {0, io_status::error};
        if (state_ == state::failed) return {0, io_status::error};
        if (produced > 0) return {produced, io_status::ok};
        if (state_ == state::closing) return {0, io_status::closed};
        return {0, io_status::ok}; // upgraded: read frames next
    }
    return {0, io_status::would_block};
}

std::size_t ws_transport::deframe(std::span<std::byte> into, std::size_t n) {
    std::size_t in_at = 0;
    std::size_t out_at = 0;
    while (in_at < n && !deframer_.ended()) {
        const auto r = deframer_.decode(into.subspan(in_at, n - in_at), into.subspan(out_at));
        in_at += r.consumed;
        out_at += r.produced;
        if (r.event == ws::deframe_event::none || r.event == ws::deframe_event::pong) continue;
        std::array<std::byte, ws::max_frame_header_size + ws::max_control_payload> reply{};
        const auto size = deframer_.write_reply(r, reply);
        if (size && *size > 0) queue(std::span<const std::byte>(reply).first(*size));
        if (r.event == ws::deframe_event::close) {
            close_sent_ = true; // the echo
            state_ = state::closing;
        } else if (r.event == ws::deframe_event::fail) {
            close_sent_ = true;
            state_ = state::failed;
            log("WebSocket connection failed with close code " +
                std::to_string(static_cast<unsigned>(r.code)) + " (" +
                std::string(ws::close_code_name(r.code)) + ")");
        }
    }
    return out_at;
}

io_result ws_transport::read_frames(std::span<std::byte> into) {
    for (int reads = 0; reads < max_reads_without_data; ++reads) {
        // Our replies wait for the peer to read: do not read (and answer) more until they go.
        if (!send_pending()) return {0, io_status::error};
        if (output_full()) return {0, io_status::would_block};
        const auto got = lower_->read(into);
        if (got.status != io_status::ok) return got;
        if (got.bytes == 0) return {0, io_status::closed};
        const std::size_t produced = deframe(into, got.bytes);
        send_pending();
        if (state_ == state::failed || broken_) return {0, io_status::error};
        if (produced > 0) return {produced, io_status::ok};
        if (state_ == state::closing) return {0, io_status::closed};
    }
    return {0, io_status::would_block};
}

io_result ws_transport::write(std::span<const std::byte> bytes) {
    if (!send_pending()) return {0, io_status::error};
    if (bytes.empty()) return {0, io_status::ok};
    if (state_ == state::upgrading) return {0, io_status::would_block};
    if (state_ != state::open) return {0, io_status::closed};
    if (output_full()) return {0, io_status::ok};
    const std::size_t n = std::min(bytes.size(), options_.max_pending_output);
    const auto h = ws::make_header(ws::role::server, ws::opcode::binary, n);
    std::array<std::byte, ws::max_frame_header_size> header{};
    const auto hn = ws::encode_frame_header(h, header);
    if (!hn) return {0, io_status::error};
    queue(std::span<const std::byte>(header).first(*hn));
    queue(bytes.first(n));
    if (!send_pending()) return {0, io_status::error};
    return {n, io_status::ok};
}

void ws_transport::close() {
    if (!lower_) return;
    if (!broken_ && state_ == state::open && !close_sent_) {
        std::array<std::byte, 8> frame{};
        const auto n = ws::encode_close_frame(ws::role::server, ws::close_code::normal_closure, {},
                                              frame);
        if (n) queue(std::span<const std::byte>(frame).first(*n));
        close_sent_ = true;
    }
    if (!broken_) send_pending(); // what the socket takes now
    lower_->close();
}

std::string ws_transport::describe() const { return peer_.text(over_tls_ ? "wss" : "ws"); }

std::string ws_transport::handshake_progress() const {
    if (!lower_->handshake_complete()) return lower_->handshake_progress();
    if (state_ != state::upgrading) return {};
    return "WebSocket upgrade: " + std::to_string(head_have_) +
           " bytes of the HTTP request received, not yet complete";
}

std::unique_ptr<transport> make_ws_transport(std::unique_ptr<transport> lower,
                                             ws_transport_options options, const log_sink* log) {
    if (!lower) return nullptr;
    return std::make_unique<ws_transport>(std::move(lower), options, log);
}

} // namespace mqttwire::broker::net
