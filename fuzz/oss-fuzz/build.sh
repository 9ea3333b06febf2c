#!/bin/bash -eu
# OSS-Fuzz style build script: compiles every mqttwire fuzz target with the fuzzing engine's
# flags ($CXX, $CXXFLAGS, $LIB_FUZZING_ENGINE) and installs the binaries, their seed corpora
# (zipped), options files and the dictionaries into $OUT. Run it inside an image that has the
# repository at $SRC/mqttwire and the Debian/Ubuntu package libmosquitto-dev installed (the
# utf8_mosquitto and topic targets are differential against libmosquitto; without it they build
# without that half).
#
# Local dry run (no Docker): CXX=clang++ CXXFLAGS="-fsanitize=address,fuzzer-no-link" \
#   LIB_FUZZING_ENGINE=-fsanitize=fuzzer SRC=$PWD/.. OUT=/tmp/out bash fuzz/oss-fuzz/build.sh

SRC_DIR=${SRC:-$(cd "$(dirname "$0")/../../.." && pwd)}/mqttwire
[ -d "$SRC_DIR/include" ] || SRC_DIR=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${OUT:?set OUT}
mkdir -p "$OUT"

mosq_flags=""
mosq_libs=""
if pkg-config --exists libmosquitto 2>/dev/null; then
    mosq_flags="-DMQTTWIRE_HAVE_LIBMOSQUITTO=1 $(pkg-config --cflags libmosquitto)"
    mosq_libs="$(pkg-config --libs libmosquitto)"
fi

for src in "$SRC_DIR"/fuzz/*.cpp; do
    name=$(basename "$src" .cpp)
    [ "$name" = replay_main ] && continue
    extra_flags=""
    extra_libs=""
    case "$name" in
        utf8_mosquitto|topic) extra_flags=$mosq_flags; extra_libs=$mosq_libs ;;
    esac
    # shellcheck disable=SC2086
    $CXX $CXXFLAGS -std=c++20 -I"$SRC_DIR/include" -I"$SRC_DIR/fuzz" $extra_flags \
        "$src" -o "$OUT/mqttwire_$name" $LIB_FUZZING_ENGINE $extra_libs
    if [ -d "$SRC_DIR/fuzz/corpus/$name" ]; then
        (cd "$SRC_DIR/fuzz/corpus/$name" && zip -q -r "$OUT/mqttwire_${name}_seed_corpus.zip" .)
    fi
    [ -f "$SRC_DIR/fuzz/$name.options" ] && cp "$SRC_DIR/fuzz/$name.options" "$OUT/mqttwire_$name.options"
done
cp "$SRC_DIR"/fuzz/*.dict "$OUT/"
