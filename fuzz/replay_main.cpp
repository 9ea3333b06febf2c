// A main() for every fuzz target, so each builds with any compiler (g++ included) as a plain
// program that replays inputs: `mqttwire_fuzz_<target>_replay <file-or-directory>...`.
// Directories are read recursively in sorted order. Each input goes through
// LLVMFuzzerTestOneInput exactly as under libFuzzer; a violated check aborts, naming the file
// last printed with -v (or run one file to see which). Exit status 0 when all inputs ran, 1 when
// an argument could not be read or no input was found.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {
bool run_file(const std::filesystem::path& p, bool verbose) {
    std::ifstream f(p, std::ios::binary);
    if (!f) {
        std::fprintf(stderr, "replay: cannot read %s\n", p.c_str());
        return false;
    }
    const std::vector<char> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    if (verbose) std::fprintf(stderr, "replay: %s (%zu bytes)\n", p.c_str(), bytes.size());
    // An exactly-sized heap copy, as libFuzzer gives: a read past the end is an ASan report in
    // sanitizer builds.
    auto* copy = new std::uint8_t[bytes.size() == 0 ? 1 : bytes.size()];
    if (!bytes.empty()) std::memcpy(copy, bytes.data(), bytes.size());
    (void)LLVMFuzzerTestOneInput(copy, bytes.size());
    delete[] copy;
    return true;
}
} // namespace

int main(int argc, char** argv) {
    bool verbose = false;
    std::vector<std::filesystem::path> files;
    bool ok = true;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "-v") == 0) {
            verbose = true;
            continue;
        }
        if (argv[i][0] == '-') continue; // libFuzzer flags, accepted and ignored
        const std::filesystem::path p(argv[i]);
        std::error_code ec;
        if (std::filesystem::is_directory(p, ec)) {
            for (const auto& e : std::filesystem::recursive_directory_iterator(p, ec))
                if (e.is_regular_file()) files.push_back(e.path());
        } else if (std::filesystem::is_regular_file(p, ec)) {
            files.push_back(p);
        } else {
            std::fprintf(stderr, "replay: %s is neither a file nor a directory\n", argv[i]);
            ok = false;
        }
    }
    std::sort(files.begin(), files.end());
    std::size_t n = 0;
    for (const auto& f : files) n += run_file(f, verbose) ? 1 : 0;
    std::printf("replay: %zu of %zu inputs ran\n", n, files.size());
    if (files.empty()) {
        std::fprintf(stderr, "replay: no inputs\n");
        return 1;
    }
    return ok && n == files.size() ? 0 : 1;
}
