// ctnet/backend/cpu/pool.hpp — max, average and global average pooling on the CPU.
//
// Requires: NCHW tensors, windows inside the input (no padding). Guarantees: forward runs the shared
// per-output kernel bodies; backward works one (sample, channel) plane per task, so overlapping windows
// never race; max-pool backward routes each gradient to the first maximum of its window, as forward chose.
#pragma once

#include <algorithm>

#include "../common/elementwise.hpp"
#include "../common/pool.hpp"
#include "elementwise.hpp"

namespace ctnet::cpu {

struct PoolOps {
  template <int InH, int InW, int OutH, int OutW, int K, int S, class T>
  static void maxpool_forward(const T* x, T* y, long planes) {
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
