// tests/cuda/training.cpp — whole training steps of a small network with batch norm and dropout, on the
// CPU (DataLoader, Cpu, NLLLoss, ctnet::SGD) and on the device (training.cu: gathered batches, device loss
// and SGD, eager and as a replayed CUDA graph). Same seeds => same batches and dropout masks, so losses,
// accuracies, outputs, parameters, gradients, running statistics and momentum agree within rtol = atol
// = 1e-3 (float, after several SGD steps: small per-op differences compound); the gathered batch equals
// DataLoader's exactly; graph replay equals eager device steps within 1e-6. Without a device each test
// reports "skipped: no CUDA device" and passes.
#include "training.hpp"

#include <doctest/doctest.h>

#include <ctnet/ctnet.hpp>
#include <ctnet/data/loader.hpp>
#include <ctnet/train/loss.hpp>
#include <ctnet/train/metrics.hpp>
#include <ctnet/train/optimizer.hpp>

#include "compare.hpp"
#include "harness.hpp"
#include "nets.hpp"

using namespace ctnet_test;

namespace {

TrainingSetup make_setup() {
  TrainingSetup s;
  ctnet::Generator g(42, ctnet::RngStream::user, 1);
  s.images.resize(std::size_t(s.count) * s.rows * s.cols);
  s.labels.resize(std::size_t(s.count));
  for (int i = 0; i < s.count; ++i) {
    const int label = int(g.below(10));
    s.labels[std::size_t(i)] = std::uint8_t(label);
    // A faint class-dependent bar on noise, so the network has something to learn.
    for (int y = 0; y < s.rows; ++y)
      for (int x = 0; x < s.cols; ++x) {
        const bool bar = y == label || x == label;
        s.images[(std::size_t(i) * s.rows + y) * s.cols + x] = std::uint8_t(g.below(bar ? 256 : 96));
      }
  }
  return s;
}

TrainingTrace train_on_cpu(const TrainingSetup& s) {
  using M = ctnet::Model<nets::Small, ctnet::Cpu, float>;
  constexpr int classes = int(M::output_size);
  ctnet::Dataset data;
  data.images = s.images;
  data.labels = s.labels;
  data.count = s.count;
  data.rows = s.rows;
  data.cols = s.cols;
  ctnet::LoaderOptions options;
  options.batch_size = s.batch;
  options.shuffle = true;
  options.drop_last = true;
  options.seed = s.loader_seed;
  ctnet::DataLoader loader(data, options);
  loader.start_epoch(0);
  M model(s.model_seed, s.batch);
  model.train();
  ctnet::SGD<float> opt(s.lr, s.momentum, s.dampening, s.weight_decay, s.nesterov);
  ctnet::NLLLoss loss;
  std::vector<float> grad(std::size_t(s.batch) * classes);
  TrainingTrace trace;
  ctnet::Batch batch;
  for (int k = 0; k < s.steps; ++k) {
    REQUIRE(loader.next(batch));
    REQUIRE(batch.size == s.batch);
    if (k == 0) trace.first_input.assign(batch.images.begin(), batch.images.end());
    model.zero_grad();
    const float* out = model.forward(batch.images.data(), s.batch);
    trace.losses.push_back(loss.forward(out, batch.labels.data(), s.batch, classes));
    trace.correct.push_back(ctnet::correct_count(out, batch.labels.data(), s.batch, classes));
    loss.backward(out, batch.labels.data(), s.batch, classes, grad.data());
    model.backward(grad.data());
    opt.step(model.parameters(), model.gradients());
  }
  const auto widen = [](auto span) { return std::vector<double>(span.begin(), span.end()); };
  const std::vector<float> out = model.read_output();
  trace.last_output.assign(out.begin(), out.end());
  trace.parameters = widen(model.parameters());
  trace.gradients = widen(model.gradients());
  trace.buffers = widen(model.buffers());
  trace.momentum_buffer = widen(*opt.state()[0].second);
  trace.model_step = model.step();
  return trace;
}

void compare_traces(const TrainingTrace& cuda, const TrainingTrace& reference, double tol) {
  using M = ctnet::Model<nets::Small, ctnet::Cpu, float>;
  check_close("losses", cuda.losses, reference.losses, tol, tol);
  CHECK(cuda.correct == reference.correct);
  check_close("last output", cuda.last_output, reference.last_output, tol, tol);
  check_close("parameters", cuda.parameters, reference.parameters, tol, tol, M::named_parameters());
  check_close("gradients", cuda.gradients, reference.gradients, tol, tol, M::named_parameters());
  check_close("buffers", cuda.buffers, reference.buffers, tol, tol, M::named_buffers());
  check_close("momentum buffer", cuda.momentum_buffer, reference.momentum_buffer, tol, tol, M::named_parameters());
  CHECK(cuda.model_step == reference.model_step);
}

}  // namespace

TEST_CASE("cuda == cpu: whole training steps (gather, forward, NLL loss, backward, SGD) on the device") {
  if (skip_without_device(cuda_device_problem())) return;
  const TrainingSetup setup = make_setup();
  const TrainingTrace cpu = train_on_cpu(setup);
  const TrainingTrace cuda = train_on_cuda(setup, false);
  check_equal("gathered batch", cuda.first_input, cpu.first_input);
  compare_traces(cuda, cpu, 1e-3);
}

TEST_CASE("cuda: a training step captured as a CUDA graph replays like eager steps") {
  if (skip_without_device(cuda_device_problem())) return;
  const TrainingSetup setup = make_setup();
  const TrainingTrace eager = train_on_cuda(setup, false);
  const TrainingTrace graph = train_on_cuda(setup, true);
  compare_traces(graph, eager, 1e-6);
  compare_traces(graph, train_on_cpu(setup), 1e-3);
}
