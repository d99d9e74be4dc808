// ctnet/backend/cuda/blas.cuh — row-major GEMM/GEMV helpers over cuBLAS (float and double).
//
// Requires: cuBLAS; device pointers; matrices row-major as ctnet lays them out. Guarantees: each helper
// states its product in row-major terms and maps it onto cuBLAS's column-major API (a row-major R x C
// matrix is a column-major C x R one), on cuda::stream(); results are deterministic for a given device
// (cuBLAS's atomics mode is left off), and cuBLAS's default math mode is kept (no TF32 for float).
#pragma once

#include "../common/gemm.hpp"
#include "runtime.cuh"

namespace ctnet::cuda::blas_detail {

inline cublasStatus_t gemm(cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k, float alpha, const float* a,
                           int lda, const float* b, int ldb, float beta, float* c, int ldc) {
  return cublasSgemm(blas(), ta, tb, m, n, k, &alpha, a, lda, b, ldb, &beta, c, ldc);
}
inline cublasStatus_t gemm(cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k, double alpha,
                           const double* a, int lda, const double* b, int ldb, double beta, double* c, int ldc) {
  return cublasDgemm(blas(), ta, tb, m, n, k, &alpha, a, lda, b, ldb, &beta, c, ldc);
}
inline cublasStatus_t gemm_batched(cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k, float alpha,
                                   const float* a, int lda, long long sa, const float* b, int ldb, long long sb,
                                   float beta, float* c, int ldc, long long sc, int batch) {
  return cublasSgemmStridedBatched(blas(), ta, tb, m, n, k, &alpha, a, lda, sa, b, ldb, sb, &beta, c, ldc, sc, batch);
}
inline cublasStatus_t gemm_batched(cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k, double alpha,
                                   const double* a, int lda, long long sa, const double* b, int ldb, long long sb,
                                   double beta, double* c, int ldc, long long sc, int batch) {
  return cublasDgemmStridedBatched(blas(), ta, tb, m, n, k, &alpha, a, lda, sa, b, ldb, sb, &beta, c, ldc, sc, batch);
}
inline cublasStatus_t gemv(int m, int n, float alpha, const float* a, int lda, const float* x, float beta, float* y) {
  return cublasSgemv(blas(), CUBLAS_OP_N, m, n, &alpha, a, lda, x, 1, &beta, y, 1);
}
inline cublasStatus_t gemv(int m, int n, double alpha, const double* a, int lda, const double* x, double beta,
                           double* y) {
  return cublasDgemv(blas(), CUBLAS_OP_N, m, n, &alpha, a, lda, x, 1, &beta, y, 1);
}

}  // namespace ctnet::cuda::blas_detail

namespace ctnet::cuda {

// Runs a row-major GEMM plan (backend/common/gemm.hpp) over `batch` matrices: C = alpha op(A) op(B) + beta C.
template <class T>
void run_gemm(const gemm::Plan& p, T alpha, const T* A, const T* B, T beta, T* C, int batch, const char* what) {
  const gemm::ColumnMajor c = gemm::to_column_major(p);
  const cublasOperation_t op1 = c.trans_1 ? CUBLAS_OP_T : CUBLAS_OP_N, op2 = c.trans_2 ? CUBLAS_OP_T : CUBLAS_OP_N;
  if (batch == 1)
    CTNET_CUDA_CHECK(blas_detail::gemm(op1, op2, c.m, c.n, c.k, alpha, B, c.ld_1, A, c.ld_2, beta, C, c.ldc), what);
  else
    CTNET_CUDA_CHECK(blas_detail::gemm_batched(op1, op2, c.m, c.n, c.k, alpha, B, c.ld_1, p.stride_b, A, c.ld_2,
                                               p.stride_a, beta,
                                    C, c.ldc, p.stride_c, batch),
          what);
}

// y[j] = beta * y[j] + sum over rows i of A[i][j], A row-major [rows x cols]: column sums in a fixed order.
template <class T>
void column_sums(int rows, int cols, const T* A, T beta, T* y, const char* what) {
  const gemm::Gemv g = gemm::column_sums_gemv(rows, cols);
  CTNET_CUDA_CHECK(blas_detail::gemv(g.m, g.n, T(1), A, g.lda, ones<T>(rows), beta, y), what);
}

}  // namespace ctnet::cuda
