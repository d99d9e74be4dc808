// ctnet/backend/common/softmax.hpp — softmax and log-softmax of one row, shared by the CPU and CUDA backends.
//
// Requires: x [rows x n] row-major. Guarantees: one CTNET_HD function per row and direction; numerically
// stable (the row maximum is subtracted); sums run in index order, so the CPU result does not depend on
// the thread count and the device differs only by its exp/log rounding.
#pragma once

#include <cmath>

#include "../../core/host_device.hpp"

namespace ctnet::kernels {

template <class T>
CTNET_HD inline T row_max(const T* x, int n) {
  T m = x[0];
  for (int i = 1; i < n; ++i)
    if (x[i] > m) m = x[i];
  return m;
}

template <class T>
CTNET_HD inline void log_softmax_row(long r, const T* x, T* y, int n) {
  const T* xr = x + r * n;
  const T m = row_max(xr, n);
  T sum = T(0);
  for (int i = 0; i < n; ++i) sum += std::exp(xr[i] - m);
  const T log_sum = m + std::log(sum);
  for (int i = 0; i < n; ++i) y[r * n + i] = xr[i] - log_sum;
}

// gx = gy - softmax * sum(gy), with softmax = exp(y).
template <class T>
CTNET_HD inline void log_softmax_backward_row(long r, const T* y, const T* gy, T* gx, int n) {
  T sum = T(0);
  for (int i = 0; i < n; ++i) sum += gy[r * n + i];
  for (int i = 0; i < n; ++i) gx[r * n + i] = gy[r * n + i] - std::exp(y[r * n + i]) * sum;
}

template <class T>
CTNET_HD inline void softmax_row(long r, const T* x, T* y, int n) {
  const T* xr = x + r * n;
  const T m = row_max(xr, n);
  T sum = T(0);
  for (int i = 0; i < n; ++i) sum += (y[r * n + i] = std::exp(xr[i] - m));
  for (int i = 0; i < n; ++i) y[r * n + i] /= sum;
}

// gx = y * (gy - sum(gy * y)).
template <class T>
CTNET_HD inline void softmax_backward_row(long r, const T* y, const T* gy, T* gx, int n) {
  T dot = T(0);
  for (int i = 0; i < n; ++i) dot += gy[r * n + i] * y[r * n + i];
  for (int i = 0; i < n; ++i) gx[r * n + i] = y[r * n + i] * (gy[r * n + i] - dot);
}

}  // namespace ctnet::kernels
