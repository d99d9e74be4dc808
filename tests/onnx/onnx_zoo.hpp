// tests/onnx/onnx_zoo.hpp — one network with every layer and combinator the MNIST examples leave out.
//
// Requires: ctnet's network vocabulary. Guarantees: with the example networks (examples/mnist_models.hpp)
// it covers every layer and combinator ctnet has: Conv2d with stride, padding and bias, BatchNorm2d and
// BatchNorm1d, Dropout2d, Residual, Parallel with MaxPool2d and AvgPool2d (strided), Concat of channels and
// of features, Embedding, Linear without bias, Softmax, Identity, three heads.
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

namespace onnx_test {

using namespace ctnet;

using ZooTower = Seq<Conv2d<8, 3, Stride<2>, Padding<1>>, BatchNorm2d, ReLU, Dropout2d<0.1f>,  // 8x14x14
                     Residual<Seq<Conv2d<8, 3, Padding<1>, NoBias>, BatchNorm2d, ReLU>>,     // 8x14x14
                     Parallel<MaxPool2d<4, Stride<2>>, AvgPool2d<3, Stride<2>>>, Concat,     // 16x6x6
                     GlobalAvgPool, Flatten, Linear<16, NoBias>, BatchNorm1d, ReLU>;        // 16
using Zoo = Sequential<Inputs<Input<1, 28, 28>, Input<1>>,
                       PerInput<ZooTower, Embedding<10, 4>>, Concat,  // 20
                       Heads<Seq<Linear<10>, LogSoftmax>, Seq<Linear<5>, Softmax>, Identity>>;
static_assert(has_output_shape<Zoo, TupleShape<Shape<10>, Shape<5>, Shape<20>>>());

}  // namespace onnx_test
