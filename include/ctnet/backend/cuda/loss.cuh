// ctnet/backend/cuda/loss.cuh — device-side loss gradients and accuracy counting for a training step.
//
// Requires: [batch x classes] scores and int targets in device memory; a Metrics accumulator in device
// memory (cuda::Buffer<Metrics>). Guarantees: one kernel writes the gradient of the mean loss (NLLLoss on
// log-probabilities, or CrossEntropyLoss on logits with log-softmax fused) through the shared row bodies
// of backend/common/loss.hpp, and adds the batch's summed loss, correct count (argmax == target, ties to
// the lowest index) and sample count to the accumulator, in a fixed order (deterministic). Nothing is
// copied to the host: read the accumulator when you want metrics (read_metrics), zero it with zero().
// A target outside [0, classes) cannot throw on a device: its row gets a zero gradient, no loss, and is
// counted in invalid_targets (check it on the host).
#pragma once

#include <cstdint>

#include "../common/loss.hpp"
#include "buffer.cuh"
#include "reduce.cuh"
#include "runtime.cuh"

namespace ctnet::cuda {

struct Metrics {
  double loss_sum = 0;   // sum over samples of the per-sample loss
  double last_loss = 0;  // mean loss of the last batch
  unsigned long long correct = 0;
  unsigned long long samples = 0;
  unsigned long long invalid_targets = 0;
  double mean_loss() const { return samples ? loss_sum / double(samples) : 0.0; }
  double accuracy() const { return samples ? double(correct) / double(samples) : 0.0; }
};

inline Metrics read_metrics(const Buffer<Metrics>& m) {
  Metrics host;
  m.download(&host, 1);
  return host;
}

enum class LossKind : int { nll = 0, cross_entropy = 1, none = 2 };

template <class T>
__global__ void loss_kernel(LossKind kind, const T* scores, const int* targets, int batch, int classes, T* grad,
                            T scale, Metrics* metrics) {
  double loss = 0, correct = 0, invalid = 0;
  const T g = -scale / static_cast<T>(batch);
  const double k = static_cast<double>(scale) / batch;
  for (int r = threadIdx.x; r < batch; r += blockDim.x) {
    const int t = targets[r];
    if (kind == LossKind::nll) loss += kernels::nll_row(r, scores, targets, classes, grad, g);
    if (kind == LossKind::cross_entropy) loss += kernels::cross_entropy_row(r, scores, targets, classes, grad, k);
    correct += kernels::argmax_row(scores + long(r) * classes, classes) == t ? 1 : 0;
    invalid += kernels::target_valid(t, classes) ? 0 : 1;
  }
  loss = block_sum(loss);
  correct = block_sum(correct);
  invalid = block_sum(invalid);
  if (threadIdx.x == 0 && metrics) {
    metrics->loss_sum += loss;
    metrics->last_loss = loss / batch;
    metrics->correct += static_cast<unsigned long long>(correct);
    metrics->samples += static_cast<unsigned long long>(batch);
    metrics->invalid_targets += static_cast<unsigned long long>(invalid);
  }
}

namespace detail {
template <class T>
void launch_loss(LossKind kind, const T* scores, const int* targets, int batch, int classes, T* grad, T scale,
                 Metrics* metrics, const char* what) {
  if (batch <= 0 || classes <= 0) throw Error(std::string(what) + ": batch and classes must be positive");
  loss_kernel<<<1, block_threads, 0, stream()>>>(kind, scores, targets, batch, classes, grad, scale, metrics);
  CTNET_CUDA_CHECK_LAUNCH(what);
}
}  // namespace detail

// grad = d(scale * mean NLL)/d(log_probs), as NLLLoss::backward; grad may be null (metrics only).
template <class T>
void nll_loss(const T* log_probs, const int* targets, int batch, int classes, T* grad, Metrics* metrics,
              T scale = T(1)) {
  detail::launch_loss(LossKind::nll, log_probs, targets, batch, classes, grad, scale, metrics, "nll_loss kernel");
}

// grad = d(scale * mean cross entropy)/d(logits) = (softmax - one_hot) * scale / batch.
template <class T>
void cross_entropy_loss(const T* logits, const int* targets, int batch, int classes, T* grad, Metrics* metrics,
                        T scale = T(1)) {
  detail::launch_loss(LossKind::cross_entropy, logits, targets, batch, classes, grad, scale, metrics,
                      "cross_entropy_loss kernel");
}

// Accuracy only (evaluation): adds correct, samples and invalid_targets.
template <class T>
void count_correct(const T* scores, const int* targets, int batch, int classes, Metrics* metrics) {
  detail::launch_loss(LossKind::none, scores, targets, batch, classes, static_cast<T*>(nullptr), T(1), metrics,
                      "count_correct kernel");
}

}  // namespace ctnet::cuda
