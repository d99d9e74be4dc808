// The ONNX graph builder (export/onnx.hpp's onnx_graph_of), without protobuf: operators, attributes,
// initializer names and values, graph inputs and outputs, and the errors for bad names.
#include <doctest/doctest.h>

#include <algorithm>
#include <limits>
#include <string>
#include <vector>

#include <ctnet/ctnet.hpp>
#include <ctnet/export/onnx.hpp>

#include "../../examples/mnist_models.hpp"
#include "onnx/onnx_zoo.hpp"

using namespace ctnet;

namespace {

template <class Net>
OnnxGraph graph_of(const OnnxExportOptions& options = {}) {
  Model<Net> model(3, 1);
  return onnx_graph_of_model(model, options);
}

std::vector<std::string> ops(const OnnxGraph& g) {
  std::vector<std::string> out;
  for (const OnnxNode& n : g.nodes) out.push_back(n.op);
  return out;
}

const OnnxAttribute& attribute(const OnnxNode& n, const std::string& name) {
  for (const OnnxAttribute& a : n.attributes)
    if (a.name == name) return a;
  FAIL("node " << n.name << " has no attribute " << name);
  throw 0;
}

}  // namespace

TEST_CASE("step 3: one operator per layer, initializers under the checkpoint's names and values") {
  Model<mnist::Step3Gap> model(3, 1);
  const OnnxGraph g = onnx_graph_of_model(model);
  const std::vector<std::string> want = {
      "Conv", "BatchNormalization", "Relu", "Identity", "Conv", "BatchNormalization", "Relu", "Identity",
      "Conv", "MaxPool", "Conv", "BatchNormalization", "Relu", "Identity", "Conv", "BatchNormalization", "Relu",
      "Identity", "Conv", "BatchNormalization", "Relu", "Identity", "GlobalAveragePool", "Conv", "Flatten",
      "LogSoftmax", "Identity"};
  CHECK(ops(g) == want);
  REQUIRE(g.inputs.size() == 1);
  CHECK(g.inputs[0].name == "input");
  CHECK(g.inputs[0].dims == std::vector<std::int64_t>{1, 28, 28});
  REQUIRE(g.outputs.size() == 1);
  CHECK(g.outputs[0].name == "output");
  CHECK(g.outputs[0].dims == std::vector<std::int64_t>{10});
  // Every parameter and buffer, under its checkpoint name, with its values; nothing else but none extra.
  const std::vector<float> params = model.read_parameters(), buffers = model.read_buffers();
  std::size_t count = 0;
  for (const auto& [named, arena] : {std::pair{Model<mnist::Step3Gap>::named_parameters(), &params},
                                     std::pair{Model<mnist::Step3Gap>::named_buffers(), &buffers}})
    for (const NamedTensor& t : named) {
      const OnnxInitializer* i = g.find_initializer(t.name);
      REQUIRE_MESSAGE(i != nullptr, t.name);
      CHECK(std::equal(i->dims.begin(), i->dims.end(), t.shape.begin(), t.shape.end()));
      CHECK(std::equal(i->floats.begin(), i->floats.end(), arena->begin() + t.offset, arena->begin() + t.offset + t.size));
      ++count;
    }
  CHECK(g.initializers.size() == count);
  // The first conv: 3x3, stride 1, no padding, no bias (two inputs); the batch-norm reads "1.*" in order.
  const OnnxNode& conv = g.nodes[0];
  CHECK(conv.inputs == std::vector<std::string>{"input", "0.weight"});
  CHECK(attribute(conv, "kernel_shape").ints == std::vector<std::int64_t>{3, 3});
  CHECK(attribute(conv, "pads").ints == std::vector<std::int64_t>{0, 0, 0, 0});
  CHECK(g.nodes[1].inputs ==
        std::vector<std::string>{"0.Conv", "1.weight", "1.bias", "1.running_mean", "1.running_var"});
  CHECK(attribute(g.nodes[1], "epsilon").f == doctest::Approx(1e-5));
  CHECK(g.nodes.back().outputs == std::vector<std::string>{"output"});
}

TEST_CASE("session 3: padding, Linear as Gemm with transB and bias") {
  const OnnxGraph g = graph_of<mnist::Session3>();
  const OnnxNode* padded = g.find_node("15.Conv");
  REQUIRE(padded != nullptr);
  CHECK(attribute(*padded, "pads").ints == std::vector<std::int64_t>{1, 1, 1, 1});
  const OnnxNode* gemm = g.find_node("20.Gemm");
  REQUIRE(gemm != nullptr);
  CHECK(gemm->inputs == std::vector<std::string>{"19.Flatten", "20.weight", "20.bias"});
  CHECK(attribute(*gemm, "transB").i == 1);
}

TEST_CASE("the adder: two inputs, two heads, OneHot as Equal and Cast, Select passes its component on") {
  const OnnxGraph g = graph_of<mnist::Adder>();
  REQUIRE(g.inputs.size() == 2);
  CHECK(g.inputs[0].name == "input_0");
  CHECK(g.inputs[1].name == "input_1");
  CHECK(g.inputs[1].dims == std::vector<std::int64_t>{1});
  REQUIRE(g.outputs.size() == 2);
  CHECK(g.outputs[0].name == "output_0");
  CHECK(g.outputs[1].dims == std::vector<std::int64_t>{19});
  const OnnxNode* equal = g.find_node("0.1.Equal");
  REQUIRE(equal != nullptr);
  CHECK(equal->inputs == std::vector<std::string>{"input_1", "0.1.classes"});
  CHECK(g.find_initializer("0.1.classes")->floats == std::vector<float>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
  // The digit head: Select<0> makes no node, LogSoftmax reads the tower's Flatten directly.
  const OnnxNode* digit = g.find_node("1.0.1.LogSoftmax");
  REQUIRE(digit != nullptr);
  CHECK(digit->inputs == std::vector<std::string>{"0.0.24.Flatten"});
  CHECK(g.find_node("1.1.2.Gemm")->inputs.at(1) == "1.1.2.weight");

  const OnnxGraph named = graph_of<mnist::Adder>({.input_names = {"image", "number"}, .output_names = {"digit", "sum"}});
  CHECK(named.inputs[0].name == "image");
  CHECK(named.outputs[1].name == "sum");
  CHECK(named.find_node("0.0.0.Conv")->inputs.at(0) == "image");
}

TEST_CASE("the zoo: stride, bias, residual Add, parallel pools, Concat, Embedding, three heads") {
  const OnnxGraph g = graph_of<onnx_test::Zoo>();
  const OnnxNode* conv = g.find_node("0.0.0.Conv");
  REQUIRE(conv != nullptr);
  CHECK(conv->inputs == std::vector<std::string>{"input_0", "0.0.0.weight", "0.0.0.bias"});
  CHECK(attribute(*conv, "strides").ints == std::vector<std::int64_t>{2, 2});
  const OnnxNode* add = g.find_node("0.0.4.Add");
  REQUIRE(add != nullptr);
  CHECK(add->inputs == std::vector<std::string>{"0.0.3.Identity", "0.0.4.0.2.Relu"});
  CHECK(attribute(*g.find_node("0.0.5.1.AveragePool"), "kernel_shape").ints == std::vector<std::int64_t>{3, 3});
  CHECK(g.find_node("0.0.6.Concat")->inputs == std::vector<std::string>{"0.0.5.0.MaxPool", "0.0.5.1.AveragePool"});
  CHECK(g.find_node("0.0.9.Gemm")->inputs.size() == 2);  // NoBias
  CHECK(g.find_node("0.1.Gather")->inputs == std::vector<std::string>{"0.1.weight", "0.1.Cast"});
  CHECK(g.find_initializer("0.1.weight")->dims == std::vector<std::int64_t>{10, 4});
  CHECK(g.find_node("1.Concat")->inputs == std::vector<std::string>{"0.0.11.Relu", "0.1.Flatten"});
  REQUIRE(g.outputs.size() == 3);
  CHECK(g.outputs[2].dims == std::vector<std::int64_t>{20});
  CHECK(g.find_node("output.output_2")->inputs == std::vector<std::string>{"2.2.Identity"});
}

TEST_CASE("bad names and arenas are one ctnet: error each") {
  CHECK_THROWS_WITH(graph_of<mnist::Adder>({.input_names = {"image"}}),
                    "ctnet: export_onnx: 1 input names given, the network has 2");
  CHECK_THROWS_WITH(graph_of<mnist::Step3Gap>({.output_names = {""}}), "ctnet: export_onnx: an empty output name");
  CHECK_THROWS_WITH(graph_of<mnist::Step3Gap>({.input_names = {"x"}, .output_names = {"x"}}),
                    "ctnet: export_onnx: tensor name 'x' is used twice");
  CHECK_THROWS_WITH(graph_of<mnist::Step3Gap>({.output_names = {"0.weight"}}),
                    "ctnet: export_onnx: tensor name '0.weight' is used twice");
  CHECK_THROWS_WITH(onnx_graph_of<mnist::Step3Gap>(std::vector<float>(5), std::vector<float>(5)),
                    "ctnet: export_onnx: 5 parameters and 5 buffers given, the network has 7736 and 144");
  Model<mnist::Step3Gap> model(3, 1);
  std::vector<float> params = model.read_parameters();
  params[Model<mnist::Step3Gap>::named_parameters()[1].offset + 2] = std::numeric_limits<float>::quiet_NaN();
  CHECK_THROWS_WITH(onnx_graph_of<mnist::Step3Gap>(params, model.read_buffers()),
                    doctest::Contains("ctnet: export_onnx: tensor '1.weight' holds NaN at element 2"));
}
