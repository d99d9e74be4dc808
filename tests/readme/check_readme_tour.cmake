# Compiles the README's C++ tour, so it cannot rot (run by CTest as readme/tour).
#
#   cmake -DREADME=<README.md> -DWORK_DIR=<scratch> -DCXX_COMPILER=<c++> -DINCLUDE_DIRS=<dir;dir> [-DSYSTEM_INCLUDE_DIRS=<dir;dir>] -P check_readme_tour.cmake
#
# Every ```cpp block of README.md, in order, goes into one translation unit, which is compiled with the
# project's warnings as errors and linked; the program (the first block's main) must then run and exit 0.
cmake_minimum_required(VERSION 3.25)
foreach(var README WORK_DIR CXX_COMPILER INCLUDE_DIRS)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "check_readme_tour.cmake: -D${var}=... is required")
  endif()
endforeach()

file(READ "${README}" text)
set(source "")
set(blocks 0)
while(TRUE)
  string(FIND "${text}" "```cpp\n" start)
  if(start EQUAL -1)
    break()
  endif()
  math(EXPR start "${start} + 7")
  string(SUBSTRING "${text}" ${start} -1 text)
  string(FIND "${text}" "```\n" end)
  if(end EQUAL -1)
    message(FATAL_ERROR "${README}: a ```cpp block is not closed")
  endif()
  string(SUBSTRING "${text}" 0 ${end} block)
  math(EXPR blocks "${blocks} + 1")
  string(APPEND source "// README.md, C++ block ${blocks}\n${block}\n")
  string(SUBSTRING "${text}" ${end} -1 text)
endwhile()
if(blocks LESS 2)
  message(FATAL_ERROR "${README}: expected the tour's C++ blocks, found ${blocks}")
endif()

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
file(WRITE "${WORK_DIR}/tour.cpp" "${source}")
set(include_args "")
foreach(dir IN LISTS INCLUDE_DIRS)
  list(APPEND include_args "-I${dir}")
endforeach()
foreach(dir IN LISTS SYSTEM_INCLUDE_DIRS)  # Eigen: its own warnings are not the tour's
  list(APPEND include_args "-isystem" "${dir}")
endforeach()
execute_process(
  COMMAND "${CXX_COMPILER}" -std=c++20 -O1 -fopenmp -Wall -Wextra -Wpedantic -Werror ${include_args}
          "${WORK_DIR}/tour.cpp" -o "${WORK_DIR}/tour" -lz -pthread
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "the README's tour (${blocks} blocks, ${WORK_DIR}/tour.cpp) does not compile:\n${out}")
endif()
execute_process(COMMAND "${WORK_DIR}/tour" WORKING_DIRECTORY "${WORK_DIR}" RESULT_VARIABLE rc
                OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "the README's tour compiled but exited ${rc}:\n${out}")
endif()
message(STATUS "the README's tour: ${blocks} C++ blocks compile and run")
