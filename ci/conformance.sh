#!/usr/bin/env bash
# Conformance suite against both brokers (issue 7):
#
#   1. builds mqttwire-broker, mqttwire-pub and mqttwire-sub (Release, in build/release, the tree
#      ci/bench-brokers.sh shares) when missing or stale; results go to build/conformance
#   2. installs MQTT.js with `npm ci` in conformance/clients/node (idempotent; node_modules is
#      not committed)
#   3. for mosquitto (/usr/sbin/mosquitto, Debian) and mqttwire-broker: generates equivalent
#      configurations (a plain listener with allow_anonymous true, and a second instance with a
#      password file made by mosquitto_passwd and an ACL file), starts them on free loopback
#      ports, runs conformance/runner.py, and stops them by PID
#   4. the same over the other transports (issue 13): certificates from
#      conformance/broker/tests/make-certs.sh, both brokers restarted with `protocol websockets`
#      and/or certfile/keyfile listeners, runner.py --transport: every scenario over WebSocket
#      (ws; mosquitto, the oracle, runs the subset below there), the subset over TLS and over
#      WSS (where raw clients also split each packet across WebSocket frames of 5 bytes), and a
#      smaller one over mutual TLS (mtls: require_certificate true, every client presents a
#      certificate). A broker that does not serve a transport is a failure that names it, not
#      a skip.
#   5. the (transport, broker) runs go in CONFORMANCE_JOBS lanes at once (default 3), each with
#      its own brokers and ports; each lane's output is printed whole, in order
#   6. conformance/report.py updates the coverage and pass counts in conformance/README.md
#      when --report is given
#
# Fails when mqttwire-broker fails a scenario that conformance/known-failures.txt does not list.
# mosquitto's unexpected failures are printed but do not fail the step (it is the oracle: a
# scenario it fails is either marked expected-to-fail-on: mosquitto with a spec reference, or
# needs fixing; the report shows both). The last line is `N passed, M failed` over both brokers.
#
#   ci/conformance.sh [--report] [-k SUBSTRING]... [--transport tcp|tls|ws|wss|mtls]...
#                     [--broker mqttwire|mosquitto]...
#   OURS=path/to/mqttwire-broker ci/conformance.sh ...   # another build of the broker
#
# --broker mqttwire runs our broker alone: ci/test.sh does, since mosquitto's results never fail
# the step (they review the scenarios, which a change to the broker does not touch).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
readonly root=$PWD
readonly py=/usr/bin/python3     # Debian's interpreter, the one with python3-paho-mqtt
readonly build=${BUILD_DIR:-$root/build/release}
report=false
runner_args=()
transports=()
brokers=()
while (($#)); do
    case $1 in
        --report) report=true ;;
        -k) runner_args+=(-k "$2"); shift ;;
        --transport) transports+=("$2"); shift ;;
        --broker) brokers+=("$2"); shift ;;
        *) echo "usage: ci/conformance.sh [--report] [-k SUBSTRING]... [--transport T]..." \
                "[--broker mqttwire|mosquitto]..." >&2
           exit 2 ;;
    esac
    shift
done
((${#transports[@]})) || transports=(tcp ws tls wss mtls)
((${#brokers[@]})) || brokers=(mqttwire mosquitto)
# Over TLS and WSS: every client library and both authentication listeners, the QoS flows,
# wills, retained messages, sessions, limits and the 5.0 raw exchanges.
readonly subset=(-k paho- -k mqttjs- -k mosquitto-clients -k auth- -k acl- -k qos-v5-matrix
                 -k qos2- -k qos-ordering -k will- -k retained-v5 -k session-v5 -k maxpacket-
                 -k raw-v5- -k transport-)
# Over mutual TLS (require_certificate true; every client presents client.pem): the client
# libraries, both authentication listeners and the stream.
readonly mtls_subset=(-k paho- -k mqttjs- -k mosquitto-clients -k auth- -k acl- -k transport-)

work=$(mktemp -d "${TMPDIR:-/tmp}/mqttwire-conformance.XXXXXX")
pids=()
lane_pids=()
cleanup() {
    local pid
    for pid in "${lane_pids[@]}" "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${lane_pids[@]}" "${pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT

echo "== building mqttwire-broker in ${build#"$root"/}"
# shellcheck source=ci/release-tree.sh
source "$root/ci/release-tree.sh"
release_tree_configure "$build" >"$work/configure.log" 2>&1 ||
    { cat "$work/configure.log"; exit 1; }
mkdir -p "$root/build/conformance"
cmake --build "$build" -j 2 --target mqttwire-broker mqttwire-pub mqttwire-sub \
    >"$work/build.log" 2>&1 || { tail -n 50 "$work/build.log"; exit 1; }
# OURS=path: run another build of mqttwire-broker instead
ours=${OURS:-$(find "$build" -name mqttwire-broker -type f -perm -u+x | head -n 1)}
[[ -n $ours ]] || { echo "mqttwire-broker not found under $build" >&2; exit 1; }
# mqttwire-pub and mqttwire-sub (conformance/tools/) run in the tools scenarios.
tools=$(dirname "$(find "$build" -name mqttwire-pub -type f -perm -u+x | head -n 1)")

echo "== MQTT.js (npm ci in conformance/clients/node)"
if command -v npm >/dev/null; then
    (cd conformance/clients/node &&
        if [[ -d node_modules/mqtt && node_modules/.package-lock.json -nt package-lock.json ]]; then
            echo "node_modules up to date"
        else
            npm ci --no-audit --no-fund --loglevel=error
        fi) || echo "npm ci failed: MQTT.js scenarios will be skipped" >&2
else
    echo "npm missing: MQTT.js scenarios will be skipped" >&2
fi

free_port() {
    "$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Password and ACL files, shared by both brokers (mosquitto's own formats).
passwd="$work/passwd"
mosquitto_passwd -c -b "$passwd" alice alice-pw >/dev/null
mosquitto_passwd -b "$passwd" bob bob-pw >/dev/null
# mosquitto started as root switches to the user `mosquitto`, which must be able to read them.
chmod 755 "$work"
# The runner puts a per-run id in the second topic level, hence the `+`.
cat >"$work/acl" <<'EOF'
# conformance: alice owns cfacl/+/alice/#, reads cfacl/+/news/#; bob writes cfacl/+/news/#;
# everyone reads and writes cfacl/+/users/<their user name>/#.
user alice
topic readwrite cfacl/+/alice/#
topic read cfacl/+/news/#

user bob
topic write cfacl/+/news/#

pattern readwrite cfacl/+/users/%u/#
EOF
chmod 644 "$passwd" "$work/acl"

# Certificates for the tls and wss listeners (made fresh, never committed).
certs="$work/certs"
if [[ " ${transports[*]} " =~ \ (tls|wss|mtls)\  ]]; then
    bash conformance/broker/tests/make-certs.sh "$certs" >/dev/null
    chmod -R a+rX "$certs"
fi

# write_config <broker> <kind> <port> <file> [transport]
write_config() {
    local broker=$1 kind=$2 port=$3 file=$4 transport=${5:-tcp}
    {
        echo "listener $port 127.0.0.1"
        if [[ $transport == ws || $transport == wss ]]; then
            echo "protocol websockets"
        fi
        if [[ $transport == tls || $transport == wss || $transport == mtls ]]; then
            echo "certfile $certs/server-rsa-chain.pem"
            echo "keyfile $certs/server-rsa.key"
            echo "cafile $certs/ca.pem"
        fi
        [[ $transport == mtls ]] && echo "require_certificate true"
        if [[ $broker == mosquitto && ($transport == ws || $transport == wss) ]]; then
            # mosquitto 2.0.11 refuses to start when every listener is a WebSocket one
            echo "listener $(free_port) 127.0.0.1"
        fi
        if [[ $kind == main ]]; then
            echo "allow_anonymous true"
        else
            echo "allow_anonymous false"
            echo "password_file $passwd"
            echo "acl_file $work/acl"
        fi
        echo "max_packet_size 100000"
        echo "max_inflight_messages 20"
        echo "max_queued_messages 1000"
        if [[ $broker == mosquitto ]]; then
            echo "persistence false"
            echo "log_dest stdout"
        fi
    } >"$file"
}

# start <label> <argv...>: starts in the background, waits until the port accepts
start() {
    local port=$1 log=$2
    shift 2
    "$@" >"$log" 2>&1 &
    pids+=($!)
    local pid=$! i
    for ((i = 0; i < 100; i++)); do
        if "$py" -c "import socket,sys; socket.create_connection(('127.0.0.1',$port),0.2).close()" 2>/dev/null; then
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    echo "broker did not start: $*" >&2
    cat "$log" >&2
    return 1
}

total_passed=0
total_failed=0
status=0
# run_broker <broker> <transport>: starts both instances with listeners of that transport, runs
# the scenarios over it, stops them.
run_broker() {
    local broker=$1 transport=$2 main_port auth_port bin version rc line name=$1-$2
    local args=(--transport "${transport/mtls/tls}")
    [[ $transport == tls || $transport == wss || $transport == mtls ]] &&
        args+=(--cafile "$certs/ca.pem")
    [[ $transport == mtls ]] && args+=(--certfile "$certs/client.pem" --keyfile "$certs/client.key")
    [[ $transport == wss ]] && args+=(--ws-split 5)
    if ((${#runner_args[@]})); then
        args+=("${runner_args[@]}")
    elif [[ $transport == tls || $transport == wss ||
            ($transport == ws && $broker == mosquitto) ]]; then
        args+=("${subset[@]}")
    elif [[ $transport == mtls ]]; then
        args+=("${mtls_subset[@]}")
    fi
    [[ $transport == tcp ]] && name=$broker   # the report reads results-<broker>.json
    main_port=$(free_port)
    auth_port=$(free_port)
    while [[ $auth_port == "$main_port" ]]; do auth_port=$(free_port); done
    write_config "$broker" main "$main_port" "$work/$name-main.conf" "$transport"
    write_config "$broker" auth "$auth_port" "$work/$name-auth.conf" "$transport"
    if [[ $broker == mosquitto ]]; then
        bin=/usr/sbin/mosquitto
        version=$("$bin" -h 2>&1 | head -n 1 || true)
    else
        bin=$ours
        version="mqttwire-broker ($ours)"
    fi
    echo
    echo "== $broker over $transport: $version, ports $main_port (anonymous) and $auth_port" \
         "(password + ACL)"
    if ! start "$main_port" "$work/$name-main.log" "$bin" -c "$work/$name-main.conf" -v ||
        ! start "$auth_port" "$work/$name-auth.log" "$bin" -c "$work/$name-auth.conf" -v; then
        echo "FAIL   $broker does not serve MQTT over $transport (configuration:" \
             "$(tr '\n' ';' <"$work/$name-main.conf"))"
        total_failed=$((total_failed + 1))
        [[ $broker == mqttwire ]] && status=1
        stop_brokers
        return
    fi

    rc=0
    "$py" conformance/runner.py --host 127.0.0.1 --port "$main_port" --auth-port "$auth_port" \
        --broker-name "$broker" --known-failures conformance/known-failures.txt \
        --json "$root/build/conformance/results-$name.json" --tools-dir "$tools" \
        "${args[@]}" \
        2>&1 | tee "$work/$name-run.log" || rc=${PIPESTATUS[0]}
    line=$(tail -n 1 "$work/$name-run.log")
    if [[ $line =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed ]]; then
        total_passed=$((total_passed + BASH_REMATCH[1]))
        total_failed=$((total_failed + BASH_REMATCH[2]))
    else
        echo "$broker: the runner printed no summary" >&2
        rc=1
    fi
    if ((rc != 0)); then
        if [[ $broker == mqttwire ]]; then
            echo "mqttwire-broker failed scenarios over $transport not listed in" \
                 "conformance/known-failures.txt" >&2
            status=1
        else
            echo "mosquitto failed scenarios over $transport without an expected-to-fail-on" \
                 "mark (oracle disagrees: review those scenarios)" >&2
        fi
    fi
    stop_brokers
    if ((rc != 0)) && [[ -n ${CONFORMANCE_SHOW_LOGS:-} ]]; then
        tail -n 40 "$work/$name-main.log" "$work/$name-auth.log"
    fi
}

stop_brokers() {
    local pid
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    pids=()
}

# Each (transport, broker) run is a lane of its own: its own two brokers on their own ports, its
# own log. CONFORMANCE_JOBS lanes run at once (default 3: the scenarios mostly wait on timers and
# sockets). A lane's output is printed whole, in the usual order, once it is done.
lane() {
    trap 'stop_brokers; exit 1' TERM
    run_broker "$1" "$2"
    echo "lane-totals $total_passed $total_failed $status"
}

rm -f "$root"/build/conformance/results-*.json   # the report reads only this run's results
readonly jobs=${CONFORMANCE_JOBS:-3}
lanes=()
for transport in "${transports[@]}"; do
    for broker in "${brokers[@]}"; do
        lanes+=("$broker $transport")
    done
done
for i in "${!lanes[@]}"; do
    while (($(jobs -rp | wc -l) >= jobs)); do wait -n || true; done
    # shellcheck disable=SC2086
    lane ${lanes[$i]} >"$work/lane-$i.out" 2>&1 &
    lane_pids+=($!)
done
for i in "${!lanes[@]}"; do
    wait "${lane_pids[$i]}" || true
    grep -v '^lane-totals ' "$work/lane-$i.out" || true
    if line=$(grep '^lane-totals ' "$work/lane-$i.out"); then
        read -r _ p f s <<<"$line"
        total_passed=$((total_passed + p))
        total_failed=$((total_failed + f))
        ((s == 0)) || status=1
    else
        echo "conformance lane '${lanes[$i]}' ended without its totals" >&2
        total_failed=$((total_failed + 1))
        status=1
    fi
done

if $report; then
    report_args=()
    for name in mqttwire mosquitto {mqttwire,mosquitto}-{ws,tls,wss,mtls}; do
        [[ -f build/conformance/results-$name.json ]] &&
            report_args+=(--results "build/conformance/results-$name.json")
    done
    "$py" conformance/report.py "${report_args[@]}" --write conformance/README.md
fi

echo
echo "conformance: ${total_passed} passed, ${total_failed} failed (${brokers[*]})"
echo "${total_passed} passed, ${total_failed} failed"
exit $status
