// ctnet/data/paired_digits.hpp — pair each MNIST image with a random digit 0-9, for the adder task.
//
// Requires: nothing. Guarantees: the digit paired with image `index` in epoch `epoch` is a pure function
// of (seed, epoch, index) from the counter-based generator, so training draws a fresh pairing every
// epoch, reproducibly; the test set uses one fixed pairing (test_pairing_seed, epoch 0) whatever the
// training seed, so test accuracies of different runs compare. Targets: the image's digit and the sum.
#pragma once

#include <cstdint>

#include "../core/rng.hpp"

namespace ctnet {

inline constexpr std::uint64_t test_pairing_seed = 20261125;

// 32 random bits modulo 10: the bias (6 in 2^32) is far below anything measurable.
inline int paired_digit(std::uint64_t seed, std::uint64_t epoch, long index) {
  return int(random_bits(seed, RngStream::pairing, epoch, std::uint64_t(index)) % 10u);
}

inline int test_paired_digit(long index) { return paired_digit(test_pairing_seed, 0, index); }

}  // namespace ctnet
