// MultiTaskLoss (train/multitask.hpp): the weighted total, each head's gradient against its own loss (weight
// and scale applied), correct counts per head, and the checks on tasks and targets.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include <ctnet/train/multitask.hpp>

using namespace ctnet;

namespace {

// Two heads over a batch of 3: [3 x 4] log-probabilities (nll), then [3 x 1] regressed values (mse).
struct TwoHeads {
  std::vector<double> out;
  std::vector<int> classes{2, 0, 3};
  std::vector<float> values{1.5f, -2.0f, 4.0f};
  TwoHeads() {
    const double logits[3][4] = {{0.1, -0.3, 1.2, 0.4}, {2.0, 0.5, -1.0, 0.0}, {-0.2, 0.3, 0.1, 0.9}};
    for (const auto& row : logits) {
      double z = 0;
      for (double v : row) z += std::exp(v);
      for (double v : row) out.push_back(v - std::log(z));
    }
    out.insert(out.end(), {1.2, -1.0, 4.4});
  }
  std::vector<TaskTargets> targets() const { return {{classes.data(), nullptr}, {nullptr, values.data()}}; }
};

MultiTaskLoss two_tasks(double w0, double w1) {
  return MultiTaskLoss({{"digit", TaskLoss::nll, 4, w0}, {"value", TaskLoss::mse, 1, w1}});
}

}  // namespace

TEST_CASE("MultiTaskLoss: the total is the weighted sum of the heads' losses") {
  const TwoHeads h;
  const MultiTaskResult r = two_tasks(0.5, 2.0).forward(h.out.data(), 3, h.targets());
  const std::vector<double> v(h.values.begin(), h.values.end());
  const double nll = NLLLoss{}.forward(h.out.data(), h.classes.data(), 3, 4);
  const double mse = MSELoss{}.forward(h.out.data() + 12, v.data(), 3, 1);
  REQUIRE(r.parts.size() == 2);
  CHECK(r.parts[0] == doctest::Approx(nll).epsilon(1e-15));
  CHECK(r.parts[1] == doctest::Approx(mse).epsilon(1e-15));
  CHECK(r.total == doctest::Approx(0.5 * nll + 2.0 * mse).epsilon(1e-15));
}

TEST_CASE("MultiTaskLoss: backward is each head's gradient times its weight and the scale") {
  const TwoHeads h;
  const std::vector<double> v(h.values.begin(), h.values.end());
  for (const double scale : {1.0, 0.375}) {
    CAPTURE(scale);
    std::vector<double> grad(15, -7.0), want(15, 0.0);
    two_tasks(0.5, 2.0).backward(h.out.data(), 3, h.targets(), grad.data(), scale);
    NLLLoss{}.backward(h.out.data(), h.classes.data(), 3, 4, want.data(), 0.5 * scale);
    MSELoss{}.backward(h.out.data() + 12, v.data(), 3, 1, want.data() + 12, 2.0 * scale);
    for (std::size_t i = 0; i < grad.size(); ++i) CHECK(grad[i] == doctest::Approx(want[i]).epsilon(1e-15));
  }
}

TEST_CASE("MultiTaskLoss: backward matches finite differences of the weighted total") {
  const TwoHeads h;
  const MultiTaskLoss loss = two_tasks(0.5, 2.0);
  std::vector<double> grad(15);
  loss.backward(h.out.data(), 3, h.targets(), grad.data());
  for (std::size_t i = 0; i < grad.size(); ++i) {
    std::vector<double> plus = h.out, minus = h.out;
    plus[i] += 1e-6;
    minus[i] -= 1e-6;
    const double numeric =
        (loss.forward(plus.data(), 3, h.targets()).total - loss.forward(minus.data(), 3, h.targets()).total) / 2e-6;
    CAPTURE(i);
    CHECK(grad[i] == doctest::Approx(numeric).epsilon(1e-6));
  }
}

TEST_CASE("MultiTaskLoss: correct counts per head (argmax, or the rounded value)") {
  const TwoHeads h;
  const std::vector<long> c = two_tasks(1, 1).correct(h.out.data(), 3, h.targets());
  // argmax rows: 2, 0, 3 (all right); rounded values 1 vs 2 (1.5 rounds to 2), -1 vs -2, 4 vs 4.
  CHECK(c == std::vector<long>{3, 1});
}

TEST_CASE("MultiTaskLoss: tasks that do not fit the network and missing targets are OptionErrors") {
  using Out = TupleShape<Shape<4>, Shape<1>>;
  CHECK_THROWS_WITH_AS(MultiTaskLoss::for_output<Out>({{"digit", TaskLoss::nll, 4, 1}}),
                       "ctnet: MultiTaskLoss: 1 tasks for a network with 2 heads", OptionError);
  CHECK_THROWS_WITH_AS(MultiTaskLoss::for_output<Out>({{"digit", TaskLoss::nll, 5, 1}, {"value", TaskLoss::mse, 1, 1}}),
                       "ctnet: MultiTaskLoss: task 'digit' has 5 outputs, head 0 has 4", OptionError);
  CHECK_THROWS_WITH_AS(MultiTaskLoss({{"v", TaskLoss::mse, 1, -1}}),
                       "ctnet: MultiTaskLoss: task 'v' has a negative weight", OptionError);
  CHECK_THROWS_WITH_AS(MultiTaskLoss({}), "ctnet: MultiTaskLoss: no tasks", OptionError);
  const TwoHeads h;
  std::vector<TaskTargets> t = h.targets();
  t[1].values = nullptr;
  CHECK_THROWS_WITH_AS(two_tasks(1, 1).forward(h.out.data(), 3, t),
                       "ctnet: MultiTaskLoss: task 'value' needs value targets", OptionError);
  CHECK_THROWS_WITH_AS(two_tasks(1, 1).forward(h.out.data(), 3, std::vector<TaskTargets>(1)),
                       "ctnet: MultiTaskLoss: 1 target sets for 2 tasks", OptionError);
}
