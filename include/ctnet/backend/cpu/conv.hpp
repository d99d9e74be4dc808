// ctnet/backend/cpu/conv.hpp — 2-D convolution on the CPU, one sample's GEMMs at a time.
//
// Requires: Eigen 3.4; tensors NCHW, weights OUTxINxKxK row-major (PyTorch's layout). Guarantees: float on
// AVX-512 runs the register-blocked kernels — forward reads the input in place where the geometry allows
// (conv_forward_direct.hpp), else im2col + small_gemm; backward at stride 1 forms the weight gradient from
// the input in place (conv_weight_grad.hpp) and the input gradient one input channel at a time
// (columns.hpp) — and everything else is im2col + an Eigen GEMM per sample. Loop bounds come from the
// compile-time ConvGeometry. Blocks of conv_block samples run in parallel (parallel_blocks, threads.hpp:
// each thread its own share of the blocks first, then the far end of the others'), each thread with its
// own scratch; weight gradients are summed per block and then over blocks in block order (the same bits
// for any thread count). Gradients accumulate (+=) into gw and gb. Scratch memory and block shares are
// the calling thread's current ExecutionContext's (threads.hpp), taken once per call before the parallel
// region.
#pragma once

#include <algorithm>
#include <cstddef>
#include <type_traits>

#include "eigen.hpp"
#include "columns.hpp"
#include "conv_forward_direct.hpp"
#include "conv_weight_grad.hpp"
#include "small_gemm.hpp"

#include "../../core/layer.hpp"
#include "../common/geometry.hpp"
#include "threads.hpp"

namespace ctnet::cpu {

// The register-blocked small GEMM (small_gemm.hpp) serves float on AVX-512 targets; Eigen serves the rest.
template <class T>
inline constexpr bool conv_uses_small_gemm = has_small_gemm && std::is_same_v<T, float>;

// dst (Cols x Rows) = src (Rows x Cols) transposed, row-major. Float with at most 16 rows on AVX-512:
// 16 columns at a time through a register transpose (a convolution's output gradient, 16 x 576, is
// transposed once per sample in backward).
template <int Rows, int Cols, class T>
inline void transpose_into(const T* src, T* dst) {
#if defined(__AVX512F__)
  if constexpr (std::is_same_v<T, float> && Rows <= 16) {
    constexpr __mmask16 row_lanes = Rows == 16 ? __mmask16(0xFFFF) : __mmask16((1u << Rows) - 1);
    for (int c0 = 0; c0 < Cols; c0 += 16) {
      const int width = Cols - c0 < 16 ? Cols - c0 : 16;
      const __mmask16 col_lanes = width == 16 ? __mmask16(0xFFFF) : __mmask16((1u << width) - 1);
      __m512 t[16];
      for (int r = 0; r < 16; ++r)
        t[r] = r < Rows ? _mm512_maskz_loadu_ps(col_lanes, src + long(r) * Cols + c0) : _mm512_setzero_ps();
      detail::transpose16x16(t);
      for (int c = 0; c < width; ++c) _mm512_mask_storeu_ps(dst + long(c0 + c) * Rows, row_lanes, t[c]);
    }
    return;
  }
#endif
  for (int c = 0; c < Cols; ++c)
    for (int r = 0; r < Rows; ++r) dst[c * Rows + r] = src[r * Cols + c];
}

#if defined(__AVX512F__)
// ConvEpilogue::apply on sixteen outputs of one channel: the same operations, so the same bits.
struct ConvEpilogueAvx512 {
  const ConvEpilogue<float>& e;
  __m512 operator()(int c, __m512 v) const {
    if (e.mean) {
      const __m512 h = _mm512_mul_ps(_mm512_sub_ps(v, _mm512_set1_ps(e.mean[c])), _mm512_set1_ps(e.inv_std[c]));
      v = _mm512_add_ps(_mm512_mul_ps(_mm512_set1_ps(e.gamma[c]), h), _mm512_set1_ps(e.beta[c]));
    }
    // max(v, 0) returns its second operand for NaN and for -0, as v > 0 ? v : 0 does.
    if (e.relu) v = _mm512_maskz_max_ps(0xFFFF, v, _mm512_setzero_ps());  // (maskz: see random_blocks, core/rng.hpp)
    return v;
  }
};
#endif

// w^T (col_rows x out_c) in thread 0's scratch, computed once per call and then only read by every
// thread (small_gemm's and the direct kernels' weight operand).
template <ConvGeometry G, class T>
const T* transposed_weights(ExecutionContext& cx, const T* w) {
  T* wT = cx.scratch<T>(ScratchSlot::transposed_weights, 0, std::size_t(G.col_rows()) * G.out_c);
  transpose_into<G.out_c, G.col_rows()>(w, wT);
  return wT;
}

// Thread t's buffer for a zero-padded copy of one sample (the direct kernels read padded planes), its
// borders zeroed; null when the geometry does not pad.
template <ConvGeometry G, class T>
T* padded_input_buffer(ExecutionContext& cx, int t) {
  if constexpr (G.padding == 0) {
    return nullptr;
  } else {
    constexpr std::size_t size = std::size_t(G.in_c) * (G.in_h + 2 * G.padding) * (G.in_w + 2 * G.padding);
    T* p = cx.scratch<T>(ScratchSlot::padded_input, t, size);
    std::fill(p, p + size, T(0));
    return p;
  }
}

// The sample as the direct kernels read it: xs itself, or its interior copied into `padded`.
template <ConvGeometry G, class T>
const T* padded_input(const T* xs, T* padded) {
  if constexpr (G.padding == 0) {
    return xs;
  } else {
    constexpr int pw = G.in_w + 2 * G.padding, ph = G.in_h + 2 * G.padding;
    for (int c = 0; c < G.in_c; ++c)
      for (int iy = 0; iy < G.in_h; ++iy)
        std::copy_n(xs + (c * G.in_h + iy) * G.in_w, G.in_w, padded + (c * ph + iy + G.padding) * pw + G.padding);
    return padded;
  }
}

struct ConvOps {
  static constexpr bool fuses_conv_epilogue = true;
  // Samples per work block: small enough that two threads balance even when one core runs slower,
  // large enough that the per-block weight-gradient partials stay cheap to reduce.
  static constexpr int conv_block = 8;

  // epilogue (inference only): a following batch-norm and/or ReLU applied to each output as it is stored.
  template <ConvGeometry G, class T>
  static void conv2d_forward(const T* x, const T* w, const T* b, T* y, int n, const ConvEpilogue<T>& epilogue = {}) {
    ExecutionContext& cx = current_context();
    cx.reserve_threads<T>(max_threads());
#if defined(__AVX512F__)
    if constexpr (conv_uses_small_gemm<T> && has_direct_forward<G>) {
      // No im2col: the kernel reads the input in place (conv_forward_direct.hpp).
      const T* wT = transposed_weights<G>(cx, w);
      parallel_blocks(cx, n, conv_block, [&](int, int first, int last, int t) {
        T* padded = padded_input_buffer<G, T>(cx, t);
        for (int s = first; s < last; ++s) {
          const T* in = padded_input<G>(x + s * G.in_size(), padded);
          T* ys = y + s * G.out_size();
          // One body for training (an inactive epilogue: two predictable branches per 16 outputs) and
          // inference: half the code to compile.
          conv_forward_direct<G>(in, wT, G.bias ? b : nullptr, ys, ConvEpilogueAvx512{epilogue});
        }
      });
      return;
    }
#endif
    parallel_blocks(cx, n, conv_block, [&](int, int first, int last, int t) {
      T* col = G.is_pointwise() ? nullptr : cx.scratch<T>(ScratchSlot::columns, t, size_t(G.col_rows()) * G.out_hw());
      for (int s = first; s < last; ++s) {
        const T* xs = x + s * G.in_size();
        if constexpr (!G.is_pointwise()) im2col<G>(xs, col);
        const T* columns = G.is_pointwise() ? xs : col;
        T* ys = y + s * G.out_size();
#if defined(__AVX512F__)
        if constexpr (conv_uses_small_gemm<T>) {
          small_gemm<G.out_c, G.col_rows(), G.out_hw()>(w, columns, ys, G.bias ? b : nullptr,
                                                        ConvEpilogueAvx512{epilogue});
          continue;
        }
#endif
        MatrixMap<T> out(ys, G.out_c, G.out_hw());
        out.noalias() =
            ConstMatrixMap<T>(w, G.out_c, G.col_rows()) * ConstMatrixMap<T>(columns, G.col_rows(), G.out_hw());
        if constexpr (G.bias) out.colwise() += Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, 1>>(b, G.out_c);
        if (epilogue.active())
          for (int c = 0; c < G.out_c; ++c)
            for (int j = 0; j < G.out_hw(); ++j) ys[c * G.out_hw() + j] = epilogue.apply(c, ys[c * G.out_hw() + j]);
      }
    });
  }

  // gx may be null (first layer: no input gradient needed); gb is ignored without bias.
  template <ConvGeometry G, class T>
  static void conv2d_backward(const T* x, const T* w, const T* gy, T* gx, T* gw, T* gb, int n) {
    constexpr int M = G.out_c, K = G.col_rows(), N = G.out_hw();
    constexpr long wsize = long(M) * K;
    // Stride-1 float on AVX-512: the weight gradient reads the input in place (conv_weight_grad.hpp), so
    // backward forms no im2col columns.
    constexpr bool direct_weight_grad = conv_uses_small_gemm<T> && G.stride == 1;
    // ... and the input gradient is formed one input channel at a time (input_grad_by_channel), so the
    // column gradients need only kernel^2 rows.
    constexpr bool input_grad_by_channel_path = direct_weight_grad && !G.is_pointwise();
    constexpr long gcol_rows = input_grad_by_channel_path ? long(G.kernel) * G.kernel : K;
    ExecutionContext& cx = current_context();
    cx.reserve_threads<T>(max_threads());
    [[maybe_unused]] const T* wT = conv_uses_small_gemm<T> ? transposed_weights<G>(cx, w) : nullptr;
    // Weight- and bias-gradient partials per block of samples (M x K with Eigen, K x M, transposed, with
    // small_gemm), summed in block order below: the same result for any thread count.
    const int blocks = (n + conv_block - 1) / conv_block;
    T* partial_w = cx.scratch<T>(ScratchSlot::weight_grads, 0, size_t(blocks) * wsize);
    T* partial_b = cx.scratch<T>(ScratchSlot::bias_grads, 0, size_t(blocks) * M);
    parallel_blocks(cx, n, conv_block, [&](int block, int first, int last, int t) {
      T* col =
          G.is_pointwise() || direct_weight_grad ? nullptr : cx.scratch<T>(ScratchSlot::columns, t, size_t(K) * N);
      T* gcol = cx.scratch<T>(ScratchSlot::column_grads, t, size_t(gcol_rows) * N);
      T* pgw = partial_w + size_t(block) * wsize;
      T* pgb = partial_b + size_t(block) * M;
      std::fill(pgw, pgw + wsize, T(0));
      std::fill(pgb, pgb + M, T(0));
      [[maybe_unused]] T* gyT =
          conv_uses_small_gemm<T> ? cx.scratch<T>(ScratchSlot::transposed_grads, t, size_t(N) * M) : nullptr;
      [[maybe_unused]] T* padded = direct_weight_grad ? padded_input_buffer<G, T>(cx, t) : nullptr;
      for (int s = first; s < last; ++s) {
        const T* xs = x + s * G.in_size();
        const T* gys = gy + s * G.out_size();
        if constexpr (!G.is_pointwise() && !direct_weight_grad) im2col<G>(xs, col);
        const T* columns = G.is_pointwise() ? xs : col;
        if constexpr (G.bias) {
          for (int o = 0; o < M; ++o) pgb[o] += ConstMatrixMap<T>(gys, M, N).row(o).sum();
        }
        T* gxs = gx ? gx + s * G.in_size() : nullptr;
        T* gcolumns = G.is_pointwise() ? gxs : gcol;
#if defined(__AVX512F__)
        if constexpr (conv_uses_small_gemm<T>) {
          // gw^T (K x M) += columns (K x N) * gy^T (N x M); gcolumns (K x N) = w^T (K x M) * gy (M x N).
          transpose_into<M, N>(gys, gyT);
          if constexpr (direct_weight_grad) {
            conv_weight_grad_direct<G>(padded_input<G>(xs, padded), gyT, pgw);
          } else {
            small_gemm<K, N, M, true>(columns, gyT, pgw);
          }
          if constexpr (input_grad_by_channel_path) {
            if (gxs) input_grad_by_channel<G>(wT, gys, gcol, gxs);
          } else {
            if (gxs) small_gemm<K, M, N>(wT, gys, gcolumns);
          }
        } else
#endif
        {
          const ConstMatrixMap<T> grad_out(gys, M, N);
          MatrixMap<T>(pgw, M, K).noalias() += grad_out * ConstMatrixMap<T>(columns, K, N).transpose();
          if (gxs) MatrixMap<T>(gcolumns, K, N).noalias() = ConstMatrixMap<T>(w, M, K).transpose() * grad_out;
        }
        if constexpr (!G.is_pointwise() && !input_grad_by_channel_path) {
          if (gxs) col2im<G>(gcol, gxs);
        }
      }
    });
    // Each gradient element adds the blocks' partials in block order (vector adds over contiguous
    // partials; small_gemm's transposed partials are summed into a transposed copy of gw).
    T* sum = gw;
    if constexpr (conv_uses_small_gemm<T>) {
      sum = cx.scratch<T>(ScratchSlot::transposed_weights, 0, wsize);  // w^T is not needed any more
      transpose_into<M, K>(gw, sum);
    }
    for (int block = 0; block < blocks; ++block) {
      const T* pgw = partial_w + size_t(block) * wsize;
#pragma omp simd
      for (long i = 0; i < wsize; ++i) sum[i] += pgw[i];
      if constexpr (G.bias) {
        const T* pgb = partial_b + size_t(block) * M;
        for (int o = 0; o < M; ++o) gb[o] += pgb[o];
      }
    }
    if constexpr (conv_uses_small_gemm<T>) transpose_into<K, M>(sum, gw);
  }
};

}  // namespace ctnet::cpu
