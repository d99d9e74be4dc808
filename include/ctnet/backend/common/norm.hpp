// ctnet/backend/common/norm.hpp — per-channel and per-element batch-norm bodies shared by the backends.
//
// Requires: x laid out [batch x channels x spatial]. Guarantees: the statistics step (mean, inverse
// standard deviation, PyTorch's running-statistics update with the unbiased variance) and the input
// gradient are one CTNET_HD function each, so the CPU loop and the CUDA kernels run the same arithmetic;
// merge_moments combines (count, mean, M2) of two slices exactly as Chan et al.'s parallel variance does,
// so a device reduction over slices gives the two-pass variance up to rounding.
#pragma once

#include <cmath>

#include "../../core/host_device.hpp"

namespace ctnet::kernels {

// Training statistics of channel c from its mean `mu` and sum of squared deviations `sq` over `count`.
template <class T>
CTNET_HD inline void batchnorm_train_stats(int c, double mu, double sq, long count, T* mean, T* inv_std,
                                           T* running_mean, T* running_var, double momentum, double eps) {
  const double var = sq / double(count);
  mean[c] = T(mu);
  inv_std[c] = T(1.0 / std::sqrt(var + eps));
  const double unbiased = count > 1 ? sq / double(count - 1) : var;
  running_mean[c] = T((1 - momentum) * running_mean[c] + momentum * mu);
  running_var[c] = T((1 - momentum) * running_var[c] + momentum * unbiased);
}

template <class T>
CTNET_HD inline void batchnorm_eval_stats(int c, T* mean, T* inv_std, const T* running_mean, const T* running_var,
                                          double eps) {
  mean[c] = running_mean[c];
  inv_std[c] = T(1.0 / std::sqrt(double(running_var[c]) + eps));
}

// d loss / d x for one element; k = gamma * inv_std of its channel, sums over the channel's elements.
template <class T>
CTNET_HD inline T batchnorm_grad_input(T gy, T xhat, double k, double sum_gy, double sum_gy_xhat, long count,
                                       bool batch_statistics) {
  return batch_statistics ? T(k / double(count) * (double(count) * gy - sum_gy - double(xhat) * sum_gy_xhat))
                          : T(k * gy);
}

// Merges slice b (count nb, mean mb, squared deviations m2b) into the running slice a.
CTNET_HD inline void merge_moments(double& na, double& ma, double& m2a, double nb, double mb, double m2b) {
  if (nb == 0) return;
  const double n = na + nb, d = mb - ma;
  ma += d * (nb / n);
  m2a += m2b + d * d * (na * nb / n);
  na = n;
}

}  // namespace ctnet::kernels
