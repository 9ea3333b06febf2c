#!/usr/bin/env bash
# Instructions per operation (callgrind, g++ -O3) for the headers under INCLUDE_DIR (default: this
# checkout's include/): (Ir of 11 repetitions - Ir of 1) / 2560, so start-up and set-up cancel.
#
#   bench/callgrind/run.sh [INCLUDE_DIR] [operation...]
#
# Operations: v5_two_props v311_qos1 v5_plain puback (next_frame + decode<P>), connect
# (decode_packet), v5_encode v311_encode connect_encode (encode). Compare two versions by running
# it on the include/ of each (e.g. `git archive OLD include | tar -x -C /tmp/old`).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
inc="${1:-$here/../../include}"
shift || true
exe="$(mktemp)"
trap 'rm -f "$exe"' EXIT
g++ -std=c++20 -O3 -DNDEBUG -I"$inc" "$here/codec_ir.cpp" -o "$exe"
ir() { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$exe" "$1" "$2" 2>&1 | awk '/Collected/{print $4}'; }
for op in ${@:-v5_two_props v311_qos1 v5_plain puback connect v5_encode v311_encode connect_encode}; do
    a=$(ir "$op" 1)
    b=$(ir "$op" 11)
    echo "$op $(( (b - a) / 2560 ))"
done
