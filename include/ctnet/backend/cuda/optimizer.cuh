// ctnet/backend/cuda/optimizer.cuh — torch.optim.SGD on the device over the Model's flat arenas.
//
// Requires: parameter and gradient arenas of `n` values in device memory (Model::parameter_data(),
// Model::gradient_data()). Guarantees: the update is train/optimizer.hpp's SGD rule (momentum, dampening,
// nesterov, weight decay; PyTorch's first momentum step copies the gradient) through the shared body
// kernels::sgd_update; options are validated by ctnet::SGD's rules (OptionError). step() passes the
// coefficients as kernel arguments (no copy, no synchronisation). For a captured cuda::Graph, call
// stage() on the host before each replay and apply_staged() inside the captured body: the kernel then
// reads the coefficients from device memory, so lr schedules and the first-step rule still apply.
#pragma once

#include <cstddef>
#include <vector>

#include "../../train/optimizer.hpp"
#include "../common/optimizer.hpp"
#include "buffer.cuh"
#include "runtime.cuh"

namespace ctnet::cuda {

template <class T>
__global__ void sgd_kernel(T* p, const T* g, T* b, long n, kernels::SgdCoefficients<T> k) {
  CTNET_CUDA_FOR(i, n) kernels::sgd_update(i, p, g, b, k);
}
template <class T>
__global__ void sgd_staged_kernel(T* p, const T* g, T* b, long n, const kernels::SgdCoefficients<T>* staged) {
  const kernels::SgdCoefficients<T> k = *staged;
  CTNET_CUDA_FOR(i, n) kernels::sgd_update(i, p, g, b, k);
}

template <class T>
class SGD {
 public:
  using Options = typename ctnet::SGD<T>::Options;

  SGD(const Options& options, std::size_t n) : rules_(options), n_(n), coefficients_(1) {
    if (options.momentum != 0) momentum_buffer_.resize(n);
    CTNET_CUDA_CHECK(cudaMallocHost(&pinned_, sizeof(kernels::SgdCoefficients<T>)),
                     "allocating pinned SGD coefficients");
    CTNET_CUDA_CHECK(cudaEventCreateWithFlags(&copied_, cudaEventDisableTiming), "creating an event");
    // apply_staged's kernel first runs inside a graph capture: load its module now, not during capture.
    preload(sgd_kernel<T>, "sgd_kernel");
    preload(sgd_staged_kernel<T>, "sgd_staged_kernel");
  }
  SGD(const SGD&) = delete;
  SGD& operator=(const SGD&) = delete;
  ~SGD() {
    (void)cudaFreeHost(pinned_);
    (void)cudaEventDestroy(copied_);
  }

  // One eager step: p -= lr * direction(g), momentum buffer on the device.
  void step(T* params, const T* grads) { launch(params, grads, next_coefficients(), nullptr); }

  // Graph use: stage() on the host before each replay, apply_staged() inside the captured body.
  void stage() {
    const kernels::SgdCoefficients<T> k = next_coefficients();
    if (staged_once_) CTNET_CUDA_CHECK(cudaEventSynchronize(copied_), "waiting for the previous coefficient copy");
    *pinned_ = k;
    CTNET_CUDA_CHECK(cudaMemcpyAsync(coefficients_.data(), pinned_, sizeof k, cudaMemcpyHostToDevice, stream()),
          "copying SGD coefficients to the device");
    CTNET_CUDA_CHECK(cudaEventRecord(copied_, stream()), "recording an event");
    staged_once_ = true;
  }
  void apply_staged(T* params, const T* grads) { launch(params, grads, {}, coefficients_.data()); }

  double lr() const noexcept { return rules_.lr(); }
  void set_lr(double lr) { rules_.set_lr(lr); }
  double momentum() const noexcept { return rules_.momentum(); }
  void set_momentum(double m) {
    rules_.set_momentum(m);
    if (m != 0 && momentum_buffer_.size() != n_) momentum_buffer_.resize(n_);
  }
  const Options& options() const noexcept { return rules_.options(); }
  long step_count() const noexcept { return step_count_; }
  void set_step_count(long steps) { step_count_ = steps; }

  // PyTorch's "momentum_buffer": empty until the first momentum step, as ctnet::SGD's state.
  std::vector<T> momentum_buffer() const {
    if (!has_buffer_) return {};
    std::vector<T> host(n_);
    momentum_buffer_.download(host.data(), n_);
    return host;
  }
  void set_momentum_buffer(const std::vector<T>& host) {
    if (host.empty()) {
      has_buffer_ = false;
      return;
    }
    if (host.size() != n_)
      throw Error("cuda::SGD: momentum_buffer of " + std::to_string(host.size()) + " values; there are " +
                  std::to_string(n_) + " parameters");
    if (momentum_buffer_.size() != n_) momentum_buffer_.resize(n_);
    momentum_buffer_.upload(host.data(), n_);
    has_buffer_ = true;
  }
  void reset_state() {
    has_buffer_ = false;
    step_count_ = 0;
  }

 private:
  kernels::SgdCoefficients<T> next_coefficients() {
    const Options& o = rules_.options();
    kernels::SgdCoefficients<T> k;
    k.lr = static_cast<T>(o.lr);
    k.weight_decay = static_cast<T>(o.weight_decay);
    k.momentum = static_cast<T>(o.momentum);
    k.decay = o.weight_decay != 0;
    k.nesterov = o.nesterov;
    k.use_momentum = o.momentum != 0;
    const bool first = !has_buffer_;
    k.b_scale = first ? T(0) : k.momentum;
    k.g_scale = first ? T(1) : static_cast<T>(1 - o.dampening);
    if (k.use_momentum) has_buffer_ = true;
    ++step_count_;
    return k;
  }
  void launch(T* params, const T* grads, const kernels::SgdCoefficients<T>& k,
              const kernels::SgdCoefficients<T>* staged) {
    T* b = momentum_buffer_.size() == n_ ? momentum_buffer_.data() : nullptr;
    const long n = long(n_);
    if (staged) {
      sgd_staged_kernel<<<grid_for(n), block_threads, 0, stream()>>>(params, grads, b, n, staged);
      CTNET_CUDA_CHECK_LAUNCH("sgd_staged_kernel");
    } else {
      sgd_kernel<<<grid_for(n), block_threads, 0, stream()>>>(params, grads, b, n, k);
      CTNET_CUDA_CHECK_LAUNCH("sgd_kernel");
    }
  }

  ctnet::SGD<T> rules_;  // options and their validation (its own step is never called)
  std::size_t n_;
  Buffer<T> momentum_buffer_;
  Buffer<kernels::SgdCoefficients<T>> coefficients_;
  kernels::SgdCoefficients<T>* pinned_ = nullptr;
  cudaEvent_t copied_ = nullptr;
  bool staged_once_ = false;
  bool has_buffer_ = false;
  long step_count_ = 0;
};

}  // namespace ctnet::cuda
