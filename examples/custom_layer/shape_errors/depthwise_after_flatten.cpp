// A depthwise convolution after Flatten: ctnet's own rule, reused by the user's layer, names it.
#include <ctnet/ctnet.hpp>

#include "../depthwise_conv.hpp"
#include "../swish.hpp"

using Net = ctnet::Sequential<ctnet::Input<1, 8, 8>, custom::Swish, ctnet::Flatten,
                              custom::DepthwiseConv2d<3, ctnet::Padding<1>>>;
int main() { return int(Net::parameter_count); }
