// ctnet/backend/cpu/softmax.hpp — softmax and log-softmax over the last dimension on the CPU.
//
// Requires: x [rows x N] row-major. Guarantees: numerically stable (max subtracted); one row per task.
#pragma once

#include <algorithm>
#include <cmath>

#include "elementwise.hpp"

namespace ctnet::cpu {

struct SoftmaxOps {
  template <int N, class T>
  static void log_softmax_forward(const T* x, T* y, long rows) {
    for_each_index(rows, [=](long r) {
      const T* xr = x + r * N;
      const T m = *std::max_element(xr, xr + N);
      T sum = T(0);
      for (int i = 0; i < N; ++i) sum += std::exp(xr[i] - m);
      const T log_sum = m + std::log(sum);
      for (int i = 0; i < N; ++i) y[r * N + i] = xr[i] - log_sum;
    });
  }
  // gx = gy - softmax * sum(gy), with softmax = exp(y).
  template <int N, class T>
  static void log_softmax_backward(const T* y, const T* gy, T* gx, long rows) {
    for_each_index(rows, [=](long r) {
      T sum = T(0);
      for (int i = 0; i < N; ++i) sum += gy[r * N + i];
      for (int i = 0; i < N; ++i) gx[r * N + i] = gy[r * N + i] - std::exp(y[r * N + i]) * sum;
    });
  }
  template <int N, class T>
  static void softmax_forward(const T* x, T* y, long rows) {
    for_each_index(rows, [=](long r) {
      const T* xr = x + r * N;
      const T m = *std::max_element(xr, xr + N);
      T sum = T(0);
      for (int i = 0; i < N; ++i) sum += (y[r * N + i] = std::exp(xr[i] - m));
      for (int i = 0; i < N; ++i) y[r * N + i] /= sum;
    });
  }
  // gx = y * (gy - sum(gy * y)).
  template <int N, class T>
  static void softmax_backward(const T* y, const T* gy, T* gx, long rows) {
    for_each_index(rows, [=](long r) {
      T dot = T(0);
      for (int i = 0; i < N; ++i) dot += gy[r * N + i] * y[r * N + i];
      for (int i = 0; i < N; ++i) gx[r * N + i] = y[r * N + i] * (gy[r * N + i] - dot);
    });
  }
};

}  // namespace ctnet::cpu
