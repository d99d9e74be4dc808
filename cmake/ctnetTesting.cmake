# ctnetTesting.cmake — ctnet_add_compile_fail_test(): CTest tests that a program must NOT compile.
#
# Loaded by find_package(ctnet) (and by ctnet's own CMakeLists.txt, for add_subdirectory/FetchContent):
#
#   ctnet_add_compile_fail_test(NAME <test> SOURCE <file.cpp> EXPECT "<regex>" ["<regex>" ...]
#                               [LINK_LIBRARIES <target>...] [LABELS <label>...])
#
# registers the CTest test <test>. It builds SOURCE (an EXCLUDE_FROM_ALL executable linked to ctnet::ctnet)
# and passes only when the build FAILS and the compiler's output matches EVERY regex (CMake regex syntax,
# `.` also matches a newline; no `;` inside a regex). Several regexes match in any order, which is what
# makes one test work with g++ and clang alike: g++ prints the rule's template arguments (the layer, the
# shape) before the "ctnet:" message, clang after it. So EXPECT "at_layer<2, MyConv>" "ctnet: layer needs
# a CxHxW input" holds on both. A build that succeeds fails the test ("compiled, but it must not"); a build
# that fails without the expected text fails it too and shows the compiler's output. Match the message,
# not the file name: the build tool echoes commands.
# The tests of one build tree run one at a time (RESOURCE_LOCK): they drive the same build system.

# Script mode: the test itself (cmake -DCTNET_COMPILE_FAIL_SPEC=<file> -P ctnetTesting.cmake).
if(CMAKE_SCRIPT_MODE_FILE AND DEFINED CTNET_COMPILE_FAIL_SPEC)
  include("${CTNET_COMPILE_FAIL_SPEC}")  # ctnet_cf_build_dir, _target, _source, _expect
  set(ENV{LC_ALL} C)  # plain quotes in the compiler's messages
  set(config_args "")
  if(NOT "${CTNET_COMPILE_FAIL_CONFIG}" STREQUAL "")
    set(config_args --config "${CTNET_COMPILE_FAIL_CONFIG}")
  endif()
  execute_process(COMMAND "${CMAKE_COMMAND}" --build "${ctnet_cf_build_dir}" --target "${ctnet_cf_target}" ${config_args}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE output ERROR_VARIABLE output)
  if(rc EQUAL 0)
    message(FATAL_ERROR "ctnet_add_compile_fail_test: ${ctnet_cf_source} compiled, but it must not")
  endif()
  set(missing "")
  foreach(regex IN LISTS ctnet_cf_expect)
    if(NOT output MATCHES "${regex}")
      string(APPEND missing "\n  ${regex}")
    endif()
  endforeach()
  if(NOT missing STREQUAL "")
    message(FATAL_ERROR "ctnet_add_compile_fail_test: ${ctnet_cf_source} failed to compile, but the compiler's "
                        "output does not match:${missing}\n--- compiler output ---\n${output}")
  endif()
  message(STATUS "ctnet_add_compile_fail_test: ${ctnet_cf_source} failed to compile with the expected message")
  return()
endif()

function(ctnet_add_compile_fail_test)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "NAME;SOURCE" "EXPECT;LINK_LIBRARIES;LABELS")
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "ctnet_add_compile_fail_test: unknown arguments: ${arg_UNPARSED_ARGUMENTS}")
  endif()
  foreach(required NAME SOURCE EXPECT)
    if(NOT arg_${required})
      message(FATAL_ERROR "ctnet_add_compile_fail_test: ${required} is required "
                          "(NAME <test> SOURCE <file> EXPECT \"<regex>\"...)")
    endif()
  endforeach()
  foreach(regex IN LISTS arg_EXPECT)
    if(regex STREQUAL "" OR regex MATCHES "^(\\.\\*)+$")
      message(FATAL_ERROR "ctnet_add_compile_fail_test(${arg_NAME}): EXPECT '${regex}' matches any output; "
                          "give the message the compiler must print")
    endif()
  endforeach()
  if(NOT TARGET ctnet::ctnet)
    message(FATAL_ERROR "ctnet_add_compile_fail_test: no ctnet::ctnet target (find_package(ctnet) first)")
  endif()
  get_filename_component(source "${arg_SOURCE}" ABSOLUTE)
  if(NOT EXISTS "${source}")
    message(FATAL_ERROR "ctnet_add_compile_fail_test(${arg_NAME}): SOURCE ${source} does not exist")
  endif()

  string(MAKE_C_IDENTIFIER "ctnet_cf_${arg_NAME}" target)
  add_executable(${target} EXCLUDE_FROM_ALL "${source}")
  target_link_libraries(${target} PRIVATE ctnet::ctnet ${arg_LINK_LIBRARIES})

  # The expectations travel in a file: a regex may hold characters a command line would mangle.
  set(spec "${CMAKE_CURRENT_BINARY_DIR}/ctnet_compile_fail/${target}.cmake")
  set(text "set(ctnet_cf_build_dir [==[${CMAKE_BINARY_DIR}]==])\n")
  string(APPEND text "set(ctnet_cf_target [==[${target}]==])\nset(ctnet_cf_source [==[${source}]==])\n")
  string(APPEND text "set(ctnet_cf_expect")
  foreach(regex IN LISTS arg_EXPECT)
    string(APPEND text " [==[${regex}]==]")
  endforeach()
  string(APPEND text ")\n")
  file(WRITE "${spec}" "${text}")

  add_test(NAME ${arg_NAME}
    COMMAND "${CMAKE_COMMAND}" "-DCTNET_COMPILE_FAIL_SPEC=${spec}" "-DCTNET_COMPILE_FAIL_CONFIG=$<CONFIG>"
            -P "${CMAKE_CURRENT_FUNCTION_LIST_FILE}")
  set_tests_properties(${arg_NAME} PROPERTIES RESOURCE_LOCK "ctnet_compile_fail:${CMAKE_BINARY_DIR}"
                                              ENVIRONMENT LC_ALL=C)
  if(arg_LABELS)
    set_tests_properties(${arg_NAME} PROPERTIES LABELS "${arg_LABELS}")
  endif()
endfunction()
