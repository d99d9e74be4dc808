// mnist_step3_gap --device cuda: mnist::Step3Gap trained by Model<Net, Cuda> (see mnist_cuda.cuh).
#include "../mnist_models.hpp"
#include "mnist_cuda.cuh"

extern "C" const examples::CudaModule ctnet_examples_cuda_module{
    examples::cuda_module_layout, examples::cuda_run::run_cuda_example<mnist::Step3Gap>, nullptr, nullptr};
