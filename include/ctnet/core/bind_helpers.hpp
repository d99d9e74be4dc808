// ctnet/core/bind_helpers.hpp — small compile-time helpers that layer bindings share.
//
// Requires: C++20. Guarantees: reading a dimension that a wrong-rank shape lacks yields a fallback
// instead of a second, confusing compile error; the failing rule reports the real problem once.
#pragma once

#include <cmath>
#include <string>

#include "shape.hpp"

namespace ctnet::detail {

template <ShapeType S>
constexpr int dim_or(int i, int fallback) {
  if constexpr (S::rank == 0) {
    return fallback;
  } else {
    return i < S::rank ? S::dims[i] : fallback;
  }
}

constexpr int at_least_one(int v) { return v < 1 ? 1 : v; }

// Fan-in bound of PyTorch's default init: kaiming_uniform_(a=sqrt(5)) gives U(-1/sqrt(fan_in), +).
inline double default_init_bound(long fan_in) { return fan_in > 0 ? 1.0 / std::sqrt(double(fan_in)) : 0.0; }

inline std::string float_text(float v) {
  std::string s = std::to_string(v);
  while (s.size() > 1 && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.push_back('0');
  return s;
}

}  // namespace ctnet::detail
