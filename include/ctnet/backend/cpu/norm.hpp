// ctnet/backend/cpu/norm.hpp — batch normalisation on the CPU (BatchNorm1d and BatchNorm2d).
//
// Requires: x laid out [batch x channels x spatial] (spatial = H*W, or 1 for BatchNorm1d).
// Guarantees: training uses the batch's biased variance to normalise and updates the running variance
// with the unbiased one, as PyTorch does; per-channel sums are computed by one thread in a fixed order,
// so results do not depend on the thread count; the statistics and input-gradient arithmetic are the
// shared bodies of backend/common/norm.hpp. `mean` and `inv_std` (C each) and `xhat` (the whole
// tensor) are kept for backward.
#pragma once

#include "../common/elementwise.hpp"
#include "../common/norm.hpp"
#include "elementwise.hpp"

namespace ctnet::cpu {

// Per (sample, channel) plane, so each channel's constants are loaded once and the inner loops vectorise.
template <int C, long Spatial, class T>
void batchnorm_normalize_planes(const T* x, T* y, T* xhat, const T* mean, const T* inv_std, const T* gamma,
                                const T* beta, long n) {
#pragma omp parallel for schedule(static) if (n * C * Spatial > 16384)
  for (long plane = 0; plane < n * C; ++plane) {
    const int c = int(plane % C);
    const T m = mean[c], s = inv_std[c], g = gamma[c], b = beta[c];
    const T* xp = x + plane * Spatial;
    T* yp = y + plane * Spatial;
    if (xhat) {
      T* hp = xhat + plane * Spatial;
      for (long i = 0; i < Spatial; ++i) yp[i] = kernels::batchnorm_normalize(xp[i], m, s, g, b, hp[i]);
    } else {
      for (long i = 0; i < Spatial; ++i) {
        T h;
        yp[i] = kernels::batchnorm_normalize(xp[i], m, s, g, b, h);
      }
    }
  }
}

// Sum and sum of squares of one plane: float partial sums over a plane (a few hundred values), double
// across planes, so precision holds for any batch.
template <long Spatial, class T>
inline void plane_sums(const T* p, double& sum, double& sum_sq) {
  T s = T(0), q = T(0);
#pragma omp simd reduction(+ : s, q)
  for (long i = 0; i < Spatial; ++i) {
    s += p[i];
    q += p[i] * p[i];
  }
  sum += double(s);
  sum_sq += double(q);
}

struct NormOps {
  template <int C, long Spatial, class T>
  static void batchnorm_forward_train(const T* x, T* y, T* xhat, T* mean, T* inv_std, const T* gamma,
                                      const T* beta, T* running_mean, T* running_var, long n, double momentum,
                                      double eps) {
    const long count = n * Spatial;
#pragma omp parallel for schedule(static) if (n * C * Spatial > 16384)
    for (int c = 0; c < C; ++c) {
      double sum = 0, sq = 0;
      for (long s = 0; s < n; ++s) plane_sums<Spatial>(x + (s * C + c) * Spatial, sum, sq);
      const double mu = sum / double(count);
      const double squared_deviations = std::max(0.0, sq - double(count) * mu * mu);
      kernels::batchnorm_train_stats(c, mu, squared_deviations, count, mean, inv_std, running_mean, running_var,
                                     momentum, eps);
    }
    batchnorm_normalize_planes<C, Spatial>(x, y, xhat, mean, inv_std, gamma, beta, n);
  }

  template <int C, long Spatial, class T>
  static void batchnorm_forward_eval(const T* x, T* y, T* xhat, T* mean, T* inv_std, const T* gamma, const T* beta,
                                     const T* running_mean, const T* running_var, long n, double eps) {
    for (int c = 0; c < C; ++c) kernels::batchnorm_eval_stats(c, mean, inv_std, running_mean, running_var, eps);
    batchnorm_normalize_planes<C, Spatial>(x, y, xhat, mean, inv_std, gamma, beta, n);
  }

  // batch_statistics: the forward pass normalised with batch statistics (training), so the mean and
  // variance depend on x and their gradient terms are included.
  template <int C, long Spatial, class T>
  static void batchnorm_backward(const T* gy, const T* xhat, const T* inv_std, const T* gamma, T* gx, T* ggamma,
                                 T* gbeta, long n, bool batch_statistics) {
    const long count = n * Spatial;
#pragma omp parallel for schedule(static) if (n * C * Spatial > 16384)
    for (int c = 0; c < C; ++c) {
      double sum_gy = 0, sum_gy_xhat = 0;
      for (long s = 0; s < n; ++s) {
        const T* g = gy + (s * C + c) * Spatial;
        const T* h = xhat + (s * C + c) * Spatial;
        T a = T(0), b = T(0);
#pragma omp simd reduction(+ : a, b)
        for (long i = 0; i < Spatial; ++i) {
          a += g[i];
          b += g[i] * h[i];
        }
        sum_gy += double(a);
        sum_gy_xhat += double(b);
      }
      ggamma[c] += T(sum_gy_xhat);
      gbeta[c] += T(sum_gy);
      if (!gx) continue;
      const double k = double(gamma[c]) * inv_std[c];
      for (long s = 0; s < n; ++s) {
        const long at = (s * C + c) * Spatial;
        for (long i = 0; i < Spatial; ++i)
          gx[at + i] = kernels::batchnorm_grad_input(gy[at + i], xhat[at + i], k, sum_gy, sum_gy_xhat, count,
                                                     batch_statistics);
      }
    }
  }
};

}  // namespace ctnet::cpu
