#!/usr/bin/env bash
# Instructions per operation (callgrind, g++ -O3) for the headers under INCLUDE_DIR (default: this
# checkout's include/): (Ir of 11 repetitions - Ir of 1) / 2560, so start-up and set-up cancel.
#
#   bench/callgrind/run.sh [INCLUDE_DIR] [operation...]
#
# Operations (codec_ir.cpp says what each one runs): v5_two_props v311_qos1 v5_plain puback
# puback_v5 suback connack (next_frame + decode<P>), v311_frame puback_frame (decode<P> on a frame
# found beforehand), v311_packet puback_packet connect (decode_packet), v5_encode v311_encode
# connect_encode (encode). Without operations: all of them. Compare two versions by running it on
# the include/ of each (e.g. `git archive OLD include | tar -x -C /tmp/old`).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
inc="${1:-$here/../../include}"
shift || true
exe="$(mktemp)"
trap 'rm -f "$exe"' EXIT
${CXX:-g++} -std=c++20 -O3 -DNDEBUG -Wall -Wextra -Werror -I"$inc" "$here/codec_ir.cpp" -o "$exe"
ir() { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$exe" "$1" "$2" 2>&1 | awk '/Collected/{print $4}'; }
all="v5_two_props v311_qos1 v5_plain puback puback_v5 suback connack v311_frame puback_frame"
all="$all v311_packet puback_packet connect v5_encode v311_encode connect_encode"
for op in ${@:-$all}; do
    a=$(ir "$op" 1)
    b=$(ir "$op" 11)
    echo "$op $(( (b - a) / 2560 ))"
done
