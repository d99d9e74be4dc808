// libFuzzer target: load_training_state of the input into a small Model, SGD optimizer and DataLoader
// (safetensors parsing, then the training state's metadata: format, version, program, options, architecture,
// optimizer kind, hyper-parameters and state tensors, loader settings, counters, history). A failure must be a
// ctnet::Error; a success must leave a consistent state: counters not negative, every history row as wide as
// the columns, and finite model parameters (load_checkpoint refuses NaN and Inf).
#include "fuzz_net.hpp"
#include <ctnet/train/training_state.hpp>

#include <cmath>

#include "fuzz_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // One loader for the whole run: it owns a worker thread, and its settings are what the file must match.
  static const ctnet::Dataset dataset = ctnet_fuzz::state_data();
  static ctnet::DataLoader loader(dataset, ctnet_fuzz::state_loader_options());
  const ctnet_fuzz::ScopedFile file(".state.safetensors", data, size);
  ctnet::Model<ctnet_fuzz::CheckpointNet> model(7, 4);  // seed 7, as make_seeds saves it
  ctnet::SGD<float> sgd = ctnet_fuzz::state_optimizer();
  try {
    const ctnet::TrainingState s = ctnet::load_training_state(file.path, model, sgd, loader, ctnet_fuzz::state_run());
    if (s.counters.epoch < 0 || s.counters.global_step < 0) std::abort();
    for (const std::vector<double>& row : s.history.rows)
      if (row.size() != s.history.columns.size()) std::abort();
    for (const float v : model.read_parameters())
      if (!std::isfinite(v)) std::abort();
  } catch (const ctnet::Error&) {
  }
  return 0;
}
