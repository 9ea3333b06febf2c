#!/usr/bin/env bash
# Code size of the codec in small programs (bench/footprint/), on x86-64 and on a Cortex-M4:
# prints what each program adds over an empty one, with and without gc-sections, and the sizes of
# the main types on the 32-bit target. Fails when a program does not build or link, or contains an
# exception or unwinding symbol (the message names the function that pulled it in).
#
#   ci/footprint.sh                 # table, checks
#   ci/footprint.sh --check         # also fail when a target of the footprint issue is missed
#   ci/footprint.sh --top 20        # and the 20 largest symbols of each program on the Cortex-M4
#   ci/footprint.sh --markdown      # tables as markdown
#   COREMQTT_DIR=/path/to/coreMQTT-v2.3.1 COREMQTT5_DIR=/path/to/coreMQTT-main ci/footprint.sh
#                                   # the same programs written against coreMQTT, in the same table
#
# Objects are cached in build/footprint/ by content, so a second run only links.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
exec python3 ci/footprint.py "$@"
