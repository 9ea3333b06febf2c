// The durable store's file handling (durable_file.hpp): system calls with their errors as
// messages that name the call, the file and errno; the store file's mapping, grown as the file
// grows and let go of page by page.
#include "durable_file.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

namespace mqttwire::broker::durable_engine {

std::string describe_errno(std::string_view call, const std::string& file, int err) {
    std::string m(call);
    m += ' ';
    m += file;
    m += ": ";
    m += std::strerror(err);
    return m;
}

durable_status io_error(std::string_view call, const std::string& file, int err) {
    return {durable_errc::io_error, describe_errno(call, file, err)};
}

int write_all(int fd, durable_bytes data) noexcept {
    while (!data.empty()) {
        const ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return errno;
        }
        if (n == 0) {
            return EIO; // a regular file never does this; do not spin if one does
        }
        data = data.subspan(static_cast<std::size_t>(n));
    }
    return 0;
}

int fsync_directory(const std::string& dir) noexcept {
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        return errno;
    }
    const int rc = ::fsync(fd) == 0 ? 0 : errno;
    ::close(fd);
    return rc;
}

std::string directory_of(const std::string& path) {
    const auto slash = path.rfind('/');
    if (slash == std::string::npos) {
        return ".";
    }
    return slash == 0 ? std::string("/") : path.substr(0, slash);
}

int mapped_file::cover(std::uint64_t need) noexcept {
    if (need <= length) {
        return 0;
    }
    if (need > std::numeric_limits<std::size_t>::max() / 2) {
        return ENOMEM;
    }
    const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    std::size_t want =
        std::max({static_cast<std::size_t>(need), length * 2, static_cast<std::size_t>(1U << 20)});
    want = (want + page - 1) / page * page;
    void* p = base == nullptr ? ::mmap(nullptr, want, PROT_READ, MAP_SHARED, fd, 0)
                              : ::mremap(base, length, want, MREMAP_MAYMOVE);
    if (p == MAP_FAILED) {
        return errno;
    }
    base = static_cast<std::byte*>(p);
    length = want;
    return 0;
}

void mapped_file::release(std::uint64_t upto) const noexcept {
    const auto page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
    const std::uint64_t n = std::min<std::uint64_t>(upto, length) / page * page;
    if (base != nullptr && n > 0) {
        (void)::madvise(base, static_cast<std::size_t>(n), MADV_DONTNEED);
    }
}

void mapped_file::close() noexcept {
    if (base != nullptr) {
        ::munmap(base, length);
        base = nullptr;
        length = 0;
    }
    if (fd >= 0) {
        ::close(fd);
        fd = -1;
    }
    size = 0;
}

} // namespace mqttwire::broker::durable_engine
