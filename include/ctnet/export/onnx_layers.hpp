// ctnet/export/onnx_layers.hpp — how each ctnet layer becomes ONNX operators (inference form).
//
// Requires: bound layers (a spec bound to its input shape) and host copies of their parameters and
// buffers as float. Guarantees: onnx_lowering<Spec>::lower<L>(builder, site, inputs) appends the
// operators that compute what L's predict() computes — batch-norm with its running statistics, dropout
// as the identity — and returns the tensors it produced (one, or one per component of a TupleShape).
// Parameters become initializers under the checkpoint's PyTorch names ("3.weight", "4.running_var").
// A layer with no mapping is a compile error naming it (specialise ctnet::onnx_lowering for a custom
// layer). The combinators (Sequential blocks, PerInput, Parallel/Heads, Residual) are in onnx_graphs.hpp.
#pragma once

#include <string>
#include <type_traits>
#include <vector>

#include "../core/compiled.hpp"
#include "../core/finite.hpp"
#include "../core/layer.hpp"
#include "../core/shape.hpp"
#include "../graph/concat.hpp"
#include "../layers/activation.hpp"
#include "../layers/conv.hpp"
#include "../layers/dropout.hpp"
#include "../layers/embedding.hpp"
#include "../layers/linear.hpp"
#include "../layers/norm.hpp"
#include "../layers/pool.hpp"
#include "../layers/reshape.hpp"
#include "onnx_graph.hpp"

namespace ctnet {

// Where a bound layer sits: its PyTorch path ("3", "5.0.1") and its slices of the host arenas.
struct OnnxSite {
  std::string path;
  const float* params = nullptr;
  const float* buffers = nullptr;
};

template <class S>
std::vector<std::int64_t> onnx_dims_of() {
  return std::vector<std::int64_t>(S::dims.begin(), S::dims.end());
}

// The specialisations below define `template <class L> static std::vector<OnnxTensor> lower(...)`.
template <class Spec>
struct onnx_lowering {
  static constexpr bool missing = true;
};

namespace onnx_detail {

// A layer's parameter (or buffer) as an initializer named "<path>.<name>"; a NaN or Inf in it is refused,
// as save_checkpoint refuses it (a diverged model would run on, silently).
CTNET_COLD std::string tensor(OnnxBuilder& b, const OnnxSite& s, const TensorInfo& t, bool parameter);

// One operator on the layer's single input, its output named after the layer ("<path>.<Op>") and shaped
// out_dims. This and the operators below take the layer's constants as arguments, so that their bodies
// are compiled once (core/compiled.hpp) and each layer type adds only the call.
CTNET_COLD std::vector<OnnxTensor> unary_op(OnnxBuilder& b, const OnnxSite& s, const std::vector<OnnxTensor>& in,
                                            std::vector<std::int64_t> out_dims, const std::string& op,
                                            std::vector<OnnxAttribute> attributes = {},
                                            std::vector<std::string> extra_inputs = {});
// Conv with square kernel, stride and padding; `params` the layer's weight and (if count is 2) bias.
CTNET_COLD std::vector<OnnxTensor> conv_op(OnnxBuilder& b, const OnnxSite& s, const std::vector<OnnxTensor>& in,
                                           std::vector<std::int64_t> out_dims, int kernel, int stride, int padding,
                                           const TensorInfo* params, std::size_t count);
// Inference batch-norm: scale and bias (params), running mean and variance (buffers), eps.
CTNET_COLD std::vector<OnnxTensor> batchnorm_op(OnnxBuilder& b, const OnnxSite& s, const std::vector<OnnxTensor>& in,
                                                std::vector<std::int64_t> out_dims, const TensorInfo* params,
                                                const TensorInfo* buffers, float eps);
// y = x W^T + b, W stored OUT x IN as PyTorch stores it; `params` the weight and (if count is 2) bias.
CTNET_COLD std::vector<OnnxTensor> gemm_op(OnnxBuilder& b, const OnnxSite& s, const std::vector<OnnxTensor>& in,
                                           std::vector<std::int64_t> out_dims, const TensorInfo* params,
                                           std::size_t count);
// MaxPool or AveragePool, square kernel and stride, no padding.
CTNET_COLD std::vector<OnnxTensor> pool_op(OnnxBuilder& b, const OnnxSite& s, const std::vector<OnnxTensor>& in,
                                           std::vector<std::int64_t> out_dims, const char* op, int kernel,
                                           int stride);

template <class L>
std::vector<OnnxTensor> unary(OnnxBuilder& b, const OnnxSite& s, const std::vector<OnnxTensor>& in,
                              const std::string& op, std::vector<OnnxAttribute> attributes = {}) {
  return unary_op(b, s, in, onnx_dims_of<typename L::output_shape_t>(), op, std::move(attributes));
}

}  // namespace onnx_detail

template <int O, int K, class... Options>
struct onnx_lowering<Conv2d<O, K, Options...>> {
  template <class L>
  static std::vector<OnnxTensor> lower(OnnxBuilder& b, const OnnxSite& s, const std::vector<OnnxTensor>& in) {
    constexpr auto g = L::geometry;
    return onnx_detail::conv_op(b, s, in, onnx_dims_of<typename L::output_shape_t>(), g.kernel, g.stride, g.padding,
                                L::parameter_tensors.data(), L::parameter_tensors.size());
  }
};

// Inference batch-norm: scale, bias, running mean and variance, eps as the layer's.
struct onnx_batchnorm {
  template <class L>
  static std::vector<OnnxTensor> lower(OnnxBuilder& b, const OnnxSite& s, const std::vector<OnnxTensor>& in) {
    return onnx_detail::batchnorm_op(b, s, in, onnx_dims_of<typename L::output_shape_t>(),
                                     L::parameter_tensors.data(), L::buffer_tensors.data(), float(L::eps));
  }
};
template <>
struct onnx_lowering<BatchNorm2d> : onnx_batchnorm {};
template <>
struct onnx_lowering<BatchNorm1d> : onnx_batchnorm {};

template <int Out, class... Options>
struct onnx_lowering<Linear<Out, Options...>> {
  template <class L>
  static std::vector<OnnxTensor> lower(OnnxBuilder& b, const OnnxSite& s, const std::vector<OnnxTensor>& in) {
    return onnx_detail::gemm_op(b, s, in, onnx_dims_of<typename L::output_shape_t>(), L::parameter_tensors.data(),
                                L::parameter_tensors.size());
  }
};

// Operators that take nothing but their input and fixed attributes.
#define CTNET_ONNX_UNARY(SPEC, OP, ...)                                                                      \
  template <>                                                                                                \
  struct onnx_lowering<SPEC> {                                                                               \
    template <class L>                                                                                       \
    static std::vector<OnnxTensor> lower(OnnxBuilder& b, const OnnxSite& s, const std::vector<OnnxTensor>& in) { \
      return onnx_detail::unary<L>(b, s, in, OP, {__VA_ARGS__});                                             \
    }                                                                                                        \
  };
CTNET_ONNX_UNARY(ReLU, "Relu")
CTNET_ONNX_UNARY(Identity, "Identity")
CTNET_ONNX_UNARY(Flatten, "Flatten", onnx_int("axis", 1))
CTNET_ONNX_UNARY(LogSoftmax, "LogSoftmax", onnx_int("axis", 1))
CTNET_ONNX_UNARY(Softmax, "Softmax", onnx_int("axis", 1))
CTNET_ONNX_UNARY(GlobalAvgPool, "GlobalAveragePool")
#undef CTNET_ONNX_UNARY

// Dropout is the identity at inference, which is what predict() runs.
template <float P>
struct onnx_lowering<Dropout<P>> {
  template <class L>
  static std::vector<OnnxTensor> lower(OnnxBuilder& b, const OnnxSite& s, const std::vector<OnnxTensor>& in) {
    return onnx_detail::unary<L>(b, s, in, "Identity");
  }
};
template <float P>
struct onnx_lowering<Dropout2d<P>> : onnx_lowering<Dropout<P>> {};

template <class Pool>
struct onnx_pool {
  template <class L>
  static std::vector<OnnxTensor> lower(OnnxBuilder& b, const OnnxSite& s, const std::vector<OnnxTensor>& in) {
    using Spec = typename L::spec;
    return onnx_detail::pool_op(b, s, in, onnx_dims_of<typename L::output_shape_t>(), Pool::op, Spec::kernel,
                                Spec::stride);
  }
};
struct onnx_max_pool_op {
  static constexpr const char* op = "MaxPool";
};
struct onnx_average_pool_op {
  static constexpr const char* op = "AveragePool";
};
template <int K, class... Options>
struct onnx_lowering<MaxPool2d<K, Options...>> : onnx_pool<onnx_max_pool_op> {};
template <int K, class... Options>
struct onnx_lowering<AvgPool2d<K, Options...>> : onnx_pool<onnx_average_pool_op> {};

// OneHot<N>: the index (a float) compared with 0..N-1 and the result cast to float, so an index that is
// not an integer in range gives all zeros (predict() throws for it instead).
template <int N>
struct onnx_lowering<OneHot<N>> {
  template <class L>
  static std::vector<OnnxTensor> lower(OnnxBuilder& b, const OnnxSite& s, const std::vector<OnnxTensor>& in) {
    std::vector<float> classes(static_cast<std::size_t>(N));
    for (int i = 0; i < N; ++i) classes[std::size_t(i)] = float(i);
    const std::string range = b.floats(s.path + ".classes", {N}, std::move(classes));
    const std::string equal = b.node(s.path, "Equal", {in.at(0).name, range});  // [N,1] vs [classes]: [N,classes]
    return {{b.node(s.path, "Cast", {equal}, {onnx_int("to", 1 /* FLOAT */)}), {N}}};
  }
};

// Embedding<N, D>: the index cast to int64 picks a row of "weight" (Gather), [N,1,D] flattened to [N,D].
// Negative indices count from the end in ONNX (predict() throws for them).
template <int N, int D>
struct onnx_lowering<Embedding<N, D>> {
  template <class L>
  static std::vector<OnnxTensor> lower(OnnxBuilder& b, const OnnxSite& s, const std::vector<OnnxTensor>& in) {
    const std::string weight = onnx_detail::tensor(b, s, L::parameter_tensors[0], true);
    const std::string index = b.node(s.path, "Cast", {in.at(0).name}, {onnx_int("to", 7 /* INT64 */)});
    const std::string rows = b.node(s.path, "Gather", {weight, index}, {onnx_int("axis", 0)});
    return {{b.node(s.path, "Flatten", {rows}, {onnx_int("axis", 1)}), {D}}};
  }
};

// Concat joins features of flat components or channels of CxHxW ones: axis 1 either way.
template <>
struct onnx_lowering<Concat> {
  template <class L>
  static std::vector<OnnxTensor> lower(OnnxBuilder& b, const OnnxSite& s, const std::vector<OnnxTensor>& in) {
    std::vector<std::string> names;
    for (const OnnxTensor& t : in) names.push_back(t.name);
    return {{b.node(s.path, "Concat", std::move(names), {onnx_int("axis", 1)}),
             onnx_dims_of<typename L::output_shape_t>()}};
  }
};

// Select<I> picks a component: no operator, the tensor itself flows on.
template <int I>
struct onnx_lowering<Select<I>> {
  template <class L>
  static std::vector<OnnxTensor> lower(OnnxBuilder&, const OnnxSite&, const std::vector<OnnxTensor>& in) {
    return {in.at(std::size_t(I))};
  }
};

}  // namespace ctnet

#if CTNET_COLD_BODIES
namespace ctnet::onnx_detail {

CTNET_COLD std::string tensor(OnnxBuilder& b, const OnnxSite& s, const TensorInfo& t, bool parameter) {
  std::vector<std::int64_t> dims(t.dims.begin(), t.dims.begin() + t.rank);
  const float* data = (parameter ? s.params : s.buffers) + t.offset;
  const std::string name = s.path + "." + t.name;
  if (const long i = first_nonfinite(data, std::size_t(t.size)); i >= 0)
    throw Error("export_onnx: tensor '" + name + "' holds " + nonfinite_place(data, i) + " of " +
                std::to_string(t.size) + " (the model has diverged); nothing was written");
  return b.floats(name, std::move(dims), std::vector<float>(data, data + t.size));
}

CTNET_COLD std::vector<OnnxTensor> unary_op(OnnxBuilder& b, const OnnxSite& s, const std::vector<OnnxTensor>& in,
                                            std::vector<std::int64_t> out_dims, const std::string& op,
                                            std::vector<OnnxAttribute> attributes,
                                            std::vector<std::string> extra_inputs) {
  std::vector<std::string> inputs{in.at(0).name};
  inputs.insert(inputs.end(), extra_inputs.begin(), extra_inputs.end());
  return {{b.node(s.path, op, std::move(inputs), std::move(attributes)), std::move(out_dims)}};
}

CTNET_COLD std::vector<OnnxTensor> conv_op(OnnxBuilder& b, const OnnxSite& s, const std::vector<OnnxTensor>& in,
                                           std::vector<std::int64_t> out_dims, int kernel, int stride, int padding,
                                           const TensorInfo* params, std::size_t count) {
  std::vector<std::string> extra;
  for (std::size_t i = 0; i < count; ++i) extra.push_back(tensor(b, s, params[i], true));
  return unary_op(b, s, in, std::move(out_dims), "Conv",
                  {onnx_ints("kernel_shape", {kernel, kernel}), onnx_ints("strides", {stride, stride}),
                   onnx_ints("pads", {padding, padding, padding, padding}), onnx_ints("dilations", {1, 1}),
                   onnx_int("group", 1)},
                  std::move(extra));
}

CTNET_COLD std::vector<OnnxTensor> batchnorm_op(OnnxBuilder& b, const OnnxSite& s, const std::vector<OnnxTensor>& in,
                                                std::vector<std::int64_t> out_dims, const TensorInfo* params,
                                                const TensorInfo* buffers, float eps) {
  std::vector<std::string> extra{tensor(b, s, params[0], true), tensor(b, s, params[1], true),
                                 tensor(b, s, buffers[0], false), tensor(b, s, buffers[1], false)};
  return unary_op(b, s, in, std::move(out_dims), "BatchNormalization", {onnx_float("epsilon", eps)},
                  std::move(extra));
}

CTNET_COLD std::vector<OnnxTensor> gemm_op(OnnxBuilder& b, const OnnxSite& s, const std::vector<OnnxTensor>& in,
                                           std::vector<std::int64_t> out_dims, const TensorInfo* params,
                                           std::size_t count) {
  std::vector<std::string> extra;
  for (std::size_t i = 0; i < count; ++i) extra.push_back(tensor(b, s, params[i], true));
  return unary_op(b, s, in, std::move(out_dims), "Gemm", {onnx_int("transB", 1)}, std::move(extra));
}

CTNET_COLD std::vector<OnnxTensor> pool_op(OnnxBuilder& b, const OnnxSite& s, const std::vector<OnnxTensor>& in,
                                           std::vector<std::int64_t> out_dims, const char* op, int kernel,
                                           int stride) {
  return unary_op(b, s, in, std::move(out_dims), op,
                  {onnx_ints("kernel_shape", {kernel, kernel}), onnx_ints("strides", {stride, stride}),
                   onnx_ints("pads", {0, 0, 0, 0})});
}

}  // namespace ctnet::onnx_detail
#endif  // CTNET_COLD_BODIES
