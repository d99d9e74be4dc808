// expect: at_layer<3, ctnet::Conv2d<16, 3> >, ctnet::input<16, 1, 1>, ctnet::expected_at_least<3, 3>.*ctnet: Conv2d: input \(with padding\) is smaller than the kernel
#include <ctnet/ctnet.hpp>
using namespace ctnet;
// 8x8 -> 6x6 -> pool 3x3 -> 1x1: the fourth layer (position 3) has no room for its 3x3 kernel.
using Net = Sequential<Input<1, 8, 8>, Conv2d<8, 3>, MaxPool2d<2>, Conv2d<16, 3>, Conv2d<16, 3>>;
int main() { return int(Net::parameter_count); }
