#!/usr/bin/env bash
# Main job: build mqttwire (Release, g++) and run the reference broker mqttwire-broker on port
# 1883 in the foreground. Until conformance/broker/ exists there is no broker to run: then this
# says so and runs the unit tests once instead.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
build=build/main

bash ci/install-deps.sh
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=g++
cmake --build "$build" -j 2

# Written by CMakeLists.txt when (and only when) the mqttwire-broker target exists.
broker_path_file="$build/mqttwire-broker-path.txt"
if [[ -s $broker_path_file ]]; then
    broker=$(<"$broker_path_file")
    echo "main: starting $broker -p 1883"
    exec "$broker" -p 1883
fi

echo "main: the reference broker mqttwire-broker (conformance/broker/) is not built yet;"
echo "main: running the unit tests once instead."
unit_tests="$build/tests/mqttwire_unit_tests"
if [[ ! -x $unit_tests ]]; then
    echo "main: no unit test executable either ($unit_tests); nothing to run." >&2
    exit 1
fi
exec "$unit_tests"
