// ctnet/model.hpp — Model<Net, Backend, T>: the state of a network type.
//
// Requires: Net a bound network (Sequential<Input<...>, ...>); Backend a backend policy (Cpu); T float
// or double. Guarantees: one contiguous parameter arena, one gradient arena of the same layout, one
// buffer arena (running statistics), and a workspace sized once for max_batch, so forward and backward
// allocate nothing; parameters are initialised from the seed (same seed, same thread count => same
// bits) on the host and copied to the backend's memory; names follow PyTorch ("0.weight", "1.running_mean").
// The Model also owns the backend's execution state (Backend::ExecutionContext: on the CPU the kernels'
// scratch memory and work-sharing blocks), installed on the calling thread for each forward, predict and
// backward call (on the CPU it also picks the call's thread count, backend/cpu/adaptive_threads.hpp); so
// two Models may be used at the same time on two threads, one Model by one thread at a time. Network types
// are stateless.
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/execution_call.hpp"
#include "core/layer.hpp"
#include "core/layer_concept.hpp"
#include "core/shape.hpp"
#include "graph/visit.hpp"

namespace ctnet {

struct Cpu;  // the default backend (backend/cpu/cpu.hpp); declared only, so CUDA code need not see Eigen

struct NamedTensor {
  std::string name;
  long offset;  // in the parameter (or buffer) arena
  long size;
  std::vector<long> shape;
};

template <class Net, class Backend = Cpu, class T = float>
class Model {
  static_assert(rule::backend_contract<Backend, void, void, ctnet::Backend<Backend>>::value);

 public:
  using network = Net;
  using backend = Backend;
  using scalar = T;
  static constexpr long input_size = Net::input_shape_t::size;
  static constexpr long output_size = Net::output_shape_t::size;
  static constexpr long parameter_count = Net::parameter_count;

  // max_batch bounds forward/backward batches; max_inference_batch bounds predict() batches (default:
  // max_batch). Inference needs far less memory per sample than training, so it can be much larger.
  explicit Model(std::uint64_t seed = 0, long max_batch = 256, long max_inference_batch = 0)
      : seed_(seed) {
    params_.resize(std::size_t(Net::parameter_count));
    grads_.resize(std::size_t(Net::parameter_count));
    buffers_.resize(std::size_t(Net::buffer_count));
    set_max_batch(max_batch, max_inference_batch);
    reset_parameters(seed);
  }

  // Re-initialises parameters and buffers from `seed`, PyTorch's default init, and resets the step.
  void reset_parameters(std::uint64_t seed) {
    seed_ = seed;
    step_ = 0;
    // Initialised on the host, then copied once: every backend starts from the same bits.
    std::vector<T> params(static_cast<std::size_t>(Net::parameter_count));
    std::vector<T> buffers(static_cast<std::size_t>(Net::buffer_count));
    Net::init(params.data(), buffers.data(), seed);
    write_parameters(params);
    write_buffers(buffers);
    zero_grad();
  }

  // Resizes the workspace; the only call that allocates besides construction.
  void set_max_batch(long max_batch, long max_inference_batch = 0) {
    if (max_batch < 1) throw OptionError("Model: max_batch must be at least 1, got " + std::to_string(max_batch));
    if (max_inference_batch < 0)
      throw OptionError("Model: max_inference_batch must be positive, got " + std::to_string(max_inference_batch));
    max_batch_ = max_batch;
    max_inference_batch_ = max_inference_batch > 0 ? max_inference_batch : max_batch;
    const long rows = std::max(max_batch_, max_inference_batch_);
    workspace_.resize(std::size_t(
        std::max(Net::workspace_size(max_batch_), Net::inference_workspace_size(predict_rows(max_inference_batch_)))));
    input_.resize(std::size_t(input_size * rows));
    output_.resize(std::size_t(output_size * rows));
  }
  long max_batch() const { return max_batch_; }
  long workspace_floats() const { return long(workspace_.size()); }  // for memory accounting and tests
  long max_inference_batch() const { return max_inference_batch_; }

  void train(bool on = true) { training_ = on; }
  void eval() { training_ = false; }
  bool training() const { return training_; }

  // Runs the network on n samples laid out [n x input_size] in host memory; returns the output
  // [n x output_size] (backend memory: host memory on the CPU), valid until the next forward.
  // In training each call is a new step (fresh dropout masks).
  const T* forward(const T* x, long n) {
    check_batch(n);
    input_.upload(x, std::size_t(n * input_size));
    return forward_resident(n);
  }

  // The same with the input already in the model's input buffer (input_buffer()), e.g. gathered there
  // on the device.
  const T* forward_resident(long n) {
    check_batch(n);
    if (training_) ++step_;
    [[maybe_unused]] const auto scope = bind_execution({ExecutionCall::Kind::forward, n});
    Net::template forward<Backend>(context(), input_.data(), output_.data(), n);
    last_batch_ = n;
    return output_.data();
  }
  T* input_buffer() { return input_.data(); }

  // Eval-mode forward for prediction only (no backward may follow): keeps no activations, so batches
  // up to max_inference_batch fit in little memory (on the CPU it runs in chunks of predict_chunk samples).
  // Running statistics are used, dropout is off.
  const T* predict(const T* x, long n) {
    if (n < 1 || n > max_inference_batch_)
      throw OptionError("Model::predict: batch of " + std::to_string(n) + " samples; this model takes 1 to " +
                        std::to_string(max_inference_batch_));
    input_.upload(x, std::size_t(n * input_size));
    Context<T> c = context();
    c.training = false;
    c.inference = true;
    [[maybe_unused]] const auto scope = bind_execution({ExecutionCall::Kind::predict, n});
    for (long first = 0; first < n; first += predict_rows(n)) {
      const long rows = std::min(predict_rows(n), n - first);
      Net::template forward<Backend>(c, input_.data() + first * input_size, output_.data() + first * output_size,
                                     rows);
    }
    last_batch_ = 0;  // nothing to back-propagate
    return output_.data();
  }

  // Back-propagates grad_output [n x output_size] of the last forward; accumulates parameter gradients.
  // grad_input, when given, receives the gradient with respect to the input [n x input_size].
  void backward(const T* grad_output, T* grad_input = nullptr) {
    if (last_batch_ == 0) throw Error("Model::backward called before forward");
    [[maybe_unused]] const auto scope = bind_execution({ExecutionCall::Kind::backward, last_batch_});
    Net::template backward<Backend>(context(), input_.data(), output_.data(), grad_output, grad_input, last_batch_);
  }

  void zero_grad() { grads_.zero(); }

  // Direct views of the arenas, where the backend's memory is host memory (the CPU).
  std::span<T> parameters() requires Backend::host_accessible { return {params_.data(), params_.size()}; }
  std::span<const T> parameters() const requires Backend::host_accessible { return {params_.data(), params_.size()}; }
  std::span<T> gradients() requires Backend::host_accessible { return {grads_.data(), grads_.size()}; }
  std::span<const T> gradients() const requires Backend::host_accessible { return {grads_.data(), grads_.size()}; }
  std::span<T> buffers() requires Backend::host_accessible { return {buffers_.data(), buffers_.size()}; }
  std::span<const T> buffers() const requires Backend::host_accessible { return {buffers_.data(), buffers_.size()}; }

  // Backend memory (device memory on a GPU): for backend kernels such as optimizer steps.
  T* parameter_data() { return params_.data(); }
  T* gradient_data() { return grads_.data(); }
  T* buffer_data() { return buffers_.data(); }
  T* output_data() { return output_.data(); }

  // Copies to and from host memory, for any backend (checkpoints, tests comparing backends).
  std::vector<T> read_parameters() const { return read(params_); }
  std::vector<T> read_gradients() const { return read(grads_); }
  std::vector<T> read_buffers() const { return read(buffers_); }
  std::vector<T> read_output() const {
    std::vector<T> out(std::size_t(last_batch_ * output_size));
    output_.download(out.data(), out.size());
    return out;
  }
  void write_parameters(const std::vector<T>& host) { write(params_, host, "parameters"); }
  void write_buffers(const std::vector<T>& host) { write(buffers_, host, "buffers"); }
  long last_batch() const { return last_batch_; }

  // Makes this model's execution state the calling thread's for the scope's lifetime: for tools that call
  // layers directly with context(), so they use the model's scratch memory rather than the thread's own.
  typename Backend::ExecutionScope bind_execution() { return typename Backend::ExecutionScope(execution_); }
  // The same for one of this model's own calls: the backend may tune the call (the CPU's thread count,
  // backend/cpu/adaptive_threads.hpp).
  typename Backend::ExecutionScope bind_execution(const ExecutionCall& call) {
    return typename Backend::ExecutionScope(execution_, call);
  }
  // The backend's execution state itself (the CPU's carries the synchronised-batch-norm hook, threads.hpp).
  typename Backend::ExecutionContext& execution_context() { return execution_; }

  // The views the network's layers receive; public for tools that step through layers.
  Context<T> context() {
    Context<T> c;
    c.params = params_.data();
    c.grads = grads_.data();
    c.buffers = buffers_.data();
    c.work = workspace_.data();
    c.training = training_;
    c.seed = seed_;
    c.step = step_;
    c.first_row = first_row_;
    return c;
  }

  std::uint64_t seed() const { return seed_; }
  std::uint64_t step() const { return step_; }
  void set_step(std::uint64_t s) { step_ = s; }
  // Data parallelism: the global batch's row the next training batches start at (Context::first_row), so
  // dropout draws the global batch's masks for them; 0 (the default) in one process.
  void set_first_row(std::uint64_t row) { first_row_ = row; }
  std::uint64_t first_row() const { return first_row_; }

  static std::vector<NamedTensor> named_parameters() { return named<true>(); }
  static std::vector<NamedTensor> named_buffers() { return named<false>(); }

 private:
  using Buffer = typename Backend::template Buffer<T>;

  template <bool Parameters>
  static std::vector<NamedTensor> named() {
    std::vector<NamedTensor> out;
    visit_tensors<Net>("", 0, 0, [&](const std::string& name, const TensorInfo& t, long offset, bool is_parameter) {
      if (is_parameter != Parameters) return;
      out.push_back({name, offset, t.size, std::vector<long>(t.dims.begin(), t.dims.begin() + t.rank)});
    });
    return out;
  }

  static std::vector<T> read(const Buffer& b) {
    std::vector<T> out(b.size());
    b.download(out.data(), out.size());
    return out;
  }
  static void write(Buffer& b, const std::vector<T>& host, const char* what) {
    if (host.size() != b.size())
      throw Error(std::string("Model: ") + what + " of " + std::to_string(host.size()) + " values; the network has " +
                  std::to_string(b.size()));
    b.upload(host.data(), host.size());
  }

  void check_batch(long n) const {
    if (n < 1 || n > max_batch_)
      throw OptionError("Model: batch of " + std::to_string(n) + " samples; this model takes 1 to " +
                        std::to_string(max_batch_) + " (set_max_batch to raise it)");
  }


  // On a host backend predict runs at most predict_chunk samples at a time: inference is per sample, so the
  // outputs are the same bits, and the workspace (and the caches) hold a chunk, not the whole batch (the
  // reference network at batch 1000: 74 MB of workspace without it). A device runs the batch whole.
  // Several inputs or heads are stored component after component ([n x 784] images, then [n x 1] digits),
  // so a chunk of samples is not one contiguous range there: such networks run the batch whole.
  static constexpr long predict_chunk = 256;
  static constexpr bool chunked_predict = Backend::host_accessible && !is_tuple_shape_v<typename Net::input_shape_t> &&
                                          !is_tuple_shape_v<typename Net::output_shape_t>;
  static constexpr long predict_rows(long n) { return chunked_predict ? std::min(n, predict_chunk) : n; }

  std::uint64_t seed_;
  std::uint64_t step_ = 0;
  std::uint64_t first_row_ = 0;
  long max_batch_ = 0;
  long max_inference_batch_ = 0;
  long last_batch_ = 0;
  bool training_ = true;
  Buffer params_, grads_, buffers_, workspace_, input_, output_;
  typename Backend::ExecutionContext execution_;
};

}  // namespace ctnet
