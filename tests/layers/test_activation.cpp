#include "support/helpers.hpp"

#include <cmath>

using namespace ctnet;
using namespace ctnet::testing;

TEST_CASE("ReLU, Identity and Flatten forward") {
  Model<Sequential<Input<1, 2, 2>, ReLU, Identity, Flatten>, Cpu, double> m(1, 1);
  static_assert(decltype(m)::network::output_shape == Shape<4>{});
  check_close(run(m, {-1, 2, 0, 3.5}), {0, 2, 0, 3.5});
}

TEST_CASE("LogSoftmax and Softmax forward") {
  Model<Sequential<Input<3>, LogSoftmax>, Cpu, double> l(1, 2);
  const auto y = run(l, {1, 2, 3, 1000, 1000, 1000});
  const double lse = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0));
  check_close(y, {1 - lse, 2 - lse, 3 - lse, -std::log(3.0), -std::log(3.0), -std::log(3.0)});
  Model<Sequential<Input<3>, Softmax>, Cpu, double> s(1, 1);
  const auto p = run(s, {1, 2, 3});
  check_close(p, {std::exp(1 - lse), std::exp(2 - lse), std::exp(3 - lse)});
}

TEST_CASE("activation backward matches finite differences") {
  check_gradients<Sequential<Input<2, 3, 3>, ReLU>>();
  check_gradients<Sequential<Input<2, 3, 3>, Identity, Flatten>>();
  check_gradients<Sequential<Input<7>, LogSoftmax>>();
  check_gradients<Sequential<Input<7>, Softmax>>();
}
