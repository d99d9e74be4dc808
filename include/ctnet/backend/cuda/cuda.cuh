// ctnet/backend/cuda/cuda.cuh — the Cuda backend policy: device memory, cuBLAS and CUDA kernels.
//
// Requires: nvcc with -std=c++20, the CUDA runtime and cuBLAS (CMake target ctnet::cuda); no Eigen.
// Guarantees: Cuda offers the op set the Cpu backend offers, same names and template signatures, so
// Model<Net, Cuda> runs any network written against `B::op<...>(...)`; Buffer memory is device memory
// (host_accessible = false: read it through Model::read_*). All work is ordered on cuda::stream();
// per-element arithmetic is the shared CTNET_HD bodies of backend/common, checked on the CPU by tests.
// What may be shared between host threads: a network type is stateless; the stream, scratch memory and
// cuBLAS handle are process-wide (runtime.cuh), so the CUDA backend is driven from one host thread.
#pragma once

#include "buffer.cuh"
#include "conv.cuh"
#include "elementwise.cuh"
#include "graph_ops.cuh"
#include "linear.cuh"
#include "norm.cuh"
#include "pool.cuh"
#include "runtime.cuh"
#include "softmax.cuh"

namespace ctnet {

struct Cuda : cuda::ConvOps,
              cuda::ElementwiseOps,
              cuda::GraphOps,
              cuda::PoolOps,
              cuda::NormOps,
              cuda::LinearOps,
              cuda::SoftmaxOps {
  static constexpr const char* name = "cuda";
  static constexpr bool host_accessible = false;  // Buffer memory is device memory
  using ExecutionContext = cuda::ExecutionContext;  // empty: the runtime state is process-wide
  using ExecutionScope = cuda::ExecutionScope;
  template <class T>
  using Buffer = cuda::Buffer<T>;
  static bool available() noexcept { return cuda::device_available(); }
  static void synchronize() { cuda::synchronize(); }
};

}  // namespace ctnet
