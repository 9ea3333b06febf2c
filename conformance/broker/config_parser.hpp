#pragma once
// The configuration file's parser: one object per file read, which keeps the state of the
// directives seen so far (the listener block being filled, which settings were given). Its
// member functions are defined by concern: config_parser.cpp (lines, directive dispatch, value
// syntax, refused directives), config_listener.cpp, config_bounds.cpp, config_persistence.cpp,
// config_dropin.cpp and config_include.cpp.

#include "config.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mqttwire::broker::config_file {

// Decimal digits only (config_parser.cpp).
bool parse_unsigned(std::string_view s, std::uint64_t max, std::uint64_t& out, bool& overflow);

// The whole file at `path`, at most `max_bytes` (config_include.cpp).
bool read_text(const std::string& path, std::size_t max_bytes, std::string& text,
               std::string& error);

class parser {
    // What the parser remembers about each listener block besides its listener_config.
    struct listener_block {
        std::size_t line = 0;            // of the `listener` line
        std::string first_tls_directive; // the first directive that asks for TLS
    };

  public:
    parser(config& out, config_error& err) : out_(out), err_(err) {}

    /// `base_dir`: where a relative include_dir is looked up ("." or ending in '/').
    bool run(std::string_view text, std::string base_dir = ".");

  private:
    // config_parser.cpp
    bool lines(std::string_view text);
    bool fail(std::string message);
    bool directive_line(std::string_view d, std::string_view args);
    bool single(std::string_view d, std::string_view args, std::string_view what,
                std::string_view& value);
    bool boolean(std::string_view d, std::string_view args, bool& out);
    bool number(std::string_view d, std::string_view args, std::uint64_t max, std::uint64_t& out);
    bool rest_of_line(std::string_view d, std::string_view args, std::string_view what,
                      std::string& out);
    bool path(std::string_view d, std::string_view args, std::string& out);
    static std::string_view unsupported(std::string_view d);

    // config_listener.cpp
    bool per_listener_settings(std::string_view args);
    bool security(std::string_view d, std::string_view args);
    static bool is_listener_directive(std::string_view d);
    bool listener_directive(std::string_view d, std::string_view args);
    bool tls_version_value(std::string_view args, tls_version& out);
    bool check_listener(const listener_config& l, const listener_block& block);
    bool listener(std::string_view args);

    // config_bounds.cpp
    bool max_connections(std::string_view args);
    std::optional<bool> bounds(std::string_view d, std::string_view args);

    // config_persistence.cpp
    std::optional<bool> persistence(std::string_view d, std::string_view args);
    bool expiration(std::string_view args);

    // config_dropin.cpp
    std::optional<bool> dropin(std::string_view d, std::string_view args);
    bool seconds(std::string_view d, std::string_view args, std::uint64_t max,
                 std::chrono::seconds& out);
    bool replace_path(std::string_view d, std::string_view args, std::string& out);
    bool log_dest(std::string_view args);

    // config_include.cpp
    static bool include_order(const std::string& a, const std::string& b);
    bool include_dir(std::string_view args);

    config& out_;
    config_error& err_;
    std::size_t line_ = 0;
    std::string base_dir_ = ".";
    std::string file_; // the included file being read; empty: the main one
    bool log_type_set_ = false;
    bool log_dest_set_ = false;
    bool anonymous_set_ = false; // the global allow_anonymous was given
    bool security_seen_ = false;
    std::vector<listener_block> blocks_; // parallel to out_.listeners
};

} // namespace mqttwire::broker::config_file
