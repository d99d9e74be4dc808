// expect: at_layer<4, ctnet::Conv2d<8, 3> >, ctnet::input<2704>, ctnet::expected_rank<3>.*ctnet: layer needs a CxHxW input; it got a flat input \(put it before Flatten\)
#include <ctnet/ctnet.hpp>
using namespace ctnet;
// The block flattens, then asks for a convolution: position 4 is the Conv2d inside the second block.
template <int C>
using Block = Seq<Conv2d<C, 3>, ReLU>;
using Net = Sequential<Input<1, 28, 28>, Block<4>, Seq<Flatten, ReLU, Block<8>>>;
int main() { return int(Net::parameter_count); }
