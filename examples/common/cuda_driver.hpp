// examples/common/cuda_driver.hpp — the GPU side of the example programs, as plain functions.
//
// Requires: nothing from Eigen or CUDA (the CPU programs include this). Guarantees: with CTNET_CUDA on,
// examples/cuda/<program>.cu implements its program's function with Model<Net, Cuda> in a module of its own,
// <program>_cuda.so beside the binary, and examples/cuda/load_cuda_part.cpp implements the function in the
// binary by loading that module when --device cuda asks for it (so a CPU run never maps the CUDA runtime
// and cuBLAS, ~200 MB of resident memory); a module that is missing, unloadable or built from other
// headers is refused with "error: --device cuda: ..." and 1. Without CTNET_CUDA, examples/cuda/no_cuda.cpp
// implements them, and each prints "error: --device cuda: this binary was built without CUDA support ..."
// and returns 1. Without a usable GPU the CUDA implementations print "error: --device cuda: no usable CUDA
// device (...)" and return 1.
#pragma once

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "flagship.hpp"
#include "options.hpp"

namespace examples {

// Trains an example's network on the GPU with the parsed options: the same recipe, sample order,
// augmentation draws, per-epoch lines, CSV, checkpoint and JSON line as the CPU path (plus "device").
using CudaRun = int (*)(const RunOptions&, const MnistExampleConfig&);
// A tutorial program's module trains the program's own network (the one its .cu file names).
int run_on_cuda(const RunOptions& options, const MnistExampleConfig& config);
// mnist_adder --device cuda (mse: --sum-loss mse): the CPU path's recipe, heads' losses on the host.
int run_adder_on_cuda(const RunOptions& options, const MnistExampleConfig& config, bool mse);

// ctnet_bench's options, on either device (ctnet_bench.cpp binds them to its command line).
struct BenchOptions {
  std::string model = "reference";  // reference or flagship; cuda: also both, its default (cuda_models)
  std::string data = default_data_dir();
  int batch = 128;  // the training batch; cuda: 128 and 512 unless given (cuda_batches)
  int threads = 2, steps = 100, reps = 5;
  int compete = 0;  // cpu: CPU-bound processes run beside the benchmarks (common/competing_load.hpp)
  bool per_layer = false;
  std::string only;  // empty: every CPU benchmark
  std::string device = "cpu";
  bool cuda_graph = true;
  bool time_to_accuracy = true;  // cuda: the flagship recipe until `target` (time_to_accuracy is the flagship's)
  double target = 0.994;         // test accuracy to reach
  int epochs = flagship_config().defaults.epochs;  // time_to_accuracy's budget, the span of its OneCycleLR
  std::vector<std::string> given;                  // the options on the command line
  bool was_given(const std::string& name) const { return std::find(given.begin(), given.end(), name) != given.end(); }
  bool runs(const char* name) const { return only.empty() || only == name; }
  std::string cuda_models() const { return was_given("--model") ? model : "both"; }
  std::vector<int> cuda_batches() const {
    return was_given("--batch") ? std::vector<int>{batch} : std::vector<int>{128, 512};
  }
};
int bench_on_cuda(const BenchOptions& options, std::chrono::steady_clock::time_point program_start);

// What a program's CUDA module exports, as the C symbol `ctnet_examples_cuda_module`: the one function it
// implements (the others null) and the layout of the types they share, which the loader compares with its
// own before calling anything (both sides are built from these headers, possibly by different compilers).
using AdderCudaRun = int (*)(const RunOptions&, const MnistExampleConfig&, bool);
using BenchCudaRun = int (*)(const BenchOptions&, std::chrono::steady_clock::time_point);
struct CudaModule {
  unsigned long layout;
  CudaRun run;
  AdderCudaRun adder;
  BenchCudaRun bench;
};
inline constexpr unsigned long cuda_module_layout =
    1ul << 48 | sizeof(RunOptions) << 32 | sizeof(MnistExampleConfig) << 16 | sizeof(BenchOptions);
inline constexpr const char* cuda_module_symbol = "ctnet_examples_cuda_module";

}  // namespace examples
