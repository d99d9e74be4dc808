// mnist_tiny --device cuda: mnist::TinyBuilt trained by Model<Net, Cuda> (see mnist_cuda.cuh).
#include "../mnist_models.hpp"
#include "mnist_cuda.cuh"

namespace examples {
int train_on_cuda(const RunOptions& options, const MnistExampleConfig& config) {
  return cuda_run::run_cuda_example<mnist::TinyBuilt>(options, config);
}
}  // namespace examples

extern "C" const examples::CudaModule ctnet_examples_cuda_module{examples::cuda_module_layout,
                                                                 examples::train_on_cuda, nullptr, nullptr};
