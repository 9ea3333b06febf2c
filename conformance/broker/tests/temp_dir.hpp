#pragma once
// A directory of one test's files (under /tmp, or /dev/shm when asked), removed with everything
// in it when the test is done.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <system_error>

#include <unistd.h>

namespace mqttwire::broker::test {

struct temp_dir {
    /// `in_memory`: on /dev/shm when it exists, for tests of logic that would otherwise spend
    /// their time in fdatasync (a store's compaction syncs its new file).
    explicit temp_dir(bool in_memory = false) {
        const bool shm = in_memory && ::access("/dev/shm", W_OK) == 0;
        std::string tmpl = std::string(shm ? "/dev/shm" : "/tmp") + "/mqttwire_test_XXXXXX";
        if (::mkdtemp(tmpl.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed";
        path = tmpl;
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    ~temp_dir() {
        std::error_code ignored;
        std::filesystem::remove_all(path, ignored);
    }

    /// The path of `name` in the directory.
    [[nodiscard]] std::string file(std::string_view name) const {
        return path + "/" + std::string(name);
    }
    /// Writes `text` to `name` in the directory and returns its path.
    std::string write(std::string_view name, std::string_view text) const {
        const auto full = file(name);
        std::ofstream(full, std::ios::binary) << text;
        return full;
    }

    std::string path;
};

} // namespace mqttwire::broker::test
