// ctnet/backend/cpu/conv.hpp — 2-D convolution on the CPU: im2col + a GEMM per sample (the small_gemm
// kernel for float on AVX-512, Eigen otherwise).
//
// Requires: Eigen 3.4; tensors NCHW, weights OUTxINxKxK row-major (PyTorch's layout). Guarantees:
// loop bounds come from the compile-time ConvGeometry; blocks of samples run in parallel over OpenMP
// threads (dynamically scheduled), each thread with its own scratch, and weight gradients are summed
// per block and then over blocks in order (the same bits for any thread count). Gradients accumulate
// (+=) into gw and gb. Scratch memory and block shares are the calling thread's current ExecutionContext's
// (threads.hpp), taken once per call before the parallel region.
#pragma once

#include <algorithm>
#include <type_traits>

#include "eigen.hpp"
#include "conv_forward_direct.hpp"
#include "conv_weight_grad.hpp"
#include "small_gemm.hpp"

#include "../../core/layer.hpp"
#include "../common/geometry.hpp"
#include "threads.hpp"

namespace ctnet {

namespace cpu {

template <class T>
using RowMatrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T>
using MatrixMap = Eigen::Map<RowMatrix<T>>;
template <class T>
using ConstMatrixMap = Eigen::Map<const RowMatrix<T>>;

// With stride 1 an output row reads a contiguous run of an input row: [first, last) are the outputs
// whose input column ox - padding + kx lies inside the image (the rest are padding zeros).
template <ConvGeometry G>
constexpr int inside_first(int kx) {
  return G.padding - kx > 0 ? G.padding - kx : 0;
}
template <ConvGeometry G>
constexpr int inside_last(int kx) {
  return G.in_w + G.padding - kx < G.out_w ? G.in_w + G.padding - kx : G.out_w;
}

#if defined(__AVX512F__)
// Lanes l of a 16-float vector with lo <= l < hi.
inline __mmask16 lanes_between(int lo, int hi) {
  lo = lo < 0 ? 0 : lo;
  hi = hi > 16 ? 16 : hi;
  return hi <= lo ? __mmask16(0) : __mmask16(((1u << hi) - 1) & ~((1u << lo) - 1));
}

// Stride-1 im2col of float with masked vector copies: the padding lanes are loaded as zeros.
template <ConvGeometry G, int Pitch>
void im2col_avx512(const float* x, float* col) {
  for (int c = 0; c < G.in_c; ++c)
    for (int ky = 0; ky < G.kernel; ++ky)
      for (int kx = 0; kx < G.kernel; ++kx) {
        float* row = col + ((c * G.kernel + ky) * G.kernel + kx) * Pitch;
        const int first = inside_first<G>(kx), last = inside_last<G>(kx);
        for (int oy = 0; oy < G.out_h; ++oy) {
          const int iy = oy - G.padding + ky;
          const bool inside = iy >= 0 && iy < G.in_h;
          const float* in = x + (c * G.in_h + (inside ? iy : 0)) * G.in_w - G.padding + kx;
          float* out = row + oy * G.out_w;
          for (int ox = 0; ox < G.out_w; ox += 16) {
            const __mmask16 load = inside ? lanes_between(first - ox, last - ox) : __mmask16(0);
            _mm512_mask_storeu_ps(out + ox, lanes_between(0, G.out_w - ox), _mm512_maskz_loadu_ps(load, in + ox));
          }
        }
      }
}

#endif

template <ConvGeometry G, class T>
void im2col(const T* x, T* col) {
#if defined(__AVX512F__)
  if constexpr (G.stride == 1 && std::is_same_v<T, float>) {
    im2col_avx512<G, G.out_hw()>(x, col);
    return;
  }
#endif
  if constexpr (G.stride == 1) {
    for (int c = 0; c < G.in_c; ++c)
      for (int ky = 0; ky < G.kernel; ++ky)
        for (int kx = 0; kx < G.kernel; ++kx) {
          T* row = col + ((c * G.kernel + ky) * G.kernel + kx) * G.out_hw();
          const int first = inside_first<G>(kx), last = inside_last<G>(kx);
          for (int oy = 0; oy < G.out_h; ++oy) {
            const int iy = oy - G.padding + ky;
            T* out = row + oy * G.out_w;
            if (iy < 0 || iy >= G.in_h) {
              for (int ox = 0; ox < G.out_w; ++ox) out[ox] = T(0);
              continue;
            }
            const T* in = x + (c * G.in_h + iy) * G.in_w - G.padding + kx;
            for (int ox = 0; ox < first; ++ox) out[ox] = T(0);
            for (int ox = first; ox < last; ++ox) out[ox] = in[ox];
            for (int ox = last; ox < G.out_w; ++ox) out[ox] = T(0);
          }
        }
    return;
  }
  for (int c = 0; c < G.in_c; ++c)
    for (int ky = 0; ky < G.kernel; ++ky)
      for (int kx = 0; kx < G.kernel; ++kx) {
        T* row = col + ((c * G.kernel + ky) * G.kernel + kx) * G.out_hw();
        for (int oy = 0; oy < G.out_h; ++oy) {
          const int iy = oy * G.stride - G.padding + ky;
          for (int ox = 0; ox < G.out_w; ++ox) {
            const int ix = ox * G.stride - G.padding + kx;
            const bool inside = iy >= 0 && iy < G.in_h && ix >= 0 && ix < G.in_w;
            row[oy * G.out_w + ox] = inside ? x[(c * G.in_h + iy) * G.in_w + ix] : T(0);
          }
        }
      }
}

// (Scalar: vectorised as it stands, kx and kx + 1 add into ranges one float apart, and masked vector
// stores followed by overlapping loads defeat store-to-load forwarding, 40% slower; col2im_channel_avx512
// below gathers per input row instead.)
template <ConvGeometry G, class T>
void col2im_add(const T* col, T* x) {
  if constexpr (G.stride == 1) {  // the same additions in the same order, a contiguous run at a time
    for (int c = 0; c < G.in_c; ++c)
      for (int ky = 0; ky < G.kernel; ++ky)
        for (int kx = 0; kx < G.kernel; ++kx) {
          const T* row = col + ((c * G.kernel + ky) * G.kernel + kx) * G.out_hw();
          const int first = inside_first<G>(kx), last = inside_last<G>(kx);
          for (int oy = 0; oy < G.out_h; ++oy) {
            const int iy = oy - G.padding + ky;
            if (iy < 0 || iy >= G.in_h) continue;
            T* out = x + (c * G.in_h + iy) * G.in_w - G.padding + kx;
            const T* in = row + oy * G.out_w;
            for (int ox = first; ox < last; ++ox) out[ox] += in[ox];
          }
        }
    return;
  }
  for (int c = 0; c < G.in_c; ++c)
    for (int ky = 0; ky < G.kernel; ++ky)
      for (int kx = 0; kx < G.kernel; ++kx) {
        const T* row = col + ((c * G.kernel + ky) * G.kernel + kx) * G.out_hw();
        for (int oy = 0; oy < G.out_h; ++oy) {
          const int iy = oy * G.stride - G.padding + ky;
          if (iy < 0 || iy >= G.in_h) continue;
          for (int ox = 0; ox < G.out_w; ++ox) {
            const int ix = ox * G.stride - G.padding + kx;
            if (ix >= 0 && ix < G.in_w) x[(c * G.in_h + iy) * G.in_w + ix] += row[oy * G.out_w + ox];
          }
        }
      }
}

#if defined(__AVX512F__)
// Stride-1 col2im of float that writes x: per input row, the column entries that touch it are added in
// registers in (ky, kx) order (masked lanes add +0) and the row is stored once. The same additions in the
// same order as col2im_add into zeros, so the same bits, without col2im_add's read-modify-write of
// overlapping ranges. One input channel: `col` holds its kernel^2 rows, `x` is its plane.
template <ConvGeometry G>
void col2im_channel_avx512(const float* col, float* x) {
  constexpr int vectors = (G.in_w + 15) / 16;
  for (int iy = 0; iy < G.in_h; ++iy) {
    __m512 acc[vectors];
    for (int v = 0; v < vectors; ++v) acc[v] = _mm512_setzero_ps();
    for (int ky = 0; ky < G.kernel; ++ky) {
      const int oy = iy + G.padding - ky;
      if (oy < 0 || oy >= G.out_h) continue;
      for (int kx = 0; kx < G.kernel; ++kx) {
        // Input column ix takes output column ox = ix + padding - kx of this row.
        const float* row = col + long(ky * G.kernel + kx) * G.out_hw() + oy * G.out_w + G.padding - kx;
        for (int v = 0; v < vectors; ++v) {
          const int ix0 = 16 * v;
          const __mmask16 valid = lanes_between(kx - G.padding - ix0, std::min(G.out_w + kx - G.padding, G.in_w) - ix0);
          acc[v] = _mm512_add_ps(acc[v], _mm512_maskz_loadu_ps(valid, row + ix0));
        }
      }
    }
    float* out = x + long(iy) * G.in_w;
    for (int v = 0; v < vectors; ++v) _mm512_mask_storeu_ps(out + 16 * v, lanes_between(0, G.in_w - 16 * v), acc[v]);
  }
}

// The input gradient of one sample, one input channel at a time: its kernel^2 rows of column gradients
// (w^T's rows for the channel times gy) into a buffer small enough to stay in L1, then col2im from
// there. The same products and the same sums as the whole-sample GEMM and col2im, so the same bits.
template <ConvGeometry G>
void input_grad_by_channel(const float* wT, const float* gy, float* channel_cols, float* gx) {
  constexpr int rows = G.kernel * G.kernel, M = G.out_c, N = G.out_hw();
  for (int c = 0; c < G.in_c; ++c) {
    if constexpr (2 * rows <= 24)  // rows x 2 vectors of accumulators, one tile of rows
      detail::small_gemm_rows<rows, 2, M, N, false>(wT + long(c) * rows * M, gy, channel_cols, nullptr, NoEpilogue{},
                                                    0);
    else
      small_gemm<rows, M, N>(wT + long(c) * rows * M, gy, channel_cols);
    col2im_channel_avx512<G>(channel_cols, gx + long(c) * G.in_h * G.in_w);
  }
}
#endif

// x = the input gradient of one sample from its column gradients (col2im_add into zeros).
template <ConvGeometry G, class T>
void col2im(const T* col, T* x) {
#if defined(__AVX512F__)
  if constexpr (G.stride == 1 && std::is_same_v<T, float>) {
    constexpr long rows = long(G.kernel) * G.kernel;
    for (int c = 0; c < G.in_c; ++c)
      col2im_channel_avx512<G>(col + c * rows * G.out_hw(), x + long(c) * G.in_h * G.in_w);
    return;
  }
#endif
  std::fill(x, x + G.in_size(), T(0));
  col2im_add<G>(col, x);
}

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
    if (e.relu) v = _mm512_maskz_max_ps(0xFFFF, v, _mm512_setzero_ps());  // (maskz: see random_blocks)
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

}  // namespace cpu
}  // namespace ctnet
