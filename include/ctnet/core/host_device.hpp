// ctnet/core/host_device.hpp — the CTNET_HD marker for functions that run on both host and device.
//
// Requires: nothing. Guarantees: under nvcc, CTNET_HD expands to `__host__ __device__`, elsewhere to
// nothing, so per-element kernel bodies are one function that CPU tests exercise (DESIGN principle 8).
#pragma once

#if defined(__CUDACC__)
#define CTNET_HD __host__ __device__
#else
#define CTNET_HD
#endif
