# cmake -DCXX=<compiler> -DINCLUDE_DIR=<dir> -DSOURCE=<file.cpp> [-DEXTRA_FLAGS=<list>]
#       -P check_compile_fail.cmake
#
# A compile_fail test passes only when all of these hold:
#   1. SOURCE has at least one line `// expect-error: <regex>` (CMake regex syntax: no \s or \d,
#      no {n}; use [ ], [0-9], | and ( )). Several lines are alternatives, e.g. one per compiler.
#   2. Compiling SOURCE fails (non-zero exit) ...
#   3. ... and the compiler output matches one of the regexes, so the error is the intended one.
#   4. Compiling SOURCE with -DMQTTWIRE_COMPILE_FAIL_CONTROL succeeds. The file uses that macro
#      to remove the offending line, which proves nothing else in it is broken.

foreach(_var CXX INCLUDE_DIR SOURCE)
    if(NOT DEFINED ${_var} OR "${${_var}}" STREQUAL "")
        message(FATAL_ERROR "check_compile_fail.cmake: -D${_var}=... is required")
    endif()
endforeach()
if(NOT EXISTS "${SOURCE}")
    message(FATAL_ERROR "check_compile_fail.cmake: ${SOURCE} does not exist")
endif()

file(STRINGS "${SOURCE}" _expect_lines REGEX "//[ ]*expect-error:")
set(_patterns "")
foreach(_line IN LISTS _expect_lines)
    string(REGEX REPLACE "^.*//[ ]*expect-error:[ ]*" "" _pattern "${_line}")
    string(STRIP "${_pattern}" _pattern)
    if(NOT _pattern STREQUAL "")
        list(APPEND _patterns "${_pattern}")
    endif()
endforeach()
if(NOT _patterns)
    message(FATAL_ERROR
        "${SOURCE}: no `// expect-error: <regex>` line; say which diagnostic this file expects")
endif()

set(_command "${CXX}" -std=c++20 -fsyntax-only ${EXTRA_FLAGS} "-I${INCLUDE_DIR}" "${SOURCE}")

# The failing compile.
execute_process(COMMAND ${_command}
    RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _out)
if(_rc EQUAL 0)
    message(FATAL_ERROR "${SOURCE} compiled, but it must not.")
endif()
set(_matched FALSE)
foreach(_pattern IN LISTS _patterns)
    if(_out MATCHES "${_pattern}")
        set(_matched TRUE)
        break()
    endif()
endforeach()
if(NOT _matched)
    string(REPLACE ";" "\n  " _shown "${_patterns}")
    message(FATAL_ERROR
        "${SOURCE} failed to compile, but not with the expected error.\n"
        "Expected output matching one of:\n  ${_shown}\n"
        "Compiler output:\n${_out}")
endif()

# The control compile.
execute_process(COMMAND ${_command} -DMQTTWIRE_COMPILE_FAIL_CONTROL
    RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _out)
if(NOT _rc EQUAL 0)
    message(FATAL_ERROR
        "${SOURCE} must compile with -DMQTTWIRE_COMPILE_FAIL_CONTROL (the intended error "
        "removed), but it does not, so it may be failing for another reason:\n${_out}")
endif()

message(STATUS "${SOURCE}: fails as expected, and compiles with the control macro")
