// ctnet/backend/cpu/elementwise.hpp — ReLU and dropout on the CPU, running the shared kernel bodies.
//
// Requires: OpenMP for parallelism. Guarantees: each output element depends only on its index, so
// results are identical for any thread count; dropout draws the per-element body's masks (four units
// per Philox call, sixteen calls at once), keeps them as bits for backward, and applies them with
// AVX-512 masked multiplies where the target has them.
#pragma once

#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "../common/elementwise.hpp"

namespace ctnet::cpu {

template <class Body>
void for_each_index(long n, Body&& body) {
#pragma omp parallel for schedule(static) if (n > 4096)
  for (long i = 0; i < n; ++i) body(i);
}

// The keep bits of units 64g .. 64g+63 (bit j: unit 64g + j), the masks of kernels::dropout_keep, which
// the CUDA backend evaluates per element: unit u is lane u % 4 of Philox block u / 4.
inline std::uint64_t dropout_keep_word(std::uint64_t seed, std::uint64_t draw, long group, std::uint32_t threshold) {
  constexpr int W = random_blocks_width;
  static_assert(4 * W == 64, "a group is one 64-bit word of keep bits");
  std::uint32_t lanes[4][W];
  random_blocks(seed, RngStream::dropout, draw, static_cast<std::uint64_t>(group) * W, lanes);
  std::uint64_t word = 0;
#if defined(__AVX512F__) && defined(__BMI2__)
  const __m512i t = _mm512_set1_epi32(static_cast<int>(threshold));
  for (int k = 0; k < 4; ++k) {
    const __mmask16 keep = _mm512_cmpge_epu32_mask(_mm512_maskz_srli_epi32(0xFFFF, _mm512_loadu_si512(lanes[k]), 8), t);
    word |= _pdep_u64(keep, 0x1111111111111111ull << k);  // lane k of block l is bit 4l + k
  }
#else
  for (int l = 0; l < W; ++l)
    for (int k = 0; k < 4; ++k) word |= std::uint64_t((lanes[k][l] >> 8) >= threshold) << (4 * l + k);
#endif
  return word;
}

// The keep bits of units first_unit + 64g .. first_unit + 64g + 63 (bit j: unit first_unit + 64g + j): the
// aligned word when first_unit is a multiple of 64 (always in one process), else spliced from two.
inline std::uint64_t dropout_keep_word_at(std::uint64_t seed, std::uint64_t draw, std::uint64_t first_unit, long group,
                                          std::uint32_t threshold) {
  const long aligned = long(first_unit / 64) + group;
  const unsigned shift = unsigned(first_unit % 64);
  const std::uint64_t low = dropout_keep_word(seed, draw, aligned, threshold);
  if (shift == 0) return low;
  return low >> shift | dropout_keep_word(seed, draw, aligned + 1, threshold) << (64 - shift);
}

// Group g's 64 keep bits into the 32-bit mask words 2g and 2g+1 (the second only if the mask has it).
inline void store_keep_word(std::uint32_t* mask, long g, long words, std::uint64_t word) {
  mask[2 * g] = static_cast<std::uint32_t>(word);
  if (2 * g + 1 < words) mask[2 * g + 1] = static_cast<std::uint32_t>(word >> 32);
}

// y = x * scale where the unit's bit is set, else 0, for the elements of one 64-unit group of Dropout
// (unit_size 1); `count` is 64 except in the last group.
template <class T>
inline void apply_keep_word(const T* x, T* y, std::uint64_t word, long count, T scale) {
#if defined(__AVX512F__)
  if constexpr (std::is_same_v<T, float>) {
    if (count == 64) {
      const __m512 s = _mm512_set1_ps(scale);
      for (int j = 0; j < 4; ++j)
        _mm512_storeu_ps(y + 16 * j, _mm512_maskz_mul_ps(static_cast<__mmask16>(word >> (16 * j)),
                                                         _mm512_loadu_ps(x + 16 * j), s));
      return;
    }
  }
#endif
  for (long u = 0; u < count; ++u) y[u] = (word >> u) & 1 ? x[u] * scale : T(0);
}

// Keep masks are stored one bit per unit in 32-bit words (bit u % 32 of word u / 32): forward fills
// them, backward reads them, so backward costs a multiply per element instead of a second round of Philox.
// Forward (mask_in null: draw the masks, and store them in mask_out if it is not null) or backward
// (mask_in: the bits forward stored). x is the input or the output gradient; its first unit is unit
// first_unit of the global batch.
template <class T>
void dropout_masked(const T* x, T* y, const std::uint32_t* mask_in, std::uint32_t* mask_out, long n, std::uint64_t seed,
                    std::uint64_t step, int position, long unit_size, float p, std::uint64_t first_unit) {
  const std::uint32_t threshold = kernels::dropout_threshold(p);
  const T scale = T(1) / (T(1) - T(p));
  const std::uint64_t draw = kernels::dropout_draw(step, position);
  const long units = n / unit_size;
  const long groups = (units + 63) / 64, words = (units + 31) / 32;
#pragma omp parallel for schedule(static) if (n > 16384)
  for (long g = 0; g < groups; ++g) {
    std::uint64_t word;
    if (mask_in) {
      word = mask_in[2 * g];
      if (2 * g + 1 < words) word |= std::uint64_t(mask_in[2 * g + 1]) << 32;
    } else {
      word = dropout_keep_word_at(seed, draw, first_unit, g, threshold);
      if (mask_out) {
        store_keep_word(mask_out, g, words, word);
      }
    }
    const long first = g * 64, count = std::min(units, first + 64) - first;
    if (unit_size == 1) {
      apply_keep_word(x + first, y + first, word, count, scale);
    } else {
      for (long u = 0; u < count; ++u) {
        const bool keep = (word >> u) & 1;
        const T* xu = x + (first + u) * unit_size;
        T* yu = y + (first + u) * unit_size;
        for (long e = 0; e < unit_size; ++e) yu[e] = keep ? xu[e] * scale : T(0);
      }
    }
  }
}

// Only the keep bits of `units` units (unit size 1, the first is unit first_unit of the global batch), for
// a fused chain that applies them itself.
inline void dropout_draw_mask(std::uint32_t* mask, long units, std::uint64_t seed, std::uint64_t step, int position,
                              float p, std::uint64_t first_unit) {
  const std::uint32_t threshold = kernels::dropout_threshold(p);
  const std::uint64_t draw = kernels::dropout_draw(step, position);
  const long groups = (units + 63) / 64, words = (units + 31) / 32;
#pragma omp parallel for schedule(static) if (units > 16384)
  for (long g = 0; g < groups; ++g) {
    const std::uint64_t word = dropout_keep_word_at(seed, draw, first_unit, g, threshold);
    store_keep_word(mask, g, words, word);
  }
}

struct ElementwiseOps {
  template <class T>
  static void relu_forward(const T* x, T* y, long n) {
    for_each_index(n, [=](long i) { kernels::relu_forward(i, x, y); });
  }
  template <class T>
  static void relu_backward(const T* y, const T* gy, T* gx, long n) {
    for_each_index(n, [=](long i) { kernels::relu_backward(i, y, gy, gx); });
  }
  // mask (may be null): receives the keep bits, ceil(units / 32) words, for backward. first_unit: the units
  // of the global batch before this batch's first (kernels::dropout_apply).
  template <class T>
  static void dropout_forward(const T* x, T* y, std::uint32_t* mask, long n, std::uint64_t seed, std::uint64_t step,
                              int position, long unit_size, float p, std::uint64_t first_unit = 0) {
    dropout_masked(x, y, nullptr, mask, n, seed, step, position, unit_size, p, first_unit);
  }
  // The forward mask and scale applied to the gradient: read from `mask` if forward stored it there,
  // drawn again otherwise.
  template <class T>
  static void dropout_backward(const T* gy, T* gx, const std::uint32_t* mask, long n, std::uint64_t seed,
                               std::uint64_t step, int position, long unit_size, float p,
                               std::uint64_t first_unit = 0) {
    dropout_masked(gy, gx, mask, nullptr, n, seed, step, position, unit_size, p, first_unit);
  }
  template <class T>
  static void copy(const T* x, T* y, long n) {
    for_each_index(n, [=](long i) { y[i] = x[i]; });
  }
};

}  // namespace ctnet::cpu
