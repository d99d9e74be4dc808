// ctnet/backend/cpu/cpu.hpp — the Cpu backend policy: Eigen + OpenMP.
//
// Requires: Eigen 3.4; OpenMP for threads. Guarantees: Cpu provides the whole op set layers call (conv,
// pool, norm and the fused BatchNorm -> ReLU [-> Dropout] chain, elementwise, linear, softmax families) as
// static member templates and its memory type (Buffer), so a layer is written once against
// `B::op<...>(...)` and another backend only has to supply the same names.
//
// What may be shared between host threads: a network type is stateless (layers hold no state) and may be
// used by any number of threads; each Model owns all mutable state, including its ExecutionContext (the
// kernels' scratch memory and work-sharing blocks, threads.hpp), so two Models may run at the same time
// on two threads, and give the bits each gives alone; one Model must not be used by two threads at once
// (nor may its arenas be read while another thread runs it). set_threads sets the OpenMP thread count of
// the calling host thread only: call it on each thread that runs models. Ops called directly, outside a
// Model, use scratch private to the calling thread.
#pragma once

#include "bn_relu_dropout.hpp"
#include "buffer.hpp"
#include "conv.hpp"
#include "elementwise.hpp"
#include "graph_ops.hpp"
#include "linear.hpp"
#include "norm.hpp"
#include "pool.hpp"
#include "softmax.hpp"
#include "threads.hpp"

namespace ctnet {

struct Cpu : cpu::ConvOps,
             cpu::ElementwiseOps,
             cpu::GraphOps,
             cpu::PoolOps,
             cpu::NormOps,
             cpu::BnReluDropoutOps,
             cpu::LinearOps,
             cpu::SoftmaxOps {
  static constexpr const char* name = "cpu";
  static constexpr bool host_accessible = true;  // Buffer memory can be read and written by host code
  template <class T>
  using Buffer = cpu::Buffer<T>;
  using ExecutionContext = cpu::ExecutionContext;  // owned by each Model, installed for each of its calls
  using ExecutionScope = cpu::ExecutionScope;
  static void set_threads(int n) { cpu::set_num_threads(n); }
  static int threads() { return cpu::max_threads(); }
};

}  // namespace ctnet
