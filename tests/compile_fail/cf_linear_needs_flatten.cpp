// expect: at_layer<1, ctnet::Linear<10> >, ctnet::input<4, 26, 26>, ctnet::expected_rank<1>.*ctnet: layer needs a flat input; it got a CxHxW input \(insert Flatten before it\)
#include <ctnet/ctnet.hpp>
using namespace ctnet;
using Net = Sequential<Input<1, 28, 28>, Conv2d<4, 3>, Linear<10>>;
int main() { return int(Net::parameter_count); }
