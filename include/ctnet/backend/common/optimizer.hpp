// ctnet/backend/common/optimizer.hpp — the per-element SGD update shared by host tests and the CUDA backend.
//
// Requires: flat parameter, gradient and momentum arenas of one layout. Guarantees: sgd_update is
// torch.optim.SGD's rule exactly as train/optimizer.hpp's SGD writes it (same operations in the same
// order): g' = g + wd * p; b = b_scale * b + g_scale * g' (b_scale = 0, g_scale = 1 on the first momentum
// step, else momentum and 1 - dampening); p -= lr * (nesterov ? g' + momentum * b : b), or p -= lr * g'
// without momentum.
#pragma once

#include "../../core/host_device.hpp"

namespace ctnet::kernels {

template <class T>
struct SgdCoefficients {
  T lr = T(0), weight_decay = T(0), momentum = T(0), b_scale = T(0), g_scale = T(1);
  bool decay = false, nesterov = false, use_momentum = false;
};

template <class T>
CTNET_HD inline void sgd_update(long i, T* p, const T* g, T* b, const SgdCoefficients<T>& k) {
  const T gi = k.decay ? g[i] + k.weight_decay * p[i] : g[i];
  if (!k.use_momentum) {
    p[i] -= k.lr * gi;
    return;
  }
  const T bi = k.b_scale * b[i] + k.g_scale * gi;
  b[i] = bi;
  p[i] -= k.lr * (k.nesterov ? gi + k.momentum * bi : bi);
}

}  // namespace ctnet::kernels
