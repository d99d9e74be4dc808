// tests/torch/torch_nets.hpp — Zoo: every layer kind and combinator ctnet_torch.py rebuilds, in one network,
// for the PyTorch interchange tests (two inputs, two heads; strides, padding, biases on and off).
#pragma once

#include <ctnet/graph/branches.hpp>
#include <ctnet/graph/concat.hpp>
#include <ctnet/graph/residual.hpp>
#include <ctnet/graph/sequential.hpp>
#include <ctnet/layers/activation.hpp>
#include <ctnet/layers/conv.hpp>
#include <ctnet/layers/dropout.hpp>
#include <ctnet/layers/embedding.hpp>
#include <ctnet/layers/linear.hpp>
#include <ctnet/layers/norm.hpp>
#include <ctnet/layers/pool.hpp>
#include <ctnet/layers/reshape.hpp>

namespace torch_tests {

using namespace ctnet;

using ImageBranch = Seq<Conv2d<4, 3, Stride<2>, Padding<1>>, BatchNorm2d, ReLU, Dropout2d<0.2f>,  // 4x5x5
                        Residual<Seq<Conv2d<4, 3, Padding<1>, NoBias>, BatchNorm2d, ReLU>>,       // 4x5x5
                        Parallel<Conv2d<2, 1>, Seq<Conv2d<3, 3, Padding<1>>, Identity>>, Concat,  // 5x5x5
                        MaxPool2d<3, Stride<2>>, AvgPool2d<2>, Flatten>;                          // 5
using IndexBranch = Seq<Embedding<6, 4>, Dropout<0.3f>>;                                          // 4
using Zoo = Sequential<Inputs<Input<3, 9, 9>, Input<1>>, PerInput<ImageBranch, IndexBranch>, Concat,  // 9
                       Linear<7>, BatchNorm1d, ReLU,
                       Heads<Seq<Linear<3>, Softmax>, Seq<Linear<2, NoBias>, Identity, LogSoftmax>>>;

}  // namespace torch_tests
