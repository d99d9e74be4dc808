// expect: at_layer<0, ctnet::Conv2d<4, 3, int> >.*ctnet: unknown layer option
#include <ctnet/ctnet.hpp>
using namespace ctnet;
using Net = Sequential<Input<1, 28, 28>, Conv2d<4, 3, int>>;
int main() { return int(Net::parameter_count); }
