// tests/cuda/nets.hpp — the small networks that cover every backend op, for CPU-versus-CUDA tests.
//
// Requires: no Eigen (nvcc includes this). Guarantees: CTNET_TEST_NETS(X) calls X(Name) for each network
// alias below; CTNET_TEST_DOUBLE_NETS(X) names the subset also compared in double precision.
#pragma once

#include <ctnet/graph/sequential.hpp>
#include <ctnet/layers/activation.hpp>
#include <ctnet/layers/conv.hpp>
#include <ctnet/layers/dropout.hpp>
#include <ctnet/layers/linear.hpp>
#include <ctnet/layers/norm.hpp>
#include <ctnet/layers/pool.hpp>
#include <ctnet/layers/reshape.hpp>
#include <ctnet/model.hpp>

namespace ctnet_test::nets {

using namespace ctnet;

// Convolutions: padded and strided 3x3 with bias; 1x1 pointwise without bias (no im2col); 5x5 on 1 channel.
using ConvPadStride = Sequential<Input<3, 9, 9>, Conv2d<5, 3, Stride<2>, Padding<1>>>;
using ConvPointwise = Sequential<Input<6, 5, 5>, Conv2d<4, 1, NoBias>>;
using ConvLarge = Sequential<Input<1, 12, 12>, Conv2d<7, 5, Padding<2>>, Conv2d<3, 3, NoBias, Stride<3>>>;
// Pooling: non-overlapping and overlapping windows, average, global average.
using MaxPool = Sequential<Input<3, 8, 8>, MaxPool2d<2>>;
using MaxPoolOverlap = Sequential<Input<2, 9, 7>, MaxPool2d<3, Stride<2>>>;
using AvgPool = Sequential<Input<3, 7, 7>, AvgPool2d<3, Stride<2>>, AvgPool2d<2>>;
using GlobalPool = Sequential<Input<5, 6, 6>, GlobalAvgPool, Flatten>;
// Batch norm (2d and 1d), ReLU, dropout (elements and channels), copy-like layers.
using BatchNormImage = Sequential<Input<4, 6, 6>, BatchNorm2d>;
using BatchNormFlat = Sequential<Input<7>, BatchNorm1d>;
using ReluDropout = Sequential<Input<3, 5, 5>, ReLU, Dropout<0.3f>, Dropout2d<0.4f>, Identity, Flatten>;
// Fully connected and the softmax family.
using LinearBias = Sequential<Input<13>, Linear<9>, Linear<6, NoBias>>;
using LogSoftmaxHead = Sequential<Input<10>, LogSoftmax>;
using SoftmaxHead = Sequential<Input<10>, Softmax>;
// Everything together: the kind of network the examples train.
using Small = Sequential<Input<1, 12, 12>, Conv2d<4, 3, NoBias>, BatchNorm2d, ReLU, Dropout<0.1f>, MaxPool2d<2>,
                         Conv2d<8, 3, Padding<1>>, BatchNorm2d, ReLU, Dropout2d<0.2f>, GlobalAvgPool, Flatten,
                         Linear<16>, BatchNorm1d, ReLU, Linear<10>, LogSoftmax>;

}  // namespace ctnet_test::nets

#define CTNET_TEST_NETS(X)                                                                              \
  X(ConvPadStride)                                                                                      \
  X(ConvPointwise) X(ConvLarge) X(MaxPool) X(MaxPoolOverlap) X(AvgPool) X(GlobalPool) X(BatchNormImage) \
      X(BatchNormFlat) X(ReluDropout) X(LinearBias) X(LogSoftmaxHead) X(SoftmaxHead) X(Small)
#define CTNET_TEST_DOUBLE_NETS(X) X(ConvPadStride) X(BatchNormImage) X(LinearBias) X(Small)
