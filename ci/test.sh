#!/usr/bin/env bash
# The whole mqttwire test suite, as run by CI (.ci/run) and by developers:
#
#   1. ci/install-deps.sh (installs only missing Debian packages)
#   2. for the presets dev (g++), clang (clang++) and asan-ubsan (ASan+UBSan): configure, build
#      (-j2, keep going after errors), ctest -j2
#   3. consumer projects, with g++ and clang++: find_package() against an installed copy, and
#      add_subdirectory()
#   4. ci/normative_coverage.py, when present (fails when a required statement is uncited)
#
# Every step is counted: each ctest test is one test, a failed configure or build is one failed
# test, each consumer build-and-run is one test, the coverage script is one test. The last line
# of output is exactly `N passed, M failed`; the exit status is non-zero when M > 0.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
readonly root=$PWD
readonly jobs=2
readonly presets=(dev clang asan-ubsan)
readonly compilers=(g++ clang++)

passed=0
failed=0
failures=()
start=$SECONDS

log_dir="$root/build/ci-logs"
mkdir -p "$log_dir"
prefix=$(mktemp -d "${TMPDIR:-/tmp}/mqttwire-install.XXXXXX")
trap 'rm -rf "$prefix"' EXIT

section() { printf '\n===== %s [%ds]\n' "$1" $((SECONDS - start)); }
pass() { passed=$((passed + 1)); }
fail() {
    failed=$((failed + 1))
    failures+=("$1")
    printf 'FAILED: %s\n' "$1" >&2
}

# count_ctest <name> <log> <ctest exit status>
# Adds ctest's own counts from its "N tests failed out of T" line ("100% tests passed, 0 tests
# failed out of T" when all pass) and lists the failed tests by name.
count_ctest() {
    local name=$1 log=$2 rc=$3 line n_failed n_total
    line=$(grep -E '[0-9]+ tests? failed out of [0-9]+' "$log" | tail -n 1 || true)
    if [[ -z $line ]]; then
        fail "$name: ctest printed no summary (exit status $rc)"
        return
    fi
    [[ $line =~ ([0-9]+)\ tests?\ failed\ out\ of\ ([0-9]+) ]]
    n_failed=${BASH_REMATCH[1]}
    n_total=${BASH_REMATCH[2]}
    passed=$((passed + n_total - n_failed))
    failed=$((failed + n_failed))
    if ((n_failed > 0)); then
        while IFS= read -r test; do
            failures+=("$name: $test")
        done < <(sed -n '/The following tests FAILED:/,$p' "$log" |
                 sed -nE 's/^[[:space:]]+[0-9]+ - (.*)$/\1/p')
    elif ((rc != 0)); then
        fail "$name: ctest exited with status $rc although no test failed"
    fi
}

run_preset() {
    local preset=$1 log="$log_dir/ctest-$1.log" rc=0

    section "$preset: configure"
    if ! cmake --preset "$preset"; then
        fail "$preset: configure"
        return
    fi

    section "$preset: build"
    # -k 0: keep building after an error, so one broken file does not hide the others.
    if ! cmake --build --preset "$preset" -j "$jobs" -- -k 0; then
        fail "$preset: build"
    fi

    section "$preset: ctest"
    ctest --preset "$preset" -j "$jobs" --output-on-failure 2>&1 | tee "$log" || rc=${PIPESTATUS[0]}
    count_ctest "$preset" "$log" "$rc"
}

install_library() {
    local build="$root/build/ci-install"
    rm -rf "$build" &&
        cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
            -DMQTTWIRE_BUILD_TESTS=OFF -DMQTTWIRE_BUILD_BENCH=OFF \
            -DMQTTWIRE_BUILD_FUZZ=OFF -DMQTTWIRE_BUILD_CONFORMANCE=OFF &&
        cmake --install "$build" --prefix "$prefix"
}

# consumer <find_package|add_subdirectory> <compiler> [cmake arguments...]
consumer() {
    local kind=$1 cxx=$2
    shift 2
    local build="$root/build/ci-consumer/$kind-$cxx"
    rm -rf "$build" &&
        cmake -S "$root/tests/consumer/$kind" -B "$build" -G Ninja \
            -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER="$cxx" "$@" &&
        cmake --build "$build" -j "$jobs" &&
        "$build/consumer"
}

section "dependencies"
if ! bash ci/install-deps.sh; then
    fail "ci/install-deps.sh"
fi

for preset in "${presets[@]}"; do
    run_preset "$preset"
done

section "consumers"
installed=true
if ! install_library; then
    installed=false
    fail "cmake --install into a temporary prefix"
fi
for cxx in "${compilers[@]}"; do
    if $installed && consumer find_package "$cxx" -DCMAKE_PREFIX_PATH="$prefix" \
        -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF; then
        pass
    else
        fail "consumer find_package ($cxx)"
    fi
    if consumer add_subdirectory "$cxx"; then
        pass
    else
        fail "consumer add_subdirectory ($cxx)"
    fi
done

if [[ -f ci/normative_coverage.py ]]; then
    section "normative coverage"
    if python3 ci/normative_coverage.py --require codec --require matcher; then
        pass
    else
        fail "ci/normative_coverage.py"
    fi
fi

section "summary"
if ((${#failures[@]} > 0)); then
    echo "Failures:"
    printf '  %s\n' "${failures[@]}"
fi
echo "ci/test.sh took $((SECONDS - start)) s"
echo "${passed} passed, ${failed} failed"
((failed == 0))
