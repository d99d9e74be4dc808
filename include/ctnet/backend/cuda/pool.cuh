// ctnet/backend/cuda/pool.cuh — max, average and global average pooling on the GPU.
//
// Requires: NCHW tensors, windows inside the input (no padding), device pointers. Guarantees: forward and
// backward run the shared per-element bodies (backend/common/elementwise.hpp, pool.hpp); backward gathers
// per input element in the CPU's order, so results equal the CPU's bit for bit and need no atomics.
#pragma once

#include "../common/elementwise.hpp"
#include "../common/pool.hpp"
#include "runtime.cuh"

namespace ctnet::cuda {

template <int InH, int InW, int OutH, int OutW, int K, int S, class T>
__global__ void maxpool_forward_kernel(const T* x, T* y, long total) {
  CTNET_CUDA_FOR(o, total) kernels::maxpool_forward(o, x, y, InH, InW, OutH, OutW, K, S);
}
template <int InH, int InW, int OutH, int OutW, int K, int S, class T>
__global__ void maxpool_backward_kernel(const T* x, const T* gy, T* gx, long total) {
  CTNET_CUDA_FOR(i, total) kernels::maxpool_backward_gather(i, x, gy, gx, InH, InW, OutH, OutW, K, S);
}
template <int InH, int InW, int OutH, int OutW, int K, int S, class T>
__global__ void avgpool_forward_kernel(const T* x, T* y, long total) {
  CTNET_CUDA_FOR(o, total) kernels::avgpool_forward(o, x, y, InH, InW, OutH, OutW, K, S);
}
template <int InH, int InW, int OutH, int OutW, int K, int S, class T>
__global__ void avgpool_backward_kernel(const T* gy, T* gx, long total) {
  CTNET_CUDA_FOR(i, total) kernels::avgpool_backward_gather(i, gy, gx, InH, InW, OutH, OutW, K, S);
}
template <int Spatial, class T>
__global__ void global_avgpool_forward_kernel(const T* x, T* y, long planes) {
  CTNET_CUDA_FOR(p, planes) kernels::global_avgpool_forward(p, x, y, Spatial);
}
template <int Spatial, class T>
__global__ void global_avgpool_backward_kernel(const T* gy, T* gx, long total) {
  CTNET_CUDA_FOR(i, total) kernels::global_avgpool_backward(i, gy, gx, Spatial);
}

struct PoolOps {
  template <int InH, int InW, int OutH, int OutW, int K, int S, class T>
  static void maxpool_forward(const T* x, T* y, long planes) {
    const long total = planes * OutH * OutW;
    maxpool_forward_kernel<InH, InW, OutH, OutW, K, S><<<grid_for(total), block_threads, 0, stream()>>>(x, y, total);
    CTNET_CUDA_CHECK_LAUNCH("maxpool_forward_kernel");
  }
  template <int InH, int InW, int OutH, int OutW, int K, int S, class T>
  static void maxpool_backward(const T* x, const T* gy, T* gx, long planes) {
    const long total = planes * InH * InW;
    maxpool_backward_kernel<InH, InW, OutH, OutW, K, S>
        <<<grid_for(total), block_threads, 0, stream()>>>(x, gy, gx, total);
    CTNET_CUDA_CHECK_LAUNCH("maxpool_backward_kernel");
  }
  template <int InH, int InW, int OutH, int OutW, int K, int S, class T>
  static void avgpool_forward(const T* x, T* y, long planes) {
    const long total = planes * OutH * OutW;
    avgpool_forward_kernel<InH, InW, OutH, OutW, K, S><<<grid_for(total), block_threads, 0, stream()>>>(x, y, total);
    CTNET_CUDA_CHECK_LAUNCH("avgpool_forward_kernel");
  }
  template <int InH, int InW, int OutH, int OutW, int K, int S, class T>
  static void avgpool_backward(const T* gy, T* gx, long planes) {
    const long total = planes * InH * InW;
    avgpool_backward_kernel<InH, InW, OutH, OutW, K, S><<<grid_for(total), block_threads, 0, stream()>>>(gy, gx, total);
    CTNET_CUDA_CHECK_LAUNCH("avgpool_backward_kernel");
  }
  template <int Spatial, class T>
  static void global_avgpool_forward(const T* x, T* y, long planes) {
    global_avgpool_forward_kernel<Spatial><<<grid_for(planes), block_threads, 0, stream()>>>(x, y, planes);
    CTNET_CUDA_CHECK_LAUNCH("global_avgpool_forward_kernel");
  }
  template <int Spatial, class T>
  static void global_avgpool_backward(const T* gy, T* gx, long planes) {
    const long total = planes * Spatial;
    global_avgpool_backward_kernel<Spatial><<<grid_for(total), block_threads, 0, stream()>>>(gy, gx, total);
    CTNET_CUDA_CHECK_LAUNCH("global_avgpool_backward_kernel");
  }
};

}  // namespace ctnet::cuda
