// tests/fuzz/fuzz_net.hpp — the small network whose checkpoints the checkpoint fuzz target loads (and whose
// seed checkpoint make_seeds writes): a convolution, batch norm (buffers), pooling and a linear layer; and the
// run around it whose training states the training_state target loads (data, loader, optimizer, options).
#pragma once

#include <cstdint>

#include <ctnet/ctnet.hpp>

namespace ctnet_fuzz {

using CheckpointNet = ctnet::Sequential<ctnet::Input<1, 6, 6>, ctnet::Conv2d<2, 3>, ctnet::BatchNorm2d, ctnet::ReLU,
                                        ctnet::MaxPool2d<2>, ctnet::Flatten, ctnet::Linear<3>>;

// Eight 6x6 images with labels 0-2, the same bytes every time (the loader's data fingerprint is saved).
inline ctnet::Dataset state_data() {
  ctnet::Dataset d;
  d.count = 8;
  d.rows = d.cols = 6;
  for (int i = 0; i < d.count * 36; ++i) d.images.push_back(static_cast<std::uint8_t>(i * 37 + 11));
  for (int i = 0; i < d.count; ++i) d.labels.push_back(static_cast<std::uint8_t>(i % 3));
  return d;
}

inline ctnet::LoaderOptions state_loader_options() {
  ctnet::LoaderOptions o;
  o.batch_size = 4;
  o.seed = 3;
  o.augment = ctnet::RandomAffine(5.0f, 0.1f, 0.1f);
  return o;
}

inline ctnet::SGD<float> state_optimizer() { return ctnet::SGD<float>(0.05, 0.9, 0, 1e-4); }

inline ctnet::RunIdentity state_run() { return {"fuzz_state", {{"--epochs", "3"}, {"--lr", "0.05"}}}; }

}  // namespace ctnet_fuzz
