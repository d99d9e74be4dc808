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
// checkpoints or eager steps. replay() throws if device memory moved since capture (memory_generation()).
// Failures of the capture itself are cuda::CaptureError (see capture()).
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

  // Throws CaptureError when the capture itself fails (nothing of the body ran: eager steps may go on);
  // any other CudaError (e.g. a fault of earlier eager work, found by the synchronisation first) means
  // the device is not usable.
  template <class Body>
  void capture(Body&& body) {
    reset();
    if (!device_available()) throw Error("cuda::Graph: no CUDA device (" + device_problem() + ")");
    const cudaStream_t outer = stream();
    // Earlier eager work must be finished and fault-free before capture: its errors are its own.
    CTNET_CUDA_CHECK(cudaStreamSynchronize(outer), "waiting for the eager work before capture");
    if (!counter_.size())
      counter_ = Buffer<std::uint64_t>(1);  // zeroed and synchronised
    else
      counter_.zero();
    preload(advance_counter_kernel<std::uint64_t>, "advance_counter_kernel");
    CTNET_CUDA_CHECK(cudaStreamCreateWithFlags(&capture_stream_, cudaStreamNonBlocking), "creating the capture stream");
    CTNET_CUDA_CHECK(cudaStreamSynchronize(outer), "waiting for work before capture");
    set_stream(capture_stream_);
    detail::graph_step_slot() = counter_.data();
    cudaGraph_t graph = nullptr;
    try {
      const cudaError_t begun = cudaStreamBeginCapture(capture_stream_, cudaStreamCaptureModeThreadLocal);
      if (begun != cudaSuccess)
        fail_capture(begun, "beginning the capture",
                     {"cudaStreamBeginCapture(capture_stream_, cudaStreamCaptureModeThreadLocal)", __FILE__, __LINE__});
      body();
      advance_counter_kernel<<<1, 1, 0, capture_stream_>>>(counter_.data());
      CTNET_CUDA_CHECK_LAUNCH("advance_counter_kernel");
    } catch (...) {
      cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
      if (cudaStreamIsCapturing(capture_stream_, &status) == cudaSuccess && status != cudaStreamCaptureStatusNone)
        (void)cudaStreamEndCapture(capture_stream_, &graph);
      if (graph) (void)cudaGraphDestroy(graph);
      (void)cudaGetLastError();  // a refused capture leaves its (non-sticky) error behind
      restore(outer);
      throw;
    }
    const cudaError_t ended = cudaStreamEndCapture(capture_stream_, &graph);
    restore(outer);
    if (ended != cudaSuccess)
      fail_capture(ended, "ending the capture", {"cudaStreamEndCapture(capture_stream_, &graph)", __FILE__, __LINE__});
    const cudaError_t made = cudaGraphInstantiate(&exec_, graph, 0);
    (void)cudaGraphDestroy(graph);
    if (made != cudaSuccess) {
      exec_ = nullptr;
      fail_capture(made, "instantiating the captured graph",
                   {"cudaGraphInstantiate(&exec_, graph, 0)", __FILE__, __LINE__});
    }
    generation_ = memory_generation();
    replays_ = 0;
  }

  void replay() {
    if (!exec_) throw Error("cuda::Graph::replay: nothing captured");
    if (memory_generation() != generation_)
      throw Error(
          "cuda::Graph::replay: device memory the graph uses moved since capture (scratch grew for a larger "
          "batch, or a buffer was resized: Model::set_max_batch, SGD::set_momentum, DeviceAugment::upload); "
          "capture again");
    CTNET_CUDA_CHECK(cudaGraphLaunch(exec_, stream()), "launching the graph");
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
    detail::graph_step_slot() = nullptr;
  }

  Buffer<std::uint64_t> counter_;
  cudaStream_t capture_stream_ = nullptr;
  cudaGraphExec_t exec_ = nullptr;
  std::uint64_t generation_ = 0;
  std::uint64_t replays_ = 0;
};

}  // namespace ctnet::cuda
