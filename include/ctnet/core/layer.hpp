// ctnet/core/layer.hpp — what every bound layer provides, and the run-time context it receives.
//
// Requires: C++20. Guarantees: a bound layer (a spec bound to an input shape at a position) exposes
// static constexpr input_shape/output_shape, parameter_count, buffer_count, macs (multiply-adds per
// sample), rf_kernel/rf_stride (its receptive-field contribution), workspace sizes, named tensor tables
// for its parameters and buffers, and static forward/backward/init functions templated on the backend and
// the scalar. Layers hold no state: the Model owns every byte and hands a Context to each call.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "rng.hpp"
#include "shape.hpp"

namespace ctnet {

// One named parameter or buffer inside a layer, PyTorch layout (e.g. conv weight OUTxINxKxK).
struct TensorInfo {
  const char* name;
  long offset;  // within the layer's slice of the arena
  long size;
  int rank;
  std::array<int, 4> dims;
};

// A well-mixed salt for the children of a composite (splitmix64's finaliser), never 0.
inline std::uint64_t child_salt(std::uint64_t parent, int position, std::size_t index) {
  std::uint64_t z = parent + 0x9E3779B97F4A7C15ull * (static_cast<std::uint64_t>(position + 1) << 20 | (index + 1));
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return z ? z : 1;
}

// Views into the Model's arenas for one layer, plus what a layer needs to know about the step.
template <class T>
struct Context {
  const T* params = nullptr;  // this layer's parameters
  T* grads = nullptr;         // this layer's gradients (accumulated into)
  T* buffers = nullptr;       // running statistics and other non-trainable state
  T* work = nullptr;          // this layer's workspace for the current batch
  bool training = false;
  // Inference: forward only, no backward will follow, so layers keep nothing for it and the workspace
  // holds only two activation buffers and each layer's fixed part (see BoundSequential).
  bool inference = false;
  std::uint64_t seed = 0;
  std::uint64_t step = 0;  // training-step counter: dropout masks are a function of (seed, step, layer)
  // Distinguishes layers nested in different branches that share a position within their block
  // (0 at the top level); dropout keys its masks with seed ^ salt.
  std::uint64_t salt = 0;
  // The row of the global batch this batch starts at: 0 in one process; under data parallelism a rank's
  // share starts further in. Dropout numbers its units by global row, so N ranks draw the masks of the
  // global batch that one process would.
  std::uint64_t first_row = 0;

  // The context of child `index` of the composite layer at `position`.
  Context child(long param_offset, long buffer_offset, long work_offset, int position, std::size_t index) const {
    Context c = shifted(param_offset, buffer_offset, work_offset);
    c.salt = child_salt(salt, position, index);
    return c;
  }

  Context shifted(long param_offset, long buffer_offset, long work_offset) const {
    Context c = *this;
    c.params = params ? params + param_offset : nullptr;
    c.grads = grads ? grads + param_offset : nullptr;
    c.buffers = buffers ? buffers + buffer_offset : nullptr;
    c.work = work ? work + work_offset : nullptr;
    return c;
  }
};

// What a graph may fuse or skip: in inference a convolution can absorb the batch-norm and ReLU after it,
// and dropout and eval_identity layers (Identity, Flatten, channel dropout) pass their input through
// unchanged; in training a batch-norm, ReLU and element dropout run as one chain (graph/fusion_plan.hpp).
enum class LayerKind { other, conv2d, batchnorm, relu, dropout, eval_identity };

// A conv2d epilogue for inference, applied to each output of channel c as it is computed:
// y = gamma * ((y - mean) * inv_std) + beta when mean is set (batch-norm with running statistics), then
// max(y, 0) when relu is set. The same arithmetic as the BatchNorm2d and ReLU layers, in the same order.
template <class T>
struct ConvEpilogue {
  const T* mean = nullptr;
  const T* inv_std = nullptr;
  const T* gamma = nullptr;
  const T* beta = nullptr;
  bool relu = false;
  bool active() const { return mean != nullptr || relu; }
  T apply(int c, T v) const {
    if (mean) {
      const T h = (v - mean[c]) * inv_std[c];
      v = gamma[c] * h + beta[c];
    }
    if (relu) v = v > T(0) ? v : T(0);
    return v;
  }
};

// Defaults for a bound layer; a layer overrides what differs. In and Out are Shapes, Position is the
// layer's index in its network (flat, as PyTorch's nn.Sequential numbers modules).
template <class In, class Out, int Position>
struct BoundLayerBase {
  using input_shape_t = In;
  using output_shape_t = Out;
  static constexpr In input_shape{};
  static constexpr Out output_shape{};
  static constexpr int position = Position;
  static constexpr LayerKind kind = LayerKind::other;
  static constexpr long parameter_count = 0;
  static constexpr long buffer_count = 0;
  static constexpr long macs = 0;
  static constexpr int rf_kernel = 1;
  static constexpr int rf_stride = 1;
  static constexpr long workspace_per_sample = 0;
  static constexpr long workspace_fixed = 0;
  // Inference (forward only) needs per sample only this much; the fixed part is the same.
  static constexpr long inference_per_sample = 0;
  // Only combinators take a TupleShape input.
  static constexpr bool accepts_tuple = false;
  static constexpr std::array<TensorInfo, 0> parameter_tensors{};
  static constexpr std::array<TensorInfo, 0> buffer_tensors{};

  template <class T>
  static void init(T* /*params*/, T* /*buffers*/, Generator& /*gen*/) {}
};

// Options of layer specs, PyTorch's keyword arguments as types: Conv2d<16, 3, Padding<1>, NoBias>.
template <int S>
struct Stride {
  static constexpr int stride_value = S;
};
template <int P>
struct Padding {
  static constexpr int padding_value = P;
};
struct NoBias {
  static constexpr bool bias_value = false;
};

namespace detail {
template <class O>
concept has_stride = requires { O::stride_value; };
template <class O>
concept has_padding = requires { O::padding_value; };
template <class O>
concept has_bias = requires { O::bias_value; };
template <class O>
concept known_option = has_stride<O> || has_padding<O> || has_bias<O>;

template <class O>
constexpr int stride_value_or(int fallback) {
  if constexpr (has_stride<O>) return O::stride_value;
  return fallback;
}
template <class O>
constexpr int padding_value_or(int fallback) {
  if constexpr (has_padding<O>) return O::padding_value;
  return fallback;
}
// The last option of a kind wins, as a repeated keyword argument would.
template <int Default, class... O>
constexpr int stride_option() {
  int s = Default;
  ((s = stride_value_or<O>(s)), ...);
  return s;
}
template <class... O>
constexpr int padding_option() {
  int p = 0;
  ((p = padding_value_or<O>(p)), ...);
  return p;
}
template <class... O>
constexpr bool bias_option() {
  return !(has_bias<O> || ...);
}
}  // namespace detail

}  // namespace ctnet
