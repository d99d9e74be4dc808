// expect: at_layer<1, ctnet::Dropout<1.5e\+0f> >.*ctnet: dropout probability must be in \[0, 1\)
// expect-clang: ctnet: dropout probability must be in \[0, 1\).*at_layer<1, ctnet::Dropout<1.500000e\+00>>
#include <ctnet/ctnet.hpp>
using namespace ctnet;
using Net = Sequential<Input<1, 28, 28>, Conv2d<4, 3>, Dropout<1.5f>>;
int main() { return int(Net::parameter_count); }
