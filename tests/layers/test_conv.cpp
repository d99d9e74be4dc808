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
