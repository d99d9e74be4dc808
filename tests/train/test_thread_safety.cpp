// Two models trained at the same time on two host threads of one process give exactly the bits each gives
// alone (DESIGN.md principle 11: scratch memory and work-sharing state belong to a model, not to the
// process). Each host thread runs OpenMP teams of two, so the two threads' teams overlap.
#include "support/helpers.hpp"

#include <ctnet/train/loss.hpp>
#include <ctnet/train/optimizer.hpp>
#include <exception>
#include <latch>
#include <thread>

#include "support/data.hpp"

using namespace ctnet;
using namespace ctnet::testing;

namespace {

// Convolutions (padded, direct and im2col paths), batch-norm (the fused BN -> ReLU -> Dropout chain and
// the plain one), dropout, max and average pooling, linear layers.
using NetA = Sequential<Input<1, 28, 28>, Conv2d<8, 3, Padding<1>>, BatchNorm2d, ReLU, Dropout<0.1f>, MaxPool2d<2>,
                        Conv2d<16, 3, NoBias>, BatchNorm2d, ReLU, MaxPool2d<2>, Flatten, Linear<10>, LogSoftmax>;
using NetB = Sequential<Input<1, 28, 28>, Conv2d<12, 5, NoBias>, BatchNorm2d, ReLU, AvgPool2d<2>,
                        Conv2d<24, 3, Padding<1>>, ReLU, Dropout2d<0.1f>, MaxPool2d<2, Stride<2>>, Conv2d<16, 1>,
                        BatchNorm2d, ReLU, Flatten, Linear<32>, BatchNorm1d, ReLU, Dropout<0.2f>, Linear<10>,
                        LogSoftmax>;

constexpr int batch = 32;
constexpr int steps = 6;

// Everything a run produces: parameters, running statistics and the eval-mode predictions at the end.
struct Bits {
  std::vector<float> parameters, buffers, predictions;
  bool operator==(const Bits&) const = default;
};

template <class Net>
Bits train(std::uint64_t seed, const Dataset& data) {
  Cpu::set_threads(2);  // this host thread's OpenMP teams
  Model<Net> model(seed, batch);
  SGD<float> sgd(0.05, 0.9);
  const NLLLoss loss;
  std::vector<float> x(std::size_t{batch} * 784), grad(std::size_t{batch} * 10);
  std::vector<int> y(std::size_t{batch});
  for (int s = 0; s < steps; ++s) {
    for (int i = 0; i < batch * 784; ++i) x[std::size_t(i)] = float(data.images[std::size_t(s * batch * 784 + i)]) / 255.0f;
    for (int i = 0; i < batch; ++i) y[std::size_t(i)] = data.labels[std::size_t(s * batch + i)];
    model.zero_grad();
    const float* out = model.forward(x.data(), batch);
    loss.backward(out, y.data(), batch, 10, grad.data());
    model.backward(grad.data());
    sgd.step(model.parameters(), model.gradients());
  }
  model.eval();
  const float* p = model.predict(x.data(), batch);
  return {model.read_parameters(), model.read_buffers(), std::vector<float>(p, p + batch * 10)};
}

// Runs a and b at the same time on two threads (released together) and returns their results.
template <class A, class B>
std::pair<Bits, Bits> together(A a, B b) {
  Bits ra, rb;
  std::exception_ptr ea, eb;
  std::latch start(2);
  std::thread ta([&] {
    start.arrive_and_wait();
    try {
      ra = a();
    } catch (...) {
      ea = std::current_exception();
    }
  });
  std::thread tb([&] {
    start.arrive_and_wait();
    try {
      rb = b();
    } catch (...) {
      eb = std::current_exception();
    }
  });
  ta.join();
  tb.join();
  if (ea) std::rethrow_exception(ea);
  if (eb) std::rethrow_exception(eb);
  return {ra, rb};
}

template <class NetX, class NetY>
void check_concurrent(std::uint64_t seed_x, std::uint64_t seed_y) {
  const Dataset data = generated_digits(batch * steps, 11);  // only read, by both threads
  const Bits alone_x = train<NetX>(seed_x, data), alone_y = train<NetY>(seed_y, data);
  REQUIRE(alone_x.parameters != alone_y.parameters);  // the two runs really differ
  for (int round = 0; round < 4; ++round) {
    INFO("concurrent round " << round);
    const auto [x, y] = together([&] { return train<NetX>(seed_x, data); }, [&] { return train<NetY>(seed_y, data); });
    CHECK(x.parameters == alone_x.parameters);
    CHECK(x.buffers == alone_x.buffers);
    CHECK(x.predictions == alone_x.predictions);
    CHECK(y.parameters == alone_y.parameters);
    CHECK(y.buffers == alone_y.buffers);
    CHECK(y.predictions == alone_y.predictions);
  }
}

}  // namespace

TEST_CASE("two models of the same network type trained at once on two threads give the bits they give alone") {
  check_concurrent<NetA, NetA>(1, 2);
}

TEST_CASE("two models of different network types trained at once on two threads give the bits they give alone") {
  check_concurrent<NetA, NetB>(3, 4);
}

TEST_CASE("a model trained on a second host thread gives the bits it gives on the main thread") {
  const Dataset data = generated_digits(batch * steps, 11);
  const Bits main_thread = train<NetB>(5, data);
  Bits other;
  std::thread t([&] { other = train<NetB>(5, data); });
  t.join();
  CHECK(other == main_thread);
}
