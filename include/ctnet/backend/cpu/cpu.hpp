// ctnet/backend/cpu/cpu.hpp — the Cpu backend policy: Eigen + OpenMP.
//
// Requires: Eigen 3.4; OpenMP for threads. Guarantees: Cpu provides the whole op set layers call
// (conv, pool, norm, elementwise, linear, softmax families) as static member templates and its memory
// type (Buffer), so a layer is
// written once against `B::op<...>(...)` and another backend only has to supply the same names.
#pragma once

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

struct Cpu : cpu::ConvOps, cpu::ElementwiseOps, cpu::GraphOps, cpu::PoolOps, cpu::NormOps, cpu::LinearOps, cpu::SoftmaxOps {
  static constexpr const char* name = "cpu";
  static constexpr bool host_accessible = true;  // Buffer memory can be read and written by host code
  template <class T>
  using Buffer = cpu::Buffer<T>;
  static void set_threads(int n) { cpu::set_num_threads(n); }
  static int threads() { return cpu::max_threads(); }
};

}  // namespace ctnet
