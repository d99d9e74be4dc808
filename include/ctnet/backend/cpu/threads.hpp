// ctnet/backend/cpu/threads.hpp — thread count and per-thread scratch memory for the CPU backend.
//
// Requires: OpenMP for parallelism (without it everything runs on one thread). Guarantees: the thread
// count comes from OMP_NUM_THREADS or set_num_threads(); scratch buffers grow only when a larger size
// is first requested, so a training loop allocates nothing after its first step; reductions over
// threads happen in thread order, so results are bit-identical for a fixed thread count.
#pragma once

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
  Eigen::setNbThreads(n < 1 ? 1 : n);
}

// Scratch slots a kernel may use at once per thread (e.g. im2col columns and weight-gradient partials).
enum class ScratchSlot : int {
  columns,
  column_grads,
  weight_grads,
  bias_grads,
  transposed_weights,
  transposed_grads,
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

// Runs body(first, last) over [0, n) in contiguous, statically assigned chunks, one per thread;
// returns the number of chunks (threads) used, so callers can reduce per-thread partials in order.
template <class Body>
int parallel_chunks(int n, Body&& body) {
  const int threads = n < max_threads() ? (n < 1 ? 1 : n) : max_threads();
  if (threads == 1) {
    body(0, n, 0);
    return 1;
  }
  int used = threads;
#pragma omp parallel num_threads(threads)
  {
    // The runtime may grant fewer threads than asked: split by the team actually running.
#ifdef _OPENMP
    const int team = omp_get_num_threads();
#else
    const int team = 1;
#endif
#pragma omp single
    used = team;
    const int t = thread_id();
    const int first = static_cast<int>(static_cast<long>(n) * t / team);
    const int last = static_cast<int>(static_cast<long>(n) * (t + 1) / team);
    body(first, last, t);
  }
  return used;
}

}  // namespace ctnet::cpu
