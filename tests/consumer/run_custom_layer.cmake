# Builds and tests a user's project against the installed ctnet package (cmake -P script, run by CTest).
#
#   cmake -DMODE=custom_layer|compile_fail_function -DCTNET_SOURCE_DIR=<src> -DCTNET_BINARY_DIR=<build>
#         -DWORK_DIR=<scratch> [-DGENERATOR=<gen>] [-DCXX_COMPILER=<c++>] [-DBUILD_TYPE=<cfg>] -P run_custom_layer.cmake
#
# Both `cmake --install` the ctnet build tree into WORK_DIR/prefix and configure a project against that
# prefix alone. custom_layer: examples/custom_layer (layers written outside ctnet), built and its whole
# ctest run must pass, every one of its EXPECTED_TESTS. compile_fail_function: tests/consumer/
# compile_fail_function, whose ctest must pass harness/expected_error and fail the three others, each with
# the runner's own reason (so ctnet_add_compile_fail_test passes neither a program that compiles nor one
# that fails for another reason). WORK_DIR is emptied first.
cmake_minimum_required(VERSION 3.25)

foreach(var MODE CTNET_SOURCE_DIR CTNET_BINARY_DIR WORK_DIR)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "run_custom_layer.cmake: -D${var}=... is required")
  endif()
endforeach()
if(NOT BUILD_TYPE)
  set(BUILD_TYPE Release)
endif()
if(MODE STREQUAL "custom_layer")
  set(project_dir "${CTNET_SOURCE_DIR}/examples/custom_layer")
elseif(MODE STREQUAL "compile_fail_function")
  set(project_dir "${CMAKE_CURRENT_LIST_DIR}/compile_fail_function")
else()
  message(FATAL_ERROR "run_custom_layer.cmake: MODE must be custom_layer or compile_fail_function, not '${MODE}'")
endif()

# Runs a command; stops the script with its output when it fails, unless ALLOW_FAILURE.
function(run_step what)
  cmake_parse_arguments(PARSE_ARGV 1 arg "ALLOW_FAILURE" "" "")
  string(REPLACE ";" " " shown "${arg_UNPARSED_ARGUMENTS}")
  message(STATUS "${what}: ${shown}")
  execute_process(COMMAND ${arg_UNPARSED_ARGUMENTS} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0 AND NOT arg_ALLOW_FAILURE)
    message(FATAL_ERROR "${what} failed (${rc}):\n${out}")
  endif()
  set(step_rc "${rc}" PARENT_SCOPE)
  set(step_output "${out}" PARENT_SCOPE)
endfunction()

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
set(prefix "${WORK_DIR}/prefix")
set(build "${WORK_DIR}/build")
run_step("install ctnet" "${CMAKE_COMMAND}" --install "${CTNET_BINARY_DIR}" --prefix "${prefix}" --config "${BUILD_TYPE}")
if(NOT EXISTS "${prefix}/include/ctnet/testing.hpp")
  message(FATAL_ERROR "the install put no include/ctnet/testing.hpp under ${prefix}")
endif()
file(GLOB_RECURSE testing_module "${prefix}/*/ctnetTesting.cmake")
if(NOT testing_module)
  message(FATAL_ERROR "the install put no ctnetTesting.cmake under ${prefix}")
endif()

set(configure_args -S "${project_dir}" -B "${build}" "-DCMAKE_BUILD_TYPE=${BUILD_TYPE}" "-DCMAKE_PREFIX_PATH=${prefix}"
    -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF)
if(GENERATOR)
  list(APPEND configure_args -G "${GENERATOR}")
endif()
if(CXX_COMPILER)
  list(APPEND configure_args "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}")
endif()
run_step("configure ${MODE}" "${CMAKE_COMMAND}" ${configure_args})
file(STRINGS "${build}/CMakeCache.txt" found REGEX "^ctnet_DIR:")
file(REAL_PATH "${prefix}" real_prefix)
string(FIND "${found}" "${real_prefix}/" at_real)
string(FIND "${found}" "${prefix}/" at)
if(at_real LESS 0 AND at LESS 0)
  message(FATAL_ERROR "${MODE} found ctnet outside ${prefix}: ${found}")
endif()
run_step("build ${MODE}" "${CMAKE_COMMAND}" --build "${build}" --config "${BUILD_TYPE}")

if(MODE STREQUAL "custom_layer")
  run_step("test custom_layer" "${CMAKE_CTEST_COMMAND}" --test-dir "${build}" -C "${BUILD_TYPE}" --output-on-failure)
  message("${step_output}")
  foreach(test IN ITEMS custom_layer/tests custom_layer/train shape/depthwise_too_small shape/depthwise_after_flatten
                        shape/over_budget shape/wrong_output shape/layer_without_backward)
    if(NOT step_output MATCHES "${test} [.]+ +Passed")
      message(FATAL_ERROR "custom_layer: test ${test} did not run and pass")
    endif()
  endforeach()
  if(NOT step_output MATCHES "100% tests passed, 0 tests failed out of 7")
    message(FATAL_ERROR "custom_layer: expected 7 tests, all passed")
  endif()
  return()
endif()

# compile_fail_function: one ctest run per harness test, each judged by its exit status and its reason.
foreach(case IN ITEMS "expected_error|0|failed to compile with the expected message"
                      "compiles|1|compiled, but it must not"
                      "unrelated_error|1|failed to compile, but the compiler's output does not match"
                      "half_match|1|output does not match:.*expected_at_most<11>")
  string(REPLACE "|" ";" parts "${case}")
  list(GET parts 0 name)
  list(GET parts 1 must_fail)
  list(GET parts 2 reason)
  run_step("harness/${name}" "${CMAKE_CTEST_COMMAND}" --test-dir "${build}" -C "${BUILD_TYPE}" -V
           -R "^harness/${name}$" ALLOW_FAILURE)
  if(must_fail AND step_rc EQUAL 0)
    message(FATAL_ERROR "harness/${name} passed, but it must fail:\n${step_output}")
  elseif(NOT must_fail AND NOT step_rc EQUAL 0)
    message(FATAL_ERROR "harness/${name} failed, but it must pass:\n${step_output}")
  endif()
  # CMake wraps long messages: compare with the line breaks and indentation folded into single spaces.
  # (ctest -V puts "N: " before each line of the test's output; drop it first.)
  string(REGEX REPLACE "\n[0-9]+: " "\n" folded_output "${step_output}")
  string(REGEX REPLACE "[ \t\r\n]+" " " folded_output "${folded_output}")
  if(NOT folded_output MATCHES "${reason}")
    message(FATAL_ERROR "harness/${name}: the output does not say '${reason}':\n${step_output}")
  endif()
  if(NOT step_output MATCHES "out of 1\n")
    message(FATAL_ERROR "harness/${name}: ctest did not run exactly one test:\n${step_output}")
  endif()
  message(STATUS "harness/${name}: ${reason} (as it must)")
endforeach()
message("ctnet_add_compile_fail_test: passes only on the expected error")
