// The GPU entry points of the examples in a build without CUDA (CTNET_CUDA off or no nvcc): each says so.
#include <iostream>

#include "../common/cuda_driver.hpp"

namespace examples {
namespace {
int built_without_cuda(const char* what) {
  std::cerr << "error: " << what
            << ": this binary was built without CUDA support (configure ctnet with -DCTNET_CUDA=ON on a machine "
               "with the CUDA toolkit, then rebuild)\n";
  return 1;
}
}  // namespace

int run_on_cuda(const RunOptions&, const MnistExampleConfig&) { return built_without_cuda("--device cuda"); }
int run_adder_on_cuda(const RunOptions&, const MnistExampleConfig&, bool) {
  return built_without_cuda("--device cuda");
}
int bench_on_cuda(const BenchOptions&, std::chrono::steady_clock::time_point) {
  return built_without_cuda("ctnet_bench --device cuda");
}

}  // namespace examples
