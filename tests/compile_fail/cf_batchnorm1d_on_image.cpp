// expect: at_layer<1, ctnet::BatchNorm1d>, ctnet::input<4, 26, 26>.*ctnet: layer needs a flat input; it got a CxHxW input
#include <ctnet/ctnet.hpp>
using namespace ctnet;
using Net = Sequential<Input<1, 28, 28>, Conv2d<4, 3>, BatchNorm1d>;
int main() { return int(Net::parameter_count); }
