// ctnet/backend/cpu/norm.hpp — batch normalisation on the CPU (BatchNorm1d and BatchNorm2d).
//
// Requires: x laid out [batch x channels x spatial] (spatial = H*W, or 1 for BatchNorm1d).
// Guarantees: training uses the batch's biased variance to normalise and updates the running variance
// with the unbiased one, as PyTorch does; per-channel sums are computed by one thread in a fixed order,
// so results do not depend on the thread count. `mean` and `inv_std` (C each) and `xhat` (the whole
// tensor) are kept for backward.
#pragma once

#include <cmath>

#include "../common/elementwise.hpp"
#include "elementwise.hpp"

namespace ctnet::cpu {

struct NormOps {
  template <int C, long Spatial, class T>
  static void batchnorm_forward_train(const T* x, T* y, T* xhat, T* mean, T* inv_std, const T* gamma,
                                      const T* beta, T* running_mean, T* running_var, long n, double momentum,
                                      double eps) {
    const long count = n * Spatial;
#pragma omp parallel for schedule(static)
    for (int c = 0; c < C; ++c) {
      double sum = 0;
      for (long s = 0; s < n; ++s)
        for (long i = 0; i < Spatial; ++i) sum += x[(s * C + c) * Spatial + i];
      const double mu = sum / double(count);
      double sq = 0;
      for (long s = 0; s < n; ++s)
        for (long i = 0; i < Spatial; ++i) {
          const double d = x[(s * C + c) * Spatial + i] - mu;
          sq += d * d;
        }
      const double var = sq / double(count);
      mean[c] = T(mu);
      inv_std[c] = T(1.0 / std::sqrt(var + eps));
      const double unbiased = count > 1 ? sq / double(count - 1) : var;
      running_mean[c] = T((1 - momentum) * running_mean[c] + momentum * mu);
      running_var[c] = T((1 - momentum) * running_var[c] + momentum * unbiased);
    }
    for_each_index(n * C * Spatial,
                   [=](long i) { kernels::batchnorm_apply(i, x, y, xhat, mean, inv_std, gamma, beta, C, Spatial); });
  }

  template <int C, long Spatial, class T>
  static void batchnorm_forward_eval(const T* x, T* y, T* xhat, T* mean, T* inv_std, const T* gamma, const T* beta,
                                     const T* running_mean, const T* running_var, long n, double eps) {
    for (int c = 0; c < C; ++c) {
      mean[c] = running_mean[c];
      inv_std[c] = T(1.0 / std::sqrt(double(running_var[c]) + eps));
    }
    for_each_index(n * C * Spatial,
                   [=](long i) { kernels::batchnorm_apply(i, x, y, xhat, mean, inv_std, gamma, beta, C, Spatial); });
  }

  // batch_statistics: the forward pass normalised with batch statistics (training), so the mean and
  // variance depend on x and their gradient terms are included.
  template <int C, long Spatial, class T>
  static void batchnorm_backward(const T* gy, const T* xhat, const T* inv_std, const T* gamma, T* gx, T* ggamma,
                                 T* gbeta, long n, bool batch_statistics) {
    const long count = n * Spatial;
#pragma omp parallel for schedule(static)
    for (int c = 0; c < C; ++c) {
      double sum_gy = 0, sum_gy_xhat = 0;
      for (long s = 0; s < n; ++s)
        for (long i = 0; i < Spatial; ++i) {
          const long at = (s * C + c) * Spatial + i;
          sum_gy += gy[at];
          sum_gy_xhat += double(gy[at]) * xhat[at];
        }
      ggamma[c] += T(sum_gy_xhat);
      gbeta[c] += T(sum_gy);
      if (!gx) continue;
      const double k = double(gamma[c]) * inv_std[c];
      for (long s = 0; s < n; ++s)
        for (long i = 0; i < Spatial; ++i) {
          const long at = (s * C + c) * Spatial + i;
          gx[at] = batch_statistics
                       ? T(k / double(count) * (double(count) * gy[at] - sum_gy - double(xhat[at]) * sum_gy_xhat))
                       : T(k * gy[at]);
        }
    }
  }
};

}  // namespace ctnet::cpu
