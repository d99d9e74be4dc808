// ctnet/backend/cpu/graph_ops.hpp — the ops graph combinators and index inputs need on the CPU:
// strided block copies (Concat, Select), accumulation (Residual, Parallel), one-hot and embedding lookup.
//
// Requires: row-major batches. Guarantees: index inputs are validated (an index that is not an integer
// in [0, N) throws ctnet::Error naming the sample and the value); embedding gradients are accumulated in
// sample order, so results do not depend on the thread count.
#pragma once

#include <cmath>
#include <string>

#include "../../core/error.hpp"
#include "elementwise.hpp"

namespace ctnet::cpu {

inline long checked_index(double v, long sample, long limit, const char* layer) {
  const long k = static_cast<long>(v);
  if (!(v >= 0) || double(k) != v || k >= limit)
    throw Error(std::string(layer) + ": input " + std::to_string(v) + " of sample " + std::to_string(sample) +
                " is not an integer in [0, " + std::to_string(limit) + ")");
  return k;
}

struct GraphOps {
  // count blocks of `block` values: dst[i * dst_stride + j] = src[i * src_stride + j].
  template <class T>
  static void strided_copy(const T* src, long src_stride, T* dst, long dst_stride, long block, long count) {
#pragma omp parallel for schedule(static) if (count * block > 16384)
    for (long i = 0; i < count; ++i)
      for (long j = 0; j < block; ++j) dst[i * dst_stride + j] = src[i * src_stride + j];
  }
  // dst[i] += src[i].
  template <class T>
  static void accumulate(const T* src, T* dst, long n) {
    for_each_index(n, [=](long i) { dst[i] += src[i]; });
  }
  template <class T>
  static void add(const T* a, const T* b, T* y, long n) {
    for_each_index(n, [=](long i) { y[i] = a[i] + b[i]; });
  }
  template <int N, class T>
  static void one_hot(const T* index, T* y, long n) {
    for (long s = 0; s < n; ++s) {
      const long k = checked_index(double(index[s]), s, N, "OneHot");
      for (int j = 0; j < N; ++j) y[s * N + j] = T(j == k ? 1 : 0);
    }
  }
  template <int N, int D, class T>
  static void embedding_forward(const T* index, const T* weight, T* y, long n) {
    for (long s = 0; s < n; ++s) {
      const long k = checked_index(double(index[s]), s, N, "Embedding");
      for (int j = 0; j < D; ++j) y[s * D + j] = weight[k * D + j];
    }
  }
  template <int N, int D, class T>
  static void embedding_backward(const T* index, const T* gy, T* gweight, long n) {
    for (long s = 0; s < n; ++s) {
      const long k = static_cast<long>(index[s]);  // validated by forward
      for (int j = 0; j < D; ++j) gweight[k * D + j] += gy[s * D + j];
    }
  }
  template <class T>
  static void fill_zero(T* y, long n) {
    for_each_index(n, [=](long i) { y[i] = T(0); });
  }
};

}  // namespace ctnet::cpu
