// mqttwire-sub: subscribes to one or more topic filters and prints what arrives, with
// mosquitto_sub's option names and meanings, on the session layer's client. A lost connection is
// opened again; with -c the session (and the QoS 1/2 messages queued for it) is resumed.

#include <cstdio>
#include <string>
#include <vector>

#include "tool.hpp"

namespace mqttwire::tools {
namespace {

const char* const usage_text =
    "mqttwire-sub subscribes to topics and prints the messages (MQTT 3.1, 3.1.1, 5.0).\n"
    "\n"
    "Usage: mqttwire-sub [-h host] [-p port] [-u username [-P password]] -t topic ...\n"
    "                    [-c] [-k keepalive] [-q qos] [-x session-expiry] [-i id] [-d]\n"
    "                    [-C msg_count] [-W timeout] [-v] [-N]\n"
    "                    [-V mqttv31|mqttv311|mqttv5] [--quiet]\n"
    "                    [--will-topic topic [--will-payload payload] [--will-qos qos]\n"
    "                     [--will-retain]]\n"
    "\n"
    " -C : exit after this many messages.  -W : exit after this many seconds (status 27).\n"
    " -v : print 'topic payload'.  -N : no newline after the payload.\n"
    " -c : disable clean session (persistent session; needs -i). -d : debug trace on stderr.\n"
    " -q : the subscriptions' QoS (default 0).  -t : a topic filter (repeatable).\n";

class subscriber final : public application {
  public:
    subscriber(const common_options& c, std::vector<std::string> filters, long count,
               long timeout, bool verbose, bool eol)
        : common_(c), filters_(std::move(filters)), count_(count), timeout_(timeout),
          verbose_(verbose), eol_(eol) {}

    void connected(client<storage>& c, bool session_present, ms now) override {
        if (!started_) {
            started_ = true;
            if (timeout_ > 0) deadline_ = now + ms(timeout_ * 1000);
        }
        if (session_present) return; // the server kept the subscriptions
        std::vector<subscription> subs;
        for (const auto& f : filters_) {
            subscription s;
            s.filter = utf8_view(f);
            s.options.max_qos = static_cast<qos>(common_.qos);
            subs.push_back(s);
        }
        if (!c.subscribe(subs, now) && !common_.quiet)
            std::fprintf(stderr, "Error: the subscription could not be sent.\n");
    }

    void event(client<storage>& c, const session_event& ev, ms) override {
        if (ev.kind == event_kind::subscribed) {
            bool any = false;
            if (const auto* a = ev.get<suback_view>())
                for (const auto rc : a->reasons) any = any || static_cast<std::uint8_t>(rc) < 0x80;
            if (!any && !common_.quiet)
                std::fprintf(stderr, "All subscription requests were denied.\n");
            return;
        }
        if (ev.kind != event_kind::message || done_) return;
        const auto& m = *ev.message;
        if (verbose_) {
            const auto t = m.topic.as_string_view();
            std::fwrite(t.data(), 1, t.size(), stdout);
            std::fputc(' ', stdout);
        }
        const auto p = m.payload.as_string_view();
        std::fwrite(p.data(), 1, p.size(), stdout);
        if (eol_) std::fputc('\n', stdout);
        std::fflush(stdout);
        if (count_ > 0 && ++received_ >= count_) {
            done_ = true;
            (void)c.disconnect(); // the message's acknowledgement goes first
        }
    }

    bool turn(client<storage>& c, ms now) override {
        if (!deadline_ || now < *deadline_ || done_) return true;
        done_ = true;
        status_ = exit_timeout;
        if (!common_.quiet) std::fprintf(stderr, "Timed out\n");
        if (c.status() == connection_status::connected) return c.disconnect() == errc::success;
        return false;
    }
    std::optional<ms> deadline() const override { return done_ ? std::nullopt : deadline_; }
    int status() const override { return status_; }

  private:
    common_options common_;
    std::vector<std::string> filters_;
    long count_;
    long timeout_;
    bool verbose_;
    bool eol_;
    bool started_ = false;
    bool done_ = false;
    long received_ = 0;
    int status_ = 0;
    std::optional<ms> deadline_;
};

bool positive(const char* s, long& out) {
    char* end = nullptr;
    const long v = std::strtol(s, &end, 10);
    if (end == s || *end != '\0' || v <= 0) return false;
    out = v;
    return true;
}

} // namespace
} // namespace mqttwire::tools

int main(int argc, char** argv) {
    using namespace mqttwire::tools;
    common_options common;
    std::vector<std::string> filters;
    long count = 0;
    long timeout = 0;
    bool verbose = false;
    bool eol = true;
    std::string error;
    for (int i = 1; i < argc && error.empty(); ++i) {
        const std::string_view a = argv[i];
        if (parse_common(argc, argv, i, common, error)) continue;
        const auto value = [&] { return option_value(argc, argv, i, error); };
        if (a == "--help") {
            std::fputs(usage_text, stdout);
            return 0;
        } else if (a == "-t" || a == "--topic") {
            if (const char* v = value()) {
                if (mqttwire::validate_topic_filter(v) != mqttwire::errc::success)
                    error = "Invalid subscription topic '" + std::string(v) +
                            "', are all '+' and '#' wildcards correct?";
                filters.emplace_back(v);
            }
        } else if (a == "-C") {
            if (const char* v = value(); v != nullptr && !positive(v, count))
                error = "Invalid message count \"" + std::string(v) + "\".";
        } else if (a == "-W") {
            if (const char* v = value(); v != nullptr && !positive(v, timeout))
                error = "Invalid timeout \"" + std::string(v) + "\".";
        } else if (a == "-v" || a == "--verbose") {
            verbose = true;
        } else if (a == "-N") {
            eol = false;
        } else {
            error = "Unknown option '" + std::string(a) + "'.";
        }
    }
    if (error.empty() && filters.empty()) error = "You must specify a topic to subscribe to.";
    if (error.empty()) (void)check_common(common, error);
    if (!error.empty()) return usage_error(error, "mqttwire-sub");
    subscriber app(common, std::move(filters), count, timeout, verbose, eol);
    connection conn(common);
    return conn.run(app);
}
