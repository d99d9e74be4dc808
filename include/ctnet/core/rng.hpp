// ctnet/core/rng.hpp — the one seeded, counter-based random generator (Philox-4x32-10).
//
// Requires: nothing beyond C++20. Guarantees: every random number is a pure function of
// (seed, stream, counter), so weight init, shuffling, dropout and augmentation are reproducible for a
// seed, independent of thread count and schedule, and identical on host and device (CTNET_HD).
#pragma once

#include <cmath>
#include <cstdint>

#include "host_device.hpp"

#if defined(__AVX512F__) && !defined(__CUDACC__)
#include <immintrin.h>
#endif

namespace ctnet {

// Independent streams keep one use of randomness from shifting another when code changes.
enum class RngStream : std::uint32_t { init = 1, shuffle = 2, dropout = 3, augment = 4, pairing = 5, user = 16 };

struct Philox4x32 {
  std::uint32_t v[4];
};

// Philox-4x32 with 10 rounds (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11).
CTNET_HD inline Philox4x32 philox4x32(std::uint64_t key, std::uint32_t c0, std::uint32_t c1, std::uint32_t c2,
                                      std::uint32_t c3) {
  std::uint32_t k0 = static_cast<std::uint32_t>(key), k1 = static_cast<std::uint32_t>(key >> 32);
  std::uint32_t x0 = c0, x1 = c1, x2 = c2, x3 = c3;
  for (int round = 0; round < 10; ++round) {
    const std::uint64_t p0 = static_cast<std::uint64_t>(0xD2511F53u) * x0;
    const std::uint64_t p1 = static_cast<std::uint64_t>(0xCD9E8D57u) * x2;
    const std::uint32_t hi0 = static_cast<std::uint32_t>(p0 >> 32), lo0 = static_cast<std::uint32_t>(p0);
    const std::uint32_t hi1 = static_cast<std::uint32_t>(p1 >> 32), lo1 = static_cast<std::uint32_t>(p1);
    x0 = hi1 ^ x1 ^ k0;
    x1 = lo1;
    x2 = hi0 ^ x3 ^ k1;
    x3 = lo0;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  return {{x0, x1, x2, x3}};
}

// The 128 random bits of block `block` of draw `draw` in `stream`: one Philox call gives four numbers.
CTNET_HD inline Philox4x32 random_block(std::uint64_t seed, RngStream stream, std::uint64_t draw, std::uint64_t block) {
  return philox4x32(seed, static_cast<std::uint32_t>(block), static_cast<std::uint32_t>(block >> 32),
                    static_cast<std::uint32_t>(draw),
                    static_cast<std::uint32_t>(stream) ^ (static_cast<std::uint32_t>(draw >> 32) << 8));
}

// W consecutive blocks at once (blocks first..first+W-1), identical to W calls of random_block;
// out[k][l] is lane k of block first+l. With GCC's vector extensions the rounds run on W lanes at once
// (the compiler does not vectorise the widening multiplies of the scalar loop by itself).
inline constexpr int random_blocks_width = 16;

inline void random_blocks(std::uint64_t seed, RngStream stream, std::uint64_t draw, std::uint64_t first,
                          std::uint32_t (&out)[4][random_blocks_width]) {
  constexpr int W = random_blocks_width;
  const std::uint32_t c2 = static_cast<std::uint32_t>(draw);
  const std::uint32_t c3 = static_cast<std::uint32_t>(stream) ^ (static_cast<std::uint32_t>(draw >> 32) << 8);
#if defined(__AVX512F__) && !defined(__CUDACC__)
  // Blocks first..first+7 and first+8..first+15 in two registers per Philox word, one block per 64-bit
  // lane with the word in its low half: _mm512_mul_epu32 then gives each full 64-bit product in place, so
  // a round is two multiplies, two shifts and two three-way XORs (vpternlogd) per eight blocks. High
  // halves carry garbage that nothing reads (the multiplies read low halves only); the low halves are
  // packed into lane order at the end.
  const __m512i block_a = _mm512_add_epi64(_mm512_set1_epi64(static_cast<long long>(first)),
                                           _mm512_setr_epi64(0, 1, 2, 3, 4, 5, 6, 7));
  const __m512i block_b = _mm512_add_epi64(block_a, _mm512_set1_epi64(8));
  // The zero-masked forms with every lane selected: g++ 12 warns about the unmasked intrinsics'
  // deliberately undefined pass-through operand (-Wuninitialized); the instructions are the same.
  constexpr __mmask8 all = 0xFF;
  __m512i a0 = block_a, a1 = _mm512_maskz_srli_epi64(all, block_a, 32);
  __m512i b0 = block_b, b1 = _mm512_maskz_srli_epi64(all, block_b, 32);
  __m512i a2 = _mm512_set1_epi32(static_cast<int>(c2)), a3 = _mm512_set1_epi32(static_cast<int>(c3));
  __m512i b2 = a2, b3 = a3;
  const __m512i m0 = _mm512_set1_epi64(0xD2511F53), m1 = _mm512_set1_epi64(0xCD9E8D57);
  constexpr int xor3 = 0x96;
  std::uint32_t k0 = static_cast<std::uint32_t>(seed), k1 = static_cast<std::uint32_t>(seed >> 32);
  for (int round = 0; round < 10; ++round) {
    const __m512i key0 = _mm512_set1_epi32(static_cast<int>(k0)), key1 = _mm512_set1_epi32(static_cast<int>(k1));
    const __m512i pa0 = _mm512_maskz_mul_epu32(all, a0, m0), pa1 = _mm512_maskz_mul_epu32(all, a2, m1);
    const __m512i pb0 = _mm512_maskz_mul_epu32(all, b0, m0), pb1 = _mm512_maskz_mul_epu32(all, b2, m1);
    a0 = _mm512_ternarylogic_epi32(_mm512_maskz_srli_epi64(all, pa1, 32), a1, key0, xor3);
    a2 = _mm512_ternarylogic_epi32(_mm512_maskz_srli_epi64(all, pa0, 32), a3, key1, xor3);
    b0 = _mm512_ternarylogic_epi32(_mm512_maskz_srli_epi64(all, pb1, 32), b1, key0, xor3);
    b2 = _mm512_ternarylogic_epi32(_mm512_maskz_srli_epi64(all, pb0, 32), b3, key1, xor3);
    a1 = pa1;
    a3 = pa0;
    b1 = pb1;
    b3 = pb0;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  static_assert(W == 16, "two registers of eight 64-bit lanes hold the sixteen blocks");
  const __m512i low_halves = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  _mm512_storeu_si512(out[0], _mm512_permutex2var_epi32(a0, low_halves, b0));
  _mm512_storeu_si512(out[1], _mm512_permutex2var_epi32(a1, low_halves, b1));
  _mm512_storeu_si512(out[2], _mm512_permutex2var_epi32(a2, low_halves, b2));
  _mm512_storeu_si512(out[3], _mm512_permutex2var_epi32(a3, low_halves, b3));
#elif defined(__GNUC__) && !defined(__CUDACC__) && !defined(__clang__)
  typedef std::uint32_t u32v __attribute__((vector_size(4 * random_blocks_width)));
  typedef std::uint64_t u64v __attribute__((vector_size(8 * random_blocks_width)));
  u32v x0, x1, x2, x3;
  for (int l = 0; l < W; ++l) {
    const std::uint64_t block = first + static_cast<std::uint64_t>(l);
    x0[l] = static_cast<std::uint32_t>(block);
    x1[l] = static_cast<std::uint32_t>(block >> 32);
    x2[l] = c2;
    x3[l] = c3;
  }
  std::uint32_t k0 = static_cast<std::uint32_t>(seed), k1 = static_cast<std::uint32_t>(seed >> 32);
  for (int round = 0; round < 10; ++round) {
    const u64v p0 = __builtin_convertvector(x0, u64v) * std::uint64_t{0xD2511F53u};
    const u64v p1 = __builtin_convertvector(x2, u64v) * std::uint64_t{0xCD9E8D57u};
    const u32v n0 = __builtin_convertvector(p1 >> 32, u32v) ^ x1 ^ k0;
    const u32v n2 = __builtin_convertvector(p0 >> 32, u32v) ^ x3 ^ k1;
    x1 = __builtin_convertvector(p1, u32v);
    x3 = __builtin_convertvector(p0, u32v);
    x0 = n0;
    x2 = n2;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  for (int l = 0; l < W; ++l) {
    out[0][l] = x0[l];
    out[1][l] = x1[l];
    out[2][l] = x2[l];
    out[3][l] = x3[l];
  }
#else
  for (int l = 0; l < W; ++l) {
    const Philox4x32 r = random_block(seed, stream, draw, first + static_cast<std::uint64_t>(l));
    for (int k = 0; k < 4; ++k) out[k][l] = r.v[k];
  }
  (void)c2;
  (void)c3;
#endif
}

// 32 random bits for element `index` of draw `draw` in `stream` (lane index % 4 of block index / 4).
CTNET_HD inline std::uint32_t random_bits(std::uint64_t seed, RngStream stream, std::uint64_t draw,
                                          std::uint64_t index) {
  return random_block(seed, stream, draw, index >> 2).v[index & 3];
}

// Uniform in [0, 1) with 24 random bits: exactly representable in float.
CTNET_HD inline float bits_to_unit_float(std::uint32_t bits) { return static_cast<float>(bits >> 8) * (1.0f / 16777216.0f); }

CTNET_HD inline float random_uniform(std::uint64_t seed, RngStream stream, std::uint64_t draw, std::uint64_t index) {
  return bits_to_unit_float(random_bits(seed, stream, draw, index));
}

// A sequential view of one stream, for host-side uses that draw numbers one after another
// (initialisation, shuffling, augmentation parameters).
class Generator {
 public:
  Generator(std::uint64_t seed, RngStream stream, std::uint64_t draw = 0) : seed_(seed), stream_(stream), draw_(draw) {}

  std::uint32_t next_u32() {
    if ((counter_ & 3) == 0) block_ = random_block(seed_, stream_, draw_, counter_ >> 2);
    return block_.v[counter_++ & 3];
  }
  // Uniform in [0, 1).
  float uniform() { return bits_to_unit_float(next_u32()); }
  double uniform_double() {
    const std::uint64_t hi = next_u32() >> 5, lo = next_u32() >> 6;  // 53 bits
    return static_cast<double>((hi << 26) | lo) * (1.0 / 9007199254740992.0);
  }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform_double(); }
  // Standard normal by Box-Muller (one value per two uniforms: simple and reproducible).
  double normal() {
    const double u1 = 1.0 - uniform_double(), u2 = uniform_double();  // u1 in (0, 1]
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  // Unbiased integer in [0, n) by rejection (Lemire's bound would be faster; n is small here).
  std::uint32_t below(std::uint32_t n) {
    const std::uint32_t limit = static_cast<std::uint32_t>((0x100000000ull / n) * n - 1);
    for (;;) {
      const std::uint32_t x = next_u32();
      if (x <= limit || limit == 0xFFFFFFFFu) return x % n;
    }
  }
  std::uint64_t seed() const { return seed_; }

 private:
  std::uint64_t seed_;
  RngStream stream_;
  std::uint64_t draw_;
  std::uint64_t counter_ = 0;
  Philox4x32 block_{};
};

}  // namespace ctnet
