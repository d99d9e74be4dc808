// ctnet/backend/cuda/graph.cuh — capture a fixed-shape step (e.g. a whole training step) as a CUDA graph.
//
// Requires: a CUDA device; a body that only issues backend work (Model forward/backward, zero_grad, loss,
// SGD::apply_staged, DeviceDataset::gather) and no host copies or synchronisation (Buffer::upload,
// download, read_* are not capturable); the same shapes and batch on every replay; one eager run of the
// body before capture, so scratch memory has its final size.
// Guarantees: capture() records the body on a private stream; replay() launches it on cuda::stream().
// Each replay adds 1 to the graph's device counter, which dropout adds to the step it was captured with
// and gather adds to the batch index, so replay r draws the masks of step (captured step + r) and trains
// on batch (captured batch + r) — exactly what r more eager steps would do. Host state frozen in the
// graph is not advanced: after replays, set Model::set_step(step at capture + replays() - 1) before
// checkpoints or eager steps. replay() throws if scratch memory moved since capture, or on another host
// thread than the capture's.
//
// Usage (tests/cuda/training.cu runs exactly this):
//   Model<Net, Cuda> model(seed, batch);  DeviceDataset data(mnist);  EpochOrder order(mnist.count);
//   cuda::SGD<float> opt(options, Net::parameter_count);  Buffer<int> targets(batch);  ...
//   auto step = [&](long b, bool staged) {            // one whole training step, device only
//     model.zero_grad();
//     data.gather(order.data(), b, batch, batches, model.input_buffer(), targets.data());
//     const float* out = model.forward_resident(batch);
//     cuda::nll_loss(out, targets.data(), batch, 10, grad.data(), metrics.data());
//     model.backward(grad.data());
//     staged ? opt.apply_staged(model.parameter_data(), model.gradient_data())
//            : opt.step(model.parameter_data(), model.gradient_data());
//   };
//   order.set_epoch(seed, 0); step(0, false);          // eager warm-up: sizes scratch memory
//   const auto s0 = model.step() + 1;                  // the step the capture freezes
//   cuda::Graph g;  g.capture([&] { step(1, true); });
//   for (...) { opt.stage(); g.replay(); }             // batches 1, 2, ...; read metrics when you like
//   model.set_step(s0 + g.replays() - 1);
// At an epoch boundary (replays a multiple of batches), call order.set_epoch(seed, e) before replaying.
#pragma once

#include <cstdint>
#include <utility>

#include "buffer.cuh"
#include "runtime.cuh"

namespace ctnet::cuda {

template <class Counter>
__global__ void advance_counter_kernel(Counter* counter) {
  ++*counter;
}

class Graph {
 public:
  Graph() = default;
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;
  ~Graph() { reset(); }

  template <class Body>
  void capture(Body&& body) {
    reset();
    if (!device_available()) throw Error("cuda::Graph: no CUDA device");
    counter_.resize(1);  // zeroed and synchronised
    check(cudaStreamCreateWithFlags(&capture_stream_, cudaStreamNonBlocking), "creating the capture stream");
    const cudaStream_t outer = stream();
    check(cudaStreamSynchronize(outer), "waiting for work before capture");
    set_stream(capture_stream_);
    detail::thread_state().graph_step_counter = counter_.data();
    cudaGraph_t graph = nullptr;
    check(cudaStreamBeginCapture(capture_stream_, cudaStreamCaptureModeThreadLocal), "cudaStreamBeginCapture");
    try {
      body();
      advance_counter_kernel<<<1, 1, 0, capture_stream_>>>(counter_.data());
      check_launch("advance_counter_kernel");
    } catch (...) {
      (void)cudaStreamEndCapture(capture_stream_, &graph);
      if (graph) (void)cudaGraphDestroy(graph);
      restore(outer);
      throw;
    }
    const cudaError_t ended = cudaStreamEndCapture(capture_stream_, &graph);
    restore(outer);
    check(ended, "cudaStreamEndCapture");
    const cudaError_t made = cudaGraphInstantiate(&exec_, graph, 0);
    (void)cudaGraphDestroy(graph);
    check(made, "cudaGraphInstantiate");
    generation_ = scratch_generation();
    owner_ = &detail::thread_state();
    replays_ = 0;
  }

  void replay() {
    if (!exec_) throw Error("cuda::Graph::replay: nothing captured");
    if (owner_ != &detail::thread_state())
      throw Error("cuda::Graph::replay: called on another host thread than the capture (the graph uses that thread's "
                  "scratch memory); capture on this thread");
    if (scratch_generation() != generation_)
      throw Error("cuda::Graph::replay: scratch memory moved since capture (a larger batch ran); capture again");
    check(cudaGraphLaunch(exec_, stream()), "cudaGraphLaunch");
    ++replays_;
  }

  bool captured() const { return exec_ != nullptr; }
  std::uint64_t replays() const { return replays_; }

  void reset() noexcept {
    if (exec_) {
      (void)cudaStreamSynchronize(stream());  // a replay may still run
      (void)cudaGraphExecDestroy(exec_);
    }
    if (capture_stream_) (void)cudaStreamDestroy(capture_stream_);
    exec_ = nullptr;
    capture_stream_ = nullptr;
    replays_ = 0;
  }

 private:
  void restore(cudaStream_t outer) {
    set_stream(outer);
    detail::thread_state().graph_step_counter = nullptr;
  }

  Buffer<std::uint64_t> counter_;
  cudaStream_t capture_stream_ = nullptr;
  cudaGraphExec_t exec_ = nullptr;
  std::uint64_t generation_ = 0;
  const detail::ThreadState* owner_ = nullptr;  // the capturing thread's backend state
  std::uint64_t replays_ = 0;
};

}  // namespace ctnet::cuda
