// onnx_reference: exports every example network (and the zoo of tests/onnx/onnx_zoo.hpp) to ONNX and
// writes ctnet's predict() outputs on the first COUNT MNIST test images beside it, for the ONNX checks.
//
//   onnx_reference OUT_DIR [COUNT]
//
// OUT_DIR/manifest.json lists, per network, its .onnx file and its input and output files (raw float32,
// one file per input or output, [COUNT x per-sample dims] in row-major order). The single-input
// classifiers are trained briefly (60 SGD steps of 64 images) so that argmax agreement means something;
// the others keep their seeded initialisation with random batch-norm statistics and affine parameters.
// Each written file is read back with protobuf: opset, the dynamic batch dimension and every initializer
// (named and valued as the checkpoint's tensors) are checked here; the ONNX checker and ONNX Runtime do
// the rest (check_models.py, ort_check.mjs). Uses data/mnist ($CTNET_DATA) or, when it is absent,
// generated digits, and says which. Exit 0 on success, 1 with one "error: " line on any failure.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <onnx/onnx_pb.h>

#include <ctnet/ctnet.hpp>
#include <ctnet/export/onnx.hpp>

#include "../../examples/mnist_models.hpp"
#include "onnx_zoo.hpp"
#include "support/data.hpp"

namespace {

using namespace ctnet;

struct Fixture {
  std::string dir;
  int count = 1000;
  std::vector<float> train_images, test_images;  // normalised, [n x 784]
  std::vector<int> train_labels;
  std::vector<float> digits;  // a second input for the two-input networks: integers 0-9
  std::ostringstream manifest;
  bool first = true;
};

std::vector<float> normalised(const Dataset& d) {
  std::vector<float> x(d.images.begin(), d.images.end());
  for (float& v : x) v /= 255.0f;
  Normalize{}.apply(x.data(), x.size());
  return x;
}

void write_floats(const std::string& path, const float* data, std::size_t n) {
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(data), std::streamsize(n * sizeof(float)));
  if (!f) throw Error("cannot write '" + path + "'");
}

void check(bool ok, const std::string& what) {
  if (!ok) throw Error("onnx_reference: " + what);
}

constexpr long train_steps = 60;

template <class M>
void train_briefly(M& model, const Fixture& f) {
  SGD<float> sgd(0.02, 0.9);
  std::vector<float> grad(64 * 10);
  const long batches = long(f.train_labels.size()) / 64;
  for (long step = 0; step < train_steps; ++step) {
    const long b = step % batches;
    const float* out = model.forward(f.train_images.data() + b * 64 * 784, 64);
    NLLLoss{}.backward(out, f.train_labels.data() + b * 64, 64, 10, grad.data());
    model.zero_grad();
    model.backward(grad.data());
    sgd.step(model.parameters(), model.gradients());
  }
}

// Batch-norm statistics and affine parameters away from their initial 0/1, so their mapping is tested.
template <class M>
void perturb(M& model) {
  std::mt19937 gen(7);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> params = model.read_parameters(), buffers = model.read_buffers();
  for (float& p : params) p += 0.1f * u(gen);
  for (const NamedTensor& t : M::named_buffers())
    for (long i = 0; i < t.size; ++i)
      buffers[std::size_t(t.offset + i)] =
          t.name.ends_with("running_var") ? 1.0f + 0.5f * u(gen) : 0.3f * u(gen);
  model.write_parameters(params);
  model.write_buffers(buffers);
}

// Reads the file back and checks what ctnet promises about it.
template <class M>
void check_file(const std::string& path, const M& model) {
  std::ifstream in(path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ::onnx::ModelProto m;
  check(m.ParseFromString(bytes), "'" + path + "' does not parse as an ONNX ModelProto");
  check(m.opset_import_size() == 1 && m.opset_import(0).version() == onnx_opset, path + ": opset is not 17");
  const ::onnx::GraphProto& g = m.graph();
  for (const auto* values : {&g.input(), &g.output()})
    for (const ::onnx::ValueInfoProto& v : *values)
      check(v.type().tensor_type().shape().dim(0).dim_param() == "N", path + ": '" + v.name() + "' has no batch N");
  const std::vector<float> params = model.read_parameters(), buffers = model.read_buffers();
  std::size_t checked = 0;
  const auto expect = [&](const std::vector<NamedTensor>& named, const std::vector<float>& arena) {
    for (const NamedTensor& t : named) {
      const ::onnx::TensorProto* found = nullptr;
      for (const ::onnx::TensorProto& i : g.initializer())
        if (i.name() == t.name) found = &i;
      check(found != nullptr, path + ": no initializer '" + t.name + "'");
      check(std::equal(t.shape.begin(), t.shape.end(), found->dims().begin(), found->dims().end()),
            path + ": initializer '" + t.name + "' has another shape");
      check(found->float_data_size() == t.size &&
                std::equal(found->float_data().begin(), found->float_data().end(), arena.begin() + t.offset),
            path + ": initializer '" + t.name + "' holds other values");
      ++checked;
    }
  };
  expect(M::named_parameters(), params);
  expect(M::named_buffers(), buffers);
  check(checked > 0, path + ": no initializers checked");
}

template <class Net>
void emit(Fixture& f, const std::string& name, bool train, const OnnxExportOptions& options = {}) {
  const auto start = std::chrono::steady_clock::now();
  Model<Net> model(1, 64, f.count);
  if (train) train_briefly(model, f);
  else perturb(model);
  const std::string onnx_file = name + ".onnx";
  export_onnx(model, f.dir + "/" + onnx_file, options);
  check_file(f.dir + "/" + onnx_file, model);

  const OnnxGraph graph = onnx_graph_of_model(model, options);
  std::vector<float> x(f.test_images.begin(), f.test_images.begin() + long(f.count) * 784);
  if (graph.inputs.size() == 2) x.insert(x.end(), f.digits.begin(), f.digits.begin() + f.count);
  const float* y = model.predict(x.data(), f.count);

  const auto list = [&](const std::vector<OnnxValue>& values, const float* data, const char* kind) {
    std::string json = "[";
    std::size_t at = 0;
    for (std::size_t i = 0; i < values.size(); ++i) {
      std::size_t per = 1;
      std::string dims = std::to_string(f.count);
      for (const std::int64_t d : values[i].dims) per *= std::size_t(d), dims += "," + std::to_string(d);
      const std::string file = name + "." + kind + "_" + std::to_string(i) + ".f32";
      write_floats(f.dir + "/" + file, data + at, per * std::size_t(f.count));
      at += per * std::size_t(f.count);
      json += std::string(i ? "," : "") + "{\"name\":\"" + values[i].name + "\",\"file\":\"" + file +
              "\",\"dims\":[" + dims + "]}";
    }
    return json + "]";
  };
  const std::string inputs = list(graph.inputs, x.data(), "input");
  const std::string outputs = list(graph.outputs, y, "output");
  f.manifest << (f.first ? "\n  " : ",\n  ") << "{\"name\":\"" << name << "\",\"onnx\":\"" << onnx_file
             << "\",\"trained\":" << (train ? "true" : "false") << ",\"inputs\":" << inputs
             << ",\"outputs\":" << outputs << "}";
  f.first = false;
  std::cout << name << ": " << onnx_file << ", " << graph.nodes.size() << " nodes, " << graph.initializers.size()
            << " initializers" << (train ? ", trained " + std::to_string(train_steps) + " steps" : ", seeded initialisation")
            << ", " << std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() << " s\n";
}

int run(int argc, char** argv) {
  if (argc < 2 || argc > 3) throw OptionError("usage: onnx_reference OUT_DIR [COUNT]");
  Fixture f;
  f.dir = argv[1];
  std::filesystem::create_directories(f.dir);
  if (argc == 3) f.count = std::stoi(argv[2]);
  check(f.count >= 1 && f.count <= 1000, "COUNT must be 1 to 1000");
  const testing::TestData data = testing::test_data(6400, f.count);
  std::cout << "data: " << (data.real ? "MNIST (data/mnist)" : "generated digits (data/mnist is absent)") << ", "
            << f.count << " test images\n";
  f.train_images = normalised(data.train);
  f.test_images = normalised(data.test);
  f.train_labels.assign(data.train.labels.begin(), data.train.labels.end());
  std::mt19937 gen(3);
  for (int i = 0; i < f.count; ++i) f.digits.push_back(float(gen() % 10));

  emit<mnist::Step1Skeleton>(f, "step1", true);
  emit<mnist::Step2BnDropout>(f, "step2", true);
  emit<mnist::Step3Gap>(f, "step3", true);
  emit<mnist::Session3>(f, "session3", true);
  emit<mnist::Reference>(f, "reference", true);
  emit<mnist::Adder>(f, "adder", false, {.input_names = {"image", "number"}, .output_names = {"digit", "sum"}});
  emit<mnist::AdderMse>(f, "adder_mse", false, {.input_names = {"image", "number"}, .output_names = {"digit", "sum"}});
  emit<onnx_test::Zoo>(f, "zoo", false, {.output_names = {"log_probs", "probs", "features"}});

  std::ofstream manifest(f.dir + "/manifest.json");
  manifest << "{\"count\":" << f.count << ",\"real_mnist\":" << (data.real ? "true" : "false") << ",\"models\":["
           << f.manifest.str() << "\n]}\n";
  check(bool(manifest), "cannot write '" + f.dir + "/manifest.json'");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
