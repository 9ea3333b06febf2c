#!/usr/bin/env bash
# Installs the Debian packages mqttwire's build, tests, fuzzers and benchmarks need.
# Then `npm ci` in conformance/browser (MQTT.js and puppeteer-core for the browser test).
# Idempotent: installs only what is missing, and runs `apt-get update` only then.
#
#   bash ci/install-deps.sh                  # the standard set
#   bash ci/install-deps.sh clang-tidy ...   # the standard set plus extra packages
set -euo pipefail

packages=(
    cmake ninja-build pkg-config
    g++ clang libclang-rt-14-dev
    libgtest-dev libgmock-dev librapidcheck-dev libbenchmark-dev
    libmosquitto-dev mosquitto mosquitto-clients libssl-dev openssl libsqlite3-dev
    python3 python3-paho-mqtt
    gcc-arm-none-eabi libstdc++-arm-none-eabi-newlib
    chromium nodejs
    "$@"
)

# nodejs from other sources bundles npm (and conflicts with Debian's npm package).
command -v npm >/dev/null || packages+=(npm)

# npm packages of the browser test, from its committed lock file; skipped when up to date.
npm_packages() {
    local dir
    dir="$(dirname "${BASH_SOURCE[0]}")/../conformance/browser"
    if [[ -d $dir/node_modules &&
          $dir/node_modules/.package-lock.json -nt $dir/package-lock.json ]]; then
        echo "install-deps: conformance/browser/node_modules up to date"
    else
        (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    fi
}

missing=()
for pkg in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    if [[ "$status" != "install ok installed" ]]; then
        missing+=("$pkg")
    fi
done

if ((${#missing[@]} == 0)); then
    echo "install-deps: all ${#packages[@]} packages already installed"
    npm_packages
    exit 0
fi

sudo=()
if [[ $(id -u) -ne 0 ]]; then
    sudo=(sudo)
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update
"${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
npm_packages
