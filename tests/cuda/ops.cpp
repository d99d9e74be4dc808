// tests/cuda/ops.cpp — CPU-versus-CUDA equivalence of every backend op, through small networks (nets.hpp):
// the same seed, parameters, buffers, input and output gradient on both backends; outputs, input
// gradients, parameter gradients and running statistics compared (tolerances: compare.hpp). Without a
// device each test reports "skipped: no CUDA device" and passes.
#include <doctest/doctest.h>

#include <string>

#include <ctnet/ctnet.hpp>

#include "compare.hpp"
#include "harness.hpp"
#include "nets.hpp"

using namespace ctnet_test;

namespace {

Result run_on_cpu(const std::string& name, const Request& request, bool use_double) {
#define CTNET_RUN_FLOAT(Name) \
  if (!use_double && name == #Name) return run_model<nets::Name, ctnet::Cpu, float>(request);
#define CTNET_RUN_DOUBLE(Name) \
  if (use_double && name == #Name) return run_model<nets::Name, ctnet::Cpu, double>(request);
  CTNET_TEST_NETS(CTNET_RUN_FLOAT)
  CTNET_TEST_DOUBLE_NETS(CTNET_RUN_DOUBLE)
#undef CTNET_RUN_FLOAT
#undef CTNET_RUN_DOUBLE
  throw ctnet::Error("run_on_cpu: no test network named " + name);
}

// Random input and output gradient; parameters near the seed's initialisation (so batch-norm's gamma and
// beta are not exactly 1 and 0); running statistics away from their initial values.
template <class Net>
Request make_request(std::uint64_t seed, long batch, bool training, int steps) {
  using M = ctnet::Model<Net, ctnet::Cpu, double>;
  Request r;
  r.seed = seed;
  r.batch = batch;
  r.training = training;
  r.steps = steps;
  ctnet::Generator g(seed, ctnet::RngStream::user, 7);
  for (long i = 0; i < batch * M::input_size; ++i) r.input.push_back(g.uniform(-1.5, 1.5));
  for (long i = 0; i < batch * M::output_size; ++i) r.grad_output.push_back(g.uniform(-1, 1));
  M model(seed, 1);
  r.parameters = model.read_parameters();
  for (double& p : r.parameters) p += g.uniform(-0.2, 0.2);
  r.buffers = model.read_buffers();
  for (const ctnet::NamedTensor& t : M::named_buffers()) {
    const bool var = t.name.find("running_var") != std::string::npos;
    for (long i = 0; i < t.size; ++i)
      r.buffers[std::size_t(t.offset + i)] = var ? g.uniform(0.5, 1.5) : g.uniform(-0.5, 0.5);
  }
  return r;
}

struct Tolerance {
  double rtol = 1e-4, atol = 1e-4;
  bool exact = false;
};

template <class Net>
void compare(const std::string& name, bool training = true, int steps = 1, Tolerance tol = {}, bool use_double = false,
             long batch = 4) {
  CAPTURE(name);
  CAPTURE(use_double);
  CAPTURE(training);
  using M = ctnet::Model<Net, ctnet::Cpu, double>;
  const Request request = make_request<Net>(11, batch, training, steps);
  const Result cpu = run_on_cpu(name, request, use_double);
  Result cuda;
  try {
    cuda = run_on_cuda(name, request, use_double);
  } catch (const ctnet::Error& e) {
    // Say which network failed and go on with the case's others (a sticky fault fails them too: the
    // GPU check runs each case in its own process).
    const std::string text = name + (use_double ? " (double)" : " (float)") + " on the device: " + e.what();
    FAIL_CHECK(text);
    return;
  }
  if (use_double) tol = {1e-10, 1e-10, tol.exact};
  const std::string tag = name + (use_double ? " (double)" : " (float)") + (training ? ", training" : ", eval");
  const auto check = [&](const char* what, const std::vector<double>& a, const std::vector<double>& b,
                         const std::vector<ctnet::NamedTensor>& names) {
    check_values(tag + ": " + what, a, b, tol.rtol, tol.atol, tol.exact, names);
  };
  check("output", cuda.output, cpu.output, {});
  check("input gradient", cuda.grad_input, cpu.grad_input, {});
  check("parameter gradients", cuda.gradients, cpu.gradients, M::named_parameters());
  check("parameters", cuda.parameters, cpu.parameters, M::named_parameters());
  check("buffers", cuda.buffers, cpu.buffers, M::named_buffers());
}

}  // namespace

TEST_CASE("cuda: device probe and errors") {
  CHECK_NOTHROW((void)cuda_device_present());
  CHECK(cuda_device_present() == cuda_device_problem().empty());
  if (!cuda_device_present()) {
    // Allocation must fail with a ctnet::Error naming CUDA, never crash.
    Request r = make_request<nets::ConvPointwise>(1, 1, false, 1);
    CHECK_THROWS_AS(run_on_cuda("ConvPointwise", r, false), ctnet::Error);
    try {
      run_on_cuda("ConvPointwise", r, false);
    } catch (const ctnet::Error& e) {
      CHECK(std::string(e.what()).find("CUDA") != std::string::npos);
    }
  }
  if (skip_without_device(cuda_device_problem())) return;
  CHECK_THROWS_AS(run_on_cuda("NoSuchNet", make_request<nets::ConvPointwise>(1, 1, false, 1), false), ctnet::Error);
}

TEST_CASE("cuda == cpu: conv2d forward and backward") {
  if (skip_without_device(cuda_device_problem())) return;
  compare<nets::ConvPadStride>("ConvPadStride");
  compare<nets::ConvPadStride>("ConvPadStride", true, 1, {}, true);
  compare<nets::ConvPointwise>("ConvPointwise");
  compare<nets::ConvLarge>("ConvLarge", true, 1, {}, false, 9);
}

TEST_CASE("cuda == cpu: max pooling (exact)") {
  if (skip_without_device(cuda_device_problem())) return;
  compare<nets::MaxPool>("MaxPool", true, 1, {0, 0, true});
  compare<nets::MaxPoolOverlap>("MaxPoolOverlap", true, 1, {0, 0, true});
}

TEST_CASE("cuda == cpu: average and global average pooling") {
  if (skip_without_device(cuda_device_problem())) return;
  compare<nets::AvgPool>("AvgPool");
  compare<nets::GlobalPool>("GlobalPool");
}

TEST_CASE("cuda == cpu: batch norm in training and eval") {
  if (skip_without_device(cuda_device_problem())) return;
  compare<nets::BatchNormImage>("BatchNormImage", true, 2);
  compare<nets::BatchNormImage>("BatchNormImage", false, 1);
  compare<nets::BatchNormImage>("BatchNormImage", true, 2, {}, true);
  compare<nets::BatchNormFlat>("BatchNormFlat", true, 3, {}, false, 6);
  compare<nets::BatchNormFlat>("BatchNormFlat", false, 1);
}

TEST_CASE("cuda == cpu: relu, dropout (identical masks) and copies (exact)") {
  if (skip_without_device(cuda_device_problem())) return;
  compare<nets::ReluDropout>("ReluDropout", true, 3, {0, 0, true}, false, 8);
  compare<nets::ReluDropout>("ReluDropout", false, 1, {0, 0, true});
}

TEST_CASE("cuda == cpu: linear forward and backward") {
  if (skip_without_device(cuda_device_problem())) return;
  compare<nets::LinearBias>("LinearBias", true, 1, {}, false, 7);
  compare<nets::LinearBias>("LinearBias", true, 1, {}, true, 7);
}

TEST_CASE("cuda == cpu: log-softmax and softmax") {
  if (skip_without_device(cuda_device_problem())) return;
  compare<nets::LogSoftmaxHead>("LogSoftmaxHead", true, 1, {}, false, 5);
  compare<nets::SoftmaxHead>("SoftmaxHead", true, 1, {}, false, 5);
}

TEST_CASE("cuda == cpu: a small network with batch norm and dropout, several steps") {
  if (skip_without_device(cuda_device_problem())) return;
  compare<nets::Small>("Small", true, 3, {}, false, 8);
  compare<nets::Small>("Small", false, 1, {}, false, 8);
  compare<nets::Small>("Small", true, 3, {}, true, 8);
}

TEST_CASE("cuda: graph-combinator ops (strided copy, accumulate, add, one-hot, embedding, fill) (exact)") {
  if (skip_without_device(cuda_device_problem())) return;
  GraphOpsData in;
  ctnet::Generator g(5, ctnet::RngStream::user, 3);
  for (int i = 0; i < 20; ++i) in.a.push_back(float(g.uniform(-1, 1)));
  for (int i = 0; i < 20; ++i) in.b.push_back(float(g.uniform(-1, 1)));
  in.index = {3, 0, 4, 3, 1, 3};  // repeated indices: embedding gradients add up in sample order
  for (int i = 0; i < 15; ++i) in.weight.push_back(float(g.uniform(-1, 1)));
  for (int i = 0; i < 18; ++i) in.gy.push_back(float(g.uniform(-1, 1)));
  const GraphOpsResult r = graph_ops_on_cuda(in);
  std::vector<float> strided(24, 0.0f), acc = in.b, added(20), hot(30, 0.0f), emb(18), grad(15, 0.5f);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 4; ++j) strided[std::size_t(2 + i * 8 + j)] = in.a[std::size_t(1 + i * 6 + j)];
  for (std::size_t i = 0; i < 20; ++i) acc[i] += in.a[i];
  for (std::size_t i = 0; i < 20; ++i) added[i] = in.a[i] + in.b[i];
  for (std::size_t s = 0; s < 6; ++s) {
    const std::size_t k = std::size_t(in.index[s]);
    hot[s * 5 + k] = 1;
    for (std::size_t j = 0; j < 3; ++j) {
      emb[s * 3 + j] = in.weight[k * 3 + j];
      grad[k * 3 + j] += in.gy[s * 3 + j];
    }
  }
  const auto widen = [](const std::vector<float>& v) { return std::vector<double>(v.begin(), v.end()); };
  check_equal("strided_copy", widen(r.strided), widen(strided));
  check_equal("accumulate", widen(r.accumulated), widen(acc));
  check_equal("add", widen(r.added), widen(added));
  check_equal("one_hot", widen(r.one_hot), widen(hot));
  check_equal("embedding_forward", widen(r.embedded), widen(emb));
  check_equal("embedding_backward", widen(r.embedding_grad), widen(grad));
  check_equal("fill_zero", widen(r.zeroed), std::vector<double>(20, 0.0));
}
