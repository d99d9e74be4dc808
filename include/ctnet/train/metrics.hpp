// ctnet/train/metrics.hpp — classification accuracy counting.
//
// Requires: row-major [batch x classes] scores (logits, probabilities or log-probabilities: only the order
// matters) and one class target per row; batch >= 0, classes > 0.
// Guarantees: correct_count returns how many rows have argmax == target, where a tie picks the lowest index
// (torch.argmax's rule) and a NaN score loses to any number. It neither allocates nor throws; a target outside
// [0, classes) simply never matches.
#pragma once

#include <concepts>

namespace ctnet {

// Index of the largest score in one row of `classes` scores.
template <std::floating_point T>
int argmax_row(const T* scores, int classes) {
  int best = 0;
  for (int c = 1; c < classes; ++c) {
    // Strictly greater keeps the first of equal maxima; replacing a NaN best makes NaN lose to any number.
    if (scores[c] > scores[best] || scores[best] != scores[best]) best = c;
  }
  return best;
}

template <std::floating_point T>
int correct_count(const T* scores, const int* targets, int batch, int classes) {
  int correct = 0;
  for (int i = 0; i < batch; ++i) correct += argmax_row(scores + static_cast<long>(i) * classes, classes) == targets[i];
  return correct;
}

}  // namespace ctnet
