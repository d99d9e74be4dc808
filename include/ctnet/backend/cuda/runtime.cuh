// ctnet/backend/cuda/runtime.cuh — CUDA plumbing for the Cuda backend: errors, device probe, stream,
// launch shapes, the cuBLAS handle and grow-only device scratch.
//
// Requires: the CUDA runtime and cuBLAS (link CUDA::cudart and CUDA::cublas, never -lcuda); no Eigen.
// Guarantees: every failed CUDA or cuBLAS call throws ctnet::Error naming the call's purpose and the CUDA
// error string; device_available() never throws (any error, e.g. 35 "insufficient driver" on a machine
// without a GPU, means "no device"). All backend work is issued on cuda::stream() (default
// cudaStreamPerThread; set_stream changes it), so a training step can be captured as a CUDA graph.
// Scratch memory grows only when a larger size is first asked for, never while a stream is capturing
// (that throws: run one eager step before capturing), and each growth bumps scratch_generation().
// Thread safety (DESIGN.md principle 11): nothing mutable is process-wide. The stream, the graph-step
// counter, the scratch areas, the ones vectors and the cuBLAS handle (with its workspace) are state of the
// calling host thread (detail::ThreadState, freed when the thread ends): work is ordered on that thread's
// stream (cudaStreamPerThread by default, itself per thread), so the models one thread runs share its
// scratch in stream order, and models on two host threads never meet. A Model, a Buffer and a cuda::Graph
// are used by one host thread at a time; a Graph is replayed on the thread that captured it.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>

#include "../../core/error.hpp"

namespace ctnet::cuda {

inline void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess)
    throw Error(std::string("CUDA: ") + what + " failed: " + cudaGetErrorString(e) + " (" + cudaGetErrorName(e) + ")");
}

inline void check(cublasStatus_t s, const char* what) {
  if (s != CUBLAS_STATUS_SUCCESS)
    throw Error(std::string("cuBLAS: ") + what + " failed: " + cublasGetStatusString(s) + " (status " +
                std::to_string(int(s)) + ")");
}

// After a kernel launch: reports a bad launch configuration at once (does not wait for the kernel).
inline void check_launch(const char* kernel) { check(cudaGetLastError(), kernel); }

// True when a CUDA device can be used; the answer is computed once. Never throws.
inline bool device_available() noexcept {
  static const bool available = [] {
    int count = 0;
    const cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess) {
      (void)cudaGetLastError();  // clear the sticky-free error so later calls start clean
      return false;
    }
    return count > 0;
  }();
  return available;
}

// One device scratch area per slot and host thread; kernels of one stream run in order, so ops share them.
enum class Slot : int { columns, column_grads, weight_partials, reduce_partials, channel_totals, count };

namespace detail {
struct ScratchArea {
  void* ptr = nullptr;
  std::size_t bytes = 0;
};

// The backend's state for one host thread. Freed when the thread ends: thread-local objects of the main
// thread are destroyed before static objects and atexit handlers, so before the CUDA runtime tears down.
struct ThreadState {
  cudaStream_t stream = cudaStreamPerThread;
  const std::uint64_t* graph_step_counter = nullptr;
  ScratchArea scratch[int(Slot::count)];
  std::uint64_t scratch_generation = 0;
  ScratchArea ones_float, ones_double;  // sizes in bytes, as scratch
  cublasHandle_t blas = nullptr;
  void* blas_workspace = nullptr;
  cudaStream_t blas_stream = nullptr;  // the stream the handle was last bound to, when blas_bound
  bool blas_bound = false;

  ThreadState() = default;
  ThreadState(const ThreadState&) = delete;
  ThreadState& operator=(const ThreadState&) = delete;
  ~ThreadState() {
    // Errors are ignored: nothing can be reported from here, and the process may be ending.
    if (blas) (void)cublasDestroy(blas);
    if (blas_workspace) (void)cudaFree(blas_workspace);
    for (ScratchArea& a : scratch)
      if (a.ptr) (void)cudaFree(a.ptr);
    if (ones_float.ptr) (void)cudaFree(ones_float.ptr);
    if (ones_double.ptr) (void)cudaFree(ones_double.ptr);
  }
};

inline ThreadState& thread_state() {
  thread_local ThreadState state;
  return state;
}
}  // namespace detail

// What Model<Net, Cuda> owns and installs per call: nothing, the state above being the thread's (the
// stream orders the work of every model one thread runs). Present so Model is written once for backends.
struct ExecutionContext {};
struct ExecutionScope {
  explicit ExecutionScope(ExecutionContext&) noexcept {}
  ExecutionScope(const ExecutionScope&) = delete;
  ExecutionScope& operator=(const ExecutionScope&) = delete;
};

// The stream every backend op, copy and cuBLAS call of the calling host thread uses.
inline cudaStream_t stream() { return detail::thread_state().stream; }
inline void set_stream(cudaStream_t s) { detail::thread_state().stream = s; }
inline void synchronize() { check(cudaStreamSynchronize(stream()), "cudaStreamSynchronize"); }
inline bool capturing() {
  cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
  check(cudaStreamIsCapturing(stream(), &status), "cudaStreamIsCapturing");
  return status != cudaStreamCaptureStatusNone;
}

// While a cuda::Graph is being captured: its device counter of replays, which dropout adds to the
// training step so that every replay draws fresh masks (Model's step is a kernel argument, frozen in the
// graph). Null otherwise, and then masks depend on the step argument alone, exactly as on the CPU.
inline const std::uint64_t* graph_step_counter() { return detail::thread_state().graph_step_counter; }

// Grid-stride launch shape for n independent elements.
constexpr int block_threads = 256;
inline unsigned grid_for(long n) {
  const long blocks = (n + block_threads - 1) / block_threads;
  return static_cast<unsigned>(blocks < 1 ? 1 : (blocks > (1L << 20) ? (1L << 20) : blocks));
}

#define CTNET_CUDA_FOR(i, n) \
  for (long i = long(blockIdx.x) * blockDim.x + threadIdx.x; i < (n); i += long(blockDim.x) * gridDim.x)

// Changes whenever any of this thread's scratch areas moved: a captured graph is valid only while this is
// unchanged.
inline std::uint64_t scratch_generation() { return detail::thread_state().scratch_generation; }

// This thread's scratch area for `slot`, at least count values of T.
template <class T>
T* scratch(Slot slot, std::size_t count) {
  detail::ThreadState& state = detail::thread_state();
  detail::ScratchArea& a = state.scratch[int(slot)];
  const std::size_t bytes = count * sizeof(T);
  if (bytes > a.bytes) {
    if (capturing())
      throw Error(
          "CUDA: scratch memory would grow while a graph is being captured; run one eager step with "
          "the same batch before capturing");
    check(cudaStreamSynchronize(stream()), "waiting for kernels before growing scratch memory");
    if (a.ptr) check(cudaFree(a.ptr), "freeing scratch memory");
    a.ptr = nullptr;
    a.bytes = 0;
    check(cudaMalloc(&a.ptr, bytes), ("allocating " + std::to_string(bytes) + " bytes of scratch memory").c_str());
    a.bytes = bytes;
    ++state.scratch_generation;
  }
  return static_cast<T*>(a.ptr);
}

template <class T>
__global__ void fill_kernel(T* p, long n, T value) {
  CTNET_CUDA_FOR(i, n) p[i] = value;
}

// A device vector of at least n ones (for sums written as GEMV), this thread's; grows like scratch memory.
template <class T>
const T* ones(long n) {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "ones: float or double");
  detail::ThreadState& state = detail::thread_state();
  detail::ScratchArea& area = std::is_same_v<T, float> ? state.ones_float : state.ones_double;
  T* ptr = static_cast<T*>(area.ptr);
  const long size = long(area.bytes / sizeof(T));
  if (n > size) {
    if (capturing())
      throw Error("CUDA: a ones vector would grow while a graph is being captured; run one eager step first");
    const long grown = n < 4096 ? 4096 : n;
    check(cudaStreamSynchronize(stream()), "waiting for kernels before growing the ones vector");
    if (ptr) check(cudaFree(ptr), "freeing the ones vector");
    area.ptr = nullptr;
    area.bytes = 0;
    ptr = nullptr;
    check(cudaMalloc(&ptr, std::size_t(grown) * sizeof(T)), "allocating the ones vector");
    area.ptr = ptr;
    fill_kernel<<<grid_for(grown), block_threads, 0, stream()>>>(ptr, grown, T(1));
    check_launch("fill_kernel (ones)");
    area.bytes = std::size_t(grown) * sizeof(T);
    ++state.scratch_generation;
  }
  return ptr;
}

// This thread's cuBLAS handle, bound to stream() with its own workspace (so capture never allocates).
inline cublasHandle_t blas() {
  detail::ThreadState& state = detail::thread_state();
  if (!state.blas) check(cublasCreate(&state.blas), "cublasCreate");
  if (!state.blas_bound || state.blas_stream != state.stream) {
    constexpr std::size_t workspace_bytes = std::size_t(32) << 20;  // NVIDIA's advice for Hopper
    if (!state.blas_workspace) check(cudaMalloc(&state.blas_workspace, workspace_bytes), "allocating the cuBLAS workspace");
    check(cublasSetStream(state.blas, state.stream), "cublasSetStream");
    // cublasSetStream resets the workspace to cuBLAS's pool: set ours again.
    check(cublasSetWorkspace(state.blas, state.blas_workspace, workspace_bytes), "cublasSetWorkspace");
    state.blas_stream = state.stream;
    state.blas_bound = true;
  }
  return state.blas;
}

}  // namespace ctnet::cuda
