// ctnet/backend/cpu/norm.hpp — batch normalisation on the CPU (BatchNorm1d and BatchNorm2d).
//
// Requires: x laid out [batch x channels x spatial] (spatial = H*W, or 1 for BatchNorm1d).
// Guarantees: training uses the batch's biased variance to normalise and updates the running variance
// with the unbiased one, as PyTorch does; per-plane partial sums are added per channel in sample
// order, so results do not depend on the thread count; the statistics and input-gradient arithmetic
// are the shared bodies of backend/common/norm.hpp. `mean` and `inv_std` (C each) and `xhat` (the whole
// tensor) are kept for backward. The fused BatchNorm -> ReLU [-> Dropout] chain, which keeps no xhat, is
// bn_relu_dropout.hpp, built on the statistics passes here.
#pragma once

#include <algorithm>
#include <cstddef>

#include "../common/elementwise.hpp"
#include "../common/norm.hpp"
#include "threads.hpp"

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

// Per-plane partial sums (a float sum over one plane, widened to double) computed in parallel over the
// planes, sample after sample as the data lies and as the convolutions split the batch; then each
// channel's double sum over the samples in sample order. The same bits as a per-channel loop, for any
// thread count. The partials live in the current ExecutionContext's scratch (threads.hpp).
template <long Spatial, class T, class PlaneSums>
double* per_plane_sums(long planes, PlaneSums&& sums_of) {
  ExecutionContext& cx = current_context();  // on the calling thread, before the parallel loop
  cx.reserve_threads<double>(1);
  double* sums = cx.scratch<double>(ScratchSlot::plane_sums, 0, std::size_t(2 * planes));
#pragma omp parallel for schedule(static) if (planes * Spatial > 16384)
  for (long plane = 0; plane < planes; ++plane) {
    double a = 0, b = 0;
    sums_of(plane, a, b);
    sums[2 * plane] = a;
    sums[2 * plane + 1] = b;
  }
  return sums;
}

// a[c], b[c]: channel c's partials summed in sample order (the channels side by side, so the additions of
// different channels do not wait on each other).
template <int C>
inline void channel_sums(const double* plane_partials, long n, double (&a)[C], double (&b)[C]) {
  for (int c = 0; c < C; ++c) a[c] = b[c] = 0;
  for (long s = 0; s < n; ++s) {
    const double* p = plane_partials + 2 * s * C;
    for (int c = 0; c < C; ++c) {
      a[c] += p[2 * c];
      b[c] += p[2 * c + 1];
    }
  }
}

// Backward's per-channel sums of gy and gy * xhat from its plane partials, and the gamma and beta
// gradients they are.
template <int C, class T>
inline void batchnorm_parameter_grads(const double* plane_partials, long n, double (&sum_gy)[C],
                                      double (&sum_gy_xhat)[C], T* ggamma, T* gbeta) {
  channel_sums<C>(plane_partials, n, sum_gy, sum_gy_xhat);
  for (int c = 0; c < C; ++c) {
    ggamma[c] += T(sum_gy_xhat[c]);
    gbeta[c] += T(sum_gy[c]);
  }
}

// With the current context's batch_sums_hook (synchronised batch norm across replicas), a, b and count
// become their sums over the replicas; without one they stay the local batch's. Returns the count.
template <int C>
inline long synchronize_channel_sums(double (&a)[C], double (&b)[C], long count) {
  ExecutionContext& cx = current_context();
  if (!cx.batch_sums_hook) return count;
  double all[2 * C + 1];
  for (int c = 0; c < C; ++c) {
    all[c] = a[c];
    all[C + c] = b[c];
  }
  all[2 * C] = double(count);
  cx.batch_sums_hook(std::span<double>(all, std::size_t(2 * C + 1)));
  for (int c = 0; c < C; ++c) {
    a[c] = all[c];
    b[c] = all[C + c];
  }
  return long(all[2 * C]);
}

// The batch's per-channel mean and inverse standard deviation, and the running-statistics update.
template <int C, long Spatial, class T>
void batchnorm_batch_statistics(const T* x, T* mean, T* inv_std, T* running_mean, T* running_var, long n,
                                double momentum, double eps) {
  const double* partials = per_plane_sums<Spatial, T>(
      n * C, [x](long plane, double& sum, double& sum_sq) { plane_sums<Spatial>(x + plane * Spatial, sum, sum_sq); });
  double sums[C], squares[C];
  channel_sums<C>(partials, n, sums, squares);
  const long count = synchronize_channel_sums<C>(sums, squares, n * Spatial);
  for (int c = 0; c < C; ++c) {
    const double mu = sums[c] / double(count);
    const double squared_deviations = std::max(0.0, squares[c] - double(count) * mu * mu);
    kernels::batchnorm_train_stats(c, mu, squared_deviations, count, mean, inv_std, running_mean, running_var,
                                   momentum, eps);
  }
}

struct NormOps {
  template <int C, long Spatial, class T>
  static void batchnorm_forward_train(const T* x, T* y, T* xhat, T* mean, T* inv_std, const T* gamma,
                                      const T* beta, T* running_mean, T* running_var, long n, double momentum,
                                      double eps) {
    batchnorm_batch_statistics<C, Spatial>(x, mean, inv_std, running_mean, running_var, n, momentum, eps);
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
    const double* partials = per_plane_sums<Spatial, T>(n * C, [&](long plane, double& sum_gy, double& sum_gy_xhat) {
      const T* g = gy + plane * Spatial;
      const T* h = xhat + plane * Spatial;
      T a = T(0), b = T(0);
#pragma omp simd reduction(+ : a, b)
      for (long i = 0; i < Spatial; ++i) {
        a += g[i];
        b += g[i] * h[i];
      }
      sum_gy += double(a);
      sum_gy_xhat += double(b);
    });
    double sum_gy[C], sum_gy_xhat[C];
    batchnorm_parameter_grads<C>(partials, n, sum_gy, sum_gy_xhat, ggamma, gbeta);  // the local batch's
    if (!gx) return;
    // The input gradient of synchronised batch statistics needs the sums over every replica's rows.
    const long count =
        batch_statistics ? synchronize_channel_sums<C>(sum_gy, sum_gy_xhat, n * Spatial) : n * Spatial;
#pragma omp parallel for schedule(static) if (n * C * Spatial > 16384)
    for (long plane = 0; plane < n * C; ++plane) {
      const int c = int(plane % C);
      const double k = double(gamma[c]) * inv_std[c];
      const long at = plane * Spatial;
      for (long i = 0; i < Spatial; ++i)
        gx[at + i] = kernels::batchnorm_grad_input(gy[at + i], xhat[at + i], k, sum_gy[c], sum_gy_xhat[c], count,
                                                   batch_statistics);
    }
  }
};

}  // namespace ctnet::cpu
