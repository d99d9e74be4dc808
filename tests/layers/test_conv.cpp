#include "support/helpers.hpp"

using namespace ctnet;
using namespace ctnet::testing;

TEST_CASE("Conv2d output shapes follow PyTorch's formula") {
  static_assert(Sequential<Input<1, 28, 28>, Conv2d<8, 3>>::output_shape == Shape<8, 26, 26>{});
  static_assert(Sequential<Input<3, 28, 28>, Conv2d<8, 3, Padding<1>>>::output_shape == Shape<8, 28, 28>{});
  static_assert(Sequential<Input<3, 28, 28>, Conv2d<8, 3, Stride<2>>>::output_shape == Shape<8, 13, 13>{});
  static_assert(Sequential<Input<3, 7, 7>, Conv2d<4, 3, Stride<2>, Padding<1>>>::output_shape == Shape<4, 4, 4>{});
  static_assert(Sequential<Input<3, 7, 7>, Conv2d<4, 1>>::output_shape == Shape<4, 7, 7>{});
  using N = Sequential<Input<3, 7, 7>, Conv2d<4, 3>>;
  static_assert(N::parameter_count == 4 * 3 * 9 + 4);
  static_assert(Sequential<Input<3, 7, 7>, Conv2d<4, 3, NoBias>>::parameter_count == 4 * 3 * 9);
  static_assert(N::macs == 4L * 3 * 9 * 5 * 5);
  static_assert(N::receptive_fields[0] == 3);
}

TEST_CASE("Conv2d forward matches hand-computed values") {
  // One 3x3 input channel, two 2x2 filters with bias.
  Model<Sequential<Input<1, 3, 3>, Conv2d<2, 2>>, Cpu, double> m(1, 1);
  set_parameters(m, {1, 0, 0, -1, /**/ 0.5, 0.5, 0.5, 0.5, /* bias */ 0.25, -1});
  const auto y = run(m, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  // filter 0: x[i][j] - x[i+1][j+1] = -4 everywhere, + 0.25; filter 1: half the window sum - 1.
  check_close(y, {-3.75, -3.75, -3.75, -3.75, 5, 7, 11, 13});
}

TEST_CASE("Conv2d forward with stride and padding") {
  Model<Sequential<Input<1, 3, 3>, Conv2d<1, 3, Stride<2>, Padding<1>, NoBias>>, Cpu, double> m(1, 1);
  set_parameters(m, {1, 1, 1, 1, 1, 1, 1, 1, 1});
  // Output 2x2; each output sums the in-bounds part of a 3x3 window centred on (0,0), (0,2), (2,0), (2,2).
  check_close(run(m, {1, 2, 3, 4, 5, 6, 7, 8, 9}), {12, 16, 24, 28});
}

TEST_CASE("Conv2d default init is uniform within 1/sqrt(fan_in), reproducible from the seed") {
  using N = Sequential<Input<4, 8, 8>, Conv2d<16, 3>>;
  Model<N> a(42), b(42), c(43);
  const double bound = 1.0 / std::sqrt(4.0 * 9);
  double lo = 1, hi = -1;
  for (float v : a.parameters()) {
    lo = std::min(lo, double(v));
    hi = std::max(hi, double(v));
  }
  CHECK(lo >= -bound);
  CHECK(hi <= bound);
  CHECK(hi - lo > bound);  // spread over the range, not a constant
  CHECK(std::equal(a.parameters().begin(), a.parameters().end(), b.parameters().begin()));
  CHECK_FALSE(std::equal(a.parameters().begin(), a.parameters().end(), c.parameters().begin()));
}

TEST_CASE("Conv2d backward matches finite differences") {
  check_gradients<Sequential<Input<2, 6, 6>, Conv2d<3, 3>>>();
  check_gradients<Sequential<Input<2, 7, 7>, Conv2d<3, 3, Stride<2>, Padding<1>>>>();
  check_gradients<Sequential<Input<3, 5, 5>, Conv2d<4, 1, NoBias>>>();
  check_gradients<Sequential<Input<1, 6, 5>, Conv2d<2, 2, Stride<3>, Padding<2>>>>();
}

namespace {

std::vector<float> random_floats(long count, std::uint64_t seed) {
  Generator g(seed, RngStream::user);
  std::vector<float> v(static_cast<std::size_t>(count));
  for (float& e : v) e = g.uniform() * 2.0f - 1.0f;
  return v;
}

// The float backward (small_gemm, direct weight gradient and vector col2im in native AVX-512 builds; Eigen
// elsewhere) against the same computation in double.
template <ConvGeometry G>
void check_float_backward_against_double() {
  CAPTURE(G.in_c);
  CAPTURE(G.out_c);
  CAPTURE(G.kernel);
  CAPTURE(G.padding);
  constexpr int n = 11;  // a partial last block of samples
  constexpr long wsize = long(G.out_c) * G.col_rows();
  const std::vector<float> x = random_floats(n * G.in_size(), 1), w = random_floats(wsize, 2),
                           gy = random_floats(n * G.out_size(), 3);
  std::vector<float> gx(x.size()), gw(static_cast<std::size_t>(wsize), 0.5f), gb(std::size_t(G.out_c), 0.25f);
  Cpu::conv2d_backward<G>(x.data(), w.data(), gy.data(), gx.data(), gw.data(), gb.data(), n);
  const std::vector<double> xd(x.begin(), x.end()), wd(w.begin(), w.end()), gyd(gy.begin(), gy.end());
  std::vector<double> gxd(x.size()), gwd(gw.size(), 0.5), gbd(gb.size(), 0.25);
  Cpu::conv2d_backward<G>(xd.data(), wd.data(), gyd.data(), gxd.data(), gwd.data(), gbd.data(), n);
  const auto check = [](const std::vector<float>& got, const std::vector<double>& want) {
    double worst = 0;
    for (std::size_t i = 0; i < got.size(); ++i) worst = std::max(worst, std::abs(double(got[i]) - want[i]));
    CHECK(worst < 1e-3);
  };
  check(gx, gxd);
  check(gw, gwd);
  if (G.bias) check(gb, gbd);
}

}  // namespace

TEST_CASE("Conv2d float backward equals the double computation") {
  check_float_backward_against_double<ConvGeometry{8, 26, 26, 16, 24, 24, 3, 1, 0, false}>();
  check_float_backward_against_double<ConvGeometry{16, 6, 6, 16, 6, 6, 3, 1, 1, false}>();
  check_float_backward_against_double<ConvGeometry{16, 12, 12, 8, 12, 12, 1, 1, 0, false}>();
  check_float_backward_against_double<ConvGeometry{3, 9, 9, 20, 9, 9, 5, 1, 2, true}>();
  check_float_backward_against_double<ConvGeometry{2, 11, 10, 10, 6, 5, 3, 2, 1, true}>();
}

#if defined(__AVX512F__)
namespace {

// One sample's planes with `padding` zeros around each, as the direct kernels read them.
template <ConvGeometry G>
std::vector<float> zero_padded(const std::vector<float>& x) {
  constexpr int ph = G.in_h + 2 * G.padding, pw = G.in_w + 2 * G.padding;
  std::vector<float> padded(std::size_t(G.in_c) * ph * pw, 0.0f);
  for (int c = 0; c < G.in_c; ++c)
    for (int iy = 0; iy < G.in_h; ++iy)
      for (int ix = 0; ix < G.in_w; ++ix)
        padded[std::size_t((c * ph + iy + G.padding) * pw + ix + G.padding)] =
            x[std::size_t((c * G.in_h + iy) * G.in_w + ix)];
  return padded;
}

// conv_weight_grad_direct must give the bits of small_gemm on the im2col columns.
template <ConvGeometry G>
void check_direct_weight_grad() {
  CAPTURE(G.in_c);
  CAPTURE(G.out_c);
  CAPTURE(G.padding);
  constexpr int K = G.col_rows(), N = G.out_hw(), M = G.out_c;
  const std::vector<float> x = random_floats(G.in_size(), 4), gyT = random_floats(long(N) * M, 5),
                           start = random_floats(long(K) * M, 6);
  std::vector<float> col(std::size_t(K) * N);
  const std::vector<float> padded = zero_padded<G>(x);
  cpu::im2col<G>(x.data(), col.data());
  std::vector<float> want = start, got = start;
  cpu::small_gemm<K, N, M, true>(col.data(), gyT.data(), want.data());
  cpu::conv_weight_grad_direct<G>(padded.data(), gyT.data(), got.data());
  CHECK(got == want);
}

}  // namespace

// conv_forward_direct must give the bits of small_gemm on the im2col columns, with and without bias and
// an epilogue (batch-norm and ReLU, as inference fuses them).
template <ConvGeometry G>
void check_direct_forward() {
  CAPTURE(G.in_c);
  CAPTURE(G.padding);
  constexpr int K = G.col_rows(), N = G.out_hw(), M = G.out_c;
  const std::vector<float> x = random_floats(G.in_size(), 7), w = random_floats(long(M) * K, 8),
                           b = random_floats(M, 9), mean = random_floats(M, 10), gamma = random_floats(M, 11),
                           beta = random_floats(M, 12);
  std::vector<float> inv_std = random_floats(M, 13);
  for (float& v : inv_std) v = 1.0f + std::abs(v);
  std::vector<float> col(std::size_t(K) * N), wT(std::size_t(K) * M);
  const std::vector<float> padded = zero_padded<G>(x);
  cpu::im2col<G>(x.data(), col.data());
  cpu::transpose_into<M, K>(w.data(), wT.data());
  ConvEpilogue<float> e;
  e.mean = mean.data();
  e.inv_std = inv_std.data();
  e.gamma = gamma.data();
  e.beta = beta.data();
  e.relu = true;
  for (const float* bias : {static_cast<const float*>(nullptr), b.data()}) {
    std::vector<float> want(std::size_t(M) * N), got(want.size(), -3.0f);
    cpu::small_gemm<M, K, N>(w.data(), col.data(), want.data(), bias);
    cpu::conv_forward_direct<G>(padded.data(), wT.data(), bias, got.data(), cpu::NoEpilogue{});
    CHECK(got == want);
    cpu::small_gemm<M, K, N>(w.data(), col.data(), want.data(), bias, cpu::ConvEpilogueAvx512{e});
    cpu::conv_forward_direct<G>(padded.data(), wT.data(), bias, got.data(), cpu::ConvEpilogueAvx512{e});
    CHECK(got == want);
  }
}

TEST_CASE("direct forward equals w times the im2col columns, bit for bit") {
  check_direct_forward<ConvGeometry{8, 26, 26, 16, 24, 24, 3, 1, 0, false}>();
  check_direct_forward<ConvGeometry{16, 6, 6, 16, 6, 6, 3, 1, 1, false}>();   // a partial last tile
  check_direct_forward<ConvGeometry{8, 12, 12, 16, 10, 10, 3, 1, 0, true}>();
  check_direct_forward<ConvGeometry{3, 9, 9, 16, 9, 9, 5, 1, 2, true}>();
}

// input_grad_by_channel must give the bits of the whole-sample column-gradient GEMM and col2im.
template <ConvGeometry G>
void check_input_grad_by_channel() {
  CAPTURE(G.in_c);
  CAPTURE(G.kernel);
  constexpr int K = G.col_rows(), N = G.out_hw(), M = G.out_c;
  const std::vector<float> wT = random_floats(long(K) * M, 15), gy = random_floats(long(M) * N, 16);
  std::vector<float> gcol(std::size_t(K) * N), want(std::size_t(G.in_size())), got(want.size(), -5.0f);
  cpu::small_gemm<K, M, N>(wT.data(), gy.data(), gcol.data());
  std::fill(want.begin(), want.end(), 0.0f);
  cpu::col2im_add<G>(gcol.data(), want.data());
  std::vector<float> channel_cols(std::size_t(G.kernel) * G.kernel * N);
  cpu::input_grad_by_channel<G>(wT.data(), gy.data(), channel_cols.data(), got.data());
  CHECK(got == want);
}

TEST_CASE("input gradient by channel equals the whole-sample GEMM and col2im, bit for bit") {
  check_input_grad_by_channel<ConvGeometry{8, 26, 26, 16, 24, 24, 3, 1, 0, false}>();
  check_input_grad_by_channel<ConvGeometry{16, 6, 6, 16, 6, 6, 3, 1, 1, false}>();
  check_input_grad_by_channel<ConvGeometry{3, 9, 9, 20, 9, 9, 5, 1, 2, true}>();  // 25 rows per channel
  check_input_grad_by_channel<ConvGeometry{5, 7, 8, 10, 5, 6, 3, 1, 0, false}>();
}

TEST_CASE("direct weight gradient equals im2col columns times gy^T, bit for bit") {
  check_direct_weight_grad<ConvGeometry{8, 26, 26, 16, 24, 24, 3, 1, 0, false}>();
  check_direct_weight_grad<ConvGeometry{16, 6, 6, 16, 6, 6, 3, 1, 1, false}>();
  check_direct_weight_grad<ConvGeometry{16, 24, 24, 8, 24, 24, 1, 1, 0, false}>();
  check_direct_weight_grad<ConvGeometry{3, 9, 9, 20, 9, 9, 5, 1, 2, true}>();   // two vectors of channels
  check_direct_weight_grad<ConvGeometry{5, 7, 8, 10, 5, 6, 3, 1, 0, false}>();  // rows not a multiple of 24
}
#endif

namespace {

template <int Rows, int Cols>
void check_transpose() {
  CAPTURE(Rows);
  CAPTURE(Cols);
  const std::vector<float> src = random_floats(long(Rows) * Cols, 14);
  std::vector<float> got(src.size(), -9.0f), want(src.size());
  for (int r = 0; r < Rows; ++r)
    for (int c = 0; c < Cols; ++c) want[std::size_t(c * Rows + r)] = src[std::size_t(r * Cols + c)];
  cpu::transpose_into<Rows, Cols>(src.data(), got.data());
  CHECK(got == want);
}

}  // namespace

TEST_CASE("transpose_into (a register transpose for float on AVX-512) equals the element loop") {
  check_transpose<16, 576>();
  check_transpose<8, 676>();
  check_transpose<16, 36>();
  check_transpose<5, 37>();
  check_transpose<1, 20>();
  check_transpose<72, 16>();  // more than 16 rows: the element loop
}
