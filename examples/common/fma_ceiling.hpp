// fma_ceiling.hpp — the machine's own floating-point ceiling, measured in the same run as the benchmark.
//
// fma_ceiling_gflops(threads) runs, on each of `threads` OpenMP threads, independent chains of fused
// multiply-adds on the widest float vectors this build targets (AVX-512, else AVX2+FMA, else scalar fma) and
// returns the best GFLOP/s (2 flops per lane per FMA) of a few timed repetitions. Twelve chains per thread
// hide the FMA latency on current x86 cores (4 cycles, 2 ports), so the figure is what the cores can issue:
// on a VM whose two vCPUs share one core, the 2-thread figure shows it. Requires OpenMP for threads > 1.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <vector>

#if defined(__AVX512F__) || defined(__FMA__)
#include <immintrin.h>
#endif
#include <omp.h>

namespace examples {

namespace detail {

// `iterations` steps of 12 independent FMA chains; returns a value that depends on every chain, so the
// compiler cannot drop any of them. Returns the flops done through `flops`.
inline float fma_chains(long iterations, double& flops) {
  constexpr int chains = 12;
#if defined(__AVX512F__)
  constexpr int lanes = 16;
  __m512 acc[chains];
  for (int c = 0; c < chains; ++c) acc[c] = _mm512_set1_ps(float(c) * 1e-3f);
  const __m512 mul = _mm512_set1_ps(0.999999f), add = _mm512_set1_ps(1e-7f);
  for (long i = 0; i < iterations; ++i)
    for (int c = 0; c < chains; ++c) acc[c] = _mm512_fmadd_ps(acc[c], mul, add);
  __m512 sum = acc[0];
  for (int c = 1; c < chains; ++c) sum = _mm512_add_ps(sum, acc[c]);
  // Stored and summed by hand: g++ 12's _mm512_reduce_add_ps trips its own -Wuninitialized.
  alignas(64) float parts[16];
  _mm512_store_ps(parts, sum);
  float out = 0;
  for (float p : parts) out += p;
#elif defined(__FMA__)
  constexpr int lanes = 8;
  __m256 acc[chains];
  for (int c = 0; c < chains; ++c) acc[c] = _mm256_set1_ps(float(c) * 1e-3f);
  const __m256 mul = _mm256_set1_ps(0.999999f), add = _mm256_set1_ps(1e-7f);
  for (long i = 0; i < iterations; ++i)
    for (int c = 0; c < chains; ++c) acc[c] = _mm256_fmadd_ps(acc[c], mul, add);
  __m256 sum = acc[0];
  for (int c = 1; c < chains; ++c) sum = _mm256_add_ps(sum, acc[c]);
  alignas(32) float parts[8];
  _mm256_store_ps(parts, sum);
  float out = 0;
  for (float p : parts) out += p;
#else
  constexpr int lanes = 1;
  float acc[chains];
  for (int c = 0; c < chains; ++c) acc[c] = float(c) * 1e-3f;
  for (long i = 0; i < iterations; ++i)
    for (int c = 0; c < chains; ++c) acc[c] = std::fma(acc[c], 0.999999f, 1e-7f);
  float out = 0;
  for (float a : acc) out += a;
#endif
  flops = 2.0 * lanes * chains * double(iterations);
  return out;
}

}  // namespace detail

// The vector width the ceiling was measured with, for the benchmark's JSON line.
inline const char* fma_ceiling_isa() {
#if defined(__AVX512F__)
  return "avx512";
#elif defined(__FMA__)
  return "avx2-fma";
#else
  return "scalar";
#endif
}

inline double fma_ceiling_gflops(int threads, int repetitions = 5, long iterations = 20'000'000) {
  double best = 0;
  std::vector<float> sink(std::size_t(std::max(threads, 1)));
  for (int r = 0; r < repetitions; ++r) {
    double flops_per_thread = 0;
    const auto start = std::chrono::steady_clock::now();
#pragma omp parallel num_threads(threads)
    {
      double flops = 0;
      sink[std::size_t(omp_get_thread_num())] = detail::fma_chains(iterations, flops);
#pragma omp single
      flops_per_thread = flops;
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    best = std::max(best, flops_per_thread * threads / seconds / 1e9);
  }
  // The chains' values must reach memory that outlives the loop, or the work could be dropped.
  float total = 0;
  for (float v : sink) total += v;
  volatile float keep = total;
  (void)keep;
  return best;
}

}  // namespace examples
