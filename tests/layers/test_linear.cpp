#include "support/helpers.hpp"

using namespace ctnet;
using namespace ctnet::testing;

TEST_CASE("Linear forward matches hand-computed values") {
  using N = Sequential<Input<3>, Linear<2>>;
  static_assert(N::parameter_count == 8 && N::macs == 6);
  Model<N, Cpu, double> m(1, 2);
  set_parameters(m, {1, 2, 3, -1, 0, 1, /* bias */ 0.5, -0.5});
  check_close(run(m, {1, 1, 1, 2, 0, -1}), {6.5, -0.5, -0.5, -3.5});
}

TEST_CASE("Linear without bias and after Flatten") {
  using N = Sequential<Input<2, 2, 2>, Flatten, Linear<3, NoBias>>;
  static_assert(N::parameter_count == 24);
  static_assert(N::output_shape == Shape<3>{});
}

TEST_CASE("Linear backward matches finite differences") {
  check_gradients<Sequential<Input<6>, Linear<4>>>();
  check_gradients<Sequential<Input<2, 3, 3>, Flatten, Linear<5, NoBias>>>();
}
