// ctnet/backend/cpu/elementwise.hpp — ReLU and dropout on the CPU, running the shared kernel bodies.
//
// Requires: OpenMP for parallelism. Guarantees: each output element depends only on its index, so
// results are identical for any thread count; dropout backward regenerates the forward mask
// (with the per-element body's arithmetic, four units per Philox call).
#pragma once

#include <algorithm>
#include <cstdint>

#include "../common/elementwise.hpp"

namespace ctnet::cpu {

template <class Body>
void for_each_index(long n, Body&& body) {
#pragma omp parallel for schedule(static) if (n > 4096)
  for (long i = 0; i < n; ++i) body(i);
}

// The same masks as kernels::dropout_apply (which the CUDA backend runs per element), drawn four units
// per Philox call, as random_bits lays them out.
template <class T>
void dropout_masked(const T* x, T* y, long n, std::uint64_t seed, std::uint64_t step, int position, long unit_size,
                    float p) {
  constexpr int W = random_blocks_width;  // Philox blocks generated together (64 units)
  const std::uint32_t threshold = kernels::dropout_threshold(p);
  const T scale = T(1) / (T(1) - T(p));
  const std::uint64_t draw = kernels::dropout_draw(step, position);
  const long units = n / unit_size;
  const long groups = (units + 4 * W - 1) / (4 * W);
#pragma omp parallel for schedule(static) if (n > 16384)
  for (long g = 0; g < groups; ++g) {
    std::uint32_t lanes[4][W], bits[4 * W];
    random_blocks(seed, RngStream::dropout, draw, static_cast<std::uint64_t>(g * W), lanes);
    for (int b = 0; b < W; ++b)  // unit u of the group is lane u % 4 of block u / 4
      for (int k = 0; k < 4; ++k) bits[4 * b + k] = lanes[k][b];
    const long first = g * 4 * W, count = std::min(units, first + 4 * W) - first;
    if (unit_size == 1) {
      const T* xg = x + first;
      T* yg = y + first;
      for (long u = 0; u < count; ++u) yg[u] = (bits[u] >> 8) >= threshold ? xg[u] * scale : T(0);
    } else {
      for (long u = 0; u < count; ++u) {
        const bool keep = (bits[u] >> 8) >= threshold;
        const T* xu = x + (first + u) * unit_size;
        T* yu = y + (first + u) * unit_size;
        for (long e = 0; e < unit_size; ++e) yu[e] = keep ? xu[e] * scale : T(0);
      }
    }
  }
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
    dropout_masked(x, y, n, seed, step, position, unit_size, p);
  }
  // The same mask and scale applied to the gradient.
  template <class T>
  static void dropout_backward(const T* gy, T* gx, long n, std::uint64_t seed, std::uint64_t step, int position,
                               long unit_size, float p) {
    dropout_masked(gy, gx, n, seed, step, position, unit_size, p);
  }
  template <class T>
  static void copy(const T* x, T* y, long n) {
    for_each_index(n, [=](long i) { y[i] = x[i]; });
  }
};

}  // namespace ctnet::cpu
