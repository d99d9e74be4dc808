// ctnet/backend/common/conv.hpp — per-element convolution bodies shared by the CPU and CUDA backends.
//
// Requires: NCHW tensors, a compile-time ConvGeometry G. Columns of a batch are laid out
// [sample][in_c*K*K][out_h*out_w] (one im2col matrix per sample, as cpu::im2col writes it).
// Guarantees: each body is a CTNET_HD function of one output index, so a CUDA grid and a host loop run the
// same arithmetic. col2im_gather sums the column entries that touch one input pixel in (ky, kx) order,
// the order cpu::col2im_add adds them in, so its result is bit-identical and needs no atomics.
#pragma once

#include "../../core/host_device.hpp"
#include "geometry.hpp"

namespace ctnet::kernels {

// One element of the batch's column matrix: i over n * col_rows * out_hw.
template <ConvGeometry G, class T>
CTNET_HD inline void im2col_element(long i, const T* x, T* col) {
  constexpr long per_sample = long(G.col_rows()) * G.out_hw();
  const long s = i / per_sample;
  const int r = static_cast<int>((i / G.out_hw()) % G.col_rows());
  const int p = static_cast<int>(i % G.out_hw());
  const int c = r / (G.kernel * G.kernel), ky = (r / G.kernel) % G.kernel, kx = r % G.kernel;
  const int iy = (p / G.out_w) * G.stride - G.padding + ky, ix = (p % G.out_w) * G.stride - G.padding + kx;
  const bool inside = iy >= 0 && iy < G.in_h && ix >= 0 && ix < G.in_w;
  col[i] = inside ? x[s * G.in_size() + (long(c) * G.in_h + iy) * G.in_w + ix] : T(0);
}

// One input-gradient element from the column gradients: i over n * in_c * in_h * in_w.
template <ConvGeometry G, class T>
CTNET_HD inline void col2im_gather(long i, const T* col, T* x) {
  constexpr long per_sample = long(G.col_rows()) * G.out_hw();
  const long s = i / G.in_size();
  const int c = static_cast<int>((i / (long(G.in_h) * G.in_w)) % G.in_c);
  const int iy = static_cast<int>((i / G.in_w) % G.in_h), ix = static_cast<int>(i % G.in_w);
  const T* cs = col + s * per_sample;
  T sum = T(0);
  for (int ky = 0; ky < G.kernel; ++ky) {
    const int ty = iy + G.padding - ky;
    if (ty < 0 || ty % G.stride != 0 || ty / G.stride >= G.out_h) continue;
    for (int kx = 0; kx < G.kernel; ++kx) {
      const int tx = ix + G.padding - kx;
      if (tx < 0 || tx % G.stride != 0 || tx / G.stride >= G.out_w) continue;
      sum += cs[long((c * G.kernel + ky) * G.kernel + kx) * G.out_hw() + (ty / G.stride) * G.out_w + tx / G.stride];
    }
  }
  x[i] = sum;
}

// Adds the per-channel bias to one element of an [n x channels x spatial] tensor.
template <class T>
CTNET_HD inline void bias_add(long i, T* y, const T* b, int channels, long spatial) {
  y[i] += b[(i / spatial) % channels];
}

}  // namespace ctnet::kernels
