// ctnet/export/onnx_graph.hpp — an ONNX graph as plain C++ values, before any protobuf is involved.
//
// Requires: nothing (no protobuf: the header-only core builds without it). Guarantees: OnnxGraph holds
// what an ONNX ModelProto of a ctnet network needs — nodes (operator, inputs, outputs, integer, float and
// integer-list attributes), float and int64 initializers, graph inputs and outputs with their per-sample
// dimensions (the batch dimension is added by the writer as the symbolic "N") — and OnnxBuilder appends to
// it with names that cannot collide: every tensor a layer makes is named after the layer's PyTorch path.
// The writer (ctnet::onnx, src/onnx/onnx_writer.cpp) turns it into protobuf; tests read it directly.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "../core/compiled.hpp"
#include "../core/error.hpp"

namespace ctnet {

// The operator set the exporter targets (ONNX 1.12's newest; ONNX Runtime 1.13 and later run it).
inline constexpr int onnx_opset = 17;
// The IR version of ONNX 1.12 (opset 17).
inline constexpr int onnx_ir_version = 8;

struct OnnxAttribute {
  enum class Kind { integer, real, integers } kind = Kind::integer;
  std::string name;
  std::int64_t i = 0;
  float f = 0;
  std::vector<std::int64_t> ints;
};

struct OnnxNode {
  std::string op;    // "Conv", "BatchNormalization", ...
  std::string name;  // the layer's path and the operator, "3.0.Conv"
  std::vector<std::string> inputs, outputs;
  std::vector<OnnxAttribute> attributes;
};

struct OnnxInitializer {
  std::string name;  // the checkpoint's name: "3.weight", "5.running_mean"
  std::vector<std::int64_t> dims;
  std::vector<float> floats;        // element type FLOAT when int64s is empty
  std::vector<std::int64_t> int64s;  // element type INT64 (shapes for Reshape, index tables)
  bool is_int64 = false;
};

// A graph input or output: [N, dims...], N the dynamic batch dimension.
struct OnnxValue {
  std::string name;
  std::vector<std::int64_t> dims;  // per sample
};

struct OnnxGraph {
  std::string name;
  std::vector<OnnxNode> nodes;
  std::vector<OnnxInitializer> initializers;
  std::vector<OnnxValue> inputs, outputs;
  std::vector<std::pair<std::string, std::string>> metadata;  // model metadata_props

  const OnnxNode* find_node(const std::string& node_name) const {
    for (const OnnxNode& n : nodes)
      if (n.name == node_name) return &n;
    return nullptr;
  }
  const OnnxInitializer* find_initializer(const std::string& tensor) const {
    for (const OnnxInitializer& t : initializers)
      if (t.name == tensor) return &t;
    return nullptr;
  }
};

inline OnnxAttribute onnx_int(std::string name, std::int64_t v) {
  OnnxAttribute a;
  a.kind = OnnxAttribute::Kind::integer;
  a.name = std::move(name);
  a.i = v;
  return a;
}
inline OnnxAttribute onnx_float(std::string name, float v) {
  OnnxAttribute a;
  a.kind = OnnxAttribute::Kind::real;
  a.name = std::move(name);
  a.f = v;
  return a;
}
inline OnnxAttribute onnx_ints(std::string name, std::vector<std::int64_t> v) {
  OnnxAttribute a;
  a.kind = OnnxAttribute::Kind::integers;
  a.name = std::move(name);
  a.ints = std::move(v);
  return a;
}

// One tensor flowing between layers: its name and per-sample dimensions.
struct OnnxTensor {
  std::string name;
  std::vector<std::int64_t> dims;
};

// Appends nodes and initializers; refuses (ctnet::Error) a tensor name used twice, which would make two
// producers of one value.
class OnnxBuilder {
 public:
  explicit OnnxBuilder(OnnxGraph& graph) : graph_(graph) {}

  // A node with one output named "<path>.<op>" (or "<path>.<tag>" when tag is given); returns that name.
  std::string node(const std::string& path, const std::string& op, std::vector<std::string> inputs,
                   std::vector<OnnxAttribute> attributes = {}, const std::string& tag = "");
  void named_node(const std::string& op, const std::string& node_name, std::vector<std::string> inputs,
                  std::vector<std::string> outputs, std::vector<OnnxAttribute> attributes = {});
  std::string floats(const std::string& name, std::vector<std::int64_t> dims, std::vector<float> values);
  std::string int64s(const std::string& name, std::vector<std::int64_t> dims, std::vector<std::int64_t> values);
  void claim(const std::string& name);
  OnnxGraph& graph() { return graph_; }

 private:
  OnnxGraph& graph_;
  std::set<std::string> names_;
};

}  // namespace ctnet

#if CTNET_COLD_BODIES
namespace ctnet {

CTNET_COLD std::string OnnxBuilder::node(const std::string& path, const std::string& op,
                                         std::vector<std::string> inputs, std::vector<OnnxAttribute> attributes,
                                         const std::string& tag) {
  const std::string out = (path.empty() ? "" : path + ".") + (tag.empty() ? op : tag);
  named_node(op, out, std::move(inputs), {out}, std::move(attributes));
  return out;
}

CTNET_COLD void OnnxBuilder::named_node(const std::string& op, const std::string& node_name,
                                        std::vector<std::string> inputs, std::vector<std::string> outputs,
                                        std::vector<OnnxAttribute> attributes) {
  for (const std::string& o : outputs) claim(o);
  graph_.nodes.push_back({op, node_name, std::move(inputs), std::move(outputs), std::move(attributes)});
}

CTNET_COLD std::string OnnxBuilder::floats(const std::string& name, std::vector<std::int64_t> dims,
                                           std::vector<float> values) {
  claim(name);
  OnnxInitializer t;
  t.name = name;
  t.dims = std::move(dims);
  t.floats = std::move(values);
  graph_.initializers.push_back(std::move(t));
  return name;
}

CTNET_COLD std::string OnnxBuilder::int64s(const std::string& name, std::vector<std::int64_t> dims,
                                           std::vector<std::int64_t> values) {
  claim(name);
  OnnxInitializer t;
  t.name = name;
  t.dims = std::move(dims);
  t.int64s = std::move(values);
  t.is_int64 = true;
  graph_.initializers.push_back(std::move(t));
  return name;
}

CTNET_COLD void OnnxBuilder::claim(const std::string& name) {
  if (!names_.insert(name).second) throw Error("export_onnx: tensor name '" + name + "' is used twice");
}

}  // namespace ctnet
#endif  // CTNET_COLD_BODIES
