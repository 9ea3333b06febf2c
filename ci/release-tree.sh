# Sourced by ci/bench-brokers.sh and ci/conformance.sh: the one Release tree both build the broker
# and its tools in (build/release, or $BUILD_DIR), configured the same way, so the test command
# compiles the Release broker once.
#
#   release_tree_configure <dir>   configures <dir> unless it already is a build tree
release_tree_configure() {
    local dir=$1
    [[ -f $dir/build.ninja ]] && return 0
    cmake -S "$root" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMQTTWIRE_BUILD_TESTS=OFF \
        -DMQTTWIRE_BUILD_BENCH=ON -DMQTTWIRE_BUILD_CONFORMANCE=ON -DMQTTWIRE_BUILD_FUZZ=OFF
}
