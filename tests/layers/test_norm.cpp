#include "support/helpers.hpp"

#include <cmath>

using namespace ctnet;
using namespace ctnet::testing;

TEST_CASE("BatchNorm2d in training normalises each channel with batch statistics") {
  using N = Sequential<Input<2, 2, 2>, BatchNorm2d>;
  static_assert(N::parameter_count == 4 && N::buffer_count == 4);
  Model<N, Cpu, double> m(1, 2);
  m.train();
  // Channel 0 holds 1..8 over the batch, channel 1 holds constant 3 (variance 0).
  const std::vector<double> x{1, 2, 3, 4, 3, 3, 3, 3, 5, 6, 7, 8, 3, 3, 3, 3};
  const auto y = run(m, x);
  const double mean = 4.5, var = 5.25, inv = 1 / std::sqrt(var + 1e-5);
  check_close({y[0], y[3], y[8], y[11]}, {(1 - mean) * inv, (4 - mean) * inv, (5 - mean) * inv, (8 - mean) * inv});
  CHECK(y[4] == doctest::Approx(0));
  // Running statistics: momentum 0.1, unbiased variance (8 values: 5.25 * 8/7 = 6).
  const auto b = m.buffers();
  CHECK(b[0] == doctest::Approx(0.45));
  CHECK(b[1] == doctest::Approx(0.3));
  CHECK(b[2] == doctest::Approx(0.9 + 0.1 * 6));
  CHECK(b[3] == doctest::Approx(0.9));
}

TEST_CASE("BatchNorm2d in eval uses running statistics and the affine parameters") {
  Model<Sequential<Input<2, 1, 2>, BatchNorm2d>, Cpu, double> m(1, 1);
  set_parameters(m, {2, 3, 0.5, -1});  // weight, bias
  std::copy_n(std::vector<double>{1, -1, 4, 0.25}.begin(), 4, m.buffers().begin());  // means, vars
  m.eval();
  const auto y = run(m, {3, 5, 0, 1});
  const double s0 = 1 / std::sqrt(4 + 1e-5), s1 = 1 / std::sqrt(0.25 + 1e-5);
  check_close(y, {2 * 2 * s0 + 0.5, 2 * 4 * s0 + 0.5, 3 * 1 * s1 - 1, 3 * 2 * s1 - 1});
  CHECK(m.buffers()[0] == 1);  // eval leaves running statistics alone
}

TEST_CASE("BatchNorm1d normalises each feature over the batch") {
  Model<Sequential<Input<3>, BatchNorm1d>, Cpu, double> m(1, 4);
  const auto y = run(m, {1, 0, 5, 2, 0, 5, 3, 0, 5, 4, 0, 6});
  const double inv = 1 / std::sqrt(1.25 + 1e-5);
  CHECK(y[0] == doctest::Approx(-1.5 * inv));
  CHECK(y[9] == doctest::Approx(1.5 * inv));
  CHECK(y[1] == doctest::Approx(0));
}

TEST_CASE("BatchNorm backward matches finite differences in training and in eval") {
  GradientCheckOptions train;
  train.batch = 4;
  check_gradients<Sequential<Input<3, 3, 2>, BatchNorm2d>>(train);
  check_gradients<Sequential<Input<5>, BatchNorm1d>>(train);
  GradientCheckOptions eval = train;
  eval.training = false;
  check_gradients<Sequential<Input<3, 3, 2>, BatchNorm2d>>(eval);
  check_gradients<Sequential<Input<5>, BatchNorm1d>>(eval);
}
