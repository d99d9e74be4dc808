// ctnet/backend/cpu/eigen.hpp — Eigen for the CPU backend, included in one place, and the row-major
// matrix views its ops use.
//
// Requires: Eigen 3.4. Guarantees: with -march=native on an AVX-512 machine, g++ 12 reports
// -Wmaybe-uninitialized inside Eigen's AVX-512 packet transposes (a false positive in Eigen 3.4's code,
// hundreds of lines per file); it is silenced for Eigen's code only, not for ctnet's or the user's.
// MatrixMap and ConstMatrixMap view a buffer as a row-major matrix (PyTorch's layout) without copying.
#pragma once

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <Eigen/Core>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

namespace ctnet::cpu {

template <class T>
using RowMatrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T>
using MatrixMap = Eigen::Map<RowMatrix<T>>;
template <class T>
using ConstMatrixMap = Eigen::Map<const RowMatrix<T>>;

}  // namespace ctnet::cpu
