// examples/common/compiled.hpp — the examples' cold helpers (options, reports, resume), compiled once.
//
// The same scheme as ctnet/core/compiled.hpp: a helper marked CTNET_EXAMPLES_COLD is inline unless
// CTNET_EXAMPLES_COMPILED is defined (examples/CMakeLists.txt defines it for every example program), in which
// case the headers declare it and the static library ctnet_examples_common (common/examples_common.cpp)
// defines it. Tests that include these headers on their own keep them inline.
#pragma once

#if defined(CTNET_EXAMPLES_COMPILED)
#define CTNET_EXAMPLES_COLD
#if defined(CTNET_EXAMPLES_COMMON_SOURCE)
#define CTNET_EXAMPLES_COLD_BODIES 1
#else
#define CTNET_EXAMPLES_COLD_BODIES 0
#endif
#else
#define CTNET_EXAMPLES_COLD inline
#define CTNET_EXAMPLES_COLD_BODIES 1
#endif
