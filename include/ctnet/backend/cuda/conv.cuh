// ctnet/backend/cuda/conv.cuh — 2-D convolution on the GPU: im2col + strided-batched cuBLAS GEMM.
//
// Requires: NCHW tensors, weights OUTxINxKxK row-major (PyTorch's layout), device pointers. Guarantees:
// im2col and col2im run the shared bodies of backend/common/conv.hpp (col2im gathers, no atomics); a 1x1
// stride-1 unpadded convolution skips im2col; the weight gradient is one GEMM per sample into scratch,
// then summed over the batch by one GEMV (fixed order), and the bias gradient by the deterministic
// channel reduction, so backward gives the same bits on every run. Gradients accumulate (+=) into gw and
// gb; gx (optional) is overwritten. Scratch: batch * in_c*K*K * out_h*out_w values for columns (twice
// in backward) plus batch * weight-count partials.
#pragma once

#include <cstddef>

#include "../common/conv.hpp"
#include "../common/gemm.hpp"
#include "../common/geometry.hpp"
#include "blas.cuh"
#include "reduce.cuh"
#include "runtime.cuh"

namespace ctnet::cuda {

// nvcc 13 cannot emit host stubs for __global__ templates over class-type values (ConvGeometry), so the
// kernels take the geometry's numbers and rebuild it as a constant.
#define CTNET_CUDA_GEOMETRY_PARAMS int InC, int InH, int InW, int OutC, int OutH, int OutW, int K, int S, int P
#define CTNET_CUDA_GEOMETRY_ARGS(G) G.in_c, G.in_h, G.in_w, G.out_c, G.out_h, G.out_w, G.kernel, G.stride, G.padding

template <CTNET_CUDA_GEOMETRY_PARAMS, class T>
__global__ void im2col_kernel(const T* x, T* col, long total) {
  constexpr ConvGeometry G{InC, InH, InW, OutC, OutH, OutW, K, S, P, false};
  CTNET_CUDA_FOR(i, total) kernels::im2col_element<G>(i, x, col);
}
template <CTNET_CUDA_GEOMETRY_PARAMS, class T>
__global__ void col2im_kernel(const T* col, T* x, long total) {
  constexpr ConvGeometry G{InC, InH, InW, OutC, OutH, OutW, K, S, P, false};
  CTNET_CUDA_FOR(i, total) kernels::col2im_gather<G>(i, col, x);
}
template <class T>
__global__ void bias_add_kernel(T* y, const T* b, int channels, long spatial, long total) {
  CTNET_CUDA_FOR(i, total) kernels::bias_add(i, y, b, channels, spatial);
}

struct ConvOps {
  template <ConvGeometry G, class T>
  static void conv2d_forward(const T* x, const T* w, const T* b, T* y, int n) {
    if (n <= 0) return;
    constexpr long per_sample = long(G.col_rows()) * G.out_hw();
    const T* cols = x;
    if constexpr (!G.is_pointwise()) {
      T* col = scratch<T>(Slot::columns, std::size_t(per_sample) * n);
      im2col_kernel<CTNET_CUDA_GEOMETRY_ARGS(G)>
          <<<grid_for(per_sample * n), block_threads, 0, stream()>>>(x, col, per_sample * n);
      CTNET_CUDA_CHECK_LAUNCH("im2col_kernel");
      cols = col;
    }
    run_gemm<T>(gemm::conv_forward<G>(), T(1), w, cols, T(0), y, n, "conv2d forward GEMM");
    if constexpr (G.bias) {
      bias_add_kernel<<<grid_for(G.out_size() * n), block_threads, 0, stream()>>>(y, b, G.out_c, long(G.out_hw()),
                                                                                  G.out_size() * n);
      CTNET_CUDA_CHECK_LAUNCH("bias_add_kernel (conv2d)");
    }
  }

  // gx may be null (first layer: no input gradient needed); gb is ignored without bias.
  template <ConvGeometry G, class T>
  static void conv2d_backward(const T* x, const T* w, const T* gy, T* gx, T* gw, T* gb, int n) {
    if (n <= 0) return;
    constexpr long per_sample = long(G.col_rows()) * G.out_hw();
    constexpr long wsize = long(G.out_c) * G.col_rows();
    const T* cols = x;
    if constexpr (!G.is_pointwise()) {
      T* col = scratch<T>(Slot::columns, std::size_t(per_sample) * n);
      im2col_kernel<CTNET_CUDA_GEOMETRY_ARGS(G)>
          <<<grid_for(per_sample * n), block_threads, 0, stream()>>>(x, col, per_sample * n);
      CTNET_CUDA_CHECK_LAUNCH("im2col_kernel (backward)");
      cols = col;
    }
    // Per-sample weight gradients P_s (gemm.hpp), then gw += sum over s of P_s.
    T* partial = scratch<T>(Slot::weight_partials, std::size_t(wsize) * n);
    run_gemm<T>(gemm::conv_weight_grad<G>(), T(1), gy, cols, T(0), partial, n, "conv2d weight-gradient GEMM");
    column_sums<T>(n, int(wsize), partial, T(1), gw, "conv2d weight-gradient batch sum (GEMV)");
    if constexpr (G.bias)
      channel_sums<G.out_c, long(G.out_hw())>(gy, static_cast<const T*>(nullptr), long(n), nullptr, gb,
                                              static_cast<T*>(nullptr));
    if (!gx) return;
    T* gcol = G.is_pointwise() ? gx : scratch<T>(Slot::column_grads, std::size_t(per_sample) * n);
    run_gemm<T>(gemm::conv_input_grad<G>(), T(1), w, gy, T(0), gcol, n, "conv2d input-gradient GEMM");
    if constexpr (!G.is_pointwise()) {
      col2im_kernel<CTNET_CUDA_GEOMETRY_ARGS(G)>
          <<<grid_for(G.in_size() * n), block_threads, 0, stream()>>>(gcol, gx, G.in_size() * n);
      CTNET_CUDA_CHECK_LAUNCH("col2im_kernel");
    }
  }
};

}  // namespace ctnet::cuda

#undef CTNET_CUDA_GEOMETRY_PARAMS
#undef CTNET_CUDA_GEOMETRY_ARGS
