// ctnet/export/onnx.hpp — export_onnx(model, path): a ctnet network as an ONNX model (opset 17).
//
// Requires: for onnx_graph_of, nothing beyond the header-only core; for export_onnx and onnx_model_bytes,
// linking ctnet::onnx (built when CMake finds libonnx-dev's onnx_proto and protobuf). Guarantees: the
// model computes what Model::predict computes — the same outputs (log-probabilities where the network
// ends in LogSoftmax), batch-norm with its running statistics, dropout off — for every layer and
// combinator ctnet has: several inputs (Inputs<...>: one graph input each), PerInput, Parallel/Heads
// (one graph output per head), Concat, Select, Residual. Every input and output is [N, per-sample dims]
// with N a symbolic (dynamic) batch dimension; tensors are NCHW as in ctnet, so Flatten keeps its order.
// Parameters and running statistics are initializers under the checkpoint's names ("3.weight").
// Values are written as float32; a NaN or Inf in any of them is refused. Bad names or an unwritable path
// throw ctnet::Error (one line, naming the path); the file is replaced atomically, never left half-written.
#pragma once

#include <string>
#include <vector>

#include "../train/checkpoint.hpp"
#include "../graph/branches.hpp"
#include "../graph/residual.hpp"
#include "../graph/sequential.hpp"
#include "../version.hpp"
#include "onnx_graph.hpp"
#include "onnx_layers.hpp"

namespace ctnet {

struct OnnxExportOptions {
  // Graph input and output names, one per network input (Inputs<...> component) and output head; empty:
  // "input" and "output", or "input_0", "input_1", ... and "output_0", ... for several.
  std::vector<std::string> input_names = {};
  std::vector<std::string> output_names = {};
  std::string graph_name = "ctnet";
};

template <class L>
std::vector<OnnxTensor> lower_onnx(OnnxBuilder& b, const OnnxSite& site, const std::vector<OnnxTensor>& in);

namespace onnx_detail {

template <class In, int P, class Specs>
std::true_type is_sequential_test(const BoundSequential<In, P, Specs>*);
std::false_type is_sequential_test(...);
template <class L>
inline constexpr bool is_sequential = decltype(is_sequential_test(static_cast<L*>(nullptr)))::value;

template <class S>
struct components {
  static std::vector<std::vector<std::int64_t>> dims() { return {onnx_dims_of<S>()}; }
};
template <class... S>
struct components<TupleShape<S...>> {
  static_assert(((!is_tuple_shape_v<S>) && ...), "ctnet: export_onnx: nested TupleShapes are not exported");
  static std::vector<std::vector<std::int64_t>> dims() { return {onnx_dims_of<S>()...}; }
};

// The site of child I of composite L at `site`.
template <class L>
OnnxSite child_site(const OnnxSite& site, std::size_t i) {
  return {site.path.empty() ? L::child_name(i) : site.path + "." + L::child_name(i),
          site.params + L::child_parameter_offset(i), site.buffers + L::child_buffer_offset(i)};
}

template <class L>
std::vector<OnnxTensor> lower_sequential(OnnxBuilder& b, const OnnxSite& site, const std::vector<OnnxTensor>& in) {
  std::vector<OnnxTensor> value = in;
  L::for_each_child([&]<std::size_t I, class C>() { value = lower_onnx<C>(b, child_site<L>(site, I), value); });
  return value;
}

// PerInput (Shared = false): branch I reads component I. Parallel: every branch reads the whole input.
template <bool Shared>
struct onnx_branches {
  template <class L>
  static std::vector<OnnxTensor> lower(OnnxBuilder& b, const OnnxSite& site, const std::vector<OnnxTensor>& in) {
    std::vector<OnnxTensor> out;
    L::for_each_child([&]<std::size_t I, class C>() {
      const std::vector<OnnxTensor> branch_in = Shared ? in : std::vector<OnnxTensor>{in.at(I)};
      const std::vector<OnnxTensor> y = lower_onnx<C>(b, child_site<L>(site, I), branch_in);
      if (y.size() != 1) throw Error("export_onnx: branch " + site.path + "." + L::child_name(I) +
                                     " has several outputs; nested TupleShapes are not exported");
      out.push_back(y[0]);
    });
    return out;
  }
};

}  // namespace onnx_detail

template <class... B>
struct onnx_lowering<PerInput<B...>> : onnx_detail::onnx_branches<false> {};
template <class... B>
struct onnx_lowering<Parallel<B...>> : onnx_detail::onnx_branches<true> {};

// Residual: Add(x, block(x)), per component when the input is a tuple.
template <class Block>
struct onnx_lowering<Residual<Block>> {
  template <class L>
  static std::vector<OnnxTensor> lower(OnnxBuilder& b, const OnnxSite& site, const std::vector<OnnxTensor>& in) {
    const std::vector<OnnxTensor> y = lower_onnx<typename L::block>(b, onnx_detail::child_site<L>(site, 0), in);
    std::vector<OnnxTensor> out;
    for (std::size_t i = 0; i < in.size(); ++i)
      out.push_back({b.node(site.path, "Add", {in[i].name, y.at(i).name}, {},
                            in.size() == 1 ? "Add" : "Add" + std::to_string(i)),
                     in[i].dims});
    return out;
  }
};

namespace onnx_detail {
template <class L>
constexpr bool has_lowering() {
  if constexpr (requires { typename L::spec; }) return !requires { onnx_lowering<typename L::spec>::missing; };
  return false;
}
// Instantiated with the bound layer, so the compiler names the layer on the line before the message.
template <class BoundLayer, bool Mapped>
struct onnx_mapping_exists {
  static_assert(Mapped, "ctnet: export_onnx: this layer has no ONNX mapping (give its bind `using spec = ...;` "
                        "and specialise ctnet::onnx_lowering<Spec>)");
  static constexpr bool value = Mapped;
};
}  // namespace onnx_detail

template <class L>
std::vector<OnnxTensor> lower_onnx(OnnxBuilder& b, const OnnxSite& site, const std::vector<OnnxTensor>& in) {
  if constexpr (onnx_detail::is_sequential<L>) {
    return onnx_detail::lower_sequential<L>(b, site, in);
  } else if constexpr (onnx_detail::onnx_mapping_exists<L, onnx_detail::has_lowering<L>()>::value) {
    return onnx_lowering<typename L::spec>::template lower<L>(b, site, in);
  } else {
    return in;  // not reached: the static_assert above has failed
  }
}

namespace onnx_detail {

inline std::vector<std::string> value_names(const std::vector<std::string>& given, std::size_t count,
                                            const std::string& stem, const char* what) {
  if (given.empty()) {
    if (count == 1) return {stem};
    std::vector<std::string> names;
    for (std::size_t i = 0; i < count; ++i) names.push_back(stem + "_" + std::to_string(i));
    return names;
  }
  if (given.size() != count)
    throw Error("export_onnx: " + std::to_string(given.size()) + " " + what + " names given, the network has " +
                std::to_string(count));
  for (const std::string& n : given)
    if (n.empty()) throw Error(std::string("export_onnx: an empty ") + what + " name");
  return given;
}

}  // namespace onnx_detail

// The ONNX graph of network Net with these parameters and buffers (host copies, Net's arena layout).
template <class Net>
[[gnu::cold]] OnnxGraph onnx_graph_of(const std::vector<float>& params, const std::vector<float>& buffers,
                                      const OnnxExportOptions& options = {}) {
  if (params.size() != std::size_t(Net::parameter_count) || buffers.size() != std::size_t(Net::buffer_count))
    throw Error("export_onnx: " + std::to_string(params.size()) + " parameters and " + std::to_string(buffers.size()) +
                " buffers given, the network has " + std::to_string(Net::parameter_count) + " and " +
                std::to_string(Net::buffer_count));
  OnnxGraph g;
  g.name = options.graph_name;
  OnnxBuilder b(g);
  const auto in_dims = onnx_detail::components<typename Net::input_shape_t>::dims();
  const auto out_dims = onnx_detail::components<typename Net::output_shape_t>::dims();
  const auto in_names = onnx_detail::value_names(options.input_names, in_dims.size(), "input", "input");
  const auto out_names = onnx_detail::value_names(options.output_names, out_dims.size(), "output", "output");
  std::vector<OnnxTensor> value;
  for (std::size_t i = 0; i < in_dims.size(); ++i) {
    b.claim(in_names[i]);
    g.inputs.push_back({in_names[i], in_dims[i]});
    value.push_back({in_names[i], in_dims[i]});
  }
  value = lower_onnx<Net>(b, OnnxSite{"", params.data(), buffers.data()}, value);
  // Each output gets its own name through an Identity (the runtime removes it): an output may be a graph
  // input passed through, or the same tensor twice.
  for (std::size_t i = 0; i < out_dims.size(); ++i) {
    b.named_node("Identity", "output." + out_names[i], {value.at(i).name}, {out_names[i]});
    g.outputs.push_back({out_names[i], out_dims[i]});
  }
  const std::string arch = architecture_text<Net>();
  g.metadata = {{"ctnet_architecture", arch}, {"ctnet_fingerprint", fingerprint_of(arch)}};
  return g;
}

// Implemented by ctnet::onnx (src/onnx/onnx_writer.cpp): the ModelProto's bytes, and the file.
std::string onnx_model_bytes(const OnnxGraph& graph);
void write_onnx(const OnnxGraph& graph, const std::string& path);

namespace onnx_detail {
template <class T>
std::vector<float> as_floats(const std::vector<T>& v) {
  return std::vector<float>(v.begin(), v.end());
}
}  // namespace onnx_detail

template <class M>
[[gnu::cold]] OnnxGraph onnx_graph_of_model(const M& model, const OnnxExportOptions& options = {}) {
  return onnx_graph_of<typename M::network>(onnx_detail::as_floats(model.read_parameters()),
                                            onnx_detail::as_floats(model.read_buffers()), options);
}

// Writes `model` (its current parameters and running statistics) to `path` as an ONNX model.
template <class M>
[[gnu::cold]] void export_onnx(const M& model, const std::string& path, const OnnxExportOptions& options = {}) {
  write_onnx(onnx_graph_of_model(model, options), path);
}

}  // namespace ctnet
