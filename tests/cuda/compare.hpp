// tests/cuda/compare.hpp — doctest helpers of the g++ parts of the CUDA tests: skipping without a device,
// and comparing CPU and CUDA results so that a failure reads at once.
//
// Tolerances: a CUDA value passes when |cuda - cpu| <= atol * max(1, max|cpu|) + rtol * |cpu|, per tensor.
// Float ops use rtol = atol = 1e-4 (GEMMs and reductions sum in another order; the device contracts
// multiply-adds into FMAs; exp/log round differently); double uses 1e-10. Element-wise ops whose
// arithmetic cannot differ (ReLU, dropout, max-pooling, copies) are compared for exact equality.
// A failure names the compared quantity, how many elements failed out of how many, the tolerance, and the
// first failing element — its flat index and, for arenas, the tensor and index inside it — with both
// values, plus the worst one. Without a device a test reports "skipped: no CUDA device (why)" and passes,
// unless CTNET_REQUIRE_CUDA=1 is set (the GPU machine's check): then it fails saying why.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include <ctnet/backend/cuda/diagnostics.hpp>
#include <ctnet/model.hpp>

namespace ctnet_test {

// problem: empty when a device is usable, else why not (cuda_device_problem()).
inline bool skip_without_device(const std::string& problem) {
  if (problem.empty()) return false;
  // doctest's message macros bind `a + b` as (message * a) + b: pass one finished string.
  if (ctnet::cuda::require_device()) {
    const std::string text = "CTNET_REQUIRE_CUDA=1 but no usable CUDA device: " + problem;
    FAIL(text);
  }
  const std::string text = "skipped: no CUDA device (" + problem + ")";
  MESSAGE(text);
  return true;
}

struct Mismatches {
  long count = 0;           // failing elements (NaN in either fails)
  long first = -1, worst = -1;
  double scale = 1;         // max(1, max|cpu|)
};

// exact: equality; else the tolerance above.
inline Mismatches find_mismatches(const std::vector<double>& cuda, const std::vector<double>& cpu, double rtol,
                                  double atol, bool exact) {
  Mismatches m;
  for (double v : cpu) m.scale = std::max(m.scale, std::abs(v));
  double worst_excess = 0;
  for (std::size_t i = 0; i < cpu.size() && i < cuda.size(); ++i) {
    const double allowed = exact ? 0 : atol * m.scale + rtol * std::abs(cpu[i]);
    const double excess = std::abs(cuda[i] - cpu[i]) - allowed;
    if (excess <= 0) continue;  // NaN fails: every comparison with it is false
    ++m.count;
    if (m.first < 0) m.first = long(i);
    const double e = std::isnan(excess) ? INFINITY : excess;
    if (m.worst < 0 || e > worst_excess) {
      worst_excess = e;
      m.worst = long(i);
    }
  }
  return m;
}

// "conv1.weight[5]" for flat index 12 when conv1.weight starts at 7; empty without names.
inline std::string tensor_element(const std::vector<ctnet::NamedTensor>& names, long index) {
  for (const ctnet::NamedTensor& t : names)
    if (index >= t.offset && index < t.offset + t.size)
      return t.name + "[" + std::to_string(index - t.offset) + "]";
  return {};
}

inline std::string describe_mismatches(const std::string& what, const std::vector<double>& cuda,
                                       const std::vector<double>& cpu, double rtol, double atol, bool exact,
                                       const Mismatches& m, const std::vector<ctnet::NamedTensor>& names = {}) {
  std::ostringstream s;
  s.precision(9);
  s << what << ": " << m.count << " of " << cpu.size() << " elements differ";
  if (exact)
    s << " (exact comparison)";
  else
    s << " beyond |cuda - cpu| <= " << atol << " * " << m.scale << " + " << rtol << " * |cpu|";
  const auto element = [&](const char* label, long i) {
    const std::size_t k = std::size_t(i);
    const std::string named = tensor_element(names, i);
    s << "; " << label << " at [" << i << "]" << (named.empty() ? "" : " = " + named) << ": cuda " << cuda[k]
      << ", cpu " << cpu[k] << ", difference " << std::abs(cuda[k] - cpu[k]);
    if (!exact) s << " (allowed " << atol * m.scale + rtol * std::abs(cpu[k]) << ")";
  };
  if (m.first >= 0) element("first", m.first);
  if (m.worst >= 0 && m.worst != m.first) element("worst", m.worst);
  return s.str();
}

inline void check_values(const std::string& what, const std::vector<double>& cuda, const std::vector<double>& cpu,
                         double rtol, double atol, bool exact, const std::vector<ctnet::NamedTensor>& names = {}) {
  if (cuda.size() != cpu.size()) {
    const std::string text = what + ": cuda has " + std::to_string(cuda.size()) + " elements, cpu " +
                             std::to_string(cpu.size());
    FAIL_CHECK(text);
    return;
  }
  const Mismatches m = find_mismatches(cuda, cpu, rtol, atol, exact);
  if (m.count) {
    const std::string text = describe_mismatches(what, cuda, cpu, rtol, atol, exact, m, names);
    FAIL_CHECK(text);
  }
}

inline void check_close(const std::string& what, const std::vector<double>& cuda, const std::vector<double>& cpu,
                        double rtol, double atol, const std::vector<ctnet::NamedTensor>& names = {}) {
  check_values(what, cuda, cpu, rtol, atol, false, names);
}

inline void check_equal(const std::string& what, const std::vector<double>& cuda, const std::vector<double>& cpu,
                        const std::vector<ctnet::NamedTensor>& names = {}) {
  check_values(what, cuda, cpu, 0, 0, true, names);
}

}  // namespace ctnet_test
