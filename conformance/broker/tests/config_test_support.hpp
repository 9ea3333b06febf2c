#pragma once
// Helpers of the configuration parser tests (config_test.cpp, config_dropin_test.cpp).

#include "config.hpp"
#include "temp_dir.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>
#include <sys/stat.h>
#include <unistd.h>

namespace mb = mqttwire::broker;
using namespace std::string_view_literals;

namespace config_test_support {

inline mb::config parse_ok(std::string_view text) {
    mb::config c;
    mb::config_error e;
    EXPECT_TRUE(mb::parse_config(text, c, e)) << "line " << e.line << ": " << e.message;
    return c;
}

// Parses `text`, expects failure at `line` with a message containing `needle`.
inline void expect_error(std::string_view text, std::size_t line, std::string_view needle) {
    mb::config c;
    mb::config_error e;
    ASSERT_FALSE(mb::parse_config(text, c, e)) << text;
    EXPECT_EQ(e.line, line) << text << " -> " << e.message;
    EXPECT_NE(e.message.find(needle), std::string::npos)
        << "message '" << e.message << "' does not name '" << needle << "'";
}

using mqttwire::broker::test::temp_dir;

} // namespace config_test_support

using namespace config_test_support; // NOLINT(google-build-using-namespace): tests only
