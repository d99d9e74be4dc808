// ctnet/backend/cuda/graph_ops.cuh — the ops graph combinators and index inputs need, on the GPU:
// strided block copies (Concat, Select), accumulation (Residual, Parallel), one-hot and embedding lookup.
//
// Requires: row-major batches, device pointers. Guarantees: the Cpu backend's GraphOps, same names and
// signatures and the same arithmetic (copies and single additions are exact); embedding gradients are
// accumulated in sample order by one thread per embedding column, so they equal the CPU's bit for bit.
// A device cannot throw: where the CPU rejects an index that is not an integer in [0, N), the device
// writes a zero row (one_hot, embedding_forward) and adds nothing (embedding_backward); validate index
// inputs on the host (or with the CPU backend) when they come from outside.
#pragma once

#include "runtime.cuh"

namespace ctnet::cuda {

template <class T>
__device__ inline long device_index(T v, long limit) {
  const long k = static_cast<long>(v);
  return (v >= T(0) && T(k) == v && k < limit) ? k : -1;
}

template <class T>
__global__ void strided_copy_kernel(const T* src, long src_stride, T* dst, long dst_stride, long block, long total) {
  CTNET_CUDA_FOR(i, total) dst[(i / block) * dst_stride + i % block] = src[(i / block) * src_stride + i % block];
}
template <class T>
__global__ void accumulate_kernel(const T* src, T* dst, long n) {
  CTNET_CUDA_FOR(i, n) dst[i] += src[i];
}
template <class T>
__global__ void add_kernel(const T* a, const T* b, T* y, long n) {
  CTNET_CUDA_FOR(i, n) y[i] = a[i] + b[i];
}
template <int N, class T>
__global__ void one_hot_kernel(const T* index, T* y, long n) {
  CTNET_CUDA_FOR(i, n * N) y[i] = T(device_index(index[i / N], N) == i % N ? 1 : 0);
}
template <int N, int D, class T>
__global__ void embedding_forward_kernel(const T* index, const T* weight, T* y, long n) {
  CTNET_CUDA_FOR(i, n * D) {
    const long k = device_index(index[i / D], N);
    y[i] = k >= 0 ? weight[k * D + i % D] : T(0);
  }
}
template <int N, int D, class T>
__global__ void embedding_backward_kernel(const T* index, const T* gy, T* gweight, long n) {
  CTNET_CUDA_FOR(j, long(D)) {
    for (long s = 0; s < n; ++s) {
      const long k = device_index(index[s], N);
      if (k >= 0) gweight[k * D + j] += gy[s * D + j];
    }
  }
}

struct GraphOps {
  // count blocks of `block` values: dst[i * dst_stride + j] = src[i * src_stride + j].
  template <class T>
  static void strided_copy(const T* src, long src_stride, T* dst, long dst_stride, long block, long count) {
    if (block <= 0 || count <= 0) return;
    strided_copy_kernel<<<grid_for(block * count), block_threads, 0, stream()>>>(src, src_stride, dst, dst_stride,
                                                                                 block, block * count);
    CTNET_CUDA_CHECK_LAUNCH("strided_copy_kernel");
  }
  // dst[i] += src[i].
  template <class T>
  static void accumulate(const T* src, T* dst, long n) {
    accumulate_kernel<<<grid_for(n), block_threads, 0, stream()>>>(src, dst, n);
    CTNET_CUDA_CHECK_LAUNCH("accumulate_kernel");
  }
  template <class T>
  static void add(const T* a, const T* b, T* y, long n) {
    add_kernel<<<grid_for(n), block_threads, 0, stream()>>>(a, b, y, n);
    CTNET_CUDA_CHECK_LAUNCH("add_kernel");
  }
  template <int N, class T>
  static void one_hot(const T* index, T* y, long n) {
    one_hot_kernel<N><<<grid_for(n * N), block_threads, 0, stream()>>>(index, y, n);
    CTNET_CUDA_CHECK_LAUNCH("one_hot_kernel");
  }
  template <int N, int D, class T>
  static void embedding_forward(const T* index, const T* weight, T* y, long n) {
    embedding_forward_kernel<N, D><<<grid_for(n * D), block_threads, 0, stream()>>>(index, weight, y, n);
    CTNET_CUDA_CHECK_LAUNCH("embedding_forward_kernel");
  }
  template <int N, int D, class T>
  static void embedding_backward(const T* index, const T* gy, T* gweight, long n) {
    embedding_backward_kernel<N, D><<<grid_for(D), block_threads, 0, stream()>>>(index, gy, gweight, n);
    CTNET_CUDA_CHECK_LAUNCH("embedding_backward_kernel");
  }
  template <class T>
  static void fill_zero(T* y, long n) {
    if (n > 0) CTNET_CUDA_CHECK(cudaMemsetAsync(y, 0, std::size_t(n) * sizeof(T), stream()), "zeroing on the device");
  }
};

}  // namespace ctnet::cuda
