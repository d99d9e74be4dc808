// tests/cuda/ops.cu — the nvcc part of cuda_ops: runs the test networks on the Cuda backend.
#include <ctnet/cuda.cuh>

#include "harness.hpp"
#include "nets.hpp"

namespace ctnet_test {

bool cuda_device_present() { return ctnet::cuda::device_available(); }

Result run_on_cuda(const std::string& name, const Request& request, bool use_double) {
#define CTNET_RUN_FLOAT(Name) \
  if (!use_double && name == #Name) return run_model<nets::Name, ctnet::Cuda, float>(request);
#define CTNET_RUN_DOUBLE(Name) \
  if (use_double && name == #Name) return run_model<nets::Name, ctnet::Cuda, double>(request);
  CTNET_TEST_NETS(CTNET_RUN_FLOAT)
  CTNET_TEST_DOUBLE_NETS(CTNET_RUN_DOUBLE)
#undef CTNET_RUN_FLOAT
#undef CTNET_RUN_DOUBLE
  throw ctnet::Error("run_on_cuda: no test network named " + name + (use_double ? " (double)" : ""));
}

}  // namespace ctnet_test
