# Builds and runs a downstream project that uses ctnet, as a user would (cmake -P script, run by CTest).
#
#   cmake -DMODE=find_package|add_subdirectory|fetchcontent -DCTNET_SOURCE_DIR=<src> -DCTNET_BINARY_DIR=<build>
#         -DWORK_DIR=<scratch> [-DGENERATOR=<gen>] [-DCXX_COMPILER=<c++>] [-DBUILD_TYPE=<cfg>] -P run_consumer.cmake
#
# find_package: `cmake --install` of the ctnet build tree into WORK_DIR/prefix, then configures
# tests/consumer/find_package against that prefix alone (no package registry) and checks that ctnet came
# from there. add_subdirectory: configures tests/consumer/add_subdirectory with CTNET_SOURCE_DIR.
# fetchcontent: packs the library's tree (CMakeLists.txt, LICENSE, cmake/, include/, src/) into a .tar.gz, as a
# release archive would be, and configures tests/consumer/fetchcontent, which fetches it by URL and hash.
# All three then build the consumer and run it; it must print "ctnet consumer: OK". WORK_DIR is emptied first.
cmake_minimum_required(VERSION 3.25)

foreach(var MODE CTNET_SOURCE_DIR CTNET_BINARY_DIR WORK_DIR)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "run_consumer.cmake: -D${var}=... is required")
  endif()
endforeach()
if(NOT MODE MATCHES "^(find_package|add_subdirectory|fetchcontent)$")
  message(FATAL_ERROR "run_consumer.cmake: MODE must be find_package, add_subdirectory or fetchcontent, not '${MODE}'")
endif()
if(NOT BUILD_TYPE)
  set(BUILD_TYPE Release)
endif()

# Runs a command, echoing it; stops the script with its output when it fails.
function(run_step what)
  string(REPLACE ";" " " shown "${ARGN}")
  message(STATUS "${what}: ${shown}")
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${rc}):\n${out}")
  endif()
  set(step_output "${out}" PARENT_SCOPE)
endfunction()

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
set(consumer_source "${CMAKE_CURRENT_LIST_DIR}/${MODE}")
set(consumer_build "${WORK_DIR}/build")

set(configure_args -S "${consumer_source}" -B "${consumer_build}" "-DCMAKE_BUILD_TYPE=${BUILD_TYPE}")
if(GENERATOR)
  list(APPEND configure_args -G "${GENERATOR}")
endif()
if(CXX_COMPILER)
  list(APPEND configure_args "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}")
endif()

if(MODE STREQUAL "find_package")
  set(prefix "${WORK_DIR}/prefix")
  run_step("install ctnet" "${CMAKE_COMMAND}" --install "${CTNET_BINARY_DIR}" --prefix "${prefix}"
           --config "${BUILD_TYPE}")
  if(NOT EXISTS "${prefix}/include/ctnet/ctnet.hpp")
    message(FATAL_ERROR "the install put no include/ctnet/ctnet.hpp under ${prefix}")
  endif()
  list(APPEND configure_args "-DCMAKE_PREFIX_PATH=${prefix}" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
       -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF)
elseif(MODE STREQUAL "fetchcontent")
  set(archive "${WORK_DIR}/ctnet-src.tar.gz")
  execute_process(COMMAND "${CMAKE_COMMAND}" -E tar czf "${archive}" CMakeLists.txt LICENSE cmake include src
                  WORKING_DIRECTORY "${CTNET_SOURCE_DIR}" RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0 OR NOT EXISTS "${archive}")
    message(FATAL_ERROR "packing ${CTNET_SOURCE_DIR} into ${archive} failed (${rc})")
  endif()
  file(SHA256 "${archive}" archive_hash)
  list(APPEND configure_args "-DCTNET_ARCHIVE=${archive}" "-DCTNET_ARCHIVE_SHA256=${archive_hash}"
       "-DFETCHCONTENT_BASE_DIR=${WORK_DIR}/deps")
else()
  list(APPEND configure_args "-DCTNET_SOURCE_DIR=${CTNET_SOURCE_DIR}")
endif()

run_step("configure the consumer" "${CMAKE_COMMAND}" ${configure_args})
if(MODE STREQUAL "find_package")
  # The consumer must have used the package just installed, not one elsewhere on the machine.
  file(STRINGS "${consumer_build}/CMakeCache.txt" found REGEX "^ctnet_DIR:")
  file(REAL_PATH "${prefix}" real_prefix)
  string(FIND "${found}" "${real_prefix}/" at)
  if(NOT at GREATER 0)
    string(FIND "${found}" "${prefix}/" at)
  endif()
  if(NOT at GREATER 0)
    message(FATAL_ERROR "the consumer found ctnet outside ${prefix}: ${found}")
  endif()
endif()
run_step("build the consumer" "${CMAKE_COMMAND}" --build "${consumer_build}" --config "${BUILD_TYPE}")

set(exe "${consumer_build}/consumer")
if(NOT EXISTS "${exe}")
  set(exe "${consumer_build}/${BUILD_TYPE}/consumer")  # multi-config generators
endif()
run_step("run the consumer" "${exe}")
message("${step_output}")
if(NOT step_output MATCHES "ctnet consumer: OK")
  message(FATAL_ERROR "the consumer did not print 'ctnet consumer: OK'")
endif()
# find_package also builds the same program against the installed ctnet::compiled (core/compiled.hpp).
if(MODE STREQUAL "find_package")
  run_step("run the consumer built with ctnet::compiled" "${exe}_compiled")
  if(NOT step_output MATCHES "ctnet consumer: OK")
    message(FATAL_ERROR "the consumer built with ctnet::compiled did not print 'ctnet consumer: OK'")
  endif()
endif()
