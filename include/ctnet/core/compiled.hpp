// ctnet/core/compiled.hpp — where the library's cold, non-template functions get compiled.
//
// ctnet is header-only: by default the functions that run once per file or per run and depend on no
// network type (IDX, safetensors and JSON I/O, the data loader's thread, schedules' checks, PNG/PGM
// decoding) are inline, so each program that uses them compiles them again. With CTNET_COMPILED_LIB
// defined (CMake: link ctnet::compiled, which defines it) the headers only declare them, and the static
// library ctnet_compiled (src/compiled/ctnet_compiled.cpp) holds their one compiled copy; a program then
// compiles only its network's code and its own. The bodies are the same text either way.
//
// A header marks such a function CTNET_COLD (its declaration and its definition) and puts the definition,
// with any helper only it uses, inside `#if CTNET_COLD_BODIES`.
// Requires: every translation unit of a program agrees on CTNET_COMPILED_LIB (one definition rule).
#pragma once

#if defined(CTNET_COMPILED_LIB)
#define CTNET_COLD
#if defined(CTNET_COMPILED_LIB_SOURCE)
#define CTNET_COLD_BODIES 1
#else
#define CTNET_COLD_BODIES 0
#endif
#else
#define CTNET_COLD inline
#define CTNET_COLD_BODIES 1
#endif
