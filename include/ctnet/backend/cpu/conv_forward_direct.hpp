// ctnet/backend/cpu/conv_forward_direct.hpp — a stride-1 convolution with 16 output channels for one
// sample, read straight from the input instead of from im2col columns (AVX-512, float).
//
// Requires: stride 1, out_c == 16, not pointwise; the input zero-padded by the caller when the geometry
// pads (as in conv_weight_grad.hpp); the weights transposed (col_rows x 16, row-major); the AVX-512F target.
// Guarantees: y (16 x out_hw) = w * columns [+ bias], then epilogue(channel, 16 outputs), each output one
// accumulator summed over the column rows in order from the bias (or zero): the same bits as small_gemm
// on the im2col columns. Sixteen output positions at a time are accumulated with the channels across the
// lanes — each column element a broadcast from the input at an offset fixed at compile time for the
// tile's position within an output row — and the 16 x 16 tile is transposed in registers before the
// epilogue and the store.
#pragma once

#if defined(__AVX512F__)
#include <immintrin.h>

#include <utility>

#include "../common/geometry.hpp"
#include "conv_weight_grad.hpp"
#include "small_gemm.hpp"

namespace ctnet::cpu {

template <ConvGeometry G>
inline constexpr bool has_direct_forward = G.stride == 1 && G.out_c == 16 && !G.is_pointwise();

namespace detail {

// Rows become columns: afterwards r[j] lane i is what r[i] lane j was. (Zero-masked forms with every lane
// selected: g++ 12 warns about the unmasked unpacks' and shuffles' undefined pass-through operand.)
inline void transpose16x16(__m512 (&r)[16]) {
  constexpr __mmask16 all16 = 0xFFFF;
  constexpr __mmask8 all8 = 0xFF;
  __m512 t[16], u[16];
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_maskz_unpacklo_ps(all16, r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_maskz_unpackhi_ps(all16, r[2 * i], r[2 * i + 1]);
  }
  // u[4q + j], 128-bit lane L: rows 4q..4q+3 of column 4L + j.
  for (int q = 0; q < 4; ++q) {
    const __m512d a = _mm512_castps_pd(t[4 * q]), b = _mm512_castps_pd(t[4 * q + 1]);
    const __m512d c = _mm512_castps_pd(t[4 * q + 2]), d = _mm512_castps_pd(t[4 * q + 3]);
    u[4 * q] = _mm512_castpd_ps(_mm512_maskz_unpacklo_pd(all8, a, c));
    u[4 * q + 1] = _mm512_castpd_ps(_mm512_maskz_unpackhi_pd(all8, a, c));
    u[4 * q + 2] = _mm512_castpd_ps(_mm512_maskz_unpacklo_pd(all8, b, d));
    u[4 * q + 3] = _mm512_castpd_ps(_mm512_maskz_unpackhi_pd(all8, b, d));
  }
  for (int j = 0; j < 4; ++j) {
    const __m512 v0 = _mm512_maskz_shuffle_f32x4(all16, u[j], u[4 + j], 0x88),
                 v4 = _mm512_maskz_shuffle_f32x4(all16, u[j], u[4 + j], 0xDD);
    const __m512 w0 = _mm512_maskz_shuffle_f32x4(all16, u[8 + j], u[12 + j], 0x88),
                 w4 = _mm512_maskz_shuffle_f32x4(all16, u[8 + j], u[12 + j], 0xDD);
    r[j] = _mm512_maskz_shuffle_f32x4(all16, v0, w0, 0x88);
    r[8 + j] = _mm512_maskz_shuffle_f32x4(all16, v0, w0, 0xDD);
    r[4 + j] = _mm512_maskz_shuffle_f32x4(all16, v4, w4, 0x88);
    r[12 + j] = _mm512_maskz_shuffle_f32x4(all16, v4, w4, 0xDD);
  }
}

// Offset in the padded input of output position p's window corner.
template <ConvGeometry G>
constexpr int window_offset(int p) {
  return (p / G.out_w) * padded_w<G> + p % G.out_w;
}

// Output positions p0 .. p0+Lanes-1 of all 16 channels, where R = p0 % out_w: the lanes' window offsets
// relative to the first depend on R only, so one body serves every tile with the same R.
template <ConvGeometry G, int R, int Lanes, class Epilogue>
inline void forward_tile(const float* x, const float* wT, const float* bias, float* y, int p0,
                         const Epilogue& epilogue) {
  __m512 acc[16];
  const __m512 start = bias ? _mm512_loadu_ps(bias) : _mm512_setzero_ps();
#pragma GCC unroll 16
  for (int r = 0; r < 16; ++r) acc[r] = start;
  const float* corner = x + window_offset<G>(p0);
  for (int c = 0; c < G.in_c; ++c)
    for (int ky = 0; ky < G.kernel; ++ky)
      for (int kx = 0; kx < G.kernel; ++kx) {
        const int k = (c * G.kernel + ky) * G.kernel + kx;
        const __m512 w = _mm512_loadu_ps(wT + 16 * k);
        const float* at = corner + (c * padded_h<G> + ky) * padded_w<G> + kx;
#pragma GCC unroll 16
        for (int r = 0; r < Lanes; ++r)
          acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(at[window_offset<G>(R + r) - window_offset<G>(R)]), w, acc[r]);
      }
  transpose16x16(acc);
  constexpr __mmask16 store = Lanes == 16 ? __mmask16(0xFFFF) : __mmask16((1u << Lanes) - 1);
#pragma GCC unroll 16
  for (int m = 0; m < 16; ++m) _mm512_mask_storeu_ps(y + long(m) * G.out_hw() + p0, store, epilogue(m, acc[m]));
}

}  // namespace detail

// y (16 x out_hw) of one sample from its (padded) input x and the transposed weights wT. Tiles of 16
// positions repeat their residue modulo out_w every `period` tiles; the loop runs whole periods with one
// body per residue, then the leftover tiles.
template <ConvGeometry G, class Epilogue>
void conv_forward_direct(const float* x, const float* wT, const float* bias, float* y, const Epilogue& epilogue) {
  static_assert(has_direct_forward<G>, "the direct forward needs stride 1 and 16 output channels");
  constexpr int N = G.out_hw(), full = N / 16;
  constexpr int period = [] {
    int q = 1;
    while ((16 * q) % G.out_w != 0) ++q;
    return q;
  }();
  constexpr int whole = full / period * period;
  for (int q0 = 0; q0 < whole; q0 += period)
    [&]<int... J>(std::integer_sequence<int, J...>) {
      (detail::forward_tile<G, (16 * J) % G.out_w, 16>(x, wT, bias, y, 16 * (q0 + J), epilogue), ...);
    }(std::make_integer_sequence<int, period>{});
  [&]<int... J>(std::integer_sequence<int, J...>) {
    (detail::forward_tile<G, (16 * (whole + J)) % G.out_w, 16>(x, wT, bias, y, 16 * (whole + J), epilogue), ...);
  }(std::make_integer_sequence<int, full - whole>{});
  if constexpr (N % 16 != 0)
    detail::forward_tile<G, (16 * full) % G.out_w, N % 16>(x, wT, bias, y, 16 * full, epilogue);
}

}  // namespace ctnet::cpu

#endif
