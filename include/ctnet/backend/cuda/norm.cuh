// ctnet/backend/cuda/norm.cuh — batch normalisation on the GPU (BatchNorm1d and BatchNorm2d).
//
// Requires: x laid out [batch x channels x spatial], device pointers. Guarantees: PyTorch's semantics as
// cpu/norm.hpp (biased batch variance to normalise, unbiased variance into running_var, momentum, eps),
// through the same shared bodies (backend/common/norm.hpp): per-channel statistics are reduced in double
// by the deterministic two-stage reduction (slice moments merged in order with Chan's formula), so a run
// repeats bit for bit and differs from the CPU's two-pass sums only by rounding. `mean` and `inv_std`
// (C each) and `xhat` (optional) are kept for backward; gamma/beta gradients accumulate (+=).
#pragma once

#include <cstddef>

#include "../common/elementwise.hpp"
#include "../common/norm.hpp"
#include "reduce.cuh"
#include "runtime.cuh"

namespace ctnet::cuda {

template <int C, class T>
__global__ void batchnorm_train_stats_kernel(const double* partial, int parts, T* mean, T* inv_std, T* running_mean,
                                             T* running_var, double momentum, double eps) {
  const int c = blockIdx.x * blockDim.x + threadIdx.x;
  if (c >= C) return;
  double na = 0, ma = 0, m2a = 0;
  for (int p = 0; p < parts; ++p) {
    const double* s = partial + (long(c) * parts + p) * 3;
    kernels::merge_moments(na, ma, m2a, s[0], s[1], s[2]);
  }
  kernels::batchnorm_train_stats(c, ma, m2a, long(na), mean, inv_std, running_mean, running_var, momentum, eps);
}

template <int C, class T>
__global__ void batchnorm_eval_stats_kernel(T* mean, T* inv_std, const T* running_mean, const T* running_var,
                                            double eps) {
  const int c = blockIdx.x * blockDim.x + threadIdx.x;
  if (c < C) kernels::batchnorm_eval_stats(c, mean, inv_std, running_mean, running_var, eps);
}

template <int C, long Spatial, class T>
__global__ void batchnorm_apply_kernel(const T* x, T* y, T* xhat, const T* mean, const T* inv_std, const T* gamma,
                                       const T* beta, long total) {
  CTNET_CUDA_FOR(i, total) kernels::batchnorm_apply(i, x, y, xhat, mean, inv_std, gamma, beta, C, Spatial);
}

template <int C, long Spatial, class T>
__global__ void batchnorm_grad_input_kernel(const T* gy, const T* xhat, const T* inv_std, const T* gamma,
                                            const double* totals, T* gx, long n, bool batch_statistics) {
  const long total = n * C * Spatial;
  CTNET_CUDA_FOR(i, total) {
    const int c = static_cast<int>((i / Spatial) % C);
    const double k = double(gamma[c]) * inv_std[c];
    gx[i] = kernels::batchnorm_grad_input(gy[i], xhat[i], k, totals[2 * c], totals[2 * c + 1], n * Spatial,
                                          batch_statistics);
  }
}

struct NormOps {
  template <int C, long Spatial, class T>
  static void batchnorm_forward_train(const T* x, T* y, T* xhat, T* mean, T* inv_std, const T* gamma, const T* beta,
                                      T* running_mean, T* running_var, long n, double momentum, double eps) {
    const int parts = reduce_parts(n * Spatial);
    double* partial = scratch<double>(Slot::reduce_partials, std::size_t(C) * parts * 3);
    moments_partials_kernel<C, Spatial><<<dim3(parts, C), block_threads, 0, stream()>>>(x, n, parts, partial);
    CTNET_CUDA_CHECK_LAUNCH("moments_partials_kernel (batchnorm)");
    batchnorm_train_stats_kernel<C><<<(C + 127) / 128, 128, 0, stream()>>>(partial, parts, mean, inv_std, running_mean,
                                                                           running_var, momentum, eps);
    CTNET_CUDA_CHECK_LAUNCH("batchnorm_train_stats_kernel");
    const long total = n * C * Spatial;
    batchnorm_apply_kernel<C, Spatial>
        <<<grid_for(total), block_threads, 0, stream()>>>(x, y, xhat, mean, inv_std, gamma, beta, total);
    CTNET_CUDA_CHECK_LAUNCH("batchnorm_apply_kernel (train)");
  }

  template <int C, long Spatial, class T>
  static void batchnorm_forward_eval(const T* x, T* y, T* xhat, T* mean, T* inv_std, const T* gamma, const T* beta,
                                     const T* running_mean, const T* running_var, long n, double eps) {
    batchnorm_eval_stats_kernel<C>
        <<<(C + 127) / 128, 128, 0, stream()>>>(mean, inv_std, running_mean, running_var, eps);
    CTNET_CUDA_CHECK_LAUNCH("batchnorm_eval_stats_kernel");
    const long total = n * C * Spatial;
    batchnorm_apply_kernel<C, Spatial>
        <<<grid_for(total), block_threads, 0, stream()>>>(x, y, xhat, mean, inv_std, gamma, beta, total);
    CTNET_CUDA_CHECK_LAUNCH("batchnorm_apply_kernel (eval)");
  }

  // batch_statistics: the forward pass normalised with batch statistics (training), so the mean and
  // variance depend on x and their gradient terms are included.
  template <int C, long Spatial, class T>
  static void batchnorm_backward(const T* gy, const T* xhat, const T* inv_std, const T* gamma, T* gx, T* ggamma,
                                 T* gbeta, long n, bool batch_statistics) {
    double* totals = scratch<double>(Slot::channel_totals, std::size_t(2) * C);
    channel_sums<C, Spatial>(gy, xhat, n, totals, gbeta, ggamma);
    if (!gx) return;
    const long total = n * C * Spatial;
    batchnorm_grad_input_kernel<C, Spatial>
        <<<grid_for(total), block_threads, 0, stream()>>>(gy, xhat, inv_std, gamma, totals, gx, n, batch_statistics);
    CTNET_CUDA_CHECK_LAUNCH("batchnorm_grad_input_kernel");
  }
};

}  // namespace ctnet::cuda
