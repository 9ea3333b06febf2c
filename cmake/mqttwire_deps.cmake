# Dependency lookup for mqttwire's development targets (tests, benchmarks, fuzzers).
#
# The library itself has no dependencies. Everything here comes from Debian packages through
# find_package(); when something is missing the error names the package to install, so a fresh
# machine is one `bash ci/install-deps.sh` away from a working build.

include_guard(GLOBAL)

# mqttwire_require_package(<cmake package> <debian package> [find_package arguments...])
#
# Calls find_package(<cmake package> [arguments...]) and stops with FATAL_ERROR naming the Debian
# package when it is not found. A macro, not a function, so <pkg>_FOUND, <pkg>_VERSION and
# friends stay visible to the caller.
macro(mqttwire_require_package _mqttwire_pkg _mqttwire_deb)
    find_package(${_mqttwire_pkg} ${ARGN} QUIET)
    if(NOT ${_mqttwire_pkg}_FOUND)
        message(FATAL_ERROR
            "${_mqttwire_pkg} not found: install the Debian package ${_mqttwire_deb} "
            "(sudo apt-get install ${_mqttwire_deb}) or run ci/install-deps.sh")
    endif()
endmacro()

# mqttwire_find_rapidcheck(<result variable>)
#
# Debian's librapidcheck-dev ships a static librapidcheck.a, the headers (including the GoogleTest
# integration header rapidcheck/gtest.h) and a CMake config in
# /usr/lib/<triplet>/cmake/rapidcheck/ that defines the un-namespaced imported targets
# `rapidcheck` and `rapidcheck_gtest` (the latter is header-only glue that links `rapidcheck`).
# We use that config when present and otherwise fall back to plain find_path/find_library, so a
# rapidcheck built from source without its config still works.
#
# On success defines the INTERFACE target `mqttwire_rapidcheck_gtest` (rapidcheck + its gtest
# header; link GTest yourself) and sets <result variable> to TRUE in the caller's scope.
# rapidcheck reports failures by throwing, so its users must keep exceptions and RTTI on.
function(mqttwire_find_rapidcheck _mqttwire_result)
    set(${_mqttwire_result} FALSE PARENT_SCOPE)
    if(TARGET mqttwire_rapidcheck_gtest)
        set(${_mqttwire_result} TRUE PARENT_SCOPE)
        return()
    endif()

    find_package(rapidcheck CONFIG QUIET)
    if(rapidcheck_FOUND AND TARGET rapidcheck_gtest)
        add_library(mqttwire_rapidcheck_gtest INTERFACE)
        target_link_libraries(mqttwire_rapidcheck_gtest INTERFACE rapidcheck_gtest)
        message(STATUS "mqttwire: rapidcheck found (CMake config in ${rapidcheck_DIR})")
        set(${_mqttwire_result} TRUE PARENT_SCOPE)
        return()
    endif()

    find_path(MQTTWIRE_RAPIDCHECK_INCLUDE_DIR NAMES rapidcheck.h rapidcheck/gtest.h)
    find_library(MQTTWIRE_RAPIDCHECK_LIBRARY NAMES rapidcheck)
    if(MQTTWIRE_RAPIDCHECK_INCLUDE_DIR AND MQTTWIRE_RAPIDCHECK_LIBRARY
       AND EXISTS "${MQTTWIRE_RAPIDCHECK_INCLUDE_DIR}/rapidcheck/gtest.h")
        add_library(mqttwire_rapidcheck_gtest INTERFACE)
        target_include_directories(mqttwire_rapidcheck_gtest SYSTEM INTERFACE
            "${MQTTWIRE_RAPIDCHECK_INCLUDE_DIR}")
        target_link_libraries(mqttwire_rapidcheck_gtest INTERFACE
            "${MQTTWIRE_RAPIDCHECK_LIBRARY}")
        message(STATUS "mqttwire: rapidcheck found (${MQTTWIRE_RAPIDCHECK_LIBRARY})")
        set(${_mqttwire_result} TRUE PARENT_SCOPE)
    endif()
endfunction()
