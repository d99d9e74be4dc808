// AdaptiveThreads (backend/cpu/adaptive_threads.hpp) on scripted call times, and a Model whose calls it
// tunes: the calling thread's OpenMP count is restored after every call and the results keep their bits.
#include <doctest/doctest.h>

#include <functional>
#include <vector>

#include <ctnet/ctnet.hpp>

using ctnet::ExecutionCall;
using ctnet::cpu::AdaptiveThreads;

namespace {

constexpr ExecutionCall forward128{ExecutionCall::Kind::forward, 128};

// Runs `calls` calls, each taking cost(threads) seconds; returns the thread count of each call.
std::vector<int> run_calls(AdaptiveThreads& a, const ExecutionCall& call, int max, int calls,
                           const std::function<double(int)>& cost) {
  std::vector<int> used;
  for (int i = 0; i < calls; ++i) {
    const int t = a.begin(call, max);
    REQUIRE(t >= 1);
    REQUIRE(t <= max);
    a.end(cost(t));
    used.push_back(t);
  }
  return used;
}

double fraction_at(const std::vector<int>& used, int threads, std::size_t from = 0) {
  long n = 0;
  for (std::size_t i = from; i < used.size(); ++i) n += used[i] == threads;
  return double(n) / double(used.size() - from);
}

}  // namespace

TEST_CASE("an idle machine: the full count stays, and the probes of fewer threads are under 2% of the calls") {
  AdaptiveThreads a;
  a.set_enabled(true);
  const auto used = run_calls(a, forward128, 2, 5000, [](int t) { return t == 2 ? 1e-3 : 1.9e-3; });
  CHECK(a.threads_for(forward128, 2) == 2);
  CHECK(fraction_at(used, 1, 1000) < 0.02);
  CHECK(fraction_at(used, 1, 1000) > 0);  // it does keep checking
}

TEST_CASE("a busy machine: one thread is chosen after the first probe, and two again when the load goes") {
  AdaptiveThreads a;
  a.set_enabled(true);
  bool busy = true;
  const auto cost = [&](int t) { return busy ? (t == 2 ? 2.5e-3 : 1.9e-3) : (t == 2 ? 1e-3 : 1.9e-3); };
  auto used = run_calls(a, forward128, 2, AdaptiveThreads::first_period + 2 * AdaptiveThreads::probe_pairs, cost);
  CHECK(a.threads_for(forward128, 2) == 1);
  used = run_calls(a, forward128, 2, 3000, cost);
  CHECK(fraction_at(used, 1) > 0.95);
  busy = false;
  // Back to two within one longest period and a probe (here the probes' extra time is small: the period
  // stays at max_period).
  used = run_calls(a, forward128, 2, AdaptiveThreads::max_period + 2 * AdaptiveThreads::probe_pairs + 1, cost);
  CHECK(a.threads_for(forward128, 2) == 2);
}

TEST_CASE("two threads 8x slower than one (two busy cores): probes stop after one pair and cost about 1%") {
  AdaptiveThreads a;
  a.set_enabled(true);
  const auto cost = [](int t) { return t == 2 ? 40e-3 : 5e-3; };
  const auto used = run_calls(a, forward128, 2, 30000, cost);
  CHECK(a.threads_for(forward128, 2) == 1);
  double spent = 0, at_best = 0;
  for (std::size_t i = 1000; i < used.size(); ++i) spent += cost(used[i]), at_best += cost(1);
  CHECK(spent / at_best < 1.02);
  CHECK(spent / at_best > 1.0);  // it does keep checking
}

TEST_CASE("a 5% gain is needed to move: equal times keep the current count") {
  AdaptiveThreads a;
  a.set_enabled(true);
  run_calls(a, forward128, 2, 2000, [](int t) { return t == 2 ? 1e-3 : 0.97e-3; });
  CHECK(a.threads_for(forward128, 2) == 2);
}

TEST_CASE("eight threads: the count walks down the levels 8, 4, 2, 1 to the fastest and stays there") {
  AdaptiveThreads a;
  a.set_enabled(true);
  // Fastest at 2 threads (a machine with 2 free cores).
  const auto cost = [](int t) { return t == 8 ? 4e-3 : t == 4 ? 2e-3 : t == 2 ? 1e-3 : 1.8e-3; };
  const auto used = run_calls(a, forward128, 8, 4000, cost);
  CHECK(a.threads_for(forward128, 8) == 2);
  CHECK(fraction_at(used, 2, 2000) > 0.97);
  // Three threads: the levels are 3, 2, 1.
  AdaptiveThreads b;
  b.set_enabled(true);
  run_calls(b, forward128, 3, 2000, [](int t) { return t == 3 ? 3e-3 : t == 2 ? 2e-3 : 1e-3; });
  CHECK(b.threads_for(forward128, 3) == 1);
}

TEST_CASE("each kind of call and batch has its own choice, and a new batch starts from its kind's last choice") {
  AdaptiveThreads a;
  a.set_enabled(true);
  const ExecutionCall backward128{ExecutionCall::Kind::backward, 128}, forward96{ExecutionCall::Kind::forward, 96};
  for (int i = 0; i < 200; ++i) {
    a.end(0);  // an end() without a begin() records nothing
    a.end([&] { return a.begin(forward128, 2) == 2 ? 3e-3 : 1e-3; }());
    a.end([&] { return a.begin(backward128, 2) == 2 ? 1e-3 : 3e-3; }());
  }
  CHECK(a.threads_for(forward128, 2) == 1);
  CHECK(a.threads_for(backward128, 2) == 2);
  CHECK(a.threads_for(forward96, 2) == 2);  // not run yet
  CHECK(a.begin(forward96, 2) == 1);        // inherits forward's choice
  a.cancel();
  // A different OpenMP count is a different question: it starts at the full count.
  CHECK(a.threads_for(forward128, 4) == 4);
  CHECK(a.begin(forward128, 4) == 4);
  a.cancel();
}

TEST_CASE("on by default: off, or with one thread, every call runs the given count") {
  CHECK(AdaptiveThreads{}.enabled());
  AdaptiveThreads a;
  a.set_enabled(false);
  const auto used = run_calls(a, forward128, 2, 500, [](int t) { return t == 2 ? 1e-2 : 1e-3; });
  CHECK(fraction_at(used, 2) == 1.0);
  AdaptiveThreads b;
  b.set_enabled(true);
  CHECK(fraction_at(run_calls(b, forward128, 1, 100, [](int) { return 1e-3; }), 1) == 1.0);
}

namespace {
using Net = ctnet::Sequential<ctnet::Input<1, 12, 12>, ctnet::Conv2d<4, 3>, ctnet::BatchNorm2d, ctnet::ReLU,
                              ctnet::MaxPool2d<2>, ctnet::Flatten, ctnet::Linear<10>, ctnet::LogSoftmax>;

template <class Network = Net>
std::vector<float> train_steps(bool adaptive, int steps) {
  ctnet::Model<Network> model(7, 64);
  model.execution_context().adaptive_threads().set_enabled(adaptive);
  ctnet::SGD<float> sgd(0.05, 0.9);
  std::vector<float> x(64 * std::size_t(ctnet::Model<Network>::input_size)), grad(64 * 10);
  std::vector<int> labels(64);
  for (int s = 0; s < steps; ++s) {
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = float((i * 7 + std::size_t(s) * 13) % 23) / 23.0f - 0.5f;
    for (std::size_t i = 0; i < labels.size(); ++i) labels[i] = int((i + std::size_t(s)) % 10);
    const float* out = model.forward(x.data(), 64);
    ctnet::NLLLoss{}.backward(out, labels.data(), 64, 10, grad.data());
    model.zero_grad();
    model.backward(grad.data());
    sgd.step(model.parameters(), model.gradients());
  }
  const float* p = model.predict(x.data(), 64);
  std::vector<float> result(model.parameters().begin(), model.parameters().end());
  result.insert(result.end(), p, p + 64 * 10);
  return result;
}
}  // namespace

TEST_CASE("a Model's calls restore the calling thread's OpenMP count, and adapting keeps the bits") {
  ctnet::Cpu::set_threads(2);
  const std::vector<float> fixed = train_steps(false, 120);
  const std::vector<float> adaptive = train_steps(true, 120);  // 120 steps: several probes of 1 thread
  CHECK(ctnet::Cpu::threads() == 2);
  CHECK(adaptive == fixed);
  ctnet::Cpu::set_threads(1);
  CHECK(train_steps(true, 40) == train_steps(false, 40));
  CHECK(ctnet::Cpu::threads() == 1);
  ctnet::Cpu::set_threads(2);
}

// Each test case runs as its own process (doctest_discover_tests), so here Cpu::set_threads has not been
// called: the count comes from OMP_NUM_THREADS alone, as in a program that never sets it. Eigen's GEMM
// would then thread itself with OpenMP's count, which adaptation changes per call, and its blocking
// follows the count; Model calls keep it single-threaded.
TEST_CASE("without Cpu::set_threads, Model calls keep Eigen single-threaded and adapting keeps the bits") {
  using Wide = ctnet::Sequential<ctnet::Input<2, 16, 16>, ctnet::Flatten, ctnet::Linear<256>, ctnet::ReLU,
                                 ctnet::Linear<10>, ctnet::LogSoftmax>;
  const std::vector<float> fixed = train_steps<Wide>(false, 60);
  CHECK(Eigen::nbThreads() == 1);
  CHECK(train_steps<Wide>(true, 60) == fixed);
}
