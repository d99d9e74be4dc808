// The GPU entry points of the examples in a CUDA build, in the binary: each loads the program's CUDA module
// (CTNET_CUDA_MODULE, <program>_cuda.so, built beside the binary from examples/cuda/<program>.cu) on first
// use and calls the function it exports. The CPU path never loads it, so the CUDA runtime and cuBLAS are
// mapped only by --device cuda runs. The module is looked up next to the running binary (/proc/self/exe),
// so a build tree can be moved or copied whole.
#include <dlfcn.h>

#include <filesystem>
#include <iostream>
#include <string>
#include <system_error>

#include "../common/cuda_driver.hpp"

#ifndef CTNET_CUDA_MODULE
#error "CTNET_CUDA_MODULE (the file name of the program's CUDA module) must be defined"
#endif

namespace examples {
namespace {

// The program's module, loaded and checked; null after printing one "error: --device cuda: ..." line.
// dlopen counts references, so a second lookup is cheap; the module is never unloaded (the CUDA runtime
// does not support being unloaded while the process lives).
const CudaModule* cuda_module() {
  std::error_code error;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", error);
  if (error) {
    std::cerr << "error: --device cuda: cannot find this binary's directory (/proc/self/exe: " << error.message()
              << "), where its CUDA part " << CTNET_CUDA_MODULE << " lives\n";
    return nullptr;
  }
  const std::string path = (self.parent_path() / CTNET_CUDA_MODULE).string();
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    std::cerr << "error: --device cuda: cannot load this program's CUDA part '" << path
              << "': " << (why ? why : "unknown dlopen error") << " (rebuild the example, or run the CPU path)\n";
    return nullptr;
  }
  const auto* module = static_cast<const CudaModule*>(dlsym(handle, cuda_module_symbol));
  if (module == nullptr) {
    std::cerr << "error: --device cuda: '" << path << "' has no symbol " << cuda_module_symbol
              << " (not a ctnet example's CUDA part)\n";
    return nullptr;
  }
  if (module->layout != cuda_module_layout) {
    std::cerr << "error: --device cuda: '" << path << "' was built from other headers than this binary (layout "
              << module->layout << ", expected " << cuda_module_layout << "); rebuild both\n";
    return nullptr;
  }
  return module;
}

template <class Function>
Function entry(Function CudaModule::*member) {
  const CudaModule* module = cuda_module();
  if (module == nullptr) return nullptr;
  if (module->*member == nullptr)
    std::cerr << "error: --device cuda: this program's CUDA part " << CTNET_CUDA_MODULE
              << " does not implement this program's entry point\n";
  return module->*member;
}

}  // namespace

// Each tutorial program's module `run`s the program's own network.
int run_on_cuda(const RunOptions& options, const MnistExampleConfig& config) {
  const CudaRun run = entry(&CudaModule::run);
  return run ? run(options, config) : 1;
}
int run_adder_on_cuda(const RunOptions& options, const MnistExampleConfig& config, bool mse) {
  const AdderCudaRun run = entry(&CudaModule::adder);
  return run ? run(options, config, mse) : 1;
}
int bench_on_cuda(const BenchOptions& options, std::chrono::steady_clock::time_point program_start) {
  const BenchCudaRun run = entry(&CudaModule::bench);
  return run ? run(options, program_start) : 1;
}

}  // namespace examples
