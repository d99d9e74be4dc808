// ctnet/backend/common/pool.hpp — per-element pooling backward bodies and global average pooling.
//
// Requires: NCHW tensors, windows inside the input (no padding); `planes` = batch * channels.
// Guarantees: the backward bodies gather, per input element, the gradients of every window that covers it,
// in (oy, ox) order — the order cpu::PoolOps scatters them in — so results are bit-identical to the CPU
// and need no atomics. Max-pool backward credits the first maximum of each window, as forward picks it.
#pragma once

#include "../../core/host_device.hpp"

namespace ctnet::kernels {

// Range of output rows (or columns) whose window covers input row (or column) `at`.
CTNET_HD inline void covering_windows(int at, int kernel, int stride, int out, int& first, int& last) {
  first = at < kernel ? 0 : (at - kernel) / stride + 1;
  last = at / stride;
  if (last > out - 1) last = out - 1;
}

template <class T>
CTNET_HD inline void maxpool_backward_gather(long i, const T* x, const T* gy, T* gx, int in_h, int in_w, int out_h,
                                             int out_w, int kernel, int stride) {
  const long plane = i / (static_cast<long>(in_h) * in_w);
  const int at = static_cast<int>(i % (static_cast<long>(in_h) * in_w));
  const int iy = at / in_w, ix = at % in_w;
  const T* xp = x + plane * in_h * in_w;
  const T* gyp = gy + plane * out_h * out_w;
  int oy0, oy1, ox0, ox1;
  covering_windows(iy, kernel, stride, out_h, oy0, oy1);
  covering_windows(ix, kernel, stride, out_w, ox0, ox1);
  T sum = T(0);
  for (int oy = oy0; oy <= oy1; ++oy)
    for (int ox = ox0; ox <= ox1; ++ox) {
      int best = (oy * stride) * in_w + ox * stride;
      for (int ky = 0; ky < kernel; ++ky)
        for (int kx = 0; kx < kernel; ++kx) {
          const int a = (oy * stride + ky) * in_w + ox * stride + kx;
          if (xp[a] > xp[best]) best = a;
        }
      if (best == at) sum += gyp[oy * out_w + ox];
    }
  gx[i] = sum;
}

template <class T>
CTNET_HD inline void avgpool_backward_gather(long i, const T* gy, T* gx, int in_h, int in_w, int out_h, int out_w,
                                             int kernel, int stride) {
  const long plane = i / (static_cast<long>(in_h) * in_w);
  const int at = static_cast<int>(i % (static_cast<long>(in_h) * in_w));
  const int iy = at / in_w, ix = at % in_w;
  const T* gyp = gy + plane * out_h * out_w;
  const T scale = T(1) / T(kernel * kernel);
  int oy0, oy1, ox0, ox1;
  covering_windows(iy, kernel, stride, out_h, oy0, oy1);
  covering_windows(ix, kernel, stride, out_w, ox0, ox1);
  T sum = T(0);
  for (int oy = oy0; oy <= oy1; ++oy)
    for (int ox = ox0; ox <= ox1; ++ox) sum += gyp[oy * out_w + ox] * scale;
  gx[i] = sum;
}

// One output per plane: the mean of its `spatial` inputs, summed in order.
template <class T>
CTNET_HD inline void global_avgpool_forward(long p, const T* x, T* y, int spatial) {
  T sum = T(0);
  for (int i = 0; i < spatial; ++i) sum += x[p * spatial + i];
  y[p] = sum / T(spatial);
}

template <class T>
CTNET_HD inline void global_avgpool_backward(long i, const T* gy, T* gx, int spatial) {
  gx[i] = gy[i / spatial] / T(spatial);
}

}  // namespace ctnet::kernels
