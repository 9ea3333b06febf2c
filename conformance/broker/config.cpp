// The configuration file's entry points: parse_config() and load_config() (which also
// resolves relative paths against the file's directory), and the security settings that apply
// to a listener. The parser itself is config_parser.hpp.
#include "config.hpp"
#include "config_parser.hpp"

#include <limits>
#include <string>

namespace mqttwire::broker {

namespace {

// `base_dir` is "." or ends with '/'.
std::string resolve_relative(const std::string& base_dir, const std::string& p) {
    if (p.empty() || p.front() == '/') return p;
    if (base_dir == ".") return p;
    return base_dir + p;
}

} // namespace

bool parse_config(std::string_view text, config& out, config_error& err) {
    config_file::parser p(out, err);
    return p.run(text);
}

bool load_config(const std::string& path, config& out, config_error& err) {
    std::string text;
    std::string error;
    if (!config_file::read_text(path, std::numeric_limits<std::size_t>::max() / 2, text, error)) {
        err.file.clear();
        err.line = 0;
        err.message = error;
        return false;
    }
    const auto slash = path.rfind('/');
    const std::string dir =
        slash == std::string::npos ? std::string(".") : path.substr(0, slash + 1);
    config_file::parser reader(out, err);
    if (!reader.run(text, dir)) return false;
    out.password_file = resolve_relative(dir, out.password_file);
    out.acl_file = resolve_relative(dir, out.acl_file);
    for (auto* f : {&out.pid_file, &out.log_file, &out.persistence_location})
        *f = resolve_relative(dir, *f);
    for (auto& l : out.listeners) {
        for (auto* p : {&l.password_file, &l.acl_file, &l.tls.cafile, &l.tls.capath,
                        &l.tls.certfile, &l.tls.keyfile, &l.tls.crlfile})
            *p = resolve_relative(dir, *p);
    }
    for (auto& b : out.bridges)
        for (auto* p : {&b.cafile, &b.capath, &b.certfile, &b.keyfile})
            *p = resolve_relative(dir, *p);
    return true;
}

security_settings listener_security(const config& cfg, const listener_config& listener) {
    // Without listeners in the file (local-only mode) nothing can be per listener.
    if (!cfg.per_listener_settings || cfg.listeners.empty())
        return {cfg.allow_anonymous, cfg.password_file, cfg.acl_file};
    return {listener.allow_anonymous, listener.password_file, listener.acl_file};
}

} // namespace mqttwire::broker
