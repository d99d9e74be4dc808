// tests/cuda/compare.hpp — doctest helpers of the g++ parts of the CUDA tests: skipping without a device,
// and comparing CPU and CUDA results.
//
// Tolerances: a CUDA value passes when |cuda - cpu| <= atol * max(1, max|cpu|) + rtol * |cpu|, per tensor.
// Float ops use rtol = atol = 1e-4 (GEMMs and reductions sum in another order; the device contracts
// multiply-adds into FMAs; exp/log round differently); double uses 1e-10. Element-wise ops whose
// arithmetic cannot differ (ReLU, dropout, max-pooling, copies) are compared for exact equality.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace ctnet_test {

// Without a device a CUDA test reports the skip and passes (doctest::skip would hide it from ctest).
inline bool skip_without_device(bool present) {
  if (present) return false;
  MESSAGE("skipped: no CUDA device");
  return true;
}

inline void check_close(const std::string& what, const std::vector<double>& cuda, const std::vector<double>& cpu,
                        double rtol, double atol) {
  INFO(what);
  REQUIRE(cuda.size() == cpu.size());
  double scale = 1;
  for (double v : cpu) scale = std::max(scale, std::abs(v));
  long worst = -1;
  double worst_excess = 0;
  for (std::size_t i = 0; i < cpu.size(); ++i) {
    const double excess = std::abs(cuda[i] - cpu[i]) - (atol * scale + rtol * std::abs(cpu[i]));
    if (!(excess <= worst_excess)) {  // NaN counts as a failure
      worst_excess = std::isnan(excess) ? INFINITY : excess;
      worst = long(i);
    }
  }
  if (worst >= 0) {
    INFO("worst element " << worst << ": cuda " << cuda[std::size_t(worst)] << ", cpu " << cpu[std::size_t(worst)]);
    CHECK(worst < 0);
  }
}

inline void check_equal(const std::string& what, const std::vector<double>& cuda, const std::vector<double>& cpu) {
  INFO(what);
  REQUIRE(cuda.size() == cpu.size());
  const auto diff = std::mismatch(cuda.begin(), cuda.end(), cpu.begin());
  if (diff.first != cuda.end()) {
    INFO("first difference at " << (diff.first - cuda.begin()) << ": cuda " << *diff.first << ", cpu " << *diff.second);
    CHECK(diff.first == cuda.end());
  }
}

}  // namespace ctnet_test
