#!/usr/bin/env bash
# Broker benchmark: mqttwire-broker against mosquitto, with bench/loadgen (mqttwire-loadgen).
#
#   ci/bench-brokers.sh [--smoke] [--rounds N] [--duration S] [--only REGEX] [--nice N]
#
# Builds mqttwire-broker and mqttwire-loadgen (Release) in $BUILD_DIR (build/release, shared
# with ci/conformance.sh)
# (OURS=path and MOSQUITTO=path run other builds of the brokers: before/after comparisons),
# then for every scenario and round starts each broker fresh on a free loopback port, pins it to
# CPU 0 and the load generator to CPU 1 (taskset), alternates which broker goes first round by
# round, and collects one RESULT line per run. It prints, per scenario, delivered msg/s, MB/s,
# lost/duplicated messages, p50/p99/max latency, broker CPU µs per message, broker RSS, the
# load generator's CPU, and the ratio ours/mosquitto (median, min..max over the rounds).
#
# Full runs write bench/RESULTS.md and bench/broker-ratios.png. --smoke runs every scenario once,
# briefly and scaled down, writes into build/bench-brokers only and never judges the numbers (CI).
#
# Broker configurations (stated, identical where both brokers support the directive):
#   listener PORT 127.0.0.1 / allow_anonymous true / persistence false (mosquitto; ours is off
#   by default), except the -persist scenario (persistence true for both, with persistent
#   sessions: Clean Session 0); QoS 1 and 2 throughput scenarios
#   add max_queued_messages 0 (unlimited) to both, because mosquitto otherwise drops silently at
#   1000; the -defaults scenarios and the slow-consumer ones run both with default settings.
#   tls-* scenarios add `certfile`/`keyfile` (the RSA 2048 server certificate and chain that
#   conformance/broker/tests/make-certs.sh makes, the same file for both brokers; the load
#   generator checks it against the CA, TLS 1.3 unless stated); ws-* add `protocol websockets`
#   (the load generator offers subprotocol mqtt and masks with the key 0); wss-* both.
#   mosquitto 2.0.11 gets an extra plain listener next to a websockets one (it does not start
#   with websockets listeners only) and, run as root, `user root` so that it can read the key.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD
orig_args="$*"
smoke=false
rounds=3
duration=2
only=
nice_level=0
while (($#)); do
    case $1 in
    --smoke) smoke=true ;;
    --rounds) rounds=$2; shift ;;
    --duration) duration=$2; shift ;;
    --only) only=$2; shift ;;
    --nice) nice_level=$2; shift ;;
    -h | --help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "bench-brokers.sh: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done

build=${BUILD_DIR:-$root/build/release}
mosquitto=${MOSQUITTO:-/usr/sbin/mosquitto}
out_dir=$root/build/bench-brokers/results
$smoke && out_dir=$root/build/bench-brokers/smoke
mkdir -p "$out_dir"

# ---- dependencies (Debian packages, only when missing) --------------------------------------
need=()
[[ -x $mosquitto ]] || need+=(mosquitto)
command -v gnuplot >/dev/null || need+=(gnuplot-nox)
command -v taskset >/dev/null || need+=(util-linux)
if ((${#need[@]})); then
    echo "installing ${need[*]}"
    if [[ $(id -u) == 0 ]]; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >/dev/null ||
            { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >/dev/null; }
    else
        sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >/dev/null
    fi
fi

# ---- build --------------------------------------------------------------------------------
# shellcheck source=ci/release-tree.sh
source "$root/ci/release-tree.sh"
release_tree_configure "$build" >/dev/null
cmake --build "$build" --target mqttwire-broker mqttwire-loadgen -j "$(nproc)" >/dev/null
ours=${OURS:-$build/conformance/broker/mqttwire-broker} # OURS=path: another build of ours
loadgen=$build/bench/loadgen/mqttwire-loadgen

# ---- scenarios: name | loadgen arguments | config flags | metric ------------------------------
# config flags: q: max_queued_messages 0; p: persistence true (a fresh store directory per run;
# mosquitto snapshots only every autosave_interval, 30 min by default, so within a run it writes
# nothing, while ours writes every turn before acknowledging).
# metric: which figure the ratio uses. msgps and mbps: higher is better; p99 and rss_per_conn
# (bytes per idle connection): lower is better, the ratio is still ours/mosquitto. us_per_conn:
# broker CPU µs per connection set up (with TLS: per full handshake), lower is better; the
# row also shows connections per second, which on a shared machine measures the load as much
# as the brokers.
if $smoke; then
    preload=2000; conns=200; pairs=50; duration=0.3; warmup=0.1; rounds=1; drain=1
    handshakes=200
else
    preload=1000000; conns=10000; pairs=1000; warmup=0.5; drain=3
    handshakes=2000
fi
# The TLS scenarios' PKI, made fresh by the tests' script (nothing is committed).
certs=$out_dir/certs
bash "$root/conformance/broker/tests/make-certs.sh" "$certs" >/dev/null
scenarios=(
    "fanin-4to1-q0|--mode fanin --pubs 4 --qos 0 --payload 64||msgps"
    "fanin-4to1-q1|--mode fanin --pubs 4 --qos 1 --payload 64|q|msgps"
    "fanin-4to1-q2|--mode fanin --pubs 4 --qos 2 --payload 64|q|msgps"
    "fanout-1to100-q0|--mode fanout --subs 100 --qos 0 --payload 64||msgps"
    "fanout-1to100-q1|--mode fanout --subs 100 --qos 1 --payload 64|q|msgps"
    "fanin-4to1-q1-defaults|--mode fanin --pubs 4 --qos 1 --payload 64||msgps"
    "fanin-4to1-q1-persist|--mode fanin --pubs 4 --qos 1 --payload 64 --persistent|qp|msgps"
    "fanout-1to100-q1-defaults|--mode fanout --subs 100 --qos 1 --payload 64||msgps"
    "pairs-$pairs|--mode pairs --pubs $pairs --per-write 1 --window 4||msgps"
    "pairs-$pairs-at-100k|--mode pairs --pubs $pairs --per-write 1 --rate 100000||p99"
    "lockstep-q0|--mode lockstep --qos 0||p99"
    "lockstep-q1|--mode lockstep --qos 1|q|p99"
    "rate-10k-q0|--mode rate --rate 10000 --per-write 1||p99"
    "large-1MB-q0|--mode fanin --pubs 1 --payload 1000000 --window 8 --per-write 1||mbps"
    "match-none-at-100k|--mode fanin --pubs 1 --rate 100000||us_per_msg"
    "match-$preload-at-100k|--mode fanin --pubs 1 --rate 100000 --preload $preload||us_per_msg"
    "idle-$conns|--mode idle --conns $conns||rss_per_conn"
    "pairs-$pairs-at-20k|--mode pairs --pubs $pairs --per-write 1 --rate 20000||us_per_msg"
    "slow-consumer-q0|--mode slow --qos 0 --payload 65536 --read-rate 10000000||peak_rss"
    "slow-consumer-q1|--mode slow --qos 1 --payload 1024 --read-rate 1000000||peak_rss"
    "tls-fanin-4to1-q0|--mode fanin --pubs 4 --qos 0 --payload 64|t|msgps"
    "tls-fanout-1to100-q0|--mode fanout --subs 100 --qos 0 --payload 64|t|msgps"
    "tls12-fanin-4to1-q0|--mode fanin --pubs 4 --qos 0 --payload 64 --tls-version 1.2 --ciphers ECDHE-RSA-AES128-GCM-SHA256|t|msgps"
    "tls-handshakes-$handshakes|--mode idle --conns $handshakes|t|us_per_conn"
    "tls-idle-$handshakes|--mode idle --conns $handshakes|t|rss_per_conn"
    "ws-fanin-4to1-q0|--mode fanin --pubs 4 --qos 0 --payload 64|w|msgps"
    "wss-fanin-4to1-q0|--mode fanin --pubs 4 --qos 0 --payload 64|tw|msgps"
    # zigbee2mqtt-like traffic to 5.0 subscribers: 50 devices a publisher (fits the 64 aliases
    # the broker uses) and 500 (cycled, the least-recently-used worst case), with and without
    # the subscribers allowing Topic Aliases; rx_bytes_per_msg in the raw results is the wire.
    "zigbee-50-v5|--mode fanout --subs 10 --qos 0 --payload 100 --v5 --topics 50||msgps"
    "zigbee-50-v5-alias|--mode fanout --subs 10 --qos 0 --payload 100 --v5 --topics 50 --alias-max 100||msgps"
    "zigbee-500-v5-alias|--mode fanout --subs 10 --qos 0 --payload 100 --v5 --topics 500 --alias-max 100||msgps"
)

# Below the ephemeral range (32768+), so no outgoing connection can hold the port; any TCP state
# on it counts as taken.
free_port() {
    local p
    for ((p = 20000 + RANDOM % 12000; ; p = 20000 + RANDOM % 12000)); do
        if ! ss -Htan "sport = :$p" 2>/dev/null | grep -q .; then
            echo "$p"
            return
        fi
    done
}

cpus=$(nproc)
pin_broker=() pin_tool=()
if ((cpus >= 2)); then
    pin_broker=(taskset -c 0)
    pin_tool=(taskset -c 1)
fi
prio=()
((nice_level != 0)) && prio=(nice -n "$nice_level")

# run_one <broker: ours|mosquitto> <scenario index> <round>
run_one() {
    local which=$1 idx=$2 round=$3 name args cfg metric port conf pid line
    IFS='|' read -r name args cfg metric <<<"${scenarios[$idx]}"
    port=$(free_port)
    conf=$out_dir/$which-$name.conf
    {
        echo "listener $port 127.0.0.1"
        [[ $cfg == *w* ]] && echo "protocol websockets"
        if [[ $cfg == *t* ]]; then
            echo "certfile $certs/server-rsa-chain.pem"
            echo "keyfile $certs/server-rsa.key"
        fi
        if [[ $which == mosquitto && $cfg == *w* ]]; then
            # mosquitto 2.0.11 refuses to start with websockets listeners only.
            echo "listener $(free_port) 127.0.0.1"
        fi
        echo "allow_anonymous true"
        [[ $which == mosquitto && $cfg != *p* ]] && echo "persistence false"
        # As root, mosquitto drops to user mosquitto, which can neither read the bench's key file
        # nor write the store directory.
        [[ $which == mosquitto && ($cfg == *t* || $cfg == *p*) && $(id -u) == 0 ]] && echo "user root"
        [[ $cfg == *q* ]] && echo "max_queued_messages 0"
        if [[ $cfg == *p* ]]; then
            rm -rf "$out_dir/store-$which-$name" && mkdir -p "$out_dir/store-$which-$name"
            echo "persistence true"
            echo "persistence_location $out_dir/store-$which-$name/"
        fi
    } >"$conf"
    if [[ $which == ours ]]; then
        "${prio[@]}" "${pin_broker[@]}" "$ours" -c "$conf" 2>"$out_dir/$which-$name.log" &
    else
        "${prio[@]}" "${pin_broker[@]}" "$mosquitto" -c "$conf" 2>"$out_dir/$which-$name.log" &
    fi
    pid=$!
    for _ in $(seq 100); do
        ss -Hltn "sport = :$port" 2>/dev/null | grep -q . && break
        sleep 0.05
    done
    # shellcheck disable=SC2086
    local transport=()
    [[ $cfg == *t* ]] && transport+=(--tls "$certs/ca.pem")
    [[ $cfg == *w* ]] && transport+=(--ws)
    line=$(timeout 900 "${prio[@]}" "${pin_tool[@]}" "$loadgen" --port "$port" --pid "$pid" \
        --duration "$duration" --warmup "$warmup" --drain "$drain" $args "${transport[@]}" \
        2>>"$out_dir/loadgen.log" | grep '^RESULT' || true)
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    if [[ -z $line ]]; then
        line="RESULT failed=1"
        echo "  $name $which: the load generator failed (see $out_dir/loadgen.log)" >&2
    fi
    echo "$line scenario=$name broker=$which round=$round metric=$metric load=$(cut -d' ' -f1 /proc/loadavg)" >>"$raw"
}

raw=$out_dir/raw.txt
: >"$raw"
machine="$(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -r)"
echo "bench-brokers: $machine; mosquitto $($mosquitto -h 2>/dev/null | sed -n 's/.*version \([0-9.]*\).*/\1/p' | head -1); load average $(cut -d' ' -f1-3 /proc/loadavg)"
start=$SECONDS
for ((r = 0; r < rounds; r++)); do
    for i in "${!scenarios[@]}"; do
        IFS='|' read -r name _ _ _ <<<"${scenarios[$i]}"
        [[ -n $only && ! $name =~ $only ]] && continue
        echo "round $((r + 1))/$rounds: $name [$((SECONDS - start))s]" >&2
        # Alternate which broker goes first, round by round and scenario by scenario.
        if (((r + i) % 2 == 0)); then
            run_one ours "$i" "$r"
            run_one mosquitto "$i" "$r"
        else
            run_one mosquitto "$i" "$r"
            run_one ours "$i" "$r"
        fi
    done
done

python3 "$root/bench/loadgen/report.py" "$raw" --machine "$machine" \
    --markdown "$out_dir/RESULTS.md" --gnuplot "$out_dir/ratios" \
    --command "ci/bench-brokers.sh${orig_args:+ $orig_args}" $($smoke && echo --smoke)
gnuplot "$out_dir/ratios.gp" 2>/dev/null && echo "chart: $out_dir/ratios.png" ||
    echo "gnuplot failed; no chart" >&2
if ! $smoke && [[ -z $only ]]; then
    cp "$out_dir/RESULTS.md" "$root/bench/RESULTS.md"
    [[ -f $out_dir/ratios.png ]] && cp "$out_dir/ratios.png" "$root/bench/broker-ratios.png"
    echo "wrote bench/RESULTS.md and bench/broker-ratios.png"
fi
echo "bench-brokers: done in $((SECONDS - start)) s"
