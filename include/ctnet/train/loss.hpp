// ctnet/train/loss.hpp — NLLLoss, CrossEntropyLoss and MSELoss over a batch, mean reduction (PyTorch's default).
//
// Requires: row-major host buffers, [batch x classes] scores with `const int*` class targets, or [batch x n]
// predictions with `const T*` targets of the same shape; batch > 0 and a row width > 0; T is float or double.
// Guarantees: forward(...) returns the mean loss (accumulated in double, returned as T); backward(...) writes
// d(scale * loss) / d(input) into grad_input (overwriting it, same shape as the input) and allocates nothing.
// Every class target is checked: one outside [0, classes) throws ctnet::Error naming the target and its row.
// The loss structs are stateless apart from their configuration, so one object serves float and double.
#pragma once

#include <cmath>
#include <concepts>
#include <string>

#include "../core/error.hpp"

namespace ctnet {

namespace detail {

inline void check_loss_shape(const char* loss, int batch, int width) {
  if (batch <= 0 || width <= 0) {
    throw Error(std::string(loss) + ": batch (" + std::to_string(batch) + ") and row width (" +
                std::to_string(width) + ") must both be positive");
  }
}

// Checked on every call, not only in debug builds: a label outside the range would silently read another
// sample's scores, and a bad label file is a common, otherwise invisible mistake.
[[noreturn]] inline void throw_bad_target(const char* loss, int target, int row, int classes) {
  throw Error(std::string(loss) + ": target " + std::to_string(target) + " in row " + std::to_string(row) +
              " is out of range [0, " + std::to_string(classes) + ")");
}

// Returns the target as an index once it is known to be in range.
inline long checked_class_target(const char* loss, int target, int row, int classes) {
  if (target < 0 || target >= classes) throw_bad_target(loss, target, row, classes);
  return target;
}

// log(sum(exp(x))) shifted by the row maximum, so large logits neither overflow nor lose the small ones.
template <std::floating_point T>
double log_sum_exp(const T* x, int n) {
  double row_max = static_cast<double>(x[0]);
  for (int c = 1; c < n; ++c) row_max = std::fmax(row_max, static_cast<double>(x[c]));
  double sum = 0;
  for (int c = 0; c < n; ++c) sum += std::exp(static_cast<double>(x[c]) - row_max);
  return row_max + std::log(sum);
}

}  // namespace detail

// Negative log-likelihood of log-probabilities (the output of LogSoftmax): mean over rows of -log_probs[target].
struct NLLLoss {
  template <std::floating_point T>
  T forward(const T* log_probs, const int* targets, int batch, int classes) const {
    detail::check_loss_shape("NLLLoss", batch, classes);
    double sum = 0;
    for (int i = 0; i < batch; ++i) {
      const long t = detail::checked_class_target("NLLLoss", targets[i], i, classes);
      sum -= static_cast<double>(log_probs[static_cast<long>(i) * classes + t]);
    }
    return static_cast<T>(sum / batch);
  }

  template <std::floating_point T>
  void backward(const T* log_probs, const int* targets, int batch, int classes, T* grad_input, T scale = 1) const {
    (void)log_probs;  // the gradient of a gather does not depend on the values gathered
    detail::check_loss_shape("NLLLoss", batch, classes);
    const T g = -scale / static_cast<T>(batch);
    for (int i = 0; i < batch; ++i) {
      const long t = detail::checked_class_target("NLLLoss", targets[i], i, classes);
      T* row = grad_input + static_cast<long>(i) * classes;
      for (int c = 0; c < classes; ++c) row[c] = 0;
      row[t] = g;
    }
  }
};

// Log-softmax fused with NLLLoss, taking raw logits. With label_smoothing = e the target distribution is
// (1 - e) * one_hot(target) + e / classes (PyTorch's definition: the uniform part includes the target class).
class CrossEntropyLoss {
 public:
  explicit CrossEntropyLoss(double label_smoothing = 0) : label_smoothing_(label_smoothing) {
    if (!(label_smoothing >= 0 && label_smoothing <= 1)) {
      throw OptionError("CrossEntropyLoss: label_smoothing must be in [0, 1], got " +
                        std::to_string(label_smoothing));
    }
  }

  double label_smoothing() const noexcept { return label_smoothing_; }

  // Per row: lse - (1 - e) * x[target] - (e / classes) * sum(x), with lse = log(sum(exp(x))).
  template <std::floating_point T>
  T forward(const T* logits, const int* targets, int batch, int classes) const {
    detail::check_loss_shape("CrossEntropyLoss", batch, classes);
    const double e = label_smoothing_;
    double sum = 0;
    for (int i = 0; i < batch; ++i) {
      const long t = detail::checked_class_target("CrossEntropyLoss", targets[i], i, classes);
      const T* x = logits + static_cast<long>(i) * classes;
      const double lse = detail::log_sum_exp(x, classes);
      double row_loss = (1 - e) * (lse - static_cast<double>(x[t]));
      if (e != 0) {
        double total = 0;
        for (int c = 0; c < classes; ++c) total += lse - static_cast<double>(x[c]);
        row_loss += e / classes * total;
      }
      sum += row_loss;
    }
    return static_cast<T>(sum / batch);
  }

  // d/dx = (softmax(x) - smoothed one-hot) * scale / batch.
  template <std::floating_point T>
  void backward(const T* logits, const int* targets, int batch, int classes, T* grad_input, T scale = 1) const {
    detail::check_loss_shape("CrossEntropyLoss", batch, classes);
    const double e = label_smoothing_;
    const double k = static_cast<double>(scale) / batch;
    const double uniform = e / classes;
    for (int i = 0; i < batch; ++i) {
      const long t = detail::checked_class_target("CrossEntropyLoss", targets[i], i, classes);
      const T* x = logits + static_cast<long>(i) * classes;
      T* g = grad_input + static_cast<long>(i) * classes;
      const double lse = detail::log_sum_exp(x, classes);
      for (int c = 0; c < classes; ++c) {
        const double target_prob = uniform + (c == t ? 1 - e : 0.0);
        g[c] = static_cast<T>((std::exp(static_cast<double>(x[c]) - lse) - target_prob) * k);
      }
    }
  }

 private:
  double label_smoothing_;
};

// Mean squared error over all batch * n elements.
struct MSELoss {
  template <std::floating_point T>
  T forward(const T* input, const T* targets, int batch, int n) const {
    detail::check_loss_shape("MSELoss", batch, n);
    const long count = static_cast<long>(batch) * n;
    double sum = 0;
    for (long j = 0; j < count; ++j) {
      const double d = static_cast<double>(input[j]) - static_cast<double>(targets[j]);
      sum += d * d;
    }
    return static_cast<T>(sum / static_cast<double>(count));
  }

  template <std::floating_point T>
  void backward(const T* input, const T* targets, int batch, int n, T* grad_input, T scale = 1) const {
    detail::check_loss_shape("MSELoss", batch, n);
    const long count = static_cast<long>(batch) * n;
    const T k = static_cast<T>(2 * static_cast<double>(scale) / static_cast<double>(count));
    for (long j = 0; j < count; ++j) grad_input[j] = k * (input[j] - targets[j]);
  }
};

}  // namespace ctnet
