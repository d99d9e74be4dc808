#include "support/helpers.hpp"

#include <sstream>

#include "../examples/mnist_models.hpp"

using namespace ctnet;
using namespace ctnet::testing;

template <int C>
using Block = Seq<Conv2d<C, 3>, BatchNorm2d, ReLU>;

TEST_CASE("blocks splice into the enclosing network and are numbered flat") {
  using Nested = Sequential<Input<1, 12, 12>, Block<4>, Seq<Block<8>, MaxPool2d<2>>, Flatten, Linear<10>>;
  using Flat = Sequential<Input<1, 12, 12>, Conv2d<4, 3>, BatchNorm2d, ReLU, Conv2d<8, 3>, BatchNorm2d, ReLU,
                          MaxPool2d<2>, Flatten, Linear<10>>;
  static_assert(Nested::layer_count == 9);
  static_assert(std::is_same_v<Nested::layers, Flat::layers>);
  static_assert(Nested::layer<3>::position == 3);
  static_assert(Nested::layer<6>::output_shape == Shape<8, 4, 4>{});
  // Sequential without an Input is a block too.
  using Alias = Sequential<Input<1, 12, 12>, Sequential<Conv2d<4, 3>, BatchNorm2d>, ReLU, Block<8>, MaxPool2d<2>,
                           Flatten, Linear<10>>;
  static_assert(std::is_same_v<Alias::layers, Flat::layers>);
}

TEST_CASE("parameter and buffer names follow PyTorch's nn.Sequential") {
  using N = Sequential<Input<1, 6, 6>, Block<2>, Flatten, Linear<3, NoBias>>;
  const auto p = Model<N>::named_parameters();
  REQUIRE(p.size() == 5);
  CHECK(p[0].name == "0.weight");
  CHECK(p[0].shape == std::vector<long>{2, 1, 3, 3});
  CHECK(p[1].name == "0.bias");
  CHECK(p[2].name == "1.weight");
  CHECK(p[3].name == "1.bias");
  CHECK(p[3].offset == 18 + 2 + 2);
  CHECK(p[4].name == "4.weight");
  CHECK(p[4].shape == std::vector<long>{3, 32});
  CHECK(p[4].offset == 18 + 2 + 4);
  const auto b = Model<N>::named_buffers();
  REQUIRE(b.size() == 2);
  CHECK(b[0].name == "1.running_mean");
  CHECK(b[1].name == "1.running_var");
}

TEST_CASE("a whole small network's gradients match finite differences") {
  using N = Sequential<Input<2, 8, 8>, Conv2d<3, 3, Padding<1>>, BatchNorm2d, ReLU, Dropout<0.2f>, MaxPool2d<2>,
                       Conv2d<4, 3, NoBias>, BatchNorm2d, ReLU, GlobalAvgPool, Flatten, Linear<5>, LogSoftmax>;
  GradientCheckOptions o;
  o.batch = 3;
  check_gradients<N>(o);
  o.training = false;
  check_gradients<N>(o);
}

TEST_CASE("the flagship network's gradients match finite differences") {
  GradientCheckOptions o;
  o.batch = 2;
  o.max_checks = 60;
  check_gradients<mnist::Step3Gap>(o);
}

TEST_CASE("same seed and thread count give bit-identical training outputs and gradients") {
  using N = mnist::Step3Gap;
  const auto run_once = [](std::uint64_t seed) {
    Model<N> m(seed, 16);
    std::vector<float> x(16 * 784);
    Generator g(99, RngStream::user);
    for (float& v : x) v = g.uniform();
    std::vector<float> out;
    for (int step = 0; step < 2; ++step) {
      const float* y = m.forward(x.data(), 16);
      out.assign(y, y + 160);
      std::vector<float> gy(160, 0.01f);
      m.backward(gy.data());
    }
    out.insert(out.end(), m.gradients().begin(), m.gradients().end());
    return out;
  };
  const auto a = run_once(5), b = run_once(5), c = run_once(6);
  CHECK(a == b);
  CHECK(a != c);
}

TEST_CASE("summary of a known network matches the expected rows") {
  const auto rows = summary_rows<mnist::Reference>();
  REQUIRE(rows.size() == 30);
  CHECK(rows[0].layer == "Conv2d(1, 8, kernel_size=3, bias=False)");
  CHECK(rows[0].output_shape == "8x26x26");
  CHECK(rows[0].parameters == 72);
  CHECK(rows[0].macs == 48'672);
  CHECK(rows[1].layer == "BatchNorm2d(8)");
  CHECK(rows[3].layer == "Dropout(p=0.05)");
  CHECK(rows[9].layer == "MaxPool2d(kernel_size=2)");
  CHECK(rows[9].output_shape == "8x12x12");
  CHECK(rows[9].receptive_field == 6);
  CHECK(rows[22].layer == "Conv2d(16, 16, kernel_size=3, padding=1, bias=False)");
  CHECK(rows[26].layer == "GlobalAvgPool()");
  CHECK(rows[29].output_shape == "10");
  std::ostringstream os;
  summary<mnist::Reference>(os);
  CHECK(os.str().find("Total parameters: 9,752") != std::string::npos);
  CHECK(os.str().find("Total MACs per sample: 1,214,656") != std::string::npos);
}

TEST_CASE("a batch larger than the model's maximum is a clear error") {
  Model<Sequential<Input<4>, Linear<2>>> m(1, 8);
  std::vector<float> x(9 * 4);
  CHECK_THROWS_WITH_AS(m.forward(x.data(), 9), doctest::Contains("batch of 9 samples"), OptionError);
  using Small = Model<Sequential<Input<4>, Linear<2>>>;
  CHECK_THROWS_AS(Small(1, 0), OptionError);
}

TEST_CASE("inference folds batch-norm and ReLU into the convolution before them and passes dropout by") {
  using detail::InferenceRole;
  using N = mnist::Reference;  // Conv, BN, ReLU, Dropout, ... Conv 1x1, MaxPool, ..., GAP, Conv 1x1, Flatten, LogSoftmax
  constexpr auto plan = detail::make_inference_plan(N::facts::kinds, true);
  static_assert(plan.role[0] == InferenceRole::run && plan.fuse_bn[0] && plan.fuse_relu[0]);
  static_assert(plan.role[1] == InferenceRole::absorbed && plan.role[2] == InferenceRole::absorbed);
  static_assert(plan.role[3] == InferenceRole::pass_through);
  static_assert(plan.input[0] == -1 && plan.output[0] == 0 && plan.input[4] == 0 && plan.output[4] == 1);
  static_assert(plan.role[8] == InferenceRole::run && !plan.fuse_bn[8] && !plan.fuse_relu[8]);  // 1x1 conv, pool next
  static_assert(plan.role[28] == InferenceRole::pass_through && plan.output[29] == -1);       // Flatten; LogSoftmax
  constexpr auto unfused = detail::make_inference_plan(N::facts::kinds, false);
  static_assert(unfused.role[1] == InferenceRole::run && unfused.role[3] == InferenceRole::pass_through);
  // A chain whose last layers pass through: the last layer that runs writes the output.
  using Tail = Sequential<Input<2, 5, 5>, Conv2d<3, 3>, ReLU, Dropout<0.5f>, Flatten>;
  constexpr auto tail = detail::make_inference_plan(Tail::facts::kinds, true);
  static_assert(tail.fuse_relu[0] && !tail.fuse_bn[0] && tail.output[0] == -1 && !tail.copy_input_to_output);
  using Nothing = Sequential<Input<6>, Flatten, Dropout<0.5f>>;
  static_assert(detail::make_inference_plan(Nothing::facts::kinds, true).copy_input_to_output);
  for (auto check : {+[] {
                       Model<Tail> m(3, 4, 4);
                       std::vector<float> x(4 * 50);
                       Generator g(2, RngStream::user);
                       for (float& v : x) v = g.uniform() - 0.5f;
                       m.eval();
                       const std::vector<float> y = run(m, x);
                       const float* p = m.predict(x.data(), 4);
                       CHECK(std::vector<float>(p, p + y.size()) == y);
                     },
                     +[] {
                       Model<Nothing> m(3, 2, 2);
                       const std::vector<float> x = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
                       const float* p = m.predict(x.data(), 2);
                       CHECK(std::vector<float>(p, p + 12) == x);
                     }})
    check();
}

// The CPU backend without its fused paths: every layer runs on its own.
struct CpuUnfused : Cpu {
  static constexpr bool fuses_bn_relu_dropout = false;
  static constexpr bool fuses_conv_epilogue = false;
};

template <class Net>
void check_fused_training_matches_layers() {
  Model<Net, Cpu> fused(5, 6);
  Model<Net, CpuUnfused> plain(5, 6);
  Generator g(3, RngStream::user);
  std::vector<float> x(6 * Net::input_shape_t::size), gy(6 * Net::output_shape_t::size);
  for (float& v : x) v = g.uniform() - 0.3f;
  for (float& v : gy) v = g.uniform() - 0.5f;
  for (int step = 0; step < 2; ++step) {  // two steps: fresh dropout masks, moved running statistics
    const float* yf = fused.forward(x.data(), 6);
    const float* yp = plain.forward(x.data(), 6);
    CHECK(std::vector<float>(yf, yf + gy.size()) == std::vector<float>(yp, yp + gy.size()));
    std::vector<float> gxf(x.size()), gxp(x.size());
    fused.zero_grad();
    plain.zero_grad();
    fused.backward(gy.data(), gxf.data());
    plain.backward(gy.data(), gxp.data());
    // Batch-norm's channel sums may be added in another order: equal up to float rounding (gradients
    // here are of order 1; 1e-5 absolute).
    for (std::size_t i = 0; i < x.size(); ++i) CHECK(gxf[i] == doctest::Approx(gxp[i]).epsilon(1e-5).scale(1.0));
    for (std::size_t i = 0; i < fused.gradients().size(); ++i)
      CHECK(fused.gradients()[i] == doctest::Approx(plain.gradients()[i]).epsilon(1e-5).scale(1.0));
    for (std::size_t i = 0; i < fused.buffers().size(); ++i) CHECK(fused.buffers()[i] == plain.buffers()[i]);
  }
}

TEST_CASE("training runs BatchNorm, ReLU and Dropout as one fused chain with the layers' results") {
  using Three = Sequential<Input<2, 9, 9>, Conv2d<4, 3>, BatchNorm2d, ReLU, Dropout<0.3f>, Conv2d<3, 3>, BatchNorm2d,
                           ReLU, Dropout<0.5f>, Flatten, Linear<5>>;
  constexpr auto chains = Three::training_chains<Cpu>();
  static_assert(chains.length[1] == 3 && chains.start[3] == 1 && chains.length[5] == 3 && chains.start[7] == 5);
  static_assert(Three::training_chains<CpuUnfused>().length[1] == 0);
  check_fused_training_matches_layers<Three>();
  // Two-layer chains (no dropout): their backward works in place on the gradient buffer; one starts the
  // network (no input gradient below it) and one ends it.
  using Two = Sequential<Input<3, 7, 7>, BatchNorm2d, ReLU, Conv2d<4, 3>, BatchNorm2d, ReLU, MaxPool2d<2>,
                         Conv2d<2, 1>, BatchNorm2d, ReLU>;
  static_assert(Two::training_chains<Cpu>().length[0] == 2 && Two::training_chains<Cpu>().start[8] == 7);
  check_fused_training_matches_layers<Two>();
  check_gradients<Three>();
  check_gradients<Two>();
}

TEST_CASE("predict equals the eval-mode forward pass and takes larger batches") {
  using N = mnist::Step3Gap;
  Model<N> m(4, 8, 64);
  Generator g(1, RngStream::user);
  for (float& v : m.buffers()) v = g.uniform() + 0.5f;  // non-trivial running statistics
  std::vector<float> x(64 * 784);
  for (float& v : x) v = g.uniform();
  m.eval();
  const float* y = m.forward(x.data(), 8);
  const std::vector<float> eval_out(y, y + 80);
  const float* p = m.predict(x.data(), 64);
  CHECK(std::vector<float>(p, p + 80) == eval_out);
  CHECK_THROWS_AS(m.predict(x.data(), 65), OptionError);
  CHECK_THROWS_AS(m.forward(x.data(), 9), OptionError);
  // The inference workspace per sample is far smaller than training's.
  static_assert(N::inference_workspace_size(1000) < N::workspace_size(1000) / 4);
}

TEST_CASE("predict in chunks: a batch larger than the chunk gives each sample the bits it gets alone") {
  using N = mnist::Reference;
  const long n = 600;  // three chunks on the CPU: 256, 256, 88
  Model<N> big(5, 8, n), one(5, 8, 1);
  Generator g(2, RngStream::user);
  for (float& v : big.buffers()) v = g.uniform() + 0.5f;
  std::copy(big.buffers().begin(), big.buffers().end(), one.buffers().begin());
  std::vector<float> x(std::size_t(n) * 784);
  for (float& v : x) v = g.uniform();
  const float* p = big.predict(x.data(), n);
  const std::vector<float> all(p, p + n * 10);
  for (long i : {0L, 1L, 255L, 256L, 257L, 511L, 512L, 599L}) {
    const float* q = one.predict(x.data() + i * 784, 1);
    CHECK(std::vector<float>(q, q + 10) == std::vector<float>(all.begin() + i * 10, all.begin() + i * 10 + 10));
  }
  // Two inputs (images, then digits, component after component) run whole: predict equals eval forward.
  {
    using A = mnist::Adder;
    Model<A> adder(3, n, n);
    std::vector<float> in(std::size_t(n) * 785);
    for (long i = 0; i < n * 784; ++i) in[std::size_t(i)] = g.uniform();
    for (long i = 0; i < n; ++i) in[std::size_t(n * 784 + i)] = float(i % 10);
    adder.eval();
    const float* f = adder.forward(in.data(), n);
    const std::vector<float> eval_out(f, f + n * A::output_shape_t::size);
    const float* q = adder.predict(in.data(), n);
    CHECK(std::vector<float>(q, q + n * A::output_shape_t::size) == eval_out);
  }
  // The workspace holds a chunk: a model for batches of 1000 needs no more than one for 256.
  CHECK(Model<N>(1, 8, 1000).workspace_floats() == Model<N>(1, 8, 256).workspace_floats());
}
