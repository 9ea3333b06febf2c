#!/usr/bin/env bash
# Main job: install what is missing, build the reference broker (Release, g++) and run it on
# 127.0.0.1:1883 in the foreground (-v: connections and protocol errors are logged). Extra
# arguments go to the broker, e.g. `bash ci/main.sh -c /etc/mqttwire/broker.conf`.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
build=build/main

bash ci/install-deps.sh
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=g++ \
      -DMQTTWIRE_BUILD_BENCH=OFF -DMQTTWIRE_BUILD_FUZZ=OFF
cmake --build "$build" -j 2 --target mqttwire-broker

broker=$(<"$build/mqttwire-broker-path.txt")
if [[ $# -eq 0 ]]; then
    set -- -p 1883 -v
fi
echo "main: starting $broker $*"
exec "$broker" "$@"
