// ctnet/backend/cpu/eigen.hpp — Eigen for the CPU backend, included in one place.
//
// Requires: Eigen 3.4. Guarantees: with -march=native on an AVX-512 machine, g++ 12 reports
// -Wmaybe-uninitialized inside Eigen's AVX-512 packet transposes (a false positive in Eigen 3.4's code,
// hundreds of lines per file); it is silenced for Eigen's code only, not for ctnet's or the user's.
#pragma once

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <Eigen/Core>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
