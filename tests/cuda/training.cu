// tests/cuda/training.cu — the nvcc part of cuda_training: whole training steps on the device.
#include <ctnet/cuda.cuh>

#include "nets.hpp"
#include "training.hpp"

namespace ctnet_test {

using namespace ctnet;

TrainingTrace train_on_cuda(const TrainingSetup& s, bool use_graph) {
  using Net = nets::Small;
  using M = Model<Net, Cuda, float>;
  constexpr int classes = int(M::output_size);
  M model(s.model_seed, s.batch);
  model.train();
  cuda::DeviceDataset data(s.images.data(), s.labels.data(), s.count, s.rows, s.cols);
  cuda::EpochOrder order(s.count);
  order.set_epoch(s.loader_seed, 0);
  const long batches = s.count / s.batch;
  cuda::Buffer<int> targets(std::size_t(s.batch));
  cuda::Buffer<float> grad(std::size_t(s.batch) * classes);
  cuda::Buffer<cuda::Metrics> metrics(1);
  cuda::SGD<float> opt({s.lr, s.momentum, s.dampening, s.weight_decay, s.nesterov}, std::size_t(M::parameter_count));

  TrainingTrace trace;
  unsigned long long correct_before = 0;
  const auto record = [&] {
    const cuda::Metrics m = cuda::read_metrics(metrics);
    trace.losses.push_back(m.last_loss);
    trace.correct.push_back(long(m.correct - correct_before));
    correct_before = m.correct;
  };
  // One training step; `batch` is the batch index (a graph advances it per replay).
  const auto body = [&](long batch, bool staged) {
    model.zero_grad();
    data.gather(order.data(), batch, s.batch, batches, model.input_buffer(), targets.data());
    const float* out = model.forward_resident(s.batch);
    cuda::nll_loss(out, targets.data(), s.batch, classes, grad.data(), metrics.data());
    model.backward(grad.data());
    if (staged)
      opt.apply_staged(model.parameter_data(), model.gradient_data());
    else
      opt.step(model.parameter_data(), model.gradient_data());
  };

  body(0, false);
  record();
  std::vector<float> first(std::size_t(s.batch * M::input_size));
  cuda::synchronize();
  CTNET_CUDA_CHECK(cudaMemcpy(first.data(), model.input_buffer(), first.size() * sizeof(float), cudaMemcpyDeviceToHost),
        "reading the gathered batch");
  trace.first_input.assign(first.begin(), first.end());

  if (use_graph) {
    cuda::Graph graph;
    const std::uint64_t step_at_capture = model.step() + 1;  // forward_resident advances it once, in capture
    graph.capture([&] { body(1, true); });
    for (int k = 1; k < s.steps; ++k) {
      opt.stage();
      graph.replay();
      record();
    }
    model.set_step(step_at_capture + graph.replays() - 1);
  } else {
    for (int k = 1; k < s.steps; ++k) {
      body(k, false);
      record();
    }
  }
  const std::vector<float> out = model.read_output();
  trace.last_output.assign(out.begin(), out.end());
  const auto widen = [](const std::vector<float>& v) { return std::vector<double>(v.begin(), v.end()); };
  trace.parameters = widen(model.read_parameters());
  trace.gradients = widen(model.read_gradients());
  trace.buffers = widen(model.read_buffers());
  trace.momentum_buffer = widen(opt.momentum_buffer());
  trace.model_step = model.step();
  return trace;
}

}  // namespace ctnet_test

namespace ctnet_test {
bool cuda_device_present() { return ctnet::cuda::device_available(); }
std::string cuda_device_problem() { return ctnet::cuda::device_problem(); }
}  // namespace ctnet_test
