// ctnet/backend/common/elementwise.hpp — per-element kernel bodies shared by the CPU and CUDA backends.
//
// Requires: nothing but ctnet/core. Guarantees: each body is a CTNET_HD function of one index, so the
// CPU backend runs it in an OpenMP loop and the CUDA backend in a grid, and CPU tests check the same
// arithmetic the GPU runs (DESIGN principle 8). Dropout masks are a pure function of (seed, step,
// layer position, element index), so a backend may draw them again in backward instead of storing them
// (the CUDA backend does; the CPU keeps them as bits).
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

// Dropout keeps unit `unit` when its uniform draw u = bits/2^24 (24 random bits) is >= p, that is when
// bits >= ceil(p * 2^24): an integer comparison with the same result. Masks are a pure function of
// (seed, step, layer position, unit), so forward and backward, CPU and CUDA draw the same ones.
CTNET_HD inline std::uint32_t dropout_threshold(float p) {
  const float t = p * 16777216.0f;  // exact: a power-of-two scaling
  const std::uint32_t floor_t = static_cast<std::uint32_t>(t);
  return static_cast<float>(floor_t) == t ? floor_t : floor_t + 1;
}
CTNET_HD inline std::uint64_t dropout_draw(std::uint64_t step, int position) {
  return (step << 10) | static_cast<std::uint64_t>(position & 1023);
}
CTNET_HD inline bool dropout_keep(std::uint64_t seed, std::uint64_t step, int position, long unit, float p) {
  return (random_bits(seed, RngStream::dropout, dropout_draw(step, position), static_cast<std::uint64_t>(unit)) >>
          8) >= dropout_threshold(p);
}

// `unit_size` elements share one mask bit: 1 for Dropout, H*W for Dropout2d (whole channels); element i
// is in unit first_unit + i / unit_size (first_unit: the units of the global batch's rows before this one's).
template <class T>
CTNET_HD inline void dropout_apply(long i, const T* x, T* y, std::uint64_t seed, std::uint64_t step, int position,
                                   long unit_size, float p, std::uint64_t first_unit = 0) {
  const T scale = T(1) / (T(1) - T(p));
  y[i] = dropout_keep(seed, step, position, long(first_unit + std::uint64_t(i / unit_size)), p) ? x[i] * scale : T(0);
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

// Batch-norm's normalise-and-scale of one value of channel c, given that channel's mean and inverse
// standard deviation; h (the normalised value) is kept for backward.
template <class T>
CTNET_HD inline T batchnorm_normalize(T x, T mean, T inv_std, T gamma, T beta, T& h) {
  h = (x - mean) * inv_std;
  return gamma * h + beta;
}

// The same for element i of a [batch x channels x spatial] tensor (spatial = H*W, 1 for BatchNorm1d).
template <class T>
CTNET_HD inline void batchnorm_apply(long i, const T* x, T* y, T* xhat, const T* mean, const T* inv_std,
                                     const T* gamma, const T* beta, int channels, long spatial) {
  const int c = static_cast<int>((i / spatial) % channels);
  T h;
  y[i] = batchnorm_normalize(x[i], mean[c], inv_std[c], gamma[c], beta[c], h);
  if (xhat) xhat[i] = h;
}

}  // namespace ctnet::kernels
