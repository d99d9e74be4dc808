// ctnet/graph/fusion_plan.hpp — which layers of a chain run fused, decided at compile time.
//
// Requires: the chain's LayerKind list (core/layer.hpp). Guarantees: make_inference_plan says how a chain
// runs forward only (a Conv2d absorbs the BatchNorm and ReLU after it, dropout-like layers pass their
// buffer on, two work buffers alternate), make_training_chains where a BatchNorm, ReLU [, Dropout] run is
// one fused chain; both are constexpr data that BoundSequential (bound_sequential.hpp) follows, and both fuse
// nothing when the backend offers no fused op.
#pragma once

#include <array>
#include <cstddef>

#include "../core/layer.hpp"

namespace ctnet::detail {

// How a chain runs forward only (inference): which layers run, which are folded into the convolution
// before them (batch-norm with running statistics, ReLU), which pass their input through (dropout and
// the like outside training), and which of the two alternating work buffers each running layer reads
// and writes (-1: the chain's input x, or its output y for the last running layer).
enum class InferenceRole : unsigned char { run, absorbed, pass_through };

template <std::size_t N>
struct InferencePlan {
  std::array<InferenceRole, N> role{};
  std::array<bool, N> fuse_bn{}, fuse_relu{};
  std::array<int, N> input{}, output{};
  bool copy_input_to_output = false;  // no layer ran: every one passed its input through
};

template <std::size_t N>
constexpr InferencePlan<N> make_inference_plan(const std::array<LayerKind, N>& kinds, bool fuse_conv_epilogue) {
  InferencePlan<N> p{};
  for (std::size_t i = 0; i < N; ++i) {
    if (p.role[i] == InferenceRole::absorbed) continue;
    if (kinds[i] == LayerKind::eval_identity || kinds[i] == LayerKind::dropout) {
      p.role[i] = InferenceRole::pass_through;
      continue;
    }
    p.role[i] = InferenceRole::run;
    if (fuse_conv_epilogue && kinds[i] == LayerKind::conv2d) {
      std::size_t j = i + 1;
      if (j < N && kinds[j] == LayerKind::batchnorm) {
        p.fuse_bn[i] = true;
        p.role[j++] = InferenceRole::absorbed;
      }
      if (j < N && kinds[j] == LayerKind::relu) {
        p.fuse_relu[i] = true;
        p.role[j] = InferenceRole::absorbed;
      }
    }
  }
  int current = -1;
  std::size_t last = N;
  for (std::size_t i = 0; i < N; ++i) {
    if (p.role[i] != InferenceRole::run) continue;
    p.input[i] = current;
    current = current == 0 ? 1 : 0;
    p.output[i] = current;
    last = i;
  }
  if (last == N)
    p.copy_input_to_output = true;
  else
    p.output[last] = -1;
  return p;
}

// Training chains: BatchNorm, ReLU and optionally an element Dropout in a row run as one fused op on
// backends that offer it; length[i] is the chain's length at its first layer (0 elsewhere) and start[j]
// the first layer of the chain that ends at j (-1 elsewhere).
template <std::size_t N>
struct TrainingChains {
  std::array<int, N> length{}, start{};
};

template <std::size_t N>
constexpr TrainingChains<N> make_training_chains(const std::array<LayerKind, N>& kinds, bool fuse) {
  TrainingChains<N> t{};
  for (std::size_t i = 0; i < N; ++i) t.start[i] = -1;
  if (!fuse) return t;
  for (std::size_t i = 0; i + 1 < N; ++i) {
    if (kinds[i] != LayerKind::batchnorm || kinds[i + 1] != LayerKind::relu) continue;
    const int length = i + 2 < N && kinds[i + 2] == LayerKind::dropout ? 3 : 2;
    t.length[i] = length;
    t.start[i + std::size_t(length) - 1] = int(i);
    i += std::size_t(length) - 1;
  }
  return t;
}

}  // namespace ctnet::detail
