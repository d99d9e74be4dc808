// tests/cuda/harness.hpp — runs one forward and backward of a network on any backend, through Model's
// host-copy interface, so a g++ part (Cpu) and an nvcc part (Cuda) of one test binary can compare.
//
// Requires: no Eigen (nvcc includes this). Guarantees: run_model<Net, Backend, T> builds Model<Net,
// Backend, T> from the request's seed, writes the request's parameters and buffers, runs `steps`
// forward+backward passes (each a new training step: fresh dropout masks, updated running statistics),
// and returns every result as host vectors in double.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <ctnet/model.hpp>

namespace ctnet_test {

struct Request {
  std::uint64_t seed = 1;
  long batch = 4;
  bool training = true;
  int steps = 1;
  std::vector<double> input;        // batch x input_size
  std::vector<double> grad_output;  // batch x output_size
  std::vector<double> parameters;   // empty: the seed's initialisation
  std::vector<double> buffers;      // empty: the seed's initialisation
};

struct Result {
  std::vector<double> output, grad_input, parameters, gradients, buffers;
};

// Implemented by the nvcc part: runs net `name` (see nets.hpp) with the Cuda backend in float or double.
Result run_on_cuda(const std::string& name, const Request& request, bool use_double);
// True when the nvcc part finds a usable device.
bool cuda_device_present();
// Empty when it does; otherwise why not, in the CUDA runtime's words (cuda::device_problem()).
std::string cuda_device_problem();

// The graph-combinator ops (strided_copy, accumulate, add, one_hot, embedding, fill_zero) run once each on
// the device over the given inputs (sizes: see ops.cpp), results copied back.
struct GraphOpsData {
  std::vector<float> a, b, index, weight, gy;
};
struct GraphOpsResult {
  std::vector<float> strided, accumulated, added, one_hot, embedded, embedding_grad, zeroed;
};
GraphOpsResult graph_ops_on_cuda(const GraphOpsData& in);

template <class T>
std::vector<T> cast_vector(const std::vector<double>& v) {
  return std::vector<T>(v.begin(), v.end());
}
template <class T>
std::vector<double> to_double(const std::vector<T>& v) {
  return std::vector<double>(v.begin(), v.end());
}

template <class Net, class Backend, class T>
Result run_model(const Request& r) {
  using M = ctnet::Model<Net, Backend, T>;
  M model(r.seed, r.batch);
  if (!r.parameters.empty()) model.write_parameters(cast_vector<T>(r.parameters));
  if (!r.buffers.empty()) model.write_buffers(cast_vector<T>(r.buffers));
  model.train(r.training);
  typename Backend::template Buffer<T> grad_output, grad_input;
  grad_output.resize(std::size_t(r.batch * M::output_size));
  grad_input.resize(std::size_t(r.batch * M::input_size));
  const std::vector<T> x = cast_vector<T>(r.input), gy = cast_vector<T>(r.grad_output);
  grad_output.upload(gy.data(), gy.size());
  for (int s = 0; s < r.steps; ++s) {
    model.zero_grad();
    model.forward(x.data(), r.batch);
    model.backward(grad_output.data(), grad_input.data());
  }
  Result out;
  out.output = to_double(model.read_output());
  std::vector<T> gx(std::size_t(r.batch * M::input_size));
  grad_input.download(gx.data(), gx.size());
  out.grad_input = to_double(gx);
  out.parameters = to_double(model.read_parameters());
  out.gradients = to_double(model.read_gradients());
  out.buffers = to_double(model.read_buffers());
  return out;
}

}  // namespace ctnet_test
