// ctnet/backend/cpu/small_gemm.hpp — a register-blocked float GEMM for the CPU backend's small,
// compile-time-shaped products (one sample's convolution), AVX-512 only.
//
// Requires: row-major float matrices, R, I, N > 0 known at compile time; the AVX-512F target (see
// has_small_gemm). Guarantees: C = A * B (R x N = R x I times I x N), or C += A * B with Accumulate, or
// C = A * B + bias (one value per row); each output is one accumulator summed over i in order, so the
// result is the same for every call and thread. No packing, no allocation: B's rows are read in place
// (16-float vectors, the last one masked) and A's elements are broadcast from memory, which is what pays
// for the small products a per-sample convolution makes (Eigen's GEMM packs both operands every call).
#pragma once

#include <initializer_list>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace ctnet::cpu {

#if defined(__AVX512F__)
inline constexpr bool has_small_gemm = true;

namespace detail {

// Vectors per tile along N: the one of 2, 3, 4 that wastes the fewest masked lanes (3 on ties), so that
// 24 accumulators (rows x vectors) fill most of the 32 registers.
constexpr int small_gemm_vectors(int n) {
  const int vectors = (n + 15) / 16;
  if (vectors == 1) return 1;
  int best = 3, waste = (vectors + 2) / 3 * 3 - vectors;
  for (int v : {4, 2}) {
    const int w = (vectors + v - 1) / v * v - vectors;
    if (w < waste) {
      waste = w;
      best = v;
    }
  }
  return best;
}

inline __mmask16 lanes_left(int remaining) {
  return remaining >= 16 ? __mmask16(0xFFFF) : remaining <= 0 ? __mmask16(0) : __mmask16((1u << remaining) - 1);
}

// Rows r0 .. r0+MR-1 of C, all columns, NV vectors at a time.
template <int MR, int NV, int I, int N, bool Accumulate, class Epilogue>
inline void small_gemm_rows(const float* A, const float* B, float* C, const float* bias, const Epilogue& epilogue,
                            int r0) {
  for (int j = 0; j < N; j += 16 * NV) {
    __mmask16 m[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) m[v] = lanes_left(N - j - 16 * v);
    __m512 acc[MR][NV];
#pragma GCC unroll 24
    for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) {
        if constexpr (Accumulate)
          acc[r][v] = _mm512_maskz_loadu_ps(m[v], C + long(r0 + r) * N + j + 16 * v);
        else
          acc[r][v] = bias ? _mm512_set1_ps(bias[r0 + r]) : _mm512_setzero_ps();
      }
#pragma GCC unroll 4
    for (int i = 0; i < I; ++i) {
      __m512 b[NV];
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) b[v] = _mm512_maskz_loadu_ps(m[v], B + long(i) * N + j + 16 * v);
#pragma GCC unroll 24
      for (int r = 0; r < MR; ++r) {
        const __m512 a = _mm512_set1_ps(A[long(r0 + r) * I + i]);
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_fmadd_ps(a, b[v], acc[r][v]);
      }
    }
#pragma GCC unroll 24
    for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v)
        _mm512_mask_storeu_ps(C + long(r0 + r) * N + j + 16 * v, m[v], epilogue(r0 + r, acc[r][v]));
  }
}

}  // namespace detail

// Leaves the finished outputs as they are.
struct NoEpilogue {
  __m512 operator()(int /*row*/, __m512 v) const { return v; }
};

// C (R x N) = A (R x I) * B (I x N) [+ bias per row], or C += A * B with Accumulate (bias unused);
// epilogue(row, values) maps each finished vector of outputs before it is stored.
template <int R, int I, int N, bool Accumulate = false, class Epilogue = NoEpilogue>
void small_gemm(const float* A, const float* B, float* C, const float* bias = nullptr, const Epilogue& epilogue = {}) {
  constexpr int NV = detail::small_gemm_vectors(N);
  constexpr int MR = 24 / NV;
  if constexpr (R >= MR)
    for (int r = 0; r + MR <= R; r += MR)
      detail::small_gemm_rows<MR, NV, I, N, Accumulate>(A, B, C, bias, epilogue, r);
  if constexpr (R % MR != 0)
    detail::small_gemm_rows<R % MR, NV, I, N, Accumulate>(A, B, C, bias, epilogue, R - R % MR);
}
#else
inline constexpr bool has_small_gemm = false;
#endif

}  // namespace ctnet::cpu
