// ctnet/backend/cpu/threads.hpp — thread count and per-thread scratch memory for the CPU backend.
//
// Requires: OpenMP for parallelism (without it everything runs on one thread). Guarantees: the thread
// count comes from OMP_NUM_THREADS or set_num_threads(); scratch buffers grow only when a larger size
// is first requested, so a training loop allocates nothing after its first step; work is split into
// fixed blocks whose partial results are reduced in block order, so results do not depend on the
// thread count.
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

#include "aligned.hpp"
#include "eigen.hpp"
#ifdef _OPENMP
#include <omp.h>
#endif

namespace ctnet::cpu {

inline int max_threads() {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

inline int thread_id() {
#ifdef _OPENMP
  return omp_get_thread_num();
#else
  return 0;
#endif
}

inline void set_num_threads(int n) {
#ifdef _OPENMP
  omp_set_num_threads(n < 1 ? 1 : n);
#endif
  // Eigen's own GEMM threading stays off: its blocking depends on the thread count, which would make
  // results depend on it too; the products it serves here (linear layers, double) are small.
  Eigen::setNbThreads(1);
}

// Scratch slots a kernel may use at once per thread (e.g. im2col columns and weight-gradient partials).
enum class ScratchSlot : int {
  columns,
  column_grads,
  weight_grads,
  bias_grads,
  transposed_weights,
  transposed_grads,
  plane_sums,
  count
};

template <class T>
class Scratch {
 public:
  // Call outside a parallel region, before threads ask for their buffers.
  static void reserve_threads(int threads) {
    auto& b = buffers();
    const std::size_t need = static_cast<std::size_t>(threads) * static_cast<int>(ScratchSlot::count);
    if (b.size() < need) b.resize(need);
  }
  static T* get(ScratchSlot slot, int thread, std::size_t count) {
    auto& v = buffers()[static_cast<std::size_t>(thread) * static_cast<int>(ScratchSlot::count) + static_cast<int>(slot)];
    if (v.size() < count) v.resize(count);
    return v.data();
  }

 private:
  static std::vector<AlignedVector<T>>& buffers() {
    static std::vector<AlignedVector<T>> b;
    return b;
  }
};

// Runs body(block, first, last, thread) for the blocks [b * size, min(n, (b + 1) * size)) of [0, n), handed
// out to threads as they become free (a slower core takes fewer). Work that accumulates per block and
// is reduced in block order gives the same bits for any thread count and schedule.
template <class Body>
void parallel_blocks(int n, int size, Body&& body) {
  const int blocks = (n + size - 1) / size;
  const int threads = blocks < max_threads() ? blocks : max_threads();
  if (threads <= 1) {
    for (int b = 0; b < blocks; ++b) body(b, b * size, std::min(n, (b + 1) * size), 0);
    return;
  }
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
  for (int b = 0; b < blocks; ++b) body(b, b * size, std::min(n, (b + 1) * size), thread_id());
}

}  // namespace ctnet::cpu
