// ctnet/backend/cuda/reduce.cuh — deterministic per-channel reductions over [batch x channels x spatial].
//
// Requires: blocks of cuda::block_threads threads. Guarantees: no atomics; every sum is computed in a
// fixed order (a fixed slice per block, a fixed warp-shuffle tree per block, slices merged in order by
// one thread per channel), so the same input on the same device gives the same bits on every run. Stage
// one splits each channel's n * spatial elements into `parts` slices (a function of the size only) and
// writes per-slice results; stage two (in the ops) merges them. Partials are accumulated in double.
#pragma once

#include "runtime.cuh"

namespace ctnet::cuda {

// Sum over the block (blockDim.x == block_threads); every thread gets the result.
__device__ inline double block_sum(double v) {
  __shared__ double warp_sums[block_threads / 32];
  for (int offset = 16; offset > 0; offset /= 2) v += __shfl_down_sync(0xffffffffu, v, offset);
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  __syncthreads();  // warp_sums may still be read by a previous call
  if (lane == 0) warp_sums[warp] = v;
  __syncthreads();
  double total = 0;
  for (int w = 0; w < block_threads / 32; ++w) total += warp_sums[w];
  return total;
}

// Slices per channel for `count` elements per channel: enough blocks to fill a GPU, each with work.
inline int reduce_parts(long count) {
  const long parts = (count + 8L * block_threads - 1) / (8L * block_threads);
  return static_cast<int>(parts < 1 ? 1 : (parts > 256 ? 256 : parts));
}

template <int C, long Spatial>
__device__ inline long channel_at(int c, long j) {
  return (j / Spatial * C + c) * Spatial + j % Spatial;
}

// Per slice: (elements, mean, sum of squared deviations from that mean) -> partial[(c * parts + part) * 3].
template <int C, long Spatial, class T>
__global__ void moments_partials_kernel(const T* x, long n, int parts, double* partial) {
  const int c = blockIdx.y, part = blockIdx.x;
  const long count = n * Spatial, begin = count * part / parts, end = count * (part + 1) / parts;
  double s = 0;
  for (long j = begin + threadIdx.x; j < end; j += blockDim.x) s += double(x[channel_at<C, Spatial>(c, j)]);
  const double elements = double(end - begin);
  const double total = block_sum(s);  // every thread calls block_sum: it synchronises the block
  const double mean = elements > 0 ? total / elements : 0.0;
  double q = 0;
  for (long j = begin + threadIdx.x; j < end; j += blockDim.x) {
    const double d = double(x[channel_at<C, Spatial>(c, j)]) - mean;
    q += d * d;
  }
  q = block_sum(q);
  if (threadIdx.x == 0) {
    double* out = partial + (long(c) * parts + part) * 3;
    out[0] = elements;
    out[1] = mean;
    out[2] = q;
  }
}

// Per slice: sum of a[at] and (when b is given) of a[at] * b[at] -> partial[(c * parts + part) * 2].
template <int C, long Spatial, class T>
__global__ void sums_partials_kernel(const T* a, const T* b, long n, int parts, double* partial) {
  const int c = blockIdx.y, part = blockIdx.x;
  const long count = n * Spatial, begin = count * part / parts, end = count * (part + 1) / parts;
  double sa = 0, sab = 0;
  for (long j = begin + threadIdx.x; j < end; j += blockDim.x) {
    const long at = channel_at<C, Spatial>(c, j);
    sa += double(a[at]);
    if (b) sab += double(a[at]) * double(b[at]);
  }
  sa = block_sum(sa);
  sab = block_sum(sab);
  if (threadIdx.x == 0) {
    partial[(long(c) * parts + part) * 2] = sa;
    partial[(long(c) * parts + part) * 2 + 1] = sab;
  }
}

// Stage two of sums_partials: totals[c] = (sum a, sum a*b) in slice order; then, when given,
// acc_a[c] += T(sum a) and acc_ab[c] += T(sum a*b) (gradient accumulation).
template <int C, class T>
__global__ void sums_merge_kernel(const double* partial, int parts, double* totals, T* acc_a, T* acc_ab) {
  const int c = blockIdx.x * blockDim.x + threadIdx.x;
  if (c >= C) return;
  double sa = 0, sab = 0;
  for (int p = 0; p < parts; ++p) {
    sa += partial[(long(c) * parts + p) * 2];
    sab += partial[(long(c) * parts + p) * 2 + 1];
  }
  if (totals) {
    totals[2 * c] = sa;
    totals[2 * c + 1] = sab;
  }
  if (acc_a) acc_a[c] += T(sa);
  if (acc_ab) acc_ab[c] += T(sab);
}

// Launches stage one and two of the (a, a*b) channel sums; see sums_merge_kernel for the outputs.
template <int C, long Spatial, class T>
void channel_sums(const T* a, const T* b, long n, double* totals, T* acc_a, T* acc_ab) {
  const int parts = reduce_parts(n * Spatial);
  double* partial = scratch<double>(Slot::reduce_partials, std::size_t(C) * parts * 2);
  sums_partials_kernel<C, Spatial><<<dim3(parts, C), block_threads, 0, stream()>>>(a, b, n, parts, partial);
  CTNET_CUDA_CHECK_LAUNCH("sums_partials_kernel");
  sums_merge_kernel<C><<<(C + 127) / 128, 128, 0, stream()>>>(partial, parts, totals, acc_a, acc_ab);
  CTNET_CUDA_CHECK_LAUNCH("sums_merge_kernel");
}

}  // namespace ctnet::cuda
