// ctnet/backend/cpu/softmax.hpp — softmax and log-softmax over the last dimension on the CPU.
//
// Requires: x [rows x N] row-major. Guarantees: numerically stable (max subtracted); one row per task, running
// the shared row bodies of backend/common/softmax.hpp that the CUDA backend runs too.
#pragma once

#include "../common/softmax.hpp"
#include "elementwise.hpp"

namespace ctnet::cpu {

struct SoftmaxOps {
  template <int N, class T>
  static void log_softmax_forward(const T* x, T* y, long rows) {
    for_each_index(rows, [=](long r) { kernels::log_softmax_row(r, x, y, N); });
  }
  // gx = gy - softmax * sum(gy), with softmax = exp(y).
  template <int N, class T>
  static void log_softmax_backward(const T* y, const T* gy, T* gx, long rows) {
    for_each_index(rows, [=](long r) { kernels::log_softmax_backward_row(r, y, gy, gx, N); });
  }
  template <int N, class T>
  static void softmax_forward(const T* x, T* y, long rows) {
    for_each_index(rows, [=](long r) { kernels::softmax_row(r, x, y, N); });
  }
  // gx = y * (gy - sum(gy * y)).
  template <int N, class T>
  static void softmax_backward(const T* y, const T* gy, T* gx, long rows) {
    for_each_index(rows, [=](long r) { kernels::softmax_backward_row(r, y, gy, gx, N); });
  }
};

}  // namespace ctnet::cpu
