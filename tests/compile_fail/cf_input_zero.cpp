// expect: ctnet::Input<0, 28, 28>, ctnet::input<0, 28, 28>.*ctnet: Input: every input dimension must be positive
#include <ctnet/ctnet.hpp>
using namespace ctnet;
using Net = Sequential<Input<0, 28, 28>, Conv2d<4, 3>>;
int main() { return int(Net::parameter_count); }
