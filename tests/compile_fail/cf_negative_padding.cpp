// expect: at_layer<0, ctnet::Conv2d<4, 3, ctnet::Padding<-1> > >.*ctnet: padding must be zero or positive
#include <ctnet/ctnet.hpp>
using namespace ctnet;
using Net = Sequential<Input<1, 28, 28>, Conv2d<4, 3, Padding<-1>>>;
int main() { return int(Net::parameter_count); }
