// tests/fuzz/fuzz_net.hpp — the small network whose checkpoints the checkpoint fuzz target loads (and whose
// seed checkpoint make_seeds writes): a convolution, batch norm (buffers), pooling and a linear layer.
#pragma once

#include <ctnet/ctnet.hpp>

namespace ctnet_fuzz {

using CheckpointNet = ctnet::Sequential<ctnet::Input<1, 6, 6>, ctnet::Conv2d<2, 3>, ctnet::BatchNorm2d, ctnet::ReLU,
                                        ctnet::MaxPool2d<2>, ctnet::Flatten, ctnet::Linear<3>>;

}  // namespace ctnet_fuzz
