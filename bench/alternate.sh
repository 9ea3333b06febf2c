#!/usr/bin/env bash
# Runs Google Benchmark binaries in turn, ROUNDS times each (A B A B ...), so that a slow patch of
# a shared machine falls on all of them, and prints for every benchmark and binary the minimum
# and the median of its ROUNDS x 5 repetitions (ns per iteration, CPU time). Pinned to one CPU
# when `taskset` exists.
#
#   bench/alternate.sh FILTER ROUNDS BINARY...
#
# e.g. a codec_bench built before a change and one built after it, with the coreMQTT rows:
#   bench/alternate.sh 'publish_encode/v311_qos1|coremqtt_publish_encode' 3 /tmp/before after
set -euo pipefail
if [ $# -lt 3 ]; then
    sed -n '2,10p' "$0"
    exit 2
fi
filter="$1"
rounds="$2"
shift 2
pin=()
if command -v taskset > /dev/null; then pin=(taskset -c "$(($(nproc) - 1))"); fi
for _ in $(seq "$rounds"); do
    for bin in "$@"; do
        "${pin[@]}" "$bin" --benchmark_filter="$filter" --benchmark_repetitions=5 \
            --benchmark_min_time=0.2 --benchmark_enable_random_interleaving=true 2> /dev/null |
            awk -v bin="$bin" '$2 ~ /^[0-9.]+$/ && $3 == "ns" && $1 !~ /_(mean|median|stddev|cv)$/ {
                print $1, bin, $4 }'
    done
done | sort -k1,1 -k2,2 -k3,3g | awk '
    { key = $1 " " $2; n[key]++; v[key, n[key]] = $3; if (!(key in first)) { first[key] = $3; order[++k] = key } }
    END {
        printf "%-55s %-30s %10s %10s\n", "benchmark", "binary", "min", "median"
        for (i = 1; i <= k; i++) {
            key = order[i]; split(key, part, " ")
            m = n[key]; med = m % 2 ? v[key, (m + 1) / 2] : (v[key, m / 2] + v[key, m / 2 + 1]) / 2
            printf "%-55s %-30s %10.2f %10.2f\n", part[1], part[2], first[key], med
        }
    }'
