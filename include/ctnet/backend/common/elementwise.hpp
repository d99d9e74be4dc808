// ctnet/backend/common/elementwise.hpp — per-element kernel bodies shared by the CPU and CUDA backends.
//
// Requires: nothing but ctnet/core. Guarantees: each body is a CTNET_HD function of one index, so the
// CPU backend runs it in an OpenMP loop and the CUDA backend in a grid, and CPU tests check the same
// arithmetic the GPU runs (DESIGN principle 8). Dropout masks are a pure function of (seed, step,
// layer position, element index), so backward recomputes them instead of storing them.
#pragma once

#include <cstdint>

#include "../../core/host_device.hpp"
#include "../../core/rng.hpp"

namespace ctnet::kernels {

template <class T>
CTNET_HD inline void relu_forward(long i, const T* x, T* y) {
  y[i] = x[i] > T(0) ? x[i] : T(0);
}

// Uses the output: y > 0 exactly where x > 0.
template <class T>
CTNET_HD inline void relu_backward(long i, const T* y, const T* gy, T* gx) {
  gx[i] = y[i] > T(0) ? gy[i] : T(0);
}

// Mask element `unit` of a layer at `position` for training step `step`: true means kept.
CTNET_HD inline bool dropout_keep(std::uint64_t seed, std::uint64_t step, int position, long unit, float p) {
  const std::uint64_t draw = (step << 10) | static_cast<std::uint64_t>(position & 1023);
  return random_uniform(seed, RngStream::dropout, draw, static_cast<std::uint64_t>(unit)) >= p;
}

// `unit_size` elements share one mask bit: 1 for Dropout, H*W for Dropout2d (whole channels).
template <class T>
CTNET_HD inline void dropout_apply(long i, const T* x, T* y, std::uint64_t seed, std::uint64_t step, int position,
                                   long unit_size, float p) {
  const T scale = T(1) / (T(1) - T(p));
  y[i] = dropout_keep(seed, step, position, i / unit_size, p) ? x[i] * scale : T(0);
}

// Max over one output's window; ties go to the first element in row-major window order (as PyTorch).
template <class T>
CTNET_HD inline void maxpool_forward(long o, const T* x, T* y, int in_h, int in_w, int out_h, int out_w,
                                     int kernel, int stride) {
  const long plane = o / (static_cast<long>(out_h) * out_w);  // sample * channels + channel
  const int oy = static_cast<int>((o / out_w) % out_h), ox = static_cast<int>(o % out_w);
  const T* xp = x + plane * in_h * in_w;
  T best = xp[(oy * stride) * in_w + ox * stride];
  for (int ky = 0; ky < kernel; ++ky)
    for (int kx = 0; kx < kernel; ++kx) {
      const T v = xp[(oy * stride + ky) * in_w + ox * stride + kx];
      if (v > best) best = v;
    }
  y[o] = best;
}

template <class T>
CTNET_HD inline void avgpool_forward(long o, const T* x, T* y, int in_h, int in_w, int out_h, int out_w, int kernel,
                                     int stride) {
  const long plane = o / (static_cast<long>(out_h) * out_w);
  const int oy = static_cast<int>((o / out_w) % out_h), ox = static_cast<int>(o % out_w);
  const T* xp = x + plane * in_h * in_w;
  T sum = T(0);
  for (int ky = 0; ky < kernel; ++ky)
    for (int kx = 0; kx < kernel; ++kx) sum += xp[(oy * stride + ky) * in_w + ox * stride + kx];
  y[o] = sum / T(kernel * kernel);
}

// Batch-norm affine step with precomputed per-channel mean and inverse standard deviation;
// `spatial` is H*W (1 for BatchNorm1d). xhat (optional) keeps the normalised value for backward.
template <class T>
CTNET_HD inline void batchnorm_apply(long i, const T* x, T* y, T* xhat, const T* mean, const T* inv_std,
                                     const T* gamma, const T* beta, int channels, long spatial) {
  const int c = static_cast<int>((i / spatial) % channels);
  const T h = (x[i] - mean[c]) * inv_std[c];
  if (xhat) xhat[i] = h;
  y[i] = gamma[c] * h + beta[c];
}

}  // namespace ctnet::kernels
