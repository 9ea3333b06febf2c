# Compiler flags for mqttwire's own test, fuzz and benchmark targets. Never applied to the
# mqttwire INTERFACE target: users choose their own warnings.

include_guard(GLOBAL)

# Warnings every project target must compile cleanly with.
if(MSVC)
    set(MQTTWIRE_WARNING_FLAGS /W4 /WX /permissive-)
    set(MQTTWIRE_NO_EXCEPTIONS_FLAGS /EHs-c- /GR- /D_HAS_EXCEPTIONS=0)
else()
    set(MQTTWIRE_WARNING_FLAGS
        -Wall -Wextra -Wpedantic -Wconversion -Wshadow -Werror)
    set(MQTTWIRE_NO_EXCEPTIONS_FLAGS -fno-exceptions -fno-rtti)
endif()

# mqttwire_sanitize(<target>)
#
# Applies MQTTWIRE_SANITIZE (compile and link). Every finding is fatal
# (-fno-sanitize-recover=all), so a UBSan report fails the test instead of scrolling past.
function(mqttwire_sanitize _target)
    if(MQTTWIRE_SANITIZE AND NOT MSVC)
        target_compile_options(${_target} PRIVATE
            -fsanitize=${MQTTWIRE_SANITIZE} -fno-sanitize-recover=all -fno-omit-frame-pointer)
        target_link_options(${_target} PRIVATE
            -fsanitize=${MQTTWIRE_SANITIZE} -fno-sanitize-recover=all)
    endif()
endfunction()

# MQTTWIRE_SMALL_CODE: build the project's own targets with MQTTWIRE_SMALL=1 (the core's
# size-optimised code shapes: no word scans, one encoder instantiation for both passes), so the
# suite proves those paths check exactly what the fast ones do. The clang preset turns it on.
option(MQTTWIRE_SMALL_CODE "Build tests, fuzz replays and benchmarks with MQTTWIRE_SMALL=1" OFF)

# mqttwire_project_target(<target> [EXCEPTIONS])
#
# Links mqttwire::mqttwire and applies the project warnings and MQTTWIRE_SANITIZE. Without
# EXCEPTIONS the target is also built with -fno-exceptions -fno-rtti: the core promises to
# work there (DESIGN.md 3.3), so pure library tests prove it. Pass EXCEPTIONS for targets whose
# third-party framework needs them (rapidcheck throws to report a failed property).
function(mqttwire_project_target _target)
    cmake_parse_arguments(PARSE_ARGV 1 _arg "EXCEPTIONS" "" "")
    target_link_libraries(${_target} PRIVATE mqttwire::mqttwire)
    target_compile_options(${_target} PRIVATE ${MQTTWIRE_WARNING_FLAGS})
    if(NOT _arg_EXCEPTIONS)
        target_compile_options(${_target} PRIVATE ${MQTTWIRE_NO_EXCEPTIONS_FLAGS})
    endif()
    mqttwire_sanitize(${_target})
    if(MQTTWIRE_SMALL_CODE)
        target_compile_definitions(${_target} PRIVATE MQTTWIRE_SMALL=1)
    endif()
endfunction()

# mqttwire_test_pch(<target> [<header>...]): GoogleTest, the standard headers the tests use,
# mqttwire's umbrella and session headers and the given ones are parsed once per test executable
# instead of once per file. Every public header is still compiled alone by the hygiene tests
# (tests/headers/), which never use them. -DMQTTWIRE_TEST_PCH=OFF compiles every file from scratch.
option(MQTTWIRE_TEST_PCH "Precompile the headers the test executables include" ON)
function(mqttwire_test_pch _target)
    if(MQTTWIRE_TEST_PCH)
        target_precompile_headers(${_target} PRIVATE
            <gtest/gtest.h> <mqttwire.hpp> <mqttwire/session.hpp>
            <algorithm> <array> <cstddef> <cstdint> <map> <span> <string> <string_view>
            <vector> ${ARGN})
    endif()
endfunction()
