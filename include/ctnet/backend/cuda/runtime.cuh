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
// The stream, scratch areas and cuBLAS handle are process-wide: drive the backend from one host thread.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <string>

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

namespace detail {
inline cudaStream_t& stream_slot() {
  static cudaStream_t s = cudaStreamPerThread;
  return s;
}
}  // namespace detail

// The stream every backend op, copy and cuBLAS call of this process uses.
inline cudaStream_t stream() { return detail::stream_slot(); }
inline void set_stream(cudaStream_t s) { detail::stream_slot() = s; }
inline void synchronize() { check(cudaStreamSynchronize(stream()), "cudaStreamSynchronize"); }
inline bool capturing() {
  cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
  check(cudaStreamIsCapturing(stream(), &status), "cudaStreamIsCapturing");
  return status != cudaStreamCaptureStatusNone;
}

namespace detail {
inline const std::uint64_t*& graph_step_slot() {
  static const std::uint64_t* counter = nullptr;
  return counter;
}
}  // namespace detail

// While a cuda::Graph is being captured: its device counter of replays, which dropout adds to the
// training step so that every replay draws fresh masks (Model's step is a kernel argument, frozen in the
// graph). Null otherwise, and then masks depend on the step argument alone, exactly as on the CPU.
inline const std::uint64_t* graph_step_counter() { return detail::graph_step_slot(); }

// Grid-stride launch shape for n independent elements.
constexpr int block_threads = 256;
inline unsigned grid_for(long n) {
  const long blocks = (n + block_threads - 1) / block_threads;
  return static_cast<unsigned>(blocks < 1 ? 1 : (blocks > (1L << 20) ? (1L << 20) : blocks));
}

#define CTNET_CUDA_FOR(i, n) \
  for (long i = long(blockIdx.x) * blockDim.x + threadIdx.x; i < (n); i += long(blockDim.x) * gridDim.x)

// One process-wide device scratch area per slot; kernels of one stream run in order, so ops share them.
enum class Slot : int { columns, column_grads, weight_partials, reduce_partials, channel_totals, count };

namespace detail {
struct ScratchArea {
  void* ptr = nullptr;
  std::size_t bytes = 0;
};
inline ScratchArea* scratch_areas() {
  static ScratchArea areas[int(Slot::count)];
  return areas;
}
inline std::uint64_t& scratch_generation_slot() {
  static std::uint64_t g = 0;
  return g;
}
}  // namespace detail

// Changes whenever any scratch area moved: a captured graph is valid only while this is unchanged.
inline std::uint64_t scratch_generation() { return detail::scratch_generation_slot(); }

template <class T>
T* scratch(Slot slot, std::size_t count) {
  detail::ScratchArea& a = detail::scratch_areas()[int(slot)];
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
    ++detail::scratch_generation_slot();
  }
  return static_cast<T*>(a.ptr);
}

template <class T>
__global__ void fill_kernel(T* p, long n, T value) {
  CTNET_CUDA_FOR(i, n) p[i] = value;
}

// A device vector of at least n ones (for sums written as GEMV); grows like scratch memory.
template <class T>
const T* ones(long n) {
  static T* ptr = nullptr;
  static long size = 0;
  if (n > size) {
    if (capturing())
      throw Error("CUDA: a ones vector would grow while a graph is being captured; run one eager step first");
    const long grown = n < 4096 ? 4096 : n;
    check(cudaStreamSynchronize(stream()), "waiting for kernels before growing the ones vector");
    if (ptr) check(cudaFree(ptr), "freeing the ones vector");
    ptr = nullptr;
    size = 0;
    check(cudaMalloc(&ptr, std::size_t(grown) * sizeof(T)), "allocating the ones vector");
    fill_kernel<<<grid_for(grown), block_threads, 0, stream()>>>(ptr, grown, T(1));
    check_launch("fill_kernel (ones)");
    size = grown;
    ++detail::scratch_generation_slot();
  }
  return ptr;
}

// The process-wide cuBLAS handle, bound to stream() with its own workspace (so capture never allocates).
// It is deliberately never destroyed: destroying it after the CUDA context at exit would fail.
inline cublasHandle_t blas() {
  static cublasHandle_t handle = [] {
    cublasHandle_t h = nullptr;
    check(cublasCreate(&h), "cublasCreate");
    return h;
  }();
  static cudaStream_t bound = nullptr;
  static bool bound_once = false;
  if (!bound_once || bound != stream()) {
    constexpr std::size_t workspace_bytes = std::size_t(32) << 20;  // NVIDIA's advice for Hopper
    static void* workspace = [] {
      void* w = nullptr;
      check(cudaMalloc(&w, workspace_bytes), "allocating the cuBLAS workspace");
      return w;
    }();
    check(cublasSetStream(handle, stream()), "cublasSetStream");
    // cublasSetStream resets the workspace to cuBLAS's pool: set ours again.
    check(cublasSetWorkspace(handle, workspace, workspace_bytes), "cublasSetWorkspace");
    bound = stream();
    bound_once = true;
  }
  return handle;
}

}  // namespace ctnet::cuda
