// ctnet/backend/common/gemm.hpp — the GEMM plans of convolution and linear layers, and their mapping onto
// a column-major BLAS (cuBLAS), as plain data a CPU test can execute.
//
// Requires: row-major matrices as ctnet lays them out. Guarantees: a GemmPlan states one (batched)
// row-major product C = op(A) * op(B) (C is M x N, op(A) M x K, op(B) K x N; matrix b of a batch starts
// stride elements after matrix b-1, stride 0 reuses one matrix); to_column_major turns it into the
// arguments of a column-major GEMM (C^T = op(B)^T * op(A)^T: B is passed first); column_sums_gemv gives
// the column-major GEMV that sums the rows of a row-major matrix. The CUDA backend runs exactly these
// plans through cuBLAS; tests run them through a reference column-major GEMM and compare with Cpu.
#pragma once

#include "geometry.hpp"

namespace ctnet::gemm {

struct Plan {
  bool trans_a, trans_b;
  int M, N, K;
  long long stride_a, stride_b, stride_c;
};

// Arguments of a column-major gemm(op1, op2, m, n, k, X1, ld1, X2, ld2, C, ldc) with X1 = B, X2 = A.
struct ColumnMajor {
  bool trans_1, trans_2;
  int m, n, k, ld_1, ld_2, ldc;
};

constexpr ColumnMajor to_column_major(const Plan& p) {
  return {p.trans_b, p.trans_a, p.N, p.M, p.K, p.trans_b ? p.K : p.N, p.trans_a ? p.M : p.K, p.N};
}

// Column sums of a row-major [rows x cols] matrix: column-major gemv (no transpose) of the cols x rows
// matrix (leading dimension cols) with a vector of `rows` ones.
struct Gemv {
  int m, n, lda;
};
constexpr Gemv column_sums_gemv(int rows, int cols) { return {cols, rows, cols}; }

// Convolution over a batch, with columns [n][col_rows][out_hw] (the input itself when pointwise):
// forward   y_s  [out_c x out_hw]    = W [out_c x col_rows] * col_s [col_rows x out_hw]      (A = W, B = col)
// weights   P_s  [out_c x col_rows]  = gy_s [out_c x out_hw] * col_s^T                       (A = gy, B = col)
// input     gcol_s [col_rows x out_hw] = W^T * gy_s                                          (A = W, B = gy)
template <ConvGeometry G>
constexpr Plan conv_forward() {
  return {false, false, G.out_c, G.out_hw(), G.col_rows(), 0, (long long)G.col_rows() * G.out_hw(), G.out_size()};
}
template <ConvGeometry G>
constexpr Plan conv_weight_grad() {
  return {false,
          true,
          G.out_c,
          G.col_rows(),
          G.out_hw(),
          G.out_size(),
          (long long)G.col_rows() * G.out_hw(),
          (long long)G.out_c * G.col_rows()};
}
template <ConvGeometry G>
constexpr Plan conv_input_grad() {
  return {true, false, G.col_rows(), G.out_hw(), G.out_c, 0, G.out_size(), (long long)G.col_rows() * G.out_hw()};
}

// Linear over a batch of n rows: forward y = x * W^T (A = x, B = W); weights gW += gy^T * x (A = gy,
// B = x); input gx = gy * W (A = gy, B = W).
constexpr Plan linear_forward(int in, int out, int n) { return {false, true, n, out, in, 0, 0, 0}; }
constexpr Plan linear_weight_grad(int in, int out, int n) { return {true, false, out, in, n, 0, 0, 0}; }
constexpr Plan linear_input_grad(int in, int out, int n) { return {false, false, n, in, out, 0, 0, 0}; }

}  // namespace ctnet::gemm
