#pragma once
// The durable store's file handling: system-call errors as durable_status, complete writes,
// directory flushes, and mapped_file, a store file with its read-only shared mapping.

#include "durable_store.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace mqttwire::broker::durable_engine {

std::string describe_errno(std::string_view call, const std::string& file, int err);

durable_status io_error(std::string_view call, const std::string& file, int err);

// 0 or the errno of the failed write().
int write_all(int fd, durable_bytes data) noexcept;

// 0 or an errno.
int fsync_directory(const std::string& dir) noexcept;

// The directory part of `path` ("." when it has none).
std::string directory_of(const std::string& path);

// A store file and its read-only shared mapping. Bytes written with write() are visible through
// the mapping at once (both are the page cache), so comparing a key costs no system call.
struct mapped_file {
    int fd = -1;
    std::byte* base = nullptr;
    std::size_t length = 0; // mapped (may exceed size: pages past the end are never touched)
    std::uint64_t size = 0; // bytes in the file

    mapped_file() = default;
    mapped_file(const mapped_file&) = delete;
    mapped_file& operator=(const mapped_file&) = delete;
    mapped_file(mapped_file&& o) noexcept
        : fd(std::exchange(o.fd, -1)), base(std::exchange(o.base, nullptr)),
          length(std::exchange(o.length, 0)), size(std::exchange(o.size, 0)) {}
    mapped_file& operator=(mapped_file&& o) noexcept {
        if (this != &o) {
            close();
            fd = std::exchange(o.fd, -1);
            base = std::exchange(o.base, nullptr);
            length = std::exchange(o.length, 0);
            size = std::exchange(o.size, 0);
        }
        return *this;
    }
    ~mapped_file() { close(); }

    [[nodiscard]] durable_bytes bytes() const noexcept {
        return {base, static_cast<std::size_t>(size)};
    }

    // Makes the mapping cover `need` bytes; 0 or an errno.
    int cover(std::uint64_t need) noexcept;

    // Drops this process's page-table entries for [0, upto): the pages stay in the page cache,
    // but no longer count in the broker's resident set.
    void release(std::uint64_t upto) const noexcept;

    void close() noexcept;
};

} // namespace mqttwire::broker::durable_engine
