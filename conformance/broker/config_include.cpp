// include_dir: the .conf files of a directory, read in mosquitto's order as if they stood in
// the main file; and reading a configuration file, with bounds on what include_dir may read.
#include "config_parser.hpp"
#include "text.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

namespace mqttwire::broker::config_file {

using namespace text;

namespace {

constexpr std::size_t max_included_files = 1000;
constexpr std::size_t max_included_bytes = 16u << 20;

} // namespace

// The whole file at `path`, at most `max_bytes`; false with `error` naming the file otherwise.
bool read_text(const std::string& path, std::size_t max_bytes, std::string& text,
               std::string& error) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (f == nullptr) {
        error = "cannot open " + text::quoted(path) + ": " + std::strerror(errno);
        return false;
    }
    char chunk[4096];
    std::size_t n = 0;
    while ((n = std::fread(chunk, 1, sizeof chunk, f)) > 0 && text.size() <= max_bytes)
        text.append(chunk, n);
    const bool read_error = std::ferror(f) != 0;
    const int read_errno = errno;
    std::fclose(f);
    if (read_error) {
        error = "cannot read " + text::quoted(path) + ": " + std::strerror(read_errno);
        return false;
    }
    if (text.size() > max_bytes) {
        error = text::quoted(path) + " is larger than " + std::to_string(max_bytes) + " bytes";
        return false;
    }
    return true;
}

// mosquitto's order: case-insensitive first, then case (so "b.conf" < "C.conf" < "c.conf").
bool parser::include_order(const std::string& a, const std::string& b) {
    const auto upper = [](unsigned char c) { return c >= 'a' && c <= 'z' ? c - 32 : c; };
    const std::size_t n = std::min(a.size(), b.size());
    for (std::size_t i = 0; i < n; ++i) {
        const auto ca = static_cast<unsigned char>(a[i]);
        const auto cb = static_cast<unsigned char>(b[i]);
        if (upper(ca) != upper(cb)) return upper(ca) < upper(cb);
        if (ca != cb) return ca < cb;
    }
    return a.size() < b.size();
}

bool parser::include_dir(std::string_view args) {
    if (args.empty()) return fail("include_dir: missing directory");
    if (!file_.empty()) return fail("include_dir: only allowed in the main configuration file");
    std::string dir(args);
    if (dir.front() != '/' && base_dir_ != ".") dir = base_dir_ + dir;
    std::error_code ec;
    std::vector<std::string> names;
    for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        const auto name = it->path().filename().string();
        if (name.size() <= 5 || !name.ends_with(".conf")) continue;
        // Not a directory, a FIFO that would block start-up, ...: a mistake worth stopping for.
        if (std::error_code type_ec; !it->is_regular_file(type_ec))
            return fail("include_dir: " + text::quoted(it->path().string()) +
                        " is not a regular file");
        names.push_back(name);
        if (names.size() > max_included_files)
            return fail("include_dir: more than " + std::to_string(max_included_files) +
                        " .conf files in " + text::quoted(dir));
    }
    if (ec) return fail("include_dir: cannot read " + text::quoted(dir) + ": " + ec.message());
    std::sort(names.begin(), names.end(), include_order);
    const std::size_t include_line = line_;
    for (const auto& name : names) {
        const std::string path = dir + (dir.back() == '/' ? "" : "/") + name;
        std::string text;
        std::string error;
        if (!read_text(path, max_included_bytes, text, error)) return fail("include_dir: " + error);
        file_ = path;
        const bool ok = lines(text);
        if (!ok) return false; // err_ names the included file and its line
        file_.clear();
        line_ = include_line;
    }
    return true;
}

} // namespace mqttwire::broker::config_file
