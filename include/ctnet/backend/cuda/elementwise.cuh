// ctnet/backend/cuda/elementwise.cuh — ReLU, dropout and copy on the GPU, running the shared kernel bodies.
//
// Requires: device pointers. Guarantees: one grid-stride kernel per op over backend/common/elementwise.hpp's
// bodies, so outputs equal the CPU's bit for bit (no multiply-add to contract); dropout draws the CPU's
// masks for the same (seed, step, position), and backward regenerates them; inside a captured cuda::Graph
// the step is advanced per replay by the graph's device counter (graph_step_counter()).
#pragma once

#include <cstdint>

#include "../common/elementwise.hpp"
#include "runtime.cuh"

namespace ctnet::cuda {

template <class T>
__global__ void relu_forward_kernel(const T* x, T* y, long n) {
  CTNET_CUDA_FOR(i, n) kernels::relu_forward(i, x, y);
}
template <class T>
__global__ void relu_backward_kernel(const T* y, const T* gy, T* gx, long n) {
  CTNET_CUDA_FOR(i, n) kernels::relu_backward(i, y, gy, gx);
}
template <class T>
__global__ void dropout_kernel(const T* x, T* y, long n, std::uint64_t seed, std::uint64_t step,
                               const std::uint64_t* step_offset, int position, long unit_size, float p,
                               std::uint64_t first_unit) {
  const std::uint64_t s = step + (step_offset ? *step_offset : 0);
  CTNET_CUDA_FOR(i, n) kernels::dropout_apply(i, x, y, seed, s, position, unit_size, p, first_unit);
}

struct ElementwiseOps {
  template <class T>
  static void relu_forward(const T* x, T* y, long n) {
    relu_forward_kernel<<<grid_for(n), block_threads, 0, stream()>>>(x, y, n);
    CTNET_CUDA_CHECK_LAUNCH("relu_forward_kernel");
  }
  template <class T>
  static void relu_backward(const T* y, const T* gy, T* gx, long n) {
    relu_backward_kernel<<<grid_for(n), block_threads, 0, stream()>>>(y, gy, gx, n);
    CTNET_CUDA_CHECK_LAUNCH("relu_backward_kernel");
  }
  template <class T>
  // The mask argument is unused: on the GPU drawing the mask again in backward is cheaper than storing it.
  static void dropout_forward(const T* x, T* y, std::uint32_t* /*mask*/, long n, std::uint64_t seed, std::uint64_t step,
                              int position, long unit_size, float p, std::uint64_t first_unit = 0) {
    dropout_kernel<<<grid_for(n), block_threads, 0, stream()>>>(x, y, n, seed, step, graph_step_counter(), position,
                                                                unit_size, p, first_unit);
    CTNET_CUDA_CHECK_LAUNCH("dropout_kernel (forward)");
  }
  // The same mask and scale applied to the gradient.
  template <class T>
  static void dropout_backward(const T* gy, T* gx, const std::uint32_t* /*mask*/, long n, std::uint64_t seed,
                               std::uint64_t step, int position, long unit_size, float p,
                               std::uint64_t first_unit = 0) {
    dropout_kernel<<<grid_for(n), block_threads, 0, stream()>>>(gy, gx, n, seed, step, graph_step_counter(), position,
                                                                unit_size, p, first_unit);
    CTNET_CUDA_CHECK_LAUNCH("dropout_kernel (backward)");
  }
  template <class T>
  static void copy(const T* x, T* y, long n) {
    if (n > 0 && x != y)
      CTNET_CUDA_CHECK(cudaMemcpyAsync(y, x, std::size_t(n) * sizeof(T), cudaMemcpyDeviceToDevice, stream()),
            "copying on the device");
  }
};

}  // namespace ctnet::cuda
