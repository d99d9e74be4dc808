// ctnet/backend/cpu/threads.hpp — thread count and per-thread scratch memory for the CPU backend.
//
// Requires: OpenMP for parallelism (without it everything runs on one thread). Guarantees: the thread
// count comes from OMP_NUM_THREADS or set_num_threads(); scratch buffers grow only when a larger size
// is first requested, so a training loop allocates nothing after its first step; work is split into
// fixed blocks whose partial results are reduced in block order, so results do not depend on the
// thread count.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
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
  padded_input,
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

namespace detail {

// A thread's share of blocks [front, back) packed in one word, so that its owner taking from the front and
// another thread taking from the back can never both get the same block.
struct alignas(64) BlockShare {
  std::atomic<std::uint64_t> bounds{0};

  void reset(std::uint32_t front, std::uint32_t back) { bounds.store(std::uint64_t(front) << 32 | back); }
  // Claims the front block (owner) or the back block (anyone else); -1 when the share is empty.
  int take(bool from_front) {
    std::uint64_t b = bounds.load(std::memory_order_relaxed);
    for (;;) {
      const auto front = std::uint32_t(b >> 32), back = std::uint32_t(b);
      if (front >= back) return -1;
      const std::uint64_t next =
          from_front ? std::uint64_t(front + 1) << 32 | back : std::uint64_t(front) << 32 | (back - 1);
      if (bounds.compare_exchange_weak(b, next, std::memory_order_relaxed)) return int(from_front ? front : back - 1);
    }
  }
};

inline std::vector<BlockShare>& block_shares(std::size_t threads) {
  static std::vector<BlockShare> shares;
  if (shares.size() < threads) shares = std::vector<BlockShare>(threads);
  return shares;
}

}  // namespace detail

// Runs body(block, first, last, thread) for the blocks [b * size, min(n, (b + 1) * size)) of [0, n). Each
// thread starts on its own contiguous share of the blocks, the samples a static schedule of the element-wise
// passes gives it (so what they left in its cache is used there), then helps with the far end of the other
// shares (a slower core takes fewer). Work that accumulates per block and is reduced in block order gives
// the same bits for any thread count and schedule.
template <class Body>
void parallel_blocks(int n, int size, Body&& body) {
  const int blocks = (n + size - 1) / size;
  const int threads = blocks < max_threads() ? blocks : max_threads();
  if (threads <= 1) {
    for (int b = 0; b < blocks; ++b) body(b, b * size, std::min(n, (b + 1) * size), 0);
    return;
  }
  std::vector<detail::BlockShare>& shares = detail::block_shares(std::size_t(threads));
  const int chunk = (blocks + threads - 1) / threads;  // as OpenMP's schedule(static) splits
  for (int t = 0; t < threads; ++t)
    shares[std::size_t(t)].reset(std::uint32_t(std::min(blocks, t * chunk)),
                                 std::uint32_t(std::min(blocks, (t + 1) * chunk)));
#pragma omp parallel num_threads(threads)
  {
    const int t = thread_id();
    for (int k = 0; k < threads; ++k) {
      detail::BlockShare& share = shares[std::size_t((t + k) % threads)];
      for (int b; (b = share.take(k == 0)) >= 0;) body(b, b * size, std::min(n, (b + 1) * size), t);
    }
  }
}

}  // namespace ctnet::cpu
