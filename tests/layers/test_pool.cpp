#include "support/helpers.hpp"

using namespace ctnet;
using namespace ctnet::testing;

TEST_CASE("pooling shapes and receptive fields") {
  using N = Sequential<Input<2, 9, 9>, Conv2d<2, 3>, MaxPool2d<2>, Conv2d<2, 3>>;
  static_assert(N::layer<1>::output_shape == Shape<2, 3, 3>{});
  static_assert(N::receptive_fields[0] == 3 && N::receptive_fields[1] == 4 && N::receptive_fields[2] == 8);
  static_assert(N::jumps[2] == 2);
  static_assert(Sequential<Input<1, 7, 7>, MaxPool2d<3, Stride<2>>>::output_shape == Shape<1, 3, 3>{});
  static_assert(Sequential<Input<1, 7, 7>, AvgPool2d<2>>::output_shape == Shape<1, 3, 3>{});
  static_assert(Sequential<Input<5, 7, 3>, GlobalAvgPool>::output_shape == Shape<5, 1, 1>{});
  static_assert(Sequential<Input<5, 7, 3>, GlobalAvgPool>::parameter_count == 0);
}

TEST_CASE("MaxPool2d forward picks the window maximum") {
  Model<Sequential<Input<1, 4, 4>, MaxPool2d<2>>, Cpu, double> m(1, 1);
  check_close(run(m, {1, 2, 3, 4, 5, 6, 7, 8, -1, -2, -3, -4, 0, 9, 0, -9}), {6, 8, 9, 0});
}

TEST_CASE("MaxPool2d with overlapping windows") {
  Model<Sequential<Input<1, 3, 3>, MaxPool2d<2, Stride<1>>>, Cpu, double> m(1, 1);
  check_close(run(m, {1, 5, 2, 3, 4, 9, 0, 1, 2}), {5, 9, 4, 9});
}

TEST_CASE("AvgPool2d and GlobalAvgPool forward") {
  Model<Sequential<Input<1, 4, 4>, AvgPool2d<2>>, Cpu, double> a(1, 1);
  check_close(run(a, {1, 2, 3, 4, 5, 6, 7, 8, -1, -2, -3, -4, 0, 9, 0, -9}), {3.5, 5.5, 1.5, -4});
  Model<Sequential<Input<2, 2, 2>, GlobalAvgPool>, Cpu, double> g(1, 2);
  check_close(run(g, {1, 2, 3, 4, 10, 20, 30, 40, 0, 0, 0, 4, 1, 1, 1, 1}), {2.5, 25, 1, 1});
}

TEST_CASE("pooling backward matches finite differences") {
  check_gradients<Sequential<Input<2, 6, 6>, MaxPool2d<2>>>();
  check_gradients<Sequential<Input<2, 7, 7>, MaxPool2d<3, Stride<2>>>>();
  check_gradients<Sequential<Input<2, 6, 6>, AvgPool2d<2>>>();
  check_gradients<Sequential<Input<2, 7, 7>, AvgPool2d<3, Stride<1>>>>();
  check_gradients<Sequential<Input<3, 5, 4>, GlobalAvgPool>>();
}
