// tests/cuda/ops.cu — the nvcc part of cuda_ops: runs the test networks on the Cuda backend.
#include <ctnet/cuda.cuh>

#include "harness.hpp"
#include "nets.hpp"

namespace ctnet_test {

bool cuda_device_present() { return ctnet::cuda::device_available(); }
std::string cuda_device_problem() { return ctnet::cuda::device_problem(); }

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

GraphOpsResult graph_ops_on_cuda(const GraphOpsData& in) {
  using ctnet::Cuda;
  using Buf = ctnet::cuda::Buffer<float>;
  const auto up = [](const std::vector<float>& v) {
    Buf b(v.size());
    b.upload(v.data(), v.size());
    return b;
  };
  const auto down = [](const Buf& b) {
    std::vector<float> v(b.size());
    b.download(v.data(), v.size());
    return v;
  };
  Buf a = up(in.a), b = up(in.b), index = up(in.index), weight = up(in.weight), gy = up(in.gy);
  GraphOpsResult r;
  Buf strided(24), acc = up(in.b), added(in.a.size()), hot(in.index.size() * 5), emb(in.index.size() * 3),
                   grad = up(std::vector<float>(15, 0.5f)), zero = up(in.a);
  strided.zero();
  Cuda::strided_copy(a.data() + 1, 6, strided.data() + 2, 8, 4, 3);  // 3 blocks of 4
  Cuda::accumulate(a.data(), acc.data(), long(in.a.size()));
  Cuda::add(a.data(), b.data(), added.data(), long(in.a.size()));
  Cuda::one_hot<5>(index.data(), hot.data(), long(in.index.size()));
  Cuda::embedding_forward<5, 3>(index.data(), weight.data(), emb.data(), long(in.index.size()));
  Cuda::embedding_backward<5, 3>(index.data(), gy.data(), grad.data(), long(in.index.size()));
  Cuda::fill_zero(zero.data(), long(in.a.size()));
  r.strided = down(strided);
  r.accumulated = down(acc);
  r.added = down(added);
  r.one_hot = down(hot);
  r.embedded = down(emb);
  r.embedding_grad = down(grad);
  r.zeroed = down(zero);
  return r;
}

}  // namespace ctnet_test
