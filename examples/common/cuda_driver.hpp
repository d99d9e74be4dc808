// examples/common/cuda_driver.hpp — the GPU side of the example programs, as plain functions.
//
// Requires: nothing from Eigen or CUDA (the CPU programs include this). Guarantees: with CTNET_CUDA on,
// examples/cuda/*.cu implement these with Model<Net, Cuda>; otherwise examples/cuda/no_cuda.cpp does, and
// each prints "error: --device cuda: this binary was built without CUDA support ..." and returns 1.
// Without a usable GPU the CUDA implementations print "error: --device cuda: no usable CUDA device (...)"
// and return 1.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "options.hpp"

namespace examples {

// Trains an example's network on the GPU with the parsed options: the same recipe, sample order,
// augmentation draws, per-epoch lines, CSV, checkpoint and JSON line as the CPU path (plus "device").
using CudaRun = int (*)(const RunOptions&, const MnistExampleConfig&);
int run_on_cuda_step1(const RunOptions& options, const MnistExampleConfig& config);
int run_on_cuda_step2(const RunOptions& options, const MnistExampleConfig& config);
int run_on_cuda_step3(const RunOptions& options, const MnistExampleConfig& config);
int run_on_cuda_session3(const RunOptions& options, const MnistExampleConfig& config);
// mnist_adder --device cuda (mse: --sum-loss mse): the CPU path's recipe, heads' losses on the host.
int run_adder_on_cuda(const RunOptions& options, const MnistExampleConfig& config, bool mse);

// ctnet_bench --device cuda.
struct CudaBenchOptions {
  std::string model = "both";  // reference, flagship or both (throughput); time_to_accuracy is the flagship's
  std::string data;
  std::vector<int> batches{128, 512};
  int steps = 100, reps = 5;
  bool cuda_graph = true;
  bool time_to_accuracy = true;
  double target = 0.994;  // test accuracy to reach
  int max_epochs = 15;    // the flagship recipe's epochs (its OneCycleLR spans them)
  std::uint64_t seed = 1;
};
int bench_on_cuda(const CudaBenchOptions& options, std::chrono::steady_clock::time_point program_start);

}  // namespace examples
