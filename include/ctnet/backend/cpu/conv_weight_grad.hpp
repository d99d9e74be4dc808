// ctnet/backend/cpu/conv_weight_grad.hpp — a stride-1 convolution's weight gradient for one sample, read
// straight from the input instead of from im2col columns (AVX-512, float).
//
// Requires: stride 1; the input zero-padded by the caller when the geometry pads (a (in_h + 2p) x
// (in_w + 2p) plane per channel); gy transposed (out_hw x out_c, row-major); the AVX-512F target.
// Guarantees: gw^T (col_rows x out_c) += columns (col_rows x out_hw) * gy^T, each output one accumulator
// summed over the output positions in order: the same bits as small_gemm<K, N, M, true> on the im2col
// columns, without writing the columns. Column row r = (c, ky, kx) at position (oy, ox) is the input
// element (c, oy + ky, ox + kx), so each broadcast reads the input at a compile-time offset from a
// pointer that walks the output positions.
#pragma once

#if defined(__AVX512F__)
#include <immintrin.h>

#include <utility>

#include "../common/geometry.hpp"
#include "small_gemm.hpp"

namespace ctnet::cpu {

namespace detail {

template <ConvGeometry G>
inline constexpr int padded_h = G.in_h + 2 * G.padding;
template <ConvGeometry G>
inline constexpr int padded_w = G.in_w + 2 * G.padding;

// Offset in the padded input of column row r's element at output position (0, 0).
template <ConvGeometry G>
constexpr int column_row_offset(int r) {
  const int c = r / (G.kernel * G.kernel), ky = (r / G.kernel) % G.kernel, kx = r % G.kernel;
  return (c * padded_h<G> + ky) * padded_w<G> + kx;
}

// Rows R0 .. R0+MR-1 of gw^T, NV vectors of output channels.
template <ConvGeometry G, int MR, int NV, int R0>
inline void weight_grad_rows(const float* x, const float* gyT, float* gwT) {
  constexpr int M = G.out_c;
  __mmask16 m[NV];
  for (int v = 0; v < NV; ++v) m[v] = lanes_left(M - 16 * v);
  __m512 acc[MR][NV];
#pragma GCC unroll 24
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_maskz_loadu_ps(m[v], gwT + long(R0 + r) * M + 16 * v);
  for (int oy = 0; oy < G.out_h; ++oy) {
    const float* xrow = x + oy * padded_w<G>;
    const float* brow = gyT + long(oy) * G.out_w * M;
#pragma GCC unroll 4
    for (int ox = 0; ox < G.out_w; ++ox) {
      __m512 b[NV];
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) b[v] = _mm512_maskz_loadu_ps(m[v], brow + ox * M + 16 * v);
#pragma GCC unroll 24
      for (int r = 0; r < MR; ++r) {
        const __m512 a = _mm512_set1_ps(xrow[ox + column_row_offset<G>(R0 + r)]);
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_fmadd_ps(a, b[v], acc[r][v]);
      }
    }
  }
#pragma GCC unroll 24
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) _mm512_mask_storeu_ps(gwT + long(R0 + r) * M + 16 * v, m[v], acc[r][v]);
}

}  // namespace detail

// gwT (col_rows x out_c) += the columns of x (padded as above) times gyT (out_hw x out_c).
template <ConvGeometry G>
void conv_weight_grad_direct(const float* x, const float* gyT, float* gwT) {
  static_assert(G.stride == 1, "the direct weight gradient reads stride-1 windows");
  constexpr int K = G.col_rows();
  constexpr int NV = detail::small_gemm_vectors(G.out_c);
  constexpr int MR = 24 / NV;
  [&]<int... B>(std::integer_sequence<int, B...>) {
    (detail::weight_grad_rows<G, MR, NV, B * MR>(x, gyT, gwT), ...);
  }(std::make_integer_sequence<int, K / MR>{});
  if constexpr (K % MR != 0) detail::weight_grad_rows<G, K % MR, NV, K - K % MR>(x, gyT, gwT);
}

}  // namespace ctnet::cpu

#endif
