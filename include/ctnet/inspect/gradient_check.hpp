// ctnet/inspect/gradient_check.hpp — check a network's backward pass against central finite differences.
//
// Requires: Net a bound network; runs a Model<Net, Cpu, double>. Guarantees: for a random input, random
// parameters and the scalar loss L = sum(output * R) with a random R, compares every analytic gradient
// (input and parameters, up to `max_checks` of each, chosen at random) with (L(v+h) - L(v-h)) / 2h and
// reports the worst mismatch. Dropout masks are held fixed across the perturbed evaluations.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "../backend/cpu/cpu.hpp"
#include "../core/rng.hpp"
#include "../model.hpp"

namespace ctnet {

struct GradientCheckResult {
  double worst_input_error = 0;      // max |analytic - numeric| / (atol + rtol * |numeric|) over inputs
  double worst_parameter_error = 0;  // the same over parameters; <= 1 passes
  long input_checks = 0;
  long parameter_checks = 0;
  std::string worst_where;
  bool passed() const { return worst_input_error <= 1 && worst_parameter_error <= 1; }
};

struct GradientCheckOptions {
  long batch = 3;
  std::uint64_t seed = 7;
  bool training = true;
  double step = 1e-6;
  double atol = 1e-7;
  double rtol = 1e-5;
  long max_checks = 400;
  bool randomize_parameters = true;  // BN weights start at 1 and biases at 0: move them off those values
  // Input values (default uniform in [-1, 1]); index inputs (OneHot, Embedding) need integers, and
  // are not differentiable: `differentiable` tells which input elements to check.
  std::function<double(long element, Generator& gen)> input_value;
  std::function<bool(long element)> differentiable;
};

template <class Net>
GradientCheckResult gradient_check(const GradientCheckOptions& o = {}) {
  using M = Model<Net, Cpu, double>;
  M model(o.seed, o.batch);
  model.train(o.training);
  Generator gen(o.seed, RngStream::user, 1);
  if (o.randomize_parameters)
    for (double& p : model.parameters()) p = gen.uniform(-1.0, 1.0);
  std::vector<double> x(std::size_t(M::input_size * o.batch)), r(std::size_t(M::output_size * o.batch));
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = o.input_value ? o.input_value(long(i), gen) : gen.uniform(-1.0, 1.0);
  for (double& v : r) v = gen.uniform(-1.0, 1.0);
  const std::uint64_t step = model.step();

  const auto loss = [&] {
    model.set_step(step);  // the same dropout masks every time
    const double* y = model.forward(x.data(), o.batch);
    double l = 0;
    for (std::size_t i = 0; i < r.size(); ++i) l += y[i] * r[i];
    return l;
  };

  loss();
  model.zero_grad();
  std::vector<double> gx(x.size());
  model.backward(r.data(), gx.data());
  const std::vector<double> gp(model.gradients().begin(), model.gradients().end());
  // Batch-norm running statistics move with each forward; they do not affect training-mode outputs.

  GradientCheckResult result;
  const auto check = [&](std::vector<double>& values, double* live, const std::vector<double>& analytic,
                         double& worst, long& count, const char* what) {
    const long n = long(analytic.size());
    const long checks = std::min(n, o.max_checks);
    for (long k = 0; k < checks; ++k) {
      const long i = checks == n ? k : long(gen.below(std::uint32_t(n)));
      if (!live && o.differentiable && !o.differentiable(i)) continue;
      double& v = live ? live[i] : values[std::size_t(i)];
      const double saved = v;
      v = saved + o.step;
      const double up = loss();
      v = saved - o.step;
      const double down = loss();
      v = saved;
      const double numeric = (up - down) / (2 * o.step);
      const double err = std::abs(analytic[std::size_t(i)] - numeric) / (o.atol + o.rtol * std::abs(numeric));
      if (err > worst) {
        worst = err;
        result.worst_where = std::string(what) + "[" + std::to_string(i) + "]: analytic " +
                             std::to_string(analytic[std::size_t(i)]) + " numeric " + std::to_string(numeric);
      }
      ++count;
    }
  };
  check(x, nullptr, gx, result.worst_input_error, result.input_checks, "input");
  std::vector<double> unused;
  check(unused, model.parameters().data(), gp, result.worst_parameter_error, result.parameter_checks, "parameter");
  return result;
}

}  // namespace ctnet
