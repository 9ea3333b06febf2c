#!/usr/bin/env bash
# Builds every fuzz target with clang (-fsanitize=fuzzer,address,undefined) and runs each for a
# given time, then merges new coverage into fuzz/corpus/<target>/.
#
#   bash ci/fuzz.sh                      # 10 s per target (a smoke run)
#   bash ci/fuzz.sh 600                  # 10 min per target
#   bash ci/fuzz.sh 120 framer topic     # only these targets
#
# Environment:
#   FUZZ_JOBS=2          run this many targets at once (default 1)
#   FUZZ_MERGE=0         do not merge new inputs into fuzz/corpus/ (CI smoke runs keep the tree
#                        clean); default 1
#   FUZZ_BUILD_DIR=dir   build directory (default build/fuzz-run)
#   FUZZ_ARTIFACTS=dir   where crash-*/leak-*/timeout-*/oom-* reproducers, new inputs and logs go
#                        (default build/fuzz-artifacts)
#   FUZZ_FLAGS="..."     extra libFuzzer flags, e.g. "-use_value_profile=1"
#
# Prints one line per target:
#   fuzz <target>: runs N, exec/s X, cov C, ft F, corpus K, crashes M (<reproducers>)
# and exits non-zero when any target crashed (or failed to build / start). Reproduce a crash with
#   build/fuzz-run/fuzz/mqttwire_fuzz_<target> <artifact>   (see fuzz/README.md)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
readonly root=$PWD
seconds=${1:-10}
shift || true
build=${FUZZ_BUILD_DIR:-$root/build/fuzz-run}
artifacts=${FUZZ_ARTIFACTS:-$root/build/fuzz-artifacts}
jobs=${FUZZ_JOBS:-1}
merge=${FUZZ_MERGE:-1}

if (($# > 0)); then
    targets=("$@")
else
    targets=()
    for f in fuzz/*.cpp; do
        name=$(basename "$f" .cpp)
        [[ $name == replay_main ]] || targets+=("$name")
    done
fi

echo "fuzz: building ${targets[*]} in $build"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_COMPILER=clang++ -DMQTTWIRE_BUILD_FUZZ=ON -DMQTTWIRE_BUILD_TESTS=OFF \
    -DMQTTWIRE_BUILD_BENCH=OFF -DMQTTWIRE_BUILD_CONFORMANCE=OFF >"$build.configure.log" 2>&1 ||
    { cat "$build.configure.log"; echo "fuzz: configure failed" >&2; exit 1; }
bin_targets=()
for t in "${targets[@]}"; do bin_targets+=("mqttwire_fuzz_$t"); done
cmake --build "$build" -j 2 --target "${bin_targets[@]}"

# run_target <name>: runs one target, writes its summary line to $artifacts/<name>/summary.
run_target() {
    local t=$1 dir="$artifacts/$1" bin="$build/fuzz/mqttwire_fuzz_$1" max_len=4096 dict=mqtt.dict
    local rc=0
    rm -rf "$dir"
    mkdir -p "$dir/new" "fuzz/corpus/$t"
    if [[ -f fuzz/$t.options ]]; then
        max_len=$(sed -nE 's/^max_len *= *([0-9]+).*/\1/p' "fuzz/$t.options")
        dict=$(sed -nE 's/^dict *= *([^ ]+).*/\1/p' "fuzz/$t.options")
        dict=${dict:-mqtt.dict}
    fi
    # New inputs go to $dir/new (the first corpus directory); the shipped corpus is read only.
    # shellcheck disable=SC2086
    "$bin" -max_total_time="$seconds" -max_len="$max_len" -dict="fuzz/$dict" -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$dir/" ${FUZZ_FLAGS:-} \
        "$dir/new" "fuzz/corpus/$t" >"$dir/fuzz.log" 2>&1 || rc=$?
    local runs eps cov ft crashes line
    runs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$dir/fuzz.log" | tail -n1)
    eps=$(sed -nE 's/^stat::average_exec_per_sec: *([0-9]+).*/\1/p' "$dir/fuzz.log" | tail -n1)
    line=$(grep -E '^#[0-9]+.*cov: ' "$dir/fuzz.log" | tail -n1 || true)
    cov=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$line")
    ft=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$line")
    crashes=$(find "$dir" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' -o \
        -name 'timeout-*' -o -name 'oom-*' \) | sort)
    local n_crashes=0
    [[ -n $crashes ]] && n_crashes=$(wc -l <<<"$crashes")
    if ((rc != 0 && n_crashes == 0)); then
        n_crashes=1
        crashes="(exit status $rc, see $dir/fuzz.log)"
    fi
    if ((merge == 1 && n_crashes == 0)); then
        "$bin" -merge=1 -max_len="$max_len" "fuzz/corpus/$t" "$dir/new" >"$dir/merge.log" 2>&1 ||
            echo "fuzz $t: merge failed, see $dir/merge.log" >&2
    fi
    local corpus
    corpus=$(find "fuzz/corpus/$t" -type f | wc -l)
    printf 'fuzz %s: runs %s, exec/s %s, cov %s, ft %s, corpus %s, crashes %s%s\n' \
        "$t" "${runs:-?}" "${eps:-?}" "${cov:-?}" "${ft:-?}" "$corpus" "$n_crashes" \
        "$( ((n_crashes > 0)) && printf ' (%s)' "$(tr '\n' ' ' <<<"$crashes")")" >"$dir/summary"
}

mkdir -p "$artifacts"
echo "fuzz: ${seconds}s per target, $jobs at a time, artifacts in $artifacts"
running=0
for t in "${targets[@]}"; do
    run_target "$t" &
    running=$((running + 1))
    if ((running >= jobs)); then
        wait -n || true
        running=$((running - 1))
    fi
done
wait || true

status=0
for t in "${targets[@]}"; do
    if [[ -f $artifacts/$t/summary ]]; then
        cat "$artifacts/$t/summary"
        grep -q 'crashes 0$' "$artifacts/$t/summary" || status=1
    else
        echo "fuzz $t: did not run" && status=1
    fi
done
exit $status
