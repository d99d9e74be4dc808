// expect: at_layer<1, ctnet::MaxPool2d<4> >, ctnet::input<4, 3, 3>, ctnet::expected_at_least<4, 4>.*ctnet: pooling window is larger than its input
#include <ctnet/ctnet.hpp>
using namespace ctnet;
using Net = Sequential<Input<1, 5, 5>, Conv2d<4, 3>, MaxPool2d<4>>;
int main() { return int(Net::parameter_count); }
