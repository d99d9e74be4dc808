// The examples' cold helpers, compiled once for every example program (common/compiled.hpp): each header
// below, read with CTNET_EXAMPLES_COMMON_SOURCE, defines the CTNET_EXAMPLES_COLD functions it declares.
#ifndef CTNET_EXAMPLES_COMMON_SOURCE
#error "examples/common/examples_common.cpp is built by CMake's ctnet_examples_common"
#endif

#include "cli.hpp"
#include "mnist_data.hpp"
#include "options.hpp"
#include "report.hpp"
#include "resume.hpp"
