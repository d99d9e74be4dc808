// ctnet/backend/cpu/bn_relu_dropout.hpp — the fused BatchNorm -> ReLU [-> Dropout] chain in training on
// the CPU: one pass forward, one backward, for the run of layers BoundSequential fuses
// (graph/fusion_plan.hpp).
//
// Requires: x laid out [batch x channels x spatial], as in norm.hpp; `mask` (dropout's keep bits, one per
// element in 32-bit words with one word of slack past the end) or null for BatchNorm -> ReLU. Guarantees:
// every value is the one the three layers compute one after another (the statistics are norm.hpp's, the
// masks ElementwiseOps::dropout_forward's), and the same for any thread count; the batch-norm's and
// ReLU's own outputs and xhat are never written: backward recomputes xhat from the chain's input with
// forward's arithmetic. Its per-channel sums may be added in another order than the unfused backward's.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "../common/elementwise.hpp"
#include "../common/norm.hpp"
#include "elementwise.hpp"
#include "norm.hpp"

namespace ctnet::cpu {

// 16 keep bits of dropout units e .. e+15 from a mask of 32-bit words (one word of slack past the end).
inline std::uint32_t keep_bits16(const std::uint32_t* mask, long e) {
  std::uint64_t w;
  std::memcpy(&w, mask + (e >> 5), sizeof w);
  return static_cast<std::uint32_t>(w >> (e & 31)) & 0xFFFFu;
}
inline bool keep_bit(const std::uint32_t* mask, long e) { return (mask[e >> 5] >> (e & 31)) & 1u; }

#if defined(__AVX512F__)
// xhat of 16 elements as the forward computed it: (x - mean) * inv_std.
inline __m512 normalized16(const float* x, float mean, float inv_std) {
  return _mm512_mul_ps(_mm512_sub_ps(_mm512_loadu_ps(x), _mm512_set1_ps(mean)), _mm512_set1_ps(inv_std));
}

// The gradient at the batch-norm's output of the chain for 16 elements starting at element e, whose xhat
// is h: gy * scale where ReLU passed (v = gamma * xhat + beta > 0) and dropout kept, else 0.
inline __m512 bn_relu_dropout_grad16(const float* gy, __m512 h, float gamma, float beta, const std::uint32_t* mask,
                                     long e, float scale) {
  const __m512 v = _mm512_add_ps(_mm512_mul_ps(_mm512_set1_ps(gamma), h), _mm512_set1_ps(beta));
  __mmask16 pass = _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_GT_OQ);
  __m512 g = _mm512_loadu_ps(gy);
  if (mask) {
    pass &= __mmask16(keep_bits16(mask, e));
    g = _mm512_mul_ps(g, _mm512_set1_ps(scale));
  }
  return _mm512_maskz_mov_ps(pass, g);
}

// The sixteen lanes summed pairwise (_mm512_reduce_add_ps draws g++ 12's -Wmaybe-uninitialized).
inline float sum_lanes(__m512 v) {
  alignas(64) float t[16];
  _mm512_store_ps(t, v);
  for (int width = 8; width > 0; width /= 2)
    for (int i = 0; i < width; ++i) t[i] += t[i + width];
  return t[0];
}

#if defined(__AVX512VL__)
// Batch-norm's input gradient for 8 elements of the chain at element e: xhat recomputed from x, the
// gradient at the batch-norm's output as above, then kernels::batchnorm_grad_input (batch statistics) in
// double, as the body computes it. (Eight lanes: the double arithmetic fills one 512-bit register.)
inline void bn_relu_dropout_grad_input8(const float* gy, const float* x, float mean, float inv_std, float gamma,
                                        float beta, const std::uint32_t* mask, long e, float scale,
                                        double k_over_count, double count, double sum_gy, double sum_gy_xhat,
                                        float* gx) {
  const __m256 h = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(x), _mm256_set1_ps(mean)), _mm256_set1_ps(inv_std));
  const __m256 v = _mm256_add_ps(_mm256_mul_ps(_mm256_set1_ps(gamma), h), _mm256_set1_ps(beta));
  __mmask8 pass = _mm256_cmp_ps_mask(v, _mm256_setzero_ps(), _CMP_GT_OQ);
  __m256 g = _mm256_loadu_ps(gy);
  if (mask) {
    pass &= __mmask8(keep_bits16(mask, e) & 0xFFu);
    g = _mm256_mul_ps(g, _mm256_set1_ps(scale));
  }
  g = _mm256_maskz_mov_ps(pass, g);
  // Zero-masked forms with every lane selected: g++ 12 warns about the unmasked ones (see rng.hpp).
  const __m512d t = _mm512_sub_pd(
      _mm512_sub_pd(_mm512_mul_pd(_mm512_set1_pd(count), _mm512_maskz_cvtps_pd(0xFF, g)), _mm512_set1_pd(sum_gy)),
      _mm512_mul_pd(_mm512_maskz_cvtps_pd(0xFF, h), _mm512_set1_pd(sum_gy_xhat)));
  _mm256_storeu_ps(gx, _mm512_maskz_cvtpd_ps(0xFF, _mm512_mul_pd(_mm512_set1_pd(k_over_count), t)));
}
#endif
#endif

struct BnReluDropoutOps {
  static constexpr bool fuses_bn_relu_dropout = true;

  // Training forward of BatchNorm -> ReLU [-> Dropout]: the statistics pass, the dropout draw (the masks of
  // ElementwiseOps::dropout_forward, stored in `mask`), then one pass writing the chain's output (no xhat:
  // the chain's backward recomputes it from x). Every value is the one the three layers compute one after
  // another.
  template <int C, long Spatial, class T>
  static void batchnorm_relu_dropout_forward_train(const T* x, T* y, T* mean, T* inv_std, const T* gamma, const T* beta,
                                                   T* running_mean, T* running_var, long n, double momentum, double eps,
                                                   std::uint32_t* mask, std::uint64_t seed, std::uint64_t step,
                                                   int position, float p, std::uint64_t first_unit) {
    batchnorm_batch_statistics<C, Spatial>(x, mean, inv_std, running_mean, running_var, n, momentum, eps);
    const long total = n * C * Spatial;
    if (mask) dropout_draw_mask(mask, total, seed, step, position, p, first_unit);
    const T scale = T(1) / (T(1) - T(p));
#pragma omp parallel for schedule(static) if (total > 16384)
    for (long plane = 0; plane < n * C; ++plane) {
      const int c = int(plane % C);
      const T m = mean[c], s = inv_std[c], g = gamma[c], b = beta[c];
      const T* xp = x + plane * Spatial;
      T* yp = y + plane * Spatial;
      long i = 0;
#if defined(__AVX512F__)
      if constexpr (std::is_same_v<T, float>) {
        const __m512 vm = _mm512_set1_ps(m), vs = _mm512_set1_ps(s), vg = _mm512_set1_ps(g), vb = _mm512_set1_ps(b);
        const __m512 vscale = _mm512_set1_ps(scale), zero = _mm512_setzero_ps();
        for (; i < Spatial; i += 16) {
          const __mmask16 lanes = Spatial - i >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (Spatial - i)) - 1);
          const __m512 h = _mm512_mul_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(lanes, xp + i), vm), vs);
          const __m512 v = _mm512_add_ps(_mm512_mul_ps(vg, h), vb);
          __m512 r = _mm512_maskz_max_ps(0xFFFF, v, zero);  // v > 0 ? v : 0, NaN and -0 included
          if (mask) r = _mm512_maskz_mul_ps(__mmask16(keep_bits16(mask, plane * Spatial + i)), r, vscale);
          _mm512_mask_storeu_ps(yp + i, lanes, r);
        }
      }
#endif
      for (; i < Spatial; ++i) {
        T h;
        const T v = kernels::batchnorm_normalize(xp[i], m, s, g, b, h);
        const T r = v > T(0) ? v : T(0);
        yp[i] = !mask ? r : keep_bit(mask, plane * Spatial + i) ? r * scale : T(0);
      }
    }
  }

  // Backward of the chain above from the gradient of its output and the chain's input x: xhat is
  // recomputed from x, mean and inv_std with forward's arithmetic (the same bits), and the gradient
  // reaching the batch-norm (dropout's mask and scale, ReLU's v > 0 with v recomputed from xhat as forward
  // computed it) is formed on the fly in both of batch-norm backward's passes instead of being stored.
  template <int C, long Spatial, class T>
  static void batchnorm_relu_dropout_backward(const T* gy, const T* x, const T* mean, const T* inv_std,
                                              const T* gamma, const T* beta, T* gx, T* ggamma, T* gbeta, long n,
                                              const std::uint32_t* mask, float p) {
    const T scale = T(1) / (T(1) - T(p));
    const auto xhat_at = [=](long e, int c) { return (x[e] - mean[c]) * inv_std[c]; };
    // The gradient at the batch-norm's output for element e (xhat h), whose channel has gamma g and beta b.
    const auto grad_at = [=](long e, T h, T g, T b) {
      const T v = g * h + b;
      if (!(v > T(0))) return T(0);
      return !mask ? gy[e] : keep_bit(mask, e) ? gy[e] * scale : T(0);
    };
    const double* partials = per_plane_sums<Spatial, T>(n * C, [&](long plane, double& sum_gy, double& sum_gy_xhat) {
      const int c = int(plane % C);
      const T gm = gamma[c], bt = beta[c];
      const long at = plane * Spatial;
      T a = T(0), b = T(0);
      long i = 0;
#if defined(__AVX512F__)
      if constexpr (std::is_same_v<T, float>) {
        __m512 va = _mm512_setzero_ps(), vb = _mm512_setzero_ps();
        for (; i + 16 <= Spatial; i += 16) {
          const __m512 h = normalized16(x + at + i, mean[c], inv_std[c]);
          const __m512 g = bn_relu_dropout_grad16(gy + at + i, h, gm, bt, mask, at + i, scale);
          va = _mm512_add_ps(va, g);
          vb = _mm512_add_ps(vb, _mm512_mul_ps(g, h));
        }
        a = sum_lanes(va);
        b = sum_lanes(vb);
      }
#endif
      for (; i < Spatial; ++i) {
        const T h = xhat_at(at + i, c);
        const T g = grad_at(at + i, h, gm, bt);
        a += g;
        b += g * h;
      }
      sum_gy += double(a);
      sum_gy_xhat += double(b);
    });
    double sum_gy[C], sum_gy_xhat[C];
    batchnorm_parameter_grads<C>(partials, n, sum_gy, sum_gy_xhat, ggamma, gbeta);  // the local batch's
    if (!gx) return;
    // Synchronised batch norm: the input gradient needs the sums over every replica's rows (norm.hpp).
    const long count = synchronize_channel_sums<C>(sum_gy, sum_gy_xhat, n * Spatial);
#pragma omp parallel for schedule(static) if (n * C * Spatial > 16384)
    for (long plane = 0; plane < n * C; ++plane) {
      const int c = int(plane % C);
      const T gm = gamma[c], bt = beta[c];
      const double k = double(gm) * inv_std[c];
      const long at = plane * Spatial;
      long i = 0;
#if defined(__AVX512VL__)
      if constexpr (std::is_same_v<T, float>) {
        for (; i + 8 <= Spatial; i += 8)
          bn_relu_dropout_grad_input8(gy + at + i, x + at + i, mean[c], inv_std[c], gm, bt, mask, at + i, scale,
                                      k / double(count), double(count), sum_gy[c], sum_gy_xhat[c], gx + at + i);
      }
#endif
      for (; i < Spatial; ++i) {
        const T h = xhat_at(at + i, c);
        gx[at + i] = kernels::batchnorm_grad_input(grad_at(at + i, h, gm, bt), h, k, sum_gy[c], sum_gy_xhat[c],
                                                   count, true);
      }
    }
  }
};

}  // namespace ctnet::cpu
