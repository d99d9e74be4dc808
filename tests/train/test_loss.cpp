// Losses: values against hand-computed numbers, gradients against central finite differences (double),
// label smoothing, target validation; correct_count's argmax rule.
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <vector>

#include "ctnet/core/error.hpp"
#include "ctnet/train/loss.hpp"
#include "ctnet/train/metrics.hpp"

namespace {

// Central differences of f at x, one coordinate at a time, against the analytic gradient.
void check_gradient(std::vector<double> x, const std::vector<double>& analytic,
                    const std::function<double(const std::vector<double>&)>& f) {
  const double h = 1e-6;
  REQUIRE(analytic.size() == x.size());
  for (std::size_t j = 0; j < x.size(); ++j) {
    const double saved = x[j];
    x[j] = saved + h;
    const double up = f(x);
    x[j] = saved - h;
    const double down = f(x);
    x[j] = saved;
    CAPTURE(j);
    CHECK(analytic[j] == doctest::Approx((up - down) / (2 * h)).epsilon(1e-7).scale(1.0));
  }
}

// Nearly relative: the default Approx's absolute slack (~1e-5) is far looser than double arithmetic; the tiny
// scale keeps an exact 0 == 0 passing.
doctest::Approx near(double value) { return doctest::Approx(value).epsilon(1e-12).scale(1e-6); }

}  // namespace

TEST_CASE("NLLLoss: mean of -log_probs at the target, gradient -scale/batch at the target") {
  const std::vector<double> lp = {-0.5, -1.0, -2.0, -0.1, -3.0, -2.5};
  const int targets[] = {2, 0};
  ctnet::NLLLoss loss;
  CHECK(loss.forward(lp.data(), targets, 2, 3) == near(1.05));

  std::vector<double> grad(6, 99.0);
  loss.backward(lp.data(), targets, 2, 3, grad.data());
  const std::vector<double> expected = {0, 0, -0.5, -0.5, 0, 0};
  for (int j = 0; j < 6; ++j) CHECK(grad[j] == expected[j]);

  loss.backward(lp.data(), targets, 2, 3, grad.data(), 4.0);
  CHECK(grad[2] == -2.0);
  check_gradient(lp, expected, [&](const std::vector<double>& x) { return loss.forward(x.data(), targets, 2, 3); });

  const std::vector<float> lpf(lp.begin(), lp.end());
  CHECK(loss.forward(lpf.data(), targets, 2, 3) == doctest::Approx(1.05f));
}

TEST_CASE("CrossEntropyLoss: values, stability and finite-difference gradients") {
  const std::vector<double> logits = {1, 2, 3, 1, 1, 1};
  const int targets[] = {2, 0};
  // Row 0: log(1 + e^-1 + e^-2); row 1: log 3.
  const double row0 = std::log(1 + std::exp(-1.0) + std::exp(-2.0)), row1 = std::log(3.0);
  ctnet::CrossEntropyLoss loss;
  CHECK(loss.forward(logits.data(), targets, 2, 3) == near((row0 + row1) / 2));
  CHECK(loss.forward(logits.data(), targets, 2, 3) == near(0.7531091265562453));

  std::vector<double> grad(6);
  loss.backward(logits.data(), targets, 2, 3, grad.data());
  check_gradient(logits, grad, [&](const std::vector<double>& x) { return loss.forward(x.data(), targets, 2, 3); });
  CHECK(grad[3] == near((1.0 / 3 - 1) / 2));
  CHECK(grad[4] == near(1.0 / 6));

  // No overflow for huge logits; exp(-1000) underflows to a zero loss, not NaN.
  const std::vector<double> big = {1000, 0};
  const int t0[] = {0}, t1[] = {1};
  CHECK(loss.forward(big.data(), t0, 1, 2) == 0.0);
  CHECK(loss.forward(big.data(), t1, 1, 2) == near(1000.0));
  const std::vector<float> bigf = {1000.f, 0.f};
  std::vector<float> gradf(2);
  loss.backward(bigf.data(), t1, 1, 2, gradf.data());
  CHECK(gradf[0] == doctest::Approx(1.0f));
  CHECK(gradf[1] == doctest::Approx(-1.0f));
}

TEST_CASE("CrossEntropyLoss: label smoothing mixes in e / classes over all classes") {
  const std::vector<double> logits = {1, 2, 3, 1, 1, 1, -0.5, 0.25, 2};
  const int targets[] = {2, 0, 1};
  for (double e : {0.1, 0.25, 1.0}) {
    CAPTURE(e);
    ctnet::CrossEntropyLoss loss{e};
    // Reference: -sum_c q_c log_softmax(x)_c with q = (1 - e) one_hot + e / C.
    double expected = 0;
    for (int i = 0; i < 3; ++i) {
      const double* x = logits.data() + 3 * i;
      const double lse = std::log(std::exp(x[0]) + std::exp(x[1]) + std::exp(x[2]));
      for (int c = 0; c < 3; ++c) expected -= (e / 3 + (c == targets[i] ? 1 - e : 0)) * (x[c] - lse);
    }
    CHECK(loss.forward(logits.data(), targets, 3, 3) == near(expected / 3));
    std::vector<double> grad(9);
    loss.backward(logits.data(), targets, 3, 3, grad.data());
    check_gradient(logits, grad, [&](const std::vector<double>& x) { return loss.forward(x.data(), targets, 3, 3); });
  }
  // Hand numbers for the first two rows above (computed with python math).
  const int t2[] = {2, 0};
  CHECK(ctnet::CrossEntropyLoss{0.1}.forward(logits.data(), t2, 2, 3) == near(0.8031091265562453));
  CHECK(ctnet::CrossEntropyLoss{0.25}.forward(logits.data(), t2, 2, 3) == near(0.8781091265562453));
  std::vector<double> grad(6);
  ctnet::CrossEntropyLoss{0.1}.backward(logits.data(), t2, 2, 3, grad.data());
  CHECK(grad[0] == near(0.02834861991852355));
  CHECK(grad[1] == near(0.10569756886073213));
  CHECK(grad[2] == near(-0.13404618877925584));

  CHECK_THROWS_AS(ctnet::CrossEntropyLoss{-0.1}, ctnet::OptionError);
  CHECK_THROWS_AS(ctnet::CrossEntropyLoss{1.5}, ctnet::OptionError);
  CHECK_THROWS_AS(ctnet::CrossEntropyLoss{std::nan("")}, ctnet::OptionError);
}

TEST_CASE("MSELoss: mean over every element") {
  const std::vector<double> input = {1, 2, 3, 4}, target = {1.5, 2, 2, 5};
  ctnet::MSELoss loss;
  CHECK(loss.forward(input.data(), target.data(), 2, 2) == near(0.5625));
  std::vector<double> grad(4);
  loss.backward(input.data(), target.data(), 2, 2, grad.data());
  const std::vector<double> expected = {-0.25, 0, 0.5, -0.5};
  for (int j = 0; j < 4; ++j) CHECK(grad[j] == near(expected[j]));
  check_gradient(input, grad,
                 [&](const std::vector<double>& x) { return loss.forward(x.data(), target.data(), 2, 2); });
  std::vector<float> gf(4);
  const std::vector<float> inf(input.begin(), input.end()), tf(target.begin(), target.end());
  loss.backward(inf.data(), tf.data(), 2, 2, gf.data(), 2.0f);
  CHECK(gf[3] == doctest::Approx(-1.0f));
}

TEST_CASE("losses reject bad targets and empty batches") {
  const std::vector<double> x = {0, 0, 0, 0, 0, 0};
  std::vector<double> grad(6);
  const int bad_high[] = {0, 3}, bad_low[] = {-1, 0};
  CHECK_THROWS_WITH_AS(ctnet::NLLLoss{}.forward(x.data(), bad_high, 2, 3),
                       "ctnet: NLLLoss: target 3 in row 1 is out of range [0, 3)", ctnet::Error);
  CHECK_THROWS_WITH_AS(ctnet::NLLLoss{}.backward(x.data(), bad_low, 2, 3, grad.data()),
                       "ctnet: NLLLoss: target -1 in row 0 is out of range [0, 3)", ctnet::Error);
  CHECK_THROWS_WITH_AS(ctnet::CrossEntropyLoss{}.forward(x.data(), bad_high, 2, 3),
                       "ctnet: CrossEntropyLoss: target 3 in row 1 is out of range [0, 3)", ctnet::Error);
  CHECK_THROWS_AS(ctnet::CrossEntropyLoss{}.backward(x.data(), bad_low, 2, 3, grad.data()), ctnet::Error);
  const int ok[] = {0, 1};
  CHECK_THROWS_AS(ctnet::NLLLoss{}.forward(x.data(), ok, 0, 3), ctnet::Error);
  CHECK_THROWS_AS(ctnet::MSELoss{}.forward(x.data(), x.data(), 2, 0), ctnet::Error);
}

TEST_CASE("correct_count: argmax with ties to the lowest index") {
  const std::vector<float> scores = {0.1f, 0.7f, 0.2f,   // argmax 1
                                     0.5f, 0.5f, 0.1f,   // tie -> 0
                                     0.3f, 0.3f, 0.3f,   // tie -> 0
                                     -1.f, -2.f, -0.5f}; // argmax 2
  const int all_right[] = {1, 0, 0, 2}, some_wrong[] = {1, 1, 2, 2};
  CHECK(ctnet::correct_count(scores.data(), all_right, 4, 3) == 4);
  CHECK(ctnet::correct_count(scores.data(), some_wrong, 4, 3) == 2);
  const std::vector<double> with_nan = {std::nan(""), 1.0, 0.5};
  CHECK(ctnet::argmax_row(with_nan.data(), 3) == 1);
}
