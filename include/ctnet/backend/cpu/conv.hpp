// ctnet/backend/cpu/conv.hpp — 2-D convolution on the CPU: im2col + Eigen GEMM per sample.
//
// Requires: Eigen 3.4; tensors NCHW, weights OUTxINxKxK row-major (PyTorch's layout). Guarantees:
// loop bounds come from the compile-time ConvGeometry; samples run in parallel over OpenMP threads,
// each with its own scratch, and weight gradients are summed over threads in thread order
// (deterministic for a fixed thread count). Gradients accumulate (+=) into gw and gb.
#pragma once

#include <algorithm>

#include "eigen.hpp"

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

template <ConvGeometry G, class T>
void im2col(const T* x, T* col) {
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

template <ConvGeometry G, class T>
void col2im_add(const T* col, T* x) {
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

struct ConvOps {
  template <ConvGeometry G, class T>
  static void conv2d_forward(const T* x, const T* w, const T* b, T* y, int n) {
    Scratch<T>::reserve_threads(max_threads());
    parallel_chunks(n, [&](int first, int last, int t) {
      T* col = G.is_pointwise() ? nullptr : Scratch<T>::get(ScratchSlot::columns, t, size_t(G.col_rows()) * G.out_hw());
      const ConstMatrixMap<T> weights(w, G.out_c, G.col_rows());
      for (int s = first; s < last; ++s) {
        const T* xs = x + s * G.in_size();
        if constexpr (!G.is_pointwise()) im2col<G>(xs, col);
        const ConstMatrixMap<T> columns(G.is_pointwise() ? xs : col, G.col_rows(), G.out_hw());
        MatrixMap<T> out(y + s * G.out_size(), G.out_c, G.out_hw());
        out.noalias() = weights * columns;
        if constexpr (G.bias) out.colwise() += Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, 1>>(b, G.out_c);
      }
    });
  }

  // gx may be null (first layer: no input gradient needed); gb is ignored without bias.
  template <ConvGeometry G, class T>
  static void conv2d_backward(const T* x, const T* w, const T* gy, T* gx, T* gw, T* gb, int n) {
    constexpr long wsize = long(G.out_c) * G.col_rows();
    Scratch<T>::reserve_threads(max_threads());
    const int used = parallel_chunks(n, [&](int first, int last, int t) {
      T* col = G.is_pointwise() ? nullptr : Scratch<T>::get(ScratchSlot::columns, t, size_t(G.col_rows()) * G.out_hw());
      T* gcol = Scratch<T>::get(ScratchSlot::column_grads, t, size_t(G.col_rows()) * G.out_hw());
      T* pgw = Scratch<T>::get(ScratchSlot::weight_grads, t, wsize);
      T* pgb = Scratch<T>::get(ScratchSlot::bias_grads, t, G.out_c);
      MatrixMap<T> partial_w(pgw, G.out_c, G.col_rows());
      partial_w.setZero();
      std::fill(pgb, pgb + G.out_c, T(0));
      const ConstMatrixMap<T> weights(w, G.out_c, G.col_rows());
      for (int s = first; s < last; ++s) {
        const T* xs = x + s * G.in_size();
        if constexpr (!G.is_pointwise()) im2col<G>(xs, col);
        const ConstMatrixMap<T> columns(G.is_pointwise() ? xs : col, G.col_rows(), G.out_hw());
        const ConstMatrixMap<T> grad_out(gy + s * G.out_size(), G.out_c, G.out_hw());
        partial_w.noalias() += grad_out * columns.transpose();
        if constexpr (G.bias) {
          for (int o = 0; o < G.out_c; ++o) pgb[o] += grad_out.row(o).sum();
        }
        if (gx) {
          T* gxs = gx + s * G.in_size();
          if constexpr (G.is_pointwise()) {
            MatrixMap<T>(gxs, G.col_rows(), G.out_hw()).noalias() = weights.transpose() * grad_out;
          } else {
            MatrixMap<T>(gcol, G.col_rows(), G.out_hw()).noalias() = weights.transpose() * grad_out;
            std::fill(gxs, gxs + G.in_size(), T(0));
            col2im_add<G>(gcol, gxs);
          }
        }
      }
    });
    for (int t = 0; t < used; ++t) {
      const T* pgw = Scratch<T>::get(ScratchSlot::weight_grads, t, wsize);
      for (long i = 0; i < wsize; ++i) gw[i] += pgw[i];
      if constexpr (G.bias) {
        const T* pgb = Scratch<T>::get(ScratchSlot::bias_grads, t, G.out_c);
        for (int o = 0; o < G.out_c; ++o) gb[o] += pgb[o];
      }
    }
  }
};

}  // namespace cpu
}  // namespace ctnet
