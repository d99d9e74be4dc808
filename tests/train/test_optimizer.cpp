// Optimizers: several steps against reference code written from torch.optim's documented update rules
// (scalar, per element, in double, not sharing code with the library), plus hand-checked numbers, state
// save/restore, lazy allocation and option validation.
#include <doctest/doctest.h>

#include <cmath>
#include <span>
#include <vector>

#include "ctnet/core/error.hpp"
#include "ctnet/train/optimizer.hpp"

namespace {

using Vec = std::vector<double>;

const std::vector<Vec> kGrads = {{0.5, -0.25, 1.0}, {0.1, 0.3, -0.2}, {-0.4, 0.05, 0.6}};
const Vec kStart = {1.0, -2.0, 0.5};

// torch.optim.SGD's documented algorithm, followed line by line.
Vec reference_sgd(double lr, double mu, double tau, double lambda, bool nesterov, int steps) {
  Vec theta = kStart, b(3);
  for (int t = 1; t <= steps; ++t) {
    for (int j = 0; j < 3; ++j) {
      double g = kGrads[t - 1][j];
      if (lambda != 0) g = g + lambda * theta[j];
      if (mu != 0) {
        if (t > 1) {
          b[j] = mu * b[j] + (1 - tau) * g;
        } else {
          b[j] = g;
        }
        if (nesterov) {
          g = g + mu * b[j];
        } else {
          g = b[j];
        }
      }
      theta[j] = theta[j] - lr * g;
    }
  }
  return theta;
}

// torch.optim.Adam (decoupled = false) and AdamW (true), documented form with m_hat and v_hat.
Vec reference_adam(double lr, double b1, double b2, double eps, double lambda, bool decoupled, int steps) {
  Vec theta = kStart, m(3), v(3);
  for (int t = 1; t <= steps; ++t) {
    for (int j = 0; j < 3; ++j) {
      double g = kGrads[t - 1][j];
      if (decoupled) {
        theta[j] = theta[j] - lr * lambda * theta[j];
      } else if (lambda != 0) {
        g = g + lambda * theta[j];
      }
      m[j] = b1 * m[j] + (1 - b1) * g;
      v[j] = b2 * v[j] + (1 - b2) * g * g;
      const double m_hat = m[j] / (1 - std::pow(b1, t));
      const double v_hat = v[j] / (1 - std::pow(b2, t));
      theta[j] = theta[j] - lr * m_hat / (std::sqrt(v_hat) + eps);
    }
  }
  return theta;
}

template <class Optimizer, class T = double>
std::vector<T> run(Optimizer& opt, int steps) {
  std::vector<T> p(kStart.begin(), kStart.end());
  for (int t = 0; t < steps; ++t) {
    const std::vector<T> g(kGrads[t].begin(), kGrads[t].end());
    opt.step(std::span<T>(p), std::span<const T>(g));
  }
  return p;
}

void check_close(const Vec& got, const Vec& want, double eps = 1e-12) {
  REQUIRE(got.size() == want.size());
  for (std::size_t j = 0; j < got.size(); ++j) {
    CAPTURE(j);
    CHECK(got[j] == doctest::Approx(want[j]).epsilon(eps));
  }
}

}  // namespace

TEST_CASE("SGD: plain, momentum with dampening, nesterov with weight decay") {
  ctnet::SGD<double> plain{0.1};
  check_close(run(plain, 1), {0.95, -1.975, 0.4});
  CHECK(plain.state()[0].second->empty());  // no buffer without momentum, as torch stores None

  for (int steps = 1; steps <= 3; ++steps) {
    CAPTURE(steps);
    ctnet::SGD<double> damped{0.1, 0.9, 0.5};
    check_close(run(damped, steps), reference_sgd(0.1, 0.9, 0.5, 0, false, steps));
    ctnet::SGD<double> nesterov({.lr = 0.1, .momentum = 0.9, .weight_decay = 0.1, .nesterov = true});
    check_close(run(nesterov, steps), reference_sgd(0.1, 0.9, 0, 0.1, true, steps));
    ctnet::SGD<double> decay_only{0.05, 0, 0, 0.01};
    check_close(run(decay_only, steps), reference_sgd(0.05, 0, 0, 0.01, false, steps));
  }
  // Hand-checked (first step takes the gradient undamped into the buffer).
  ctnet::SGD<double> damped{0.1, 0.9, 0.5};
  check_close(run(damped, 3), {0.875, -1.96325, 0.218});
  CHECK(damped.step_count() == 3);
  check_close(*damped.state()[0].second, {0.25, -0.0425, 1.02});
  ctnet::SGD<double> nesterov{0.1, 0.9, 0, 0.1, true};
  check_close(run(nesterov, 3), {0.803319646, -1.8480872345000001, 0.06625438049999999});

  ctnet::SGD<float> as_float{0.1, 0.9, 0, 0.1, true};
  const std::vector<float> pf = run<ctnet::SGD<float>, float>(as_float, 3);
  CHECK(pf[2] == doctest::Approx(0.06625438049999999).epsilon(1e-5));
}

TEST_CASE("Adam and AdamW: bias-corrected updates; L2 versus decoupled decay") {
  for (int steps = 1; steps <= 3; ++steps) {
    CAPTURE(steps);
    ctnet::Adam<double> adam;
    check_close(run(adam, steps), reference_adam(1e-3, 0.9, 0.999, 1e-8, 0, false, steps));
    ctnet::Adam<double> adam_l2{0.01, 0.9, 0.999, 1e-8, 0.1};
    check_close(run(adam_l2, steps), reference_adam(0.01, 0.9, 0.999, 1e-8, 0.1, false, steps));
    ctnet::AdamW<double> adamw({.lr = 0.01, .weight_decay = 0.1});
    check_close(run(adamw, steps), reference_adam(0.01, 0.9, 0.999, 1e-8, 0.1, true, steps));
    ctnet::AdamW<double> adamw_betas{0.02, 0.8, 0.99, 1e-6};  // AdamW's default weight_decay 1e-2
    check_close(run(adamw_betas, steps), reference_adam(0.02, 0.8, 0.99, 1e-6, 1e-2, true, steps));
  }
  // The first Adam step moves every parameter by lr against the sign of its gradient.
  ctnet::Adam<double> first{0.01};
  check_close(run(first, 1), {1.0 - 0.01, -2.0 + 0.01, 0.5 - 0.01}, 1e-7);

  // Hand numbers (python, same rules): the two decays give different results.
  ctnet::Adam<double> adam_l2{0.01, 0.9, 0.999, 1e-8, 0.1};
  ctnet::AdamW<double> adamw{0.01, 0.9, 0.999, 1e-8, 0.1};
  const Vec l2 = run(adam_l2, 3), decoupled = run(adamw, 3);
  check_close(l2, {0.9779818754082865, -1.9795223819672634, 0.47741901244355317});
  check_close(decoupled, {0.9780636160449829, -1.9873618704872207, 0.47677077691250186});
  CHECK(std::abs(l2[1] - decoupled[1]) > 1e-3);

  CHECK(ctnet::Adam<double>{}.options().weight_decay == 0.0);
  CHECK(ctnet::AdamW<double>{}.options().weight_decay == 1e-2);

  ctnet::AdamW<float> as_float{0.01, 0.9, 0.999, 1e-8, 0.1};
  const std::vector<float> pf = run<ctnet::AdamW<float>, float>(as_float, 3);
  CHECK(pf[1] == doctest::Approx(-1.9873618704872207).epsilon(1e-5));
}

TEST_CASE("optimizer state: lazy buffers, no reallocation, save and restore") {
  ctnet::Adam<double> adam{0.01, 0.9, 0.999, 1e-8, 0.1};
  auto state = adam.state();
  REQUIRE(state.size() == 2);
  CHECK(state[0].first == "exp_avg");
  CHECK(state[1].first == "exp_avg_sq");
  CHECK(state[0].second->empty());
  Vec p = run(adam, 2);
  REQUIRE(state[0].second->size() == 3);
  const double* buffer = state[0].second->data();

  // Restore into a fresh optimizer and take the third step there: same as three uninterrupted steps.
  ctnet::Adam<double> restored{0.01, 0.9, 0.999, 1e-8, 0.1};
  auto target = restored.state();
  for (std::size_t k = 0; k < state.size(); ++k) *target[k].second = *state[k].second;
  restored.set_step_count(adam.step_count());
  restored.step(std::span<double>(p), std::span<const double>(kGrads[2]));
  check_close(p, reference_adam(0.01, 0.9, 0.999, 1e-8, 0.1, false, 3));
  CHECK(restored.step_count() == 3);

  run(adam, 3);
  CHECK(adam.state()[0].second->data() == buffer);  // later steps reuse the buffers

  ctnet::SGD<double> sgd{0.1, 0.9};
  CHECK(sgd.state()[0].first == "momentum_buffer");
  sgd.state()[0].second->assign(2, 0.0);  // a checkpoint from a different arena
  Vec params = kStart;
  const Vec grads = kGrads[0];
  CHECK_THROWS_WITH_AS(sgd.step(std::span<double>(params), std::span<const double>(grads)),
                       "ctnet: SGD: momentum_buffer holds 2 values but there are 3 parameters", ctnet::Error);
  sgd.reset_state();
  CHECK(sgd.step_count() == 0);
  CHECK_NOTHROW(sgd.step(std::span<double>(params), std::span<const double>(grads)));
  const Vec short_grads = {1.0};
  CHECK_THROWS_AS(sgd.step(std::span<double>(params), std::span<const double>(short_grads)), ctnet::Error);
}

TEST_CASE("set_lr and set_momentum take effect on the next step") {
  ctnet::SGD<double> sgd{0.1};
  sgd.set_lr(0.2);
  CHECK(sgd.lr() == 0.2);
  check_close(run(sgd, 1), {0.9, -1.95, 0.3});
  ctnet::Adam<double> adam;
  adam.set_momentum(0.85);  // beta1, as OneCycleLR cycles it
  CHECK(adam.options().beta1 == 0.85);
  check_close(run(adam, 2), reference_adam(1e-3, 0.85, 0.999, 1e-8, 0, false, 2));
}

TEST_CASE("bad optimizer options throw OptionError") {
  using ctnet::OptionError;
  CHECK_THROWS_WITH_AS(ctnet::SGD<float>(0.1, 0, 0, 0, true),
                       "ctnet: SGD: momentum = 0 is invalid (nesterov requires momentum > 0)", OptionError);
  CHECK_THROWS_AS(ctnet::SGD<float>(0.1, 0.9, 0.1, 0, true), OptionError);
  CHECK_THROWS_AS(ctnet::SGD<float>(-0.1), OptionError);
  CHECK_THROWS_AS(ctnet::SGD<float>(0.1, -0.9), OptionError);
  CHECK_THROWS_AS(ctnet::SGD<float>(0.1, 0.9, 0, -1e-4), OptionError);
  CHECK_THROWS_AS(ctnet::SGD<float>(std::nan("")), OptionError);
  ctnet::SGD<float> nesterov{0.1, 0.9, 0, 0, true};
  CHECK_THROWS_AS(nesterov.set_momentum(0), OptionError);
  CHECK(nesterov.momentum() == 0.9);
  CHECK_THROWS_AS(nesterov.set_lr(-1), OptionError);

  CHECK_THROWS_AS(ctnet::Adam<float>(-1e-3), OptionError);
  CHECK_THROWS_WITH_AS(ctnet::Adam<float>(1e-3, 1.0), "ctnet: Adam: beta1 = 1 is invalid (must be in [0, 1))",
                       OptionError);
  CHECK_THROWS_AS(ctnet::AdamW<float>(1e-3, 0.9, -0.1), OptionError);
  CHECK_THROWS_AS(ctnet::AdamW<float>(1e-3, 0.9, 0.999, -1e-8), OptionError);
  CHECK_THROWS_AS(ctnet::AdamW<float>(1e-3, 0.9, 0.999, 1e-8, -0.01), OptionError);
  ctnet::AdamW<float> adamw;
  CHECK_THROWS_AS(adamw.set_momentum(1.0), OptionError);
}
