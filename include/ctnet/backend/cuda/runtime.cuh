// ctnet/backend/cuda/runtime.cuh — CUDA plumbing for the Cuda backend: errors, device probe, stream,
// launch shapes, the cuBLAS handle and grow-only device scratch.
//
// Requires: the CUDA runtime and cuBLAS (link CUDA::cudart and CUDA::cublas, never -lcuda); no Eigen.
// Guarantees: every failed CUDA or cuBLAS call throws cuda::CudaError (a ctnet::Error, keeping the code)
// whose message names the call's purpose, the error's description, name and number, and — through
// CTNET_CUDA_CHECK / CTNET_CUDA_CHECK_LAUNCH — the call's text and file:line (wording: diagnostics.hpp);
// failures specific to stream capture throw cuda::CaptureError. With CTNET_CUDA_SYNC=1 in the environment
// every launch check also waits for the kernel (outside capture), so a fault names the kernel that made it.
// device_problem() / device_available() never throw (any error, e.g. 35 "insufficient driver" on a
// machine without a GPU, means "no device", and device_problem says which). All backend work is issued
// on cuda::stream() (default cudaStreamPerThread; set_stream changes it), so a training step can be
// captured as a CUDA graph. Scratch memory grows only when a larger size is first asked for, never while
// a stream is capturing (that throws CaptureError: run one eager step before capturing), and each growth
// bumps memory_generation() (as does every Buffer::resize).
// The stream, scratch areas and cuBLAS handle are process-wide: drive the backend from one host thread.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "../../core/error.hpp"
#include "../../core/execution_call.hpp"
#include "diagnostics.hpp"

namespace ctnet::cuda {

static_assert(cudaErrorIllegalAddress == 700 && cudaErrorLaunchTimeout == 702 && cudaErrorAssert == 710 &&
                  cudaErrorHardwareStackError == 714 && cudaErrorIllegalInstruction == 715 &&
                  cudaErrorMisalignedAddress == 716 && cudaErrorInvalidAddressSpace == 717 &&
                  cudaErrorInvalidPc == 718 && cudaErrorLaunchFailure == 719,
              "diagnostics.hpp's sticky error codes differ from this CUDA's");
static_assert(cudaErrorStreamCaptureUnsupported == 900 && cudaErrorStreamCaptureWrongThread == 908,
              "diagnostics.hpp's capture error codes differ from this CUDA's");

[[noreturn]] inline void fail(cudaError_t e, const std::string& what, const CallSite& site = {}) {
  const std::string text = error_text("CUDA", what, int(e), cudaGetErrorName(e), cudaGetErrorString(e), site,
                                      sync_mode());
  if (is_capture_error(int(e))) throw CaptureError(text, int(e));
  throw CudaError(text, int(e));
}

// For the capture's own calls (begin, end, instantiate): nothing of the captured work ran, so any error
// but a sticky fault is a CaptureError (eager execution may go on).
[[noreturn]] inline void fail_capture(cudaError_t e, const std::string& what, const CallSite& site = {}) {
  const std::string text = error_text("CUDA", what, int(e), cudaGetErrorName(e), cudaGetErrorString(e), site,
                                      sync_mode());
  if (is_sticky_error(int(e))) throw CudaError(text, int(e));
  throw CaptureError(text, int(e));
}

inline void check(cudaError_t e, const char* what, const CallSite& site = {}) {
  if (e != cudaSuccess) fail(e, what, site);
}

inline void check(cublasStatus_t s, const char* what, const CallSite& site = {}) {
  if (s != CUBLAS_STATUS_SUCCESS)
    throw CudaError(error_text("cuBLAS", what, int(s), cublasGetStatusName(s), cublasGetStatusString(s), site,
                               sync_mode()),
                    int(s));
}

// CTNET_CUDA_CHECK(cudaMalloc(&p, bytes), "allocating ...") checks a CUDA or cuBLAS call and names it.
#define CTNET_CUDA_CHECK(call, what) \
  ::ctnet::cuda::check((call), (what), ::ctnet::cuda::CallSite{#call, __FILE__, __LINE__})
// After a kernel launch: CTNET_CUDA_CHECK_LAUNCH("name_kernel").
#define CTNET_CUDA_CHECK_LAUNCH(kernel) \
  ::ctnet::cuda::check_launch((kernel), ::ctnet::cuda::CallSite{nullptr, __FILE__, __LINE__})

inline cudaStream_t stream();
inline bool capturing();

// Reports a bad launch configuration at once; with CTNET_CUDA_SYNC=1 (outside capture) also waits for
// the kernel, so a fault inside it is reported here, against its name, instead of at a later copy.
inline void check_launch(const char* kernel, const CallSite& site = {}) {
  const cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess) fail(e, std::string("launching ") + kernel, site);
  if (sync_mode() && !capturing()) {
    const cudaError_t r = cudaStreamSynchronize(stream());
    if (r != cudaSuccess)
      fail(r, std::string("running ") + kernel + " (CTNET_CUDA_SYNC=1 waits after each launch)", site);
  }
}

// Empty when a CUDA device can be used; otherwise why not, in the runtime's words (with the error's name
// and number). Computed once. Never throws.
inline const std::string& device_problem() noexcept {
  static const std::string problem = []() -> std::string {
    int count = 0;
    const cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess) {
      (void)cudaGetLastError();  // not sticky: clear it so later calls start clean
      return std::string("cudaGetDeviceCount: ") + cudaGetErrorString(e) + " (" + cudaGetErrorName(e) + ", code " +
             std::to_string(int(e)) + ")";
    }
    if (count < 1) return "cudaGetDeviceCount found no device";
    return {};
  }();
  return problem;
}

// True when a CUDA device can be used. Never throws.
inline bool device_available() noexcept { return device_problem().empty(); }

// Loads a kernel's module now (CUDA 13 loads modules lazily, at a kernel's first launch): call it for every
// kernel that runs for the first time inside a stream capture, before the capture begins.
template <class Kernel>
void preload(Kernel* kernel, const char* name) {
  cudaFuncAttributes attributes{};
  check(cudaFuncGetAttributes(&attributes, kernel), (std::string("loading ") + name).c_str(),
        CallSite{"cudaFuncGetAttributes(&attributes, kernel)", __FILE__, __LINE__});
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
inline void synchronize() { CTNET_CUDA_CHECK(cudaStreamSynchronize(stream()), "waiting for the device"); }
inline bool capturing() {
  cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
  CTNET_CUDA_CHECK(cudaStreamIsCapturing(stream(), &status), "asking whether the stream is capturing");
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
inline std::uint64_t& memory_generation_slot() {
  static std::uint64_t g = 0;
  return g;
}
}  // namespace detail

// Changes whenever device memory a captured graph may use moved: a scratch area grew, the ones vector
// grew, or a Buffer was resized. A captured graph is valid only while this is unchanged.
inline std::uint64_t memory_generation() { return detail::memory_generation_slot(); }
inline void note_memory_moved() { ++detail::memory_generation_slot(); }

template <class T>
T* scratch(Slot slot, std::size_t count) {
  detail::ScratchArea& a = detail::scratch_areas()[int(slot)];
  const std::size_t bytes = count * sizeof(T);
  if (bytes > a.bytes) {
    if (capturing())
      throw CaptureError(
          "CUDA: scratch memory would grow while a graph is being captured; run one eager step with "
          "the same batch before capturing", -1);
    CTNET_CUDA_CHECK(cudaStreamSynchronize(stream()), "waiting for kernels before growing scratch memory");
    if (a.ptr) CTNET_CUDA_CHECK(cudaFree(a.ptr), "freeing scratch memory");
    a.ptr = nullptr;
    a.bytes = 0;
    CTNET_CUDA_CHECK(cudaMalloc(&a.ptr, bytes),
                     ("allocating " + std::to_string(bytes) + " bytes of scratch memory").c_str());
    a.bytes = bytes;
    note_memory_moved();
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
      throw CaptureError("CUDA: a ones vector would grow while a graph is being captured; run one eager step first",
                         -1);
    const long grown = n < 4096 ? 4096 : n;
    CTNET_CUDA_CHECK(cudaStreamSynchronize(stream()), "waiting for kernels before growing the ones vector");
    if (ptr) CTNET_CUDA_CHECK(cudaFree(ptr), "freeing the ones vector");
    ptr = nullptr;
    size = 0;
    CTNET_CUDA_CHECK(cudaMalloc(&ptr, std::size_t(grown) * sizeof(T)), "allocating the ones vector");
    fill_kernel<<<grid_for(grown), block_threads, 0, stream()>>>(ptr, grown, T(1));
    CTNET_CUDA_CHECK_LAUNCH("fill_kernel (ones)");
    size = grown;
    note_memory_moved();
  }
  return ptr;
}

// The process-wide cuBLAS handle, bound to stream() with its own workspace (so capture never allocates).
// It is deliberately never destroyed: destroying it after the CUDA context at exit would fail.
inline cublasHandle_t blas() {
  static cublasHandle_t handle = [] {
    cublasHandle_t h = nullptr;
    CTNET_CUDA_CHECK(cublasCreate(&h), "creating the cuBLAS handle");
    return h;
  }();
  static cudaStream_t bound = nullptr;
  static bool bound_once = false;
  if (!bound_once || bound != stream()) {
    constexpr std::size_t workspace_bytes = std::size_t(32) << 20;  // NVIDIA's advice for Hopper
    static void* workspace = [] {
      void* w = nullptr;
      CTNET_CUDA_CHECK(cudaMalloc(&w, workspace_bytes), "allocating the cuBLAS workspace");
      return w;
    }();
    CTNET_CUDA_CHECK(cublasSetStream(handle, stream()), "binding cuBLAS to the stream");
    // cublasSetStream resets the workspace to cuBLAS's pool: set ours again.
    CTNET_CUDA_CHECK(cublasSetWorkspace(handle, workspace, workspace_bytes), "setting cuBLAS's workspace");
    bound = stream();
    bound_once = true;
  }
  return handle;
}

// What Model<Net, Cuda> owns and installs per call: nothing, the backend's state above being process-wide
// (one host thread drives it). Present so that Model is written once for every backend.
struct ExecutionContext {};
struct ExecutionScope {
  explicit ExecutionScope(ExecutionContext&) noexcept {}
  ExecutionScope(ExecutionContext&, const ExecutionCall&) noexcept {}
  ExecutionScope(const ExecutionScope&) = delete;
  ExecutionScope& operator=(const ExecutionScope&) = delete;
};

}  // namespace ctnet::cuda
