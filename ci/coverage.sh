#!/usr/bin/env bash
# Line and branch coverage of include/ from the unit tests, the property tests and the replay of
# every fuzz corpus, with clang's source-based coverage (llvm-profdata / llvm-cov; Debian
# packages clang and llvm, installed by this script when missing).
#
#   bash ci/coverage.sh                 # prints the per-header table and the totals
#   COVERAGE_HTML=1 bash ci/coverage.sh # also writes an HTML report to <build>/html/index.html
#
# Environment: COVERAGE_BUILD_DIR (default build/coverage).
#
# Output: one line per header under include/ (lines covered/total %, branches covered/total %),
# then totals for the codec (everything but the matcher) and the matcher (topic.hpp,
# subscription_index.hpp, retained_index.hpp, detail/topic_tree.hpp). Header-only code is
# counted once per file, over all test executables (llvm-cov merges the instantiations).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
readonly root=$PWD
build=${COVERAGE_BUILD_DIR:-$root/build/coverage}

# Tools: clang++ plus llvm-profdata / llvm-cov (unversioned names from the llvm package, or the
# versioned ones clang's package depends on).
need=()
command -v clang++ >/dev/null || need+=(clang)
command -v llvm-profdata >/dev/null || command -v llvm-profdata-14 >/dev/null || need+=(llvm)
if ((${#need[@]} > 0)); then
    bash ci/install-deps.sh "${need[@]}"
fi
profdata=$(command -v llvm-profdata || command -v llvm-profdata-14)
llvmcov=$(command -v llvm-cov || command -v llvm-cov-14)

flags="-fprofile-instr-generate -fcoverage-mapping"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=clang++ \
    -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="-fprofile-instr-generate" \
    -DMQTTWIRE_BUILD_TESTS=ON -DMQTTWIRE_BUILD_FUZZ=ON -DMQTTWIRE_BUILD_BENCH=OFF \
    -DMQTTWIRE_BUILD_CONFORMANCE=OFF >"$build.configure.log" 2>&1 ||
    { cat "$build.configure.log"; exit 1; }

targets=()
for f in fuzz/*.cpp; do
    name=$(basename "$f" .cpp)
    [[ $name == replay_main ]] || targets+=("$name")
done
build_targets=(mqttwire_unit_tests)
[[ -d tests/property ]] && build_targets+=(mqttwire_property_tests)
for t in "${targets[@]}"; do build_targets+=("mqttwire_fuzz_${t}_replay"); done
cmake --build "$build" -j 2 --target "${build_targets[@]}"

profiles="$build/profiles"
rm -rf "$profiles"
mkdir -p "$profiles"
export LLVM_PROFILE_FILE="$profiles/%p-%m.profraw"
objects=()
echo "coverage: running the unit tests"
"$build/tests/mqttwire_unit_tests" --gtest_brief=1 >"$build/unit.log" 2>&1 ||
    { tail -n 30 "$build/unit.log"; echo "coverage: unit tests failed" >&2; exit 1; }
objects+=("$build/tests/mqttwire_unit_tests")
if [[ -x $build/tests/mqttwire_property_tests ]]; then
    echo "coverage: running the property tests"
    "$build/tests/mqttwire_property_tests" --gtest_brief=1 >"$build/property.log" 2>&1 ||
        { tail -n 30 "$build/property.log"; echo "coverage: property tests failed" >&2; exit 1; }
    objects+=("$build/tests/mqttwire_property_tests")
fi
for t in "${targets[@]}"; do
    echo "coverage: replaying fuzz/corpus/$t"
    "$build/fuzz/mqttwire_fuzz_${t}_replay" "fuzz/corpus/$t" >/dev/null
    objects+=("$build/fuzz/mqttwire_fuzz_${t}_replay")
done

"$profdata" merge -sparse "$profiles"/*.profraw -o "$build/coverage.profdata"
object_args=("${objects[0]}")
for o in "${objects[@]:1}"; do object_args+=(-object "$o"); done

"$llvmcov" export -summary-only -instr-profile="$build/coverage.profdata" "${object_args[@]}" \
    "$root/include" >"$build/coverage.json"
if [[ ${COVERAGE_HTML:-0} == 1 ]]; then
    "$llvmcov" show -format=html -show-branches=count -output-dir="$build/html" \
        -instr-profile="$build/coverage.profdata" "${object_args[@]}" "$root/include"
    echo "coverage: HTML report in $build/html/index.html"
fi

python3 - "$build/coverage.json" "$root/include/" <<'PY'
import json, sys
data = json.load(open(sys.argv[1]))
prefix = sys.argv[2]
matcher = {"mqttwire/topic.hpp", "mqttwire/subscription_index.hpp", "mqttwire/retained_index.hpp",
           "mqttwire/detail/topic_tree.hpp"}
rows, groups = [], {"codec": [0, 0, 0, 0], "matcher": [0, 0, 0, 0], "all": [0, 0, 0, 0]}
for f in data["data"][0]["files"]:
    name = f["filename"]
    if not name.startswith(prefix):
        continue
    rel = name[len(prefix):]
    s = f["summary"]
    l, b = s["lines"], s["branches"]
    rows.append((rel, l["covered"], l["count"], b["covered"], b["count"]))
    for g in ("matcher" if rel in matcher else "codec", "all"):
        t = groups[g]
        t[0] += l["covered"]; t[1] += l["count"]; t[2] += b["covered"]; t[3] += b["count"]
pct = lambda c, n: 100.0 * c / n if n else 100.0
print(f"{'header':45} {'lines':>18} {'branches':>18}")
for rel, lc, ln, bc, bn in sorted(rows):
    print(f"{rel:45} {lc:6}/{ln:<6} {pct(lc, ln):5.1f}% {bc:6}/{bn:<6} {pct(bc, bn):5.1f}%")
for g, (lc, ln, bc, bn) in groups.items():
    print(f"TOTAL {g:39} {lc:6}/{ln:<6} {pct(lc, ln):5.1f}% {bc:6}/{bn:<6} {pct(bc, bn):5.1f}%")
PY
