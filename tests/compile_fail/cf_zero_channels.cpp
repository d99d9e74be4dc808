// expect: at_layer<0, ctnet::Conv2d<0, 3> >.*ctnet: layer hyper-parameters \(channels, features, kernel, stride\) must be positive
#include <ctnet/ctnet.hpp>
using namespace ctnet;
using Net = Sequential<Input<1, 28, 28>, Conv2d<0, 3>, ReLU>;
int main() { return int(Net::parameter_count); }
