#!/usr/bin/env bash
# The whole mqttwire test suite, as run by CI (.ci/run) and by developers:
#
#   1. ci/install-deps.sh (installs only missing Debian packages)
#   2. for the presets dev (g++) and asan-ubsan (clang++, ASan+UBSan): configure, build (-j2, keep
#      going after errors), ctest -j2. dev builds the core's tests and benchmarks, and the codec's
#      unit tests once more against the core's size-optimised code (MQTTWIRE_TEST_SMALL_CODE,
#      ctest names `small.*`); asan-ubsan builds everything but the benchmarks and the
#      one-header-alone compiles (dev has them), so the broker's tests, in-process and against
#      the real process, all run under the sanitizers. Tests labelled `oracle` (raw WebSocket
#      frames and the browser against mosquitto: they review the scripts, not our code) are
#      left out. The broker is compiled with g++ in the Release tree of steps 4 and 8. The clang
#      preset (the whole tree size-optimised) is for local use: asan-ubsan compiles everything
#      with clang++ and the same warnings.
#   3. consumer projects, with g++ and clang++: find_package() against an installed copy, and
#      add_subdirectory()
#   4. ci/bench-brokers.sh --smoke: every broker benchmark scenario briefly, numbers not judged
#   5. ci/normative_coverage.py, when present (fails when a required statement is uncited)
#   6. a fuzz smoke run: ci/fuzz.sh builds the fuzz targets with clang and libFuzzer and runs
#      each for 3 s (no corpus merge); each target is one test. broker_core is left out: it
#      compiles the broker again for a few thousand runs, and its corpus replays under the
#      sanitizers in step 2 (`bash ci/fuzz.sh 600 broker_core` is the campaign)
#   7. ci/footprint.sh: code size on x86-64 and Cortex-M4, every program links and holds no
#      exception or unwinding symbol (one test), and its --self-test (one test)
#   8. ci/conformance.sh --broker mqttwire: the conformance scenarios against our broker over
#      TCP, WebSocket, TLS, WSS and mutual TLS (mosquitto, the oracle, runs in the script's
#      default mode: its results review the scenarios and never fail the step)
#
# Every step is counted: each ctest test is one test, a failed configure or build is one failed
# test, each consumer build-and-run is one test, the benchmark smoke run is one test, the coverage
# script is one test. The last line of output is exactly `N passed, M failed`; the exit status
# is non-zero when M > 0.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
readonly root=$PWD
readonly jobs=2
readonly presets=(dev asan-ubsan)
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
    local options=()
    # Debug information: line tables only (-g1, -gline-tables-only), enough for the sanitizers'
    # and a failed test's stack traces; full -g took a fifth of the g++ build's time.
    # asan-ubsan is a unity build (CMake's batches of 8 sources per translation unit): half the
    # build time of one object per source. dev builds one object per source, so each core test
    # and header still compiles alone; the broker's sources do in the Release tree (steps 4, 8).
    case $preset in
        dev) options=(-DMQTTWIRE_TEST_SMALL_CODE=ON -DMQTTWIRE_BUILD_CONFORMANCE=OFF
                      -DCMAKE_CXX_FLAGS_DEBUG=-g1) ;;
        asan-ubsan) options=(-DMQTTWIRE_BUILD_BENCH=OFF -DMQTTWIRE_TEST_HEADERS=OFF
                             -DCMAKE_CXX_FLAGS_DEBUG=-gline-tables-only -DCMAKE_UNITY_BUILD=ON) ;;
    esac
    if ! cmake --preset "$preset" "${options[@]}"; then
        fail "$preset: configure"
        return
    fi

    section "$preset: build"
    # -k 0: keep building after an error, so one broken file does not hide the others.
    if ! cmake --build --preset "$preset" -j "$jobs" -- -k 0; then
        fail "$preset: build"
    fi

    section "$preset: ctest"
    ctest --preset "$preset" -j "$jobs" --output-on-failure -LE '^oracle$' 2>&1 | tee "$log" ||
        rc=${PIPESTATUS[0]}
    count_ctest "$preset" "$log" "$rc"
}

# A fresh configure with every option at its default, installed without building anything: the
# header-only library must install alone (the broker is its own component, left out).
install_library() {
    local build="$root/build/ci-install"
    rm -rf "$build" &&
        cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null &&
        cmake --install "$build" --prefix "$prefix" &&
        [[ -f "$prefix/include/mqttwire.hpp" && ! -e "$prefix/bin/mqttwire-broker" ]]
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

# One test: every broker-benchmark scenario, briefly, against both brokers (the harness must not
# rot); the numbers are not judged. Builds into build/release (incremental, shared with
# ci/conformance.sh).
if [[ -x ci/bench-brokers.sh ]]; then
    section "broker benchmark smoke"
    if timeout 300 ci/bench-brokers.sh --smoke >"$log_dir/bench-brokers-smoke.log" 2>&1; then
        pass
    else
        fail "ci/bench-brokers.sh --smoke (see $log_dir/bench-brokers-smoke.log)"
    fi
fi

if [[ -f ci/normative_coverage.py ]]; then
    section "normative coverage"
    if python3 ci/normative_coverage.py --require codec --require matcher --require transport; then
        pass
    else
        fail "ci/normative_coverage.py"
    fi
fi

if [[ -x ci/fuzz.sh ]]; then
    section "fuzz smoke (3 s per target)"
    fuzz_log="$log_dir/fuzz-smoke.log"
    fuzz_targets=()
    for f in fuzz/*.cpp; do
        t=$(basename "$f" .cpp)
        [[ $t == replay_main || $t == broker_core ]] || fuzz_targets+=("$t")
    done
    FUZZ_MERGE=0 FUZZ_JOBS=$jobs FUZZ_ARTIFACTS="$root/build/fuzz-smoke" \
        bash ci/fuzz.sh 3 "${fuzz_targets[@]}" 2>&1 | tee "$fuzz_log" || true
    fuzz_lines=$(grep -E '^fuzz [A-Za-z0-9_]+: ' "$fuzz_log" || true)
    if [[ -z $fuzz_lines ]]; then
        fail "fuzz smoke: ci/fuzz.sh reported no target (build failed?)"
    else
        while IFS= read -r line; do
            if [[ $line =~ crashes\ 0$ ]]; then
                pass
            else
                fail "$line"
            fi
        done <<<"$fuzz_lines"
    fi
fi

if [[ -x ci/footprint.sh ]]; then
    section "footprint (x86-64, Cortex-M4)"
    if bash ci/footprint.sh --self-test >"$log_dir/footprint-self-test.log" 2>&1; then
        pass
    else
        fail "ci/footprint.sh --self-test (see build/ci-logs/footprint-self-test.log)"
    fi
    if bash ci/footprint.sh 2>&1 | tee "$log_dir/footprint.log"; (( PIPESTATUS[0] == 0 )); then
        pass
    else
        fail "ci/footprint.sh (see build/ci-logs/footprint.log)"
    fi
fi

if [[ -f ci/conformance.sh ]]; then
    section "conformance (mqttwire-broker)"
    if bash ci/conformance.sh --broker mqttwire 2>&1 | tee "$log_dir/conformance.log"
       (( PIPESTATUS[0] == 0 )); then
        pass
    else
        fail "ci/conformance.sh (see build/ci-logs/conformance.log)"
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
