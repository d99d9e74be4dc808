// expect: at_layer<1, ctnet::Residual<ctnet::Conv2d<4, 3> > >, ctnet::Shape<4, 4, 4>, ctnet::expected_shape<2, 6, 6>.*ctnet: Residual: the block must return its input.s shape
#include <ctnet/ctnet.hpp>
using namespace ctnet;
using Net = Sequential<Input<2, 8, 8>, Conv2d<2, 3>, Residual<Conv2d<4, 3>>>;
int main() { return int(Net::parameter_count); }
