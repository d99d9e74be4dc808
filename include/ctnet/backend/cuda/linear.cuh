// ctnet/backend/cuda/linear.cuh — fully-connected layers on the GPU with cuBLAS over the batch.
//
// Requires: x [batch x In] row-major, weight [Out x In] row-major (PyTorch's layout), device pointers.
// Guarantees: gradients accumulate (+=) into gw (one GEMM with beta = 1) and gb (one GEMV, a fixed-order
// column sum); gx (optional) is overwritten; deterministic on a given device.
#pragma once

#include "../common/conv.hpp"
#include "../common/gemm.hpp"
#include "blas.cuh"
#include "conv.cuh"
#include "runtime.cuh"

namespace ctnet::cuda {

struct LinearOps {
  template <int In, int Out, bool Bias, class T>
  static void linear_forward(const T* x, const T* w, const T* b, T* y, long n) {
    if (n <= 0) return;
    run_gemm<T>(gemm::linear_forward(In, Out, int(n)), T(1), x, w, T(0), y, 1, "linear forward GEMM");
    if constexpr (Bias) {
      bias_add_kernel<<<grid_for(n * Out), block_threads, 0, stream()>>>(y, b, Out, 1L, n * Out);
      CTNET_CUDA_CHECK_LAUNCH("bias_add_kernel (linear)");
    }
  }

  template <int In, int Out, bool Bias, class T>
  static void linear_backward(const T* x, const T* w, const T* gy, T* gx, T* gw, T* gb, long n) {
    if (n <= 0) return;
    run_gemm<T>(gemm::linear_weight_grad(In, Out, int(n)), T(1), gy, x, T(1), gw, 1, "linear weight-gradient GEMM");
    if constexpr (Bias) column_sums<T>(int(n), Out, gy, T(1), gb, "linear bias-gradient GEMV");
    if (gx)
      run_gemm<T>(gemm::linear_input_grad(In, Out, int(n)), T(1), gy, w, T(0), gx, 1, "linear input-gradient GEMM");
  }
};

}  // namespace ctnet::cuda
