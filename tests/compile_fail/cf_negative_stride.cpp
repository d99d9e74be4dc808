// expect: at_layer<1, ctnet::MaxPool2d<2, ctnet::Stride<-1> > >.*ctnet: layer hyper-parameters \(channels, features, kernel, stride\) must be positive
#include <ctnet/ctnet.hpp>
using namespace ctnet;
using Net = Sequential<Input<1, 28, 28>, Conv2d<4, 3>, MaxPool2d<2, Stride<-1>>>;
int main() { return int(Net::parameter_count); }
