// ctnet/backend/common/loss.hpp — per-row loss, gradient and accuracy bodies for device-side training.
//
// Requires: [rows x classes] row-major scores and one int target per row. Guarantees: the same rules as
// train/loss.hpp and train/metrics.hpp (NLLLoss, CrossEntropyLoss without label smoothing, argmax with
// ties to the lowest index and NaN losing), as CTNET_HD functions of a row, so a CUDA kernel and a host
// test run the same arithmetic. A device cannot throw: a target outside [0, classes) gives a zero
// gradient row, no loss and `false` from row_valid, and callers count it.
#pragma once

#include <cmath>

#include "../../core/host_device.hpp"

namespace ctnet::kernels {

CTNET_HD inline bool target_valid(int target, int classes) { return target >= 0 && target < classes; }

template <class T>
CTNET_HD inline int argmax_row(const T* scores, int classes) {
  int best = 0;
  for (int c = 1; c < classes; ++c)
    if (scores[c] > scores[best] || scores[best] != scores[best]) best = c;
  return best;
}

// NLLLoss on log-probabilities: writes the row of d(scale * mean loss)/d(log_probs), with
// g = -scale / batch computed in T as NLLLoss::backward does; returns the row's loss -log_probs[target].
// grad may be null (loss only).
template <class T>
CTNET_HD inline double nll_row(long r, const T* log_probs, const int* targets, int classes, T* grad, T g) {
  const int t = targets[r];
  const bool valid = target_valid(t, classes);
  if (grad) {
    T* row = grad + r * classes;
    for (int c = 0; c < classes; ++c) row[c] = T(0);
    if (valid) row[t] = g;
  }
  return valid ? -static_cast<double>(log_probs[r * classes + t]) : 0.0;
}

// CrossEntropyLoss on logits (log-softmax fused): gradient (softmax - one_hot) * k with k = scale / batch,
// in double as CrossEntropyLoss::backward; returns the row's loss lse - x[target]. grad may be null.
template <class T>
CTNET_HD inline double cross_entropy_row(long r, const T* logits, const int* targets, int classes, T* grad, double k) {
  const int t = targets[r];
  const T* x = logits + r * classes;
  T* g = grad ? grad + r * classes : nullptr;
  if (!target_valid(t, classes)) {
    if (g)
      for (int c = 0; c < classes; ++c) g[c] = T(0);
    return 0.0;
  }
  double m = static_cast<double>(x[0]);
  for (int c = 1; c < classes; ++c) m = std::fmax(m, static_cast<double>(x[c]));
  double sum = 0;
  for (int c = 0; c < classes; ++c) sum += std::exp(static_cast<double>(x[c]) - m);
  const double lse = m + std::log(sum);
  if (g)
    for (int c = 0; c < classes; ++c)
      g[c] = static_cast<T>((std::exp(static_cast<double>(x[c]) - lse) - (c == t ? 1.0 : 0.0)) * k);
  return lse - static_cast<double>(x[t]);
}

}  // namespace ctnet::kernels
