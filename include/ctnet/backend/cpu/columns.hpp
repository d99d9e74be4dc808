// ctnet/backend/cpu/columns.hpp — a convolution's column transforms on the CPU: im2col (one sample's
// input as a col_rows x out_hw matrix), col2im (column gradients back to an input gradient) and the
// input gradient formed one input channel at a time (AVX-512, float).
//
// Requires: tensors NCHW, one sample per call; columns row-major, row (c, ky, kx), column (oy, ox), as
// PyTorch's unfold lays them out. Guarantees: loop bounds come from the compile-time ConvGeometry;
// padding reads as zeros; col2im adds each input pixel's column entries in (ky, kx) order on every path
// (scalar, stride-1 runs, AVX-512 rows), so every path gives the same bits, and the same as the shared
// gather body of backend/common/conv.hpp. The AVX-512 paths exist only when the target has AVX-512F.
#pragma once

#include <algorithm>
#include <type_traits>

#include "../common/geometry.hpp"
#include "small_gemm.hpp"

namespace ctnet::cpu {

// With stride 1 an output row reads a contiguous run of an input row: [first, last) are the outputs
// whose input column ox - padding + kx lies inside the image (the rest are padding zeros).
template <ConvGeometry G>
constexpr int inside_first(int kx) {
  return G.padding - kx > 0 ? G.padding - kx : 0;
}
template <ConvGeometry G>
constexpr int inside_last(int kx) {
  return G.in_w + G.padding - kx < G.out_w ? G.in_w + G.padding - kx : G.out_w;
}

#if defined(__AVX512F__)
// Lanes l of a 16-float vector with lo <= l < hi.
inline __mmask16 lanes_between(int lo, int hi) {
  lo = lo < 0 ? 0 : lo;
  hi = hi > 16 ? 16 : hi;
  return hi <= lo ? __mmask16(0) : __mmask16(((1u << hi) - 1) & ~((1u << lo) - 1));
}

// Stride-1 im2col of float with masked vector copies: the padding lanes are loaded as zeros.
template <ConvGeometry G, int Pitch>
void im2col_avx512(const float* x, float* col) {
  for (int c = 0; c < G.in_c; ++c)
    for (int ky = 0; ky < G.kernel; ++ky)
      for (int kx = 0; kx < G.kernel; ++kx) {
        float* row = col + ((c * G.kernel + ky) * G.kernel + kx) * Pitch;
        const int first = inside_first<G>(kx), last = inside_last<G>(kx);
        for (int oy = 0; oy < G.out_h; ++oy) {
          const int iy = oy - G.padding + ky;
          const bool inside = iy >= 0 && iy < G.in_h;
          const float* in = x + (c * G.in_h + (inside ? iy : 0)) * G.in_w - G.padding + kx;
          float* out = row + oy * G.out_w;
          for (int ox = 0; ox < G.out_w; ox += 16) {
            const __mmask16 load = inside ? lanes_between(first - ox, last - ox) : __mmask16(0);
            _mm512_mask_storeu_ps(out + ox, lanes_between(0, G.out_w - ox), _mm512_maskz_loadu_ps(load, in + ox));
          }
        }
      }
}

#endif

template <ConvGeometry G, class T>
void im2col(const T* x, T* col) {
#if defined(__AVX512F__)
  if constexpr (G.stride == 1 && std::is_same_v<T, float>) {
    im2col_avx512<G, G.out_hw()>(x, col);
    return;
  }
#endif
  if constexpr (G.stride == 1) {
    for (int c = 0; c < G.in_c; ++c)
      for (int ky = 0; ky < G.kernel; ++ky)
        for (int kx = 0; kx < G.kernel; ++kx) {
          T* row = col + ((c * G.kernel + ky) * G.kernel + kx) * G.out_hw();
          const int first = inside_first<G>(kx), last = inside_last<G>(kx);
          for (int oy = 0; oy < G.out_h; ++oy) {
            const int iy = oy - G.padding + ky;
            T* out = row + oy * G.out_w;
            if (iy < 0 || iy >= G.in_h) {
              for (int ox = 0; ox < G.out_w; ++ox) out[ox] = T(0);
              continue;
            }
            const T* in = x + (c * G.in_h + iy) * G.in_w - G.padding + kx;
            for (int ox = 0; ox < first; ++ox) out[ox] = T(0);
            for (int ox = first; ox < last; ++ox) out[ox] = in[ox];
            for (int ox = last; ox < G.out_w; ++ox) out[ox] = T(0);
          }
        }
    return;
  }
  for (int c = 0; c < G.in_c; ++c)
    for (int ky = 0; ky < G.kernel; ++ky)
      for (int kx = 0; kx < G.kernel; ++kx) {
        T* row = col + ((c * G.kernel + ky) * G.kernel + kx) * G.out_hw();
        for (int oy = 0; oy < G.out_h; ++oy) {
          const int iy = oy * G.stride - G.padding + ky;
          for (int ox = 0; ox < G.out_w; ++ox) {
            const int ix = ox * G.stride - G.padding + kx;
            const bool inside = iy >= 0 && iy < G.in_h && ix >= 0 && ix < G.in_w;
            row[oy * G.out_w + ox] = inside ? x[(c * G.in_h + iy) * G.in_w + ix] : T(0);
          }
        }
      }
}

// (Scalar: vectorised as it stands, kx and kx + 1 add into ranges one float apart, and masked vector
// stores followed by overlapping loads defeat store-to-load forwarding, 40% slower; col2im_channel_avx512
// below gathers per input row instead.)
template <ConvGeometry G, class T>
void col2im_add(const T* col, T* x) {
  if constexpr (G.stride == 1) {  // the same additions in the same order, a contiguous run at a time
    for (int c = 0; c < G.in_c; ++c)
      for (int ky = 0; ky < G.kernel; ++ky)
        for (int kx = 0; kx < G.kernel; ++kx) {
          const T* row = col + ((c * G.kernel + ky) * G.kernel + kx) * G.out_hw();
          const int first = inside_first<G>(kx), last = inside_last<G>(kx);
          for (int oy = 0; oy < G.out_h; ++oy) {
            const int iy = oy - G.padding + ky;
            if (iy < 0 || iy >= G.in_h) continue;
            T* out = x + (c * G.in_h + iy) * G.in_w - G.padding + kx;
            const T* in = row + oy * G.out_w;
            for (int ox = first; ox < last; ++ox) out[ox] += in[ox];
          }
        }
    return;
  }
  for (int c = 0; c < G.in_c; ++c)
    for (int ky = 0; ky < G.kernel; ++ky)
      for (int kx = 0; kx < G.kernel; ++kx) {
        const T* row = col + ((c * G.kernel + ky) * G.kernel + kx) * G.out_hw();
        for (int oy = 0; oy < G.out_h; ++oy) {
          const int iy = oy * G.stride - G.padding + ky;
          if (iy < 0 || iy >= G.in_h) continue;
          for (int ox = 0; ox < G.out_w; ++ox) {
            const int ix = ox * G.stride - G.padding + kx;
            if (ix >= 0 && ix < G.in_w) x[(c * G.in_h + iy) * G.in_w + ix] += row[oy * G.out_w + ox];
          }
        }
      }
}

#if defined(__AVX512F__)
// Stride-1 col2im of float that writes x: per input row, the column entries that touch it are added in
// registers in (ky, kx) order (masked lanes add +0) and the row is stored once. The same additions in the
// same order as col2im_add into zeros, so the same bits, without col2im_add's read-modify-write of
// overlapping ranges. One input channel: `col` holds its kernel^2 rows, `x` is its plane.
template <ConvGeometry G>
void col2im_channel_avx512(const float* col, float* x) {
  constexpr int vectors = (G.in_w + 15) / 16;
  for (int iy = 0; iy < G.in_h; ++iy) {
    __m512 acc[vectors];
    for (int v = 0; v < vectors; ++v) acc[v] = _mm512_setzero_ps();
    for (int ky = 0; ky < G.kernel; ++ky) {
      const int oy = iy + G.padding - ky;
      if (oy < 0 || oy >= G.out_h) continue;
      for (int kx = 0; kx < G.kernel; ++kx) {
        // Input column ix takes output column ox = ix + padding - kx of this row.
        const float* row = col + long(ky * G.kernel + kx) * G.out_hw() + oy * G.out_w + G.padding - kx;
        for (int v = 0; v < vectors; ++v) {
          const int ix0 = 16 * v;
          const __mmask16 valid = lanes_between(kx - G.padding - ix0, std::min(G.out_w + kx - G.padding, G.in_w) - ix0);
          acc[v] = _mm512_add_ps(acc[v], _mm512_maskz_loadu_ps(valid, row + ix0));
        }
      }
    }
    float* out = x + long(iy) * G.in_w;
    for (int v = 0; v < vectors; ++v) _mm512_mask_storeu_ps(out + 16 * v, lanes_between(0, G.in_w - 16 * v), acc[v]);
  }
}

// The input gradient of one sample, one input channel at a time: its kernel^2 rows of column gradients
// (w^T's rows for the channel times gy) into a buffer small enough to stay in L1, then col2im from
// there. The same products and the same sums as the whole-sample GEMM and col2im, so the same bits.
template <ConvGeometry G>
void input_grad_by_channel(const float* wT, const float* gy, float* channel_cols, float* gx) {
  constexpr int rows = G.kernel * G.kernel, M = G.out_c, N = G.out_hw();
  for (int c = 0; c < G.in_c; ++c) {
    if constexpr (2 * rows <= 24)  // rows x 2 vectors of accumulators, one tile of rows
      detail::small_gemm_rows<rows, 2, M, N, false>(wT + long(c) * rows * M, gy, channel_cols, nullptr, NoEpilogue{},
                                                    0);
    else
      small_gemm<rows, M, N>(wT + long(c) * rows * M, gy, channel_cols);
    col2im_channel_avx512<G>(channel_cols, gx + long(c) * G.in_h * G.in_w);
  }
}
#endif

// x = the input gradient of one sample from its column gradients (col2im_add into zeros).
template <ConvGeometry G, class T>
void col2im(const T* col, T* x) {
#if defined(__AVX512F__)
  if constexpr (G.stride == 1 && std::is_same_v<T, float>) {
    constexpr long rows = long(G.kernel) * G.kernel;
    for (int c = 0; c < G.in_c; ++c)
      col2im_channel_avx512<G>(col + c * rows * G.out_hw(), x + long(c) * G.in_h * G.in_w);
    return;
  }
#endif
  std::fill(x, x + G.in_size(), T(0));
  col2im_add<G>(col, x);
}

}  // namespace ctnet::cpu
