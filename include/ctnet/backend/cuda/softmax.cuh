// ctnet/backend/cuda/softmax.cuh — softmax and log-softmax over the last dimension on the GPU.
//
// Requires: x [rows x N] row-major, device pointers. Guarantees: one thread per row running the shared
// row bodies of backend/common/softmax.hpp (the CPU runs the same), numerically stable; results differ
// from the CPU's only by the device's exp/log rounding.
#pragma once

#include "../common/softmax.hpp"
#include "runtime.cuh"

namespace ctnet::cuda {

template <int N, class T>
__global__ void log_softmax_forward_kernel(const T* x, T* y, long rows) {
  CTNET_CUDA_FOR(r, rows) kernels::log_softmax_row(r, x, y, N);
}
template <int N, class T>
__global__ void log_softmax_backward_kernel(const T* y, const T* gy, T* gx, long rows) {
  CTNET_CUDA_FOR(r, rows) kernels::log_softmax_backward_row(r, y, gy, gx, N);
}
template <int N, class T>
__global__ void softmax_forward_kernel(const T* x, T* y, long rows) {
  CTNET_CUDA_FOR(r, rows) kernels::softmax_row(r, x, y, N);
}
template <int N, class T>
__global__ void softmax_backward_kernel(const T* y, const T* gy, T* gx, long rows) {
  CTNET_CUDA_FOR(r, rows) kernels::softmax_backward_row(r, y, gy, gx, N);
}

struct SoftmaxOps {
  template <int N, class T>
  static void log_softmax_forward(const T* x, T* y, long rows) {
    log_softmax_forward_kernel<N><<<grid_for(rows), block_threads, 0, stream()>>>(x, y, rows);
    CTNET_CUDA_CHECK_LAUNCH("log_softmax_forward_kernel");
  }
  template <int N, class T>
  static void log_softmax_backward(const T* y, const T* gy, T* gx, long rows) {
    log_softmax_backward_kernel<N><<<grid_for(rows), block_threads, 0, stream()>>>(y, gy, gx, rows);
    CTNET_CUDA_CHECK_LAUNCH("log_softmax_backward_kernel");
  }
  template <int N, class T>
  static void softmax_forward(const T* x, T* y, long rows) {
    softmax_forward_kernel<N><<<grid_for(rows), block_threads, 0, stream()>>>(x, y, rows);
    CTNET_CUDA_CHECK_LAUNCH("softmax_forward_kernel");
  }
  template <int N, class T>
  static void softmax_backward(const T* y, const T* gy, T* gx, long rows) {
    softmax_backward_kernel<N><<<grid_for(rows), block_threads, 0, stream()>>>(y, gy, gx, rows);
    CTNET_CUDA_CHECK_LAUNCH("softmax_backward_kernel");
  }
};

}  // namespace ctnet::cuda
