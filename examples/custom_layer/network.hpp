// network.hpp — the example's network: ctnet's layers and the two written here, in one Sequential.
#pragma once

#include <ctnet/ctnet.hpp>

#include "depthwise_conv.hpp"
#include "swish.hpp"

namespace custom {

using ctnet::Padding;
using ctnet::Stride;

// 1x12x12 -> 6x12x12 -> depthwise, stride 2 -> 6x6x6 -> 3 classes.
using Net = ctnet::Sequential<ctnet::Input<1, 12, 12>,
                              ctnet::Conv2d<6, 3, Padding<1>>, Swish,
                              DepthwiseConv2d<3, Stride<2>, Padding<1>>, Swish,
                              ctnet::Flatten, ctnet::Linear<3>, ctnet::LogSoftmax>;

// Three classes of 12x12 images: a horizontal bar, a vertical bar or a diagonal, at a random place, on noise.
inline ctnet::Dataset make_patterns(int count, std::uint64_t seed) {
  ctnet::Dataset d;
  d.count = count;
  d.rows = d.cols = 12;
  d.images.assign(std::size_t(count) * 144, 0);
  d.labels.resize(std::size_t(count));
  ctnet::Generator gen(seed, ctnet::RngStream::user, 0);
  for (int i = 0; i < count; ++i) {
    const int label = int(gen.below(3)), at = 2 + int(gen.below(8));
    std::uint8_t* img = d.images.data() + std::size_t(i) * 144;
    for (int p = 0; p < 144; ++p) img[p] = std::uint8_t(gen.below(60));
    for (int k = 0; k < 12; ++k) {
      const int r = label == 0 ? at : k, c = label == 1 ? at : (label == 0 ? k : (k + at) % 12);
      img[r * 12 + c] = std::uint8_t(200 + gen.below(56));
    }
    d.labels[std::size_t(i)] = std::uint8_t(label);
  }
  return d;
}

}  // namespace custom
