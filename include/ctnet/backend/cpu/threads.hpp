// ctnet/backend/cpu/threads.hpp — thread count, the execution context (scratch memory and work-sharing
// state) and the block-parallel loop of the CPU backend.
//
// Requires: OpenMP for parallelism (without it everything runs on one thread). Guarantees: the thread
// count of the calling host thread's OpenMP teams comes from OMP_NUM_THREADS or set_num_threads(); scratch
// buffers grow only when a larger size is first requested, so a training loop allocates nothing after its
// first step; work is split into fixed blocks whose partial results are reduced in block order, so results
// do not depend on the thread count.
//
// Thread safety (DESIGN.md principle 11): the backend keeps no mutable process-wide state. Scratch memory
// and the work-stealing block shares live in an ExecutionContext; each Model owns one and installs it with
// an ExecutionScope for the duration of each forward, predict and backward call, into a thread_local
// "current context" that the kernels read once per op, on the calling thread, before their parallel
// region (OpenMP workers only use what the caller captured). Ops called outside any Model call (tests,
// tools stepping through layers) use a context private to the calling host thread. So two Models may run
// at the same time on two host threads; one Model (and one ExecutionContext) must not be used by two
// threads at once. Why a scope and not an argument: the op set is a static interface shared with the CUDA
// backend and called from every layer and combinator; the context is state of the backend, not of the
// network, so it stays out of every layer's signature and of Context<T>.
//
// Each Model call's scope also sets the calling thread's OpenMP thread count for the call to what the
// context's AdaptiveThreads chose (adaptive_threads.hpp: at most Cpu::set_threads' count, fewer when timing
// shows fewer run faster, as on a machine busy with other work) and restores it afterwards; Eigen's own
// threading is kept off, so that the count changes speed only.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <span>
#include <type_traits>
#include <vector>

#include "adaptive_threads.hpp"
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

// Eigen's own GEMM threading stays off: its blocking depends on the thread count, which would make results
// depend on it too, and Model calls change the OpenMP count per call (AdaptiveThreads); the products it
// serves here (linear layers, double) are small. Eigen keeps that setting in one process-wide variable:
// written once, under the guard of a static's initialisation, so host threads calling this at the same
// time do not race on it.
inline void keep_eigen_single_threaded() {
  [[maybe_unused]] static const bool eigen_single_threaded = [] {
    Eigen::setNbThreads(1);
    return true;
  }();
}

// OpenMP keeps the thread count per host thread (the nthreads-var ICV of its initial task): this sets it
// for teams started by the calling thread only; another host thread starts from OMP_NUM_THREADS (or the
// core count) until it calls this too.
inline void set_num_threads(int n) {
#ifdef _OPENMP
  omp_set_num_threads(n < 1 ? 1 : n);
#endif
  keep_eigen_single_threaded();
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

}  // namespace detail

// The mutable state of the backend's kernels: per-thread scratch buffers (float and double, one per slot)
// and the block shares of parallel_blocks. Copying gives a fresh, empty context (scratch holds nothing
// that outlives one op call), so a copied Model does not share its copy's memory; the copy keeps whether
// the thread count adapts, not what it learnt.
class ExecutionContext {
 public:
  ExecutionContext() = default;
  ExecutionContext(const ExecutionContext& other) { adaptive_.set_enabled(other.adaptive_.enabled()); }
  ExecutionContext& operator=(const ExecutionContext& other) {
    if (this != &other) adaptive_.set_enabled(other.adaptive_.enabled());
    return *this;
  }

  // The thread count of this context's Model calls (adaptive_threads.hpp); set_enabled(false) runs every
  // call with the calling thread's OpenMP count.
  AdaptiveThreads& adaptive_threads() { return adaptive_; }
  const AdaptiveThreads& adaptive_threads() const { return adaptive_; }

  // Call outside a parallel region, before threads ask for their buffers.
  template <class T>
  void reserve_threads(int threads) {
    auto& b = buffers<T>();
    const std::size_t need = static_cast<std::size_t>(threads) * static_cast<int>(ScratchSlot::count);
    if (b.size() < need) b.resize(need);
  }
  // Thread `thread`'s buffer for `slot`, at least `count` values; threads reserved beforehand.
  template <class T>
  T* scratch(ScratchSlot slot, int thread, std::size_t count) {
    auto& v = buffers<T>()[static_cast<std::size_t>(thread) * static_cast<int>(ScratchSlot::count) +
                           static_cast<int>(slot)];
    if (v.size() < count) v.resize(count);
    return v.data();
  }
  // Synchronised batch norm (data parallelism, train/trainer.hpp's BufferSync::sync_batch_norm): when set,
  // training batch norm hands it its per-channel sums with the element count last, and it must replace each
  // by the sum over all replicas, the same bits on every replica. Unset (the default): the local batch's.
  // Not copied with the context.
  std::function<void(std::span<double>)> batch_sums_hook;

  // At least `threads` shares; called outside a parallel region.
  std::span<detail::BlockShare> block_shares(std::size_t threads) {
    if (shares_.size() < threads) shares_ = std::vector<detail::BlockShare>(threads);
    return {shares_.data(), shares_.size()};
  }

 private:
  template <class T>
  std::vector<AlignedVector<T>>& buffers() {
    static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "CPU scratch holds float or double");
    if constexpr (std::is_same_v<T, float>)
      return floats_;
    else
      return doubles_;
  }

  std::vector<AlignedVector<float>> floats_;
  std::vector<AlignedVector<double>> doubles_;
  std::vector<detail::BlockShare> shares_;
  AdaptiveThreads adaptive_;
};

namespace detail {
inline ExecutionContext*& current_context_slot() noexcept {
  thread_local ExecutionContext* current = nullptr;  // trivially initialised: a plain TLS load
  return current;
}
}  // namespace detail

// The context installed on the calling host thread by the innermost ExecutionScope, else one private to
// this thread (ops called directly, outside a Model). Call it on the host thread, outside parallel regions.
inline ExecutionContext& current_context() {
  if (ExecutionContext* c = detail::current_context_slot()) return *c;
  thread_local ExecutionContext own;
  return own;
}

// Makes `context` the calling thread's current context until the scope ends (scopes nest). Given the
// Model call it brackets, it also runs the call with the thread count the context's AdaptiveThreads
// chooses and tells it how long the call took.
class ExecutionScope {
 public:
  explicit ExecutionScope(ExecutionContext& context) noexcept : previous_(detail::current_context_slot()) {
    detail::current_context_slot() = &context;
  }
  ExecutionScope(ExecutionContext& context, const ExecutionCall& call) noexcept : ExecutionScope(context) {
    keep_eigen_single_threaded();
    adaptive_ = &context.adaptive_threads();
    threads_before_ = max_threads();
    const int threads = adaptive_->begin(call, threads_before_);
    if (threads != threads_before_) set_team_size(threads);
    if (!adaptive_->recording()) return;  // only probe calls are timed
    exceptions_before_ = std::uncaught_exceptions();
    start_ = std::chrono::steady_clock::now();
  }
  ~ExecutionScope() {
    if (adaptive_ != nullptr) {
      if (adaptive_->recording()) {
        if (std::uncaught_exceptions() == exceptions_before_)
          adaptive_->end(std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count());
        else
          adaptive_->cancel();
      }
      if (max_threads() != threads_before_) set_team_size(threads_before_);
    }
    detail::current_context_slot() = previous_;
  }
  ExecutionScope(const ExecutionScope&) = delete;
  ExecutionScope& operator=(const ExecutionScope&) = delete;

 private:
  static void set_team_size([[maybe_unused]] int threads) noexcept {
#ifdef _OPENMP
    omp_set_num_threads(threads);
#endif
  }

  ExecutionContext* previous_;
  AdaptiveThreads* adaptive_ = nullptr;
  int threads_before_ = 1;
  int exceptions_before_ = 0;
  std::chrono::steady_clock::time_point start_{};
};

// Runs body(block, first, last, thread) for the blocks [b * size, min(n, (b + 1) * size)) of [0, n). Each
// thread starts on its own contiguous share of the blocks, the samples a static schedule of the element-wise
// passes gives it (so what they left in its cache is used there), then helps with the far end of the other
// shares (a slower core takes fewer). Work that accumulates per block and is reduced in block order gives
// the same bits for any thread count and schedule. The block shares are `context`'s.
template <class Body>
void parallel_blocks(ExecutionContext& context, int n, int size, Body&& body) {
  const int blocks = (n + size - 1) / size;
  const int threads = blocks < max_threads() ? blocks : max_threads();
  if (threads <= 1) {
    for (int b = 0; b < blocks; ++b) body(b, b * size, std::min(n, (b + 1) * size), 0);
    return;
  }
  const std::span<detail::BlockShare> shares = context.block_shares(std::size_t(threads));
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
