#!/usr/bin/env bash
# Opt-in lint (not part of ci/test.sh yet):
#   1. clang-format --dry-run --Werror over every C++ source under include/ tests/ bench/ fuzz/
#      conformance/
#   2. clang-tidy (.clang-tidy) over every header under include/, through the generated
#      tests/headers translation units (one per header) of a clang++ build in build/lint.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
readonly build=build/lint
status=0

bash ci/install-deps.sh clang-format clang-tidy

mapfile -t sources < <(find include tests bench fuzz conformance \
    -type f \( -name '*.hpp' -o -name '*.cpp' -o -name '*.h' \) 2>/dev/null | sort)

echo "lint: clang-format on ${#sources[@]} files"
if ((${#sources[@]} > 0)) && ! clang-format --dry-run --Werror "${sources[@]}"; then
    echo "lint: clang-format found differences (fix with: clang-format -i <file>)" >&2
    status=1
fi

cmake -S . -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Debug \
    -DCMAKE_EXPORT_COMPILE_COMMANDS=ON -DMQTTWIRE_BUILD_TESTS=ON -DMQTTWIRE_BUILD_BENCH=OFF \
    -DMQTTWIRE_BUILD_FUZZ=OFF -DMQTTWIRE_BUILD_CONFORMANCE=OFF >/dev/null

mapfile -t header_tus < <(find "$build/tests/headers" -name '*.cpp' 2>/dev/null | sort)
echo "lint: clang-tidy on ${#header_tus[@]} headers"
if ((${#header_tus[@]} > 0)) &&
    ! printf '%s\0' "${header_tus[@]}" |
        xargs -0 -n 1 -P 2 clang-tidy --quiet -p "$build"; then
    echo "lint: clang-tidy reported problems" >&2
    status=1
fi

if ((status == 0)); then
    echo "lint: clean"
fi
exit "$status"
