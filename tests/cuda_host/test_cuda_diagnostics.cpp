// How CUDA failures read, checked without a GPU: the backend's error text (backend/cuda/diagnostics.hpp:
// call text, file:line, code name and number, the CTNET_CUDA_SYNC hint for sticky faults), which errors
// count as capture failures, the CTNET_CUDA_SYNC / CTNET_REQUIRE_CUDA switches, and the CPU-versus-CUDA
// comparison report of tests/cuda/compare.hpp (first failing element, tensor name, both values, count).
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include <ctnet/backend/cuda/diagnostics.hpp>

#include "cuda/compare.hpp"

using namespace ctnet;
using ctnet::cuda::CallSite;

namespace {
bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }
}  // namespace

TEST_CASE("cuda diagnostics: an error names the purpose, the call, file:line and the code") {
  const CallSite site{"cudaMalloc(&data_, n * sizeof(T))", "/work/x/include/ctnet/backend/cuda/buffer.cuh", 42};
  const std::string text = cuda::error_text("CUDA", "allocating 400 bytes", 2, "cudaErrorMemoryAllocation",
                                            "out of memory", site, false);
  CHECK(text ==
        "CUDA: allocating 400 bytes failed: out of memory (cudaErrorMemoryAllocation, code 2) in "
        "cudaMalloc(&data_, n * sizeof(T)) at include/ctnet/backend/cuda/buffer.cuh:42");
  // Not sticky: no hint.
  CHECK_FALSE(contains(text, "CTNET_CUDA_SYNC"));
}

TEST_CASE("cuda diagnostics: a sticky fault points at CTNET_CUDA_SYNC=1 unless it is already on") {
  const CallSite copy{"cudaMemcpyAsync(host, data_ + offset, ...)", "tests/cuda/x.cu", 7};
  const std::string off = cuda::error_text("CUDA", "copying from the device", 700, "cudaErrorIllegalAddress",
                                           "an illegal memory access was encountered", copy, false);
  CHECK(contains(off, "(cudaErrorIllegalAddress, code 700)"));
  CHECK(contains(off, "at tests/cuda/x.cu:7"));
  CHECK(contains(off, "run with CTNET_CUDA_SYNC=1 to name the kernel"));
  // With the sync mode on, a launch check reports against the kernel itself: no hint needed.
  const CallSite launch{nullptr, "/a/include/ctnet/backend/cuda/pool.cuh", 44};
  const std::string on = cuda::error_text("CUDA", "running maxpool_forward_kernel", 700, "cudaErrorIllegalAddress",
                                          "an illegal memory access was encountered", launch, true);
  CHECK(contains(on, "CUDA: running maxpool_forward_kernel failed"));
  CHECK(contains(on, "at include/ctnet/backend/cuda/pool.cuh:44"));
  CHECK_FALSE(contains(on, " in "));  // no call text for a launch check
  CHECK_FALSE(contains(on, "run with CTNET_CUDA_SYNC=1"));
  for (int code : {700, 702, 710, 714, 715, 716, 717, 718, 719}) CHECK(cuda::is_sticky_error(code));
  for (int code : {0, 2, 9, 35, 100, 701, 900}) CHECK_FALSE(cuda::is_sticky_error(code));
}

TEST_CASE("cuda diagnostics: only stream-capture errors allow training on without a graph") {
  for (int code = 900; code <= 908; ++code) CHECK(cuda::is_capture_error(code));
  for (int code : {0, 2, 35, 700, 719, 899, 909, 910, 999}) CHECK_FALSE(cuda::is_capture_error(code));
  const cuda::CaptureError e("CUDA: x failed", 901);
  const cuda::CudaError& base = e;
  CHECK(base.code() == 901);
  CHECK(std::string(base.what()) == "ctnet: CUDA: x failed");
}

TEST_CASE("cuda diagnostics: CTNET_CUDA_SYNC and CTNET_REQUIRE_CUDA are 0 or 1") {
  CHECK_FALSE(cuda::env_flag("CTNET_CUDA_SYNC", nullptr));
  CHECK_FALSE(cuda::env_flag("CTNET_CUDA_SYNC", ""));
  CHECK_FALSE(cuda::env_flag("CTNET_CUDA_SYNC", "0"));
  CHECK(cuda::env_flag("CTNET_CUDA_SYNC", "1"));
  CHECK_THROWS_WITH_AS(cuda::env_flag("CTNET_REQUIRE_CUDA", "yes"),
                       "ctnet: CTNET_REQUIRE_CUDA='yes' is not one of 0, 1", ctnet::Error);
}

TEST_CASE("cuda diagnostics: paths are shortened to include/, tests/ or examples/") {
  CHECK(cuda::short_path("/w/r/include/ctnet/backend/cuda/graph.cuh") == "include/ctnet/backend/cuda/graph.cuh");
  CHECK(cuda::short_path("/w/r/examples/cuda/mnist_cuda.cuh") == "examples/cuda/mnist_cuda.cuh");
  CHECK(cuda::short_path("plain.cu") == "plain.cu");
  CHECK(cuda::short_path(nullptr) == "?");
}

TEST_CASE("cuda compare report: first failing element with its tensor, both values, count and tolerance") {
  const std::vector<ctnet::NamedTensor> names{{"conv1.weight", 0, 4, {4}}, {"fc.bias", 4, 3, {3}}};
  const std::vector<double> cpu{1, 2, 3, 4, 5, 6, 7};
  std::vector<double> cuda = cpu;
  cuda[5] += 0.5;   // fc.bias[1]
  cuda[6] += 0.01;  // fc.bias[2], smaller
  const ctnet_test::Mismatches m = ctnet_test::find_mismatches(cuda, cpu, 1e-4, 1e-4, false);
  CHECK(m.count == 2);
  CHECK(m.first == 5);
  CHECK(m.worst == 5);
  CHECK(m.scale == 7);
  const std::string text = ctnet_test::describe_mismatches("parameters", cuda, cpu, 1e-4, 1e-4, false, m, names);
  CHECK(contains(text, "parameters: 2 of 7 elements differ beyond |cuda - cpu| <= 0.0001 * 7 + 0.0001 * |cpu|"));
  CHECK(contains(text, "first at [5] = fc.bias[1]: cuda 6.5, cpu 6, difference 0.5 (allowed 0.0013)"));
  CHECK_FALSE(contains(text, "worst"));  // the first is the worst

  cuda = cpu;
  cuda[1] = NAN;      // conv1.weight[1]: NaN always fails
  cuda[3] += 0.01;    // conv1.weight[3]
  const ctnet_test::Mismatches n = ctnet_test::find_mismatches(cuda, cpu, 1e-4, 1e-4, false);
  CHECK(n.count == 2);
  CHECK(n.first == 1);
  CHECK(n.worst == 1);
  CHECK(contains(ctnet_test::describe_mismatches("g", cuda, cpu, 1e-4, 1e-4, false, n, names),
                 "first at [1] = conv1.weight[1]: cuda nan"));

  // Exact comparison: any difference counts; within tolerance is no excuse.
  cuda = cpu;
  cuda[2] = std::nextafter(3.0, 4.0);
  const ctnet_test::Mismatches x = ctnet_test::find_mismatches(cuda, cpu, 0, 0, true);
  CHECK(x.count == 1);
  CHECK(contains(ctnet_test::describe_mismatches("max pooling", cuda, cpu, 0, 0, true, x),
                 "max pooling: 1 of 7 elements differ (exact comparison); first at [2]: cuda 3"));
  CHECK(ctnet_test::find_mismatches(cpu, cpu, 0, 0, true).count == 0);
}
