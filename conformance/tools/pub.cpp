// mqttwire-pub: publishes one message (-m, -f, -n, -s) or one per line of standard input (-l) on
// one topic, with mosquitto_pub's option names and meanings, on the session layer's client. QoS
// 1 and 2 messages are kept until acknowledged: with -c a lost connection is opened again and
// they are resent (DUP) in order.

#include <unistd.h>

#include <cstdio>
#include <deque>
#include <fstream>
#include <iterator>
#include <map>

#include "tool.hpp"

namespace mqttwire::tools {
namespace {

const char* const usage_text =
    "mqttwire-pub publishes a message on a topic and exits (MQTT 3.1, 3.1.1, 5.0).\n"
    "\n"
    "Usage: mqttwire-pub [-h host] [-p port] [-u username [-P password]] -t topic\n"
    "                    {-f file | -l | -n | -m message | -s}\n"
    "                    [-c] [-k keepalive] [-q qos] [-r] [-x session-expiry] [-i id] [-d]\n"
    "                    [-V mqttv31|mqttv311|mqttv5] [--quiet]\n"
    "                    [--will-topic topic [--will-payload payload] [--will-qos qos]\n"
    "                     [--will-retain]]\n"
    "\n"
    " -c : disable clean session (persistent session; needs -i). -d : debug trace on stderr.\n"
    " -f : send a file as the message.  -l : one message per line of stdin.\n"
    " -m : the message.  -n : a zero-length message.  -s : all of stdin as the message.\n"
    " -q : QoS 0, 1 or 2 (default 0).  -r : retain.  -k : keep alive in seconds (default 60).\n"
    " -x : MQTT 5 Session Expiry Interval (-1: never).  -V : protocol version (default 311).\n";

enum class source { none, message, file, null, stdin_file, lines };

class publisher final : public application {
  public:
    publisher(const common_options& c, std::string topic, bool retain, std::deque<std::string> q,
              bool lines)
        : common_(c), topic_(std::move(topic)), retain_(retain), queue_(std::move(q)),
          input_done_(!lines) {}

    void connected(client<storage>& c, bool session_present, ms) override {
        if (!session_present) inflight_.clear(); // nothing in flight survived on the server
        (void)c;
    }
    void event(client<storage>&, const session_event& ev, ms) override {
        if (ev.kind != event_kind::published) return;
        if (static_cast<std::uint8_t>(ev.reason) >= 0x80 && !common_.quiet)
            std::fprintf(stderr, "Warning: Publish %u failed: reason code 0x%02x.\n",
                         ev.packet_id, static_cast<unsigned>(ev.reason));
        inflight_.erase(ev.packet_id);
    }
    bool turn(client<storage>& c, ms now) override {
        if (c.status() != connection_status::connected) return true;
        while (!queue_.empty()) {
            publish_view p;
            p.topic = std::string_view(topic_);
            p.qos = static_cast<qos>(common_.qos);
            p.retain = retain_;
            p.payload = std::string_view(queue_.front());
            const auto r = c.publish(p, now);
            if (!r && r.error() == errc::would_block) break;
            if (!r) {
                if (!common_.quiet)
                    std::fprintf(stderr, "Error: %s\n", std::string(errc_name(r.error())).c_str());
                status_ = 1;
                queue_.pop_front();
                continue;
            }
            if (*r != 0) inflight_[*r] = std::move(queue_.front());
            queue_.pop_front();
        }
        if (input_done_ && queue_.empty() && c.session()->inflight() == 0 && !disconnecting_) {
            disconnecting_ = c.disconnect() == errc::success;
        }
        return true;
    }
    int extra_fd() const override {
        // Read stdin only while few messages wait: the rest waits in the pipe.
        return input_done_ || queue_.size() > 1000 ? -1 : STDIN_FILENO;
    }
    void extra_readable(client<storage>&, ms) override {
        char buf[65536];
        const auto n = ::read(STDIN_FILENO, buf, sizeof buf);
        if (n <= 0) {
            if (!partial_.empty()) queue_.push_back(std::move(partial_));
            partial_.clear();
            input_done_ = true;
            return;
        }
        for (ssize_t i = 0; i < n; ++i) {
            if (buf[i] == '\n') {
                queue_.push_back(std::move(partial_));
                partial_.clear();
            } else {
                partial_ += buf[i];
            }
        }
    }
    int status() const override { return status_; }

    // The bytes of an in-flight message to resend (the session keeps no copies of its own).
    static std::span<const std::byte> resend(void* self, std::uint16_t id) noexcept {
        auto& p = *static_cast<publisher*>(self);
        const auto it = p.inflight_.find(id);
        if (it == p.inflight_.end()) return {};
        publish_view v;
        v.topic = std::string_view(p.topic_);
        v.qos = static_cast<qos>(p.common_.qos);
        v.retain = p.retain_;
        v.packet_id = id;
        v.payload = std::string_view(it->second);
        p.scratch_.resize(encoded_size(v, p.version_).value());
        if (!encode(v, p.version_, p.scratch_)) return {};
        return p.scratch_;
    }
    void set_version(protocol_version v) { version_ = v; }

  private:
    common_options common_;
    std::string topic_;
    bool retain_;
    std::deque<std::string> queue_;
    bool input_done_;
    std::string partial_;
    std::map<std::uint16_t, std::string> inflight_;
    std::vector<std::byte> scratch_;
    protocol_version version_ = protocol_version::v3_1_1;
    bool disconnecting_ = false;
    int status_ = 0;
};

} // namespace
} // namespace mqttwire::tools

int main(int argc, char** argv) {
    using namespace mqttwire::tools;
    common_options common;
    std::string topic;
    bool topic_given = false;
    bool retain = false;
    source src = source::none;
    std::string message;
    std::string file;
    std::string error;
    const auto set_source = [&](source s) {
        if (src != source::none) error = "Only one type of message can be sent at once.";
        src = s;
    };
    for (int i = 1; i < argc && error.empty(); ++i) {
        const std::string_view a = argv[i];
        if (parse_common(argc, argv, i, common, error)) continue;
        const auto value = [&] { return option_value(argc, argv, i, error); };
        if (a == "--help") {
            std::fputs(usage_text, stdout);
            return 0;
        } else if (a == "-t" || a == "--topic") {
            if (const char* v = value()) {
                topic = v;
                topic_given = true;
            }
        } else if (a == "-m" || a == "--message") {
            set_source(source::message);
            if (const char* v = value()) message = v;
        } else if (a == "-f" || a == "--file") {
            set_source(source::file);
            if (const char* v = value()) file = v;
        } else if (a == "-n" || a == "--null-message") {
            set_source(source::null);
        } else if (a == "-s" || a == "--stdin-file") {
            set_source(source::stdin_file);
        } else if (a == "-l" || a == "--stdin-line") {
            set_source(source::lines);
        } else if (a == "-r" || a == "--retain") {
            retain = true;
        } else {
            error = "Unknown option '" + std::string(a) + "'.";
        }
    }
    if (error.empty() && (!topic_given || src == source::none))
        error = "Both topic and message must be supplied.";
    if (error.empty() && mqttwire::validate_topic_name(topic) != mqttwire::errc::success)
        error = "Invalid publish topic '" + topic + "', does it contain '+' or '#'?";
    if (error.empty()) (void)check_common(common, error);
    if (!error.empty()) return usage_error(error, "mqttwire-pub");

    std::deque<std::string> queue;
    if (src == source::message) queue.push_back(message);
    if (src == source::null) queue.emplace_back();
    if (src == source::file) {
        std::ifstream in(file, std::ios::binary);
        if (!in) {
            std::fprintf(stderr, "Error: Unable to open file \"%s\".\n", file.c_str());
            return 1;
        }
        queue.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    if (src == source::stdin_file) {
        std::string all;
        char buf[65536];
        for (ssize_t n; (n = ::read(STDIN_FILENO, buf, sizeof buf)) > 0;)
            all.append(buf, static_cast<std::size_t>(n));
        queue.push_back(std::move(all));
    }
    publisher app(common, topic, retain, std::move(queue), src == source::lines);
    app.set_version(common.version);
    connection conn(common);
    conn.set_resend_source(&publisher::resend, &app);
    return conn.run(app);
}
