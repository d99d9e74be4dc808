// examples/mnist_models.hpp — the MNIST networks of the tutorial, as types.
//
// Requires: ctnet's network vocabulary (the backend is chosen where a Model is built). Guarantees: every
// shape and parameter count below is checked at compile time; the comments give each block's output shape
// (summary<Net>() prints the full table).
#pragma once

// The network vocabulary only (no backend, no Eigen), so CUDA translation units can include this too.
#include <ctnet/core/shape.hpp>
#include <ctnet/graph/branches.hpp>
#include <ctnet/graph/concat.hpp>
#include <ctnet/graph/sequential.hpp>
#include <ctnet/inspect/summary.hpp>
#include <ctnet/layers/activation.hpp>
#include <ctnet/layers/conv.hpp>
#include <ctnet/layers/dropout.hpp>
#include <ctnet/layers/embedding.hpp>
#include <ctnet/layers/linear.hpp>
#include <ctnet/layers/norm.hpp>
#include <ctnet/layers/pool.hpp>
#include <ctnet/layers/reshape.hpp>

namespace mnist {

using namespace ctnet;

// Step 1 — the skeleton: plain 3x3 conv + ReLU blocks, exactly two max-pools, a fully-connected head.
// No batch-norm, no dropout: it learns fast and over-fits (train accuracy runs ahead of test accuracy).
template <int C>
using PlainBlock = Seq<Conv2d<C, 3, NoBias>, ReLU>;
using Step1Skeleton = Sequential<Input<1, 28, 28>,
                                 PlainBlock<16>, PlainBlock<16>,  // 16x24x24
                                 MaxPool2d<2>,                    // 16x12x12
                                 PlainBlock<32>, PlainBlock<32>,  // 32x8x8
                                 MaxPool2d<2>,                    // 32x4x4
                                 PlainBlock<32>,                  // 32x2x2
                                 Flatten, Linear<32>, ReLU,       // 32
                                 Linear<10>, LogSoftmax>;         // 10
static_assert(has_output_shape<Step1Skeleton, Shape<10>>());
static_assert(Step1Skeleton::parameter_count == 29'946);

// Step 2 — the same skeleton with BatchNorm after every conv and dropout after every layer but the last.
template <int C>
using NormBlock = Seq<Conv2d<C, 3, NoBias>, BatchNorm2d, ReLU, Dropout<0.1f>>;
using Step2BnDropout = Sequential<Input<1, 28, 28>,
                                  NormBlock<16>, NormBlock<16>,                 // 16x24x24
                                  MaxPool2d<2>,                                 // 16x12x12
                                  NormBlock<32>, NormBlock<32>,                 // 32x8x8
                                  MaxPool2d<2>,                                 // 32x4x4
                                  NormBlock<32>,                                // 32x2x2
                                  Flatten, Linear<32>, BatchNorm1d, ReLU, Dropout<0.1f>,  // 32
                                  Linear<10>, LogSoftmax>;                      // 10
static_assert(has_output_shape<Step2BnDropout, Shape<10>>());
static_assert(Step2BnDropout::parameter_count == 30'266);

// Step 3 — the flagship: global average pooling instead of the big head, dropout 0.05, < 8,000 parameters.
// The 1x1 transition keeps 10 channels (8 fell 0.05 points short of 99.4% in the last epochs).
template <int C, class... Options>
using ConvBlock = Seq<Conv2d<C, 3, NoBias, Options...>, BatchNorm2d, ReLU, Dropout<0.05f>>;
using Step3Gap = Sequential<Input<1, 28, 28>,
                            ConvBlock<8>, ConvBlock<16>,                // 16x24x24
                            Conv2d<10, 1, NoBias>, MaxPool2d<2>,        // 10x12x12
                            ConvBlock<16>, ConvBlock<16>, ConvBlock<16>,  // 16x6x6
                            GlobalAvgPool, Conv2d<10, 1, NoBias>,       // 10x1x1
                            Flatten, LogSoftmax>;                       // 10
static_assert(has_output_shape<Step3Gap, Shape<10>>());
static_assert(Step3Gap::parameter_count < 8000);
static_assert(within_parameter_budget<Step3Gap, 7999>());

// Tiny — the flagship's layout in fewer than 4,000 parameters: two convs, a 1x1 transition and one max-pool,
// three convs, global average pooling and a 1x1 conv to the classes. TinyOf's widths are what
// scripts/search_mnist.py searches (on a validation split); Tiny is the choice it led to.
template <int C1, int C2, int T, int C3, int C4, int C5>
using TinyOf = Sequential<Input<1, 28, 28>,
                          ConvBlock<C1>, ConvBlock<C2>,                 // C2x24x24
                          Conv2d<T, 1, NoBias>, MaxPool2d<2>,           // Tx12x12
                          ConvBlock<C3>, ConvBlock<C4>, ConvBlock<C5>,  // C5x6x6
                          GlobalAvgPool, Conv2d<10, 1, NoBias>,         // 10x1x1
                          Flatten, LogSoftmax>;                         // 10
using Tiny = TinyOf<8, 12, 8, 10, 10, 12>;  // 3,956 parameters
static_assert(has_output_shape<Tiny, Shape<10>>());
static_assert(within_parameter_budget<Tiny, 3999>());
// What mnist_tiny trains (its CPU and CUDA parts alike): Tiny, or the widths CMake's CTNET_TINY_WIDTHS names
// (passed as CTNET_TINY_C1 ... CTNET_TINY_C5).
#ifdef CTNET_TINY_C1
using TinyBuilt = TinyOf<CTNET_TINY_C1, CTNET_TINY_C2, CTNET_TINY_T, CTNET_TINY_C3, CTNET_TINY_C4, CTNET_TINY_C5>;
#else
using TinyBuilt = Tiny;
#endif

// Session 3 — conv1, conv2, pool1, further convs, pool2, dropout, a conv after the second pool,
// global average pooling and a final linear layer.
template <int C, class... Options>
using BnBlock = Seq<Conv2d<C, 3, NoBias, Options...>, BatchNorm2d, ReLU>;
using Session3 = Sequential<Input<1, 28, 28>,
                            BnBlock<8>, BnBlock<16>,       // conv1, conv2: 16x24x24
                            MaxPool2d<2>,                  // pool1: 16x12x12
                            BnBlock<16>, BnBlock<16>,      // 16x8x8
                            MaxPool2d<2>,                  // pool2: 16x4x4
                            Dropout<0.1f>,
                            BnBlock<16, Padding<1>>,       // the conv after the pool: 16x4x4
                            GlobalAvgPool, Flatten,        // 16
                            Linear<10>, LogSoftmax>;       // 10
static_assert(has_output_shape<Session3, Shape<10>>());
static_assert(Session3::parameter_count < 10'000);

// The reference "S4-GAP" network of ../shared/bench (9,752 parameters), for benchmarks against PyTorch.
using Reference = Sequential<Input<1, 28, 28>,
                             ConvBlock<8>, ConvBlock<16>,                   // 16x24x24
                             Conv2d<8, 1, NoBias>, MaxPool2d<2>,            // 8x12x12
                             ConvBlock<16>, ConvBlock<16>, ConvBlock<16>,   // 16x6x6
                             ConvBlock<16, Padding<1>>,                     // 16x6x6
                             GlobalAvgPool, Conv2d<10, 1, NoBias>, Flatten, LogSoftmax>;
static_assert(Reference::parameter_count == 9752);
static_assert(Reference::macs == 1'214'656);

}  // namespace mnist

namespace mnist {

// The adder: an MNIST image and a random digit 0-9 in; the image's digit and the sum of the two out.
// The image goes through the flagship's conv tower to 10 digit logits; the random digit becomes a
// one-hot vector; the digit head reads the logits; the sum head turns them into probabilities and reads
// them beside the one-hot vector with a small MLP (it learns the 10x10 addition table).
using ImageTower = Seq<ConvBlock<8>, ConvBlock<16>, Conv2d<10, 1, NoBias>, MaxPool2d<2>,
                       ConvBlock<16>, ConvBlock<16>, ConvBlock<16>, GlobalAvgPool, Conv2d<10, 1, NoBias>, Flatten>;
template <class SumHead>
using AdderOf = Sequential<Inputs<Input<1, 28, 28>, Input<1>>,     // image, random digit
                           PerInput<ImageTower, OneHot<10>>,        // (10 logits, 10 one-hot)
                           Heads<Seq<Select<0>, LogSoftmax>,        // digit: 10 classes
                                 Seq<PerInput<Softmax, Identity>, Concat, Linear<128>, ReLU, SumHead>>>;
using Adder = AdderOf<Seq<Linear<19>, LogSoftmax>>;  // sum: 19 classes (0-18)
using AdderMse = AdderOf<Linear<1>>;                 // sum regressed, as the course notes did
static_assert(has_output_shape<Adder, TupleShape<Shape<10>, Shape<19>>>());
static_assert(has_output_shape<AdderMse, TupleShape<Shape<10>, Shape<1>>>());

}  // namespace mnist
