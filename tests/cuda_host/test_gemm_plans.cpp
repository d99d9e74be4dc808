// The CUDA backend's convolution and linear layers as GEMM plans (backend/common/gemm.hpp), executed on the
// host through a reference column-major GEMM/GEMV with cuBLAS's argument conventions, in the same sequence
// as backend/cuda/conv.cuh and linear.cuh: the results must equal the Cpu backend's (double, 1e-12), so the
// row-major to column-major mapping, the strides and the operand order are checked without a GPU.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include <ctnet/backend/common/conv.hpp>
#include <ctnet/backend/common/gemm.hpp>
#include <ctnet/ctnet.hpp>

using namespace ctnet;

namespace {

// cuBLAS's gemm(Strided)Batched semantics: column-major, op(X) = X or X^T, C = alpha op(X1) op(X2) + beta C.
void reference_gemm(bool t1, bool t2, int m, int n, int k, double alpha, const double* x1, int ld1, long long s1,
                    const double* x2, int ld2, long long s2, double beta, double* c, int ldc, long long sc, int batch) {
  for (int b = 0; b < batch; ++b) {
    const double* a = x1 + b * s1;
    const double* bb = x2 + b * s2;
    double* cc = c + b * sc;
    for (int j = 0; j < n; ++j)
      for (int i = 0; i < m; ++i) {
        double sum = 0;
        for (int l = 0; l < k; ++l)
          sum += (t1 ? a[l + i * ld1] : a[i + l * ld1]) * (t2 ? bb[j + l * ld2] : bb[l + j * ld2]);
        cc[i + j * ldc] = alpha * sum + (beta == 0 ? 0.0 : beta * cc[i + j * ldc]);
      }
  }
}

// backend/cuda/blas.cuh's run_gemm and column_sums, with the reference in place of cuBLAS.
void run_gemm(const gemm::Plan& p, double alpha, const double* A, const double* B, double beta, double* C, int batch) {
  const gemm::ColumnMajor c = gemm::to_column_major(p);
  reference_gemm(c.trans_1, c.trans_2, c.m, c.n, c.k, alpha, B, c.ld_1, batch == 1 ? 0 : p.stride_b, A, c.ld_2,
                 batch == 1 ? 0 : p.stride_a, beta, C, c.ldc, batch == 1 ? 0 : p.stride_c, batch);
}
void column_sums(int rows, int cols, const double* A, double beta, double* y) {
  const gemm::Gemv g = gemm::column_sums_gemv(rows, cols);
  for (int i = 0; i < g.m; ++i) {
    double sum = 0;
    for (int j = 0; j < g.n; ++j) sum += A[i + j * g.lda];
    y[i] = beta * y[i] + sum;
  }
}

std::vector<double> random_vector(long n, std::uint64_t draw) {
  Generator g(4, RngStream::user, draw);
  std::vector<double> v(static_cast<std::size_t>(n));
  for (double& x : v) x = g.uniform(-1, 1);
  return v;
}

void check_close(const std::vector<double>& got, const std::vector<double>& want) {
  REQUIRE(got.size() == want.size());
  double worst = 0;
  for (std::size_t i = 0; i < got.size(); ++i) worst = std::max(worst, std::abs(got[i] - want[i]));
  CHECK(worst < 1e-12);
}

template <ConvGeometry G>
void check_conv() {
  CAPTURE(G.kernel);
  CAPTURE(G.stride);
  constexpr int n = 3;
  constexpr long per_sample = long(G.col_rows()) * G.out_hw(), wsize = long(G.out_c) * G.col_rows();
  const std::vector<double> x = random_vector(n * G.in_size(), 1), w = random_vector(wsize, 2),
                            b = random_vector(G.out_c, 3), gy = random_vector(n * G.out_size(), 4);
  // Forward, as ConvOps::conv2d_forward in conv.cuh.
  std::vector<double> cols(static_cast<std::size_t>(per_sample * n)), y(static_cast<std::size_t>(n * G.out_size()));
  const double* c = x.data();
  if constexpr (!G.is_pointwise()) {
    for (long i = 0; i < per_sample * n; ++i) kernels::im2col_element<G>(i, x.data(), cols.data());
    c = cols.data();
  }
  run_gemm(gemm::conv_forward<G>(), 1, w.data(), c, 0, y.data(), n);
  if constexpr (G.bias)
    for (long i = 0; i < n * G.out_size(); ++i) kernels::bias_add(i, y.data(), b.data(), G.out_c, G.out_hw());
  std::vector<double> y_cpu(y.size());
  Cpu::conv2d_forward<G>(x.data(), w.data(), b.data(), y_cpu.data(), n);
  check_close(y, y_cpu);
  // Backward, as ConvOps::conv2d_backward: gradients accumulate onto existing values.
  std::vector<double> partial(static_cast<std::size_t>(wsize * n)), gw(static_cast<std::size_t>(wsize), 0.5),
      gb(static_cast<std::size_t>(G.out_c), 0.25), gcol(static_cast<std::size_t>(per_sample * n)),
      gx(static_cast<std::size_t>(n * G.in_size()));
  run_gemm(gemm::conv_weight_grad<G>(), 1, gy.data(), c, 0, partial.data(), n);
  column_sums(n, int(wsize), partial.data(), 1, gw.data());
  for (long i = 0; i < n * G.out_size(); ++i) gb[std::size_t((i / G.out_hw()) % G.out_c)] += gy[std::size_t(i)];
  double* gc = G.is_pointwise() ? gx.data() : gcol.data();
  run_gemm(gemm::conv_input_grad<G>(), 1, w.data(), gy.data(), 0, gc, n);
  if constexpr (!G.is_pointwise())
    for (long i = 0; i < n * G.in_size(); ++i) kernels::col2im_gather<G>(i, gcol.data(), gx.data());
  std::vector<double> gw_cpu(gw.size(), 0.5), gb_cpu(gb.size(), 0.25), gx_cpu(gx.size());
  Cpu::conv2d_backward<G>(x.data(), w.data(), gy.data(), gx_cpu.data(), gw_cpu.data(), gb_cpu.data(), n);
  check_close(gw, gw_cpu);
  if (G.bias) check_close(gb, gb_cpu);
  check_close(gx, gx_cpu);
}

}  // namespace

TEST_CASE("cuda GEMM plans: convolution forward and backward equal the CPU backend") {
  check_conv<ConvGeometry{3, 9, 9, 5, 5, 5, 3, 2, 1, true}>();
  check_conv<ConvGeometry{6, 5, 5, 4, 5, 5, 1, 1, 0, false}>();  // pointwise: no im2col
  check_conv<ConvGeometry{2, 7, 6, 4, 3, 2, 5, 1, 0, true}>();
  check_conv<ConvGeometry{4, 8, 8, 3, 2, 2, 3, 3, 0, false}>();
}

TEST_CASE("cuda GEMM plans: linear forward and backward equal the CPU backend") {
  constexpr int in = 13, out = 6;
  for (int n : {1, 7}) {
    const std::vector<double> x = random_vector(n * in, 5), w = random_vector(out * in, 6), b = random_vector(out, 7),
                              gy = random_vector(n * out, 8);
    std::vector<double> y(static_cast<std::size_t>(n * out)), y_cpu(y.size());
    run_gemm(gemm::linear_forward(in, out, n), 1, x.data(), w.data(), 0, y.data(), 1);
    for (long i = 0; i < n * out; ++i) kernels::bias_add(i, y.data(), b.data(), out, 1);
    Cpu::linear_forward<in, out, true>(x.data(), w.data(), b.data(), y_cpu.data(), n);
    check_close(y, y_cpu);
    std::vector<double> gw(static_cast<std::size_t>(out * in), 0.5), gb(static_cast<std::size_t>(out), 0.25),
        gx(static_cast<std::size_t>(n * in));
    std::vector<double> gw_cpu = gw, gb_cpu = gb, gx_cpu = gx;
    run_gemm(gemm::linear_weight_grad(in, out, n), 1, gy.data(), x.data(), 1, gw.data(), 1);
    column_sums(n, out, gy.data(), 1, gb.data());
    run_gemm(gemm::linear_input_grad(in, out, n), 1, gy.data(), w.data(), 0, gx.data(), 1);
    Cpu::linear_backward<in, out, true>(x.data(), w.data(), gy.data(), gx_cpu.data(), gw_cpu.data(), gb_cpu.data(), n);
    check_close(gw, gw_cpu);
    check_close(gb, gb_cpu);
    check_close(gx, gx_cpu);
  }
}
