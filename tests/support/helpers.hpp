// Shared helpers for ctnet's tests.
#pragma once

#include <doctest/doctest.h>

#include <ctnet/ctnet.hpp>
#include <initializer_list>
#include <string>
#include <vector>

namespace ctnet::testing {

template <class M>
void set_parameters(M& model, std::initializer_list<typename M::scalar> values) {
  REQUIRE(values.size() == model.parameters().size());
  std::copy(values.begin(), values.end(), model.parameters().begin());
}

template <class M>
std::vector<typename M::scalar> run(M& model, const std::vector<typename M::scalar>& x) {
  const long n = long(x.size()) / M::input_size;
  REQUIRE(n * M::input_size == long(x.size()));
  const auto* y = model.forward(x.data(), n);
  return {y, y + n * M::output_size};
}

inline void check_close(const std::vector<double>& got, const std::vector<double>& want, double tol = 1e-6) {
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    INFO("element " << i);
    CHECK(got[i] == doctest::Approx(want[i]).epsilon(tol));
  }
}

template <class Net>
void check_gradients(GradientCheckOptions options = {}) {
  const GradientCheckResult r = gradient_check<Net>(options);
  INFO("worst: " << r.worst_where);
  CHECK(r.input_checks > 0);
  CHECK(r.worst_input_error <= 1.0);
  CHECK(r.worst_parameter_error <= 1.0);
  if (Net::parameter_count > 0) CHECK(r.parameter_checks > 0);
}

}  // namespace ctnet::testing
