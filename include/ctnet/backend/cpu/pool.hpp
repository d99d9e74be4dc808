// ctnet/backend/cpu/pool.hpp — max, average and global average pooling on the CPU.
//
// Requires: NCHW tensors, windows inside the input (no padding). Guarantees: forward runs the shared
// per-output kernel bodies; backward works one (sample, channel) plane per task, so overlapping windows
// never race; max-pool backward routes each gradient to the first maximum of its window, as forward chose.
#pragma once

#include <algorithm>
#include <type_traits>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "../common/elementwise.hpp"
#include "../common/pool.hpp"
#include "elementwise.hpp"

namespace ctnet::cpu {

#if defined(__AVX512F__)
// 2x2 stride-2 max pooling of float, 16 windows at a time: a row pair's 32 inputs are split into even
// and odd columns (the four corners a, b, c, d of the windows), compared in the shared body's order
// (strictly greater replaces, so the first maximum wins), and backward interleaves the gradient back.
struct MaxPool2x2Avx512 {
  static __m512i even_index() { return _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30); }
  static __m512i odd_index() { return _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31); }
  static __mmask16 first(int count) { return count >= 16 ? __mmask16(0xFFFF) : count <= 0 ? 0 : __mmask16((1u << count) - 1); }

  // The corners of windows ox0 .. ox0+count-1 of output row oy, and which corner each window's first
  // maximum is (win[k] for corner k).
  template <int InW>
  static __m512 windows(const float* xp, int oy, int ox0, int count, __mmask16 (&win)[4]) {
    const float* r0 = xp + (2 * oy) * InW + 2 * ox0;
    const __mmask16 lo = first(2 * count), hi = first(2 * count - 16);
    const __m512 a0 = _mm512_maskz_loadu_ps(lo, r0), a1 = _mm512_maskz_loadu_ps(hi, r0 + 16);
    const __m512 b0 = _mm512_maskz_loadu_ps(lo, r0 + InW), b1 = _mm512_maskz_loadu_ps(hi, r0 + InW + 16);
    const __m512 corner[4] = {_mm512_permutex2var_ps(a0, even_index(), a1), _mm512_permutex2var_ps(a0, odd_index(), a1),
                              _mm512_permutex2var_ps(b0, even_index(), b1), _mm512_permutex2var_ps(b0, odd_index(), b1)};
    __m512 best = corner[0];
    __mmask16 greater[4] = {0, 0, 0, 0};
    for (int k = 1; k < 4; ++k) {
      greater[k] = _mm512_cmp_ps_mask(corner[k], best, _CMP_GT_OQ);
      best = _mm512_mask_mov_ps(best, greater[k], corner[k]);
    }
    win[3] = greater[3];
    win[2] = greater[2] & ~greater[3];
    win[1] = greater[1] & ~greater[2] & ~greater[3];
    win[0] = __mmask16(~(greater[1] | greater[2] | greater[3]));
    return best;
  }

  template <int InH, int InW, int OutH, int OutW>
  static void forward(const float* x, float* y, long planes) {
#pragma omp parallel for schedule(static) if (planes * InH * InW > 16384)
    for (long p = 0; p < planes; ++p) {
      const float* xp = x + p * InH * InW;
      float* yp = y + p * OutH * OutW;
      for (int oy = 0; oy < OutH; ++oy)
        for (int ox0 = 0; ox0 < OutW; ox0 += 16) {
          __mmask16 win[4];
          const __m512 best = windows<InW>(xp, oy, ox0, std::min(16, OutW - ox0), win);
          _mm512_mask_storeu_ps(yp + oy * OutW + ox0, first(OutW - ox0), best);
        }
    }
  }

  template <int InH, int InW, int OutH, int OutW>
  static void backward(const float* x, const float* gy, float* gx, long planes) {
    const __m512i low_half = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const __m512i high_half = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
#pragma omp parallel for schedule(static) if (planes * InH * InW > 16384)
    for (long p = 0; p < planes; ++p) {
      const float* xp = x + p * InH * InW;
      float* gxp = gx + p * InH * InW;
      for (int oy = 0; oy < OutH; ++oy) {
        for (int ox0 = 0; ox0 < OutW; ox0 += 16) {
          const int count = std::min(16, OutW - ox0);
          __mmask16 win[4];
          windows<InW>(xp, oy, ox0, count, win);
          const __m512 g = _mm512_maskz_loadu_ps(first(count), gy + p * OutH * OutW + oy * OutW + ox0);
          const __mmask16 lo = first(2 * count), hi = first(2 * count - 16);
          for (int row = 0; row < 2; ++row) {
            const __m512 left = _mm512_maskz_mov_ps(win[2 * row], g), right = _mm512_maskz_mov_ps(win[2 * row + 1], g);
            float* out = gxp + (2 * oy + row) * InW + 2 * ox0;
            _mm512_mask_storeu_ps(out, lo, _mm512_permutex2var_ps(left, low_half, right));
            _mm512_mask_storeu_ps(out + 16, hi, _mm512_permutex2var_ps(left, high_half, right));
          }
        }
        for (int row = 0; row < 2; ++row)  // a column right of the last window
          for (int ix = 2 * OutW; ix < InW; ++ix) gxp[(2 * oy + row) * InW + ix] = 0.0f;
      }
      std::fill(gxp + 2 * OutH * InW, gxp + InH * InW, 0.0f);  // a row below the last window
    }
  }
};
#endif

struct PoolOps {
  template <int InH, int InW, int OutH, int OutW, int K, int S, class T>
  static void maxpool_forward(const T* x, T* y, long planes) {
#if defined(__AVX512F__)
    if constexpr (K == 2 && S == 2 && std::is_same_v<T, float>) {
      MaxPool2x2Avx512::forward<InH, InW, OutH, OutW>(x, y, planes);
      return;
    }
#endif
    if constexpr (K == S) {
      // Non-overlapping windows (the common 2x2 stride 2): plane by plane with compile-time bounds, so
      // the row loops vectorise. Same comparisons in the same order as the shared body.
#pragma omp parallel for schedule(static) if (planes * InH * InW > 16384)
      for (long p = 0; p < planes; ++p) {
        const T* xp = x + p * InH * InW;
        T* yp = y + p * OutH * OutW;
        for (int oy = 0; oy < OutH; ++oy) {
          T* row = yp + oy * OutW;
          const T* first = xp + (oy * S) * InW;
          for (int ox = 0; ox < OutW; ++ox) row[ox] = first[ox * S];
          for (int ky = 0; ky < K; ++ky)
            for (int kx = 0; kx < K; ++kx) {
              const T* in = first + ky * InW + kx;
              for (int ox = 0; ox < OutW; ++ox) row[ox] = in[ox * S] > row[ox] ? in[ox * S] : row[ox];
            }
        }
      }
    } else {
      for_each_index(planes * OutH * OutW,
                     [=](long o) { kernels::maxpool_forward(o, x, y, InH, InW, OutH, OutW, K, S); });
    }
  }

  template <int InH, int InW, int OutH, int OutW, int K, int S, class T>
  static void maxpool_backward(const T* x, const T* gy, T* gx, long planes) {
#if defined(__AVX512F__)
    if constexpr (K == 2 && S == 2 && std::is_same_v<T, float>) {
      MaxPool2x2Avx512::backward<InH, InW, OutH, OutW>(x, gy, gx, planes);
      return;
    }
#endif
    if constexpr (K == S) {
      // Each input belongs to at most one window: write every element once (the window's first maximum
      // gets the gradient, the rest 0), no zero fill and no scatter-add.
#pragma omp parallel for schedule(static) if (planes * InH * InW > 16384)
      for (long p = 0; p < planes; ++p) {
        const T* xp = x + p * InH * InW;
        const T* gyp = gy + p * OutH * OutW;
        T* gxp = gx + p * InH * InW;
        for (int oy = 0; oy < OutH; ++oy) {
          const int base = oy * S * InW;
          int best[OutW];
          T value[OutW];
          for (int ox = 0; ox < OutW; ++ox) {
            best[ox] = 0;
            value[ox] = xp[base + ox * S];
          }
          for (int ky = 0; ky < K; ++ky)
            for (int kx = 0; kx < K; ++kx)
              for (int ox = 0; ox < OutW; ++ox) {
                const T v = xp[base + ky * InW + ox * S + kx];
                const bool greater = v > value[ox];
                value[ox] = greater ? v : value[ox];
                best[ox] = greater ? ky * K + kx : best[ox];
              }
          for (int ky = 0; ky < K; ++ky)
            for (int kx = 0; kx < K; ++kx)
              for (int ox = 0; ox < OutW; ++ox)
                gxp[base + ky * InW + ox * S + kx] = best[ox] == ky * K + kx ? gyp[oy * OutW + ox] : T(0);
          for (int iy = 0; iy < K; ++iy)  // columns right of the last window
            for (int ix = OutW * S; ix < InW; ++ix) gxp[base + iy * InW + ix] = T(0);
        }
        std::fill(gxp + OutH * S * InW, gxp + InH * InW, T(0));  // rows below the last window
      }
    } else {
#pragma omp parallel for schedule(static)
      for (long p = 0; p < planes; ++p) {
        const T* xp = x + p * InH * InW;
        const T* gyp = gy + p * OutH * OutW;
        T* gxp = gx + p * InH * InW;
        std::fill(gxp, gxp + InH * InW, T(0));
        for (int oy = 0; oy < OutH; ++oy)
          for (int ox = 0; ox < OutW; ++ox) {
            int best = (oy * S) * InW + ox * S;
            for (int ky = 0; ky < K; ++ky)
              for (int kx = 0; kx < K; ++kx) {
                const int at = (oy * S + ky) * InW + ox * S + kx;
                if (xp[at] > xp[best]) best = at;
              }
            gxp[best] += gyp[oy * OutW + ox];
          }
      }
    }
  }

  template <int InH, int InW, int OutH, int OutW, int K, int S, class T>
  static void avgpool_forward(const T* x, T* y, long planes) {
    for_each_index(planes * OutH * OutW, [=](long o) { kernels::avgpool_forward(o, x, y, InH, InW, OutH, OutW, K, S); });
  }

  template <int InH, int InW, int OutH, int OutW, int K, int S, class T>
  static void avgpool_backward(const T* gy, T* gx, long planes) {
    const T scale = T(1) / T(K * K);
#pragma omp parallel for schedule(static)
    for (long p = 0; p < planes; ++p) {
      const T* gyp = gy + p * OutH * OutW;
      T* gxp = gx + p * InH * InW;
      std::fill(gxp, gxp + InH * InW, T(0));
      for (int oy = 0; oy < OutH; ++oy)
        for (int ox = 0; ox < OutW; ++ox)
          for (int ky = 0; ky < K; ++ky)
            for (int kx = 0; kx < K; ++kx) gxp[(oy * S + ky) * InW + ox * S + kx] += gyp[oy * OutW + ox] * scale;
    }
  }

  template <int Spatial, class T>
  static void global_avgpool_forward(const T* x, T* y, long planes) {
    for_each_index(planes, [=](long p) { kernels::global_avgpool_forward(p, x, y, Spatial); });
  }

  template <int Spatial, class T>
  static void global_avgpool_backward(const T* gy, T* gx, long planes) {
    for_each_index(planes * Spatial, [=](long i) { kernels::global_avgpool_backward(i, gy, gx, Spatial); });
  }
};

}  // namespace ctnet::cpu
