#include "support/helpers.hpp"

#include <ctnet/train/checkpoint.hpp>
#include <filesystem>

using namespace ctnet;
using namespace ctnet::testing;

using Tower = Seq<Conv2d<2, 3>, BatchNorm2d, ReLU, GlobalAvgPool, Flatten>;

TEST_CASE("combinator shapes are computed at compile time") {
  using N = Sequential<Inputs<Input<1, 6, 6>, Input<1>>, PerInput<Tower, OneHot<4>>>;
  static_assert(N::input_shape == TupleShape<Shape<1, 6, 6>, Shape<1>>{});
  static_assert(N::output_shape == TupleShape<Shape<2>, Shape<4>>{});
  static_assert(Sequential<Inputs<Input<3>, Input<5>>, Concat>::output_shape == Shape<8>{});
  static_assert(Sequential<Inputs<Input<3, 4, 4>, Input<5, 4, 4>>, Concat>::output_shape == Shape<8, 4, 4>{});
  static_assert(Sequential<Input<6>, Parallel<Linear<2>, Identity>, Select<1>>::output_shape == Shape<6>{});
  static_assert(Sequential<Input<2, 5, 5>, Residual<Seq<Conv2d<2, 3, Padding<1>>, ReLU>>>::output_shape ==
                Shape<2, 5, 5>{});
  static_assert(Sequential<Input<1>, Embedding<10, 3>>::parameter_count == 30);
  static_assert(Sequential<Input<6>, Heads<Linear<2>, Linear<3>>>::output_shape == TupleShape<Shape<2>, Shape<3>>{});
  static_assert(Sequential<Input<6>, Heads<Linear<2>, Linear<3>>>::parameter_count == 14 + 21);
}

TEST_CASE("Concat joins features and channels; Select picks a component") {
  Model<Sequential<Inputs<Input<2>, Input<3>>, Concat>, Cpu, double> f(1, 2);
  // Two samples, component after component: [a0 a1 | b0 b1] then [c0 c1 c2 | d0 d1 d2].
  check_close(run(f, {1, 2, 3, 4, 10, 20, 30, 40, 50, 60}), {1, 2, 10, 20, 30, 3, 4, 40, 50, 60});
  Model<Sequential<Inputs<Input<1, 1, 2>, Input<2, 1, 2>>, Concat>, Cpu, double> c(1, 1);
  check_close(run(c, {1, 2, 3, 4, 5, 6}), {1, 2, 3, 4, 5, 6});
  Model<Sequential<Inputs<Input<2>, Input<3>>, Select<1>>, Cpu, double> s(1, 2);
  check_close(run(s, {1, 2, 3, 4, 10, 20, 30, 40, 50, 60}), {10, 20, 30, 40, 50, 60});
}

TEST_CASE("OneHot, Embedding and Residual forward") {
  Model<Sequential<Input<1>, OneHot<4>>, Cpu, double> h(1, 3);
  check_close(run(h, {2, 0, 3}), {0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 1});
  Model<Sequential<Input<1>, Embedding<3, 2>>, Cpu, double> e(1, 2);
  set_parameters(e, {1, 2, 3, 4, 5, 6});
  check_close(run(e, {2, 0}), {5, 6, 1, 2});
  Model<Sequential<Input<3>, Residual<Linear<3, NoBias>>>, Cpu, double> r(1, 1);
  set_parameters(r, {1, 0, 0, 0, 2, 0, 0, 0, 3});
  check_close(run(r, {1, 1, 1}), {2, 3, 4});
}

TEST_CASE("index inputs that are not integers in range are clear errors") {
  Model<Sequential<Input<1>, OneHot<4>>> h(1, 2);
  const std::vector<float> bad{1, 4};
  CHECK_THROWS_WITH_AS(h.forward(bad.data(), 2), doctest::Contains("OneHot: input 4.000000 of sample 1"), Error);
  const std::vector<float> fraction{0.5f};
  Model<Sequential<Input<1>, Embedding<3, 2>>> e(1, 1);
  CHECK_THROWS_AS(e.forward(fraction.data(), 1), Error);
}

TEST_CASE("gradients through Concat, Select, Parallel and Residual match finite differences") {
  check_gradients<Sequential<Inputs<Input<3>, Input<4>>, Concat, Linear<2>>>();
  check_gradients<Sequential<Inputs<Input<2, 3, 3>, Input<1, 3, 3>>, Concat, Conv2d<2, 3>>>();
  check_gradients<Sequential<Input<5>, Parallel<Linear<3>, Seq<Linear<2>, ReLU>>, Concat, Linear<2>>>();
  check_gradients<Sequential<Input<2, 5, 5>, Residual<Seq<Conv2d<2, 3, Padding<1>>, BatchNorm2d, ReLU>>,
                             Residual<Seq<Conv2d<2, 3, Padding<1>>, Dropout<0.2f>>>>>();
  check_gradients<Sequential<Inputs<Input<4>, Input<3>>, PerInput<Linear<2>, Seq<Linear<3>, ReLU>>, Select<1>>>();
}

TEST_CASE("a two-input, two-head network with OneHot and Embedding: gradients match finite differences") {
  using N = Sequential<Inputs<Input<1, 6, 6>, Input<1>, Input<1>>,
                       PerInput<Seq<Tower, Linear<4>>, OneHot<5>, Embedding<5, 3>>,
                       Heads<Seq<Select<0>, LogSoftmax>, Seq<Concat, Linear<6>, ReLU, Linear<9>, LogSoftmax>>>;
  GradientCheckOptions o;
  o.batch = 3;
  // Inputs: 3 images (108 values), then 3 indices for OneHot, then 3 for Embedding.
  o.input_value = [](long i, Generator& g) { return i < 108 ? g.uniform(-1, 1) : double(g.below(5)); };
  o.differentiable = [](long i) { return i < 108; };
  check_gradients<N>(o);
  const auto names = Model<N>::named_parameters();
  CHECK(names.front().name == "0.0.0.weight");
  CHECK(names[4].name == "0.0.5.weight");  // the branch's Linear after conv (2), bn (2)
  CHECK(names[6].name == "0.2.weight");
  CHECK(names[7].name == "1.1.1.weight");
}

TEST_CASE("a multi-input network survives a save/load round trip") {
  using N = Sequential<Inputs<Input<1, 6, 6>, Input<1>>, PerInput<Seq<Tower, Linear<4>>, Embedding<5, 3>>, Concat,
                       Linear<3>>;
  Model<N> a(1, 2), b(2, 2);
  a.eval();
  b.eval();
  std::vector<float> x(2 * 36 + 2, 0.25f);
  x[72] = 3;
  x[73] = 1;
  const auto ya = run(a, x);
  const std::string path = (std::filesystem::temp_directory_path() / "ctnet_multi.safetensors").string();
  save_checkpoint(a, path);
  load_checkpoint(b, path);
  std::filesystem::remove(path);
  CHECK(run(b, x) == ya);
}

TEST_CASE("predict works through combinators") {
  using N = Sequential<Input<2, 5, 5>, Residual<Seq<Conv2d<2, 3, Padding<1>>, BatchNorm2d, ReLU>>,
                       Parallel<Seq<GlobalAvgPool, Flatten>, Seq<MaxPool2d<5>, Flatten>>, Concat, Linear<3>>;
  Model<N> m(3, 4, 4);
  std::vector<float> x(4 * 50);
  Generator g(1, RngStream::user);
  for (float& v : x) v = g.uniform();
  m.eval();
  const auto y = run(m, x);
  const float* p = m.predict(x.data(), 4);
  CHECK(std::vector<float>(p, p + 12) == y);
}
