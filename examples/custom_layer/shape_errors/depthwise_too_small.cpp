// A 2x2 image has no room for an unpadded 3x3 depthwise kernel: the layer's own rule fires.
#include <ctnet/ctnet.hpp>

#include "../depthwise_conv.hpp"

using Net = ctnet::Sequential<ctnet::Input<4, 2, 2>, custom::DepthwiseConv2d<3>>;
int main() { return int(Net::parameter_count); }
