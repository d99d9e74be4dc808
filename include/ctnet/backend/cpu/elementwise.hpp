// ctnet/backend/cpu/elementwise.hpp — ReLU and dropout on the CPU, running the shared kernel bodies.
//
// Requires: OpenMP for parallelism. Guarantees: each output element depends only on its index, so
// results are identical for any thread count; dropout backward regenerates the forward mask.
#pragma once

#include <cstdint>

#include "../common/elementwise.hpp"

namespace ctnet::cpu {

template <class Body>
void for_each_index(long n, Body&& body) {
#pragma omp parallel for schedule(static) if (n > 4096)
  for (long i = 0; i < n; ++i) body(i);
}

struct ElementwiseOps {
  template <class T>
  static void relu_forward(const T* x, T* y, long n) {
    for_each_index(n, [=](long i) { kernels::relu_forward(i, x, y); });
  }
  template <class T>
  static void relu_backward(const T* y, const T* gy, T* gx, long n) {
    for_each_index(n, [=](long i) { kernels::relu_backward(i, y, gy, gx); });
  }
  template <class T>
  static void dropout_forward(const T* x, T* y, long n, std::uint64_t seed, std::uint64_t step, int position,
                              long unit_size, float p) {
    for_each_index(n, [=](long i) { kernels::dropout_apply(i, x, y, seed, step, position, unit_size, p); });
  }
  // The same mask and scale applied to the gradient.
  template <class T>
  static void dropout_backward(const T* gy, T* gx, long n, std::uint64_t seed, std::uint64_t step, int position,
                               long unit_size, float p) {
    for_each_index(n, [=](long i) { kernels::dropout_apply(i, gy, gx, seed, step, position, unit_size, p); });
  }
  template <class T>
  static void copy(const T* x, T* y, long n) {
    for_each_index(n, [=](long i) { y[i] = x[i]; });
  }
};

}  // namespace ctnet::cpu
