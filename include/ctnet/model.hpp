// ctnet/model.hpp — Model<Net, Backend, T>: the state of a network type.
//
// Requires: Net a bound network (Sequential<Input<...>, ...>); Backend a backend policy (Cpu); T float
// or double. Guarantees: one contiguous parameter arena, one gradient arena of the same layout, one
// buffer arena (running statistics), and a workspace sized once for max_batch, so forward and backward
// allocate nothing; parameters are initialised from the seed (same seed, same thread count => same
// bits); names follow PyTorch ("0.weight", "1.running_mean").
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "backend/cpu/cpu.hpp"
#include "core/error.hpp"
#include "core/layer.hpp"

namespace ctnet {

struct NamedTensor {
  std::string name;
  long offset;  // in the parameter (or buffer) arena
  long size;
  std::vector<long> shape;
};

template <class Net, class Backend = Cpu, class T = float>
class Model {
 public:
  using network = Net;
  using backend = Backend;
  using scalar = T;
  static constexpr long input_size = Net::input_shape_t::size;
  static constexpr long output_size = Net::output_shape_t::size;
  static constexpr long parameter_count = Net::parameter_count;

  explicit Model(std::uint64_t seed = 0, long max_batch = 256)
      : seed_(seed),
        params_(std::size_t(Net::parameter_count)),
        grads_(std::size_t(Net::parameter_count)),
        buffers_(std::size_t(Net::buffer_count)) {
    set_max_batch(max_batch);
    reset_parameters(seed);
  }

  // Re-initialises parameters and buffers from `seed`, PyTorch's default init, and resets the step.
  void reset_parameters(std::uint64_t seed) {
    seed_ = seed;
    step_ = 0;
    Net::init(params_.data(), buffers_.data(), seed);
    zero_grad();
  }

  // Resizes the workspace; the only call that allocates besides construction.
  void set_max_batch(long max_batch) {
    if (max_batch < 1) throw OptionError("Model: max_batch must be at least 1, got " + std::to_string(max_batch));
    max_batch_ = max_batch;
    workspace_.assign(std::size_t(Net::workspace_size(max_batch)), T(0));
    input_.assign(std::size_t(input_size * max_batch), T(0));
    output_.assign(std::size_t(output_size * max_batch), T(0));
  }
  long max_batch() const { return max_batch_; }

  void train(bool on = true) { training_ = on; }
  void eval() { training_ = false; }
  bool training() const { return training_; }

  // Runs the network on n samples laid out [n x input_size]; returns the output [n x output_size],
  // valid until the next forward. In training each call is a new step (fresh dropout masks).
  const T* forward(const T* x, long n) {
    check_batch(n);
    if (training_) ++step_;
    std::copy(x, x + n * input_size, input_.begin());
    Net::template forward<Backend>(context(), input_.data(), output_.data(), n);
    last_batch_ = n;
    return output_.data();
  }

  // Back-propagates grad_output [n x output_size] of the last forward; accumulates parameter gradients.
  // grad_input, when given, receives the gradient with respect to the input [n x input_size].
  void backward(const T* grad_output, T* grad_input = nullptr) {
    if (last_batch_ == 0) throw Error("Model::backward called before forward");
    Net::template backward<Backend>(context(), input_.data(), output_.data(), grad_output, grad_input, last_batch_);
  }

  void zero_grad() { std::fill(grads_.begin(), grads_.end(), T(0)); }

  std::span<T> parameters() { return params_; }
  std::span<const T> parameters() const { return params_; }
  std::span<T> gradients() { return grads_; }
  std::span<const T> gradients() const { return grads_; }
  std::span<T> buffers() { return buffers_; }
  std::span<const T> buffers() const { return buffers_; }
  std::span<const T> output() const { return {output_.data(), std::size_t(last_batch_ * output_size)}; }

  std::uint64_t seed() const { return seed_; }
  std::uint64_t step() const { return step_; }
  void set_step(std::uint64_t s) { step_ = s; }

  static std::vector<NamedTensor> named_parameters() { return named<true>(); }
  static std::vector<NamedTensor> named_buffers() { return named<false>(); }

 private:
  template <bool Parameters>
  static std::vector<NamedTensor> named() {
    std::vector<NamedTensor> out;
    Net::for_each_layer([&]<std::size_t I, class L>() {
      const long base = Parameters ? Net::parameter_offsets[I] : Net::buffer_offsets[I];
      const auto& tensors = []() -> const auto& {
        if constexpr (Parameters) return L::parameter_tensors;
        else return L::buffer_tensors;
      }();
      for (const TensorInfo& t : tensors) {
        std::vector<long> shape(t.dims.begin(), t.dims.begin() + t.rank);
        out.push_back({std::to_string(L::position) + "." + t.name, base + t.offset, t.size, shape});
      }
    });
    return out;
  }

  void check_batch(long n) const {
    if (n < 1 || n > max_batch_)
      throw OptionError("Model: batch of " + std::to_string(n) + " samples; this model takes 1 to " +
                        std::to_string(max_batch_) + " (set_max_batch to raise it)");
  }

  Context<T> context() {
    Context<T> c;
    c.params = params_.data();
    c.grads = grads_.data();
    c.buffers = buffers_.data();
    c.work = workspace_.data();
    c.training = training_;
    c.seed = seed_;
    c.step = step_;
    return c;
  }

  std::uint64_t seed_;
  std::uint64_t step_ = 0;
  long max_batch_ = 0;
  long last_batch_ = 0;
  bool training_ = true;
  std::vector<T> params_, grads_, buffers_, workspace_, input_, output_;
};

}  // namespace ctnet
