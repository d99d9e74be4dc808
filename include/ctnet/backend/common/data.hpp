// ctnet/backend/common/data.hpp — batch gathering from byte images, shared by host tests and the CUDA backend.
//
// Requires: images [count x image_size] bytes, labels [count] bytes, indices of the batch's samples.
// Guarantees: gather_normalize computes byte * (1/255) then (v - mean) * (1/std) in float, exactly as
// DataLoader (without augmentation) and Normalize::apply do; epoch_order is DataLoader's shuffle
// (Fisher-Yates driven by Generator(seed, shuffle, epoch)), so a device-side loop visits the same samples
// in the same order as the host loader.
#pragma once

#include <cstdint>
#include <numeric>
#include <utility>
#include <vector>

#include "../../core/host_device.hpp"
#include "../../core/rng.hpp"

namespace ctnet::kernels {

// Element i of the batch: i over n * image_size.
template <class T>
CTNET_HD inline void gather_normalize(long i, const std::uint8_t* images, const int* indices, long image_size, T* out,
                                      float mean, float inv_std) {
  const long s = i / image_size, k = i % image_size;
  const float byte = static_cast<float>(images[static_cast<long>(indices[s]) * image_size + k]);
#if defined(__CUDA_ARCH__)
  const float v = __fmul_rn(byte, 1.0f / 255.0f);  // never contracted with the subtraction into an FMA
#else
  const float v = byte * (1.0f / 255.0f);
#endif
  out[i] = static_cast<T>((v - mean) * inv_std);
}

CTNET_HD inline void gather_label(long s, const std::uint8_t* labels, const int* indices, int* targets) {
  targets[s] = labels[indices[s]];
}

}  // namespace ctnet::kernels

namespace ctnet {

// The sample order of one epoch: identity without shuffle, else DataLoader's permutation.
inline std::vector<int> epoch_order(int count, std::uint64_t seed, int epoch, bool shuffle = true) {
  std::vector<int> order(static_cast<std::size_t>(count));
  std::iota(order.begin(), order.end(), 0);
  if (shuffle) {
    Generator g(seed, RngStream::shuffle, static_cast<std::uint64_t>(epoch));
    for (std::size_t i = order.size(); i > 1; --i) {
      const std::size_t j = g.below(static_cast<std::uint32_t>(i));
      std::swap(order[i - 1], order[j]);
    }
  }
  return order;
}

}  // namespace ctnet
