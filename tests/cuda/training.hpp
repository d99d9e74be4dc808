// tests/cuda/training.hpp — whole training steps on the CPU and on the device, for comparison.
//
// Requires: no Eigen (nvcc includes this). Guarantees: a TrainingSetup describes a tiny byte data set and
// SGD options; train_on_cuda runs `steps` steps of nets::Small entirely on the device (DeviceDataset +
// EpochOrder gather, forward_resident, nll_loss with Metrics, backward, cuda::SGD), eagerly or — with
// use_graph — one eager step and then replays of a captured cuda::Graph, and returns a TrainingTrace that
// the g++ part compares with the same steps run by Cpu, DataLoader, NLLLoss and ctnet::SGD.
#pragma once

#include <cstdint>
#include <vector>

namespace ctnet_test {

struct TrainingSetup {
  std::uint64_t model_seed = 3;
  std::uint64_t loader_seed = 5;
  int count = 96, rows = 12, cols = 12;
  int batch = 16;
  int steps = 4;  // within the first epoch
  std::vector<std::uint8_t> images, labels;
  double lr = 0.05, momentum = 0.9, dampening = 0, weight_decay = 1e-3;
  bool nesterov = true;
};

struct TrainingTrace {
  std::vector<double> losses;       // mean loss of each step's batch
  std::vector<long> correct;        // correct predictions in each step's batch
  std::vector<double> first_input;  // the first step's batch, as the network saw it
  std::vector<double> last_output;  // the last step's log-probabilities
  std::vector<double> parameters, gradients, buffers, momentum_buffer;
  std::uint64_t model_step = 0;
};

TrainingTrace train_on_cuda(const TrainingSetup& setup, bool use_graph);

}  // namespace ctnet_test
