// The user's layers under test: forward values against hand-computed numbers, gradients against finite
// differences (double), PyTorch names and shapes, init, checkpoints, and the shape rules at compile time.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include <ctnet/testing.hpp>

#include "../network.hpp"

using namespace ctnet;
using custom::DepthwiseConv2d;
using custom::Swish;

// Shapes and budgets, checked by the compiler.
using Dw = Sequential<Input<2, 3, 3>, DepthwiseConv2d<3, Stride<2>, Padding<1>>>;
CTNET_CHECK_OUTPUT_SHAPE(Dw, Shape<2, 2, 2>);
CTNET_CHECK_OUTPUT_SHAPE(Sequential<Input<4, 9, 7>, DepthwiseConv2d<3>>, Shape<4, 7, 5>);
CTNET_CHECK_OUTPUT_SHAPE(Sequential<Input<3, 8, 8>, DepthwiseConv2d<3, Padding<1>>>, Shape<3, 8, 8>);
CTNET_CHECK_OUTPUT_SHAPE(Sequential<Input<3, 7, 7>, DepthwiseConv2d<3, Stride<3>>>, Shape<3, 2, 2>);
CTNET_CHECK_OUTPUT_SHAPE(Sequential<Input<5>, Swish>, Shape<5>);
CTNET_CHECK_INPUT_SHAPE(custom::Net, Shape<1, 12, 12>);
CTNET_CHECK_OUTPUT_SHAPE(custom::Net, Shape<3>);
CTNET_CHECK_LAYER_COUNT(custom::Net, 7);
CTNET_CHECK_PARAMETER_BUDGET(custom::Net, 771);
CTNET_CHECK_MACS_BUDGET(custom::Net, 10368);
CTNET_CHECK_RECEPTIVE_FIELD_AT_LEAST(custom::Net, 5);
CTNET_CHECK_LAYER_CONTRACT(Swish, Shape<4, 8, 8>);
CTNET_CHECK_LAYER_CONTRACT(DepthwiseConv2d<3, Stride<2>>, Shape<4, 8, 8>);
static_assert(BoundLayer<DepthwiseConv2d<3>::bind<Shape<2, 5, 5>, 3>>);
static_assert(RunsOn<Swish::bind<Shape<4>, 0>, Cpu, double>);
// A backend whose memory the host cannot touch (as CUDA's): the user's host kernels do not apply there.
struct DeviceOnly {
  static constexpr const char* name = "device";
  static constexpr bool host_accessible = false;
};
static_assert(!RunsOn<Swish::bind<Shape<4>, 0>, DeviceOnly, float>);
static_assert(!RunsOn<DepthwiseConv2d<3>::bind<Shape<2, 5, 5>, 0>, DeviceOnly, float>);
static_assert(Dw::parameter_count == 2 * 9 + 2);
static_assert(Dw::macs == 2 * 9 * 2 * 2);

TEST_CASE("Swish: forward is x * sigmoid(x)") {
  using N = Sequential<Input<5>, Swish>;
  Model<N> m(1, 1);
  const float x[5] = {-2.0f, -0.5f, 0.0f, 1.0f, 3.0f};
  const float* y = m.predict(x, 1);
  // x / (1 + e^-x), by hand: -2/(1+e^2), -0.5/(1+e^0.5), 0, 1/(1+e^-1), 3/(1+e^-3).
  const double expected[5] = {-0.23840584, -0.18877033, 0.0, 0.73105858, 2.85772238};
  for (int i = 0; i < 5; ++i) CHECK(y[i] == doctest::Approx(expected[i]).epsilon(1e-6));
}

TEST_CASE("DepthwiseConv2d: forward with stride 2 and padding 1, against numbers worked by hand") {
  Model<Dw> m(1, 1);
  // Channel 0: all-ones 3x3 filter, bias 0.5; channel 1: only the centre tap, 2, bias -1.
  std::vector<float> p(20, 0.0f);
  for (int k = 0; k < 9; ++k) p[std::size_t(k)] = 1.0f;
  p[9 + 4] = 2.0f;
  p[18] = 0.5f;
  p[19] = -1.0f;
  m.write_parameters(p);
  float x[18];
  for (int i = 0; i < 18; ++i) x[i] = float(i + 1);  // channel 0: 1..9, channel 1: 10..18
  const float* y = m.predict(x, 1);
  // Output (0,0) sees rows 0-1 and columns 0-1 of the padded input: 1+2+4+5 = 12, +0.5.
  const float expected[8] = {12.5f, 16.5f, 24.5f, 28.5f,  // channel 0
                             19.0f, 23.0f, 31.0f, 35.0f};  // channel 1: 2 * x[2oy][2ox] - 1
  for (int i = 0; i < 8; ++i) CHECK(y[i] == expected[i]);
}

TEST_CASE("DepthwiseConv2d: PyTorch names, shapes and init") {
  const auto named = Model<custom::Net>::named_parameters();
  REQUIRE(named.size() == 6);
  CHECK(named[2].name == "2.weight");
  CHECK(named[2].shape == std::vector<long>{6, 1, 3, 3});
  CHECK(named[3].name == "2.bias");
  CHECK(named[3].shape == std::vector<long>{6});
  Model<custom::Net> a(5), b(5), c(6);
  const auto pa = a.read_parameters();
  CHECK(pa == b.read_parameters());  // same seed, same bits
  CHECK(pa != c.read_parameters());
  double largest = 0;
  for (long i = named[2].offset; i < named[3].offset + named[3].size; ++i)
    largest = std::max(largest, std::abs(double(pa[std::size_t(i)])));
  CHECK(largest <= 1.0 / 3.0);
  CHECK(largest > 0.25);  // 60 draws from U(-1/3, 1/3)
}

TEST_CASE("Swish and DepthwiseConv2d: gradients match finite differences (double)") {
  using G = Sequential<Input<2, 7, 7>, DepthwiseConv2d<3, Stride<2>, Padding<1>>, Swish, DepthwiseConv2d<3>, Swish,
                       Flatten, Linear<3>>;
  const GradientCheckResult r = gradient_check<G>();
  INFO(r.worst_where);
  CHECK(r.passed());
  CHECK(r.input_checks == 3 * 98);
  CHECK(r.parameter_checks == G::parameter_count);
  const GradientCheckResult full = gradient_check<custom::Net>();
  INFO(full.worst_where);
  CHECK(full.passed());
}

TEST_CASE("summary names the user's layers as PyTorch would print them") {
  std::ostringstream out;
  summary<custom::Net>(out);
  CHECK(out.str().find("DepthwiseConv2d(6, 6, kernel_size=3, stride=2, padding=1, groups=6)") != std::string::npos);
  CHECK(out.str().find("Swish()") != std::string::npos);
  CHECK(out.str().find("Total parameters: 771") != std::string::npos);
}

TEST_CASE("checkpoint: save and load give the same bits; another architecture is refused by name") {
  const std::string path = (std::filesystem::temp_directory_path() / "custom_layer_test.safetensors").string();
  Model<custom::Net> saved(3, 4);
  for (float& v : saved.parameters()) v *= 1.5f;  // not what any seed gives
  save_checkpoint(saved, path);
  Model<custom::Net> loaded(4, 4);
  load_checkpoint(loaded, path);
  CHECK(loaded.read_parameters() == saved.read_parameters());
  std::vector<float> x(4 * 144);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = float(i % 13) / 13.0f - 0.5f;
  const float* ya = saved.predict(x.data(), 4);
  const std::vector<float> first(ya, ya + 12);
  const float* yb = loaded.predict(x.data(), 4);
  CHECK(std::vector<float>(yb, yb + 12) == first);

  using Other = Sequential<Input<1, 12, 12>, Conv2d<6, 3, Padding<1>>, Swish, DepthwiseConv2d<3, Stride<1>, Padding<1>>,
                           Swish, Flatten, Linear<3>, LogSoftmax>;
  Model<Other> other(1, 1);
  try {
    load_checkpoint(other, path);
    FAIL("a checkpoint of another architecture was loaded");
  } catch (const CheckpointError& e) {
    const std::string msg = e.what();
    CHECK(msg.find("DepthwiseConv2d(6, 6, kernel_size=3, stride=2, padding=1, groups=6)") != std::string::npos);
    CHECK(msg.find("DepthwiseConv2d(6, 6, kernel_size=3, padding=1, groups=6)") != std::string::npos);
  }
  std::filesystem::remove(path);
}
