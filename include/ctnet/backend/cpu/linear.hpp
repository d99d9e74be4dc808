// ctnet/backend/cpu/linear.hpp — fully-connected layers on the CPU with Eigen GEMM over the batch.
//
// Requires: x [batch x In] row-major, weight [Out x In] row-major (PyTorch's layout). Guarantees:
// gradients accumulate (+=) into gw and gb; gx (optional) is overwritten.
#pragma once

#include "eigen.hpp"

namespace ctnet::cpu {

struct LinearOps {
  template <int In, int Out, bool Bias, class T>
  static void linear_forward(const T* x, const T* w, const T* b, T* y, long n) {
    MatrixMap<T> out(y, n, Out);
    out.noalias() = ConstMatrixMap<T>(x, n, In) * ConstMatrixMap<T>(w, Out, In).transpose();
    if constexpr (Bias) out.rowwise() += Eigen::Map<const Eigen::Matrix<T, 1, Eigen::Dynamic>>(b, Out);
  }

  template <int In, int Out, bool Bias, class T>
  static void linear_backward(const T* x, const T* w, const T* gy, T* gx, T* gw, T* gb, long n) {
    const ConstMatrixMap<T> grad_out(gy, n, Out);
    MatrixMap<T>(gw, Out, In).noalias() += grad_out.transpose() * ConstMatrixMap<T>(x, n, In);
    if constexpr (Bias) Eigen::Map<Eigen::Matrix<T, 1, Eigen::Dynamic>>(gb, Out) += grad_out.colwise().sum();
    if (gx) MatrixMap<T>(gx, n, In).noalias() = grad_out * ConstMatrixMap<T>(w, Out, In);
  }
};

}  // namespace ctnet::cpu
