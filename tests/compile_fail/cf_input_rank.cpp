// expect: ctnet::Input<1, 28>, ctnet::input<1, 28>, ctnet::expected_rank<3>.*ctnet: Input: an input must be Input<N> \(features\) or Input<C, H, W> \(image\)
#include <ctnet/ctnet.hpp>
using namespace ctnet;
using Net = Sequential<Input<1, 28>, Flatten, Linear<10>>;
int main() { return int(Net::parameter_count); }
